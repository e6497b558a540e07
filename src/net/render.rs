//! The connection test as shown to a client (plain words, colour only as a
//! second cue) and as JSON.
use crate::term::OutputFormat;
use crate::term::{Style, Tone};

use super::model::*;

pub fn render(
    report: &NetworkReport,
    format: OutputFormat,
    style: Style,
) -> anyhow::Result<Vec<u8>> {
    match format {
        OutputFormat::Json => Ok(crate::term::json_document(report)?),
        OutputFormat::Terminal => Ok(style.fit(terminal(report, style)).into_bytes()),
    }
}

/// Which of several servers was used, and why: the nearest by round trip,
/// with each one's figure or the reason it was skipped.
pub fn choice_sentence(choice: &ServerChoice, chosen: &str) -> String {
    let host = super::probe::server_host;
    let answered: Vec<String> = choice
        .candidates
        .iter()
        .filter_map(|c| {
            c.rtt_ms
                .map(|rtt| format!("{} {rtt:.1} ms", host(&c.server)))
        })
        .collect();
    let skipped: Vec<String> = choice
        .candidates
        .iter()
        .filter_map(|c| {
            c.reason
                .as_ref()
                .map(|why| format!("{} was skipped: {why}", host(&c.server)))
        })
        .collect();
    let mut sentence = if answered.is_empty() {
        format!(
            "None of the {} servers given answered within a second, so the test tried {}.",
            choice.candidates.len(),
            host(chosen)
        )
    } else {
        format!(
            "Measured against {}, the nearest of the {} servers given (round trips: {}).",
            host(chosen),
            choice.candidates.len(),
            answered.join(", ")
        )
    };
    for line in skipped {
        sentence.push(' ');
        sentence.push_str(&line);
    }
    sentence
}

/// Words for a band; the colour only repeats what the words say.
pub fn band_words(band: VideoRating) -> (&'static str, Tone) {
    match band {
        VideoRating::Good => ("good", Tone::Good),
        VideoRating::Fair => ("fair", Tone::Caution),
        VideoRating::Poor => ("may struggle", Tone::Concern),
        VideoRating::Unusable => ("not enough for video", Tone::Concern),
        VideoRating::NotMeasured => ("not measured", Tone::Neutral),
    }
}

/// One sentence on the whole connection, and what to do next.
pub fn summary(video: &VideoAssessment) -> (String, Option<&'static str>) {
    if !video.conclusive || video.rating == VideoRating::NotMeasured {
        return (
            "The connection test could not measure everything it needs, so there is no overall answer yet."
                .to_string(),
            Some("You could try again in a minute, or on another network. Your therapist can also help you check the connection."),
        );
    }
    match video.rating {
        VideoRating::Good => (
            "Your connection looks good for a video session.".to_string(),
            None,
        ),
        VideoRating::Fair => (
            "Your connection should work for a video session, with some limits (see below)."
                .to_string(),
            Some("Closing other programs and pausing big downloads during the session will help."),
        ),
        VideoRating::Poor => (
            "Your connection may struggle with a video session right now.".to_string(),
            Some(
                "This is about the line, not about you. Moving closer to the router or using a cable, and pausing \
                  other downloads, may help; then try again. A phone call or an in-person session are options to talk \
                  through with your therapist.",
            ),
        ),
        VideoRating::Unusable | VideoRating::NotMeasured => (
            "Right now your connection does not seem able to carry a video session.".to_string(),
            Some(
                "This is about the line, not about you. You could try another network or try again later. A phone \
                  call or an in-person session are options to talk through with your therapist.",
            ),
        ),
    }
}

fn metric_band(report: &NetworkReport, metric: &str) -> Option<VideoRating> {
    report
        .video
        .metrics
        .iter()
        .find(|m| m.metric == metric)
        .map(|m| m.band)
}

fn line(
    style: Style,
    label: &str,
    value: Option<String>,
    band: Option<VideoRating>,
    why_missing: Option<&str>,
) -> String {
    let bullet = style.bullet();
    match value {
        Some(v) => {
            let judged = band
                .map(|b| {
                    let (w, t) = band_words(b);
                    format!(" ({})", style.tone(w, t))
                })
                .unwrap_or_default();
            format!("{bullet} {}: {v}{judged}\n", style.bold(label))
        }
        None => format!(
            "{bullet} {}: not measured{}\n",
            style.bold(label),
            why_missing.map(|w| format!(". {w}")).unwrap_or_default()
        ),
    }
}

