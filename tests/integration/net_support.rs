//! Helpers for the network tests: quick probe settings, a real `serve` on
//! loopback, and small misbehaving servers built here. Loopback only.

use std::net::SocketAddr;
use std::time::Duration;

use session_ready::net::probe::{ProbeConfig, ProbeTiming};
use session_ready::net::server::{self, RunningServer, ServerConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};

/// Probe settings for loopback: short steps, proxies from the environment ignored.
pub fn quick(server: impl Into<String>) -> ProbeConfig {
    let mut config = ProbeConfig::new(server);
    config.timing = ProbeTiming::quick();
    config.max_seconds = 6.0;
    config.proxy = Some("none".into());
    config
}

pub async fn serve() -> RunningServer {
    serve_with(ServerConfig::new("127.0.0.1:0".parse().unwrap())).await
}

pub async fn serve_with(config: ServerConfig) -> RunningServer {
    server::spawn(config).await.expect("bind a loopback server")
}

/// How a fake HTTP server answers a request for `path`.
#[derive(Clone, Copy, Debug)]
pub enum Misbehaviour {
    /// Latency pings are answered properly; downloads send headers and part of the body, then reset.
    ResetMidBody,
    /// Latency pings are answered; downloads send headers, then nothing, forever.
    StallAfterHeaders,
    /// Latency pings are answered; downloads trickle 1 kB every 50 ms, forever.
    SlowTrickle,
    /// Downloads promise the requested length, send a tenth of it, then close.
    ShortBody,
    /// Every reply has a 1 MB header (beyond the client's 400 kB head limit).
    OversizedHeaders,
    /// Every reply is not HTTP at all.
    Garbage,
    /// Every reply is 404 (a web server, but not a speed-test one).
    NotFound,
    /// Uploads are read for a while and then the server stops reading and never answers.
    UploadStall,
    /// Downloads start very slowly and speed up by half every 0.1 s, so the rate never
    /// settles and stays under 0.5 Mbit/s per stream for the first second.
    Accelerating,
}

pub struct FakeHttp {
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeHttp {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Read one request head; returns (method, path, content-length) or None at EOF.
async fn read_head(stream: &mut TcpStream) -> Option<(String, String, u64)> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).await.ok()? == 0 {
            return None;
        }
        head.push(byte[0]);
        if head.len() > 64 * 1024 {
            return None;
        }
    }
    let text = String::from_utf8_lossy(&head).to_string();
    let mut first = text.lines().next()?.split_whitespace();
    let method = first.next()?.to_string();
    let path = first.next()?.to_string();
    let length = text
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    Some((method, path, length))
}

fn requested_bytes(path: &str) -> u64 {
    path.split("bytes=")
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

const OK_EMPTY: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";

async fn answer(mut stream: TcpStream, how: Misbehaviour) {
    loop {
        let Some((method, path, length)) = read_head(&mut stream).await else {
            return;
        };
        let wanted = requested_bytes(&path);
        match how {
            Misbehaviour::Garbage => {
                let _ = stream
                    .write_all(b"HELLO, THIS IS NOT A WEB SERVER\r\n\r\n")
                    .await;
                return;
            }
            Misbehaviour::NotFound => {
                let _ = stream
                    .write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n")
                    .await;
                continue;
            }
            Misbehaviour::OversizedHeaders => {
                let filler = "x".repeat(1024 * 1024);
                let reply =
                    format!("HTTP/1.1 200 OK\r\nx-filler: {filler}\r\ncontent-length: 0\r\n\r\n");
                let _ = stream.write_all(reply.as_bytes()).await;
                continue;
            }
            _ => {}
        }
        if method == "POST" {
            if matches!(how, Misbehaviour::UploadStall) {
                let mut buf = vec![0u8; 16 * 1024];
                let _ = stream.read(&mut buf).await;
                // Stop reading; never answer.
                tokio::time::sleep(Duration::from_secs(3600)).await;
                return;
            }
            let mut left = length;
            let mut buf = vec![0u8; 64 * 1024];
            while left > 0 {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => left = left.saturating_sub(n as u64),
                }
            }
            if stream.write_all(OK_EMPTY).await.is_err() {
                return;
            }
            continue;
        }
        if wanted == 0 {
            if stream.write_all(OK_EMPTY).await.is_err() {
                return;
            }
            continue;
        }
        let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {wanted}\r\n\r\n");
        if stream.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        let chunk = vec![7u8; 1024];
        match how {
            Misbehaviour::ResetMidBody => {
                for _ in 0..64 {
                    let _ = stream.write_all(&chunk).await;
                }
                let _ = stream.set_zero_linger();
                return; // dropping with linger 0 sends a reset
            }
            Misbehaviour::Accelerating => {
                // 20 ms ticks, 1.5 times more every 5 ticks: 20 B at first, about
                // 1.2 kB per tick (60 kB/s) after 1 s.
                let mut sent = 0u64;
                for tick in 0u32.. {
                    let n = (20.0 * 1.5f64.powf(f64::from(tick) / 5.0)) as u64;
                    let n = n.min(wanted - sent).min(64 * 1024) as usize;
                    if n == 0 || stream.write_all(&vec![7u8; n]).await.is_err() {
                        return;
                    }
                    sent += n as u64;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                return;
            }
            Misbehaviour::StallAfterHeaders | Misbehaviour::UploadStall => {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                return;
            }
            Misbehaviour::SlowTrickle => loop {
                if stream.write_all(&chunk).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            },
            Misbehaviour::ShortBody => {
                let mut sent = 0;
                while sent < wanted / 10 {
                    let _ = stream.write_all(&chunk).await;
                    sent += chunk.len() as u64;
                }
                return;
            }
            _ => unreachable!("handled above"),
        }
    }
}

pub async fn fake_http(how: Misbehaviour) -> FakeHttp {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(answer(stream, how));
        }
    });
    FakeHttp { addr, task }
}

