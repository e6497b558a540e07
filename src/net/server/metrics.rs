//! `serve --metrics ADDR`: the server's counters as Prometheus text
//! (exposition format 0.0.4) on a separate address, meant to stay private
//! (loopback or an internal network), so the public port shows nothing of
//! the server's load.
use std::convert::Infallible;
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};

use super::ServerStats;

/// One metric: name, type, help, and its samples (labels, value).
struct Family<'a> {
    name: &'a str,
    kind: &'a str,
    help: &'a str,
    samples: Vec<(&'a str, u64)>,
}

fn load(counter: &AtomicU64) -> u64 {
    counter.load(Ordering::Relaxed)
}

/// The exposition text for `stats`.
pub fn render(stats: &ServerStats) -> String {
    let families = [
        Family {
            name: "session_ready_connections_open",
            kind: "gauge",
            help: "HTTP connections open now.",
            samples: vec![("", load(&stats.connections_open))],
        },
        Family {
            name: "session_ready_connections_peak",
            kind: "gauge",
            help: "Most HTTP connections open at once since the server started.",
            samples: vec![("", load(&stats.connections_peak))],
        },
        Family {
            name: "session_ready_connections_total",
            kind: "counter",
            help: "HTTP connections admitted.",
            samples: vec![("", load(&stats.connections_total))],
        },
        Family {
            name: "session_ready_connections_closed_early_total",
            kind: "counter",
            help: "Connections the server closed to protect other clients, by reason.",
            samples: vec![
                (r#"reason="made_room""#, load(&stats.evicted)),
                (
                    r#"reason="no_first_request""#,
                    load(&stats.first_request_timeouts),
                ),
                (r#"reason="reply_not_read""#, load(&stats.write_stalls)),
            ],
        },
        Family {
            name: "session_ready_requests_total",
            kind: "counter",
            help: "HTTP requests answered.",
            samples: vec![("", load(&stats.requests))],
        },
        Family {
            name: "session_ready_responses_refused_total",
            kind: "counter",
            help: "Requests and connections turned away, by HTTP status and reason.",
            samples: vec![
                (r#"code="413",reason="too_large""#, load(&stats.too_large)),
                (
                    r#"code="429",reason="address_rate_limit""#,
                    load(&stats.rate_limited),
                ),
                (
                    r#"code="429",reason="address_connections""#,
                    load(&stats.refused_per_address),
                ),
                (r#"code="503",reason="full""#, load(&stats.refused_full)),
            ],
        },
        Family {
            name: "session_ready_bytes_sent_total",
            kind: "counter",
            help: "Download payload bytes generated.",
            samples: vec![("", load(&stats.bytes_sent))],
        },
        Family {
            name: "session_ready_bytes_received_total",
            kind: "counter",
            help: "Upload payload bytes received.",
            samples: vec![("", load(&stats.bytes_received))],
        },
        Family {
            name: "session_ready_stun_replies_total",
            kind: "counter",
            help: "STUN Binding replies sent.",
            samples: vec![("", load(&stats.stun_replies))],
        },
        Family {
            name: "session_ready_stun_unanswered_total",
            kind: "counter",
            help: "STUN datagrams not answered, by reason.",
            samples: vec![
                (r#"reason="source_rate_limit""#, load(&stats.stun_dropped)),
                (r#"reason="server_reply_cap""#, load(&stats.stun_shed)),
                (
                    r#"reason="not_a_binding_request""#,
                    load(&stats.stun_ignored),
                ),
            ],
        },
    ];
    let mut out = String::new();
    for family in families {
        let _ = writeln!(out, "# HELP {} {}", family.name, family.help);
        let _ = writeln!(out, "# TYPE {} {}", family.name, family.kind);
        for (labels, value) in family.samples {
            if labels.is_empty() {
                let _ = writeln!(out, "{} {value}", family.name);
            } else {
                let _ = writeln!(out, "{}{{{labels}}} {value}", family.name);
            }
        }
    }
    out
}

fn reply(status: StatusCode, content_type: &'static str, body: String) -> Response<Full<Bytes>> {
    let mut res = Response::new(Full::new(Bytes::from(body)));
    *res.status_mut() = status;
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    res
}

/// Serve `GET /metrics` on `listener` until `stop` changes.
pub async fn serve(
    listener: TcpListener,
    stats: Arc<ServerStats>,
    mut stop: watch::Receiver<bool>,
) {
    // A scraper or two; more wait in the listen queue.
    let slots = Arc::new(Semaphore::new(8));
    loop {
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
            _ = stop.changed() => break,
        };
        let stream = tokio::select! {
            r = listener.accept() => match r {
                Ok((stream, _)) => stream,
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stop.changed() => break,
        };
        let stats = stats.clone();
        let service = service_fn(move |req: Request<Incoming>| {
            let stats = stats.clone();
            async move {
                Ok::<_, Infallible>(match (req.method(), req.uri().path()) {
                    (&Method::GET, "/metrics") => reply(
                        StatusCode::OK,
                        "text/plain; version=0.0.4; charset=utf-8",
                        render(&stats),
                    ),
                    _ => reply(
                        StatusCode::NOT_FOUND,
                        "text/plain; charset=utf-8",
                        "GET /metrics\n".to_string(),
                    ),
                })
            }
        });
        tokio::spawn(async move {
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(Duration::from_secs(5))
                .serve_connection(TokioIo::new(stream), service);
            let _ = tokio::time::timeout(Duration::from_secs(30), conn).await;
            drop(permit);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_family_has_help_type_and_samples() {
        let stats = ServerStats::default();
        stats.too_large.fetch_add(3, Ordering::Relaxed);
        stats.stun_shed.fetch_add(7, Ordering::Relaxed);
        let text = render(&stats);
        assert!(text.contains(
            "session_ready_responses_refused_total{code=\"413\",reason=\"too_large\"} 3\n"
        ));
        assert!(
            text.contains("session_ready_stun_unanswered_total{reason=\"server_reply_cap\"} 7\n")
        );
        let helps = text.lines().filter(|l| l.starts_with("# HELP ")).count();
        let types = text.lines().filter(|l| l.starts_with("# TYPE ")).count();
        assert_eq!(helps, types);
        assert_eq!(helps, 10);
        // Counters are named *_total, as Prometheus expects.
        for line in text.lines().filter(|l| l.ends_with(" counter")) {
            assert!(
                line.split(' ').nth(2).unwrap().ends_with("_total"),
                "{line}"
            );
        }
    }
}
