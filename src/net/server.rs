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
//! Limits keep memory bounded whatever clients do: a cap on concurrent
//! connections (extra ones wait in the listen queue), on header size, on
//! download and upload sizes, on how long a request body may stall, and on a
//! connection's lifetime; STUN replies are rate-limited per source address so
//! the server is useless as a traffic reflector.
use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use rand::{Rng, SeedableRng, rngs::SmallRng};
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::{Semaphore, watch};

use super::stun;

/// Response header that marks a session-ready server.
pub const IDENT_HEADER: &str = "session-ready";

/// Limits and addresses for one server.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// Connections served at once; more wait in the kernel's listen queue.
    pub max_connections: usize,
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
    /// On shutdown, how long open connections get to finish.
    pub drain_timeout: Duration,
}

impl ServerConfig {
    pub fn new(listen: SocketAddr) -> Self {
        ServerConfig {
            listen,
            max_connections: 256,
            max_download_bytes: 256 * 1_000_000,
            max_upload_bytes: 128 * 1_000_000,
            public_stun_port: None,
            header_timeout: Duration::from_secs(10),
            body_idle_timeout: Duration::from_secs(10),
            connection_lifetime: Duration::from_secs(120),
            stun_per_source_per_s: 200.0,
            drain_timeout: Duration::from_secs(5),
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
    pub rejected: AtomicU64,
    pub bytes_sent: AtomicU64,
    pub bytes_received: AtomicU64,
    pub stun_replies: AtomicU64,
    pub stun_dropped: AtomicU64,
}

/// Sockets bound and ready; call [`BoundServer::run`] to serve.
pub struct BoundServer {
    config: ServerConfig,
    tcp: TcpListener,
    udp: UdpSocket,
    pub stats: Arc<ServerStats>,
}

/// Bind TCP and UDP on the same address. With port 0, both get the same
/// free port (retrying when the UDP side of a fresh TCP port is taken).
pub async fn bind(config: ServerConfig) -> std::io::Result<BoundServer> {
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

    /// Serve until `shutdown` completes, then stop accepting, give open
    /// connections `drain_timeout` to finish, and return.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let (stop_tx, stop_rx) = watch::channel(false);
        let addr = self.local_addr();
        let stun_port = self.config.public_stun_port.unwrap_or(addr.port());
        let ident = HeaderValue::from_str(&format!(
            "{}; stun-port={stun_port}",
            env!("CARGO_PKG_VERSION")
        ))
        .unwrap_or_else(|_| HeaderValue::from_static("1"));
        let shared = Arc::new(Shared {
            config: self.config.clone(),
            stats: self.stats.clone(),
            ident,
        });
        let udp_task = tokio::spawn(stun_loop(self.udp, shared.clone(), stop_rx.clone()));
        let http_task = tokio::spawn(accept_loop(self.tcp, shared, stop_rx));
        shutdown.await;
        let _ = stop_tx.send(true);
        let _ = http_task.await;
        let _ = udp_task.await;
    }
}

/// A server running on the current runtime, stopped when dropped (for tests and benches).
pub struct RunningServer {
    pub addr: SocketAddr,
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
    let stats = bound.stats.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(bound.run(async move {
        let _ = stopped.await;
    }));
    Ok(RunningServer {
        addr,
        stats,
        stop: Some(stop),
        task: Some(task),
    })
}

struct Shared {
    config: ServerConfig,
    stats: Arc<ServerStats>,
    ident: HeaderValue,
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let slots = Arc::new(Semaphore::new(shared.config.max_connections.max(1)));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    loop {
        // Take a slot before accepting: beyond the limit, clients wait in the
        // listen queue instead of costing memory here.
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
            _ = stop.changed() => break,
        };
        let (stream, _peer) = tokio::select! {
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
        let _ = stream.set_nodelay(true);
        shared
            .stats
            .connections_total
            .fetch_add(1, Ordering::Relaxed);
        let open = shared
            .stats
            .connections_open
            .fetch_add(1, Ordering::Relaxed)
            + 1;
        shared
            .stats
            .connections_peak
            .fetch_max(open, Ordering::Relaxed);
        let service_shared = shared.clone();
        let service = service_fn(move |req| {
            let shared = service_shared.clone();
            async move { Ok::<_, Infallible>(handle(req, shared).await) }
        });
        let conn = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(shared.config.header_timeout)
            .max_header_size(16 * 1024)
            .max_buf_size(64 * 1024)
            .keep_alive(true)
            .serve_connection(TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        let lifetime = shared.config.connection_lifetime;
        let conn_shared = shared.clone();
        tokio::spawn(async move {
            let _ = tokio::time::timeout(lifetime, conn).await;
            conn_shared
                .stats
                .connections_open
                .fetch_sub(1, Ordering::Relaxed);
            drop(permit);
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(shared.config.drain_timeout, graceful.shutdown()).await;
}

type ResponseBody = BoxBody<Bytes, std::io::Error>;

fn text(status: StatusCode, body: &'static str) -> Response<ResponseBody> {
    let mut res = Response::new(
        Full::new(Bytes::from_static(body.as_bytes()))
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

fn query_bytes(query: Option<&str>) -> Result<u64, ()> {
    let Some(query) = query else { return Ok(0) };
    for pair in query.split('&') {
        if let Some(value) = pair.strip_prefix("bytes=") {
            return value.parse::<u64>().map_err(|_| ());
        }
    }
    Ok(0)
}

async fn handle(req: Request<Incoming>, shared: Arc<Shared>) -> Response<ResponseBody> {
    let started = Instant::now();
    shared.stats.requests.fetch_add(1, Ordering::Relaxed);
    let mut res = route(req, &shared).await;
    let headers = res.headers_mut();
    headers.insert(IDENT_HEADER, shared.ident.clone());
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("server-timing, session-ready"),
    );
    headers.insert("timing-allow-origin", HeaderValue::from_static("*"));
    let server_ms = started.elapsed().as_secs_f64() * 1000.0;
    if let Ok(v) = HeaderValue::from_str(&format!("app;dur={server_ms:.3}")) {
        headers.insert("server-timing", v);
    }
    if res.status().is_client_error() && res.status() != StatusCode::NOT_FOUND {
        shared.stats.rejected.fetch_add(1, Ordering::Relaxed);
    }
    res
}

async fn route(req: Request<Incoming>, shared: &Shared) -> Response<ResponseBody> {
    match (req.method(), req.uri().path()) {
        (&Method::GET | &Method::HEAD, "/__down") => {
            let Ok(bytes) = query_bytes(req.uri().query()) else {
                return text(StatusCode::BAD_REQUEST, "bytes must be a whole number\n");
            };
            if bytes > shared.config.max_download_bytes {
                return text(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "bytes is above this server's limit\n",
                );
            }
            let mut res = Response::new(RandomBody::new(bytes, shared.stats.clone()).boxed());
            res.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            );
            res
        }
        (&Method::POST, "/__up") => receive_upload(req, shared).await,
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
             STUN Binding requests are answered on this port over UDP.\n",
        ),
        _ => text(StatusCode::NOT_FOUND, "not found\n"),
    }
}

/// Count and discard the body, within the size and stall limits.
async fn receive_upload(req: Request<Incoming>, shared: &Shared) -> Response<ResponseBody> {
    let limit = shared.config.max_upload_bytes;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit) {
        return closing(text(
            StatusCode::PAYLOAD_TOO_LARGE,
            "upload is above this server's limit\n",
        ));
    }
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
                    shared
                        .stats
                        .bytes_received
                        .fetch_add(data.len() as u64, Ordering::Relaxed);
                    if received > limit {
                        return closing(text(
                            StatusCode::PAYLOAD_TOO_LARGE,
                            "upload is above this server's limit\n",
                        ));
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

/// A body of `remaining` pseudo-random bytes, generated as it is sent so memory
/// stays at one chunk per connection. Random so that no compressing proxy can
/// shrink it and flatter the figure.
struct RandomBody {
    remaining: u64,
    rng: SmallRng,
    stats: Arc<ServerStats>,
}

const CHUNK: usize = 64 * 1024;

impl RandomBody {
    fn new(len: u64, stats: Arc<ServerStats>) -> Self {
        RandomBody {
            remaining: len,
            rng: SmallRng::seed_from_u64(rand::random()),
            stats,
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

/// Token bucket per source address, so one address cannot make us send more
/// than `rate` replies a second (STUN replies are larger than requests).
struct ReplyLimiter {
    rate: f64,
    burst: f64,
    buckets: HashMap<IpAddr, (f64, Instant)>,
}

impl ReplyLimiter {
    const MAX_TRACKED: usize = 10_000;

    fn new(rate: f64) -> Self {
        ReplyLimiter {
            rate,
            burst: rate.max(1.0),
            buckets: HashMap::new(),
        }
    }

    fn allow(&mut self, ip: IpAddr, now: Instant) -> bool {
        if self.buckets.len() >= Self::MAX_TRACKED && !self.buckets.contains_key(&ip) {
            // Forget addresses idle for a few seconds (their buckets are full again anyway).
            self.buckets
                .retain(|_, (_, last)| now.duration_since(*last) < Duration::from_secs(5));
            if self.buckets.len() >= Self::MAX_TRACKED {
                return false;
            }
        }
        let (tokens, last) = self.buckets.entry(ip).or_insert((self.burst, now));
        let refill = now.duration_since(*last).as_secs_f64() * self.rate;
        *tokens = (*tokens + refill).min(self.burst);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

async fn stun_loop(socket: UdpSocket, shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let software = format!("session-ready {}", env!("CARGO_PKG_VERSION"));
    let mut limiter = ReplyLimiter::new(shared.config.stun_per_source_per_s);
    let mut buf = vec![0u8; 2048];
    loop {
        let (len, from) = tokio::select! {
            r = socket.recv_from(&mut buf) => match r {
                Ok(pair) => pair,
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    continue;
                }
            },
            _ = stop.changed() => break,
        };
        let Some(reply) = stun::respond(&buf[..len], from, Some(&software)) else {
            continue;
        };
        if !limiter.allow(from.ip(), Instant::now()) {
            shared.stats.stun_dropped.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        if socket.send_to(&reply, from).await.is_ok() {
            shared.stats.stun_replies.fetch_add(1, Ordering::Relaxed);
        }
    }
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

    #[test]
    fn limiter_allows_a_burst_then_the_steady_rate() {
        let mut l = ReplyLimiter::new(10.0);
        let t0 = Instant::now();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let allowed = (0..50).filter(|_| l.allow(ip, t0)).count();
        assert_eq!(allowed, 10);
        // One second later ten more tokens have accrued.
        let t1 = t0 + Duration::from_secs(1);
        assert_eq!((0..50).filter(|_| l.allow(ip, t1)).count(), 10);
        // Another address has its own bucket.
        assert!(l.allow("192.0.2.2".parse().unwrap(), t1));
    }
}
