//! The probe against a real `serve` on loopback, and `serve`'s protocol.

use std::time::Instant;

use crate::net_support::{quick, serve, serve_with};
use session_ready::assessment::internet_criterion;
use session_ready::net::model::{UdpStatus, VideoRating};
use session_ready::net::probe;
use session_ready::net::server::ServerConfig;
use session_ready::net::stun;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probe_measures_everything_against_serve_on_loopback() {
    let server = serve().await;
    let config = quick(format!("http://{}", server.addr));
    let started = Instant::now();
    let report = probe::run(&config).await;
    let wall = started.elapsed().as_secs_f64();

    assert!(report.download.mbps.unwrap() > 1.0, "{:?}", report.download);
    assert!(report.upload.mbps.unwrap() > 1.0, "{:?}", report.upload);
    let idle = report.latency.idle_ms.unwrap();
    assert!(idle > 0.0 && idle < 50.0, "{idle}");
    assert!(report.latency.jitter_ms.is_some());
    assert!(report.latency.samples >= 5);
    // STUN defaulted to the session-ready server's own host and port.
    assert_eq!(
        report.stun_server.as_deref(),
        Some(server.addr.to_string().as_str())
    );
    assert_eq!(report.udp_status, UdpStatus::Measured);
    let udp = report.udp.as_ref().unwrap();
    assert!(udp.sent >= 20 && udp.received == udp.sent, "{udp:?}");
    assert_eq!(udp.loss_pct, 0.0);
    assert!(report.udp_reason.is_none());
    assert!(!report.via_proxy);
    // Within the data budget of the quick settings (8 MB down + 4 MB up) plus small requests.
    assert!(
        report.bytes_used > 100_000 && report.bytes_used < 13_000_000,
        "{}",
        report.bytes_used
    );
    assert!(report.duration_s <= config.max_seconds && wall < config.max_seconds + 1.0);
    assert!(report.video.conclusive);
    assert!(matches!(
        report.video.rating,
        VideoRating::Good | VideoRating::Fair
    ));
    assert_eq!(
        internet_criterion(&report.video),
        session_ready::assessment::Status::NotMet
    );
    assert!(
        server
            .stats
            .stun_replies
            .load(std::sync::atomic::Ordering::Relaxed)
            >= udp.received as u64
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_speaks_the_speed_test_protocol_and_says_who_it_is() {
    let mut config = ServerConfig::new("127.0.0.1:0".parse().unwrap());
    config.max_download_bytes = 1_000_000;
    config.max_upload_bytes = 100_000;
    config.public_stun_port = Some(3478);
    let server = serve_with(config).await;
    let base = format!("http://{}", server.addr);
    let client = crate::net_support::http_client();

    let ping = client
        .get(format!("{base}/__down?bytes=0"))
        .send()
        .await
        .unwrap();
    assert_eq!(ping.status(), 200);
    let (is_ours, stun_port) = probe::identify(ping.headers());
    assert!(is_ours);
    assert_eq!(stun_port, Some(3478), "announces the public STUN port");
    assert!(probe::server_timing_ms(ping.headers()).is_some());
    assert_eq!(ping.headers()["cache-control"], "no-store");

    let body = client
        .get(format!("{base}/__down?bytes=300000"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(body.len(), 300_000);
    // Incompressible: no byte value dominates (a run of zeros would).
    let zeros = body.iter().filter(|b| **b == 0).count();
    assert!(zeros < 300_000 / 100, "{zeros} zero bytes");

    let too_big = client
        .get(format!("{base}/__down?bytes=1000001"))
        .send()
        .await
        .unwrap();
    assert_eq!(too_big.status(), 413);
    let junk = client
        .get(format!("{base}/__down?bytes=lots"))
        .send()
        .await
        .unwrap();
    assert_eq!(junk.status(), 400);

    let up = client
        .post(format!("{base}/__up"))
        .body(vec![1u8; 50_000])
        .send()
        .await
        .unwrap();
    assert_eq!(up.status(), 200);
    let over = client
        .post(format!("{base}/__up"))
        .body(vec![1u8; 200_000])
        .send()
        .await
        .unwrap();
    assert_eq!(over.status(), 413);
    let missing = client
        .get(format!("{base}/nothing-here"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_answers_stun_binding_requests_on_the_same_port() {
    let server = serve().await;
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    socket.connect(server.addr).await.unwrap();
    for fingerprint in [false, true] {
        let txid: stun::TransactionId = rand::random();
        socket
            .send(&stun::binding_request(&txid, fingerprint))
            .await
            .unwrap();
        let mut buf = [0u8; 1500];
        let n = tokio::time::timeout(std::time::Duration::from_secs(2), socket.recv(&mut buf))
            .await
            .expect("a reply within 2 s")
            .unwrap();
        let reply = stun::parse(&buf[..n]).unwrap();
        assert_eq!(reply.class, stun::Class::SuccessResponse);
        assert_eq!(reply.transaction_id, txid);
        assert_eq!(reply.mapped_address(), Some(socket.local_addr().unwrap()));
        assert_eq!(reply.has_fingerprint(), fingerprint);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probe_goes_through_a_proxy_and_says_so() {
    use tokio::io::copy_bidirectional;
    let server = serve().await;
    // A forward proxy for plain HTTP: absolute-form requests are relayed as they are
    // (hyper serves absolute-form URIs), so a byte relay suffices.
    let proxy = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy_addr = proxy.local_addr().unwrap();
    let relayed = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    let count = relayed.clone();
    let target = server.addr;
    let relay = tokio::spawn(async move {
        while let Ok((mut inbound, _)) = proxy.accept().await {
            count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            tokio::spawn(async move {
                if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                    let _ = copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    let mut config = quick(format!("http://{}", server.addr));
    config.proxy = Some(format!("http://{proxy_addr}"));
    let report = probe::run(&config).await;
    relay.abort();
    assert!(report.via_proxy);
    assert!(report.latency.idle_ms.is_some(), "{:?}", report.latency);
    assert!(report.download.mbps.is_some(), "{:?}", report.download);
    assert!(relayed.load(std::sync::atomic::Ordering::Relaxed) >= 1);
}
