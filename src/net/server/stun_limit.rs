//! Which STUN requests get a reply: a token bucket per source address and
//! one for the whole server, both constant-time per packet.
//!
//! UDP source addresses can be spoofed, so the per-source table is a bounded
//! least-recently-used map: a flood of new sources pushes out the sources
//! quiet for the longest, never a client in the middle of its test (which
//! sends every 20 ms). The global bucket caps what the server reflects in
//! all; sources seen only a couple of times may use just its upper half, so a
//! flood of one-packet sources cannot take the replies that clients already
//! being answered need. An IPv6 source is counted by its /64, as the TCP
//! side counts it (a home gets a whole /64: otherwise one sender could ask
//! from new addresses without end).
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroUsize;
use std::time::Instant;

use lru::LruCache;

use super::admission::address_key;

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

/// A token bucket.
struct Bucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl Bucket {
    fn new(rate: f64, now: Instant) -> Self {
        let burst = rate.max(1.0);
        Bucket {
            rate,
            burst,
            tokens: burst,
            last: now,
        }
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        self.last = now;
    }
}

/// Budgets for senders that proved they receive at their address (see
/// `stun_tests`): one bucket per address and port, and one for them all,
/// apart from the per-address buckets that unverified traffic uses.
struct Verified {
    senders: LruCache<SocketAddr, Bucket>,
    per_sender: f64,
    all: Bucket,
}

/// Cookie requests answered a second per address, in a budget of their own:
/// a probe asks every 20 ms until the first reply (two or three probes
/// behind one router fit), and ordinary STUN traffic from the same address,
/// spoofed or a neighbour's, cannot use it up.
pub const HANDSHAKES_PER_S: f64 = 100.0;

pub struct ReplyLimiter {
    verified: Verified,
    handshakes: LruCache<IpAddr, Bucket>,
    handshakes_per_s: f64,
    per_source_rate: f64,
    per_source_burst: f64,
    sources: LruCache<IpAddr, Source>,
    global_rate: f64,
    global_burst: f64,
    global_tokens: f64,
    global_last: Instant,
}

impl ReplyLimiter {
    /// `per_source` and `global` are replies a second to unverified senders;
    /// `verified` and `verified_total` the same for verified ones.
    pub fn new(
        per_source: f64,
        global: f64,
        (verified, verified_total): (f64, f64),
        now: Instant,
    ) -> Self {
        let global_burst = global.max(2.0);
        ReplyLimiter {
            verified: Verified {
                senders: LruCache::new(NonZeroUsize::new(TRACKED_SOURCES).expect("non-zero")),
                per_sender: verified,
                all: Bucket::new(verified_total, now),
            },
            handshakes: LruCache::new(NonZeroUsize::new(TRACKED_SOURCES).expect("non-zero")),
            handshakes_per_s: HANDSHAKES_PER_S,
            per_source_rate: per_source,
            per_source_burst: per_source.max(1.0),
            sources: LruCache::new(NonZeroUsize::new(TRACKED_SOURCES).expect("non-zero")),
            global_rate: global,
            global_burst,
            global_tokens: global_burst,
            global_last: now,
        }
    }

    /// Cookie requests answered a second per address (default [`HANDSHAKES_PER_S`]).
    pub fn with_handshakes_per_s(mut self, per_s: f64) -> Self {
        self.handshakes_per_s = per_s;
        self
    }

