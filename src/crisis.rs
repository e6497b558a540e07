//! Crisis resources by region, as versioned data with a source and a verified
//! date per entry. (Data arrives under issue 4.)
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One way to reach help now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CrisisResource {
    /// Two-letter region code this entry is for, or `INTL` for the fallback.
    pub region: String,
    /// e.g. "Samaritans".
    pub name: String,
    /// How to reach it, e.g. "call 116 123".
    pub contact: String,
    /// `emergency` (immediate danger) or `support` (crisis line, text line).
    pub kind: String,
    /// When it is open, e.g. "24/7".
    pub hours: Option<String>,
    /// Where this was confirmed.
    pub source: String,
    /// Date the entry was last verified (YYYY-MM-DD).
    pub verified: String,
}
