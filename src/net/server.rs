//! `session-ready serve`: the self-hostable measurement endpoint.
//!
//! HTTP/1.1 on a TCP address, speaking the same protocol as the Cloudflare
//! speed test so one client works against both:
//! - `GET /__down?bytes=N`: N bytes of incompressible data (`bytes=0` is the latency probe);
//! - `POST /__up`: the body is counted and discarded;
//!
//! every reply carries `Server-Timing: app;dur=…` (time spent in the server, so
//! the client can subtract it) and `Session-Ready: <version>; stun-port=<port>`
//! (so the client knows it may use this host for STUN). STUN Binding requests
//! (RFC 8489) are answered on the same address over UDP.
//!
//! Limits keep memory bounded and every client served whatever others do:
//! a cap on concurrent connections, with a stalled connection, or an
//! unproductive one of the address holding most, closed to make room for a
//! newcomer, and every newcomer turned away answered; per-address caps on connections, transfers in
//! flight and bytes a minute (429 with `Retry-After` beyond); a first request
//! must arrive within seconds and a client that stops reading is dropped; caps
//! on header size, on download and upload sizes, on how long a request body
//! may stall, and on a connection's lifetime. STUN replies are rate-limited
//! per source and in all, answer only well-formed Binding requests and carry
//! no SOFTWARE attribute, so the server is useless as a traffic reflector.
//! The defaults and the reasons for them are in README.md ("Hosting `serve`").
use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use rand::{Rng, SeedableRng, rngs::SmallRng};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::{Semaphore, watch};

use super::stun;

mod admission;
mod connection;
pub mod metrics;
mod rtc;
mod stun_limit;
mod stun_tests;

pub use rtc::PeerLimits;

use admission::{AddressLimits, AddressTable, Refusal, address_key};
use connection::{Clock, ConnState, Registry, TrackedIo};
use stun_limit::{ReplyLimiter, Verdict};

/// Response header that marks a session-ready server.
pub const IDENT_HEADER: &str = "session-ready";

/// Limits and addresses for one server.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// Connections served at once. When all are taken, the connection that has
    /// made no progress for longest (at least `evict_after`) is closed for a newcomer;
    /// with none such, the newcomer gets 503.
    pub max_connections: usize,
    /// Connections one address (an IPv6 /64) may hold (a probe opens 9, 17
    /// on a long round trip; three probes at once share one NAT address).
    pub per_address_connections: u32,
    /// Downloads and uploads one address may run at once (a probe runs 4, 8
    /// on a long round trip).
    pub per_address_streams: u32,
    /// Bytes one address may move a minute, down and up together (a probe
    /// moves at most 56 MB, 168 MB on a long round trip).
    pub per_address_bytes_per_minute: u64,
    /// A new connection must send its first request within this time.
    pub first_request_timeout: Duration,
    /// A reply the client does not read for this long is dropped with its connection.
    pub write_stall_timeout: Duration,
    /// A full server may close a connection that has made no progress for this
    /// long (one idle between requests: five times this long).
    pub evict_after: Duration,
    /// Largest `GET /__down?bytes=N` served.
    pub max_download_bytes: u64,
    /// Largest `POST /__up` body accepted.
    pub max_upload_bytes: u64,
    /// STUN port announced to clients, when a proxy or NAT maps it elsewhere.
    pub public_stun_port: Option<u16>,
    /// A request head must arrive within this time (slow-header clients).
    pub header_timeout: Duration,
    /// An upload body may pause at most this long between pieces.
    pub body_idle_timeout: Duration,
    /// Any connection is closed after this long, whatever it is doing.
    pub connection_lifetime: Duration,
    /// STUN replies per second allowed to one source address.
    pub stun_per_source_per_s: f64,
    /// STUN replies per second in all (new sources may use only half).
    pub stun_replies_per_s: f64,
    /// STUN replies per second to one verified sender (a probe's call-like
    /// stream, which echoes the cookie of an earlier reply; 800 a second).
    pub stun_verified_per_s: f64,
    /// STUN replies per second to all verified senders together.
    pub stun_verified_total_per_s: f64,
    /// STUN cookie requests answered per second per address (an IPv6 /64).
    pub stun_cookies_per_s: f64,
    /// On shutdown, how long open connections get to finish.
    pub drain_timeout: Duration,
    /// Where to serve Prometheus text metrics (`GET /metrics`), apart from `listen`.
    pub metrics: Option<SocketAddr>,
    /// Host names metrics requests may be addressed to, besides IP addresses
    /// and `localhost` (any other Host is refused: DNS rebinding).
    pub metrics_names: Vec<String>,
    /// The hosted check's pages (`serve --clinic`), answered for every path
    /// the measurement endpoints do not take.
    pub pages: Option<axum::Router>,
    /// WebRTC peer connections for browsers (`POST /__rtc`): caps and timeouts.
    pub rtc: PeerLimits,
    /// Terminate TLS here (`serve --tls-cert --tls-key`): every connection
    /// is HTTPS, within the same admission limits. STUN stays on UDP.
    pub tls: Option<Arc<rustls::ServerConfig>>,
}

impl ServerConfig {
    pub fn new(listen: SocketAddr) -> Self {
        ServerConfig {
            listen,
            max_connections: 256,
            // Three probes at once from one address on a long round trip
            // (51 connections, 24 streams, 504 MB), plus room; see README.md.
            per_address_connections: 64,
            per_address_streams: 32,
            per_address_bytes_per_minute: 600 * 1_000_000,
            first_request_timeout: Duration::from_secs(3),
            write_stall_timeout: Duration::from_secs(5),
            evict_after: Duration::from_secs(1),
            max_download_bytes: 256 * 1_000_000,
            max_upload_bytes: 128 * 1_000_000,
            public_stun_port: None,
            header_timeout: Duration::from_secs(10),
            body_idle_timeout: Duration::from_secs(10),
            connection_lifetime: Duration::from_secs(120),
            stun_per_source_per_s: 200.0,
            stun_replies_per_s: 5_000.0,
            stun_verified_per_s: 1_000.0,
            stun_verified_total_per_s: 40_000.0,
            stun_cookies_per_s: stun_limit::HANDSHAKES_PER_S,
            drain_timeout: Duration::from_secs(5),
            metrics: None,
            metrics_names: Vec::new(),
            pages: None,
            rtc: PeerLimits::default(),
            tls: None,
        }
    }
}