    pub fn check(&mut self, ip: IpAddr, now: Instant) -> Verdict {
        let ip = address_key(ip);
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

    /// A request asking for a cookie. Unverified, so it counts against the
    /// server's total like a new source's (its upper half only).
    pub fn check_handshake(&mut self, ip: IpAddr, now: Instant) -> Verdict {
        let ip = address_key(ip);
        let elapsed = now
            .saturating_duration_since(self.global_last)
            .as_secs_f64();
        self.global_tokens =
            (self.global_tokens + elapsed * self.global_rate).min(self.global_burst);
        self.global_last = now;
        let rate = self.handshakes_per_s;
        let bucket = self
            .handshakes
            .get_or_insert_mut(ip, || Bucket::new(rate, now));
        bucket.refill(now);
        if bucket.tokens < 1.0 {
            return Verdict::SourceLimited;
        }
        if self.global_tokens - 1.0 < self.global_burst / 2.0 {
            return Verdict::ServerBusy;
        }
        bucket.tokens -= 1.0;
        self.global_tokens -= 1.0;
        Verdict::Reply
    }

    /// A request from a sender with a valid echo cookie.
    pub fn check_verified(&mut self, from: SocketAddr, now: Instant) -> Verdict {
        let v = &mut self.verified;
        v.all.refill(now);
        let per_sender = v.per_sender;
        let sender = v
            .senders
            .get_or_insert_mut(from, || Bucket::new(per_sender, now));
        sender.refill(now);
        if sender.tokens < 1.0 {
            return Verdict::SourceLimited;
        }
        if v.all.tokens < 1.0 {
            return Verdict::ServerBusy;
        }
        sender.tokens -= 1.0;
        v.all.tokens -= 1.0;
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
        let mut l = ReplyLimiter::new(10.0, 10_000.0, (1_000.0, 1_000.0), t0);
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
        let mut l = ReplyLimiter::new(200.0, 5_000.0, (1_000.0, 40_000.0), t0);
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
        let mut l = ReplyLimiter::new(200.0, 1_000.0, (1_000.0, 40_000.0), t0);
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

    /// A verified sender has its own budget: traffic from its address
    /// without a cookie (spoofed, or a neighbour behind the same router)
    /// uses up the address's budget but never the sender's.
    #[test]
    fn a_flood_from_the_clients_own_address_leaves_a_verified_sender_alone() {
        let t0 = Instant::now();
        let mut l = ReplyLimiter::new(200.0, 5_000.0, (1_000.0, 40_000.0), t0);
        let client: SocketAddr = "198.51.100.7:50000".parse().unwrap();
        let (mut answered, mut flood_answered) = (0, 0);
        // Two seconds: 800 verified requests a second, 2,000 plain ones from the same address.
        for i in 0..5_600u32 {
            let now = t0 + Duration::from_micros(u64::from(i) * 357);
            if i % 7 < 2 {
                if l.check_verified(client, now) == Verdict::Reply {
                    answered += 1;
                }
            } else if l.check(client.ip(), now) == Verdict::Reply {
                flood_answered += 1;
            }
        }
        assert_eq!(answered, 1_600);
        assert!(flood_answered <= 200 + 400, "{flood_answered}");
        // Its cookie request, too, has a budget the plain flood does not touch.
        assert_eq!(
            l.check_handshake(client.ip(), t0 + Duration::from_secs(2)),
            Verdict::Reply
        );
        // Past its own budget a verified sender is limited like anyone.
        let greedy: SocketAddr = "198.51.100.9:1".parse().unwrap();
        let later = t0 + Duration::from_secs(10);
        let got = (0..3_000)
            .filter(|_| l.check_verified(greedy, later) == Verdict::Reply)
            .count();
        assert_eq!(got, 1_000);
    }

    /// An IPv6 sender is one /64: new addresses in it share one budget for
    /// plain requests and one for cookie requests, as they share the TCP
    /// side's limits; another /64 has its own.
    #[test]
    fn ipv6_sources_are_counted_by_their_64() {
        let t0 = Instant::now();
        let mut l =
            ReplyLimiter::new(200.0, 5_000.0, (1_000.0, 40_000.0), t0).with_handshakes_per_s(50.0);
        let in_64 = |n: u16| -> IpAddr { format!("2001:db8:1:2::{n:x}").parse().unwrap() };
        let plain = (0..1_000u16)
            .filter(|n| l.check(in_64(*n), t0) == Verdict::Reply)
            .count();
        assert_eq!(plain, 200);
        let cookies = (1_000..2_000u16)
            .filter(|n| l.check_handshake(in_64(*n), t0) == Verdict::Reply)
            .count();
        assert_eq!(cookies, 50);
        let elsewhere: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(l.check(elsewhere, t0), Verdict::Reply);
        assert_eq!(l.check_handshake(elsewhere, t0), Verdict::Reply);
        // A thousand addresses of one /64 take one place in the table.
        assert_eq!(l.tracked(), 2);
    }

    /// The verified senders' shared budget is the server's own limit: when
    /// it runs out, the refusal says "server busy".
    #[test]
    fn verified_senders_share_a_total_budget() {
        let t0 = Instant::now();
        let mut l = ReplyLimiter::new(200.0, 5_000.0, (1_000.0, 1_500.0), t0);
        let verdicts: Vec<Verdict> = (0..4u16)
            .flat_map(|port| {
                let from = SocketAddr::new("198.51.100.7".parse().unwrap(), port + 1);
                (0..600).map(move |_| from).collect::<Vec<_>>()
            })
            .map(|from| l.check_verified(from, t0))
            .collect();
        let replies = verdicts.iter().filter(|v| **v == Verdict::Reply).count();
        assert_eq!(replies, 1_500);
        assert!(verdicts.contains(&Verdict::ServerBusy));
    }
}
