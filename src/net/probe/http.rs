//! HTTP plumbing for the probe: clients, the latency ping, Server-Timing,
//! the session-ready identification header, and plain-language descriptions
//! of everything that can go wrong.
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use http::HeaderMap;
use reqwest::{Client, Url};

use super::ProbeConfig;
use crate::net::server::IDENT_HEADER;

/// Where HTTP requests go and how they get there.
#[derive(Debug, Clone)]
pub(super) struct Target {
    /// Base URL without a trailing slash, e.g. `https://speed.cloudflare.com`.
    pub base: String,
    pub host: String,
    pub port: u16,
    /// Address resolved once by the probe (None when a proxy resolves names).
    pub resolved: Option<SocketAddr>,
    /// The proxy in use, if any.
    pub proxy: Option<String>,
}

impl Target {
    pub fn down_url(&self, bytes: u64) -> String {
        format!("{}/__down?bytes={bytes}", self.base)
    }

    pub fn up_url(&self) -> String {
        format!("{}/__up", self.base)
    }

    pub fn display(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

/// Parse and check the server URL; the message is for the person at the keyboard.
pub fn parse_server_url(server: &str) -> Result<Url, String> {
    let url = Url::parse(server).map_err(|_| {
        format!(
            "The server address {server:?} is not a web address (expected something like https://speed.example.org)."
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!(
            "The server address {server:?} should start with http:// or https:// and name a host."
        ));
    }
    Ok(url)
}

/// The server as a person would name it: host, and port when one is given
/// (`https://speed.example.org/` → `speed.example.org`). Falls back to the
/// text as given when it is not a valid server address.
pub fn server_host(server: &str) -> String {
    match parse_server_url(server) {
        Ok(url) => match (url.host_str(), url.port()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            (Some(host), None) => host.to_string(),
            _ => server.to_string(),
        },
        Err(_) => server.to_string(),
    }
}

/// This computer itself (`localhost`, 127.0.0.0/8, ::1): never reached
/// through a proxy, as if NO_PROXY always named it (a proxy elsewhere cannot
/// reach this computer's loopback, and curl and browsers skip it too).
pub(super) fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_matches(['[', ']']).trim_end_matches('.');
    if host.eq_ignore_ascii_case("localhost") || host.to_ascii_lowercase().ends_with(".localhost") {
        return true;
    }
    host.parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

/// A proxy as it may be shown and saved: scheme, host and port only, never
/// a user name or password written into the address.
pub fn shown_proxy(proxy: &str) -> String {
    match Url::parse(proxy) {
        Ok(url) if url.host_str().is_some() => {
            let host = url.host_str().unwrap_or_default();
            match url.port_or_known_default() {
                Some(port) => format!("{}://{host}:{port}", url.scheme()),
                None => format!("{}://{host}", url.scheme()),
            }
        }
        // Without a scheme (`proxy.example:3128`), reqwest assumes http://.
        _ => match Url::parse(&format!("http://{proxy}")) {
            Ok(url) if url.host_str().is_some() => format!(
                "http://{}:{}",
                url.host_str().unwrap_or_default(),
                url.port_or_known_default().unwrap_or(80)
            ),
            _ => "a proxy set for this computer".to_string(),
        },
    }
}

/// The proxy to reach `url` through: the `--proxy` setting (empty or
/// "none": straight to the server), else what the environment asks for.
pub(super) fn proxy_for(setting: Option<&str>, url: &Url) -> Option<String> {
    match setting {
        Some("") | Some("none") => None,
        Some(p) => Some(p.to_string()),
        None => env_proxy_for(url),
    }
}

/// The proxy the environment asks for, mirroring reqwest's reading of
/// HTTP_PROXY / HTTPS_PROXY / ALL_PROXY and NO_PROXY (so the report can say
/// the figures describe the path through the proxy). Loopback servers are
/// always reached directly.
fn env_proxy_for(url: &Url) -> Option<String> {
    if url.host_str().is_some_and(is_loopback_host) {
        return None;
    }
    let var = |names: &[&str]| {
        names
            .iter()
            .filter_map(|n| std::env::var(n).ok())
            .find(|v| !v.trim().is_empty())
    };
    let proxy = match url.scheme() {
        "https" => var(&["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]),
        _ => var(&["http_proxy", "HTTP_PROXY", "ALL_PROXY", "all_proxy"]),
    }?;
    let host = url.host_str().unwrap_or_default().trim_matches(['[', ']']);
    let no_proxy = var(&["NO_PROXY", "no_proxy"]).unwrap_or_default();
    let bypass = no_proxy.split(',').map(str::trim).any(|entry| {
        let entry = entry.trim_start_matches('.');
        !entry.is_empty() && (entry == "*" || host == entry || host.ends_with(&format!(".{entry}")))
    });
    (!bypass).then_some(proxy)
}

/// One HTTP/1.1 client = one TCP connection (pool of one), so parallel
/// streams are separate connections, as in a browser speed test.
pub(super) fn client(target: &Target, config: &ProbeConfig) -> Result<Client, String> {
    let mut builder = Client::builder()
        .user_agent(concat!(
            "session-ready/",
            env!("CARGO_PKG_VERSION"),
            " (connection test)"
        ))
        .http1_only()
        .pool_max_idle_per_host(1)
        .tcp_nodelay(true)
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs_f64(config.timing.connect_timeout_s));
    builder = match config.proxy.as_deref() {
        Some("") | Some("none") => builder.no_proxy(),
        Some(url) => builder.proxy(
            reqwest::Proxy::all(url)
                .map_err(|_| format!("The proxy address {url:?} is not valid."))?,
        ),
        // reqwest would take HTTP_PROXY even for this computer's own address.
        None if target.proxy.is_none() && is_loopback_host(&target.host) => builder.no_proxy(),
        None => builder,
    };
    if let (Some(addr), None) = (target.resolved, target.proxy.as_ref()) {
        builder = builder.resolve(&target.host, addr);
    }
    if let Some(path) = &config.ca_file {
        builder = builder.tls_certs_merge(extra_roots(path)?);
    }
    builder
        .build()
        .map_err(|e| format!("The connection test could not start its web client ({e})."))
}

/// The certificate authorities in a PEM file (`SSL_CERT_FILE`), trusted in
/// addition to the system's: how a clinic that terminates TLS with its own
/// CA lets the probe check its server.
fn extra_roots(path: &std::path::Path) -> Result<Vec<reqwest::Certificate>, String> {
    let shown = path.display();
    let pem = std::fs::read(path).map_err(|e| {
        format!(
            "The certificate file {shown} (named by SSL_CERT_FILE) could not be read ({}). \
             Check the path, or unset SSL_CERT_FILE to use this computer's own list.",
            e.kind()
        )
    })?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem).unwrap_or_default();
    if certs.is_empty() {
        return Err(format!(
            "The certificate file {shown} (named by SSL_CERT_FILE) holds no certificates \
             in PEM form (text starting with -----BEGIN CERTIFICATE-----)."
        ));
    }
    Ok(certs)
}

/// What a session-ready server counted of the call-like test `test`
/// (`GET /__stun?test=…`); `None` when it could not say.
pub(super) async fn stun_counts(
    client: &Client,
    target: &Target,
    test: &[u8],
) -> Option<crate::net::model::ServerCounts> {
    stun_report(client, target, test).await.map(|r| r.stream)
}

/// The same, for the cookie handshake that came before the stream.
pub(super) async fn stun_counts_of_handshake(
    client: &Client,
    target: &Target,
    test: &[u8],
) -> Option<crate::net::model::ServerCounts> {
    stun_report(client, target, test).await.map(|r| r.handshake)
}

#[derive(serde::Deserialize)]
struct StunReport {
    handshake: crate::net::model::ServerCounts,
    stream: crate::net::model::ServerCounts,
}

async fn stun_report(client: &Client, target: &Target, test: &[u8]) -> Option<StunReport> {
    let hex: String = test.iter().map(|b| format!("{b:02x}")).collect();
    let response = client
        .get(format!("{}/__stun?test={hex}", target.base))
        .send()
        .await
        .ok()?;
    if !response.status().is_success() {
        return None;
    }
    let body = response.bytes().await.ok()?;
    if body.len() > PING_BODY_LIMIT {
        return None;
    }
    serde_json::from_slice(&body).ok()
}

/// What a latency ping learned.
#[derive(Debug, Clone)]
pub(super) struct Pong {
    /// Round trip with the server's own time taken out, milliseconds.
    pub rtt_ms: f64,
    /// STUN port announced by a session-ready server.
    pub stun_port: Option<u16>,
    pub is_session_ready: bool,
    /// A session-ready server said it is shedding STUN replies.
    pub stun_busy: bool,
    /// Bytes of the request and reply, approximately (headers included).
    pub bytes: u64,
}

/// Most a latency reply may carry; anything bigger is not a speed-test server.
const PING_BODY_LIMIT: usize = 64 * 1024;

/// One `GET /__down?bytes=0` round trip on `client`'s (ideally warm) connection.
pub(super) async fn ping(client: &Client, target: &Target) -> Result<Pong, String> {
    let url = target.down_url(0);
    let request_bytes = 100 + url.len() as u64;
    let sent = Instant::now();
    let mut response = client
        .get(&url)
        .send()
        .await
        .map_err(|e| describe(&e, target))?;
    let elapsed_ms = sent.elapsed().as_secs_f64() * 1000.0;
    check_status(&response)?;
    let headers = response.headers().clone();
    let mut body = 0usize;
    while let Some(chunk) = response.chunk().await.map_err(|e| describe(&e, target))? {
        body += chunk.len();
        if body > PING_BODY_LIMIT {
            return Err(
                "The measurement server sent far more than a short reply, so it may not be a speed-test server."
                    .to_string(),
            );
        }
    }
    let server_ms = server_timing_ms(&headers).filter(|s| *s >= 0.0 && *s < elapsed_ms);
    let (is_session_ready, stun_port) = identify(&headers);
    Ok(Pong {
        rtt_ms: elapsed_ms - server_ms.unwrap_or(0.0),
        stun_port,
        is_session_ready,
        stun_busy: stun_busy(&headers),
        bytes: request_bytes + header_bytes(&headers) + body as u64,
    })
}

/// Approximate size of a response head on the wire.
pub(super) fn header_bytes(headers: &HeaderMap) -> u64 {
    17 + headers
        .iter()
        .map(|(k, v)| (k.as_str().len() + v.len() + 4) as u64)
        .sum::<u64>()
        + 2
}

pub(super) fn check_status(response: &reqwest::Response) -> Result<(), String> {
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    if is_busy(status) {
        return Err(SERVER_BUSY.to_string());
    }
    let what = status.canonical_reason().unwrap_or("unexpected");
    let hint = match status.as_u16() {
        404 | 405 => " It may not be a speed-test server.",
        413 => " It does not accept transfers this large.",
        500..=599 => " The problem is on the server's side; trying again later may help.",
        _ => "",
    };
    Err(format!(
        "The measurement server answered with status {} ({what}).{hint}",
        status.as_u16()
    ))
}

/// What the client is told when the server asks it to come back later: the
/// server's load, never a property of the client's line.
pub const SERVER_BUSY: &str = "The measurement server was busy, so this was not measured; \
     it says nothing about your connection. Trying again in a few minutes may help.";

/// 429 (this address has had its share for now) and 503 (the server is full).
fn is_busy(status: reqwest::StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 503)
}

/// Does a session-ready server say it is shedding STUN replies (so unanswered
/// audio-like packets are its doing, not the client's network)?
pub fn stun_busy(headers: &HeaderMap) -> bool {
    headers
        .get(IDENT_HEADER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(';').any(|p| p.trim() == "stun-busy"))
}

/// Server time from `Server-Timing` (largest `dur`, in ms): Cloudflare sends
/// `cfRequestDuration;dur=…`, session-ready sends `app;dur=…`.
pub fn server_timing_ms(headers: &HeaderMap) -> Option<f64> {
    headers
        .get_all("server-timing")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split([',', ';']))
        .filter_map(|part| part.trim().strip_prefix("dur="))
        .filter_map(|d| d.trim_matches('"').parse::<f64>().ok())
        .filter(|d| d.is_finite())
        .reduce(f64::max)
}

/// Is this a session-ready server, and which STUN port does it announce?
pub fn identify(headers: &HeaderMap) -> (bool, Option<u16>) {
    let Some(value) = headers.get(IDENT_HEADER).and_then(|v| v.to_str().ok()) else {
        return (false, None);
    };
    let port = value
        .split(';')
        .filter_map(|p| p.trim().strip_prefix("stun-port="))
        .find_map(|p| p.parse::<u16>().ok())
        .filter(|p| *p != 0);
    (true, port)
}

/// A TLS problem in words: a certificate this computer does not trust is
/// named as such (the usual cause behind a clinic's own TLS proxy).
fn tls_problem(err: &rustls::Error, place: &str) -> String {
    match err {
        rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented => format!(
            "The server's certificate is not trusted by this computer, so no secure connection \
             to {place} was made. If your clinic gave you a certificate file, set SSL_CERT_FILE \
             to it and try again."
        ),
        _ => format!(
            "A secure connection to {place} could not be set up (the two sides could not agree \
             on how to secure it)."
        ),
    }
}

/// A reqwest error in words for a client, without jargon.
pub(super) fn describe(err: &reqwest::Error, target: &Target) -> String {
    use std::error::Error as _;
    let place = target.display();
    let mut io_kind = None;
    let mut hyper_err: Option<&hyper::Error> = None;
    let mut tls: Option<rustls::Error> = None;
    let mut source = err.source();
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            io_kind.get_or_insert(io.kind());
            // An io::Error hides the error it wraps from `source()`, and the
            // TLS connector wraps rustls's error in two of them.
            let mut wrapped = io.get_ref();
            while let Some(inner) = wrapped {
                if let Some(rustls_err) = inner.downcast_ref::<rustls::Error>() {
                    tls.get_or_insert(rustls_err.clone());
                }
                wrapped = inner
                    .downcast_ref::<std::io::Error>()
                    .and_then(|io| io.get_ref());
            }
        }
        if let Some(h) = cause.downcast_ref::<hyper::Error>() {
            hyper_err.get_or_insert(h);
        }
        if let Some(inner) = cause.downcast_ref::<rustls::Error>() {
            tls.get_or_insert(inner.clone());
        }
        source = cause.source();
    }
    use std::io::ErrorKind as K;
    if let Some(h) = hyper_err {
        if h.is_parse_too_large() {
            return "The measurement server sent a reply too large to read, so it was set aside."
                .to_string();
        }
        if h.is_parse() || h.is_parse_status() {
            return "The measurement server's reply was not in a form this program understands."
                .to_string();
        }
        if h.is_incomplete_message() {
            return "The measurement server closed the connection before sending everything it promised."
                .to_string();
        }
    }
    if let Some(tls) = tls {
        return tls_problem(&tls, &place);
    }
    // Through a proxy, the connection that failed to open is the one to the
    // proxy: name it, not the server, which was never reached.
    if let Some(proxy) = &target.proxy
        && (err.is_connect() || io_kind.is_some_and(|k| matches!(k, K::ConnectionRefused)))
    {
        let proxy = shown_proxy(proxy);
        let why = match io_kind {
            Some(K::ConnectionRefused) => {
                " (it turned the connection away: nothing is answering there)"
            }
            Some(K::TimedOut) => " (it did not answer in time)",
            Some(K::HostUnreachable | K::NetworkUnreachable) => {
                " (it cannot be reached from this network right now)"
            }
            _ => "",
        };
        return format!(
            "The proxy {proxy} could not be used{why}, so the measurement server at {place} \
             was not reached. The proxy comes from this computer's proxy settings (HTTP_PROXY \
             or HTTPS_PROXY); check them with whoever looks after this computer, or try \
             again without the proxy."
        );
    }
    match io_kind {
        Some(K::ConnectionRefused) => {
            return format!(
                "The measurement server at {place} turned the connection away (nothing is answering there)."
            );
        }
        Some(K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe) => {
            return "The connection to the measurement server was cut off part-way.".to_string();
        }
        Some(K::UnexpectedEof) => {
            return "The measurement server closed the connection before sending everything it promised."
                .to_string();
        }
        Some(K::TimedOut) => {
            return format!("The measurement server at {place} did not answer in time.");
        }
        Some(K::HostUnreachable | K::NetworkUnreachable) => {
            return format!("{place} cannot be reached from this network right now.");
        }
        _ => {}
    }
    if err.is_timeout() {
        return format!("The measurement server at {place} did not answer in time.");
    }
    if err.is_connect() {
        return format!("Could not connect to the measurement server at {place}.");
    }
    if err.is_body() || err.is_decode() {
        return "The connection to the measurement server was cut off part-way.".to_string();
    }
    format!("The measurement server at {place} could not be used ({err}).")
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn server_timing_takes_the_largest_duration() {
        let mut h = HeaderMap::new();
        h.append(
            "server-timing",
            HeaderValue::from_static("cfL4;desc=\"?proto=TCP\""),
        );
        h.append(
            "server-timing",
            HeaderValue::from_static("cfRequestDuration;dur=12.5"),
        );
        assert_eq!(server_timing_ms(&h), Some(12.5));
        let mut ours = HeaderMap::new();
        ours.insert(
            "server-timing",
            HeaderValue::from_static("app;dur=0.040, db;dur=3"),
        );
        assert_eq!(server_timing_ms(&ours), Some(3.0));
        assert_eq!(server_timing_ms(&HeaderMap::new()), None);
        let mut junk = HeaderMap::new();
        junk.insert("server-timing", HeaderValue::from_static("app;dur=abc"));
        assert_eq!(server_timing_ms(&junk), None);
    }

    #[test]
    fn a_server_is_named_by_host_and_given_port() {
        assert_eq!(
            server_host("https://speed.cloudflare.com"),
            "speed.cloudflare.com"
        );
        assert_eq!(server_host("http://127.0.0.1:8080/"), "127.0.0.1:8080");
        assert_eq!(server_host("https://x.example/speed/"), "x.example");
        assert_eq!(server_host("not a url"), "not a url");
    }

    #[test]
    fn identification_header_gives_the_stun_port() {
        let mut h = HeaderMap::new();
        assert_eq!(identify(&h), (false, None));
        h.insert(
            IDENT_HEADER,
            HeaderValue::from_static("0.1.0; stun-port=3478"),
        );
        assert_eq!(identify(&h), (true, Some(3478)));
        h.insert(IDENT_HEADER, HeaderValue::from_static("0.1.0"));
        assert_eq!(identify(&h), (true, None));
        h.insert(IDENT_HEADER, HeaderValue::from_static("0.1.0; stun-port=0"));
        assert_eq!(identify(&h), (true, None));
        assert!(!stun_busy(&h));
        h.insert(
            IDENT_HEADER,
            HeaderValue::from_static("0.1.0; stun-port=3478; stun-busy"),
        );
        assert_eq!(identify(&h), (true, Some(3478)));
        assert!(stun_busy(&h));
    }

    #[test]
    fn server_urls_are_checked_in_plain_words() {
        assert!(parse_server_url("https://speed.cloudflare.com").is_ok());
        assert!(parse_server_url("http://127.0.0.1:8080").is_ok());
        assert!(
            parse_server_url("speed.example.org")
                .unwrap_err()
                .contains("not a web address")
        );
        assert!(
            parse_server_url("ftp://x.org")
                .unwrap_err()
                .contains("http://")
        );
    }
}