/// Counters a running server keeps (for tests and the load benchmark).
#[derive(Debug, Default)]
pub struct ServerStats {
    pub connections_open: AtomicU64,
    /// Most connections open at the same time.
    pub connections_peak: AtomicU64,
    pub connections_total: AtomicU64,
    pub requests: AtomicU64,
    /// Client errors answered (4xx other than 404), including the 413s and 429s below.
    pub rejected: AtomicU64,
    pub too_large: AtomicU64,
    /// Requests answered 429 (an address over its transfers or bytes).
    pub rate_limited: AtomicU64,
    /// Connections turned away on arrival: the address had its share (429).
    pub refused_per_address: AtomicU64,
    /// Connections turned away on arrival: every slot busy and none stalled (503).
    pub refused_full: AtomicU64,
    /// Stalled connections closed to make room for a newcomer.
    pub evicted: AtomicU64,
    /// Connections closed for sending no request in time.
    pub first_request_timeouts: AtomicU64,
    /// Connections closed because the client stopped reading the reply.
    pub write_stalls: Arc<AtomicU64>,
    pub bytes_sent: AtomicU64,
    pub bytes_received: AtomicU64,
    pub stun_replies: AtomicU64,
    /// STUN requests not answered: the source asked faster than its share.
    pub stun_dropped: AtomicU64,
    /// STUN requests not answered: the server was at its reply cap.
    pub stun_shed: AtomicU64,
    /// Datagrams that were not a well-formed STUN Binding request.
    pub stun_ignored: AtomicU64,
    /// WebRTC offers answered (`POST /__rtc`).
    pub rtc_offers: AtomicU64,
    /// WebRTC offers turned away: the address had its share.
    pub rtc_refused_address: AtomicU64,
    /// WebRTC offers turned away: every slot busy and none connecting for long.
    pub rtc_refused_full: AtomicU64,
    /// The peer connections' own counts (`rtc::PeerStats`), copied after each change.
    pub rtc_peers_open: AtomicU64,
    pub rtc_closed_idle: AtomicU64,
    pub rtc_closed_connecting: AtomicU64,
    pub rtc_evicted: AtomicU64,
    pub rtc_withheld_unverified: AtomicU64,
}

impl ServerStats {
    /// Copy what the peer connections counted, for `--metrics`.
    fn mirror_rtc(&self, peers: &rtc::Peers) {
        let store = |counter: &AtomicU64, value: u64| counter.store(value, Ordering::Relaxed);
        store(&self.rtc_peers_open, peers.open() as u64);
        store(&self.rtc_closed_idle, peers.stats.closed_idle);
        store(&self.rtc_closed_connecting, peers.stats.closed_connecting);
        store(&self.rtc_evicted, peers.stats.evicted);
        store(
            &self.rtc_withheld_unverified,
            peers.stats.withheld_unverified,
        );
    }
}

/// Sockets bound and ready; call [`BoundServer::run`] to serve.
pub struct BoundServer {
    config: ServerConfig,
    tcp: TcpListener,
    udp: UdpSocket,
    metrics: Option<TcpListener>,
    pub stats: Arc<ServerStats>,
}

/// Bind TCP and UDP on the same address. With port 0, both get the same
/// free port (retrying when the UDP side of a fresh TCP port is taken).
pub async fn bind(config: ServerConfig) -> std::io::Result<BoundServer> {
    let metrics = match config.metrics {
        Some(addr) => Some(TcpListener::bind(addr).await?),
        None => None,
    };
    let mut attempts = 0;
    loop {
        let tcp = TcpListener::bind(config.listen).await?;
        let addr = tcp.local_addr()?;
        match UdpSocket::bind(addr).await {
            Ok(udp) => {
                return Ok(BoundServer {
                    config,
                    tcp,
                    udp,
                    metrics,
                    stats: Arc::new(ServerStats::default()),
                });
            }
            Err(e) if config.listen.port() == 0 && attempts < 20 => {
                attempts += 1;
                let _ = e;
            }
            Err(e) => return Err(e),
        }
    }
}

impl BoundServer {
    pub fn local_addr(&self) -> SocketAddr {
        self.tcp.local_addr().unwrap_or(self.config.listen)
    }

    /// Where metrics are served, when asked for.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// Serve until `shutdown` completes, then stop accepting, give open
    /// connections `drain_timeout` to finish, and return.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let (stop_tx, stop_rx) = watch::channel(false);
        let addr = self.local_addr();
        let stun_port = self.config.public_stun_port.unwrap_or(addr.port());
        let ident = |extra: &str| {
            HeaderValue::from_str(&format!(
                "{}; stun-port={stun_port}{extra}",
                env!("CARGO_PKG_VERSION")
            ))
            .unwrap_or_else(|_| HeaderValue::from_static("1"))
        };
        let shared = Arc::new(Shared {
            config: self.config.clone(),
            stats: self.stats.clone(),
            ident: ident(""),
            ident_stun_busy: ident("; stun-busy"),
            clock: Clock::new(),
            stun_busy_until_ms: AtomicU64::new(0),
            stun_tests: Mutex::new(stun_tests::TestTable::default()),
            rtc: Mutex::new(rtc::Peers::new(self.config.rtc)),
            rtc_changed: tokio::sync::Notify::new(),
            addresses: Mutex::new(AddressTable::new(AddressLimits {
                connections: self.config.per_address_connections.max(1),
                streams: self.config.per_address_streams.max(1),
                bytes_per_minute: self.config.per_address_bytes_per_minute.max(1),
            })),
            registry: Mutex::new(Registry::default()),
            next_id: AtomicU64::new(0),
            slot_freed: tokio::sync::Notify::new(),
        });
        let udp_task = tokio::spawn(stun_loop(self.udp, shared.clone(), stop_rx.clone()));
        let metrics_names: Arc<[String]> = self.config.metrics_names.clone().into();
        let metrics_task = self.metrics.map(|l| {
            tokio::spawn(metrics::serve(
                l,
                self.stats.clone(),
                metrics_names,
                stop_rx.clone(),
            ))
        });
        let http_task = tokio::spawn(accept_loop(self.tcp, shared, stop_rx));
        shutdown.await;
        let _ = stop_tx.send(true);
        let _ = http_task.await;
        let _ = udp_task.await;
        if let Some(task) = metrics_task {
            let _ = task.await;
        }
    }
}

