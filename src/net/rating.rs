//! Pure rules: measurements → `video.rating`, an E-model call-quality score
//! and plain-language reasons. Thresholds and their sources live in
//! data/network_thresholds.json, embedded at build time.
//!
//! The rating is the worst band among the metrics that were *measured*;
//! nothing is guessed for a missing metric. `conclusive` tells "measured and
//! bad" apart from "not measured enough" (what the `internet` criterion makes
//! of it is `assessment::internet_criterion`).
use std::collections::BTreeMap;

use serde::Deserialize;

use super::model::*;

/// The thresholds file.
#[derive(Debug, Deserialize)]
pub struct Thresholds {
    pub verified: String,
    pub sources: Vec<Source>,
    pub metrics: BTreeMap<String, Limits>,
    /// With UDP blocked the rating is at best this.
    pub udp_blocked_at_best: VideoRating,
    pub e_model: EModel,
}

#[derive(Debug, Deserialize)]
pub struct Source {
    pub id: String,
    pub title: String,
    pub url: String,
    pub says: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Better {
    Higher,
    Lower,
}

/// Band limits for one metric: the value must reach `good` to be good, and so on.
#[derive(Debug, Deserialize)]
pub struct Limits {
    pub better: Better,
    pub good: f64,
    pub fair: Option<f64>,
    pub poor: Option<f64>,
    /// The worst band this metric can give.
    pub caps_at: Option<VideoRating>,
    pub sources: Vec<String>,
    pub why: String,
}

/// E-model parameters (ITU-T G.107 simplified, G.113 codec values).
#[derive(Debug, Deserialize)]
pub struct EModel {
    pub r_default: f64,
    pub codec_delay_ms: f64,
    pub jitter_buffer_factor: f64,
    pub ie: f64,
    pub bpl: f64,
}

/// The embedded thresholds (a broken file is a build-time bug caught by tests).
pub fn thresholds() -> &'static Thresholds {
    crate::embedded_data!(Thresholds, "network_thresholds.json")
}

impl Limits {
    /// The band a value falls in, before any cap.
    pub fn band(&self, value: f64) -> VideoRating {
        let meets = |limit: Option<f64>| match (limit, self.better) {
            (None, _) => true,
            (Some(l), Better::Higher) => value >= l,
            (Some(l), Better::Lower) => value <= l,
        };
        let band = if meets(Some(self.good)) {
            VideoRating::Good
        } else if meets(self.fair) {
            VideoRating::Fair
        } else if meets(self.poor) {
            VideoRating::Poor
        } else {
            VideoRating::Unusable
        };
        match self.caps_at {
            Some(cap) => band.min(cap),
            None => band,
        }
    }
}

/// What the rating is computed from: only measured figures.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Measured {
    pub download_mbps: Option<f64>,
    pub upload_mbps: Option<f64>,
    /// The download figure had not settled: the real speed is at least this.
    pub download_lower_bound: bool,
    pub upload_lower_bound: bool,
    /// Round trip: the UDP stream's median when measured (that is the path a
    /// call's audio takes), else the idle HTTP median.
    pub rtt_ms: Option<f64>,
    /// UDP RFC 3550 jitter when measured, else the idle HTTP jitter.
    pub jitter_ms: Option<f64>,
    pub loss_pct: Option<f64>,
    /// 95 % interval of `loss_pct` (low, high), when known.
    pub loss_ci_pct: Option<(f64, f64)>,
    pub idle_http_ms: Option<f64>,
    pub loaded_ms: Option<f64>,
    pub udp: UdpStatus,
}

