//! The audio-like UDP stream: STUN Binding requests at a call's audio packet
//! rate, timed one by one. Loss, round trip and RFC 3550 jitter come from
//! the replies; replies that match no request we sent are ignored.
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::time::{Instant, MissedTickBehavior};

use crate::net::model::UdpResult;
use crate::net::stats::{Rfc3550Jitter, median, minimum, quantile};
use crate::net::stun::{self, Class, TransactionId};

/// How the stream behaves.
#[derive(Debug, Clone, Copy)]
pub(super) struct StreamPlan {
    pub seconds: f64,
    pub interval: Duration,
    /// With no valid reply at all by this time, UDP counts as blocked.
    pub give_up: Duration,
    /// Longest wait for stragglers after the last request.
    pub max_grace: Duration,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum UdpOutcome {
    Measured(UdpResult),
    /// Nothing came back at all.
    Blocked(String),
    NotMeasured(String),
}

/// Send the stream to `target` and time the replies, ending by `deadline`.
pub(super) async fn audio_stream(
    target: SocketAddr,
    plan: StreamPlan,
    deadline: Instant,
    bytes_used: Arc<AtomicU64>,
) -> UdpOutcome {
    let local: SocketAddr = if target.is_ipv4() {
        "0.0.0.0:0".parse().expect("literal address")
    } else {
        "[::]:0".parse().expect("literal address")
    };
    let socket = match UdpSocket::bind(local).await {
        Ok(s) => s,
        Err(e) => {
            return UdpOutcome::NotMeasured(format!(
                "this computer would not open a socket for it ({}).",
                e.kind()
            ));
        }
    };
    // Connected: the kernel drops datagrams from any other address.
    if let Err(e) = socket.connect(target).await {
        return UdpOutcome::NotMeasured(format!("{target} cannot be reached ({}).", e.kind()));
    }

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
                    let txid: TransactionId = rand::random();
                    let request = stun::binding_request(&txid, false);
                    if socket.send(&request).await.is_ok() {
                        pending.insert(txid, now);
                        sent += 1;
                        bytes_used.fetch_add(request.len() as u64, Ordering::Relaxed);
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
            "none of the {sent} audio-like packets sent to {target} came back. UDP may be blocked on this network; \
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
    let lost = counted.saturating_sub(received);
    UdpOutcome::Measured(UdpResult {
        rtt_ms: round2(median(&rtts).unwrap_or_default()),
        jitter_ms: round2(jitter.value().unwrap_or(0.0)),
        loss_pct: round2(100.0 * lost as f64 / counted.max(1) as f64),
        sent: counted,
        received,
        min_rtt_ms: round2(minimum(&rtts).unwrap_or_default()),
        p90_rtt_ms: round2(quantile(&rtts, 0.9).unwrap_or_default()),
        ignored_replies: ignored,
        packets_per_s: round2(1.0 / plan.interval.as_secs_f64()),
    })
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}