/// A server running on the current runtime, stopped when dropped (for tests and benches).
pub struct RunningServer {
    pub addr: SocketAddr,
    pub metrics_addr: Option<SocketAddr>,
    pub stats: Arc<ServerStats>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl RunningServer {
    /// Stop and wait for open connections to drain.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Bind and start serving in the background.
pub async fn spawn(config: ServerConfig) -> std::io::Result<RunningServer> {
    let bound = bind(config).await?;
    let addr = bound.local_addr();
    let metrics_addr = bound.metrics_addr();
    let stats = bound.stats.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(bound.run(async move {
        let _ = stopped.await;
    }));
    Ok(RunningServer {
        addr,
        metrics_addr,
        stats,
        stop: Some(stop),
        task: Some(task),
    })
}

struct Shared {
    config: ServerConfig,
    stats: Arc<ServerStats>,
    ident: HeaderValue,
    /// The same, telling clients that STUN replies are being shed (so a
    /// client whose audio-like test went unanswered blames the server, not its line).
    ident_stun_busy: HeaderValue,
    clock: Clock,
    stun_busy_until_ms: AtomicU64,
    /// What the server did with each probe's STUN stream (`GET /__stun`).
    stun_tests: Mutex<stun_tests::TestTable>,
    /// WebRTC peer connections.
    rtc: Mutex<rtc::Peers>,
    /// Notified when a peer connection is added (the UDP loop's timers change).
    rtc_changed: tokio::sync::Notify,
    addresses: Mutex<AddressTable>,
    registry: Mutex<Registry>,
    next_id: AtomicU64,
    /// Notified each time a connection ends (for newcomers waiting for a slot).
    slot_freed: tokio::sync::Notify,
}

/// How long after shedding STUN replies the server keeps saying so.
const STUN_BUSY_NOTICE_MS: u64 = 5_000;

/// Lock a mutex even if a panicking task poisoned it (the data stays consistent per call).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// One address, however it arrived (an IPv4 client on a dual-stack socket shows as ::ffff:a.b.c.d).
fn client_ip(peer: SocketAddr) -> IpAddr {
    match peer.ip() {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// Why a newcomer is turned away at the door.
enum TurnedAway {
    AddressShare,
    Full,
}

impl Shared {
    /// Take a slot for a connection from `ip`. When every slot is taken and
    /// `may_evict` (the newcomer has sent its request), close a stalled
    /// connection, or an unproductive one of an address holding more than its
    /// share (see [`Registry::pick_victim`]).
    fn admit(&self, ip: IpAddr, may_evict: bool) -> Result<Arc<ConnState>, TurnedAway> {
        let mut addresses = lock(&self.addresses);
        if addresses.open_connection(ip, Instant::now()).is_err() {
            return Err(TurnedAway::AddressShare);
        }
        let key = address_key(ip);
        let mut registry = lock(&self.registry);
        if registry.len() >= self.config.max_connections.max(1) {
            let now_ms = self.clock.now_ms();
            let evict_after = self.config.evict_after;
            let victim = may_evict
                .then(|| {
                    registry.pick_victim(now_ms, evict_after, evict_after * 5, evict_after * 3, key)
                })
                .flatten();
            match victim {
                Some(victim) => {
                    // Its slot is free now; its task ends on the notification.
                    registry.remove(victim.id);
                    addresses.close_connection(victim.ip);
                    victim.evict.notify_one();
                    self.stats.evicted.fetch_add(1, Ordering::Relaxed);
                    self.stats.connections_open.fetch_sub(1, Ordering::Relaxed);
                }
                None => {
                    addresses.close_connection(ip);
                    return Err(TurnedAway::Full);
                }
            }
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let conn = Arc::new(ConnState::new(id, ip, key, self.clock));
        registry.insert(conn.clone());
        let stats = &self.stats;
        stats.connections_total.fetch_add(1, Ordering::Relaxed);
        let open = stats.connections_open.fetch_add(1, Ordering::Relaxed) + 1;
        stats.connections_peak.fetch_max(open, Ordering::Relaxed);
        Ok(conn)
    }

    fn release(&self, conn: &ConnState) {
        let mut addresses = lock(&self.addresses);
        // An evicted connection was already released when it was picked.
        if lock(&self.registry).remove(conn.id) {
            addresses.close_connection(conn.ip);
            self.stats.connections_open.fetch_sub(1, Ordering::Relaxed);
        }
        drop(addresses);
        self.slot_freed.notify_one();
    }

    fn start_transfer(self: &Arc<Self>, ip: IpAddr, bytes: u64) -> Result<TransferTicket, Refusal> {
        lock(&self.addresses).start_transfer(ip, bytes, Instant::now())?;
        Ok(TransferTicket {
            shared: self.clone(),
            ip,
            reserved: bytes,
            used: 0,
        })
    }

    fn stun_busy(&self) -> bool {
        self.clock.now_ms() < self.stun_busy_until_ms.load(Ordering::Relaxed)
    }
}

/// One running transfer's share of its address's budget; gives back what it did not use.
struct TransferTicket {
    shared: Arc<Shared>,
    ip: IpAddr,
    reserved: u64,
    used: u64,
}

impl Drop for TransferTicket {
    fn drop(&mut self) {
        lock(&self.shared.addresses)
            .finish_transfer(self.ip, self.reserved.saturating_sub(self.used));
    }
}

/// How long a newcomer may wait for a slot when all are busy and none may be
/// taken (a burst of real clients), asking again whenever one frees and a few times a second.
const WAIT_FOR_SLOT: Duration = Duration::from_secs(5);
/// How long a waiting newcomer may stay silent: only one that has sent its
/// request may take another's slot, and a silent one is answered 503 soon.
const WAIT_FOR_REQUEST: Duration = Duration::from_secs(1);
const ASK_AGAIN: Duration = Duration::from_millis(250);
const MAX_WAITING: usize = 1024;
/// Refusals answered at once with a moment to read the request (a socket
/// and a small task each, for at most two seconds); beyond, answered at once.
const MAX_REFUSING: usize = 2048;

const BUSY_BODY: &str = "This server is busy; try again shortly.\n";

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let refusals = Arc::new(Semaphore::new(MAX_REFUSING));
    // Newcomers waiting for a slot (a socket and a small task each).
    let waiting = Arc::new(Semaphore::new(
        MAX_WAITING.max(4 * shared.config.max_connections),
    ));
    loop {
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(pair) => pair,
                Err(_) => {
                    // Out of file descriptors and the like: back off briefly rather than spin.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stop.changed() => break,
        };
        let ip = client_ip(peer);
        // A free slot is taken at once; taking another's waits for the request.
        match shared.admit(ip, false) {
            Ok(conn) => serve_connection(stream, conn, shared.clone(), graceful.watcher()),
            Err(TurnedAway::AddressShare) => {
                shared
                    .stats
                    .refused_per_address
                    .fetch_add(1, Ordering::Relaxed);
                let reply = refusal_reply(
                    "429 Too Many Requests",
                    2,
                    "This address has as many connections open as this server allows; try again shortly.\n",
                );
                refuse(stream, reply, WAIT_FOR_REQUEST, &refusals);
            }
            Err(TurnedAway::Full) => match waiting.clone().try_acquire_owned() {
                Ok(permit) => {
                    tokio::spawn(wait_for_slot(
                        stream,
                        ip,
                        shared.clone(),
                        graceful.watcher(),
                        refusals.clone(),
                        permit,
                    ));
                }
                Err(_) => {
                    shared.stats.refused_full.fetch_add(1, Ordering::Relaxed);
                    let reply = refusal_reply("503 Service Unavailable", 5, BUSY_BODY);
                    refuse(stream, reply, WAIT_FOR_REQUEST, &refusals);
                }
            },
        }
    }
    drop(listener);
    let _ = tokio::time::timeout(shared.config.drain_timeout, graceful.shutdown()).await;
}

/// A newcomer to a full server: once its request has arrived, take a slot
/// (a free one, or another's by the eviction rules) within `WAIT_FOR_SLOT`;
/// otherwise 503. A silent newcomer never takes anyone's slot.
async fn wait_for_slot(
    stream: TcpStream,
    ip: IpAddr,
    shared: Arc<Shared>,
    watcher: hyper_util::server::graceful::Watcher,
    refusals: Arc<Semaphore>,
    waiting: tokio::sync::OwnedSemaphorePermit,
) {
    let deadline = tokio::time::Instant::now() + WAIT_FOR_SLOT;
    let mut first = [0u8; 1];
    let spoke = matches!(
        tokio::time::timeout(WAIT_FOR_REQUEST, stream.peek(&mut first)).await,
        Ok(Ok(n)) if n > 0
    );
    if spoke {
        loop {
            match shared.admit(ip, true) {
                Ok(conn) => return serve_connection(stream, conn, shared, watcher),
                Err(TurnedAway::Full) => {}
                // Its share is taken meanwhile: the 503 below says to come back.
                Err(TurnedAway::AddressShare) => break,
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                break;
            }
            let next = (now + ASK_AGAIN).min(deadline);
            let _ = tokio::time::timeout_at(next, shared.slot_freed.notified()).await;
        }
    }
    drop(waiting);
    shared.stats.refused_full.fetch_add(1, Ordering::Relaxed);
    let reply = refusal_reply("503 Service Unavailable", 5, BUSY_BODY);
    // A silent one has had its time to speak.
    let head_wait = if spoke {
        WAIT_FOR_REQUEST
    } else {
        Duration::ZERO
    };
    refuse(stream, reply, head_wait, &refusals);
}

/// Answer a turned-away newcomer: every one gets its reply, never a reset or silence.
fn refuse(stream: TcpStream, reply: Vec<u8>, head_wait: Duration, refusals: &Arc<Semaphore>) {
    match refusals.clone().try_acquire_owned() {
        Ok(permit) => {
            tokio::spawn(async move {
                turn_away(stream, reply, head_wait).await;
                drop(permit);
            });
        }
        Err(_) => refuse_at_once(stream, &reply),
    }
}

/// Too many refusals at once to give each a moment: read what has arrived
/// (so closing sends a FIN, not a reset, before the client reads the reply),
/// write the reply and close, without waiting for anything.
fn refuse_at_once(stream: TcpStream, reply: &[u8]) {
    let mut buf = [0u8; 4096];
    while matches!(stream.try_read(&mut buf), Ok(n) if n > 0) {}
    let _ = stream.try_write(reply);
}

/// Serve HTTP on an admitted connection, in its own task, until it ends,
/// is closed to make room, sends no first request in time, or outlives its lifetime.
fn serve_connection(
    stream: TcpStream,
    conn: Arc<ConnState>,
    shared: Arc<Shared>,
    watcher: hyper_util::server::graceful::Watcher,
) {
    let _ = stream.set_nodelay(true);
    // Where the client reached us: the address a WebRTC answer offers it.
    let local = stream.local_addr().unwrap_or(shared.config.listen);
    let service_shared = shared.clone();
    let service_conn = conn.clone();
    let service = service_fn(move |req| {
        let shared = service_shared.clone();
        let conn = service_conn.clone();
        async move { Ok::<_, Infallible>(handle(req, shared, conn, local).await) }
    });
    let io = TrackedIo::new(
        stream,
        conn.clone(),
        shared.config.write_stall_timeout,
        shared.stats.write_stalls.clone(),
    );
    match shared.config.tls.clone() {
        None => serve_http(io, service, conn, shared, watcher),
        Some(tls) => {
            // The handshake counts as the wait for the first request.
            let handshake_within = shared.config.first_request_timeout;
            tokio::spawn(async move {
                let accept = tokio_rustls::TlsAcceptor::from(tls).accept(io);
                let accepted = tokio::select! {
                    r = tokio::time::timeout(handshake_within, accept) => r.ok().and_then(Result::ok),
                    _ = conn.evict.notified() => None,
                };
                match accepted {
                    Some(io) => serve_http(io, service, conn, shared, watcher),
                    None => {
                        shared
                            .stats
                            .first_request_timeouts
                            .fetch_add(1, Ordering::Relaxed);
                        shared.release(&conn);
                    }
                }
            });
        }
    }
}

/// HTTP/1.1 over `io` (a tracked TCP stream, or TLS over one) until the
/// connection ends, is closed to make room, sends no first request in
/// time, or outlives its lifetime; then its slot is freed.
fn serve_http<I, S>(
    io: I,
    service: S,
    conn: Arc<ConnState>,
    shared: Arc<Shared>,
    watcher: hyper_util::server::graceful::Watcher,
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    S: hyper::service::HttpService<Incoming, ResBody = ResponseBody> + Send + 'static,
    S::Future: Send + 'static,
{
    let http = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(shared.config.header_timeout)
        .max_header_size(16 * 1024)
        .max_buf_size(64 * 1024)
        .keep_alive(true)
        .serve_connection(TokioIo::new(io), service);
    let http = watcher.watch(http);
    let lifetime = shared.config.connection_lifetime;
    let first_request = shared.config.first_request_timeout;
    tokio::spawn(async move {
        let no_first_request = async {
            tokio::time::sleep(first_request).await;
            if conn.requests() > 0 {
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            _ = http => {}
            _ = conn.evict.notified() => {}
            _ = no_first_request => {
                shared.stats.first_request_timeouts.fetch_add(1, Ordering::Relaxed);
            }
            _ = tokio::time::sleep(lifetime) => {}
        }
        shared.release(&conn);
    });
}

/// A complete HTTP reply for a connection turned away on arrival.
fn refusal_reply(status: &str, retry_after_s: u64, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status}\r\nretry-after: {retry_after_s}\r\n{IDENT_HEADER}: {}\r\n\
         content-type: text/plain; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        env!("CARGO_PKG_VERSION"),
        body.len()
    )
    .into_bytes()
}

/// Read the request head for up to `head_wait` (so the reply answers it and
/// closing does not reset the connection before the client reads the reply),
/// send `reply` whether or not it came, and close after the client has had a
/// moment to read it. Bounded to about two seconds whatever the client does.
async fn turn_away(mut stream: TcpStream, reply: Vec<u8>, head_wait: Duration) {
    let mut buf = [0u8; 1024];
    let head = tokio::time::timeout(head_wait, async {
        let mut head = Vec::with_capacity(1024);
        while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 8 * 1024 {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return false,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
        true
    })
    .await;
    if head == Ok(false) {
        // The client left.
        return;
    }
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        if stream.write_all(&reply).await.is_ok() {
            let _ = stream.shutdown().await;
            // Let the client read the reply before the socket goes away.
            while let Ok(n) = stream.read(&mut buf).await {
                if n == 0 {
                    break;
                }
            }
        }
    })
    .await;
}

type ResponseBody = BoxBody<Bytes, std::io::Error>;

/// The largest hosted page or asset (the pages are tens of kB).
const PAGE_BYTES: usize = 4 << 20;

fn text(status: StatusCode, body: impl Into<Bytes>) -> Response<ResponseBody> {
    let mut res = Response::new(
        Full::new(body.into())
            .map_err(|never: Infallible| match never {})
            .boxed(),
    );
    *res.status_mut() = status;
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    res
}

/// 429 with `Retry-After`: this address is over its transfers or bytes for now.
fn too_many(refusal: Refusal, shared: &Shared) -> Response<ResponseBody> {
    shared.stats.rate_limited.fetch_add(1, Ordering::Relaxed);
    let mut res = text(
        StatusCode::TOO_MANY_REQUESTS,
        "This address has used its share of this server for now; try again after the time in Retry-After.\n",
    );
    res.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from(refusal.retry_after_s()),
    );
    res
}

fn too_large(shared: &Shared, body: &'static str) -> Response<ResponseBody> {
    shared.stats.too_large.fetch_add(1, Ordering::Relaxed);
    text(StatusCode::PAYLOAD_TOO_LARGE, body)
}

fn query_bytes(query: Option<&str>) -> Result<u64, ()> {
    let Some(query) = query else { return Ok(0) };
    for pair in query.split('&') {
        if let Some(value) = pair.strip_prefix("bytes=") {
            return value.parse::<u64>().map_err(|_| ());
        }
    }
    Ok(0)
}

async fn handle(
    req: Request<Incoming>,
    shared: Arc<Shared>,
    conn: Arc<ConnState>,
    local: SocketAddr,
) -> Response<ResponseBody> {
    let started = Instant::now();
    let request = conn.begin_request();
    shared.stats.requests.fetch_add(1, Ordering::Relaxed);
    // The measurement endpoints are for any page; the hosted check's pages are their own.
    let measuring = req.uri().path().starts_with("/__") || req.method() == Method::OPTIONS;
    let res = route(req, &shared, conn.ip, local).await;
    // The request ends when hyper drops the body (sent, or abandoned).
    let (parts, body) = res.into_parts();
    let mut res = Response::from_parts(
        parts,
        Guarded {
            body,
            _request: request,
        }
        .boxed(),
    );
    let headers = res.headers_mut();
    let ident = if shared.stun_busy() {
        &shared.ident_stun_busy
    } else {
        &shared.ident
    };
    headers.insert(IDENT_HEADER, ident.clone());
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if measuring || shared.config.pages.is_none() {
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("server-timing, session-ready, retry-after"),
        );
        headers.insert("timing-allow-origin", HeaderValue::from_static("*"));
    }
    if shared.config.pages.is_some() {
        // A public site: its measurement answers are never sniffed as
        // something else, and name no page they were asked from.
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        if !headers.contains_key(header::REFERRER_POLICY) {
            headers.insert(
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            );
        }
    }
    if shared.config.tls.is_some() {
        // Served over TLS by serve itself: browsers keep to HTTPS here.
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    let server_ms = started.elapsed().as_secs_f64() * 1000.0;
    if let Ok(v) = HeaderValue::from_str(&format!("app;dur={server_ms:.3}")) {
        headers.insert("server-timing", v);
    }
    if res.status().is_client_error() && res.status() != StatusCode::NOT_FOUND {
        shared.stats.rejected.fetch_add(1, Ordering::Relaxed);
    }
    res
}

async fn route(
    req: Request<Incoming>,
    shared: &Arc<Shared>,
    ip: IpAddr,
    local: SocketAddr,
) -> Response<ResponseBody> {
    match (req.method(), req.uri().path()) {
        (&Method::GET | &Method::HEAD, "/__down") => {
            let Ok(bytes) = query_bytes(req.uri().query()) else {
                return text(StatusCode::BAD_REQUEST, "bytes must be a whole number\n");
            };
            if bytes > shared.config.max_download_bytes {
                return too_large(shared, "bytes is above this server's limit\n");
            }
            // Latency pings (no body) are not transfers and are never refused.
            let ticket = if bytes > 0 && req.method() == Method::GET {
                match shared.start_transfer(ip, bytes) {
                    Ok(ticket) => Some(ticket),
                    Err(refusal) => return too_many(refusal, shared),
                }
            } else {
                None
            };
            let mut res =
                Response::new(RandomBody::new(bytes, shared.stats.clone(), ticket).boxed());
            res.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            );
            res
        }
        (&Method::POST, "/__up") => receive_upload(req, shared, ip).await,
        (&Method::GET, "/__stun") => stun_report(req.uri().query(), shared),
        (&Method::POST, "/__rtc") => rtc_offer(req, shared, ip, local).await,
        (&Method::GET, "/__rtc") => rtc_report(req.uri().query(), shared),
        (&Method::OPTIONS, _) => {
            let mut res = text(StatusCode::NO_CONTENT, "");
            let h = res.headers_mut();
            h.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("GET, POST, OPTIONS"),
            );
            h.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static("content-type"),
            );
            res
        }
        (&Method::GET, "/") => text(
            StatusCode::OK,
            "session-ready measurement server.\n\
             GET /__down?bytes=N sends N bytes, POST /__up counts and discards the body,\n\
             STUN Binding requests are answered on this port over UDP,\n\
             POST /__rtc with an SDP offer opens a WebRTC data channel to echo a test.\n",
        ),
        _ => match &shared.config.pages {
            Some(pages) => {
                use tower::ServiceExt;
                match pages.clone().oneshot(req).await {
                    Ok(res) => {
                        // Pages are small and complete when answered.
                        let (parts, body) = res.into_parts();
                        let bytes = axum::body::to_bytes(body, PAGE_BYTES)
                            .await
                            .unwrap_or_default();
                        let body = Full::new(bytes)
                            .map_err(|never: Infallible| match never {})
                            .boxed();
                        Response::from_parts(parts, body)
                    }
                    Err(never) => match never {},
                }
            }
            None => text(StatusCode::NOT_FOUND, "not found\n"),
        },
    }
}

