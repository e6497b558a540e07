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

pub mod finish;
pub mod html;
pub mod walk;

use crate::device::media::{
    self, CameraMeasure, MediaMeasurements, MicrophoneMeasure, SpeakerMeasure,
};

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
        "page.js",
        "text/javascript; charset=utf-8",
        include_bytes!("assets/page.js"),
    ),
    (
        "leave.js",
        "text/javascript; charset=utf-8",
        include_bytes!("assets/leave.js"),
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
    /// The whole check: the questions are done; `PageServer::take_walk` has them.
    WalkDone,
    /// The whole check: the client paused, said now is not a good time, or
    /// left quickly, and has seen the last page.
    WalkLeft(crate::questionnaire::walk::Ending),
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
            Ending::WalkDone => "The check goes on in the browser page.",
            Ending::WalkLeft(crate::questionnaire::walk::Ending::Paused) => {
                "The check was paused in the browser page, and session-ready has closed its page server."
            }
            Ending::WalkLeft(crate::questionnaire::walk::Ending::QuickExit) => "",
            Ending::WalkLeft(_) => {
                "The check was left for another time, and session-ready has closed its page server."
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
    /// The page's script has said it is there at least once; only then can
    /// silence mean the page was closed (a page without scripts never says so).
    heartbeat_seen: bool,
    /// The whole check with the answers from a file: the walk, handed over
    /// when the media test is finished.
    held_walk: Option<finish::FinishedWalk>,
    /// The whole check: the finished walk, until the CLI takes it.
    walk: Option<finish::FinishedWalk>,
    stage: finish::Stage,
    connection: finish::Connection,
}

struct Shared {
    token: String,
    /// Host header values this server answers to.
    hosts: [String; 2],
    /// Origin header values accepted.
    origins: [String; 2],
    /// `check --browser` without `--device`: the media test is one part of the whole check.
    whole_check: bool,
    progress: Mutex<Progress>,
    changed: Notify,
    /// The questions, when the page serves the whole check and asks them.
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
    /// Listen on a random loopback port for the media test alone. Must be
    /// called inside a tokio runtime.
    pub async fn start() -> std::io::Result<PageServer> {
        Self::start_with(false, None).await
    }

    /// Listen for the whole check: the questions (when `questions` is
    /// given; not with an answers file), the media test and the end.
    pub async fn start_check(questions: Option<walk::WalkSetup>) -> std::io::Result<PageServer> {
        Self::start_with(true, questions.map(walk::PageWalk::new)).await
    }

    async fn start_with(
        whole_check: bool,
        walk: Option<walk::PageWalk>,
    ) -> std::io::Result<PageServer> {
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
            whole_check,
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
                if p.walk.is_some() {
                    return Ending::WalkDone;
                }
                drop(p);
                if let Some(left) = self.walk_ending().filter(|e| {
                    use crate::questionnaire::walk::Ending as Walked;
                    matches!(e, Walked::Paused | Walked::NotNow | Walked::QuickExit)
                }) {
                    return Ending::WalkLeft(left);
                }
                let p = self.shared.progress();
                if p.heartbeat_seen
                    && p.last_seen
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

    /// How the questions ended, once the client has seen the last page of
    /// an ending here (`Completed` and `FinishedEarly` go on to the media
    /// test and the end of the check).
    pub fn walk_ending(&self) -> Option<crate::questionnaire::walk::Ending> {
        self.shared.walk().and_then(|w| w.ending())
    }

    /// The finished questions (without taking them; see `take_walk`).
    pub fn finished_walk(&self) -> Option<finish::FinishedWalk> {
        self.shared.walk().and_then(|w| w.finished())
    }

    /// The questions' whole state (tests).
    pub fn walk_state(&self) -> Option<crate::questionnaire::walk::WalkState> {
        self.shared.walk().map(|w| w.state())
    }

    /// True when the client's answers are kept on disk for next time.
    pub fn walk_kept(&self) -> bool {
        self.shared.walk().is_some_and(|w| w.kept())
    }

    /// The check is finished: a kept draft has done its job.
    pub fn forget_draft(&self) {
        if let Some(w) = self.shared.walk() {
            w.forget_draft();
        }
    }

    /// What the page measured so far.
    pub fn measurements(&self) -> MediaMeasurements {
        self.shared.progress().media
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
        // The address (token included) never leaves for another site; and
        // unlike `no-referrer`, a form posted by the page still names its
        // Origin, which is how a post from anywhere else is refused.
        ("referrer-policy", "same-origin"),
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
    secure(route(&shared, request).await)
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
        p.last_seen = Some(Instant::now());
        if rest != "api/alive" && rest != "progress.json" {
            p.last_action = p.last_seen;
        }
        // Only the page's script calls these.
        if rest.starts_with("api/") || rest == "progress.json" {
            p.heartbeat_seen = true;
        }
    }
    let method = request.method().clone();
    if finish::owns(rest) {
        let rest = rest.to_string();
        return finish::route(shared, &rest, request).await;
    }
    let leaving = shared.whole_check && matches!(rest, "leave" | "away");
    if (shared.walk.is_some() && walk::owns(rest)) || leaving {
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
        let rest = rest.to_string();
        let response = walk::route(shared, &method, &rest, &body);
        shared.changed.notify_waiters();
        return response;
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
    // With the questions first, the media test is one step, at `media`.
    let media_step = match rest {
        "media" => shared.walk.is_some(),
        // With the answers from a file, the whole check starts at the media test.
        "" => shared.whole_check && shared.walk.is_none(),
        _ => false,
    };
    if media_step && (method == Method::GET || method == Method::HEAD) {
        if shared.walk().is_some_and(|w| w.left_quickly()) {
            let mut r = plain(StatusCode::SEE_OTHER, "");
            r.headers_mut()
                .insert(header::LOCATION, HeaderValue::from_static("away"));
            return r;
        }
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
                json_item(&media::microphone_for_the_page(media::rate_microphone(
                    &m,
                    &t.microphone,
                )))
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
        "finish" if shared.whole_check => {
            let next = finish::media_finished(shared);
            let mut r = Response::new(Body::from(format!(r#"{{"next":"{next}"}}"#)));
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            r
        }
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
