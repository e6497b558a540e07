//! A connection test saved by `session-ready network --format json --output
//! FILE`, attached to a coordinator's check with `check --network FILE`, so
//! the client's real connection reaches the report. Nothing in the file is
//! taken on trust: its shape is checked, every figure must be a plausible
//! number, and the rating is worked out again from the figures.
use std::path::Path;

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::model::NetworkReport;
use crate::error::InputError;

/// A result as `network --format json` writes it: the measurement and when
/// it finished.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SavedNetwork {
    /// When the test finished (RFC 3339, UTC). Results saved by versions
    /// before this field lack it; their age is then unknown.
    #[serde(default)]
    pub measured_at: Option<String>,
    #[serde(flatten)]
    pub result: NetworkReport,
}

impl SavedNetwork {
    /// A result finished now.
    pub fn now(result: NetworkReport) -> Self {
        SavedNetwork {
            measured_at: Some(Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            result,
        }
    }
}

/// A saved result older than this many days is flagged as stale.
pub const STALE_AFTER_DAYS: i64 = 14;

/// Read and check a saved result; `now` is the time the report is made.
pub fn load(path: &Path, now: DateTime<Utc>) -> Result<(NetworkReport, Age), InputError> {
    let bytes = crate::fsutil::read_input(path, crate::fsutil::MAX_INPUT_BYTES)?;
    parse(path, &bytes, now)
}

/// How old a saved result is.
#[derive(Debug, Clone, PartialEq)]
pub struct Age {
    pub measured_at: Option<String>,
    /// Whole days between the test and `now`; `None` when not recorded.
    pub days: Option<i64>,
}

impl Age {
    /// Older than [`STALE_AFTER_DAYS`], or of unknown age.
    pub fn stale(&self) -> bool {
        self.days.is_none_or(|d| d > STALE_AFTER_DAYS)
    }
}

/// Check the text of a saved result; `path` is only used in messages.
pub fn parse(
    path: &Path,
    bytes: &[u8],
    now: DateTime<Utc>,
) -> Result<(NetworkReport, Age), InputError> {
    let what = "Save the client's result with `session-ready network --format json --output \
                FILE` and give that file.";
    let value = crate::safe_text::parse_json_strict(bytes).map_err(|e| {
        InputError::file(
            path,
            format!("it is not a saved connection test (not valid JSON: {e}). {what}"),
        )
    })?;
    let saved: SavedNetwork = serde_json::from_value(value).map_err(|e| {
        InputError::file(
            path,
            format!("it is not a saved connection test ({e}). {what}"),
        )
    })?;
    let mut problems = implausible(&saved.result);
    let age = match saved.measured_at.as_deref() {
        None => Age {
            measured_at: None,
            days: None,
        },
        Some(text) => match DateTime::parse_from_rfc3339(text) {
            Ok(at) => {
                let at = at.with_timezone(&Utc);
                // A clock a little ahead is forgiven; a day ahead is not a real test time.
                if at > now + chrono::Duration::hours(24) {
                    problems.push(format!("measured_at {text} is in the future"));
                }
                Age {
                    measured_at: Some(at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
                    days: Some((now - at).num_days().max(0)),
                }
            }
            Err(_) => {
                problems.push(format!("measured_at \"{text}\" is not an RFC 3339 time"));
                Age {
                    measured_at: None,
                    days: None,
                }
            }
        },
    };
    if !problems.is_empty() {
        return Err(InputError::file(
            path,
            format!(
                "these figures cannot be right: {}. Nothing was changed. {what}",
                problems.join("; ")
            ),
        ));
    }
    let mut result = saved.result;
    // The rating is worked out again from the figures, never copied.
    result.video = super::rating::rate_report(&result);
    Ok((result, age))
}

/// Figures no connection test could have measured.
fn implausible(n: &NetworkReport) -> Vec<String> {
    let mut problems = Vec::new();
    let mut check = |name: &str, value: Option<f64>, max: f64| {
        if let Some(v) = value
            && !(v.is_finite() && (0.0..=max).contains(&v))
        {
            problems.push(format!("{name} is {v}"));
        }
    };
    check("download.mbps", n.download.mbps, 1_000_000.0);
    check("upload.mbps", n.upload.mbps, 1_000_000.0);
    check("latency.idle_ms", n.latency.idle_ms, 600_000.0);
    check("latency.loaded_ms", n.latency.loaded_ms, 600_000.0);
    check("latency.jitter_ms", n.latency.jitter_ms, 600_000.0);
    check("duration_s", Some(n.duration_s), 3_600.0);
    if let Some(udp) = &n.udp {
        check("udp.rtt_ms", Some(udp.rtt_ms), 600_000.0);
        check("udp.jitter_ms", Some(udp.jitter_ms), 600_000.0);
        check("udp.loss_pct", Some(udp.loss_pct), 100.0);
    }
    problems
}
