//! JSON shape of a network measurement. Field names are part of the interface contract:
//! `download.mbps`, `upload.mbps`, `latency.idle_ms`, `latency.jitter_ms`,
//! `latency.loaded_ms`, `udp.rtt_ms`, `udp.jitter_ms`, `udp.loss_pct`, `bytes_used`,
//! `duration_s`, `video.rating`. Fields added later carry `#[serde(default)]` so
//! reports saved by earlier versions still load.
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One full network probe result. Every metric may be missing, with a reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct NetworkReport {
    /// Measurement server URL used for HTTP tests.
    pub server: String,
    /// When several servers were given: what each answered in the quick
    /// round-trip race that picked `server` (the nearest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_choice: Option<ServerChoice>,
    /// STUN server used for the UDP test, if any.
    pub stun_server: Option<String>,
    pub download: Throughput,
    pub upload: Throughput,
    pub latency: Latency,
    /// Audio-like UDP stream results; null when UDP is blocked or unmeasured (see `udp_reason`).
    pub udp: Option<UdpResult>,
    /// Why `udp` is null.
    pub udp_reason: Option<String>,
    /// `measured`, `blocked` (no reply at all although the server was reachable over
    /// HTTP: calls then fall back to TCP or relays) or `not-measured` (for another reason).
    #[serde(default)]
    pub udp_status: UdpStatus,
    /// HTTP went through a proxy (HTTP_PROXY / HTTPS_PROXY): figures describe that path.
    #[serde(default)]
    pub via_proxy: bool,
    /// The proxy HTTP went through (scheme, host and port; never a password).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy: Option<String>,
    /// Total bytes sent and received by the probe (payload plus HTTP and STUN
    /// messages; TCP/IP headers not included).
    pub bytes_used: u64,
    /// Wall-clock time of the whole probe, seconds.
    pub duration_s: f64,
    pub video: VideoAssessment,
}

/// How the measurement server was picked from several.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ServerChoice {
    /// One entry per server given, in the order given.
    pub candidates: Vec<ServerCandidate>,
}

/// One server in the race.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ServerCandidate {
    pub server: String,
    /// Lowest idle round trip seen, ms; null when it could not be reached.
    pub rtt_ms: Option<f64>,
    /// Why it could not be reached.
    pub reason: Option<String>,
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
    /// The rate had settled before the phase ended (false: cut short by time or data limits,
    /// so the figure is a lower bound).
    #[serde(default)]
    pub stable: bool,
    /// Seconds of transfer the figure is based on.
    #[serde(default)]
    pub basis_s: f64,
    /// `mbps` had not settled when this direction's time or data ran out: the real speed is
    /// at least this, probably more. The rating never concludes from a lower bound that a
    /// speed is too low; shown as "at least X Mbit/s".
    #[serde(default)]
    pub lower_bound: bool,
}

impl Throughput {
    /// The figure as people read it: "4.8 Mbit/s", or "at least 0.6 Mbit/s" for a lower bound.
    pub fn mbps_text(&self) -> Option<String> {
        let mbps = self.mbps?;
        let figure = if mbps >= 10.0 {
            format!("{mbps:.0} Mbit/s")
        } else {
            format!("{mbps:.1} Mbit/s")
        };
        Some(if self.lower_bound {
            format!("at least {figure}")
        } else {
            figure
        })
    }
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
    /// Round trip while the link is saturated (bufferbloat): the larger of the
    /// download-loaded and upload-loaded medians.
    pub loaded_ms: Option<f64>,
    /// Median round trip while downloading.
    #[serde(default)]
    pub loaded_down_ms: Option<f64>,
    /// Median round trip while uploading.
    #[serde(default)]
    pub loaded_up_ms: Option<f64>,
    /// Idle samples taken.
    pub samples: u32,
    /// Samples taken under load.
    #[serde(default)]
    pub loaded_samples: u32,
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
    /// Fastest round trip.
    #[serde(default)]
    pub min_rtt_ms: f64,
    /// 90th percentile round trip.
    #[serde(default)]
    pub p90_rtt_ms: f64,
    /// Replies ignored because they did not match a request we sent (wrong
    /// transaction id, malformed, duplicated).
    #[serde(default)]
    pub ignored_replies: u32,
    /// Packets sent per second.
    #[serde(default)]
    pub packets_per_s: f64,
    /// 95 % interval of `loss_pct` (Wilson score interval over `sent` packets),
    /// `[low, high]` in percent: the true loss lies in it with 95 % confidence.
    /// Null in reports saved before it existed.
    #[serde(default)]
    pub loss_ci_pct: Option<[f64; 2]>,
    /// What the STUN server counted of this test (a session-ready `serve`);
    /// null for other STUN servers, which do not count, so loss at a busy
    /// server cannot then be told apart from loss on the line.
    #[serde(default)]
    pub server_counts: Option<ServerCounts>,
}

