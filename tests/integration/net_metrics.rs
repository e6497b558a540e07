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