impl Measured {
    pub fn from_report(r: &NetworkReport) -> Self {
        let udp = r.udp.as_ref();
        Measured {
            download_mbps: r.download.mbps,
            upload_mbps: r.upload.mbps,
            download_lower_bound: r.download.lower_bound,
            upload_lower_bound: r.upload.lower_bound,
            rtt_ms: udp.map(|u| u.rtt_ms).or(r.latency.idle_ms),
            jitter_ms: udp.map(|u| u.jitter_ms).or(r.latency.jitter_ms),
            loss_pct: udp.map(|u| u.loss_pct),
            loss_ci_pct: udp.and_then(|u| u.loss_ci_pct).map(|[lo, hi]| (lo, hi)),
            idle_http_ms: r.latency.idle_ms,
            loaded_ms: r.latency.loaded_ms,
            udp: r.udp_status,
        }
    }

    fn loaded_increase_ms(&self) -> Option<f64> {
        Some((self.loaded_ms? - self.idle_http_ms?).max(0.0))
    }
}

/// ITU-T G.107 R-factor to MOS (Annex B).
pub fn r_to_mos(r: f64) -> f64 {
    if r <= 0.0 {
        1.0
    } else if r >= 100.0 {
        4.5
    } else {
        1.0 + 0.035 * r + r * (r - 60.0) * (100.0 - r) * 7e-6
    }
}

/// Simplified E-model: R = R0 − Id(delay) − Ie,eff(loss), then MOS.
/// One-way mouth-to-ear delay = half the round trip + a jitter buffer + codec framing.
pub fn e_model_mos(rtt_ms: f64, jitter_ms: f64, loss_pct: f64, p: &EModel) -> f64 {
    let delay = rtt_ms / 2.0 + p.jitter_buffer_factor * jitter_ms + p.codec_delay_ms;
    let id = 0.024 * delay
        + if delay > 177.3 {
            0.11 * (delay - 177.3)
        } else {
            0.0
        };
    let loss = loss_pct.clamp(0.0, 100.0);
    // Random loss (BurstR = 1).
    let ie_eff = p.ie + (95.0 - p.ie) * loss / (loss + p.bpl);
    r_to_mos(p.r_default - id - ie_eff)
}

/// Rate a full probe result (also used by the probe itself).
pub fn rate_report(report: &NetworkReport) -> VideoAssessment {
    let mut missing = Vec::new();
    let mut why_missing = Vec::new();
    if report.download.mbps.is_none() {
        missing.push("download".to_string());
        why_missing.push(not_measured(
            "Download speed",
            report.download.reason.as_deref(),
        ));
    }
    if report.upload.mbps.is_none() {
        missing.push("upload".to_string());
        why_missing.push(not_measured(
            "Upload speed",
            report.upload.reason.as_deref(),
        ));
    }
    if report.latency.idle_ms.is_none() && report.udp.is_none() {
        missing.push("latency".to_string());
        why_missing.push(not_measured("Delay", report.latency.reason.as_deref()));
    }
    if report.latency.jitter_ms.is_none() && report.udp.is_none() {
        missing.push("jitter".to_string());
    }
    if report.latency.loaded_ms.is_none() {
        missing.push("loaded_latency".to_string());
    }
    if report.udp.is_none() {
        missing.push("udp".to_string());
        if report.udp_status == UdpStatus::NotMeasured {
            why_missing.push(not_measured(
                "The audio-like test (lost packets)",
                report.udp_reason.as_deref(),
            ));
        }
    }
    let mut assessment = rate(&Measured::from_report(report), thresholds());
    if let Some(udp) = &report.udp {
        let loss_band = assessment
            .metrics
            .iter()
            .find(|r| r.metric == "loss_pct")
            .map(|r| r.band);
        if udp.server_counts.is_none() && loss_band.is_some_and(|b| b > VideoRating::Good) {
            assessment.reasons.push(
                "The STUN server used does not report what it received, so some of this loss \
                 may have been at the server rather than on your line."
                    .to_string(),
            );
        }
    }
    assessment.reasons.extend(why_missing);
    assessment.missing = missing;
    assessment
}

fn not_measured(what: &str, reason: Option<&str>) -> String {
    match reason {
        Some(r) => format!("{what} could not be measured: {r}"),
        None => format!("{what} could not be measured."),
    }
}

