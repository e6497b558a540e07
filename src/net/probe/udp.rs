//! The UDP stream: STUN Binding requests timed one by one. Loss (with its
//! 95 % interval), round trip and RFC 3550 jitter come from the replies;
//! replies that match no request we sent are ignored.
//!
//! Against a session-ready `serve` the stream is call-like (800 packets a
//! second, in groups of four every 5 ms, as a video call paces its frames):
//! a cookie handshake first proves to the server that we receive at our
//! address, which earns that rate, and every request carries a random test
//! id under which the server counts what it received and refused. Other STUN
//! servers get the gentler audio-like stream of 50 packets a second.
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::time::{Instant, MissedTickBehavior};

use crate::net::model::{ServerCounts, UdpResult};
use crate::net::stats::{Rfc3550Jitter, median, minimum, quantile, wilson_interval};
use crate::net::stun::{self, Class, TAG_LEN, TransactionId};

/// Standard errors for a 95 % interval.
const Z95: f64 = 1.96;

/// How the stream behaves.
#[derive(Debug, Clone, Copy)]
pub(super) struct StreamPlan {
    pub seconds: f64,
    pub interval: Duration,
    /// Requests sent together at each tick.
    pub per_tick: u32,
    /// With no valid reply at all by this time, UDP counts as blocked.
    pub give_up: Duration,
    /// Longest wait for stragglers after the last request.
    pub max_grace: Duration,
}

#[derive(Debug, Clone, PartialEq)]
pub enum UdpOutcome {
    Measured(UdpResult),
    /// Nothing came back at all.
    Blocked(String),
    NotMeasured(String),
}

/// The id and cookie a call-like test's requests carry.
#[derive(Debug, Clone, Copy)]
pub(super) struct Tags {
    pub test: [u8; TAG_LEN],
    pub cookie: [u8; TAG_LEN],
}

/// What the cookie handshake found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Handshake {
    /// A session-ready server that counts this test.
    Cookie([u8; TAG_LEN]),
    /// Answered, without a cookie: a STUN server that does not count tests.
    Plain,
    /// Nothing came back.
    Silent,
}

/// A connected UDP socket to `target`.
pub(super) async fn open(target: SocketAddr) -> Result<UdpSocket, UdpOutcome> {
    let local: SocketAddr = if target.is_ipv4() {
        "0.0.0.0:0".parse().expect("literal address")
    } else {
        "[::]:0".parse().expect("literal address")
    };
    let socket = UdpSocket::bind(local).await.map_err(|e| {
        UdpOutcome::NotMeasured(format!(
            "this computer would not open a socket for it ({}).",
            e.kind()
        ))
    })?;
    // Connected: the kernel drops datagrams from any other address.
    if let Err(e) = socket.connect(target).await {
        return Err(UdpOutcome::NotMeasured(format!(
            "{target} cannot be reached ({}).",
            e.kind()
        )));
    }
    Ok(socket)
}

/// Ask for a cookie every `every` until one comes back or `until`.
pub(super) async fn handshake(
    socket: &UdpSocket,
    test: [u8; TAG_LEN],
    every: Duration,
    until: Instant,
    bytes_used: &AtomicU64,
) -> Handshake {
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut asked: Vec<TransactionId> = Vec::new();
    let mut buf = vec![0u8; 2048];
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                let txid: TransactionId = rand::random();
                let request = stun::test_request(&txid, &test, &[0; TAG_LEN]);
                if socket.send(&request).await.is_ok() {
                    asked.push(txid);
                    bytes_used.fetch_add(request.len() as u64, Ordering::Relaxed);
                }
            }
            received = socket.recv(&mut buf) => {
                let Ok(len) = received else { continue };
                bytes_used.fetch_add(len as u64, Ordering::Relaxed);
                let Ok(msg) = stun::parse(&buf[..len]) else { continue };
                if msg.class != Class::SuccessResponse || !asked.contains(&msg.transaction_id) {
                    continue;
                }
                return match msg.echo_cookie() {
                    Some(cookie) if cookie != [0; TAG_LEN] => Handshake::Cookie(cookie),
                    _ => Handshake::Plain,
                };
            }
            _ = tokio::time::sleep_until(until) => return Handshake::Silent,
        }
    }
}

