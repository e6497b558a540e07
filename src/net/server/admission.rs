//! Who may open a connection or start a transfer, per client address.
//!
//! Every operation is constant-time: addresses with open connections live in
//! one map (at most one entry per open connection), and addresses that have
//! gone quiet move to a bounded least-recently-used map that remembers their
//! byte budget for a while. When that map is full the address quiet for the
//! longest is forgotten, so an attacker with many addresses cannot push out
//! anyone who is still connected.
//!
//! An IPv6 client is counted by its /64: one home or phone gets a whole /64
//! and may use any address in it, so counting whole addresses would give it
//! unlimited shares.
use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroUsize;
use std::time::Instant;

use lru::LruCache;

/// Per-address limits (see `ServerConfig` for the defaults and why).
#[derive(Debug, Clone, Copy)]
pub struct AddressLimits {
    pub connections: u32,
    /// Transfers (downloads and uploads with a body) in flight at once.
    pub streams: u32,
    /// Bytes per minute, down and up together, as a token bucket.
    pub bytes_per_minute: u64,
}

/// Why a connection or transfer was turned away, and when to come back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    TooManyConnections,
    TooManyStreams,
    OverByteBudget { retry_after_s: u64 },
}

impl Refusal {
    pub fn retry_after_s(self) -> u64 {
        match self {
            Refusal::TooManyConnections | Refusal::TooManyStreams => 2,
            Refusal::OverByteBudget { retry_after_s } => retry_after_s,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    connections: u32,
    streams: u32,
    tokens: f64,
    refilled: Instant,
}

impl Entry {
    fn idle(&self) -> bool {
        self.connections == 0 && self.streams == 0
    }
}

/// What a client address is counted as: an IPv4 address as itself (also
/// when it arrives IPv4-mapped on a dual-stack socket), an IPv6 address by its /64.
pub fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(v6.to_bits() & !((1u128 << 64) - 1))),
        },
        v4 => v4,
    }
}

/// How many quiet addresses keep their byte budget.
const RESTING_CAPACITY: usize = 16_384;

pub struct AddressTable {
    limits: AddressLimits,
    active: HashMap<IpAddr, Entry>,
    resting: LruCache<IpAddr, Entry>,
}

impl AddressTable {
    pub fn new(limits: AddressLimits) -> Self {
        AddressTable {
            limits,
            active: HashMap::new(),
            resting: LruCache::new(NonZeroUsize::new(RESTING_CAPACITY).expect("non-zero")),
        }
    }

    fn capacity(&self) -> f64 {
        self.limits.bytes_per_minute as f64
    }

    fn refill_per_s(&self) -> f64 {
        self.capacity() / 60.0
    }

    /// The entry for `ip`, made active (from the resting map, or fresh).
    fn activate(&mut self, ip: IpAddr, now: Instant) -> &mut Entry {
        let capacity = self.capacity();
        let refill = self.refill_per_s();
        if !self.active.contains_key(&ip) {
            let entry = self.resting.pop(&ip).unwrap_or(Entry {
                connections: 0,
                streams: 0,
                tokens: capacity,
                refilled: now,
            });
            self.active.insert(ip, entry);
        }
        let entry = self.active.get_mut(&ip).expect("just inserted");
        let elapsed = now.saturating_duration_since(entry.refilled).as_secs_f64();
        entry.tokens = (entry.tokens + elapsed * refill).min(capacity);
        entry.refilled = now;
        entry
    }

    /// Move `ip` to the resting map once nothing of it is open.
    fn settle(&mut self, ip: IpAddr) {
        if self.active.get(&ip).is_some_and(Entry::idle)
            && let Some(entry) = self.active.remove(&ip)
        {
            self.resting.push(ip, entry);
        }
    }

    /// Count one more connection from `ip`, unless it already has its share.
    pub fn open_connection(&mut self, ip: IpAddr, now: Instant) -> Result<(), Refusal> {
        let ip = address_key(ip);
        let limit = self.limits.connections;
        let entry = self.activate(ip, now);
        if entry.connections >= limit {
            self.settle(ip);
            return Err(Refusal::TooManyConnections);
        }
        entry.connections += 1;
        Ok(())
    }

    pub fn close_connection(&mut self, ip: IpAddr) {
        let ip = address_key(ip);
        if let Some(entry) = self.active.get_mut(&ip) {
            entry.connections = entry.connections.saturating_sub(1);
        }
        self.settle(ip);
    }

    /// Connections open from `ip` now.
    #[cfg(test)]
    pub fn connections(&self, ip: IpAddr) -> u32 {
        let ip = address_key(ip);
        self.active.get(&ip).map_or(0, |e| e.connections)
    }

    /// Start a transfer of `bytes` from `ip`: one stream and `bytes` of budget.
    pub fn start_transfer(&mut self, ip: IpAddr, bytes: u64, now: Instant) -> Result<(), Refusal> {
        let ip = address_key(ip);
        let streams = self.limits.streams;
        let capacity = self.capacity();
        let refill = self.refill_per_s();
        let entry = self.activate(ip, now);
        let result = if entry.streams >= streams {
            Err(Refusal::TooManyStreams)
        } else if (bytes as f64) > entry.tokens {
            // A request bigger than a whole minute's budget waits for a full bucket.
            let want = (bytes as f64).min(capacity);
            let wait = ((want - entry.tokens).max(0.0) / refill).ceil();
            Err(Refusal::OverByteBudget {
                retry_after_s: (wait as u64).clamp(1, 60),
            })
        } else {
            entry.tokens -= bytes as f64;
            entry.streams += 1;
            Ok(())
        };
        if result.is_err() {
            self.settle(ip);
        }
        result
    }

