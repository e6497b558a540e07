//! The call-like UDP test against a loopback `serve` (issue 25): enough
//! packets for a loss interval, the server's own count of each test, and
//! floods that must never read as a bad line. Every loop here is bounded.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::net_support::{StunMisbehaviour, quick, serve, serve_and_fake_stun, serve_with};
use session_ready::net::model::{UdpStatus, VideoRating};
use session_ready::net::probe;
use session_ready::net::server::ServerConfig;
use session_ready::net::stun;
use tokio::net::UdpSocket;

/// Against `serve`, the stream is call-like and counted by the server: the
/// loss figure comes with its interval and the server's count of the test.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_call_like_stream_is_counted_by_the_server_and_has_an_interval() {
    let server = serve().await;
    let report = probe::run(&quick(format!("http://{}", server.addr))).await;
    assert_eq!(
        report.udp_status,
        UdpStatus::Measured,
        "{:?}",
        report.udp_reason
    );
    let udp = report.udp.unwrap();
    assert_eq!(udp.packets_per_s, 800.0);
    // Half a second at 800 a second (quick timing): 400, fewer on a machine
    // too busy to keep the pace, less the last few in flight.
    assert!(udp.sent >= 100, "{udp:?}");
    let counts = udp.server_counts.expect("serve counts its tests");
    assert_eq!(counts.refused, 0);
    assert!(counts.received >= u64::from(udp.received), "{counts:?}");
    let [lo, hi] = udp.loss_ci_pct.expect("an interval");
    assert_eq!(lo, 0.0);
    // No loss of n packets: the upper end is z²/(n+z²).
    assert!(hi > 0.0 && hi < 1.6, "{hi}");
    // Borderline only while the interval still reaches past the 1 % limit.
    assert_eq!(report.video.borderline, hi > 1.0, "{:?}", report.video);
    server.shutdown().await;
}

/// With nothing lost the stream stops once its interval is narrow enough,
/// long before its longest: allowed 2 s (1,600 packets), it sends for about
/// its shortest, 0.4 s here.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stream_stops_once_its_loss_interval_is_narrow_enough() {
    let server = serve().await;
    let mut config = quick(format!("http://{}", server.addr));
    config.timing.udp_seconds = 2.0;
    config.timing.udp_min_seconds = 0.4;
    let report = probe::run(&config).await;
    let udp = report.udp.expect("measured");
    assert!(udp.sent >= 200 && udp.sent < 700, "{udp:?}");
    let [_, hi] = udp.loss_ci_pct.expect("an interval");
    assert!(hi <= 1.9, "{hi}");
    server.shutdown().await;
}

/// Another STUN server knows nothing of test ids: the gentler audio-like
/// stream, no server count, and the report says so when loss matters.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_stun_servers_get_the_audio_like_stream_without_counts() {
    let (server, _fake, config) = serve_and_fake_stun(StunMisbehaviour::CorrectPlusSpoofed).await;
    let report = probe::run(&config).await;
    assert_eq!(
        report.udp_status,
        UdpStatus::Measured,
        "{:?}",
        report.udp_reason
    );
    let udp = report.udp.unwrap();
    assert_eq!(udp.packets_per_s, 100.0, "quick timing: one every 10 ms");
    assert!(udp.server_counts.is_none());
    assert!(udp.loss_ci_pct.is_some());
    server.shutdown().await;
}