/// The result as a client sees it.
pub fn terminal(report: &NetworkReport, style: Style) -> String {
    let mut out = style.heading("Your connection");
    let (headline, next) = summary(&report.video);
    let (_, tone) = band_words(report.video.rating);
    let headline = if report.video.conclusive {
        style.tone(&headline, tone)
    } else {
        headline
    };
    out.push_str(&format!("{headline}\n\n"));

    out.push_str(&line(
        style,
        "Download speed",
        report.download.mbps_text(),
        metric_band(report, "download_mbps"),
        report
            .download
            .reason
            .as_deref()
            .filter(|_| report.download.mbps.is_none()),
    ));
    out.push_str(&line(
        style,
        "Upload speed",
        report.upload.mbps_text(),
        metric_band(report, "upload_mbps"),
        report
            .upload
            .reason
            .as_deref()
            .filter(|_| report.upload.mbps.is_none()),
    ));
    let (rtt, jitter) = match &report.udp {
        Some(u) => (Some(u.rtt_ms), Some(u.jitter_ms)),
        None => (report.latency.idle_ms, report.latency.jitter_ms),
    };
    out.push_str(&line(
        style,
        "Delay, there and back",
        rtt.map(|v| format!("{v:.0} ms")),
        metric_band(report, "rtt_ms"),
        report.latency.reason.as_deref().filter(|_| rtt.is_none()),
    ));
    out.push_str(&line(
        style,
        "Steadiness (how much the delay varies)",
        jitter.map(|v| format!("about {v:.0} ms")),
        metric_band(report, "jitter_ms"),
        None,
    ));
    out.push_str(&line(
        style,
        "Lost audio packets",
        report.udp.as_ref().map(|u| {
            let lost = u.sent.saturating_sub(u.received);
            match u.loss_ci_pct {
                Some([lo, hi]) => format!(
                    "{:.1}% ({lost} of {}; between {lo:.1}% and {hi:.1}%)",
                    u.loss_pct, u.sent
                ),
                None => format!("{:.1}% ({lost} of {})", u.loss_pct, u.sent),
            }
        }),
        metric_band(report, "loss_pct"),
        report
            .udp_reason
            .as_deref()
            .filter(|_| report.udp.is_none()),
    ));
    out.push_str(&line(
        style,
        "Delay while the line is busy",
        report.latency.loaded_ms.map(|v| format!("{v:.0} ms")),
        metric_band(report, "loaded_increase_ms"),
        report
            .latency
            .reason
            .as_deref()
            .filter(|_| report.latency.loaded_ms.is_none() && rtt.is_some()),
    ));
    if let Some(mos) = report.video.mos {
        out.push_str(&line(
            style,
            "Estimated sound quality of a call",
            Some(format!("{mos:.1} out of 4.5")),
            metric_band(report, "mos"),
            None,
        ));
    }

    out.push_str(&format!("\n{}\n", style.bold("What this means")));
    for reason in &report.video.reasons {
        out.push_str(&format!("{} {reason}\n", style.bullet()));
    }
    if let Some(next) = next {
        out.push_str(&format!("\n{next}\n"));
    }

    if let Some(choice) = &report.server_choice {
        out.push_str(&format!("\n{}\n", choice_sentence(choice, &report.server)));
    }
    let mb = report.bytes_used as f64 / 1e6;
    let mut contacted = match &report.server_choice {
        Some(choice) => choice.candidates.iter().map(|c| c.server.clone()).collect(),
        None => vec![report.server.clone()],
    };
    if let Some(stun) = &report.stun_server
        && super::probe::server_host(&report.server) != *stun
    {
        contacted.push(stun.clone());
    }
    let mut about = format!(
        "This test used about {mb:.1} MB of data in {:.0} seconds. ",
        report.duration_s
    );
    // A proxy sees the traffic too, so it is named with the servers.
    if let Some(proxy) = &report.proxy {
        contacted.push(format!("the proxy {proxy}"));
    }
    if contacted.len() > 2 {
        let last = contacted.pop().unwrap_or_default();
        contacted = vec![contacted.join(", "), last];
    }
    if contacted.len() == 1 {
        about.push_str(&format!(
            "It talked only to {}, which sees this computer's internet address and nothing else.",
            contacted[0]
        ));
    } else {
        about.push_str(&format!(
            "It talked only to {}, which see this computer's internet address and nothing else.",
            contacted.join(" and ")
        ));
    }
    if report.via_proxy {
        about.push_str(
            " The web part went through a proxy, so the figures describe the path through it.",
        );
    }
    out.push_str(&format!("\n{}\n", style.dim(&about)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::rating;

    fn sample(conclusive_data: bool) -> NetworkReport {
        let mut r = NetworkReport {
            server: "https://speed.example.org".into(),
            server_choice: None,
            stun_server: Some("stun.example.org:3478".into()),
            download: Throughput {
                mbps: conclusive_data.then_some(19.1),
                reason: (!conclusive_data)
                    .then(|| "The measurement server stopped sending.".to_string()),
                ..Default::default()
            },
            upload: Throughput {
                mbps: Some(4.8),
                ..Default::default()
            },
            latency: Latency {
                idle_ms: Some(41.0),
                jitter_ms: Some(2.0),
                loaded_ms: Some(220.0),
                ..Default::default()
            },
            udp: Some(UdpResult {
                rtt_ms: 41.5,
                jitter_ms: 3.1,
                loss_pct: 2.0,
                sent: 200,
                received: 196,
                min_rtt_ms: 40.0,
                p90_rtt_ms: 45.0,
                ignored_replies: 0,
                packets_per_s: 50.0,
                loss_ci_pct: None,
                server_counts: None,
            }),
            udp_reason: None,
            udp_status: UdpStatus::Measured,
            via_proxy: false,
            proxy: None,
            bytes_used: 12_300_000,
            duration_s: 8.4,
            video: rating::rate_video(None),
        };
        r.video = rating::rate_report(&r);
        r
    }

    #[test]
    fn plain_output_is_ascii_calm_and_complete() {
        let text = terminal(&sample(true), Style::decide(true, true, false));
        assert!(text.is_ascii(), "{text}");
        for word in [
            "Download speed: 19 Mbit/s",
            "Lost audio packets: 2.0% (4 of 200)",
            "12.3 MB",
            "stun.example.org:3478",
        ] {
            assert!(text.contains(word), "{word} missing:\n{text}");
        }
        let lower = text.to_lowercase();
        assert!(
            !lower.contains("fail") && !lower.contains("error"),
            "{text}"
        );
    }

    #[test]
    fn missing_figures_say_why_and_there_is_no_verdict() {
        let text = terminal(&sample(false), Style::decide(false, false, false));
        assert!(
            text.contains("Download speed: not measured. The measurement server stopped sending."),
            "{text}"
        );
        assert!(text.contains("no overall answer yet"), "{text}");
    }

    #[test]
    fn the_server_choice_names_the_nearest_and_why_others_were_skipped() {
        let mut r = sample(true);
        r.server = "https://b.example".into();
        r.server_choice = Some(ServerChoice {
            candidates: vec![
                ServerCandidate {
                    server: "https://a.example".into(),
                    rtt_ms: Some(41.0),
                    reason: None,
                },
                ServerCandidate {
                    server: "https://b.example".into(),
                    rtt_ms: Some(12.25),
                    reason: None,
                },
                ServerCandidate {
                    server: "https://c.example".into(),
                    rtt_ms: None,
                    reason: Some("Could not find c.example.".into()),
                },
            ],
        });
        let text = terminal(&r, Style::decide(false, true, true));
        assert!(
            text.contains(
                "Measured against b.example, the nearest of the 3 servers given (round trips: \
                 a.example 41.0 ms, b.example 12.2 ms). c.example was skipped: Could not find \
                 c.example."
            ),
            "{text}"
        );
        assert!(
            text.contains("https://a.example, https://b.example, https://c.example and stun"),
            "{text}"
        );
        let json = String::from_utf8(
            render(&r, OutputFormat::Json, Style::decide(false, true, true)).unwrap(),
        )
        .unwrap();
        assert!(json.contains("\"server_choice\""));
        // One server: no choice in the JSON at all.
        let one = String::from_utf8(
            render(
                &sample(true),
                OutputFormat::Json,
                Style::decide(false, true, true),
            )
            .unwrap(),
        )
        .unwrap();
        assert!(!one.contains("server_choice"));
    }

    #[test]
    fn json_keeps_the_contract_field_names() {
        let json: serde_json::Value = serde_json::from_slice(
            &render(
                &sample(true),
                OutputFormat::Json,
                Style::decide(false, false, false),
            )
            .unwrap(),
        )
        .unwrap();
        for path in [
            "/download/mbps",
            "/upload/mbps",
            "/latency/idle_ms",
            "/latency/jitter_ms",
            "/latency/loaded_ms",
            "/udp/rtt_ms",
            "/udp/jitter_ms",
            "/udp/loss_pct",
            "/bytes_used",
            "/duration_s",
            "/video/rating",
            "/video/conclusive",
        ] {
            assert!(json.pointer(path).is_some(), "{path} missing");
        }
        assert_eq!(json["video"]["rating"], "fair");
    }
}
