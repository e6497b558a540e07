//! The probe's call-like STUN stream, told apart from everyone else's traffic.
//!
//! A test's requests carry a random test id and an echo cookie. The first
//! requests ask for a cookie (zeros); the reply carries one, an HMAC of the
//! address it is sent to. A request echoing a valid cookie comes from a
//! sender that receives at its source address (return routability, as in
//! DTLS and QUIC), so it is no reflection victim: it is answered from a larger
//! per-sender budget, apart from the per-address budget that spoofed or
//! neighbouring traffic from the same address uses up. What the server
//! received, answered and refused is counted per test id, and the probe reads
//! it (`GET /__stun?test=…`), so replies the server withheld are never taken
//! for loss on the client's line.
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroUsize;
use std::time::Instant;

use lru::LruCache;
use ring::hmac;
use serde::Serialize;

use crate::net::stun::TAG_LEN;

/// A cookie is good for this long, and for the period before.
const COOKIE_PERIOD_S: u64 = 30;
/// Tests whose counts are kept (each a few dozen bytes).
pub const TRACKED_TESTS: usize = 4_096;

pub struct Cookies {
    key: hmac::Key,
    started: Instant,
}

impl Cookies {
    pub fn new() -> Self {
        let secret: [u8; 32] = rand::random();
        Cookies {
            key: hmac::Key::new(hmac::HMAC_SHA256, &secret),
            started: Instant::now(),
        }
    }

    fn period(&self, now: Instant) -> u64 {
        now.saturating_duration_since(self.started).as_secs() / COOKIE_PERIOD_S
    }

    fn tag(&self, addr: SocketAddr, period: u64) -> [u8; TAG_LEN] {
        let mut input = Vec::with_capacity(26);
        input.extend_from_slice(&period.to_be_bytes());
        match addr.ip() {
            IpAddr::V4(v4) => input.extend_from_slice(&v4.to_ipv6_mapped().octets()),
            IpAddr::V6(v6) => input.extend_from_slice(&v6.octets()),
        }
        input.extend_from_slice(&addr.port().to_be_bytes());
        let full = hmac::sign(&self.key, &input);
        let mut tag = [0u8; TAG_LEN];
        tag.copy_from_slice(&full.as_ref()[..TAG_LEN]);
        tag
    }

    pub fn issue(&self, addr: SocketAddr, now: Instant) -> [u8; TAG_LEN] {
        self.tag(addr, self.period(now))
    }

    /// The cookie was issued to `addr` in this period or the one before.
    pub fn verify(&self, addr: SocketAddr, cookie: &[u8; TAG_LEN], now: Instant) -> bool {
        let period = self.period(now);
        let matches = |p: u64| {
            // Compared in constant time: how long a guess takes tells nothing.
            let tag = self.tag(addr, p);
            tag.iter()
                .zip(cookie)
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
        };
        matches(period) || (period > 0 && matches(period - 1))
    }
}

/// What the server did with one test's requests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub received: u64,
    pub answered: u64,
    /// Withheld by the server's own limits (never sent).
    pub refused: u64,
}

impl Counts {
    fn record(&mut self, answered: bool) {
        self.received += 1;
        if answered {
            self.answered += 1;
        } else {
            self.refused += 1;
        }
    }
}

/// Both phases of a test, as `GET /__stun?test=…` reports them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct TestReport {
    /// Requests asking for a cookie (answered from the per-address budget).
    pub handshake: Counts,
    /// Requests with a valid cookie: the stream the probe measures.
    pub stream: Counts,
}

/// Counts per test id, bounded. Stream entries are made only by requests
/// with a valid cookie, so a flood of made-up ids cannot push a real test's
/// stream counts out; handshake entries are kept apart for the same reason.
pub struct TestTable {
    handshakes: LruCache<[u8; TAG_LEN], Counts>,
    streams: LruCache<[u8; TAG_LEN], Counts>,
}