/// Plain Binding requests from `from` to `server`, `per_tick` at a time
/// about every millisecond, until `stop` (a neighbour behind the same router, or a
/// spoofer using the client's address).
fn plain_flood(
    from: &str,
    server: SocketAddr,
    per_tick: usize,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<u64> {
    let from: SocketAddr = from.parse().unwrap();
    tokio::spawn(async move {
        let socket = UdpSocket::bind(from).await.unwrap();
        let request = stun::binding_request(&[3; 12], false);
        let mut sent = 0u64;
        for _ in 0..20_000 {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            for _ in 0..per_tick {
                if socket.send_to(&request, server).await.is_ok() {
                    sent += 1;
                }
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        sent
    })
}

/// The attack of issue 25: STUN requests from the client's own address use
/// up that address's reply budget. The client's stream proved it receives at
/// its address, so it is answered from its own budget: the figure stays the
/// line's (here no loss), or at worst reads "server busy"; never poor.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_from_the_clients_own_address_never_reads_as_a_bad_line() {
    let server = serve().await;
    let stop = Arc::new(AtomicBool::new(false));
    let flood = plain_flood("127.0.0.1:0", server.addr, 10, stop.clone());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let report = probe::run(&quick(format!("http://{}", server.addr))).await;
    stop.store(true, Ordering::Relaxed);
    let sent = flood.await.unwrap();
    assert!(
        server.stats.stun_dropped.load(Ordering::Relaxed) > 100,
        "the flood ({sent} sent) was held to the address's budget"
    );
    assert!(
        report.video.rating < VideoRating::Poor,
        "{:?}",
        report.video
    );
    match report.udp_status {
        UdpStatus::Measured => {
            let udp = report.udp.unwrap();
            assert!(udp.loss_pct < 1.0, "{udp:?}");
        }
        _ => {
            let reason = report.udp_reason.unwrap_or_default();
            assert!(reason.contains("server was busy"), "{reason}");
        }
    }
    server.shutdown().await;
}

/// When the server's budget for verified streams is used up (here by another
/// address that did the handshake and floods with its own cookie), the
/// client's test reads "the server was busy", with the server's count behind it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_out_of_stream_budget_reads_as_busy_not_as_loss() {
    let mut config = ServerConfig::new("127.0.0.1:0".parse().unwrap());
    config.stun_verified_total_per_s = 1_000.0;
    config.stun_verified_per_s = 10_000.0;
    let server = serve_with(config).await;

    // The flooder's own handshake, from another loopback address.
    let flooder = UdpSocket::bind("127.0.0.2:0").await.unwrap();
    flooder.connect(server.addr).await.unwrap();
    let test = [5u8; stun::TAG_LEN];
    flooder
        .send(&stun::test_request(&[1; 12], &test, &[0; stun::TAG_LEN]))
        .await
        .unwrap();
    let mut buf = [0u8; 1500];
    let n = tokio::time::timeout(Duration::from_secs(10), flooder.recv(&mut buf))
        .await
        .expect("a handshake reply")
        .unwrap();
    let cookie = stun::parse(&buf[..n]).unwrap().echo_cookie().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let flood = {
        let stop = stop.clone();
        tokio::spawn(async move {
            let request = stun::test_request(&[2; 12], &test, &cookie);
            for _ in 0..20_000 {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                // Far past the budget however slowly this machine wakes timers.
                for _ in 0..25 {
                    let _ = flooder.send(&request).await;
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let report = probe::run(&quick(format!("http://{}", server.addr))).await;
    stop.store(true, Ordering::Relaxed);
    flood.await.unwrap();
    assert!(server.stats.stun_shed.load(Ordering::Relaxed) > 0);
    assert_eq!(
        report.udp_status,
        UdpStatus::NotMeasured,
        "{:?}",
        report.udp
    );
    let reason = report.udp_reason.unwrap_or_default();
    assert!(reason.contains("server was busy"), "{reason}");
    assert!(
        report.video.rating < VideoRating::Poor,
        "{:?}",
        report.video
    );
    assert!(report.video.missing.contains(&"udp".to_string()));
    server.shutdown().await;
}

/// `--stun-cookies-per-second` reaches the server: with a budget of 2 a
/// second, 20 cookie requests at once from one address get 2 replies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cookie_budget_is_the_servers_setting() {
    let mut config = ServerConfig::new("127.0.0.1:0".parse().unwrap());
    config.stun_cookies_per_s = 2.0;
    let server = serve_with(config).await;
    let asker = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    asker.connect(server.addr).await.unwrap();
    let test = [9u8; stun::TAG_LEN];
    for i in 0..20u8 {
        asker
            .send(&stun::test_request(&[i; 12], &test, &[0; stun::TAG_LEN]))
            .await
            .unwrap();
    }
    let mut buf = [0u8; 1500];
    let mut replies = 0;
    // Replies come at once; a second of silence ends the count.
    while let Ok(Ok(n)) = tokio::time::timeout(Duration::from_secs(1), asker.recv(&mut buf)).await {
        if stun::parse(&buf[..n]).is_ok_and(|m| m.echo_cookie().is_some()) {
            replies += 1;
        }
    }
    // The burst is one second's worth; a slow machine may add one refill.
    assert!((2..=3).contains(&replies), "{replies}");
    server.shutdown().await;
}
