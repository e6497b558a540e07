//! Clinic settings file read by `check --clinic FILE`. (Issue 5.)
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What a clinic can preset for its clients.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClinicConfig {
    /// Clinic name shown on reports.
    pub name: Option<String>,
    /// age recipient (age1…) to encrypt clinician copies to.
    pub recipient: Option<String>,
    /// Measurement server URL (a session-ready `serve`).
    pub server: Option<String>,
    /// STUN server HOST:PORT.
    pub stun: Option<String>,
    /// Phone number the therapist will call if a video call drops.
    pub dropped_call_phone: Option<String>,
    /// Default region for crisis resources.
    pub region: Option<String>,
}
