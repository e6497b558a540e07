//! One client connection as the server tracks it: when it last made
//! progress, whether a request is running, and a way to close it early.
//!
//! Progress is a byte written to the client, or a byte read while a request
//! is running (an upload). Bytes of a request head do not count: a client
//! trickling its head one byte at a time (slowloris) makes no progress.
//!
//! Progress alone can be faked cheaply (a ping every 2 s, an upload trickling
//! a byte at a time), so a connection also records when it last moved a
//! useful amount of data ([`USEFUL_BYTES`]); one that has not for a while
//! is "unproductive", and when the server is full the address holding the
//! most unproductive connections gives one up (see [`Registry::pick_victim`]).
use std::collections::HashMap;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tokio::time::Sleep;

/// Milliseconds since the server started: a clock that fits in an atomic.
#[derive(Debug, Clone, Copy)]
pub struct Clock(Instant);

impl Clock {
    pub fn new() -> Self {
        Clock(Instant::now())
    }

    pub fn now_ms(self) -> u64 {
        self.0.elapsed().as_millis() as u64
    }
}

/// Data a connection must move to count as doing useful work: far more than
/// a latency ping's reply or a trickled byte, far less than a slow line moves in a second.
pub const USEFUL_BYTES: u64 = 16 * 1024;

#[derive(Debug)]
pub struct ConnState {
    pub id: u64,
    pub ip: IpAddr,
    /// What the address is counted as (an IPv6 client by its /64).
    pub key: IpAddr,
    clock: Clock,
    last_progress_ms: AtomicU64,
    /// When the connection last moved [`USEFUL_BYTES`] (or opened).
    useful_ms: AtomicU64,
    /// Bytes moved since `useful_ms`.
    useful_bytes: AtomicU64,
    requests: AtomicU64,
    in_flight: AtomicU32,
    /// Notified to close the connection at once (to free its slot).
    pub evict: Notify,
}

impl ConnState {
    pub fn new(id: u64, ip: IpAddr, key: IpAddr, clock: Clock) -> Self {
        ConnState {
            id,
            ip,
            key,
            clock,
            last_progress_ms: AtomicU64::new(clock.now_ms()),
            useful_ms: AtomicU64::new(clock.now_ms()),
            useful_bytes: AtomicU64::new(0),
            requests: AtomicU64::new(0),
            in_flight: AtomicU32::new(0),
            evict: Notify::new(),
        }
    }

    fn touch(&self) {
        self.last_progress_ms
            .store(self.clock.now_ms(), Ordering::Relaxed);
    }

    /// Progress of `n` bytes moved.
    fn moved(&self, n: u64) {
        let now = self.clock.now_ms();
        self.last_progress_ms.store(now, Ordering::Relaxed);
        if self.useful_bytes.fetch_add(n, Ordering::Relaxed) + n >= USEFUL_BYTES {
            self.useful_bytes.store(0, Ordering::Relaxed);
            self.useful_ms.store(now, Ordering::Relaxed);
        }
    }

    /// Milliseconds since the connection last moved a useful amount of data.
    fn unproductive_ms(&self, now_ms: u64) -> u64 {
        now_ms.saturating_sub(self.useful_ms.load(Ordering::Relaxed))
    }

    /// A request head has arrived; the guard marks its end when dropped.
    pub fn begin_request(self: &Arc<Self>) -> RequestGuard {
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        self.touch();
        RequestGuard(self.clone())
    }

    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Milliseconds without progress.
    fn stalled_ms(&self, now_ms: u64) -> u64 {
        now_ms.saturating_sub(self.last_progress_ms.load(Ordering::Relaxed))
    }
}

/// Ends a request when dropped (hyper drops the response body once it is sent or abandoned).
#[derive(Debug)]
pub struct RequestGuard(Arc<ConnState>);

impl Drop for RequestGuard {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
        self.0.touch();
    }
}

/// Open connections by id.
#[derive(Default)]
pub struct Registry {
    open: HashMap<u64, Arc<ConnState>>,
}

impl Registry {
    pub fn len(&self) -> usize {
        self.open.len()
    }

    pub fn insert(&mut self, conn: Arc<ConnState>) {
        self.open.insert(conn.id, conn);
    }

    pub fn remove(&mut self, id: u64) -> bool {
        self.open.remove(&id).is_some()
    }

