//! The local browser page (`check --browser`): a small web server on
//! 127.0.0.1 that serves the whole check, or the camera, microphone and
//! speaker test alone.
//!
//! Only this computer's browser may use it, and only the browser that opened
//! the printed address: it listens on loopback on a random port; the address
//! carries a 128-bit random code that opens the check once, in exchange for
//! an HttpOnly, SameSite=Strict session cookie (so the address, readable by
//! other users in the browser's process arguments, opens nothing later);
//! without that cookie every path gets 403. The Host header must name the
//! loopback address and port, once, and an Origin, when sent, must be the
//! page itself (a DNS-rebinding page on another site gets 403); every answer
//! carries a strict Content-Security-Policy; all files are built into the
//! binary, so the page loads nothing from anywhere else. `serve` keeps slow
//! or endless requests from holding the server up.
//!
//! The page measures pictures and sound itself and sends only numbers here;
//! the words it shows come back from the rules in `device::media`.
use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{Body, to_bytes};
use axum::extract::{Path, Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Extension, Router};
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use serde::de::DeserializeOwned;
use tokio::net::TcpListener;
use tokio::sync::Notify;

pub mod check;
pub mod connection;
pub mod draw;
pub mod hosted;
pub mod html;
mod measure;
pub mod resume;
mod serve;

use crate::device::media::{
    self, CameraMeasure, MediaMeasurements, MicrophoneMeasure, SpeakerMeasure,
};
use crate::net::probe::ProgressFeed;
use crate::visit::storage::{AnyStorage, Files};
use crate::visit::{Measured, Visit};

/// The camera, microphone and speaker test: the content of its page, which
/// the skeleton (`html::media_page`) frames like every other.
pub const MEDIA_HTML: &str = include_str!("assets/media.html");

/// Files built into the binary: (path, content type, body).
const ASSETS: &[(&str, &str, &[u8])] = &[
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
        "measure.js",
        "text/javascript; charset=utf-8",
        include_bytes!("assets/measure.js"),
    ),
    (
        "rtc.js",
        "text/javascript; charset=utf-8",
        include_bytes!("assets/rtc.js"),
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
/// Every post to a visit is read within this bound (forms and the page's
/// calls alike); the measurement endpoints have their own.
const MAX_FORM: usize = 16 * 1024;

/// The hosted check's form token: a hidden field in every form, and a
/// header on the page's own calls (`leave.js` reads it from the page).
const CSRF_FIELD: &str = "csrf";
const CSRF_HEADER: &str = "x-csrf-token";

/// The largest page a hosted visit answers with (they are tens of kB).
const MAX_PAGE: usize = 4 << 20;

/// When the page server gives up waiting.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Stop when nothing at all has come from the page for this long.
    pub idle: Duration,
    /// Stop when the open page has stopped saying it is still there for this long.
    pub closed_after: Duration,
}

/// How long the whole check waits for a page that went quiet: someone who
/// left it to call for help, or whose phone locked, finds everything as it
/// was when they come back within this time. The page says so.
pub const GRACE_MINUTES: u64 = 30;

impl Limits {
    /// The whole check: the long grace, for both kinds of silence.
    pub fn whole_check() -> Limits {
        let grace = Duration::from_secs(GRACE_MINUTES * 60);
        Limits {
            idle: grace,
            closed_after: grace,
        }
    }

    /// The media test alone (`--device --browser`): nothing to lose, so
    /// the terminal gets its report back sooner.
    pub fn media_test() -> Limits {
        Limits {
            idle: Duration::from_secs(15 * 60),
            // Browsers slow timers in background tabs to about once a minute.
            closed_after: Duration::from_secs(150),
        }
    }
}

/// Why the page server stopped waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The media test alone: the client pressed Finish.
    Finished,
    /// The page stopped sending its heartbeat.
    PageClosed,
    /// Nothing came from the page within the idle limit.
    Idle,
    /// The whole check: the visit waits for the measurements
    /// (`PageServer::measured`).
    Measure,
    /// The whole check: the visit has ended and its last page was shown.
    Ended,
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
            Ending::Measure => "The check goes on in the browser page.",
            Ending::Ended => {
                "The check in the browser page has ended, and session-ready has closed its page server."
            }
        }
    }
}

