//! The local browser page (`check --browser`): a small web server on
//! 127.0.0.1 that serves the camera, microphone and speaker test.
//!
//! Only this computer's browser may use it, and only with the address that
//! was printed: it listens on loopback on a random port; every path starts
//! with a 128-bit random token (anything else gets 403); the Host header must
//! name the loopback address and port and an Origin, when sent, must be the
//! page itself (a DNS-rebinding page on another site gets 403); every answer
//! carries a strict Content-Security-Policy; all files are built into the
//! binary, so the page loads nothing from anywhere else.
//!
//! The page measures pictures and sound itself and sends only numbers here;
//! the words it shows come back from the rules in `device::media`.
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::response::Response;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use serde::de::DeserializeOwned;
use tokio::net::TcpListener;
use tokio::sync::Notify;

use crate::device::media::{
    self, CameraMeasure, MediaMeasurements, MicrophoneMeasure, SpeakerMeasure,
};

pub mod html;
pub mod walk;

/// Files built into the binary: (path after the token, content type, body).
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "",
        "text/html; charset=utf-8",
        include_bytes!("assets/index.html"),
    ),
    (
        "media.js",
        "text/javascript; charset=utf-8",
        include_bytes!("assets/media.js"),
    ),
    (
        "style.css",
        "text/css; charset=utf-8",
        include_bytes!("assets/style.css"),
    ),
    (
        "icon.svg",
        "image/svg+xml",
        include_bytes!("assets/icon.svg"),
    ),
    (
        "leave.js",
        "text/javascript; charset=utf-8",
        include_bytes!("assets/leave.js"),
    ),
];

/// No script, style, image or connection from anywhere but the page itself;
/// no frames, no plugins, no form posts elsewhere.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self'; img-src 'self'; media-src 'self' mediastream: blob:; connect-src 'self'; \
    base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The largest request body accepted: the measurements are a few hundred bytes.
const MAX_BODY: usize = 4096;

/// The largest form accepted from the questions: a plan answer of
/// `safe_text::MAX_FIELD_CHARS` characters, each up to 12 bytes once encoded.
const MAX_FORM: usize = 16 * 1024;

/// When the page server gives up waiting.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Stop when nothing at all has come from the page for this long.
    pub idle: Duration,
    /// Stop when the open page has stopped saying it is still there for this long.
    pub closed_after: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            idle: Duration::from_secs(15 * 60),
            // Browsers slow timers in background tabs to about once a minute.
            closed_after: Duration::from_secs(150),
        }
    }
}

/// Why the page server stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The client pressed Finish.
    Finished,
    /// The page stopped sending its heartbeat.
    PageClosed,
    /// Nothing came from the page within the idle limit.
    Idle,
}

impl Ending {
    /// What the terminal says when the page server stops.
    pub fn message(self) -> &'static str {
        match self {
            Ending::Finished => {
                "The browser test is finished, and session-ready has closed its page server."
            }
            Ending::PageClosed => {
                "The browser page seems to have been closed, so session-ready has stopped its page server. Anything not tested there is marked \"not tested\"."
            }
            Ending::Idle => {
                "Nothing happened on the browser page for a while, so session-ready has stopped its page server. Anything not tested there is marked \"not tested\"."
            }
        }
    }
}

#[derive(Default)]
struct Progress {
    media: MediaMeasurements,
    /// Last request with the right token, heartbeats included.
    last_seen: Option<Instant>,
    /// Last request other than a heartbeat: the client doing something.
    last_action: Option<Instant>,
    finished: bool,
}

struct Shared {
    token: String,
    /// Host header values this server answers to.
    hosts: [String; 2],
    /// Origin header values accepted.
    origins: [String; 2],
    progress: Mutex<Progress>,
    changed: Notify,
    /// The questions, when the page serves the whole check.
    walk: Option<Mutex<walk::PageWalk>>,
}