/// `GET /__stun?test=ID`: what the server received, answered and refused of
/// one probe's STUN test. The id is a secret between the probe and the
/// server (random, sent only in that test's requests), so no address check.
fn stun_report(query: Option<&str>, shared: &Shared) -> Response<ResponseBody> {
    let Some(id) = stun_tests::parse_test_id(query) else {
        return text(
            StatusCode::BAD_REQUEST,
            "test must be the 16 hex digits the STUN requests carried\n",
        );
    };
    let Some(report) = lock(&shared.stun_tests).report(&id) else {
        return text(
            StatusCode::NOT_FOUND,
            "no STUN requests with this test id\n",
        );
    };
    json_reply(&report)
}

fn json_reply(value: &impl serde::Serialize) -> Response<ResponseBody> {
    let json = serde_json::to_vec(value).unwrap_or_default();
    let mut res = Response::new(
        Full::new(Bytes::from(json))
            .map_err(|never: Infallible| match never {})
            .boxed(),
    );
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res
}

/// `POST /__rtc`: the body is a browser's SDP offer with a data channel; the
/// reply is the SDP answer of an ICE-lite peer on this server's STUN port.
async fn rtc_offer(
    req: Request<Incoming>,
    shared: &Arc<Shared>,
    ip: IpAddr,
    local: SocketAddr,
) -> Response<ResponseBody> {
    let limited = http_body_util::Limited::new(req.into_body(), rtc::MAX_OFFER_BYTES);
    let body = match tokio::time::timeout(shared.config.body_idle_timeout, limited.collect()).await
    {
        Err(_) => return closing(text(StatusCode::REQUEST_TIMEOUT, "the offer stalled\n")),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => {
            return closing(too_large(
                shared,
                "the offer is larger than a data-channel offer needs (16 kB at most)\n",
            ));
        }
        Ok(Err(_)) => return closing(text(StatusCode::BAD_REQUEST, "the offer was cut off\n")),
        Ok(Ok(collected)) => collected.to_bytes(),
    };
    let Ok(offer) = std::str::from_utf8(&body) else {
        return text(
            StatusCode::BAD_REQUEST,
            "the offer must be SDP text (the browser's RTCPeerConnection offer, sent as it is)\n",
        );
    };
    // The browser reaches the peer where it reached us, at the announced STUN port.
    let port = shared.config.public_stun_port.unwrap_or(local.port());
    let candidate = SocketAddr::new(client_ip(local), port);
    // The certificate is made once, at the first offer, off the async threads.
    let maker = lock(&shared.rtc).cert_maker();
    if let Some(provider) = maker {
        let made =
            tokio::task::spawn_blocking(move || provider.dtls_provider.generate_certificate())
                .await;
        if let Ok(Some(cert)) = made {
            lock(&shared.rtc).set_cert(cert);
        }
    }
    let answered = {
        let mut peers = lock(&shared.rtc);
        let answered = peers.offer(offer, ip, candidate, Instant::now());
        shared.stats.mirror_rtc(&peers);
        answered
    };
    shared.rtc_changed.notify_one();
    match answered {
        Ok(answer) => {
            shared.stats.rtc_offers.fetch_add(1, Ordering::Relaxed);
            let mut res = Response::new(
                Full::new(Bytes::from(answer))
                    .map_err(|never: Infallible| match never {})
                    .boxed(),
            );
            *res.status_mut() = StatusCode::CREATED;
            res.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/sdp"),
            );
            res
        }
        Err(rtc::OfferRefused::BadOffer(reason)) => {
            let body = format!(
                "the offer is not an SDP offer this server can answer ({reason}); send the \
                 browser's RTCPeerConnection offer as it is\n"
            );
            text(StatusCode::BAD_REQUEST, body)
        }
        Err(rtc::OfferRefused::NoDataChannel) => text(
            StatusCode::BAD_REQUEST,
            "the offer has no data channel; create one (unordered, maxRetransmits 0) before making the offer\n",
        ),
        Err(rtc::OfferRefused::AddressShare) => {
            shared
                .stats
                .rtc_refused_address
                .fetch_add(1, Ordering::Relaxed);
            let mut res = text(
                StatusCode::TOO_MANY_REQUESTS,
                "This address has as many WebRTC connections open as this server allows; try again shortly.\n",
            );
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(5u32));
            res
        }
        Err(rtc::OfferRefused::NoCertificate) => text(
            StatusCode::SERVICE_UNAVAILABLE,
            "This server cannot open WebRTC connections (it could not make a DTLS certificate); \
             the STUN test still works.\n",
        ),
        Err(rtc::OfferRefused::Full) => {
            shared
                .stats
                .rtc_refused_full
                .fetch_add(1, Ordering::Relaxed);
            let mut res = text(StatusCode::SERVICE_UNAVAILABLE, BUSY_BODY);
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(5u32));
            res
        }
    }
}