/// The STUN server's own count of one test's packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ServerCounts {
    /// Requests that reached the server.
    pub received: u64,
    /// Requests it answered.
    pub answered: u64,
    /// Requests it left unanswered because of its own limits: not counted as loss.
    pub refused: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "kebab-case")]
pub enum UdpStatus {
    Measured,
    Blocked,
    #[default]
    NotMeasured,
}

/// How well a 1:1 video call would work.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct VideoAssessment {
    /// Worst band among the metrics that were measured (see `conclusive`).
    pub rating: VideoRating,
    /// Estimated call-quality score (E-model MOS, 1–4.5); null when not computable.
    pub mos: Option<f64>,
    /// Plain-language reasons behind the rating, most important first.
    pub reasons: Vec<String>,
    /// True when the rating can be relied on: download, upload and delay were all
    /// measured, or what was measured is already `poor` or `unusable` (more
    /// measurements could only make it worse). False means "not measured
    /// enough": treat the `internet` criterion as unknown.
    #[serde(default)]
    pub conclusive: bool,
    /// Metrics that could not be measured (`download`, `upload`, `latency`, `jitter`,
    /// `loaded_latency`, `udp`).
    #[serde(default)]
    pub missing: Vec<String>,
    /// A figure's 95 % interval straddles a band limit (see `metrics[].borderline`):
    /// the rating counts the better band, and another run may come out either side.
    #[serde(default)]
    pub borderline: bool,
    /// Each measured metric with its band and the sources of its thresholds.
    #[serde(default)]
    pub metrics: Vec<MetricRating>,
}

/// One metric's value and band.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MetricRating {
    /// `download_mbps`, `upload_mbps`, `rtt_ms`, `jitter_ms`, `loss_pct`, `loaded_increase_ms`, `mos`.
    pub metric: String,
    pub value: f64,
    pub band: VideoRating,
    /// Source ids in data/network_thresholds.json.
    pub sources: Vec<String>,
    /// `value` is a lower bound (a speed that had not settled): the real band is `band` or
    /// better, and a band below `good` is then not counted in `rating`.
    #[serde(default)]
    pub lower_bound: bool,
    /// 95 % interval of `value`, `[low, high]`, when it is known (`loss_pct`, `mos`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<[f64; 2]>,
    /// The interval straddles a band limit: `band` is the better side, since a limit
    /// counts as crossed only when the whole interval is past it.
    #[serde(default)]
    pub borderline: bool,
}

/// `poor` and `unusable` mean the `internet` criterion is met. `not-measured`
/// is a probe that measured nothing at all: never ranked with the bands, and
/// never shown as "unusable".
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum VideoRating {
    Good,
    Fair,
    Poor,
    Unusable,
    NotMeasured,
}

impl VideoRating {
    pub fn as_str(self) -> &'static str {
        match self {
            VideoRating::Good => "good",
            VideoRating::Fair => "fair",
            VideoRating::Poor => "poor",
            VideoRating::Unusable => "unusable",
            VideoRating::NotMeasured => "not-measured",
        }
    }
}
