//! What this computer can tell that matters for a video call, rated against
//! published platform minimums. `rules` is pure; `collect` reads the machine.
pub mod collect;
pub mod media;
pub mod rules;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use collect::collect;

/// Raw figures read from the machine (or injected in tests).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, Default)]
pub struct DeviceFacts {
    pub os: String,
    pub os_version: Option<String>,
    pub cpu_cores: usize,
    /// Whole-machine CPU use, percent (0–100).
    pub cpu_load_pct: Option<f32>,
    pub memory_total_mb: u64,
    pub memory_available_mb: u64,
    /// None when not detectable (desktops, containers).
    pub on_battery: Option<bool>,
    pub battery_pct: Option<f32>,
    /// None when the platform gives no way to tell (non-Linux).
    pub cameras: Option<Vec<String>>,
    pub microphones: Option<Vec<String>>,
    /// What the browser page measured (`check --browser`): only numbers and
    /// answers, never pictures or sound. When present, it replaces the
    /// device-file look-up for the camera and microphone and adds the speakers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media: Option<media::MediaMeasurements>,
    /// Parts of the machine that could not be read, and why; their items are `unknown`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unread: Vec<UnreadFacts>,
}

/// Facts that could not be read: the report items they feed and the reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, Default)]
pub struct UnreadFacts {
    /// Item ids, as in [`DeviceItem::id`].
    pub items: Vec<String>,
    /// In plain words, e.g. "the system took too long to answer".
    pub reason: String,
}

/// How one item measures up.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum DeviceRating {
    Ok,
    Unknown,
    Caution,
    Problem,
}

/// One rated item with plain-language advice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DeviceItem {
    /// Stable id: `os`, `cpu`, `cpu-load`, `memory`, `battery`, `camera`, `microphone`,
    /// `speakers` (tested in the browser page only).
    pub id: String,
    pub label: String,
    /// What was found, in words.
    pub found: String,
    pub rating: DeviceRating,
    pub advice: String,
    /// The browser test's finding for `camera` (`tested-ok`, `too-dark`,
    /// `backlit`, `covered`, `no-frames`, `low-frame-rate`), `microphone`
    /// (`clear`, `quiet`, `noisy`, `clipping`) and `speakers` (`heard`,
    /// `not-heard`, `not-sure`); also `not-allowed`, `none-found`,
    /// `unavailable`, `not-tested`. Absent when the page was not used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
}

impl DeviceItem {
    /// A rated item without a browser test result.
    pub fn new(id: &str, label: &str, found: String, rating: DeviceRating, advice: &str) -> Self {
        DeviceItem {
            id: id.to_string(),
            label: label.to_string(),
            found,
            rating,
            advice: advice.to_string(),
            result: None,
        }
    }
}

/// The device section of a report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DeviceReport {
    pub facts: DeviceFacts,
    pub items: Vec<DeviceItem>,
    /// The worst rating among items that are known.
    pub overall: DeviceRating,
    /// Where the minimums come from.
    pub sources: Vec<String>,
}

pub mod render;
pub use render::render;