/// `GET /__rtc?test=ID`: what the server received, echoed and refused of one
/// browser's data-channel test (the id is the test's secret, as for `/__stun`).
fn rtc_report(query: Option<&str>, shared: &Shared) -> Response<ResponseBody> {
    let Some(id) = stun_tests::parse_test_id(query) else {
        return text(
            StatusCode::BAD_REQUEST,
            "test must be the 16 hex digits the data-channel messages began with\n",
        );
    };
    let report = lock(&shared.rtc).report(&id);
    match report {
        Some(counts) => json_reply(&counts),
        None => text(
            StatusCode::NOT_FOUND,
            "no data-channel messages with this test id\n",
        ),
    }
}

/// Count and discard the body, within the size, stall and per-address limits.
async fn receive_upload(
    req: Request<Incoming>,
    shared: &Arc<Shared>,
    ip: IpAddr,
) -> Response<ResponseBody> {
    let limit = shared.config.max_upload_bytes;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit) {
        return closing(too_large(shared, "upload is above this server's limit\n"));
    }
    if declared == Some(0) {
        return text(StatusCode::OK, "");
    }
    // Without a declared length, reserve the most it may be; the rest is given back.
    let reserve = declared
        .unwrap_or(limit)
        .min(shared.config.per_address_bytes_per_minute);
    let mut ticket = match shared.start_transfer(ip, reserve) {
        Ok(ticket) => ticket,
        Err(refusal) => return closing(too_many(refusal, shared)),
    };
    let mut body = req.into_body();
    let mut received: u64 = 0;
    loop {
        match tokio::time::timeout(shared.config.body_idle_timeout, body.frame()).await {
            Err(_) => return closing(text(StatusCode::REQUEST_TIMEOUT, "the upload stalled\n")),
            Ok(None) => break,
            Ok(Some(Err(_))) => {
                return closing(text(StatusCode::BAD_REQUEST, "the upload was cut off\n"));
            }
            Ok(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    received += data.len() as u64;
                    ticket.used = received.min(ticket.reserved);
                    shared
                        .stats
                        .bytes_received
                        .fetch_add(data.len() as u64, Ordering::Relaxed);
                    if received > limit || received > reserve {
                        return closing(too_large(shared, "upload is above this server's limit\n"));
                    }
                }
            }
        }
    }
    text(StatusCode::OK, "")
}

