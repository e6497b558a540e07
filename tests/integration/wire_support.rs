//! What goes over the wire during a check: a real `serve` on loopback behind a
//! recording TCP and UDP relay, so a test can look at every byte the probe sent.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use session_ready::net::server::{self, RunningServer, ServerConfig};

/// Everything that crossed the relay, in both directions.
#[derive(Default)]
pub struct Recording {
    /// Bytes the client sent over TCP (requests, upload bodies).
    pub tcp_sent: Vec<u8>,
    /// Bytes the server sent back over TCP.
    pub tcp_received: usize,
    /// Every UDP datagram the client sent.
    pub udp_sent: Vec<Vec<u8>>,
}

/// A loopback `serve` with a recording relay in front of it.
pub struct Wire {
    _runtime: tokio::runtime::Runtime,
    _server: RunningServer,
    /// Where the client should send HTTP (the relay).
    pub http: SocketAddr,
    /// Where the client should send STUN (the relay).
    pub stun: SocketAddr,
    recording: Arc<Mutex<Recording>>,
}

impl Wire {
    pub fn start() -> Wire {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let server = runtime
            .block_on(server::spawn(ServerConfig::new(
                "127.0.0.1:0".parse().unwrap(),
            )))
            .expect("bind a loopback server");
        let upstream = server.addr;
        let recording = Arc::new(Mutex::new(Recording::default()));
        let http = relay_tcp(upstream, recording.clone());
        let stun = relay_udp(upstream, recording.clone());
        Wire {
            _runtime: runtime,
            _server: server,
            http,
            stun,
            recording,
        }
    }

    pub fn server_url(&self) -> String {
        format!("http://{}", self.http)
    }

    /// Wait briefly for relay threads to pass on the last bytes, then look.
    pub fn recording(&self) -> std::sync::MutexGuard<'_, Recording> {
        std::thread::sleep(Duration::from_millis(200));
        self.recording.lock().unwrap()
    }
}

fn relay_tcp(upstream: SocketAddr, recording: Arc<Mutex<Recording>>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let Ok(server) = TcpStream::connect(upstream) else {
                continue;
            };
            let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            let up = recording.clone();
            std::thread::spawn(move || {
                copy(client, server, |b| {
                    up.lock().unwrap().tcp_sent.extend_from_slice(b)
                })
            });
            let down = recording.clone();
            std::thread::spawn(move || {
                copy(s2, c2, |b| down.lock().unwrap().tcp_received += b.len())
            });
        }
    });
    addr
}

fn copy(mut from: TcpStream, mut to: TcpStream, mut record: impl FnMut(&[u8])) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                record(&buf[..n]);
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(std::net::Shutdown::Write);
}

fn relay_udp(upstream: SocketAddr, recording: Arc<Mutex<Recording>>) -> SocketAddr {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = socket.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut client = None;
        let mut buf = [0u8; 2048];
        while let Ok((n, from)) = socket.recv_from(&mut buf) {
            if from == upstream {
                if let Some(client) = client {
                    let _ = socket.send_to(&buf[..n], client);
                }
            } else {
                client = Some(from);
                recording.lock().unwrap().udp_sent.push(buf[..n].to_vec());
                let _ = socket.send_to(&buf[..n], upstream);
            }
        }
    });
    addr
}

/// Where `needle` occurs in `haystack`, ignoring ASCII case; `haystack` must
/// already be lower case ([`lowercase`]).
pub fn find(lowercase_haystack: &[u8], needle: &str) -> Option<usize> {
    memchr::memmem::find(lowercase_haystack, needle.to_ascii_lowercase().as_bytes())
}

pub fn lowercase(bytes: &[u8]) -> Vec<u8> {
    bytes.to_ascii_lowercase()
}

/// The ways a piece of text could be written on the wire: as typed, URL-encoded
/// (spaces as %20 or +), and JSON-escaped.
pub fn encodings(text: &str) -> Vec<String> {
    let url: String = text
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    let mut out = vec![
        text.to_string(),
        url.clone(),
        url.replace("%20", "+"),
        serde_json::to_string(text)
            .unwrap()
            .trim_matches('"')
            .to_string(),
    ];
    out.sort();
    out.dedup();
    out
}
