//! The connection test of the hosted check, run by the client's browser
//! against `serve` (src/page/assets/measure.js). The browser is untrusted and
//! only times and counts: it asks for the plan ([`browser_plan`], sized by
//! the idle round trip as the probe sizes its own), sends raw samples back,
//! and the figures, the settled and lower-bound rules and the rating come
//! from the probe's own code ([`browser_report`]). Samples that make no sense
//! are refused whole, with the field named, never clamped into a figure.
use serde::{Deserialize, Serialize};

use super::transfer::{self, Recorded, TransferPlan};
use super::udp::StreamSamples;
use super::{ProbeTiming, browser_udp, http, idle_figures, loaded_figures, round2, throughput};
use crate::net::model::*;
use crate::net::rating;
use crate::net::stats::{self, Completion, CounterSample};

/// Parallel streams per direction in a browser: it opens at most six HTTP/1.1
/// connections to one server, and the delay pings and the page need theirs.
const BROWSER_STREAMS: u32 = 4;

/// Limits on what a browser may send: generous for a real test (about ten
/// seconds, a reading every 50 ms), far below anything that costs the server.
const MAX_SECONDS: f64 = 120.0;
const MAX_READINGS: usize = 4_000;
const MAX_PINGS: usize = 2_000;
const MAX_PACKETS: u32 = 100_000;
const MAX_MS: f64 = 60_000.0;
const MAX_BYTES: f64 = 1e11;

/// What the page follows: the probe's plan for this round trip.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BrowserPlan {
    /// Each direction runs this long (the page does not stop early: the
    /// settled rule is applied here afterwards).
    pub download_s: f64,
    pub upload_s: f64,
    pub streams: u32,
    pub max_download_bytes: u64,
    pub max_upload_bytes: u64,
    /// Seconds of data per upload request per stream, once the rate is known.
    pub upload_request_s: f64,
    /// Smallest, largest and (once the rate is known) floor of a request, bytes.
    pub upload_request_bytes: [u64; 3],
    /// Pause between delay pings while a transfer runs.
    pub loaded_ping_interval_s: f64,
    /// Idle pings wanted, and the pause between them.
    pub idle_pings: u32,
    pub idle_ping_interval_s: f64,
}

/// The plan for a browser whose idle round trip is `rtt_ms` (unknown: the base plan).
pub fn browser_plan(rtt_ms: Option<f64>) -> BrowserPlan {
    let timing = ProbeTiming::default();
    let plan = plan_for(&timing, rtt_ms);
    BrowserPlan {
        download_s: round2(plan.seconds),
        // A browser's requests follow the rate more coarsely than the
        // probe's 50 ms loop, so its upload ramps up more slowly: it always
        // gets a long line's extra request cycles. On bench/netbench.py's
        // lossy-20-5 line (+40 ms) the 3.4 s phase read 2.4–4.7 Mbit/s
        // against iperf3's 4.7 (lower bounds); about 6.5 s read 4.6–4.7.
        upload_s: round2(plan.upload_seconds.max(plan.long_upload_seconds())),
        streams: plan.streams,
        max_download_bytes: plan.max_download_bytes,
        max_upload_bytes: plan.max_upload_bytes,
        upload_request_s: round2(plan.upload_request_s),
        upload_request_bytes: transfer::UPLOAD_REQUEST_BOUNDS,
        loaded_ping_interval_s: timing.loaded_ping_interval_s,
        idle_pings: 2 * timing.min_idle_pings,
        idle_ping_interval_s: timing.idle_ping_interval_s,
    }
}

fn plan_for(timing: &ProbeTiming, rtt_ms: Option<f64>) -> TransferPlan {
    let rtt_s = rtt_ms
        .filter(|ms| ms.is_finite() && *ms >= 0.0)
        .map(|ms| ms / 1000.0);
    let mut plan = TransferPlan::for_round_trip(timing, rtt_s);
    plan.streams = plan.streams.min(BROWSER_STREAMS);
    plan
}

/// Everything the page's test sends back: numbers only.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BrowserSamples {
    /// The whole test, seconds.
    pub duration_s: f64,
    /// Idle round trips, ms, in the order taken.
    pub idle_ms: Vec<f64>,
    pub download: BrowserTransfer,
    pub upload: BrowserTransfer,
    pub udp: BrowserUdp,
}

