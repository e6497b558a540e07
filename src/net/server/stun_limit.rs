//! Which STUN requests get a reply: a token bucket per source address and
//! one for the whole server, both constant-time per packet.
//!
//! UDP source addresses can be spoofed, so the per-source table is a bounded
//! least-recently-used map: a flood of new sources pushes out the sources
//! quiet for the longest, never a client in the middle of its test (which
//! sends every 20 ms). The global bucket caps what the server reflects in
//! all; sources seen only a couple of times may use just its upper half, so a
//! flood of one-packet sources cannot take the replies that clients already
//! being answered need.
use std::net::IpAddr;
use std::num::NonZeroUsize;
use std::time::Instant;

use lru::LruCache;

/// Source addresses tracked at once.
pub const TRACKED_SOURCES: usize = 16_384;
/// Requests after which a source counts as a client mid-test.
const ESTABLISHED_AFTER: u32 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Reply,
    /// This source asks faster than its share.
    SourceLimited,
    /// The server as a whole is at its reply cap.
    ServerBusy,
}

struct Source {
    tokens: f64,
    last: Instant,
    seen: u32,
}

pub struct ReplyLimiter {
    per_source_rate: f64,
    per_source_burst: f64,
    sources: LruCache<IpAddr, Source>,
    global_rate: f64,
    global_burst: f64,
    global_tokens: f64,
    global_last: Instant,
}

impl ReplyLimiter {
    /// `per_source` and `global` are replies a second.
    pub fn new(per_source: f64, global: f64, now: Instant) -> Self {
        let global_burst = global.max(2.0);
        ReplyLimiter {
            per_source_rate: per_source,
            per_source_burst: per_source.max(1.0),
            sources: LruCache::new(NonZeroUsize::new(TRACKED_SOURCES).expect("non-zero")),
            global_rate: global,
            global_burst,
            global_tokens: global_burst,
            global_last: now,
        }
    }

    pub fn check(&mut self, ip: IpAddr, now: Instant) -> Verdict {
        let elapsed = now
            .saturating_duration_since(self.global_last)
            .as_secs_f64();
        self.global_tokens =
            (self.global_tokens + elapsed * self.global_rate).min(self.global_burst);
        self.global_last = now;

        let burst = self.per_source_burst;
        // `get_mut` marks the source as recently used; `push` forgets the least recent.
        if self.sources.get_mut(&ip).is_none() {
            self.sources.push(
                ip,
                Source {
                    tokens: burst,
                    last: now,
                    seen: 0,
                },
            );
        }
        let source = self.sources.get_mut(&ip).expect("just inserted");
        let refill =
            now.saturating_duration_since(source.last).as_secs_f64() * self.per_source_rate;
        source.tokens = (source.tokens + refill).min(burst);
        source.last = now;
        source.seen = source.seen.saturating_add(1);
        if source.tokens < 1.0 {
            return Verdict::SourceLimited;
        }
        let floor = if source.seen > ESTABLISHED_AFTER {
            0.0
        } else {
            self.global_burst / 2.0
        };
        if self.global_tokens - 1.0 < floor {
            return Verdict::ServerBusy;
        }
        source.tokens -= 1.0;
        self.global_tokens -= 1.0;
        Verdict::Reply
    }

    #[cfg(test)]
    pub fn tracked(&self) -> usize {
        self.sources.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;
    use std::time::Duration;

    fn spoofed(n: u32) -> IpAddr {
        IpAddr::V4(Ipv4Addr::from(0x0A00_0000 + n))
    }

    #[test]
    fn a_source_gets_a_burst_then_its_steady_rate() {
        let t0 = Instant::now();
        let mut l = ReplyLimiter::new(10.0, 10_000.0, t0);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let allowed = (0..50)
            .filter(|_| l.check(ip, t0) == Verdict::Reply)
            .count();
        assert_eq!(allowed, 10);
        let t1 = t0 + Duration::from_secs(1);
        let allowed = (0..50)
            .filter(|_| l.check(ip, t1) == Verdict::Reply)
            .count();
        assert_eq!(allowed, 10);
        assert_eq!(l.check("192.0.2.2".parse().unwrap(), t1), Verdict::Reply);
    }

    /// 12,000 spoofed sources at 3,000 a second, with a real client sending
    /// 50 a second among them: the table stays bounded, and the client is answered every time.
    #[test]
    fn a_flood_of_spoofed_sources_never_crowds_out_a_client_mid_test() {
        let t0 = Instant::now();
        let mut l = ReplyLimiter::new(200.0, 5_000.0, t0);
        let client: IpAddr = "198.51.100.7".parse().unwrap();
        let mut answered = 0;
        let mut asked = 0;
        for i in 0..40_000u32 {
            let now = t0 + Duration::from_micros(u64::from(i) * 333);
            l.check(spoofed(i % 12_000 + (i / 12_000) * 20_000), now);
            if i % 60 == 0 {
                asked += 1;
                if l.check(client, now) == Verdict::Reply {
                    answered += 1;
                }
            }
            assert!(l.tracked() <= TRACKED_SOURCES);
        }
        assert_eq!(answered, asked);
    }

    /// Past the global cap, new sources are shed first: a client already
    /// being answered keeps its replies while the flood takes only the rest.
    #[test]
    fn over_the_global_cap_new_sources_are_shed_before_established_ones() {
        let t0 = Instant::now();
        let mut l = ReplyLimiter::new(200.0, 1_000.0, t0);
        let client: IpAddr = "198.51.100.7".parse().unwrap();
        for k in 0..5 {
            assert_eq!(
                l.check(client, t0 + Duration::from_millis(k)),
                Verdict::Reply
            );
        }
        let (mut flood_replies, mut busy, mut client_ok, mut client_asked) = (0, 0, 0, 0);
        // Two seconds of 10,000 new sources a second.
        for i in 0..20_000u32 {
            let now = t0 + Duration::from_micros(10_000 + u64::from(i) * 100);
            match l.check(spoofed(i), now) {
                Verdict::Reply => flood_replies += 1,
                Verdict::ServerBusy => busy += 1,
                Verdict::SourceLimited => {}
            }
            if i % 200 == 0 {
                client_asked += 1;
                if l.check(client, now) == Verdict::Reply {
                    client_ok += 1;
                }
            }
        }
        assert_eq!(client_ok, client_asked);
        assert!(busy > 15_000, "{busy}");
        // Half the one-second burst plus two seconds of refill, at most.
        assert!(flood_replies <= 500 + 2_000, "{flood_replies}");
    }
}