#[derive(Default)]
struct Progress {
    media: MediaMeasurements,
    /// Last request with the right cookie, heartbeats included.
    last_seen: Option<Instant>,
    /// Last request other than a heartbeat: the client doing something.
    last_action: Option<Instant>,
    /// The media test alone is finished.
    finished: bool,
    /// The page's script has said it is there at least once; only then can
    /// silence mean the page was closed (a page without scripts never says so).
    heartbeat_seen: bool,
    connection: connection::Connection,
}

/// One visit: one person's check in one browser, from the first load to
/// the end. The local page has one; the server keeps them in a map keyed by
/// the session cookie, so one server can serve many.
pub(crate) struct Session {
    progress: Mutex<Progress>,
    changed: Notify,
    /// The whole check: the visit the pages draw. `None`: the media test alone.
    visit: Option<Mutex<check::PageVisit>>,
    /// Hosted (`serve --clinic`): the invitation this visit was opened with.
    invitation: Option<String>,
    /// The form token every post of this visit carries (hosted).
    csrf: String,
}

impl Session {
    fn new(visit: Option<check::PageVisit>) -> Session {
        Session {
            progress: Mutex::default(),
            changed: Notify::new(),
            visit: visit.map(Mutex::new),
            invitation: None,
            csrf: new_token(),
        }
    }

    fn progress(&self) -> std::sync::MutexGuard<'_, Progress> {
        self.progress.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn visit(&self) -> Option<std::sync::MutexGuard<'_, check::PageVisit>> {
        self.visit
            .as_ref()
            .map(|w| w.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// The frame of this visit's pages now (the media test alone has none).
    fn frame(&self) -> html::Frame {
        self.visit()
            .map(|v| v.frame(&v.visit.screen()))
            .unwrap_or_default()
    }

    /// The report is built (the waiting page moves on).
    fn report_ready(&self) -> bool {
        self.visit().is_some_and(|v| v.visit.report().is_some())
    }
}

/// A first-load address: its token opens its visit once, in exchange for
/// the session cookie. After that the address (in the browser's process
/// arguments, where `ps` shows it, or in its history) opens nothing.
struct Entry {
    token: String,
    session: Arc<Session>,
    opened: bool,
    /// The address offered for a private window: opening it moves the visit
    /// there, and the browser that had it loses it.
    moves: bool,
}

/// What the whole server shares: who may ask, and the visits it serves.
struct Shared {
    /// Host header values this server answers to.
    hosts: [String; 2],
    /// Origin header values accepted.
    origins: [String; 2],
    /// The session cookie's name. Browsers send a cookie for 127.0.0.1 to
    /// every port there, so the port is in the name: two checks running at
    /// once keep their own.
    cookie: String,
    entries: Mutex<Vec<Entry>>,
    /// The visits by session id (the cookie's value).
    sessions: Mutex<HashMap<String, Arc<Session>>>,
    /// Hosted (`serve --clinic`): invitations instead of one first-load address.
    hosting: Option<hosted::Hosting>,
}

/// What a first-load address did.
enum Opened {
    /// Opened now: the new session's id, for the cookie.
    Now(String),
    /// Opened before: the session, for a browser that already holds it.
    Before(Arc<Session>),
    Unknown,
}

impl Shared {
    fn lock_sessions(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Session>>> {
        self.sessions.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The visit the request's session cookie belongs to.
    fn session_for(&self, headers: &HeaderMap) -> Option<Arc<Session>> {
        let given = cookie_value(headers, &self.cookie)?;
        self.lock_sessions()
            .iter()
            .find(|(id, _)| same_secret(given.as_bytes(), id.as_bytes()))
            .map(|(_, session)| session.clone())
    }

    /// A new id for the visit the request's cookie names; the old one stops working.
    fn renew(&self, headers: &HeaderMap) -> Option<String> {
        let given = cookie_value(headers, &self.cookie)?;
        let mut sessions = self.lock_sessions();
        let old = sessions
            .keys()
            .find(|id| same_secret(given.as_bytes(), id.as_bytes()))?
            .clone();
        let session = sessions.remove(&old)?;
        let id = new_token();
        sessions.insert(id.clone(), session);
        Some(id)
    }

    /// The `Set-Cookie` value for session `id`.
    fn set_cookie(&self, id: &str) -> String {
        format!("{}={id}; Path=/; HttpOnly; SameSite=Strict", self.cookie)
    }

    /// What a request without a live visit gets: 403 on this computer; the
    /// hosted check's calm page, with the clinic's name and phone.
    fn refused(&self) -> Response {
        match &self.hosting {
            Some(hosting) => hosting.calm(hosted::Calm::Ended),
            None => forbidden(),
        }
    }

    /// Exchange a first-load token for a session, once.
    fn open(&self, token: &str) -> Opened {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let Some(entry) = entries
            .iter_mut()
            .find(|e| same_secret(token.as_bytes(), e.token.as_bytes()))
        else {
            return Opened::Unknown;
        };
        if entry.opened {
            return Opened::Before(entry.session.clone());
        }
        entry.opened = true;
        let id = new_token();
        let mut sessions = self.lock_sessions();
        if entry.moves {
            sessions.retain(|_, s| !Arc::ptr_eq(s, &entry.session));
            // Moved: the offer has done its job.
            if let Some(mut visit) = entry.session.visit() {
                visit.private_address = None;
            }
        }
        sessions.insert(id.clone(), entry.session.clone());
        Opened::Now(id)
    }
}

/// The value of cookie `name`, if the request carries it.
fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)
}

/// A running page server.
pub struct PageServer {
    url: String,
    addr: SocketAddr,
    session: Arc<Session>,
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
        Self::start_with(None).await
    }

