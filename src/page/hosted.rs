//! The hosted check (`serve --clinic FILE --inbox DIR`): the same visit and
//! the same pages as `check --browser`, served to many clients at once.
//!
//! A client arrives with an invitation link (`/c/TOKEN`, see
//! `crate::invite`). A valid, unused, unexpired link is traded once for a
//! session cookie (HttpOnly, SameSite=Strict, and Secure when the proxy in
//! front says the request came over TLS with `X-Forwarded-Proto: https`),
//! and the browser is sent on to `/walk`, so the token stays out of the
//! address bar, history and Referer from then on. Any other link gets a calm
//! page with the clinic's name and phone. Visits live in memory only, each
//! until it has been idle for `Hosting::idle`, at most `Hosting::max_visits`
//! at once; the report goes to the clinic's inbox encrypted
//! (`visit::storage::Inbox`).
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, Request, State};
use axum::response::Response;
use http::{HeaderValue, StatusCode, header};

pub use super::resume::HostedStore;
use super::resume::{Gone, PausedVisits};
use super::{Session, Shared, check, html, html_response, new_token, see_other};
use crate::invite::{self, Invitation, Refusal};
use crate::questionnaire::draft::Draft;
use crate::visit::Visit;
use crate::visit::storage::AnyStorage;

/// The session cookie's name on a hosted server.
pub const COOKIE: &str = "session-ready";

/// Where opened invitations are marked, inside the inbox.
const OPENED_DIR: &str = ".opened";

/// What the report says about the connection when the page did not measure it.
pub const NOT_MEASURED: &str = "the connection was not measured in this browser";

/// Makes the visit an invitation opens: new, or carried on from a paused
/// state (a link to carry on).
pub type StartVisit = Box<dyn Fn(&Invitation, Option<Draft>) -> Visit<AnyStorage> + Send + Sync>;

/// What a hosted server needs.
pub struct Hosting {
    /// The invitation signing secret (`invite --secret`).
    pub secret: Vec<u8>,
    pub clinic_name: Option<String>,
    pub clinic_phone: Option<String>,
    /// Where finished reports arrive (`INBOX/ID.age`): an invitation whose
    /// report is there is used, even after a restart.
    pub inbox: PathBuf,
    /// Visits in progress at once.
    pub max_visits: usize,
    /// A visit with no request for this long is gone.
    pub idle: Duration,
    pub start: StartVisit,
    /// Invitations opened since this server started.
    pub opened: Mutex<HashSet<String>>,
    /// Paused visits, sealed (`page::resume`); the same ones `start` keeps into.
    pub paused: Arc<PausedVisits>,
    /// `serve` terminates TLS itself: the session cookie is always `Secure`.
    pub tls: bool,
}

/// The calm pages, for links and visits that open nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Calm {
    Expired,
    Used,
    Altered,
    /// No visit for this browser (idle too long, or the server restarted).
    Ended,
    /// The server is at its cap of visits.
    Busy,
    /// A link to carry on that opens nothing (used, or the server restarted).
    ResumeGone,
    /// A post without this visit's form token, or from another site.
    Forbidden,
    /// A post larger than any form of the check.
    TooLong,
}

impl Hosting {
    /// Has this session been quiet for longer than a visit waits?
    pub(super) fn idle_out(&self, session: &Session) -> bool {
        session
            .progress()
            .last_seen
            .is_some_and(|seen| seen.elapsed() >= self.idle)
    }

    /// Drop the sessions `gone` picks, letting their visits go (answers
    /// sealed for a link never given are forgotten with them).
    pub(super) fn drop_sessions(
        sessions: &mut std::collections::HashMap<String, Arc<Session>>,
        gone: impl Fn(&Session) -> bool,
    ) {
        sessions.retain(|_, s| {
            if !gone(s) {
                return true;
            }
            if let Some(mut v) = s.visit() {
                v.visit.let_go();
            }
            false
        });
    }

    /// Who to contact, as a sentence's end: "Example Clinic on 0161 …".
    fn contact(&self) -> String {
        let name = self.clinic_name.as_deref().unwrap_or("your clinic");
        match &self.clinic_phone {
            Some(phone) => format!("{name} on {phone}"),
            None => name.to_string(),
        }
    }

    /// A calm page: what happened, that nothing is wrong with the person,
    /// and what to do next.
    pub fn calm(&self, calm: Calm) -> Response {
        self.calm_in(calm, html::Frame::default())
    }