/// Send the stream on `socket` and time the replies, ending by `deadline`.
pub(super) async fn stream(
    socket: &UdpSocket,
    plan: StreamPlan,
    tags: Option<Tags>,
    deadline: Instant,
    bytes_used: Arc<AtomicU64>,
) -> UdpOutcome {
    let target = match socket.peer_addr() {
        Ok(a) => a.to_string(),
        Err(_) => "the STUN server".to_string(),
    };
    let start = Instant::now();
    let send_until = (start + Duration::from_secs_f64(plan.seconds)).min(deadline);
    let mut ticker = tokio::time::interval(plan.interval);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);

    let mut pending: HashMap<TransactionId, Instant> = HashMap::new();
    let mut sent: u32 = 0;
    let mut rtts: Vec<f64> = Vec::new();
    let mut jitter = Rfc3550Jitter::default();
    let mut ignored: u32 = 0;
    let mut refused = false;
    let mut sending = true;
    let mut grace_end = deadline;
    let mut buf = vec![0u8; 2048];

    loop {
        tokio::select! {
            _ = ticker.tick(), if sending => {
                let now = Instant::now();
                if now >= send_until {
                    sending = false;
                    let p90 = quantile(&rtts, 0.9).unwrap_or(250.0);
                    let grace = Duration::from_secs_f64((4.0 * p90 / 1000.0).max(0.3))
                        .min(plan.max_grace);
                    grace_end = (now + grace).min(deadline);
                } else {
                    for _ in 0..plan.per_tick.max(1) {
                        let txid: TransactionId = rand::random();
                        let request = match tags {
                            Some(t) => stun::test_request(&txid, &t.test, &t.cookie),
                            None => stun::binding_request(&txid, false),
                        };
                        if socket.send(&request).await.is_ok() {
                            pending.insert(txid, now);
                            sent += 1;
                            bytes_used.fetch_add(request.len() as u64, Ordering::Relaxed);
                        }
                    }
                    if rtts.is_empty() && now.duration_since(start) >= plan.give_up {
                        break;
                    }
                }
            }
            received = socket.recv(&mut buf) => {
                let now = Instant::now();
                match received {
                    Ok(len) => {
                        bytes_used.fetch_add(len as u64, Ordering::Relaxed);
                        match stun::parse(&buf[..len]) {
                            Ok(msg)
                                if msg.method == stun::METHOD_BINDING
                                    && matches!(msg.class, Class::SuccessResponse | Class::ErrorResponse) =>
                            {
                                match pending.remove(&msg.transaction_id) {
                                    Some(sent_at) => {
                                        let rtt = now.duration_since(sent_at).as_secs_f64() * 1000.0;
                                        rtts.push(rtt);
                                        jitter.update(rtt);
                                    }
                                    // A late answer to the cookie handshake.
                                    None if msg.echo_cookie().is_some() => {}
                                    // Not ours, or a duplicate: a spoofed or confused reply.
                                    None => ignored += 1,
                                }
                            }
                            _ => ignored += 1,
                        }
                    }
                    // An ICMP "port unreachable" surfaces here on a connected socket.
                    Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => refused = true,
                    Err(_) => {}
                }
            }
            _ = tokio::time::sleep_until(grace_end), if !sending => break,
            _ = tokio::time::sleep_until(deadline) => break,
        }
        if !sending && pending.is_empty() {
            break;
        }
    }

    if rtts.is_empty() {
        if refused {
            return UdpOutcome::NotMeasured(format!(
                "nothing is answering STUN at {target} (the computer there turned the packets away)."
            ));
        }
        if ignored > 0 {
            return UdpOutcome::NotMeasured(format!(
                "the replies from {target} could not be matched to what was sent ({ignored} set aside)."
            ));
        }
        if sent == 0 {
            return UdpOutcome::NotMeasured("there was no time left to run it.".to_string());
        }
        return UdpOutcome::Blocked(format!(
            "none of the {sent} test packets sent to {target} came back. UDP may be blocked on this network; \
             video apps then usually switch to a slower route that still works."
        ));
    }

    // Requests still waiting when the time ran out had no fair chance to be
    // answered: leave the most recent ones out rather than count them as lost.
    let ended = Instant::now();
    let fair_wait = Duration::from_secs_f64(2.0 * quantile(&rtts, 0.9).unwrap_or(0.0) / 1000.0)
        .max(Duration::from_millis(50));
    let too_recent = pending
        .values()
        .filter(|sent_at| ended.duration_since(**sent_at) < fair_wait)
        .count() as u32;
    let counted = sent - too_recent;
    let received = rtts.len() as u32;
    let (loss_pct, loss_ci_pct) = loss_figures(counted.saturating_sub(received), counted);
    UdpOutcome::Measured(UdpResult {
        rtt_ms: round2(median(&rtts).unwrap_or_default()),
        // Averaged over the stream: the RFC 3550 value itself remembers only the last few dozen packets.
        jitter_ms: round2(jitter.mean().unwrap_or(0.0)),
        loss_pct,
        sent: counted,
        received,
        min_rtt_ms: round2(minimum(&rtts).unwrap_or_default()),
        p90_rtt_ms: round2(quantile(&rtts, 0.9).unwrap_or_default()),
        ignored_replies: ignored,
        packets_per_s: round2(f64::from(plan.per_tick.max(1)) / plan.interval.as_secs_f64()),
        loss_ci_pct,
        server_counts: None,
    })
}