impl Shared {
    fn progress(&self) -> std::sync::MutexGuard<'_, Progress> {
        self.progress.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn walk(&self) -> Option<std::sync::MutexGuard<'_, walk::PageWalk>> {
        self.walk
            .as_ref()
            .map(|w| w.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// A running page server.
pub struct PageServer {
    url: String,
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Arc<Notify>,
    task: tokio::task::JoinHandle<()>,
}

/// 128 random bits as 32 lowercase hex digits.
fn new_token() -> String {
    let bits: u128 = rand::random();
    format!("{bits:032x}")
}

impl PageServer {
    /// Listen on a random loopback port. Must be called inside a tokio runtime.
    pub async fn start() -> std::io::Result<PageServer> {
        Self::serve(None).await
    }

    /// The whole check in the page: the questions first (the media test is
    /// at `media`). Must be called inside a tokio runtime.
    pub async fn start_check(setup: walk::WalkSetup) -> std::io::Result<PageServer> {
        Self::serve(Some(walk::PageWalk::new(setup))).await
    }

    async fn serve(walk: Option<walk::PageWalk>) -> std::io::Result<PageServer> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let token = new_token();
        let port = addr.port();
        let shared = Arc::new(Shared {
            token: token.clone(),
            hosts: [format!("127.0.0.1:{port}"), format!("localhost:{port}")],
            origins: [
                format!("http://127.0.0.1:{port}"),
                format!("http://localhost:{port}"),
            ],
            progress: Mutex::default(),
            changed: Notify::new(),
            walk: walk.map(Mutex::new),
        });
        let router = axum::Router::new()
            .fallback(handle)
            .with_state(shared.clone());
        let stop = Arc::new(Notify::new());
        let stopped = stop.clone();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(async move { stopped.notified().await })
                .await;
        });
        Ok(PageServer {
            url: format!("http://127.0.0.1:{port}/{token}/"),
            addr,
            shared,
            stop,
            task,
        })
    }

    /// The address to open, token included.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Wait until the client finishes, the page goes away, or the idle limit passes.
    pub async fn wait(&self, limits: Limits) -> Ending {
        let started = Instant::now();
        loop {
            let changed = self.shared.changed.notified();
            {
                let p = self.shared.progress();
                if p.finished {
                    return Ending::Finished;
                }
                if p.last_seen
                    .is_some_and(|seen| seen.elapsed() >= limits.closed_after)
                {
                    return Ending::PageClosed;
                }
                if p.last_action.unwrap_or(started).elapsed() >= limits.idle {
                    return Ending::Idle;
                }
            }
            // Woken early by any request; otherwise look again shortly.
            let _ = tokio::time::timeout(Duration::from_millis(250), changed).await;
        }
    }

    /// What the page measured so far.
    pub fn measurements(&self) -> MediaMeasurements {
        self.shared.progress().media
    }

    /// How the questions ended, once the client has seen the last page of
    /// an ending here (`Completed` and `FinishedEarly` go on to `finish`).
    pub fn walk_ending(&self) -> Option<crate::questionnaire::walk::Ending> {
        self.shared.walk().and_then(|w| w.ending())
    }

    /// The finished questions, for the end of the check.
    pub fn finished_walk(&self) -> Option<walk::FinishedWalk> {
        self.shared.walk().and_then(|w| w.finished())
    }

    /// The questions' whole state (the end of the check, tests).
    pub fn walk_state(&self) -> Option<crate::questionnaire::walk::WalkState> {
        self.shared.walk().map(|w| w.state())
    }

    /// True when the client's answers are kept on disk for next time.
    pub fn walk_kept(&self) -> bool {
        self.shared.walk().is_some_and(|w| w.kept())
    }

    /// Stop serving and wait for open connections to close (briefly).
    pub async fn shutdown(self) {
        self.stop.notify_one();
        let _ = tokio::time::timeout(Duration::from_secs(2), self.task).await;
    }
}