/// One direction of the transfer test.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BrowserTransfer {
    pub streams: u32,
    /// Download: `[seconds since the start, bytes received in all]`, about every 50 ms.
    #[serde(default)]
    pub counter: Vec<[f64; 2]>,
    /// Upload: `[stream, seconds since the start, bytes]` for each request the
    /// server confirmed.
    #[serde(default)]
    pub completions: Vec<[f64; 3]>,
    /// Delay pings while this direction ran: `[seconds since the start when sent, ms]`.
    #[serde(default)]
    pub loaded: Vec<[f64; 2]>,
    /// Payload bytes moved.
    pub bytes: f64,
    /// Why a stream stopped early (a code, never words from the page).
    #[serde(default)]
    pub problem: Option<TransferProblem>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TransferProblem {
    /// The server answered 429 or 503.
    Busy,
    /// A request failed (the connection dropped, or an error status).
    Failed,
}

/// The UDP test through the WebRTC data channel (rtc.js).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BrowserUdp {
    /// What the channel's stream left behind; null when it could not run.
    #[serde(default)]
    pub samples: Option<StreamSamples>,
    /// The server's own count of the test (`GET /__rtc?test=ID`).
    #[serde(default)]
    pub server_counts: Option<ServerCounts>,
    /// Why there are no samples.
    #[serde(default)]
    pub failed: Option<UdpFailure>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UdpFailure {
    /// The server turned the offer away (429/503).
    Refused,
    /// The data channel did not open.
    NoChannel,
    /// The browser has no WebRTC.
    Unsupported,
}

fn number_in(what: &str, v: f64, max: f64) -> Result<f64, String> {
    if v.is_finite() && (0.0..=max).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{what} must be a number from 0 to {max}, not {v}"))
    }
}

fn at_most<T>(what: &str, list: &[T], max: usize) -> Result<(), String> {
    if list.len() > max {
        return Err(format!(
            "{what} has {} entries; at most {max} are accepted",
            list.len()
        ));
    }
    Ok(())
}

fn whole(what: &str, v: f64, max: f64) -> Result<u64, String> {
    let v = number_in(what, v, max)?;
    if v.fract() != 0.0 {
        return Err(format!("{what} must be a whole number, not {v}"));
    }
    Ok(v as u64)
}

fn round_trips(what: &str, list: &[f64], max: usize) -> Result<(), String> {
    at_most(what, list, max)?;
    list.iter()
        .try_for_each(|ms| number_in(what, *ms, MAX_MS).map(|_| ()))
}

/// The download counter, checked: in time order, never going back.
fn counter(t: &BrowserTransfer) -> Result<Vec<CounterSample>, String> {
    at_most("download.counter", &t.counter, MAX_READINGS)?;
    let mut out = vec![CounterSample { t: 0.0, bytes: 0 }];
    for [at, bytes] in &t.counter {
        let at = number_in("download.counter time", *at, MAX_SECONDS)?;
        let bytes = whole("download.counter bytes", *bytes, MAX_BYTES)?;
        let last = out[out.len() - 1];
        if at < last.t || bytes < last.bytes {
            return Err("download.counter must go forward in time and never count down".into());
        }
        out.push(CounterSample { t: at, bytes });
    }
    Ok(out)
}

fn completions(t: &BrowserTransfer, streams: u32) -> Result<Vec<Completion>, String> {
    at_most("upload.completions", &t.completions, MAX_READINGS)?;
    t.completions
        .iter()
        .map(|[stream, at, bytes]| {
            Ok(Completion {
                stream: whole("upload.completions stream", *stream, f64::from(streams - 1))?
                    as usize,
                t: number_in("upload.completions time", *at, MAX_SECONDS)?,
                bytes: whole("upload.completions bytes", *bytes, MAX_BYTES)?,
            })
        })
        .collect()
}

/// The delay pings that count as under load (sent once the line had time to fill).
fn loaded(what: &str, t: &BrowserTransfer) -> Result<Vec<f64>, String> {
    at_most(what, &t.loaded, MAX_PINGS)?;
    let mut out = Vec::new();
    for [at, ms] in &t.loaded {
        let at = number_in(what, *at, MAX_SECONDS)?;
        let ms = number_in(what, *ms, MAX_MS)?;
        if at >= transfer::LOADED_AFTER.as_secs_f64() {
            out.push(ms);
        }
    }
    Ok(out)
}

fn streams(what: &str, t: &BrowserTransfer) -> Result<u32, String> {
    if (1..=BROWSER_STREAMS).contains(&t.streams) {
        Ok(t.streams)
    } else {
        Err(format!("{what} must be from 1 to {BROWSER_STREAMS}"))
    }
}