/// Loss in percent and its 95 % Wilson interval, both rounded to 0.01.
fn loss_figures(lost: u32, trials: u32) -> (f64, Option<[f64; 2]>) {
    let pct = round2(100.0 * f64::from(lost) / f64::from(trials.max(1)));
    let ci =
        wilson_interval(lost, trials, Z95).map(|(lo, hi)| [round2(100.0 * lo), round2(100.0 * hi)]);
    (pct, ci)
}

/// Share of the stream the server may withhold before the figure says more
/// about the server than about the line.
const MOST_REFUSED: f64 = 0.01;

/// Take the server's own count into account: requests it refused were
/// never answered, and are not the line's loss. A few are left out of the
/// count; more than that, and the test measured the server, not the line.
pub fn with_server_counts(mut result: UdpResult, counts: ServerCounts) -> UdpOutcome {
    result.server_counts = Some(counts);
    if counts.refused == 0 {
        return UdpOutcome::Measured(result);
    }
    if counts.refused as f64 > MOST_REFUSED * f64::from(result.sent.max(1)) {
        return UdpOutcome::NotMeasured(format!(
            "the measurement server was busy and left {} of the {} test packets it received \
             unanswered, so the test says nothing about your connection. Trying again in a few \
             minutes may help.",
            counts.refused, counts.received
        ));
    }
    let refused = u32::try_from(counts.refused).unwrap_or(u32::MAX);
    let trials = result.sent.saturating_sub(refused);
    let (pct, ci) = loss_figures(trials.saturating_sub(result.received), trials);
    result.sent = trials;
    result.loss_pct = pct;
    result.loss_ci_pct = ci;
    UdpOutcome::Measured(result)
}