    /// A calm page inside a visit: drawn in the visit's frame, so its
    /// support numbers and a watched home's neutral title stay.
    pub(super) fn calm_in(&self, calm: Calm, frame: html::Frame) -> Response {
        let contact = html::escape(&self.contact());
        let (status, title, text) = match calm {
            Calm::Expired => (
                StatusCode::GONE,
                "This link has expired",
                format!(
                    "Links to the check stay open for a limited time, to keep your answers \
                     safe. Nothing is wrong. Please contact {contact} and ask for a new link."
                ),
            ),
            Calm::Used => (
                StatusCode::GONE,
                "This link has already been used",
                format!(
                    "Each link opens one check, once, so that no one else can open yours. If \
                     you paused, the link to carry on that the check gave you opens it where \
                     you stopped. If you did not finish, or did not open it yourself, please \
                     contact {contact} and ask for a new link."
                ),
            ),
            Calm::Altered => (
                StatusCode::NOT_FOUND,
                "This link does not open a check",
                format!(
                    "Part of the link may have been lost when it was copied. Please try the \
                     whole link from your message again, or contact {contact}."
                ),
            ),
            Calm::Ended => (
                StatusCode::GONE,
                "This check has ended",
                format!(
                    "It was quiet for a while, or the service was restarted, and answers in \
                     progress are not kept. Nothing was sent. Please contact {contact} for a \
                     new link."
                ),
            ),
            Calm::Busy => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Very busy just now",
                "Many people are doing the check at the moment. Your link has not been used \
                 up: please open it again in a few minutes."
                    .to_string(),
            ),
            Calm::ResumeGone => (
                StatusCode::GONE,
                "This link no longer opens your answers",
                format!(
                    "A link to carry on opens a paused check once, and only while the service \
                     that gave it keeps running; it may have been used already, or the service \
                     was restarted. Nothing was sent to your clinic. Please contact {contact} \
                     and ask for a new link."
                ),
            ),
            Calm::Forbidden => (
                StatusCode::FORBIDDEN,
                "That page could not be used",
                "For your safety, the check only accepts answers sent from its own, current \
                 page. Nothing was changed and your answers so far are safe. Please go back \
                 to the check (<a href=\"/walk\">the page you were on</a>) and choose again."
                    .to_string(),
            ),
            Calm::TooLong => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "That was too long to send",
                format!(
                    "What was sent is longer than any answer in the check (more than {} kB), \
                     so it was not received. Nothing was changed and your answers so far are \
                     safe. Please go back to <a href=\"/walk\">the page you were on</a> and \
                     shorten what you typed.",
                    super::MAX_FORM / 1024
                ),
            ),
        };
        let main = format!("<h1>{title}</h1>\n<p>{text}</p>\n");
        let frame = html::Frame {
            closed: Some(crate::visit::FrontEnd::Hosted.page_closed()),
            private_window: None,
            ..frame
        };
        html_response(status, rooted(&html::page(&frame, title, &main, "")))
    }
}

/// A calm page is shown at `/c/TOKEN` too: its style, its "Leave quickly"
/// and their scripts are named from the root, and the page's own script
/// (which talks to a visit) is left out.
fn rooted(page: &str) -> String {
    page.replace("href=\"style.css\"", "href=\"/style.css\"")
        .replace("href=\"icon.svg\"", "href=\"/icon.svg\"")
        .replace("src=\"leave.js\"", "src=\"/leave.js\"")
        .replace("<script src=\"page.js\" defer></script>", "")
        .replace("action=\"leave\"", "action=\"/leave\"")
}

/// Without a visit, a hosted server still serves its files and "Leave
/// quickly" (a calm page has both); anything else gets the calm page.
pub(super) fn without_visit(shared: &Shared, method: &http::Method, path: &str) -> Response {
    let Some(hosting) = &shared.hosting else {
        return super::forbidden();
    };
    let name = path.trim_start_matches('/');
    if let Some(found) = super::ASSETS.iter().find(|(n, _, _)| *n == name) {
        return super::asset_response(found);
    }
    match (method, name) {
        (&http::Method::POST, "leave") => see_other("/away"),
        (&http::Method::GET, "away") => check::away_page(),
        _ => hosting.calm(Calm::Ended),
    }
}

/// A post from another site's page, or without this visit's form token.
pub(super) fn cross_site(shared: &Shared) -> Response {
    match &shared.hosting {
        Some(hosting) => hosting.calm(Calm::Forbidden),
        None => super::forbidden(),
    }
}