fn checked_udp(udp: &BrowserUdp) -> Result<(), String> {
    if let Some(s) = &udp.samples {
        if s.sent > MAX_PACKETS {
            return Err(format!("udp.samples.sent is above {MAX_PACKETS}"));
        }
        if s.rtts_ms.len() + s.unanswered_ms.len() > s.sent as usize {
            return Err("udp.samples has more answers than messages sent".into());
        }
        round_trips("udp.samples.rtts_ms", &s.rtts_ms, MAX_PACKETS as usize)?;
        round_trips(
            "udp.samples.unanswered_ms",
            &s.unanswered_ms,
            MAX_PACKETS as usize,
        )?;
        // One send time per answer, for the per-frame jitter rule.
        if s.sent_ms.len() != s.rtts_ms.len() {
            return Err("udp.samples.sent_ms must have one time per answer in rtts_ms".into());
        }
        round_trips("udp.samples.sent_ms", &s.sent_ms, MAX_PACKETS as usize)?;
        number_in("udp.samples.ended_ms", s.ended_ms, MAX_MS)?;
        number_in("udp.samples.packets_per_s", s.packets_per_s, 100_000.0)?;
        if s.ignored_replies > MAX_PACKETS {
            return Err(format!(
                "udp.samples.ignored_replies is above {MAX_PACKETS}"
            ));
        }
    }
    if let Some(c) = udp.server_counts {
        let limit = u64::from(MAX_PACKETS);
        if c.received > limit || c.answered > limit || c.refused > limit {
            return Err(format!("udp.server_counts are above {MAX_PACKETS}"));
        }
    }
    Ok(())
}

/// The report of a browser's test against `server`, by the probe's rules;
/// `Err` names the first thing that makes no sense.
pub fn browser_report(s: &BrowserSamples, server: &str) -> Result<NetworkReport, String> {
    let duration_s = number_in("duration_s", s.duration_s, 600.0)?;
    round_trips("idle_ms", &s.idle_ms, MAX_PINGS)?;
    let down_streams = streams("download.streams", &s.download)?;
    let up_streams = streams("upload.streams", &s.upload)?;
    let down_counter = counter(&s.download)?;
    let up_done = completions(&s.upload, up_streams)?;
    let loaded_down = loaded("download.loaded", &s.download)?;
    let loaded_up = loaded("upload.loaded", &s.upload)?;
    let down_bytes = whole("download.bytes", s.download.bytes, MAX_BYTES)?;
    let up_bytes = whole("upload.bytes", s.upload.bytes, MAX_BYTES)?;
    checked_udp(&s.udp)?;

    let mut latency = Latency::default();
    if idle_figures(&mut latency, &s.idle_ms).is_none() {
        latency.reason =
            Some("The measurement server did not answer the delay test in time.".to_string());
    }
    let mut plan = plan_for(&ProbeTiming::default(), latency.idle_ms);
    plan.streams = down_streams;
    let words = |p: Option<TransferProblem>| {
        p.map(|p| match p {
            TransferProblem::Busy => http::SERVER_BUSY.to_string(),
            TransferProblem::Failed => {
                "The connection to the measurement server broke off during this part of the test."
                    .to_string()
            }
        })
    };
    let down = transfer::judge_recorded(
        &plan,
        Recorded::Download(down_counter),
        down_bytes,
        words(s.download.problem),
    );
    let up = transfer::judge_recorded(
        &plan,
        Recorded::Upload {
            completions: up_done,
            streams: up_streams as usize,
        },
        up_bytes,
        words(s.upload.problem),
    );
    latency.loaded_down_ms = stats::median(&loaded_down).map(round2);
    latency.loaded_up_ms = stats::median(&loaded_up).map(round2);
    loaded_figures(&mut latency, (loaded_down.len() + loaded_up.len()) as u32);
    let (udp, udp_status, udp_reason) = udp_figures(&s.udp);
    let udp_bytes = s
        .udp
        .samples
        .as_ref()
        .map_or(0, |u| 2 * 600 * u64::from(u.sent));
    let mut report = NetworkReport {
        server: server.to_string(),
        server_choice: None,
        stun_server: None,
        download: throughput(&down),
        upload: throughput(&up),
        latency,
        udp,
        udp_reason,
        udp_status,
        via_proxy: false,
        proxy: None,
        bytes_used: down_bytes + up_bytes + udp_bytes,
        duration_s: round2(duration_s),
        video: rating::rate_video(None),
    };
    report.video = rating::rate_report(&report);
    Ok(report)
}