    /// The connection to close so a newcomer from `newcomer` (an address key)
    /// can be served, or none. First, longest stalled first: one that never
    /// completed a request and has sent nothing for `min_stall` (silent or
    /// slowloris); one whose reply has not moved for `min_stall` (a client
    /// that stopped reading); one idle between requests for `idle_stall`
    /// (closing an idle keep-alive connection races with the client reusing
    /// it, so only after a longer wait). Then, fair shares: connections that
    /// have moved no useful data for `unproductive` (pinging keep-alives,
    /// trickling uploads, silent sockets) are counted per address, and the
    /// address holding the most gives up its longest unproductive one, when
    /// it holds at least two more than the newcomer's address (so slots move
    /// from the greediest toward the others and never back and forth).
    /// Connections doing useful work are never taken for fairness. Scans every
    /// open connection, which happens only when all slots are taken.
    pub fn pick_victim(
        &self,
        now_ms: u64,
        min_stall: Duration,
        idle_stall: Duration,
        unproductive: Duration,
        newcomer: IpAddr,
    ) -> Option<Arc<ConnState>> {
        let min = min_stall.as_millis() as u64;
        let idle = idle_stall.as_millis() as u64;
        let stalled = self
            .open
            .values()
            .filter_map(|c| {
                let stalled = c.stalled_ms(now_ms);
                let rank = if c.requests() == 0 {
                    (stalled >= min).then_some(3)
                } else if c.in_flight.load(Ordering::Relaxed) > 0 {
                    (stalled >= min).then_some(2)
                } else {
                    (stalled >= idle).then_some(1)
                }?;
                Some((rank, stalled, c))
            })
            .max_by_key(|(rank, stalled, _)| (*rank, *stalled))
            .map(|(_, _, c)| c.clone());
        if stalled.is_some() {
            return stalled;
        }
        let unproductive = unproductive.as_millis() as u64;
        // Per address: how many unproductive connections, and the longest unproductive one.
        let mut held: HashMap<IpAddr, (u32, u64, &Arc<ConnState>)> = HashMap::new();
        for c in self.open.values() {
            let for_ms = c.unproductive_ms(now_ms);
            if for_ms < unproductive {
                continue;
            }
            let entry = held.entry(c.key).or_insert((0, for_ms, c));
            entry.0 += 1;
            if for_ms > entry.1 {
                (entry.1, entry.2) = (for_ms, c);
            }
        }
        let own = held.get(&newcomer).map_or(0, |h| h.0);
        held.values()
            .filter(|(count, _, _)| *count >= own + 2)
            .max_by_key(|(count, for_ms, _)| (*count, *for_ms))
            .map(|(_, _, c)| Arc::clone(c))
    }
}

/// A TCP stream that records progress on its connection and gives up on a
/// client that stops reading: a write that cannot proceed for
/// `write_stall` fails, so the connection closes and its slot is freed.
pub struct TrackedIo {
    inner: TcpStream,
    conn: Arc<ConnState>,
    write_stall: Duration,
    stall: Option<Pin<Box<Sleep>>>,
    stalls: Arc<AtomicU64>,
}

impl TrackedIo {
    pub fn new(
        inner: TcpStream,
        conn: Arc<ConnState>,
        write_stall: Duration,
        stalls: Arc<AtomicU64>,
    ) -> Self {
        TrackedIo {
            inner,
            conn,
            write_stall,
            stall: None,
            stalls,
        }
    }

    fn after_write(
        &mut self,
        cx: &mut Context<'_>,
        result: Poll<io::Result<usize>>,
    ) -> Poll<io::Result<usize>> {
        match result {
            Poll::Ready(Ok(n)) => {
                self.stall = None;
                if n > 0 {
                    self.conn.moved(n as u64);
                }
                Poll::Ready(Ok(n))
            }
            Poll::Pending => {
                let timeout = self.write_stall;
                let stall = self
                    .stall
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
                if stall.as_mut().poll(cx).is_ready() {
                    self.stalls.fetch_add(1, Ordering::Relaxed);
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "the client stopped reading",
                    )));
                }
                Poll::Pending
            }
            other => other,
        }
    }
}

impl AsyncRead for TrackedIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.inner).poll_read(cx, buf);
        let read = buf.filled().len().saturating_sub(before) as u64;
        if matches!(result, Poll::Ready(Ok(())))
            && read > 0
            && self.conn.in_flight.load(Ordering::Relaxed) > 0
        {
            self.conn.moved(read);
        }
        result
    }
}

