//! JSON shape of a network measurement. Field names are part of the interface contract.
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One full network probe result. Every metric may be missing, with a reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct NetworkReport {
    /// Measurement server URL used for HTTP tests.
    pub server: String,
    /// STUN server used for the UDP test, if any.
    pub stun_server: Option<String>,
    pub download: Throughput,
    pub upload: Throughput,
    pub latency: Latency,
    /// Audio-like UDP stream results; null when UDP is blocked or unmeasured (see `udp_reason`).
    pub udp: Option<UdpResult>,
    /// Why `udp` is null.
    pub udp_reason: Option<String>,
    /// Total bytes sent and received by the probe.
    pub bytes_used: u64,
    /// Wall-clock time of the whole probe, seconds.
    pub duration_s: f64,
    pub video: VideoAssessment,
}

/// Goodput in one direction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, Default)]
pub struct Throughput {
    /// Megabits per second of payload; null if not measured (see `reason`).
    pub mbps: Option<f64>,
    /// Bytes moved in this phase.
    pub bytes: u64,
    /// Parallel streams used.
    pub streams: u32,
    /// Why the figure is missing or partial.
    pub reason: Option<String>,
}

/// HTTP round-trip latency, idle and under load, in milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, Default)]
pub struct Latency {
    /// Median idle round trip.
    pub idle_ms: Option<f64>,
    pub min_ms: Option<f64>,
    pub p90_ms: Option<f64>,
    /// Mean absolute difference between consecutive idle samples.
    pub jitter_ms: Option<f64>,
    /// Median round trip while the link is saturated (bufferbloat).
    pub loaded_ms: Option<f64>,
    /// Idle samples taken.
    pub samples: u32,
    pub reason: Option<String>,
}

/// A call-like UDP stream via STUN.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct UdpResult {
    /// Median round trip.
    pub rtt_ms: f64,
    /// RFC 3550 interarrival jitter estimate.
    pub jitter_ms: f64,
    /// Share of packets with no reply, percent (round trip).
    pub loss_pct: f64,
    pub sent: u32,
    pub received: u32,
}

/// How well a 1:1 video call would work.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct VideoAssessment {
    pub rating: VideoRating,
    /// Estimated call-quality score (E-model MOS, 1–4.5); null when not computable.
    pub mos: Option<f64>,
    /// Plain-language reasons behind the rating.
    pub reasons: Vec<String>,
}

/// `poor` and `unusable` mean the `internet` criterion is met.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum VideoRating {
    Good,
    Fair,
    Poor,
    Unusable,
}
