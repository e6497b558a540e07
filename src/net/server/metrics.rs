//! `serve --metrics ADDR`: the server's counters as Prometheus text
//! (exposition format 0.0.4) on a separate address, meant to stay private
//! (loopback or an internal network), so the public port shows nothing of
//! the server's load.
//!
//! It keeps its own few connections apart from the public port's, and a
//! newcomer takes the place of the oldest, so clients holding connections
//! open cannot lock the scraper out. It answers only requests whose Host is
//! an IP address, `localhost` or a name the operator gave: a web page that
//! points its own name at this address (DNS rebinding) gets nothing.
use std::collections::VecDeque;
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
use tokio::sync::watch;

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
        Family {
            name: "session_ready_webrtc_offers_total",
            kind: "counter",
            help: "WebRTC data-channel offers (POST /__rtc), by outcome.",
            samples: vec![
                (r#"outcome="answered""#, load(&stats.rtc_offers)),
                (
                    r#"outcome="refused_address_share""#,
                    load(&stats.rtc_refused_address),
                ),
                (r#"outcome="refused_full""#, load(&stats.rtc_refused_full)),
            ],
        },
        Family {
            name: "session_ready_webrtc_peers_open",
            kind: "gauge",
            help: "WebRTC peer connections open.",
            samples: vec![("", load(&stats.rtc_peers_open))],
        },
        Family {
            name: "session_ready_webrtc_peers_closed_total",
            kind: "counter",
            help: "WebRTC peer connections closed by the server's limits, by reason.",
            samples: vec![
                (r#"reason="idle""#, load(&stats.rtc_closed_idle)),
                (
                    r#"reason="not_connected_in_time""#,
                    load(&stats.rtc_closed_connecting),
                ),
                (r#"reason="made_room""#, load(&stats.rtc_evicted)),
            ],
        },
        Family {
            name: "session_ready_webrtc_datagrams_withheld_total",
            kind: "counter",
            help: "Datagrams a WebRTC peer connection did not send: its share before DTLS was spent.",
            samples: vec![("", load(&stats.rtc_withheld_unverified))],
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

/// Connections the metrics address keeps at once (a scraper or two).
const POOL: usize = 8;

/// Whether a request's Host names this server: an IP address, `localhost`,
/// or one of `names`, with or without a port.
pub fn host_allowed(host: Option<&str>, names: &[String]) -> bool {
    let Some(host) = host.map(str::trim) else {
        return false;
    };
    let name = match host.strip_prefix('[') {
        // [v6]:port or [v6]
        Some(rest) => match rest.split_once(']') {
            Some((v6, port)) if port.is_empty() || port.starts_with(':') => {
                return v6.parse::<std::net::Ipv6Addr>().is_ok();
            }
            _ => return false,
        },
        None => host.rsplit_once(':').map_or(host, |(name, _port)| name),
    };
    let name = name.trim_end_matches('.');
    name.parse::<std::net::Ipv4Addr>().is_ok()
        || name.eq_ignore_ascii_case("localhost")
        || names.iter().any(|n| n.eq_ignore_ascii_case(name))
}

/// Serve `GET /metrics` on `listener` until `stop` changes; `names` are the
/// host names accepted besides IP addresses and `localhost`.
pub async fn serve(
    listener: TcpListener,
    stats: Arc<ServerStats>,
    names: Arc<[String]>,
    mut stop: watch::Receiver<bool>,
) {
    let mut open: VecDeque<tokio::task::AbortHandle> = VecDeque::new();
    loop {
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
        open.retain(|task| !task.is_finished());
        if open.len() >= POOL
            && let Some(oldest) = open.pop_front()
        {
            oldest.abort();
        }
        let stats = stats.clone();
        let names = names.clone();
        let service = service_fn(move |req: Request<Incoming>| {
            let stats = stats.clone();
            let names = names.clone();
            async move {
                let host = req
                    .headers()
                    .get(header::HOST)
                    .and_then(|h| h.to_str().ok());
                Ok::<_, Infallible>(if !host_allowed(host, &names) {
                    reply(
                        StatusCode::MISDIRECTED_REQUEST,
                        "text/plain; charset=utf-8",
                        "Metrics are served only to requests addressed to this server by its IP address, \
                         localhost or the name given with --metrics.\n"
                            .to_string(),
                    )
                } else {
                    match (req.method(), req.uri().path()) {
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
                    }
                })
            }
        });
        let task = tokio::spawn(async move {
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(Duration::from_secs(5))
                .serve_connection(TokioIo::new(stream), service);
            let _ = tokio::time::timeout(Duration::from_secs(30), conn).await;
        });
        open.push_back(task.abort_handle());
    }
    for task in open {
        task.abort();
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
        stats.rtc_refused_full.fetch_add(2, Ordering::Relaxed);
        stats.rtc_evicted.store(5, Ordering::Relaxed);
        let text = render(&stats);
        assert!(text.contains("session_ready_webrtc_offers_total{outcome=\"refused_full\"} 2\n"));
        assert!(text.contains("session_ready_webrtc_peers_closed_total{reason=\"made_room\"} 5\n"));
        assert!(text.contains(
            "session_ready_responses_refused_total{code=\"413\",reason=\"too_large\"} 3\n"
        ));
        assert!(
            text.contains("session_ready_stun_unanswered_total{reason=\"server_reply_cap\"} 7\n")
        );
        let helps = text.lines().filter(|l| l.starts_with("# HELP ")).count();
        let types = text.lines().filter(|l| l.starts_with("# TYPE ")).count();
        assert_eq!(helps, types);
        assert_eq!(helps, 14);
        // Counters are named *_total, as Prometheus expects.
        for line in text.lines().filter(|l| l.ends_with(" counter")) {
            assert!(
                line.split(' ').nth(2).unwrap().ends_with("_total"),
                "{line}"
            );
        }
    }

    #[test]
    fn only_this_servers_own_names_are_answered() {
        let names = vec!["metrics.internal".to_string()];
        for ok in [
            "127.0.0.1:9464",
            "10.0.0.5",
            "[::1]:9464",
            "[2001:db8::1]",
            "localhost:9464",
            "LOCALHOST",
            "metrics.internal:9464",
            "metrics.internal.",
        ] {
            assert!(host_allowed(Some(ok), &names), "{ok}");
        }
        for refused in [
            "attacker.example:9464",
            "attacker.example",
            "127.0.0.1.attacker.example",
            "localhost.attacker.example",
            "[::1",
            "[::1]x",
            "",
        ] {
            assert!(!host_allowed(Some(refused), &names), "{refused}");
        }
        assert!(!host_allowed(None, &names));
    }
}
