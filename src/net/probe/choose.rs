//! Several measurement servers (a clinic network): a race of idle round
//! trips to all of them at once, under a second in all, and the test then
//! runs against the nearest. Servers that cannot be reached in that time are
//! skipped, each with its reason.
use std::time::Duration;

use tokio::time::Instant;

use super::{ProbeConfig, http, resolve};
use crate::net::model::{ServerCandidate, ServerChoice};

/// The whole race, including name lookups and connecting.
pub const RACE: Duration = Duration::from_millis(900);
/// Round trips wanted from each server (the lowest counts).
const PINGS: usize = 3;

/// The servers in `--server` or a clinic file's `server`: URLs separated by
/// commas or spaces.
pub fn server_list(text: &str) -> Vec<String> {
    text.split([',', ' ', '\t', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// The lowest idle round trip to `server` before `deadline`, or why there was none.
async fn lowest_rtt(server: &str, config: &ProbeConfig, deadline: Instant) -> Result<f64, String> {
    let url = http::parse_server_url(server)?;
    let proxy = http::proxy_for(config.proxy.as_deref(), &url);
    let host = url.host_str().unwrap_or_default().to_string();
    let port = url.port_or_known_default().unwrap_or(443);
    let resolved = match proxy {
        Some(_) => None,
        None => Some(
            resolve(
                &host,
                port,
                deadline.saturating_duration_since(Instant::now()),
            )
            .await?,
        ),
    };
    let target = http::Target {
        base: url.as_str().trim_end_matches('/').to_string(),
        host,
        port,
        resolved,
        proxy,
    };
    let client = http::client(&target, config)?;
    let mut best: Option<f64> = None;
    for _ in 0..PINGS {
        match tokio::time::timeout_at(deadline, http::ping(&client, &target)).await {
            Ok(Ok(pong)) => best = Some(best.map_or(pong.rtt_ms, |b| b.min(pong.rtt_ms))),
            Ok(Err(reason)) => return best.ok_or(reason),
            Err(_) => break,
        }
    }
    best.ok_or_else(|| {
        format!(
            "{} did not answer within {:.1} seconds.",
            target.display(),
            RACE.as_secs_f64()
        )
    })
}

/// Race `servers` and return the nearest (the first one when none answered,
/// so the test itself says why), with what each one answered.
pub async fn nearest(servers: &[String], config: &ProbeConfig) -> (String, ServerChoice) {
    let deadline = Instant::now() + RACE;
    let results =
        futures_util::future::join_all(servers.iter().map(|s| lowest_rtt(s, config, deadline)))
            .await;
    let candidates: Vec<ServerCandidate> = servers
        .iter()
        .zip(results)
        .map(|(server, result)| match result {
            Ok(rtt) => ServerCandidate {
                server: server.clone(),
                rtt_ms: Some((rtt * 100.0).round() / 100.0),
                reason: None,
            },
            Err(reason) => ServerCandidate {
                server: server.clone(),
                rtt_ms: None,
                reason: Some(reason),
            },
        })
        .collect();
    let chosen = candidates
        .iter()
        .filter_map(|c| c.rtt_ms.map(|rtt| (rtt, &c.server)))
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .map_or_else(|| servers[0].clone(), |(_, s)| s.clone());
    (chosen, ServerChoice { candidates })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_are_split_on_commas_and_spaces() {
        assert_eq!(
            server_list(" https://a.example, https://b.example:8080\thttp://c "),
            ["https://a.example", "https://b.example:8080", "http://c"]
        );
        assert_eq!(
            server_list("https://only.example"),
            ["https://only.example"]
        );
        assert!(server_list(" , ").is_empty());
    }
}