/// Compare without an early exit, so the time taken says nothing about the token.
fn same_secret(given: &[u8], expected: &[u8]) -> bool {
    given.len() == expected.len()
        && given
            .iter()
            .zip(expected)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

fn header_is_one_of(headers: &HeaderMap, name: header::HeaderName, allowed: &[String]) -> bool {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| allowed.iter().any(|a| a == v))
}

fn plain(status: StatusCode, text: &'static str) -> Response {
    let mut response = Response::new(Body::from(text));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

fn forbidden() -> Response {
    plain(
        StatusCode::FORBIDDEN,
        "This page is only for the browser on this computer, at the address session-ready printed.\n",
    )
}

/// Headers on every answer, including refusals.
fn secure(mut response: Response) -> Response {
    let h = response.headers_mut();
    for (name, value) in [
        ("content-security-policy", CONTENT_SECURITY_POLICY),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        ("cache-control", "no-store"),
        ("x-frame-options", "DENY"),
        ("cross-origin-opener-policy", "same-origin"),
        ("cross-origin-resource-policy", "same-origin"),
        (
            "permissions-policy",
            "camera=(self), microphone=(self), geolocation=(), payment=(), usb=()",
        ),
    ] {
        h.insert(name, HeaderValue::from_static(value));
    }
    response
}

async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let mut response = secure(route(&shared, request).await);
    if shared.walk.is_some() {
        // The questions are forms: with no-referrer a browser sends
        // `Origin: null` on a form post, which could not be told from a post
        // by another site. same-origin still sends nothing to other sites.
        response.headers_mut().insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        );
    }
    response
}

async fn route(shared: &Shared, request: Request) -> Response {
    let headers = request.headers();
    // DNS rebinding: a page on another site that resolves its name to
    // 127.0.0.1 still sends its own name as Host and its own Origin.
    if !header_is_one_of(headers, header::HOST, &shared.hosts) {
        return forbidden();
    }
    if headers.contains_key(header::ORIGIN)
        && !header_is_one_of(headers, header::ORIGIN, &shared.origins)
    {
        return forbidden();
    }
    let path = request.uri().path().to_string();
    let Some(rest) = path.strip_prefix('/') else {
        return forbidden();
    };
    let (token, rest) = rest.split_once('/').unwrap_or((rest, ""));
    if !same_secret(token.as_bytes(), shared.token.as_bytes()) {
        return forbidden();
    }
    if rest.is_empty() && !path.ends_with('/') {
        // Keep relative asset paths inside the token folder.
        let mut r = plain(StatusCode::PERMANENT_REDIRECT, "");
        if let Ok(location) = HeaderValue::from_str(&format!("/{token}/")) {
            r.headers_mut().insert(header::LOCATION, location);
        }
        return r;
    }
    {
        let mut p = shared.progress();
        let now = Some(Instant::now());
        // The questions work without JavaScript, so without heartbeats: there
        // only a heartbeat says the page is open.
        if rest == "api/alive" || shared.walk.is_none() {
            p.last_seen = now;
        }
        if rest != "api/alive" {
            p.last_action = now;
        }
    }
    let method = request.method().clone();
    if shared.walk.is_some() && matches!(rest, "" | "walk" | "leave" | "away" | "finish") {
        let mut body = bytes::Bytes::new();
        if method == Method::POST {
            // A form posted by the page always carries its Origin.
            if !headers.contains_key(header::ORIGIN) {
                return forbidden();
            }
            let Ok(bytes) = to_bytes(request.into_body(), MAX_FORM).await else {
                return plain(StatusCode::PAYLOAD_TOO_LARGE, "too large\n");
            };
            body = bytes;
        }
        let response = shared
            .walk()
            .and_then(|mut w| walk::route(&mut w, &method, rest, &body));
        shared.changed.notify_waiters();
        if let Some(response) = response {
            return response;
        }
        return plain(StatusCode::METHOD_NOT_ALLOWED, "not here\n");
    }
    if let Some(api) = rest.strip_prefix("api/") {
        if method != Method::POST {
            return plain(StatusCode::METHOD_NOT_ALLOWED, "POST only\n");
        }
        // A POST from a page always carries Origin; one without it is not from the page.
        if !headers.contains_key(header::ORIGIN) {
            return forbidden();
        }
        let api = api.to_string();
        let Ok(body) = to_bytes(request.into_body(), MAX_BODY).await else {
            return plain(StatusCode::PAYLOAD_TOO_LARGE, "too large\n");
        };
        return api_call(shared, &api, &body);
    }
    if method != Method::GET && method != Method::HEAD {
        return plain(StatusCode::METHOD_NOT_ALLOWED, "GET only\n");
    }
    // In the whole check the media test is one step, at `media`.
    let rest = match rest {
        "media" if shared.walk.is_some() => "",
        "" if shared.walk.is_some() => "not here",
        other => other,
    };
    if rest.is_empty() && shared.walk.is_some() {
        let index = String::from_utf8_lossy(ASSETS[0].2);
        let mut r = Response::new(Body::from(walk::media_page(&index)));
        r.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(ASSETS[0].1));
        return r;
    }
    match ASSETS.iter().find(|(name, _, _)| *name == rest) {
        Some((_, kind, bytes)) => {
            let mut r = Response::new(Body::from(*bytes));
            r.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
            r
        }
        None => plain(StatusCode::NOT_FOUND, "not here\n"),
    }
}