    /// A transfer ended; `unused` bytes of what it reserved were never moved.
    pub fn finish_transfer(&mut self, ip: IpAddr, unused: u64) {
        let ip = address_key(ip);
        let capacity = self.capacity();
        if let Some(entry) = self.active.get_mut(&ip) {
            entry.streams = entry.streams.saturating_sub(1);
            entry.tokens = (entry.tokens + unused as f64).min(capacity);
        }
        self.settle(ip);
    }

    /// Addresses tracked (active, resting).
    #[cfg(test)]
    pub fn tracked(&self) -> (usize, usize) {
        (self.active.len(), self.resting.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn limits() -> AddressLimits {
        AddressLimits {
            connections: 3,
            streams: 2,
            bytes_per_minute: 60_000,
        }
    }

    fn ip(n: u32) -> IpAddr {
        IpAddr::V4(std::net::Ipv4Addr::from(0x0A00_0000 + n))
    }

    #[test]
    fn connections_are_capped_per_address_and_freed_on_close() {
        let mut t = AddressTable::new(limits());
        let now = Instant::now();
        for _ in 0..3 {
            t.open_connection(ip(1), now).unwrap();
        }
        assert_eq!(
            t.open_connection(ip(1), now),
            Err(Refusal::TooManyConnections)
        );
        // Another address is unaffected.
        t.open_connection(ip(2), now).unwrap();
        t.close_connection(ip(1));
        t.open_connection(ip(1), now).unwrap();
        for _ in 0..3 {
            t.close_connection(ip(1));
        }
        t.close_connection(ip(2));
        assert_eq!(
            t.tracked(),
            (0, 2),
            "quiet addresses rest, nothing stays active"
        );
    }

    #[test]
    fn streams_and_bytes_are_capped_with_a_retry_time() {
        let mut t = AddressTable::new(limits());
        let now = Instant::now();
        t.start_transfer(ip(1), 20_000, now).unwrap();
        t.start_transfer(ip(1), 20_000, now).unwrap();
        assert_eq!(
            t.start_transfer(ip(1), 1, now),
            Err(Refusal::TooManyStreams)
        );
        t.finish_transfer(ip(1), 0);
        // 20,000 left in the bucket; 30,000 more needs 10 s at 1,000 bytes/s.
        assert_eq!(
            t.start_transfer(ip(1), 30_000, now),
            Err(Refusal::OverByteBudget { retry_after_s: 10 })
        );
        // Unused bytes are given back.
        t.finish_transfer(ip(1), 15_000);
        t.start_transfer(ip(1), 30_000, now).unwrap();
        // Ten seconds later 10,000 more have accrued.
        t.finish_transfer(ip(1), 0);
        let later = now + Duration::from_secs(10);
        t.start_transfer(ip(1), 10_000, later).unwrap();
    }

    #[test]
    fn the_budget_survives_reconnecting() {
        let mut t = AddressTable::new(limits());
        let now = Instant::now();
        t.open_connection(ip(1), now).unwrap();
        t.start_transfer(ip(1), 60_000, now).unwrap();
        t.finish_transfer(ip(1), 0);
        t.close_connection(ip(1));
        t.open_connection(ip(1), now).unwrap();
        assert!(matches!(
            t.start_transfer(ip(1), 1_000, now),
            Err(Refusal::OverByteBudget { .. })
        ));
    }

    /// Any address in one /64 is one client; the next /64 is another.
    #[test]
    fn ipv6_is_counted_per_64() {
        let mut t = AddressTable::new(limits());
        let now = Instant::now();
        let v6 = |s: &str| s.parse::<IpAddr>().unwrap();
        for host in [
            "2001:db8:1:2::1",
            "2001:db8:1:2::2",
            "2001:db8:1:2:ffff:1:2:3",
        ] {
            t.open_connection(v6(host), now).unwrap();
        }
        assert_eq!(
            t.open_connection(v6("2001:db8:1:2:abcd::9"), now),
            Err(Refusal::TooManyConnections)
        );
        t.open_connection(v6("2001:db8:1:3::1"), now).unwrap();
        assert_eq!(t.connections(v6("2001:db8:1:2::77")), 3);
        // Transfers and bytes too.
        t.start_transfer(v6("2001:db8:1:2::1"), 10, now).unwrap();
        t.start_transfer(v6("2001:db8:1:2::5"), 10, now).unwrap();
        assert_eq!(
            t.start_transfer(v6("2001:db8:1:2::6"), 10, now),
            Err(Refusal::TooManyStreams)
        );
        // Closing from another address of the /64 frees the shared count.
        t.close_connection(v6("2001:db8:1:2::99"));
        t.open_connection(v6("2001:db8:1:2::1"), now).unwrap();
        // IPv4, plain or mapped, is one address.
        assert_eq!(address_key(v6("::ffff:192.0.2.7")), v6("192.0.2.7"));
        assert_eq!(address_key(v6("192.0.2.7")), v6("192.0.2.7"));
        assert_eq!(address_key(v6("2001:db8::1:2:3:4")), v6("2001:db8::"));
    }

    #[test]
    fn many_addresses_stay_bounded_and_never_push_out_a_connected_one() {
        let mut t = AddressTable::new(limits());
        let now = Instant::now();
        t.open_connection(ip(0), now).unwrap();
        t.start_transfer(ip(0), 50_000, now).unwrap();
        for n in 1..=(RESTING_CAPACITY as u32 + 5_000) {
            t.open_connection(ip(n), now).unwrap();
            t.close_connection(ip(n));
        }
        let (active, resting) = t.tracked();
        assert_eq!(active, 1);
        assert_eq!(resting, RESTING_CAPACITY);
        // The connected address kept its spent budget (no fresh bucket by eviction).
        assert_eq!(t.connections(ip(0)), 1);
        assert!(t.start_transfer(ip(0), 20_000, now).is_err());
    }
}
