//! Fault tests (issue 6): the probe against servers that misbehave, built
//! here on loopback. Each run must end within its cap with a partial result
//! and a plain reason for every missing figure, never a hang or a crash.

use std::time::Instant;

use crate::net_support::{
    Misbehaviour, StunMisbehaviour, fake_http_and_config, fake_stun, quick, serve,
    serve_and_fake_stun,
};
use session_ready::net::NetworkReport;
use session_ready::net::model::UdpStatus;
use session_ready::net::probe::{self, ProbeConfig};

/// Run, check the cap, and check that every missing figure says why.
async fn run_capped(config: &ProbeConfig) -> NetworkReport {
    let started = Instant::now();
    let report = probe::run(config).await;
    let wall = started.elapsed().as_secs_f64();
    assert!(
        wall <= config.max_seconds + 1.0,
        "took {wall:.2} s, cap {} s",
        config.max_seconds
    );
    assert!(report.duration_s <= config.max_seconds + 0.5);
    if report.download.mbps.is_none() {
        assert!(
            report.download.reason.is_some(),
            "download without a reason"
        );
    }
    if report.upload.mbps.is_none() {
        assert!(report.upload.reason.is_some(), "upload without a reason");
    }
    if report.latency.idle_ms.is_none() {
        assert!(report.latency.reason.is_some(), "latency without a reason");
    }
    if report.udp.is_none() {
        assert!(report.udp_reason.is_some(), "udp without a reason");
    }
    for reason in [
        &report.download.reason,
        &report.upload.reason,
        &report.latency.reason,
        &report.udp_reason,
    ]
    .into_iter()
    .flatten()
    {
        let lower = reason.to_lowercase();
        assert!(
            !lower.contains("error") && !lower.contains("failed"),
            "calm wording: {reason}"
        );
    }
    report
}

/// A capped run against a fake server misbehaving `how`.
async fn run_against(how: Misbehaviour) -> NetworkReport {
    let (_fake, config) = fake_http_and_config(how).await;
    run_capped(&config).await
}

