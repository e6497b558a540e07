//! Several measurement servers (a clinic network): the probe races idle
//! round trips to all of them, runs against the nearest and says why, and
//! skips the ones it cannot reach with a reason. Loopback only.
use std::time::Duration;

use crate::net_support::{quick, serve};
use session_ready::net::model::UdpStatus;
use session_ready::net::probe;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A server that answers every request after `delay` (a far-away one).
async fn far_server(delay: Duration) -> (String, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let mut conns = tokio::task::JoinSet::new();
        while let Ok((mut stream, _)) = listener.accept().await {
            conns.spawn(async move {
                let mut buf = [0u8; 4096];
                while let Ok(n) = stream.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                    tokio::time::sleep(delay).await;
                    let reply = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";
                    if stream.write_all(reply).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    (url, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_nearest_server_is_used_and_unreachable_ones_are_skipped_with_a_reason() {
    let near = serve().await;
    let near_url = format!("http://{}", near.addr);
    let (far_url, far_task) = far_server(Duration::from_millis(150)).await;
    // Nothing listens on port 1.
    let gone = "http://127.0.0.1:1".to_string();
    let config = quick(format!("{far_url}, {gone},{near_url}"));
    let report = probe::run(&config).await;

    assert_eq!(report.server, near_url);
    assert!(report.download.mbps.is_some(), "{:?}", report.download);
    assert_eq!(report.udp_status, UdpStatus::Measured);
    let choice = report.server_choice.expect("the race is recorded");
    let servers: Vec<&str> = choice
        .candidates
        .iter()
        .map(|c| c.server.as_str())
        .collect();
    assert_eq!(
        servers,
        [far_url.as_str(), gone.as_str(), near_url.as_str()]
    );
    let [far, unreachable, nearest] = &choice.candidates[..] else {
        unreachable!()
    };
    assert!(far.rtt_ms.unwrap() >= 140.0, "{far:?}");
    assert!(nearest.rtt_ms.unwrap() < far.rtt_ms.unwrap());
    assert_eq!(unreachable.rtt_ms, None);
    assert!(
        unreachable
            .reason
            .as_deref()
            .unwrap()
            .contains("turned the connection away"),
        "{unreachable:?}"
    );
    far_task.abort();
    near.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_server_has_no_race() {
    let server = serve().await;
    let report = probe::run(&quick(format!("http://{}", server.addr))).await;
    assert!(report.server_choice.is_none());
    server.shutdown().await;
}
