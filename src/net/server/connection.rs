//! One client connection as the server tracks it: when it last made
//! progress, whether a request is running, and a way to close it early.
//!
//! Progress is a byte written to the client, or a byte read while a request
//! is running (an upload). Bytes of a request head do not count: a client
//! trickling its head one byte at a time (slowloris) makes no progress.
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

#[derive(Debug)]
pub struct ConnState {
    pub id: u64,
    pub ip: IpAddr,
    clock: Clock,
    last_progress_ms: AtomicU64,
    requests: AtomicU64,
    in_flight: AtomicU32,
    /// Notified to close the connection at once (to free its slot).
    pub evict: Notify,
}

impl ConnState {
    pub fn new(id: u64, ip: IpAddr, clock: Clock) -> Self {
        ConnState {
            id,
            ip,
            clock,
            last_progress_ms: AtomicU64::new(clock.now_ms()),
            requests: AtomicU64::new(0),
            in_flight: AtomicU32::new(0),
            evict: Notify::new(),
        }
    }

    fn touch(&self) {
        self.last_progress_ms
            .store(self.clock.now_ms(), Ordering::Relaxed);
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

    /// The connection to close so a newcomer can be served, or none. In this
    /// order, longest stalled first: one that never completed a request and
    /// has sent nothing for `min_stall` (silent or slowloris); one whose reply
    /// has not moved for `min_stall` (a client that stopped reading); one idle
    /// between requests for `idle_stall` (closing an idle keep-alive connection
    /// races with the client reusing it, so only after a longer wait). Scans
    /// every open connection, which happens only when all slots are taken.
    pub fn pick_victim(
        &self,
        now_ms: u64,
        min_stall: Duration,
        idle_stall: Duration,
    ) -> Option<Arc<ConnState>> {
        let min = min_stall.as_millis() as u64;
        let idle = idle_stall.as_millis() as u64;
        self.open
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
            .map(|(_, _, c)| c.clone())
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
                    self.conn.touch();
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
        if matches!(result, Poll::Ready(Ok(())))
            && buf.filled().len() > before
            && self.conn.in_flight.load(Ordering::Relaxed) > 0
        {
            self.conn.touch();
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

    #[test]
    fn the_victim_is_a_stalled_connection_that_never_completed_a_request() {
        let clock = Clock::new();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let mut registry = Registry::default();
        let served = Arc::new(ConnState::new(1, ip, clock));
        drop(served.begin_request());
        let never = Arc::new(ConnState::new(2, ip, clock));
        registry.insert(served.clone());
        registry.insert(never.clone());
        let (second, five) = (Duration::from_secs(1), Duration::from_secs(5));
        let pick = |at: u64| registry.pick_victim(at, second, five).map(|c| c.id);
        // Nobody has stalled for a second yet.
        assert_eq!(pick(clock.now_ms()), None);
        let soon = clock.now_ms() + 2_000;
        assert_eq!(pick(soon), Some(2));
        registry.remove(2);
        let pick = |at: u64| registry.pick_victim(at, second, five).map(|c| c.id);
        // An idle keep-alive connection only after the longer wait.
        assert_eq!(pick(soon), None);
        assert_eq!(pick(clock.now_ms() + 6_000), Some(1));
        // A running request whose reply does not move: after a second.
        let _running = served.begin_request();
        assert_eq!(pick(clock.now_ms()), None);
        assert_eq!(pick(soon), Some(1));
    }
}