fn parse<T: DeserializeOwned>(body: &[u8]) -> Option<T> {
    serde_json::from_slice(body).ok()
}

fn json_item(item: &crate::device::DeviceItem) -> Response {
    let mut r = Response::new(Body::from(serde_json::to_vec(item).unwrap_or_default()));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

fn unreadable() -> Response {
    plain(StatusCode::BAD_REQUEST, "not a measurement\n")
}

/// The page's calls: each stores numbers and answers with the rated item.
fn api_call(shared: &Shared, api: &str, body: &[u8]) -> Response {
    let t = media::thresholds();
    let response = match api {
        "alive" => plain(StatusCode::NO_CONTENT, ""),
        "camera" => match parse::<CameraMeasure>(body).filter(|m| m.check().is_ok()) {
            Some(m) => {
                shared.progress().media.camera = Some(m);
                json_item(&media::rate_camera(&m, &t.camera))
            }
            None => unreadable(),
        },
        "microphone" => match parse::<MicrophoneMeasure>(body).filter(|m| m.check().is_ok()) {
            Some(m) => {
                shared.progress().media.microphone = Some(m);
                json_item(&media::rate_microphone(&m, &t.microphone))
            }
            None => unreadable(),
        },
        "speakers" => match parse::<SpeakerMeasure>(body) {
            Some(m) => {
                shared.progress().media.speakers = Some(m);
                json_item(&media::rate_speakers(&m))
            }
            None => unreadable(),
        },
        "finish" => {
            shared.progress().finished = true;
            plain(StatusCode::NO_CONTENT, "")
        }
        _ => plain(StatusCode::NOT_FOUND, "not here\n"),
    };
    shared.changed.notify_waiters();
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_128_random_bits() {
        let a = new_token();
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(a, new_token());
    }

    #[test]
    fn secrets_compare_exactly() {
        assert!(same_secret(b"abc", b"abc"));
        assert!(!same_secret(b"abd", b"abc"));
        assert!(!same_secret(b"ab", b"abc"));
        assert!(!same_secret(b"", b"abc"));
    }

    #[test]
    fn every_asset_is_small_and_local() {
        let total: usize = ASSETS.iter().map(|(_, _, b)| b.len()).sum();
        assert!(total < 250 * 1024, "page weight {total} bytes");
        for (name, _, bytes) in ASSETS {
            let text = String::from_utf8_lossy(bytes);
            assert!(
                !text.contains("http://") && !text.contains("https://") || *name == "icon.svg",
                "{name} refers to another site"
            );
        }
    }
}