/// Rate a 1:1 video call from what was measured.
///
/// A speed that had not settled is a lower bound: the real band is its band
/// or better. Such a figure confirms a threshold it reaches, but never that
/// one is missed: a lower bound below `good` does not count in the rating, and
/// when it could have lowered the rating the result is not conclusive.
pub fn rate(m: &Measured, t: &Thresholds) -> VideoAssessment {
    let mut rated: Vec<(MetricRating, String)> = Vec::new();
    let mut add = |key: &str,
                   value: Option<f64>,
                   interval: Option<(f64, f64)>,
                   lower_bound: bool,
                   words: &dyn Fn(VideoRating, f64) -> String| {
        let (Some(value), Some(limits)) = (value, t.metrics.get(key)) else {
            return;
        };
        let (band, borderline) = match interval {
            Some(range) => banded_within(limits, range),
            None => (limits.band(value), None),
        };
        let said = match (borderline, interval) {
            (Some(limit), Some(range)) => borderline_words(key, band, limit, value, range),
            _ => words(band, value),
        };
        rated.push((
            MetricRating {
                metric: key.to_string(),
                value: round2(value),
                band,
                sources: limits.sources.clone(),
                lower_bound,
                interval: interval.map(|(lo, hi)| [round2(lo), round2(hi)]),
                borderline: borderline.is_some(),
            },
            said,
        ));
    };
    add(
        "download_mbps",
        m.download_mbps,
        None,
        m.download_lower_bound,
        &|b, v| {
            speed_words(
                "Download",
                "what brings your therapist's picture and voice to you",
                b,
                v,
                m.download_lower_bound,
            )
        },
    );
    add(
        "upload_mbps",
        m.upload_mbps,
        None,
        m.upload_lower_bound,
        &|b, v| {
            speed_words(
                "Upload",
                "what carries your picture and voice to your therapist",
                b,
                v,
                m.upload_lower_bound,
            )
        },
    );
    add("rtt_ms", m.rtt_ms, None, false, &delay_words);
    add("jitter_ms", m.jitter_ms, None, false, &jitter_words);
    add("loss_pct", m.loss_pct, m.loss_ci_pct, false, &|b, v| {
        loss_words(b, v, m.loss_ci_pct)
    });
    let loaded = m.loaded_ms.unwrap_or_default();
    add(
        "loaded_increase_ms",
        m.loaded_increase_ms(),
        None,
        false,
        &|b, _| loaded_words(b, loaded),
    );
    let mos = match (m.rtt_ms, m.jitter_ms, m.loss_pct) {
        (Some(rtt), Some(jitter), Some(loss)) => {
            Some(round2(e_model_mos(rtt, jitter, loss, &t.e_model)))
        }
        _ => None,
    };
    // The score's interval follows from the loss interval (more loss, lower score).
    let mos_interval = match (m.rtt_ms, m.jitter_ms, m.loss_ci_pct) {
        (Some(rtt), Some(jitter), Some((lo, hi))) => Some((
            e_model_mos(rtt, jitter, hi, &t.e_model),
            e_model_mos(rtt, jitter, lo, &t.e_model),
        )),
        _ => None,
    };
    add("mos", mos, mos_interval, false, &mos_words);

    // A lower bound below `good` only says the real band is that or better.
    let undecided = |r: &MetricRating| r.lower_bound && r.band > VideoRating::Good;
    let mut rating = rated
        .iter()
        .filter(|(r, _)| !undecided(r))
        .map(|(r, _)| r.band)
        .max()
        // Nothing measured is "not measured", never the worst band.
        .unwrap_or(if rated.is_empty() {
            VideoRating::NotMeasured
        } else {
            VideoRating::Good
        });
    // Could a lower bound, once settled, still lower the rating?
    let open = rated.iter().any(|(r, _)| undecided(r) && r.band > rating);
    let mut extra = Vec::new();
    if m.udp == UdpStatus::Blocked {
        if !rated.is_empty() {
            rating = rating.max(t.udp_blocked_at_best);
        }
        extra.push(
            "Your network did not let through the kind of traffic video calls prefer (UDP). \
             Most video apps then switch to a slower route that usually still works, but can add delay."
                .to_string(),
        );
    }
    let core_measured = m.download_mbps.is_some() && m.upload_mbps.is_some() && m.rtt_ms.is_some();
    let conclusive = !rated.is_empty() && ((core_measured && !open) || rating >= VideoRating::Poor);

    // Most important first: worst bands lead, in the order of the list above.
    // Within a band, what is known comes before a lower bound's open question.
    rated.sort_by_key(|(r, _)| (std::cmp::Reverse(r.band), undecided(r)));
    let mut reasons: Vec<String> = rated.iter().map(|(_, words)| words.clone()).collect();
    reasons.extend(extra);
    if rated.is_empty() {
        reasons.push(
            "The connection could not be measured, so there is no rating to rely on yet."
                .to_string(),
        );
    }
    VideoAssessment {
        rating,
        mos,
        reasons,
        conclusive,
        missing: Vec::new(),
        borderline: rated.iter().any(|(r, _)| r.borderline),
        metrics: rated.into_iter().map(|(r, _)| r).collect(),
    }
}