/// `/c/TOKEN`: an invitation, traded once for a session cookie.
pub(super) async fn open(
    State(shared): State<Arc<Shared>>,
    Path(token): Path<String>,
    request: Request,
) -> Response {
    let Some(hosting) = &shared.hosting else {
        return super::forbidden();
    };
    let now = chrono::Utc::now().timestamp();
    let invitation = match invite::verify(&token, &hosting.secret, now) {
        Ok(invitation) => invitation,
        Err(Refusal::Expired) => return hosting.calm(Calm::Expired),
        Err(Refusal::Altered) => return hosting.calm(Calm::Altered),
    };
    // The browser that opened it (a reload of the link) goes on.
    if shared
        .session_for(request.headers())
        .is_some_and(|s| s.invitation.as_deref() == Some(invitation.id.as_str()))
    {
        return see_other("/walk");
    }
    let reported =
        std::fs::symlink_metadata(hosting.inbox.join(format!("{}.age", invitation.id))).is_ok();
    let mut opened = hosting.opened.lock().unwrap_or_else(|e| e.into_inner());
    if reported
        || opened.contains(&invitation.id)
        || std::fs::symlink_metadata(hosting.opened_mark(&invitation.id)).is_ok()
    {
        return hosting.calm(Calm::Used);
    }
    let id = new_token();
    {
        let mut sessions = shared.lock_sessions();
        Hosting::drop_sessions(&mut sessions, |s| hosting.idle_out(s));
        if sessions.len() >= hosting.max_visits {
            return hosting.calm(Calm::Busy);
        }
        opened.insert(invitation.id.clone());
        // Kept on disk too, so neither a restart nor another serve sharing
        // the inbox opens it again. Without it, this server still knows.
        let _ = hosting.mark_opened(&invitation.id);
        let visit = (hosting.start)(&invitation, None);
        sessions.insert(id.clone(), new_session(visit, &invitation));
    }
    hosting.enter(&shared, &id, &request)
}

fn new_session(visit: Visit<AnyStorage>, invitation: &Invitation) -> Arc<Session> {
    let mut session = Session::new(Some(check::PageVisit::new(visit)));
    session.invitation = Some(invitation.id.clone());
    session.progress().last_seen = Some(Instant::now());
    Arc::new(session)
}

impl Hosting {
    /// The empty file that says invitation `id` was opened: hidden in the
    /// inbox (`summarize` passes hidden entries and folders over), holding
    /// nothing but its name.
    fn opened_mark(&self, id: &str) -> PathBuf {
        self.inbox.join(OPENED_DIR).join(id)
    }

    fn mark_opened(&self, id: &str) -> std::io::Result<()> {
        let dir = self.inbox.join(OPENED_DIR);
        if !dir.is_dir() {
            std::fs::create_dir_all(&dir)?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
            }
        }
        crate::fsutil::write_private(&self.opened_mark(id), b"").map_err(std::io::Error::other)
    }

    /// Into the visit: the session cookie (Secure over TLS, native or at
    /// the proxy), then the visit's page, so the link leaves the address bar.
    fn enter(&self, shared: &Shared, id: &str, request: &Request) -> Response {
        let secure = self.tls
            || request
                .headers()
                .get("x-forwarded-proto")
                .is_some_and(|p| p == "https");
        let mut cookie = shared.set_cookie(id);
        if secure {
            cookie.push_str("; Secure");
        }
        let mut r = see_other("/walk");
        if let Ok(cookie) = HeaderValue::from_str(&cookie) {
            r.headers_mut().insert(header::SET_COOKIE, cookie);
        }
        r
    }
}

/// `/r/ID.KEY`: a paused visit, carried on once ("Welcome back" first).
pub(super) async fn resume(
    State(shared): State<Arc<Shared>>,
    Path(link): Path<String>,
    request: Request,
) -> Response {
    let Some(hosting) = &shared.hosting else {
        return super::forbidden();
    };
    let now = chrono::Utc::now().timestamp();
    let id = new_token();
    {
        // The same order as `open` takes them.
        let mut opened = hosting.opened.lock().unwrap_or_else(|e| e.into_inner());
        let mut sessions = shared.lock_sessions();
        Hosting::drop_sessions(&mut sessions, |s| hosting.idle_out(s));
        if sessions.len() >= hosting.max_visits {
            return hosting.calm(Calm::Busy);
        }
        let (invitation, draft) = match hosting.paused.take(&link, now) {
            Ok(found) => found,
            Err(Gone::Expired) => return hosting.calm(Calm::Expired),
            Err(Gone::Unknown) => return hosting.calm(Calm::ResumeGone),
        };
        if std::fs::symlink_metadata(hosting.inbox.join(format!("{}.age", invitation.id))).is_ok() {
            return hosting.calm(Calm::Used);
        }
        // The visit that paused (its page still open somewhere) ends here.
        Hosting::drop_sessions(&mut sessions, |s| {
            s.invitation.as_deref() == Some(invitation.id.as_str())
        });
        opened.insert(invitation.id.clone());
        let visit = (hosting.start)(&invitation, Some(draft));
        sessions.insert(id.clone(), new_session(visit, &invitation));
    }
    hosting.enter(&shared, &id, &request)
}