impl AsyncWrite for TrackedIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.after_write(cx, result)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.after_write(cx, result)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);
    const FIVE: Duration = Duration::from_secs(5);
    const THREE: Duration = Duration::from_secs(3);
    const NEVER: Duration = Duration::from_secs(3_600);

    fn conn(id: u64, ip: &str, clock: Clock) -> Arc<ConnState> {
        let ip: IpAddr = ip.parse().unwrap();
        Arc::new(ConnState::new(id, ip, ip, clock))
    }

    #[test]
    fn the_victim_is_a_stalled_connection_that_never_completed_a_request() {
        let clock = Clock::new();
        let newcomer: IpAddr = "192.0.2.9".parse().unwrap();
        let mut registry = Registry::default();
        let served = conn(1, "192.0.2.1", clock);
        drop(served.begin_request());
        let never = conn(2, "192.0.2.1", clock);
        registry.insert(served.clone());
        registry.insert(never.clone());
        let pick = |at: u64| {
            registry
                .pick_victim(at, SECOND, FIVE, NEVER, newcomer)
                .map(|c| c.id)
        };
        // Nobody has stalled for a second yet.
        assert_eq!(pick(clock.now_ms()), None);
        let soon = clock.now_ms() + 2_000;
        assert_eq!(pick(soon), Some(2));
        registry.remove(2);
        let pick = |at: u64| {
            registry
                .pick_victim(at, SECOND, FIVE, NEVER, newcomer)
                .map(|c| c.id)
        };
        // An idle keep-alive connection only after the longer wait.
        assert_eq!(pick(soon), None);
        assert_eq!(pick(clock.now_ms() + 6_000), Some(1));
        // A running request whose reply does not move: after a second.
        let _running = served.begin_request();
        assert_eq!(pick(clock.now_ms()), None);
        assert_eq!(pick(soon), Some(1));
    }

    /// Pinging keep-alives and trickling uploads look busy to the stall rules;
    /// the address holding most of them gives one up to a lighter newcomer,
    /// never to one from an address that already holds as many.
    #[test]
    fn busy_looking_unproductive_connections_go_to_a_fair_share() {
        let clock = Clock::new();
        let mut registry = Registry::default();
        // 127.0.0.2: three keep-alives that ping (progress, but no useful data).
        let mut pingers = Vec::new();
        for id in 0..3 {
            let c = conn(id, "127.0.0.2", clock);
            drop(c.begin_request());
            registry.insert(c.clone());
            pingers.push(c);
        }
        // 127.0.0.3: one upload trickling a byte at a time.
        let trickle = conn(10, "127.0.0.3", clock);
        let upload = trickle.begin_request();
        trickle.moved(1);
        registry.insert(trickle.clone());
        // 127.0.0.4: two downloads moving real data.
        let mut downloads = Vec::new();
        for id in 20..22 {
            let c = conn(id, "127.0.0.4", clock);
            downloads.push((c.begin_request(), c.clone()));
            registry.insert(c);
        }
        let later = clock.now_ms() + 4_000;
        // Keep-alives pinging and the trickle keep moving, the downloads move a lot.
        let at = |ms: u64| {
            for c in &pingers {
                c.last_progress_ms.store(ms, Ordering::Relaxed);
            }
            trickle.last_progress_ms.store(ms, Ordering::Relaxed);
            for (_, c) in &downloads {
                c.last_progress_ms.store(ms, Ordering::Relaxed);
                c.useful_ms.store(ms, Ordering::Relaxed);
            }
        };
        at(later);
        let pick = |registry: &Registry, newcomer: &str| {
            registry
                .pick_victim(later, SECOND, FIVE, THREE, newcomer.parse().unwrap())
                .map(|c| c.key.to_string())
        };
        // No stall rule applies; a newcomer with nothing takes from the heaviest.
        assert_eq!(pick(&registry, "127.0.0.9").as_deref(), Some("127.0.0.2"));
        // The downloads' address holds no unproductive connection and gains nothing either way.
        assert_eq!(pick(&registry, "127.0.0.4").as_deref(), Some("127.0.0.2"));
        // An address with two unproductive ones already may not take a third's.
        assert_eq!(pick(&registry, "127.0.0.3").as_deref(), Some("127.0.0.2"));
        let two = conn(11, "127.0.0.3", clock);
        drop(two.begin_request());
        two.last_progress_ms.store(later, Ordering::Relaxed);
        registry.insert(two);
        assert_eq!(pick(&registry, "127.0.0.3"), None);
        // Before three seconds without useful data, nothing is taken for fairness.
        let early = clock.now_ms() + 1_000;
        at(early);
        assert_eq!(
            registry
                .pick_victim(early, SECOND, FIVE, THREE, "127.0.0.9".parse().unwrap())
                .map(|c| c.id),
            None
        );
        drop(upload);
    }
}