/// Kept for callers written against the first stub: `None` means nothing was measured.
pub fn rate_video(measured: Option<&NetworkReport>) -> VideoAssessment {
    match measured {
        Some(report) => rate_report(report),
        None => rate(&Measured::default(), thresholds()),
    }
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// The band of a figure known only within `(low, high)`: a limit counts as
/// crossed only when the whole interval is past it, so the band is that of
/// the interval's better end. When the worse end falls in another band, the
/// figure is borderline, and the limit it is near comes back with the band.
fn banded_within(limits: &Limits, (low, high): (f64, f64)) -> (VideoRating, Option<f64>) {
    let (better, worse) = match limits.better {
        Better::Lower => (low, high),
        Better::Higher => (high, low),
    };
    let band = limits.band(better);
    if limits.band(worse) == band {
        return (band, None);
    }
    let limit = match band {
        VideoRating::Good => Some(limits.good),
        VideoRating::Fair => limits.fair,
        VideoRating::Poor => limits.poor,
        VideoRating::Unusable | VideoRating::NotMeasured => None,
    };
    (band, limit)
}

/// Wording for a figure whose interval straddles `limit`.
fn borderline_words(
    key: &str,
    band: VideoRating,
    limit: f64,
    value: f64,
    (low, high): (f64, f64),
) -> String {
    match key {
        "loss_pct" => {
            let beyond = match band {
                VideoRating::Good => "voices may now and then sound clipped",
                VideoRating::Fair => "voices may break up",
                _ => "a clear conversation becomes hard",
            };
            format!(
                "About {value:.1}% of the call-like packets were lost (somewhere between {low:.1}% and \
                 {high:.1}%), close to the {limit:.0}% limit beyond which {beyond}. It counts here as \
                 {}, since it is not clearly past the limit; another test may come out either side. \
                 In a call this is a line that mostly carries voices well, with the occasional clipped word.",
                band.as_str()
            )
        }
        _ => format!(
            "Estimated sound quality of a call: {value:.1} out of 4.5 (somewhere between {low:.1} and \
             {high:.1}), close to the {limit:.2} limit; it counts here as {}, since it is not clearly \
             past the limit.",
            band.as_str()
        ),
    }
}

fn speed_words(
    direction: &str,
    what: &str,
    band: VideoRating,
    mbps: f64,
    lower_bound: bool,
) -> String {
    if lower_bound {
        let figure = format!("{direction} speed ({what}) is at least {}", mbps_text(mbps));
        return match band {
            VideoRating::Good => {
                format!("{figure}, more than the 1.2 Mbit/s a one-to-one HD video call needs.")
            }
            _ => format!(
                "{figure}: the test ended before the speed settled, so it is not yet known whether it \
                 reaches the 1.2 Mbit/s a one-to-one HD video call needs. The real speed may well be \
                 higher; running the test again may settle it."
            ),
        };
    }
    let figure = format!("{direction} speed ({what}) is {}", mbps_text(mbps));
    match band {
        VideoRating::Good => {
            format!("{figure}, more than the 1.2 Mbit/s a one-to-one HD video call needs.")
        }
        VideoRating::Fair => format!(
            "{figure}: enough for video, though the picture may be less sharp (HD needs about 1.2 Mbit/s)."
        ),
        VideoRating::Poor => format!(
            "{figure}, below the 0.75 Mbit/s video calls usually ask for, so the picture may freeze or drop out."
        ),
        VideoRating::Unusable | VideoRating::NotMeasured => {
            format!("{figure}, too little to carry video; a phone call may work better.")
        }
    }
}

fn mbps_text(mbps: f64) -> String {
    if mbps >= 10.0 {
        format!("{mbps:.0} Mbit/s")
    } else {
        format!("{mbps:.1} Mbit/s")
    }
}

fn delay_words(band: VideoRating, ms: f64) -> String {
    match band {
        VideoRating::Good => format!(
            "Delay is low (about {ms:.0} ms there and back), so conversation will feel natural."
        ),
        VideoRating::Fair => format!(
            "Delay is noticeable (about {ms:.0} ms there and back); you may sometimes talk over each other."
        ),
        VideoRating::Poor => format!(
            "Delay is long (about {ms:.0} ms there and back), so conversation may feel stilted."
        ),
        VideoRating::Unusable | VideoRating::NotMeasured => format!(
            "Delay is very long (about {ms:.0} ms there and back); a live conversation would be hard."
        ),
    }
}

fn jitter_words(band: VideoRating, ms: f64) -> String {
    match band {
        VideoRating::Good => {
            format!("The connection is steady (delay varies by about {ms:.0} ms).")
        }
        VideoRating::Fair => format!(
            "Delay varies by about {ms:.0} ms; video apps usually smooth this out, at the cost of a little extra delay."
        ),
        VideoRating::Poor => {
            format!("Delay varies a lot (about {ms:.0} ms), which can make voices choppy.")
        }
        VideoRating::Unusable | VideoRating::NotMeasured => {
            format!("Delay varies so much (about {ms:.0} ms) that sound would break up.")
        }
    }
}

fn loss_words(band: VideoRating, value: f64, interval: Option<(f64, f64)>) -> String {
    let pct = match interval {
        Some((lo, hi)) => format!("{value:.1}%, between {lo:.1}% and {hi:.1}%"),
        None => format!("{value:.1}%"),
    };
    match band {
        VideoRating::Good => format!("Almost no call-like packets were lost ({pct})."),
        VideoRating::Fair => format!(
            "A few call-like packets were lost ({pct}); voices may now and then sound clipped."
        ),
        VideoRating::Poor => {
            format!("Many call-like packets were lost ({pct}), so voices may break up.")
        }
        VideoRating::Unusable | VideoRating::NotMeasured => {
            format!("Too many call-like packets were lost ({pct}) for a clear conversation.")
        }
    }
}

fn loaded_words(band: VideoRating, loaded_ms: f64) -> String {
    match band {
        VideoRating::Good => format!(
            "When the line is busy, delay rises only a little (to about {loaded_ms:.0} ms)."
        ),
        _ => format!(
            "When the line is busy (for example someone streaming or downloading), delay rises to about \
             {loaded_ms:.0} ms. Pausing big downloads during your session will help."
        ),
    }
}

fn mos_words(band: VideoRating, mos: f64) -> String {
    let words = match band {
        VideoRating::Good => "good",
        VideoRating::Fair => "fair",
        VideoRating::Poor => "poor",
        VideoRating::Unusable | VideoRating::NotMeasured => "very poor",
    };
    format!("Estimated sound quality of a call: {mos:.1} out of 4.5 ({words}).")
}

/// A line that is good on every figure, for tests here and of the
/// `internet` criterion in `assessment`.
#[cfg(test)]
pub(crate) fn good_line() -> Measured {
    Measured {
        download_mbps: Some(50.0),
        upload_mbps: Some(10.0),
        rtt_ms: Some(30.0),
        jitter_ms: Some(2.0),
        loss_pct: Some(0.0),
        idle_http_ms: Some(30.0),
        loaded_ms: Some(60.0),
        udp: UdpStatus::Measured,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lower_bound_confirms_what_it_reaches_and_changes_nothing_already_decided() {
        // Above the threshold: proven good.
        let above = rate(
            &Measured {
                download_mbps: Some(3.3),
                download_lower_bound: true,
                ..good_line()
            },
            thresholds(),
        );
        assert_eq!(above.rating, VideoRating::Good);
        assert!(above.conclusive);
        assert!(
            above
                .reasons
                .iter()
                .any(|r| r.contains("at least 3.3 Mbit/s"))
        );

        // A 600 ms round trip is poor whatever the upload: still conclusive, and the
        // reasons name the delay, not the unsettled upload, as the problem.
        let long = rate(
            &Measured {
                upload_mbps: Some(0.64),
                upload_lower_bound: true,
                rtt_ms: Some(620.0),
                ..good_line()
            },
            thresholds(),
        );
        assert_eq!(long.rating, VideoRating::Poor);
        assert!(long.conclusive);
        assert!(long.reasons[0].contains("Delay"), "{:?}", long.reasons);

        // A lower bound in the fair band on a line already fair elsewhere cannot lower it.
        let fair = rate(
            &Measured {
                upload_mbps: Some(0.9),
                upload_lower_bound: true,
                rtt_ms: Some(200.0),
                ..good_line()
            },
            thresholds(),
        );
        assert_eq!(fair.rating, VideoRating::Fair);
        assert!(fair.conclusive);
    }

    /// A limit counts as crossed only when the whole interval is past it.
    #[test]
    fn loss_near_a_limit_is_borderline_and_counts_on_the_better_side() {
        let at = |pct: f64, lo: f64, hi: f64| {
            rate(
                &Measured {
                    loss_pct: Some(pct),
                    loss_ci_pct: Some((lo, hi)),
                    ..good_line()
                },
                thresholds(),
            )
        };
        // 1.2 % (0.8–1.8): could be either side of the 1 % limit.
        let near = at(1.2, 0.8, 1.8);
        let loss = near
            .metrics
            .iter()
            .find(|r| r.metric == "loss_pct")
            .unwrap();
        assert_eq!(loss.band, VideoRating::Good);
        assert!(loss.borderline && near.borderline);
        assert_eq!(loss.interval, Some([0.8, 1.8]));
        assert_eq!(near.rating, VideoRating::Good);
        let said = near.reasons.join(" ");
        assert!(said.contains("close to the 1% limit"), "{said}");
        assert!(said.contains("between 0.8% and 1.8%"), "{said}");
        // 2.0 % (1.5–2.7): clearly past it, so fair and not borderline.
        let past = at(2.0, 1.5, 2.7);
        assert_eq!(past.rating, VideoRating::Fair);
        assert!(!past.borderline);
        // Near 5 %: fair, borderline; clearly past: poor.
        assert_eq!(at(5.3, 4.4, 6.3).rating, VideoRating::Fair);
        assert!(at(5.3, 4.4, 6.3).borderline);
        assert_eq!(at(7.0, 6.0, 8.1).rating, VideoRating::Poor);
        // The old rule, without an interval: the point figure decides.
        let plain = rate(
            &Measured {
                loss_pct: Some(1.2),
                ..good_line()
            },
            thresholds(),
        );
        assert_eq!(plain.rating, VideoRating::Fair);
        assert!(!plain.borderline);
    }

    #[test]
    fn thresholds_file_is_valid_and_every_metric_cites_a_known_source() {
        let t = thresholds();
        assert!(!t.verified.is_empty());
        let ids: Vec<&str> = t.sources.iter().map(|s| s.id.as_str()).collect();
        for (key, limits) in &t.metrics {
            assert!(!limits.sources.is_empty(), "{key} has no source");
            for s in &limits.sources {
                assert!(ids.contains(&s.as_str()), "{key} cites unknown source {s}");
            }
            assert!(!limits.why.is_empty());
        }
        for s in &t.sources {
            assert!(s.url.starts_with("https://") && !s.title.is_empty() && !s.says.is_empty());
        }
    }

    #[test]
    fn band_edges_follow_the_data_file() {
        let t = thresholds();
        let dl = &t.metrics["download_mbps"];
        assert_eq!(dl.band(1.2), VideoRating::Good);
        assert_eq!(dl.band(1.19), VideoRating::Fair);
        assert_eq!(dl.band(0.75), VideoRating::Fair);
        assert_eq!(dl.band(0.5), VideoRating::Poor);
        assert_eq!(dl.band(0.2), VideoRating::Unusable);
        let rtt = &t.metrics["rtt_ms"];
        assert_eq!(rtt.band(100.0), VideoRating::Good);
        assert_eq!(rtt.band(250.0), VideoRating::Fair);
        assert_eq!(rtt.band(500.0), VideoRating::Poor);
        assert_eq!(rtt.band(900.0), VideoRating::Unusable);
        // Bufferbloat alone never pulls below fair.
        assert_eq!(
            t.metrics["loaded_increase_ms"].band(2000.0),
            VideoRating::Fair
        );
    }

    #[test]
    fn e_model_matches_hand_computed_values() {
        let p = &thresholds().e_model;
        // No loss, short delay: d = 20 + 0 + 25 = 45 ms → Id = 1.08, R = 92.12.
        let mos = e_model_mos(40.0, 0.0, 0.0, p);
        assert!((mos - r_to_mos(92.12)).abs() < 1e-9);
        assert!((r_to_mos(92.12) - 4.39).abs() < 0.01, "{}", r_to_mos(92.12));
        // 5% random loss with G.711+PLC: Ie,eff = 95·5/30.1 = 15.78.
        let lossy = e_model_mos(40.0, 0.0, 5.0, p);
        assert!((lossy - r_to_mos(92.12 - 15.78)).abs() < 0.01);
        // Long delay costs extra beyond 177.3 ms one way.
        assert!(e_model_mos(600.0, 0.0, 0.0, p) < 3.7);
        assert_eq!(r_to_mos(-5.0), 1.0);
        assert_eq!(r_to_mos(120.0), 4.5);
    }

    #[test]
    fn report_rating_lists_what_is_missing_and_why() {
        let report = NetworkReport {
            server: "http://127.0.0.1:1".into(),
            server_choice: None,
            stun_server: None,
            download: Throughput {
                mbps: Some(20.0),
                ..Default::default()
            },
            upload: Throughput {
                reason: Some("the server stopped answering.".into()),
                ..Default::default()
            },
            latency: Latency {
                idle_ms: Some(40.0),
                jitter_ms: Some(1.0),
                ..Default::default()
            },
            udp: None,
            udp_reason: Some("no STUN server address".into()),
            udp_status: UdpStatus::NotMeasured,
            via_proxy: false,
            proxy: None,
            bytes_used: 0,
            duration_s: 1.0,
            video: rate_video(None),
        };
        let a = rate_report(&report);
        assert!(!a.conclusive);
        assert!(a.missing.contains(&"upload".to_string()));
        assert!(a.missing.contains(&"udp".to_string()));
        assert!(a.reasons.iter().any(|r| {
            r.contains("Upload speed could not be measured: the server stopped answering.")
        }));
    }
}