fn reason_of(report: &NetworkReport) -> String {
    report.download.reason.clone().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_connection() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let report = run_capped(&quick(format!("http://{addr}"))).await;
    assert!(report.download.mbps.is_none() && report.upload.mbps.is_none());
    assert!(report.latency.idle_ms.is_none());
    assert!(
        reason_of(&report).contains("turned the connection away"),
        "{}",
        reason_of(&report)
    );
    assert_eq!(report.udp_status, UdpStatus::NotMeasured);
    assert!(
        report
            .udp_reason
            .as_deref()
            .unwrap()
            .contains("could not be reached")
    );
    assert!(
        !report.video.conclusive,
        "nothing measured is not 'measured and bad'"
    );
    assert!(report.duration_s < 2.0, "a refusal is known at once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns_failure() {
    let report = run_capped(&quick("http://nowhere.session-ready.invalid:8080")).await;
    assert!(
        reason_of(&report).contains("Could not find nowhere.session-ready.invalid"),
        "{}",
        reason_of(&report)
    );
    assert!(report.latency.idle_ms.is_none());
    assert!(
        report
            .udp_reason
            .as_deref()
            .unwrap()
            .contains("could not be found")
    );
    assert!(!report.video.conclusive);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_mid_body() {
    let report = run_against(Misbehaviour::ResetMidBody).await;
    assert!(report.latency.idle_ms.is_some(), "pings still work");
    assert!(report.download.mbps.is_none(), "{:?}", report.download);
    assert!(
        reason_of(&report).contains("cut off part-way"),
        "{}",
        reason_of(&report)
    );
    assert!(
        report.upload.mbps.is_some(),
        "uploads are answered: {:?}",
        report.upload
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_after_headers() {
    let report = run_against(Misbehaviour::StallAfterHeaders).await;
    assert!(report.download.mbps.is_none());
    assert!(
        reason_of(&report).contains("did not start sending"),
        "{}",
        reason_of(&report)
    );
    assert!(report.latency.idle_ms.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endless_slow_trickle() {
    let report = run_against(Misbehaviour::SlowTrickle).await;
    // Two streams of 1 kB per 50 ms: about 0.33 Mbit/s, measured as such.
    let mbps = report
        .download
        .mbps
        .expect("a slow rate is still a measurement");
    assert!(mbps > 0.1 && mbps < 1.0, "{mbps}");
    assert!(report.download.bytes < 200_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_content_length() {
    let report = run_against(Misbehaviour::ShortBody).await;
    assert!(
        reason_of(&report).contains("before sending everything it promised"),
        "{}",
        reason_of(&report)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_headers() {
    let report = run_against(Misbehaviour::OversizedHeaders).await;
    assert!(report.latency.idle_ms.is_none());
    assert!(
        reason_of(&report).contains("too large to read"),
        "{}",
        reason_of(&report)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_instead_of_http() {
    let report = run_against(Misbehaviour::Garbage).await;
    assert!(
        reason_of(&report).contains("not in a form this program understands"),
        "{}",
        reason_of(&report)
    );
    assert!(!report.video.conclusive);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_a_speed_test_server() {
    let report = run_against(Misbehaviour::NotFound).await;
    assert!(
        reason_of(&report).contains("status 404"),
        "{}",
        reason_of(&report)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_never_confirmed() {
    let report = run_against(Misbehaviour::UploadStall).await;
    assert!(report.upload.mbps.is_none(), "{:?}", report.upload);
    let reason = report.upload.reason.clone().unwrap();
    assert!(reason.contains("did not confirm"), "{reason}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn udp_silently_dropped_is_reported_as_blocked() {
    let (_server, _stun, config) = serve_and_fake_stun(StunMisbehaviour::Silent).await;
    let report = run_capped(&config).await;
    assert!(report.udp.is_none());
    assert_eq!(report.udp_status, UdpStatus::Blocked);
    assert!(
        report
            .udp_reason
            .as_deref()
            .unwrap()
            .contains("UDP may be blocked")
    );
    // The rest was measured, and a blocked UDP path lowers the rating to fair at best.
    assert!(report.download.mbps.is_some() && report.upload.mbps.is_some());
    assert!(report.video.conclusive);
    assert_ne!(
        report.video.rating,
        session_ready::net::model::VideoRating::Good
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_stun_replies_are_set_aside() {
    let (_server, _stun, config) = serve_and_fake_stun(StunMisbehaviour::Malformed).await;
    let report = run_capped(&config).await;
    assert!(report.udp.is_none());
    assert_eq!(report.udp_status, UdpStatus::NotMeasured);
    assert!(
        report
            .udp_reason
            .as_deref()
            .unwrap()
            .contains("could not be matched")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spoofed_stun_replies_are_not_counted() {
    let (_server, _wrong, mut config) =
        serve_and_fake_stun(StunMisbehaviour::WrongTransaction).await;
    let report = run_capped(&config).await;
    assert!(
        report.udp.is_none(),
        "replies for other transactions are not ours"
    );

    let mixed = fake_stun(StunMisbehaviour::CorrectPlusSpoofed).await;
    config.stun = Some(mixed.addr.to_string());
    let report = run_capped(&config).await;
    let udp = report.udp.expect("the genuine replies count");
    assert_eq!(udp.loss_pct, 0.0);
    assert_eq!(udp.received, udp.sent);
    assert!(udp.ignored_replies >= udp.received, "{udp:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tight_cap_is_honoured_with_a_partial_result() {
    let (_fake, mut config) = fake_http_and_config(Misbehaviour::StallAfterHeaders).await;
    config.max_seconds = 1.0;
    config.timing.stall_s = 30.0; // the cap, not stall detection, must end it
    let report = run_capped(&config).await;
    assert!(report.download.mbps.is_none());
    assert!(
        report.latency.idle_ms.is_some(),
        "what was measured before the cap is kept"
    );
}

/// Issue 16: a speed that had not settled is a lower bound, and the rating never
/// concludes from it that a threshold is missed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unsettled_slow_download_is_a_lower_bound_not_a_verdict() {
    use session_ready::assessment::{Status, internet_criterion};

    let (_fake, mut config) = fake_http_and_config(Misbehaviour::Accelerating).await;
    let stun = serve().await;
    config.stun = Some(stun.addr.to_string());
    let report = run_capped(&config).await;
    let download = &report.download;
    let mbps = download
        .mbps
        .expect("a figure from the accelerating server");
    assert!(
        download.lower_bound && !download.stable,
        "still speeding up when time ran out: {download:?}"
    );
    assert!(
        mbps < 1.2,
        "below the HD threshold, so the rule matters: {download:?}"
    );
    let metric = report
        .video
        .metrics
        .iter()
        .find(|m| m.metric == "download_mbps")
        .expect("rated");
    assert!(metric.lower_bound, "{metric:?}");
    let said = report.video.reasons.join(" ");
    assert!(
        said.contains("Download speed") && said.contains("at least"),
        "{said}"
    );
    for verdict in ["below the 0.75", "too little to carry video", "less sharp"] {
        assert!(
            !said.contains(verdict),
            "a lower bound is no verdict: {said}"
        );
    }
    assert_ne!(
        internet_criterion(&report.video),
        Status::Met,
        "{:?}",
        report.video
    );
    // With delay and upload measured well, the open question leaves the result inconclusive.
    if report.upload.mbps.is_some_and(|u| u >= 1.2) && report.latency.idle_ms.is_some() {
        assert!(!report.video.conclusive, "{:?}", report.video);
    }
}