/// A fake HTTP server misbehaving `how`, and quick probe settings pointing at
/// it (keep the server alive while the probe runs).
pub async fn fake_http_and_config(how: Misbehaviour) -> (FakeHttp, ProbeConfig) {
    let fake = fake_http(how).await;
    let config = quick(format!("http://{}", fake.addr));
    (fake, config)
}

/// A real `serve` for HTTP with a fake STUN server misbehaving `how` beside
/// it, and quick probe settings using both.
pub async fn serve_and_fake_stun(how: StunMisbehaviour) -> (RunningServer, FakeUdp, ProbeConfig) {
    let server = serve().await;
    let fake = fake_stun(how).await;
    let mut config = quick(format!("http://{}", server.addr));
    config.stun = Some(fake.addr.to_string());
    (server, fake, config)
}

/// How a fake STUN server replies.
#[derive(Clone, Copy, Debug)]
pub enum StunMisbehaviour {
    /// Never replies (UDP silently dropped).
    Silent,
    /// Replies with bytes that are not STUN.
    Malformed,
    /// Replies with a well-formed Binding success for a different transaction id.
    WrongTransaction,
    /// Replies correctly, plus a spoofed reply (wrong transaction id) for each request.
    CorrectPlusSpoofed,
}

pub struct FakeUdp {
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeUdp {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub async fn fake_stun(how: StunMisbehaviour) -> FakeUdp {
    use session_ready::net::stun;
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = socket.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let mut buf = vec![0u8; 2048];
        while let Ok((len, from)) = socket.recv_from(&mut buf).await {
            let Ok(request) = stun::parse(&buf[..len]) else {
                continue;
            };
            let mut wrong = request.transaction_id;
            wrong[0] ^= 0xFF;
            match how {
                StunMisbehaviour::Silent => {}
                StunMisbehaviour::Malformed => {
                    let _ = socket
                        .send_to(b"\x01\x01\x00\x04not stun at all", from)
                        .await;
                }
                StunMisbehaviour::WrongTransaction => {
                    let _ = socket
                        .send_to(&stun::binding_success(&wrong, from, None, false), from)
                        .await;
                }
                StunMisbehaviour::CorrectPlusSpoofed => {
                    let _ = socket
                        .send_to(&stun::binding_success(&wrong, from, None, false), from)
                        .await;
                    let _ = socket
                        .send_to(
                            &stun::binding_success(&request.transaction_id, from, None, false),
                            from,
                        )
                        .await;
                }
            }
        }
    });
    FakeUdp { addr, task }
}

/// A plain HTTP client for tests (crypto provider installed, proxies ignored).
pub fn http_client() -> reqwest::Client {
    session_ready::net::probe::ensure_crypto_provider();
    reqwest::Client::builder().no_proxy().build().unwrap()
}

/// Environment variables that would send the probe elsewhere or change output.
pub const ENV_TO_CLEAR: [&str; 10] = [
    "NO_COLOR",
    "SESSION_READY_PLAIN",
    "SESSION_READY_SERVER",
    "SESSION_READY_STUN",
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
];