impl Default for TestTable {
    fn default() -> Self {
        let cap = NonZeroUsize::new(TRACKED_TESTS).expect("non-zero");
        TestTable {
            handshakes: LruCache::new(cap),
            streams: LruCache::new(cap),
        }
    }
}

impl TestTable {
    pub fn record_handshake(&mut self, id: [u8; TAG_LEN], answered: bool) {
        self.handshakes
            .get_or_insert_mut(id, Counts::default)
            .record(answered);
    }

    pub fn record_stream(&mut self, id: [u8; TAG_LEN], answered: bool) {
        self.streams
            .get_or_insert_mut(id, Counts::default)
            .record(answered);
    }

    pub fn report(&self, id: &[u8; TAG_LEN]) -> Option<TestReport> {
        let handshake = self.handshakes.peek(id).copied();
        let stream = self.streams.peek(id).copied();
        if handshake.is_none() && stream.is_none() {
            return None;
        }
        Some(TestReport {
            handshake: handshake.unwrap_or_default(),
            stream: stream.unwrap_or_default(),
        })
    }
}

/// A test id as it appears in `?test=`: 16 hex digits.
pub fn parse_test_id(query: Option<&str>) -> Option<[u8; TAG_LEN]> {
    let hex = query?.split('&').find_map(|p| p.strip_prefix("test="))?;
    if hex.len() != 2 * TAG_LEN {
        return None;
    }
    let mut id = [0u8; TAG_LEN];
    for (i, byte) in id.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_cookie_is_bound_to_its_address_and_port_and_expires() {
        let c = Cookies::new();
        let t0 = Instant::now();
        let a: SocketAddr = "198.51.100.7:40000".parse().unwrap();
        let cookie = c.issue(a, t0);
        assert!(c.verify(a, &cookie, t0));
        assert!(c.verify(a, &cookie, t0 + Duration::from_secs(COOKIE_PERIOD_S)));
        assert!(!c.verify(a, &cookie, t0 + Duration::from_secs(3 * COOKIE_PERIOD_S)));
        // Another port or address of the same network does not inherit it.
        assert!(!c.verify("198.51.100.7:40001".parse().unwrap(), &cookie, t0));
        assert!(!c.verify("198.51.100.8:40000".parse().unwrap(), &cookie, t0));
        assert!(!c.verify(a, &[0; TAG_LEN], t0));
        // Another server (another key) does not accept it either.
        assert!(!Cookies::new().verify(a, &cookie, t0));
    }

    #[test]
    fn counts_are_kept_per_test_and_phase() {
        let mut t = TestTable::default();
        let id = [1; TAG_LEN];
        assert_eq!(t.report(&id), None);
        t.record_handshake(id, true);
        for k in 0..10 {
            t.record_stream(id, k % 5 != 0);
        }
        let r = t.report(&id).unwrap();
        assert_eq!(r.handshake.received, 1);
        assert_eq!(
            r.stream,
            Counts {
                received: 10,
                answered: 8,
                refused: 2
            }
        );
        // A flood of made-up handshake ids never evicts a stream's counts.
        for n in 0..(2 * TRACKED_TESTS as u64) {
            t.record_handshake(n.to_be_bytes(), false);
        }
        assert_eq!(t.report(&id).unwrap().stream.received, 10);
    }

    #[test]
    fn test_ids_are_sixteen_hex_digits() {
        assert_eq!(
            parse_test_id(Some("test=0001020304050607")),
            Some([0, 1, 2, 3, 4, 5, 6, 7])
        );
        assert_eq!(
            parse_test_id(Some("x=1&test=ffffffffffffffff")),
            Some([255; 8])
        );
        assert_eq!(parse_test_id(Some("test=00010203040506")), None);
        assert_eq!(parse_test_id(Some("test=zz01020304050607")), None);
        assert_eq!(parse_test_id(None), None);
    }
}