/// What a browser's data-channel stream left behind (src/page/assets/rtc.js).
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct StreamSamples {
    /// Packets sent.
    pub sent: u32,
    /// Round trips of the answered ones, in milliseconds, in the order the answers arrived.
    pub rtts_ms: Vec<f64>,
    /// For each packet still unanswered at the end, how long ago it was sent (ms).
    pub unanswered_ms: Vec<f64>,
    pub packets_per_s: f64,
    #[serde(default)]
    pub ignored_replies: u32,
}

/// Loss with its interval, round trip and RFC 3550 jitter from a browser's
/// samples, by the rules `stream` applies to its own (the fair wait for the
/// last requests, the Wilson interval, jitter averaged over the stream).
/// Needs at least one answer.
pub fn figures(samples: &StreamSamples) -> UdpResult {
    let rtts = &samples.rtts_ms;
    let mut jitter = Rfc3550Jitter::default();
    for rtt in rtts {
        jitter.update(*rtt);
    }
    // Requests still waiting when the time ran out had no fair chance to be
    // answered: leave the most recent ones out rather than count them as lost.
    let fair_wait_ms = (2.0 * quantile(rtts, 0.9).unwrap_or(0.0)).max(50.0);
    let too_recent = samples
        .unanswered_ms
        .iter()
        .filter(|age| **age < fair_wait_ms)
        .count() as u32;
    let counted = samples.sent.saturating_sub(too_recent);
    let received = (rtts.len() as u32).min(counted);
    let (loss_pct, loss_ci_pct) = loss_figures(counted.saturating_sub(received), counted);
    UdpResult {
        rtt_ms: round2(median(rtts).unwrap_or_default()),
        // Averaged over the stream: the RFC 3550 value itself remembers only the last few dozen packets.
        jitter_ms: round2(jitter.mean().unwrap_or(0.0)),
        loss_pct,
        sent: counted,
        received,
        min_rtt_ms: round2(minimum(rtts).unwrap_or_default()),
        p90_rtt_ms: round2(quantile(rtts, 0.9).unwrap_or_default()),
        ignored_replies: samples.ignored_replies,
        packets_per_s: round2(samples.packets_per_s),
        loss_ci_pct,
        server_counts: None,
    }
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measured(sent: u32, received: u32) -> UdpResult {
        let (loss_pct, loss_ci_pct) = loss_figures(sent - received, sent);
        UdpResult {
            rtt_ms: 20.0,
            jitter_ms: 1.0,
            loss_pct,
            sent,
            received,
            min_rtt_ms: 19.0,
            p90_rtt_ms: 22.0,
            ignored_replies: 0,
            packets_per_s: 800.0,
            loss_ci_pct,
            server_counts: None,
        }
    }

    #[test]
    fn loss_comes_with_its_interval() {
        let r = measured(2_000, 1_960);
        assert_eq!(r.loss_pct, 2.0);
        let [lo, hi] = r.loss_ci_pct.unwrap();
        assert!(lo > 1.4 && lo < 2.0 && hi > 2.0 && hi < 2.8, "{lo} {hi}");
    }

    /// A server that withheld much of the stream (a flood against the
    /// client's address used up its budget) makes the test "server busy",
    /// never loss on the line; a few withheld are simply not counted.
    #[test]
    fn the_servers_own_refusals_are_never_line_loss() {
        let flooded = with_server_counts(
            measured(2_000, 1_400),
            ServerCounts {
                received: 2_000,
                answered: 1_400,
                refused: 600,
            },
        );
        match flooded {
            UdpOutcome::NotMeasured(why) => assert!(why.contains("busy"), "{why}"),
            other => panic!("{other:?}"),
        }
        let few = with_server_counts(
            measured(2_000, 1_985),
            ServerCounts {
                received: 1_995,
                answered: 1_985,
                refused: 10,
            },
        );
        let UdpOutcome::Measured(r) = few else {
            panic!("{few:?}")
        };
        assert_eq!((r.sent, r.received), (1_990, 1_985));
        assert_eq!(r.loss_pct, 0.25);
        assert!(r.server_counts.is_some());
    }
}
