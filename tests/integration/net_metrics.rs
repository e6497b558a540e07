//! `serve --metrics`: Prometheus text on its own address, counting what the
//! public port did.
use crate::net_support::serve_with;
use session_ready::net::server::ServerConfig;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_served_apart_and_count_refusals_and_bytes() {
    let mut config = ServerConfig::new("127.0.0.1:0".parse().unwrap());
    config.metrics = Some("127.0.0.1:0".parse().unwrap());
    config.max_download_bytes = 1_000;
    let server = serve_with(config).await;
    let metrics = server.metrics_addr.expect("a metrics address");
    assert_ne!(metrics.port(), server.addr.port());
    session_ready::net::probe::ensure_crypto_provider();
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let public = format!("http://{}", server.addr);
    let ok = client
        .get(format!("{public}/__down?bytes=500"))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.bytes().await.unwrap().len(), 500);
    let big = client
        .get(format!("{public}/__down?bytes=5000"))
        .send()
        .await
        .unwrap();
    assert_eq!(big.status(), 413);
    // The public port does not serve metrics.
    let hidden = client
        .get(format!("{public}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(hidden.status(), 404);

    let scrape = client
        .get(format!("http://{metrics}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(scrape.status(), 200);
    assert!(
        scrape.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = scrape.text().await.unwrap();
    for line in [
        "session_ready_bytes_sent_total 500",
        "session_ready_responses_refused_total{code=\"413\",reason=\"too_large\"} 1",
        "session_ready_requests_total 3",
        "# TYPE session_ready_connections_open gauge",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
    server.shutdown().await;
}

/// Send one request with `host` on a raw connection and read the status line.
async fn status_line(stream: &mut tokio::net::TcpStream, host: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream
        .write_all(format!("GET /metrics HTTP/1.1\r\nhost: {host}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut buf = vec![0u8; 64 * 1024];
    let n = tokio::time::timeout(std::time::Duration::from_secs(10), stream.read(&mut buf))
        .await
        .expect("a reply within 10 s")
        .unwrap();
    String::from_utf8_lossy(&buf[..n])
        .lines()
        .next()
        .unwrap_or("")
        .to_string()
}

/// Keep-alive connections held open do not lock the scraper out (a newcomer
/// takes the oldest one's place), and a request addressed to another name
/// (a web page using DNS rebinding) is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_cannot_be_held_shut_or_read_through_another_name() {
    let mut config = ServerConfig::new("127.0.0.1:0".parse().unwrap());
    config.metrics = Some("127.0.0.1:0".parse().unwrap());
    let server = serve_with(config).await;
    let metrics = server.metrics_addr.expect("a metrics address");
    let mut held = Vec::new();
    for _ in 0..20 {
        let mut s = tokio::net::TcpStream::connect(metrics).await.unwrap();
        assert_eq!(
            status_line(&mut s, "127.0.0.1").await,
            "HTTP/1.1 200 OK",
            "a keep-alive scrape"
        );
        held.push(s);
    }
    let mut scraper = tokio::net::TcpStream::connect(metrics).await.unwrap();
    assert_eq!(
        status_line(&mut scraper, &metrics.to_string()).await,
        "HTTP/1.1 200 OK"
    );
    for host in ["localhost:9464", "[::1]:9464"] {
        let mut s = tokio::net::TcpStream::connect(metrics).await.unwrap();
        assert_eq!(status_line(&mut s, host).await, "HTTP/1.1 200 OK", "{host}");
    }
    let mut rebound = tokio::net::TcpStream::connect(metrics).await.unwrap();
    assert_eq!(
        status_line(&mut rebound, "attacker.example:9464").await,
        "HTTP/1.1 421 Misdirected Request"
    );
    drop(held);
    server.shutdown().await;
}