/// Ask hyper to close the connection after this reply (the rest of the body is not read).
fn closing(mut res: Response<ResponseBody>) -> Response<ResponseBody> {
    res.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    res
}

/// A response body that holds its request open until hyper drops it.
struct Guarded {
    body: ResponseBody,
    _request: connection::RequestGuard,
}

impl Body for Guarded {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// A body of `remaining` pseudo-random bytes, generated as it is sent so memory
/// stays at one chunk per connection. Random so that no compressing proxy can
/// shrink it and flatter the figure.
struct RandomBody {
    remaining: u64,
    rng: SmallRng,
    stats: Arc<ServerStats>,
    ticket: Option<TransferTicket>,
}

const CHUNK: usize = 64 * 1024;

impl RandomBody {
    fn new(len: u64, stats: Arc<ServerStats>, ticket: Option<TransferTicket>) -> Self {
        RandomBody {
            remaining: len,
            rng: SmallRng::seed_from_u64(rand::random()),
            stats,
            ticket,
        }
    }
}

impl Body for RandomBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if self.remaining == 0 {
            return Poll::Ready(None);
        }
        let n = (self.remaining as usize).min(CHUNK);
        let mut buf = BytesMut::zeroed(n);
        self.rng.fill_bytes(&mut buf);
        self.remaining -= n as u64;
        if let Some(ticket) = self.ticket.as_mut() {
            ticket.used += n as u64;
        }
        self.stats.bytes_sent.fetch_add(n as u64, Ordering::Relaxed);
        Poll::Ready(Some(Ok(Frame::data(buf.freeze()))))
    }

    fn is_end_stream(&self) -> bool {
        self.remaining == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}

