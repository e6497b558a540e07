//! `serve` under a bounded load on loopback: many concurrent downloads, slow
//! clients, oversized and endless uploads, a client that never reads. It must
//! keep answering latency pings, hold no more connections than allowed, free
//! them afterwards, and not buffer what it serves. Its memory is not checked
//! here, where it shares one process with every other test: the load
//! generator (examples/serve_load.rs `--max-growth-mb`) measures the server's
//! own process.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::net_support::serve_with;
use session_ready::net::server::ServerConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_keeps_answering_under_bounded_load() {
    let mut config = ServerConfig::new("127.0.0.1:0".parse().unwrap());
    config.max_connections = 32;
    // Every client here is 127.0.0.1: the per-address shares are tested in net_abuse.rs.
    config.per_address_connections = 1_000;
    config.per_address_streams = 1_000;
    config.max_upload_bytes = 1_000_000;
    config.header_timeout = Duration::from_millis(800);
    config.body_idle_timeout = Duration::from_millis(800);
    config.connection_lifetime = Duration::from_secs(2);
    config.drain_timeout = Duration::from_secs(1);
    let server = serve_with(config).await;
    let addr = server.addr;
    let base = format!("http://{addr}");
    // One client for all the load (it opens as many connections as there are
    // requests in flight).
    let shared = crate::net_support::http_client();
    let mut load = tokio::task::JoinSet::new();

    // 120 concurrent downloads of 200 kB.
    for _ in 0..120 {
        let url = format!("{base}/__down?bytes=200000");
        let client = shared.clone();
        load.spawn(async move {
            let mut response = client.get(url).send().await.unwrap();
            let mut got = 0;
            while let Some(chunk) = response.chunk().await.unwrap() {
                got += chunk.len();
            }
            assert_eq!(got, 200_000);
        });
    }
    // 20 slow clients that never finish their request head: closed by the header timeout.
    for _ in 0..20 {
        load.spawn(async move {
            let mut s = TcpStream::connect(addr).await.unwrap();
            s.write_all(b"GET /__down?bytes=0 HTTP/1.1\r\nhost: x\r\n")
                .await
                .unwrap();
            let mut buf = [0u8; 1024];
            let started = Instant::now();
            let closed = tokio::time::timeout(Duration::from_secs(8), async {
                loop {
                    match s.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(_) => {}
                    }
                }
            })
            .await;
            assert!(closed.is_ok(), "a slow client was never cut off");
            assert!(started.elapsed() < Duration::from_secs(8));
        });
    }
    // 20 uploads declaring more than the limit: refused without reading them.
    for _ in 0..20 {
        let url = format!("{base}/__up");
        let client = shared.clone();
        load.spawn(async move {
            let status = client
                .post(url)
                .header("content-length", "50000000")
                .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
                    (0..763).map(|_| Ok::<_, std::io::Error>(bytes::Bytes::from(vec![0u8; 65536]))),
                )))
                .send()
                .await
                .map(|r| r.status().as_u16());
            // Either the 413 arrives, or the server closes before we finish sending.
            assert!(matches!(status, Ok(413) | Err(_)), "{status:?}");
        });
    }
    // 10 chunked uploads that never end: cut off at the size limit.
    for _ in 0..10 {
        let url = format!("{base}/__up");
        let client = shared.clone();
        load.spawn(async move {
            let endless = futures_util::stream::repeat_with(|| {
                Ok::<_, std::io::Error>(bytes::Bytes::from(vec![1u8; 65536]))
            });
            let status = client
                .post(url)
                .body(reqwest::Body::wrap_stream(endless))
                .send()
                .await
                .map(|r| r.status().as_u16());
            assert!(matches!(status, Ok(413) | Err(_)), "{status:?}");
        });
    }
    // 4 clients asking for 100 MB and never reading: the server must not buffer it.
    for _ in 0..4 {
        load.spawn(async move {
            let mut s = TcpStream::connect(addr).await.unwrap();
            s.write_all(b"GET /__down?bytes=100000000 HTTP/1.1\r\nhost: x\r\n\r\n")
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_secs(4)).await;
        });
    }

    // Meanwhile a latency ping every 100 ms must keep getting answers.
    let pinger = crate::net_support::http_client();
    let mut worst = Duration::ZERO;
    let mut pings = 0;
    let until = Instant::now() + Duration::from_secs(3);
    while Instant::now() < until {
        let started = Instant::now();
        let reply = tokio::time::timeout(
            Duration::from_secs(8),
            pinger.get(format!("{base}/__down?bytes=0")).send(),
        )
        .await
        .expect("a ping under load got no answer within 8 s")
        .expect("ping");
        assert_eq!(reply.status(), 200);
        worst = worst.max(started.elapsed());
        pings += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    while let Some(done) = load.join_next().await {
        done.unwrap();
    }
    let stats = &server.stats;
    eprintln!(
        "load: {pings} pings, worst {:?}; peak connections {}; total {}; requests {}; rejected {}; \
         served {:.1} MB",
        worst,
        stats.connections_peak.load(Ordering::Relaxed),
        stats.connections_total.load(Ordering::Relaxed),
        stats.requests.load(Ordering::Relaxed),
        stats.rejected.load(Ordering::Relaxed),
        stats.bytes_sent.load(Ordering::Relaxed) as f64 / 1e6,
    );
    assert!(stats.connections_peak.load(Ordering::Relaxed) <= 32);
    assert!(
        stats.rejected.load(Ordering::Relaxed) >= 20,
        "oversized uploads refused"
    );
    // The never-reading clients asked for 400 MB; only what fits in socket buffers was made.
    assert!(stats.bytes_sent.load(Ordering::Relaxed) < 120 * 200_000 + 4 * 20_000_000);
    // Every connection is released once the clients are gone.
    let settle = Instant::now();
    while stats.connections_open.load(Ordering::Relaxed) > 1
        && settle.elapsed() < Duration::from_secs(5)
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(stats.connections_open.load(Ordering::Relaxed) <= 1);
    server.shutdown().await;
}