/// The data channel's figures, or why UDP was not measured in this browser
/// (never a loss figure made up for a channel that did not run).
fn udp_figures(udp: &BrowserUdp) -> (Option<UdpResult>, UdpStatus, Option<String>) {
    let not_measured = |why: &str| {
        (
            None,
            UdpStatus::NotMeasured,
            Some(format!(
                "The audio-like test could not run in this browser: {why}"
            )),
        )
    };
    match (&udp.samples, udp.failed) {
        (Some(samples), _) => match browser_udp(samples, udp.server_counts) {
            Ok(result) => (Some(result), UdpStatus::Measured, None),
            Err(why) => not_measured(&why),
        },
        (None, Some(UdpFailure::Refused)) => not_measured(
            "the measurement server was busy and turned the test away, so it says nothing about \
             your connection.",
        ),
        (None, Some(UdpFailure::Unsupported)) => {
            not_measured("this browser does not offer the kind of connection the test needs.")
        }
        (None, _) => not_measured(
            "the test connection to the measurement server did not open. UDP may be blocked on \
             this network; video apps then usually switch to a slower route that still works.",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A steady browser test: 10 ms idle, 80 Mbit/s down and 16 up for three
    /// seconds each, 30 ms under load, and a clean data channel.
    fn steady() -> serde_json::Value {
        let down: Vec<[f64; 2]> = (1..=60)
            .map(|i| {
                let t = f64::from(i) * 0.05;
                [t, (t * 10_000_000.0).round()]
            })
            .collect();
        // Four streams, each confirming 50 kB every 0.1 s (16 Mbit/s in all).
        let mut completions = Vec::new();
        for k in 1..=30 {
            for stream in 0..4 {
                completions.push([
                    f64::from(stream),
                    f64::from(k) * 0.1 + f64::from(stream) * 0.01,
                    50_000.0,
                ]);
            }
        }
        let loaded: Vec<[f64; 2]> = (0..15).map(|i| [f64::from(i) * 0.2, 30.0]).collect();
        serde_json::json!({
            "duration_s": 9.5,
            "idle_ms": (0..20).map(|i| 10.0 + f64::from(i % 2)).collect::<Vec<_>>(),
            "download": {"streams": 4, "counter": down, "loaded": loaded, "bytes": 30_000_000},
            "upload": {"streams": 4, "completions": completions, "loaded": loaded,
                       "bytes": 6_000_000},
            "udp": {"samples": {"sent": 500, "rtts_ms": vec![11.0; 500],
                                "sent_ms": (0..500).map(|i| f64::from(i) * 5.0).collect::<Vec<_>>(),
                                "unanswered_ms": [], "ended_ms": 2_600.0,
                                "packets_per_s": 200.0},
                    "server_counts": {"received": 500, "answered": 500, "refused": 0}}
        })
    }

    fn report_of(v: &serde_json::Value) -> Result<NetworkReport, String> {
        let samples: BrowserSamples =
            serde_json::from_value(v.clone()).map_err(|e| e.to_string())?;
        browser_report(&samples, "https://clinic.example")
    }

    #[test]
    fn browser_samples_become_the_probes_figures_and_rating() {
        let r = report_of(&steady()).unwrap();
        let down = r.download.mbps.unwrap();
        assert!((down - 80.0).abs() < 1.0, "{down}");
        assert!(r.download.stable && !r.download.lower_bound);
        let up = r.upload.mbps.unwrap();
        assert!((up - 16.0).abs() < 1.0, "{up}");
        assert_eq!(r.latency.idle_ms, Some(10.5));
        // Pings sent before the line had time to fill are left out.
        assert_eq!(r.latency.loaded_samples, 2 * 13);
        assert_eq!(r.latency.loaded_ms, Some(30.0));
        let udp = r.udp.unwrap();
        assert_eq!((udp.loss_pct, udp.sent), (0.0, 500));
        assert_eq!(r.udp_status, UdpStatus::Measured);
        assert_eq!(r.video.rating, VideoRating::Good);
        assert!(r.video.conclusive);
    }

    #[test]
    fn a_rate_still_climbing_when_the_browser_stopped_is_a_lower_bound() {
        let mut v = steady();
        // The rate doubles every half second: never settled.
        let ramp: Vec<[f64; 2]> = (1..=60)
            .map(|i| {
                let t = f64::from(i) * 0.05;
                [t, (100_000.0 * 2f64.powf(2.0 * t)).round()]
            })
            .collect();
        v["download"]["counter"] = serde_json::json!(ramp);
        let r = report_of(&v).unwrap();
        assert!(r.download.lower_bound, "{:?}", r.download);
        assert!(r.download.reason.unwrap().contains("settled"));
    }

    #[test]
    fn a_data_channel_that_did_not_open_is_not_loss() {
        let mut v = steady();
        v["udp"] = serde_json::json!({"failed": "no-channel"});
        let r = report_of(&v).unwrap();
        assert!(r.udp.is_none());
        assert_eq!(r.udp_status, UdpStatus::NotMeasured);
        assert!(
            r.udp_reason
                .unwrap()
                .starts_with("The audio-like test could not run in this browser")
        );
        assert!(r.video.missing.contains(&"udp".to_string()));
        // Nothing came back through an open channel: not measured either, never 100 % loss.
        v["udp"] = serde_json::json!({"samples": {"sent": 300, "rtts_ms": [], "sent_ms": [],
            "unanswered_ms": vec![2000.0; 300], "ended_ms": 2_000.0, "packets_per_s": 200.0}});
        let r = report_of(&v).unwrap();
        assert!(r.udp.is_none() && r.udp_status == UdpStatus::NotMeasured);
        // A busy server's transfer is not the line's.
        v["upload"]["problem"] = serde_json::json!("busy");
        let r = report_of(&v).unwrap();
        assert_eq!(r.upload.mbps, None);
        assert_eq!(r.upload.reason.as_deref(), Some(http::SERVER_BUSY));
    }

    #[test]
    fn nonsense_from_the_browser_is_refused_with_the_field_named() {
        let cases: Vec<(&str, serde_json::Value, &str)> = vec![
            ("/idle_ms/0", serde_json::json!(-1.0), "idle_ms"),
            ("/duration_s", serde_json::json!(1e9), "duration_s"),
            ("/download/bytes", serde_json::json!(1e30), "download.bytes"),
            ("/download/bytes", serde_json::json!(2.5), "download.bytes"),
            (
                "/download/streams",
                serde_json::json!(0),
                "download.streams",
            ),
            (
                "/download/streams",
                serde_json::json!(64),
                "download.streams",
            ),
            (
                "/download/counter/3",
                serde_json::json!([0.01, 5.0]),
                "download.counter",
            ),
            (
                "/download/counter/3",
                serde_json::json!([0.2, -5.0]),
                "download.counter",
            ),
            (
                "/upload/completions/0",
                serde_json::json!([7.0, 0.1, 10.0]),
                "upload.completions",
            ),
            (
                "/upload/loaded/0",
                serde_json::json!([0.5, 1e12]),
                "upload.loaded",
            ),
            ("/udp/samples/sent", serde_json::json!(10), "udp.samples"),
            (
                "/udp/samples/packets_per_s",
                serde_json::json!(-3.0),
                "packets_per_s",
            ),
            (
                "/udp/samples/sent_ms",
                serde_json::json!([1.0, 2.0]),
                "udp.samples.sent_ms",
            ),
            (
                "/udp/samples/ended_ms",
                serde_json::json!(-1.0),
                "udp.samples.ended_ms",
            ),
        ];
        for (at, value, named) in cases {
            let mut v = steady();
            *v.pointer_mut(at).unwrap() = value.clone();
            let why = report_of(&v).unwrap_err();
            assert!(why.contains(named), "{at} = {value}: {why}");
        }
        // NaN cannot be written in JSON; a string or a missing field is refused by the parser.
        let mut v = steady();
        v["idle_ms"] = serde_json::json!(["NaN"]);
        assert!(report_of(&v).is_err());
        // Too many readings.
        let mut v = steady();
        v["download"]["counter"] = serde_json::json!(
            (0..5000)
                .map(|i| [f64::from(i) * 0.01, 0.0])
                .collect::<Vec<_>>()
        );
        assert!(report_of(&v).unwrap_err().contains("at most"));
        let mut v = steady();
        v["idle_ms"] = serde_json::json!(vec![1.0; MAX_PINGS + 1]);
        assert!(report_of(&v).unwrap_err().contains("at most"));
        // Unknown fields (words from the page, say) are refused.
        let mut v = steady();
        v["note"] = serde_json::json!("fast");
        assert!(report_of(&v).is_err());
    }

    #[test]
    fn the_plan_follows_the_round_trip_and_fits_a_browser() {
        let near = browser_plan(Some(5.0));
        let far = browser_plan(Some(200.0));
        assert!(far.download_s > near.download_s);
        assert!(far.upload_s > near.upload_s);
        // Even near, the browser's upload gets the long line's extra cycles.
        assert!(
            near.upload_s >= near.download_s + 4.0 * near.upload_request_s,
            "{near:?}"
        );
        assert!(near.streams <= BROWSER_STREAMS && far.streams <= BROWSER_STREAMS);
        assert_eq!(browser_plan(Some(f64::NAN)), browser_plan(None));
    }
}