/// The UDP port: STUN for the probe, and WebRTC peer connections for
/// browsers, told apart by the first byte of each datagram (RFC 7983: 0-3
/// STUN, 20-63 DTLS); an ICE check is a STUN request naming a username.
async fn stun_loop(socket: UdpSocket, shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let config = &shared.config;
    let mut limiter = ReplyLimiter::new(
        config.stun_per_source_per_s,
        config.stun_replies_per_s,
        (config.stun_verified_per_s, config.stun_verified_total_per_s),
        Instant::now(),
    )
    .with_handshakes_per_s(config.stun_cookies_per_s);
    let cookies = stun_tests::Cookies::new();
    let mut buf = vec![0u8; 2048];
    // An IPv4 peer on a dual-stack socket is sent to at its mapped address.
    let dual_stack = socket.local_addr().is_ok_and(|a| a.is_ipv6());
    loop {
        let next_timer = lock(&shared.rtc).next_timeout();
        let timer = async {
            match next_timer {
                Some(at) => tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await,
                None => std::future::pending().await,
            }
        };
        let (len, from) = tokio::select! {
            r = socket.recv_from(&mut buf) => match r {
                Ok(pair) => pair,
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    continue;
                }
            },
            () = timer => {
                let mut budget = echo_budget(&mut limiter, &shared);
                let outbox = {
                    let mut peers = lock(&shared.rtc);
                    peers.tick(Instant::now(), &mut budget);
                    shared.stats.mirror_rtc(&peers);
                    peers.take_outbox()
                };
                send_all(&socket, outbox, dual_stack).await;
                continue;
            }
            () = shared.rtc_changed.notified() => continue,
            _ = stop.changed() => break,
        };
        let now = Instant::now();
        let datagram = &buf[..len];
        match datagram.first() {
            Some(0..=3) if rtc::Peers::is_ice_check(datagram) => {
                // Answered within the same per-source budget as any STUN request.
                if !stun_verdict(&shared, limiter.check(client_ip(from), now)) {
                    continue;
                }
                rtc_receive(&socket, &shared, &mut limiter, datagram, from, dual_stack).await;
            }
            Some(0..=3) => {
                let Some((reply, verdict)) =
                    stun_reply(&shared, &cookies, &mut limiter, datagram, from, now)
                else {
                    shared.stats.stun_ignored.fetch_add(1, Ordering::Relaxed);
                    continue;
                };
                if stun_verdict(&shared, verdict) && socket.send_to(&reply, from).await.is_ok() {
                    shared.stats.stun_replies.fetch_add(1, Ordering::Relaxed);
                }
            }
            Some(20..=63) => {
                rtc_receive(&socket, &shared, &mut limiter, datagram, from, dual_stack).await;
            }
            _ => {
                shared.stats.stun_ignored.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// The reply to a STUN request that is not an ICE check, and whether the limits allow it.
fn stun_reply(
    shared: &Shared,
    cookies: &stun_tests::Cookies,
    limiter: &mut ReplyLimiter,
    datagram: &[u8],
    from: SocketAddr,
    now: Instant,
) -> Option<(Vec<u8>, Verdict)> {
    match stun_test_request(datagram) {
        // A probe's stream, from a sender that proved it receives there.
        Some(t) if cookies.verify(from, &t.cookie, now) => {
            let verdict = limiter.check_verified(from, now);
            lock(&shared.stun_tests).record_stream(t.id, verdict == Verdict::Reply);
            Some((
                stun::binding_success(&t.txid, from, None, t.fingerprint),
                verdict,
            ))
        }
        // Asking for a cookie: answered from the address's budget for cookie requests.
        Some(t) => {
            let verdict = limiter.check_handshake(client_ip(from), now);
            lock(&shared.stun_tests).record_handshake(t.id, verdict == Verdict::Reply);
            let cookie = cookies.issue(from, now);
            let reply = stun::binding_success_with_cookie(&t.txid, from, &cookie, t.fingerprint);
            Some((reply, verdict))
        }
        // No SOFTWARE attribute: it would only make replies bigger than requests.
        None => stun::respond(datagram, from, None)
            .map(|reply| (reply, limiter.check(client_ip(from), now))),
    }
}

/// Count a limiter's verdict; true when the reply may be sent.
fn stun_verdict(shared: &Shared, verdict: Verdict) -> bool {
    match verdict {
        Verdict::Reply => true,
        Verdict::SourceLimited => {
            shared.stats.stun_dropped.fetch_add(1, Ordering::Relaxed);
            false
        }
        Verdict::ServerBusy => {
            shared.stats.stun_shed.fetch_add(1, Ordering::Relaxed);
            shared.stun_busy_until_ms.store(
                shared.clock.now_ms() + STUN_BUSY_NOTICE_MS,
                Ordering::Relaxed,
            );
            false
        }
    }
}

/// A data-channel echo is answered from the same per-sender budget as the
/// probe's verified STUN stream (the peer finished a DTLS handshake there).
fn echo_budget<'a>(
    limiter: &'a mut ReplyLimiter,
    shared: &'a Shared,
) -> impl FnMut(SocketAddr, Instant) -> bool + 'a {
    move |from, now| stun_verdict(shared, limiter.check_verified(from, now))
}

/// Hand a datagram to the peer connection it belongs to, and send what that makes.
async fn rtc_receive(
    socket: &UdpSocket,
    shared: &Shared,
    limiter: &mut ReplyLimiter,
    datagram: &[u8],
    from: SocketAddr,
    dual_stack: bool,
) {
    let mut budget = echo_budget(limiter, shared);
    let outbox = {
        let mut peers = lock(&shared.rtc);
        if !peers.receive(datagram, unmapped(from), Instant::now(), &mut budget) {
            shared.stats.stun_ignored.fetch_add(1, Ordering::Relaxed);
        }
        shared.stats.mirror_rtc(&peers);
        peers.take_outbox()
    };
    send_all(socket, outbox, dual_stack).await;
}

async fn send_all(socket: &UdpSocket, outbox: Vec<(SocketAddr, Vec<u8>)>, dual_stack: bool) {
    for (to, bytes) in outbox {
        let to = if dual_stack {
            SocketAddr::new(
                IpAddr::V6(match to.ip() {
                    IpAddr::V4(v4) => v4.to_ipv6_mapped(),
                    IpAddr::V6(v6) => v6,
                }),
                to.port(),
            )
        } else {
            to
        };
        let _ = socket.send_to(&bytes, to).await;
    }
}

/// An IPv4 sender on a dual-stack socket as the IPv4 address it is (as the answer names ours).
fn unmapped(addr: SocketAddr) -> SocketAddr {
    SocketAddr::new(client_ip(addr), addr.port())
}

/// The parts of a probe's test request the server needs.
struct TestRequest {
    txid: stun::TransactionId,
    id: [u8; stun::TAG_LEN],
    cookie: [u8; stun::TAG_LEN],
    fingerprint: bool,
}

/// A well-formed Binding request carrying a test id and an echo cookie.
fn stun_test_request(datagram: &[u8]) -> Option<TestRequest> {
    let msg = stun::parse(datagram).ok()?;
    if msg.class != stun::Class::Request
        || msg.method != stun::METHOD_BINDING
        || !msg.unknown_required().is_empty()
    {
        return None;
    }
    Some(TestRequest {
        txid: msg.transaction_id,
        id: msg.test_id()?,
        cookie: msg.echo_cookie()?,
        fingerprint: msg.has_fingerprint(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parsing_defaults_to_zero_and_rejects_junk() {
        assert_eq!(query_bytes(None), Ok(0));
        assert_eq!(query_bytes(Some("bytes=123")), Ok(123));
        assert_eq!(query_bytes(Some("measId=7&bytes=5")), Ok(5));
        assert_eq!(query_bytes(Some("other=1")), Ok(0));
        assert!(query_bytes(Some("bytes=-1")).is_err());
        assert!(query_bytes(Some("bytes=1e9")).is_err());
    }
}