    /// Listen for the whole check: `visit` drawn page by page, from its
    /// first screen (the questions, or the media test after an answers
    /// file) to its farewell.
    pub async fn start_check(visit: Visit<Files>) -> std::io::Result<PageServer> {
        Self::start_with(Some(check::PageVisit::new(visit.boxed()))).await
    }

    async fn start_with(visit: Option<check::PageVisit>) -> std::io::Result<PageServer> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let token = new_token();
        let port = addr.port();
        // A second address, offered on the first page, to carry on in a
        // private window (one that keeps no history).
        let private = new_token();
        let visit = visit.map(|mut v| {
            v.private_address = Some(format!("http://127.0.0.1:{port}/{private}/"));
            v
        });
        let session = Arc::new(Session::new(visit));
        let shared = Arc::new(Shared {
            hosts: [format!("127.0.0.1:{port}"), format!("localhost:{port}")],
            origins: [
                format!("http://127.0.0.1:{port}"),
                format!("http://localhost:{port}"),
            ],
            cookie: format!("session-ready-{port}"),
            entries: Mutex::new(vec![
                Entry {
                    token: token.clone(),
                    session: session.clone(),
                    opened: false,
                    moves: false,
                },
                Entry {
                    token: private,
                    session: session.clone(),
                    opened: false,
                    moves: true,
                },
            ]),
            sessions: Mutex::default(),
            hosting: None,
        });
        let stop = Arc::new(Notify::new());
        let task = tokio::spawn(serve::serve(listener, router(shared), stop.clone()));
        Ok(PageServer {
            url: format!("http://127.0.0.1:{port}/{token}/"),
            addr,
            session,
            stop,
            task,
        })
    }

    /// The address to open, token included. It opens the page once.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Wait until the visit needs the measurements or has ended (or the
    /// media test alone is finished), the page goes away, or the idle limit
    /// passes.
    pub async fn wait(&self, limits: Limits) -> Ending {
        let started = Instant::now();
        loop {
            let changed = self.session.changed.notified();
            if self.session.progress().finished {
                return Ending::Finished;
            }
            if let Some(mut v) = self.session.visit() {
                if v.visit.end().is_some() && v.farewell_shown {
                    return Ending::Ended;
                }
                if v.visit.waiting() && !v.measuring {
                    v.measuring = true;
                    return Ending::Measure;
                }
            }
            {
                let p = self.session.progress();
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

    /// The measurements are done: the visit builds the report.
    pub fn measured(&self, measured: Measured) {
        if let Some(mut v) = self.session.visit() {
            v.visit.measured(measured);
        }
        self.session.changed.notify_waiters();
    }

    /// Look at (or, for the command, end) the visit the page draws.
    pub fn with_visit<R>(&self, f: impl FnOnce(&mut Visit<AnyStorage>) -> R) -> Option<R> {
        self.session.visit().map(|mut v| f(&mut v.visit))
    }

    /// The questions' whole state (tests).
    pub fn walk_state(&self) -> Option<crate::questionnaire::walk::WalkState> {
        self.with_visit(|v| v.walk_state())
    }

    /// The connection test has started in the background and moves `feed`
    /// on as it goes. The returned handle marks it done.
    pub fn connection_started(&self, feed: ProgressFeed) -> connection::ConnectionDone {
        self.session.progress().connection = connection::Connection::following(feed);
        connection::ConnectionDone(self.session.clone())
    }

    /// After the last page: give the browser a moment to fetch what the
    /// page needs (its style) before the server stops, while it still asks.
    pub async fn linger(&self) {
        let until = Instant::now() + Duration::from_secs(3);
        while Instant::now() < until {
            let quiet = self
                .session
                .progress()
                .last_seen
                .is_none_or(|seen| seen.elapsed() >= Duration::from_millis(800));
            if quiet {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// What the page measured so far.
    pub fn measurements(&self) -> MediaMeasurements {
        self.session.progress().media
    }

    /// Stop serving and wait for open connections to close (briefly).
    pub async fn shutdown(self) {
        self.stop.notify_one();
        let _ = tokio::time::timeout(Duration::from_secs(3), self.task).await;
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

/// Exactly one `name` header, and it is one of `allowed`.
fn header_is_one_of(headers: &HeaderMap, name: header::HeaderName, allowed: &[String]) -> bool {
    let mut values = headers.get_all(name).iter();
    match (values.next(), values.next()) {
        (Some(value), None) => value.to_str().is_ok_and(|v| allowed.iter().any(|a| a == v)),
        _ => false,
    }
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

fn html_response(status: StatusCode, page: String) -> Response {
    let mut r = Response::new(Body::from(page));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    r
}

fn see_other(to: &str) -> Response {
    let mut r = plain(StatusCode::SEE_OTHER, "");
    if let Ok(to) = HeaderValue::from_str(to) {
        r.headers_mut().insert(header::LOCATION, to);
    }
    r
}

/// Headers on every answer, including refusals and hyper's own replies
/// (`serve::Guarded`).
const SECURITY_HEADERS: &[(&str, &str)] = &[
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
];

async fn secure(mut response: Response) -> Response {
    let h = response.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        h.insert(*name, HeaderValue::from_static(value));
    }
    response
}

/// How long a request's body may take to arrive once its head has.
const BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// The page's routes. Only the first-load address is open to a browser
/// without the session cookie; everything else belongs to a visit.
fn router(shared: Arc<Shared>) -> Router {
    let mut visit = Router::<Arc<Shared>>::new()
        .route("/", get(index))
        .route("/walk", post(submit))
        .route("/leave", post(leave))
        .route("/away", get(away))
        .route("/media", get(media_step))
        .route("/next", get(next))
        .route("/progress.json", get(progress))
        .route("/api/network-plan", post(network_plan))
        .route("/api/network", post(network_samples))
        .route(&format!("/{}", draw::OWN_COPY), get(own_copy))
        .route("/api/{call}", post(api));
    for path in check::PAGES {
        visit = visit.route(&format!("/{path}"), get(page_of_visit));
    }
    for (name, _, _) in ASSETS {
        visit = visit.route(&format!("/{name}"), get(asset));
    }
    let visit = visit
        .fallback(|| async { plain(StatusCode::NOT_FOUND, "not here\n") })
        .layer(middleware::from_fn_with_state(shared.clone(), in_session));
    let opening = if shared.hosting.is_some() {
        Router::new()
            .route("/c/{token}", get(hosted::open))
            .route(&format!("{}{{link}}", resume::PREFIX), get(hosted::resume))
    } else {
        Router::new()
            .route("/{token}", get(open))
            .route("/{token}/", get(open))
    };
    let hosted = shared.hosting.is_some();
    let router = opening
        .merge(visit)
        .layer(middleware::from_fn_with_state(
            shared.clone(),
            from_this_page,
        ))
        .layer(middleware::map_response(secure));
    let router = if hosted {
        router.layer(middleware::map_response(no_referrer))
    } else {
        router
    };
    router.with_state(shared)
}

/// A public page: no address of it (an invitation's or a link to carry
/// on's, in the path) is ever sent as a Referer, not even to itself, where
/// a proxy's access log would keep it. Browsers then send `Origin: null`
/// with a post, which `from_this_page` accepts: the form token and the
/// SameSite=Strict cookie are what refuse another site's post.
async fn no_referrer(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    response
}

/// Host and Origin, on every request. DNS rebinding: a page on another
/// site that resolves its name to 127.0.0.1 still sends its own name as
/// Host and its own Origin. A request naming two hosts is refused too.
async fn from_this_page(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    let headers = request.headers();
    if shared.hosting.is_some() {
        // A public page: any name the proxy answers to, but a post comes
        // from a page of that same name.
        if let Some(origin) = headers.get(header::ORIGIN) {
            let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
            let same = origin == "null"
                || host.is_some_and(|host| {
                    origin == format!("https://{host}").as_str()
                        || origin == format!("http://{host}").as_str()
                });
            if !same {
                return hosted::cross_site(&shared);
            }
        }
        return next.run(request).await;
    }
    if !header_is_one_of(headers, header::HOST, &shared.hosts) {
        return forbidden();
    }
    if headers.contains_key(header::ORIGIN)
        && !header_is_one_of(headers, header::ORIGIN, &shared.origins)
    {
        return forbidden();
    }
    next.run(request).await
}

/// The first-load address: exchanged once for the session cookie (HttpOnly,
/// so no script reads it; SameSite=Strict, so no other site's page sends
/// it), then the page itself at `/`.
async fn open(
    State(shared): State<Arc<Shared>>,
    Path(token): Path<String>,
    request: Request,
) -> Response {
    match shared.open(&token) {
        Opened::Now(id) => {
            let mut r = see_other("/");
            if let Ok(cookie) = HeaderValue::from_str(&shared.set_cookie(&id)) {
                r.headers_mut().insert(header::SET_COOKIE, cookie);
            }
            r
        }
        // The browser that opened it (a reload of the first address) goes on.
        Opened::Before(session)
            if shared
                .session_for(request.headers())
                .is_some_and(|s| Arc::ptr_eq(&s, &session)) =>
        {
            see_other("/")
        }
        Opened::Before(_) => html_response(StatusCode::FORBIDDEN, html::already_opened()),
        Opened::Unknown => forbidden(),
    }
}

/// The hosted check's pages, for `serve --clinic` to mount beside its
/// measurement endpoints.
pub fn hosted_router(hosting: hosted::Hosting) -> Router {
    router(Arc::new(Shared {
        hosts: [String::new(), String::new()],
        origins: [String::new(), String::new()],
        cookie: hosted::COOKIE.into(),
        entries: Mutex::default(),
        sessions: Mutex::default(),
        hosting: Some(hosting),
    }))
}

/// Every request of a visit: the session cookie names it; a post comes from
/// the page itself and its body arrives, small, in good time.
async fn in_session(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let Some(session) = shared.session_for(request.headers()) else {
        return hosted::without_visit(&shared, request.method(), request.uri().path());
    };
    if let Some(hosting) = &shared.hosting
        && hosting.idle_out(&session)
    {
        hosted::Hosting::drop_sessions(&mut shared.lock_sessions(), |s| std::ptr::eq(s, &*session));
        return shared.refused();
    }
    let path = request.uri().path();
    {
        let mut p = session.progress();
        p.last_seen = Some(Instant::now());
        if path != "/api/alive" && path != "/progress.json" {
            p.last_action = p.last_seen;
        }
        // Only the page's script calls these.
        if path.starts_with("/api/") || path == "/progress.json" {
            p.heartbeat_seen = true;
        }
    }
    let (mut parts, body) = request.into_parts();
    let body = if parts.method == Method::POST {
        // A form or call from the page always carries its Origin.
        let refuse = |calm| match &shared.hosting {
            Some(hosting) => hosting.calm_in(calm, session.frame()),
            None if calm == hosted::Calm::TooLong => {
                plain(StatusCode::PAYLOAD_TOO_LARGE, "too large\n")
            }
            None => forbidden(),
        };
        if !parts.headers.contains_key(header::ORIGIN) {
            return refuse(hosted::Calm::Forbidden);
        }
        let too_long = || refuse(hosted::Calm::TooLong);
        let announced = parts
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        // The browser's connection test sends its samples, larger than any form.
        let limit = if parts.uri.path() == "/api/network" && shared.hosting.is_some() {
            measure::MAX_SAMPLES_BODY
        } else {
            MAX_FORM
        };
        if announced.is_some_and(|n| n > limit as u64) {
            return too_long();
        }
        let bytes = match tokio::time::timeout(BODY_TIMEOUT, to_bytes(body, limit)).await {
            Ok(Ok(bytes)) => bytes,
            Ok(Err(_)) => return too_long(),
            Err(_) => return plain(StatusCode::REQUEST_TIMEOUT, "too slow\n"),
        };
        // "Leave quickly" is never refused, even from a page that holds no
        // token (a calm page): it only ends the visit, and another site's
        // post carries no session cookie (SameSite=Strict) to end one.
        let leaving = parts.uri.path() == "/leave";
        if shared.hosting.is_some()
            && !leaving
            && !carries_token(&parts.headers, &bytes, &session.csrf)
        {
            return refuse(hosted::Calm::Forbidden);
        }
        Body::from(bytes)
    } else {
        body
    };
    // The page's script in a watched home replaces history entries itself:
    // it is told where to go instead of being redirected.
    let replace = parts
        .headers
        .get("x-history")
        .is_some_and(|v| v == "replace");
    let token = shared.hosting.as_ref().map(|_| session.csrf.clone());
    parts.extensions.insert(session);
    let mut response = next.run(Request::from_parts(parts, body)).await;
    if replace && response.status() == StatusCode::SEE_OTHER {
        *response.status_mut() = StatusCode::NO_CONTENT;
    }
    match token {
        Some(token) => with_token(response, &token).await,
        None => response,
    }
}

/// The post carries this visit's form token: in the header the page's
/// calls send, or as the form field every form holds.
fn carries_token(headers: &HeaderMap, body: &[u8], token: &str) -> bool {
    let given = headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| {
            form_urlencoded::parse(body)
                .find(|(name, _)| name == CSRF_FIELD)
                .map(|(_, value)| value.into_owned())
        });
    given.is_some_and(|given| same_secret(given.as_bytes(), token.as_bytes()))
}

/// Every form of a hosted page gets the visit's token as a hidden field,
/// and the page names it for its scripts: whoever draws a form, none is
/// left without it.
async fn with_token(response: Response, token: &str) -> Response {
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|t| t.as_bytes().starts_with(b"text/html"));
    if !is_html {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_PAGE).await else {
        return plain(StatusCode::INTERNAL_SERVER_ERROR, "page too large\n");
    };
    let page = String::from_utf8_lossy(&bytes)
        .replace(
            "</form>",
            &format!("<input type=\"hidden\" name=\"{CSRF_FIELD}\" value=\"{token}\">\n</form>"),
        )
        .replacen(
            "</head>",
            &format!("<meta name=\"csrf-token\" content=\"{token}\">\n</head>"),
            1,
        );
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(page))
}

type InSession = Extension<Arc<Session>>;

/// `/`: the whole check's current page; the media test alone otherwise.
async fn index(Extension(session): InSession) -> Response {
    if session.visit.is_some() {
        return check::show(&session, "walk", false).await;
    }
    media(&session)
}

/// One of the visit's pages (`check::PAGES`), or where the visit is instead.
async fn page_of_visit(Extension(session): InSession, uri: http::Uri) -> Response {
    let rest = uri.path().trim_start_matches('/');
    // "Continue" on the waiting page asks to wait for the report.
    let wait = uri.query() == Some("wait=1");
    check::show(&session, rest, wait).await
}

/// The client's own copy, at the end of a hosted check.
async fn own_copy(Extension(session): InSession) -> Response {
    check::own_copy(&session).await
}

/// POST `/walk`: every form of the visit.
async fn submit(Extension(session): InSession, body: bytes::Bytes) -> Response {
    check::submit(&session, &body)
}

/// `/leave`: the button. Leaving also gives the visit a new session cookie.
/// Without scripts the browser may keep the last question in memory for
/// Back (its back/forward cache, which Chromium now allows even for
/// `no-store` pages); a changed cookie is what makes it drop such pages and
/// ask again, and the answer is then the neutral page.
async fn leave(
    State(shared): State<Arc<Shared>>,
    Extension(session): InSession,
    request: Request,
) -> Response {
    let mut response = check::leave(&session);
    if let Some(id) = shared.renew(request.headers())
        && let Ok(cookie) = HeaderValue::from_str(&shared.set_cookie(&id))
    {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

/// `/away`: the neutral page "Leave quickly" leads to.
async fn away(Extension(session): InSession) -> Response {
    if let Some(mut v) = session.visit()
        && v.visit.end() == Some(crate::visit::End::QuickExit)
    {
        v.farewell_shown = true;
    }
    session.changed.notify_waiters();
    check::away_page()
}

/// `/media`: in the whole check, the media test is one step of the visit.
async fn media_step(Extension(session): InSession) -> Response {
    if let Some(v) = session.visit() {
        let to = check::place(&v.visit, &v.visit.screen());
        if to != "media" {
            return see_other(to);
        }
    }
    media(&session)
}

fn media(session: &Session) -> Response {
    let mut page = html::media_page(
        &session.frame(),
        MEDIA_HTML,
        &connection::connection_line(session),
    );
    if session.invitation.is_some() {
        // Hosted: the numbers go to the clinic's check, not to this computer.
        page = page.replace("go to session-ready on this computer", "go to the check");
    }
    html_response(StatusCode::OK, page)
}

/// `/next`: past the media test without scripts (the page's noscript link).
async fn next(Extension(session): InSession) -> Response {
    if session.visit.is_some() {
        return see_other(check::media_done(&session));
    }
    session.progress().finished = true;
    session.changed.notify_waiters();
    html_response(
        StatusCode::OK,
        html::page(
            &html::Frame::default(),
            "Nothing more to do here",
            "<h1>Nothing more to do here</h1>\n<p>The camera, microphone and speakers were not \
             tested in this page; your report says so. You can close this page now.</p>\n",
            "",
        ),
    )
}

async fn progress(Extension(session): InSession) -> Response {
    connection::progress_json(&session)
}

async fn asset(uri: http::Uri) -> Response {
    let name = uri.path().trim_start_matches('/');
    match ASSETS.iter().find(|(n, _, _)| *n == name) {
        Some(found) => asset_response(found),
        None => plain(StatusCode::NOT_FOUND, "not here\n"),
    }
}

fn asset_response((_, kind, bytes): &(&str, &'static str, &'static [u8])) -> Response {
    let mut r = Response::new(Body::from(*bytes));
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    r
}

/// `/api/…`: the page's measurements and heartbeat.
async fn api(
    Extension(session): InSession,
    Path(call): Path<String>,
    body: bytes::Bytes,
) -> Response {
    if body.len() > MAX_BODY {
        return plain(StatusCode::PAYLOAD_TOO_LARGE, "too large\n");
    }
    api_call(&session, &call, &body)
}

/// `/api/network-plan`: the hosted page's connection test asks how to run.
async fn network_plan(Extension(session): InSession, body: bytes::Bytes) -> Response {
    if body.len() > MAX_BODY {
        return plain(StatusCode::PAYLOAD_TOO_LARGE, "too large\n");
    }
    measure::plan(&session, &body)
}

/// `/api/network`: the hosted page's connection test sends its samples.
async fn network_samples(
    Extension(session): InSession,
    headers: HeaderMap,
    body: bytes::Bytes,
) -> Response {
    measure::samples(&session, &headers, &body)
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
fn api_call(shared: &Session, api: &str, body: &[u8]) -> Response {
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
        "finish" if shared.visit.is_some() => {
            let next = check::media_done(shared);
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
    fn the_whole_check_waits_long_enough_for_a_call_for_help() {
        let grace = Duration::from_secs(GRACE_MINUTES * 60);
        let whole = Limits::whole_check();
        // It was 150 s: less than a call to a crisis line often takes.
        assert!(grace >= Duration::from_secs(30 * 60));
        assert_eq!((whole.idle, whole.closed_after), (grace, grace));
        let said = html::crisis_box(&crate::crisis::resources_list("GB"));
        assert!(said.contains(&format!("waits for you for {GRACE_MINUTES} minutes")));
    }

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
