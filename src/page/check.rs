//! The whole check in the page: one visit (`crate::visit`) per session,
//! drawn by `draw`. A GET shows the screen the visit is at (each kind of
//! screen has its own address, so the browser's address and Back say where
//! the person is); a POST applies the person's choice and answers 303 to
//! where the visit is now (post/redirect/get), so reload and Back never send
//! an answer twice. Each form carries the key of the screen it was drawn
//! for; a form from another screen changes nothing.
//!
//! Nothing here decides what is said, offered, kept or saved: drafts and
//! saved reports go through `visit::storage::Files`, the same as in the
//! terminal.
use std::time::Duration;

use axum::response::Response;
use http::StatusCode;

use super::draw::{self, Form};
use super::{Session, html, html_response, plain, see_other};
use crate::visit::storage::AnyStorage;
use crate::visit::{Action, Ask, End, Screen, Storage, Visit};

/// One person's visit in the page.
pub struct PageVisit {
    pub visit: Visit<AnyStorage>,
    /// Forms applied so far: with the screen's id, the key a form carries,
    /// so a form drawn for an earlier screen (Back, another tab) is not applied.
    steps: u64,
    /// Said once on the next page: a form that chose nothing, a stale page.
    notice: Option<String>,
    /// The last page (a farewell, or the neutral page after leaving
    /// quickly) has been shown: the page server can stop.
    pub farewell_shown: bool,
    /// The CLI was told the visit waits for the measurements.
    pub(super) measuring: bool,
    /// Where to carry on in a private window, offered on the first page.
    pub private_address: Option<String>,
}

impl PageVisit {
    pub fn new(visit: Visit<AnyStorage>) -> PageVisit {
        PageVisit {
            visit,
            steps: 0,
            notice: None,
            farewell_shown: false,
            measuring: false,
            private_address: None,
        }
    }

    fn at(&self, screen: &Screen) -> String {
        format!("{}.{}", screen.id, self.steps)
    }

    /// The page's frame for the screen: the visit's frame, and the private
    /// window offered on the opening.
    pub fn frame(&self, screen: &Screen) -> html::Frame {
        html::Frame {
            closed: Some(self.visit.front_end().page_closed()),
            ..frame(
                screen,
                self.private_address
                    .clone()
                    .filter(|_| self.visit.at_opening()),
            )
        }
    }

    /// Apply a submitted form (whatever it says, the answer is a redirect).
    fn submit(&mut self, form: &Form) {
        let screen = self.visit.screen();
        if form.get("at") != Some(self.at(&screen).as_str()) {
            self.notice = Some(
                "That page was out of date, so nothing was changed. Here is where you are now."
                    .into(),
            );
            return;
        }
        match draw::decode(&screen, form) {
            Ok(action) => {
                self.visit.act(action);
                self.steps += 1;
            }
            Err(notice) => self.notice = Some(notice),
        }
    }

    /// Apply an action the page itself sends (the media test is done).
    pub fn act(&mut self, action: Action) {
        self.visit.act(action);
        self.steps += 1;
    }
}

/// The page's frame for a visit's screen: its numbers (and their country),
/// the watched-home rules, and `private_window` when offered.
pub fn frame(screen: &Screen, private_window: Option<String>) -> html::Frame {
    html::Frame {
        crisis: screen.frame.crisis.clone(),
        region_note: screen.frame.region_note.clone(),
        watched: screen.frame.watched,
        private_window,
        closed: None,
        last: screen.frame.last,
    }
}

/// The address of the page that shows `screen`.
pub fn place<S: Storage>(visit: &Visit<S>, screen: &Screen) -> &'static str {
    if visit.end() == Some(End::QuickExit) {
        return "away";
    }
    match &screen.ask {
        Ask::Media => "media",
        Ask::Wait => "finish",
        _ => match screen.id.as_str() {
            "report" | "report-once" => "finish-report",
            "choices" | "confirm-unlocked" | "file-name" => "finish",
            "thank-you" => "finish-done",
            _ => "walk",
        },
    }
}

/// The visit's page addresses, answered with GET.
pub const PAGES: [&str; 4] = ["walk", "finish", "finish-report", "finish-done"];

/// How long "Continue" on the waiting page waits for the report before
/// saying it is still being put together (the connection test is capped
/// well below this).
const READY_WAIT: Duration = Duration::from_secs(30);

/// GET one of the visit's pages (`rest` is its address; "" is `walk`).
pub(super) async fn show(session: &Session, rest: &str, wait: bool) -> Response {
    let deadline = tokio::time::Instant::now() + READY_WAIT;
    if wait && session.invitation.is_some() {
        // "Continue" on the hosted waiting page: no test came from the browser.
        super::measure::without_browser_test(session);
    }
    loop {
        let changed = session.changed.notified();
        {
            let Some(mut v) = session.visit() else {
                return plain(StatusCode::NOT_FOUND, "not here\n");
            };
            let screen = v.visit.screen();
            let waiting = screen.ask == Ask::Wait;
            if !(wait && waiting) {
                let to = place(&v.visit, &screen);
                let rest = if rest.is_empty() { "walk" } else { rest };
                if to != rest {
                    return see_other(to);
                }
                let notice = v.notice.take();
                let mut main = draw::main_html(&screen, &v.at(&screen), notice.as_deref());
                if waiting && session.invitation.is_some() {
                    main.push_str(&super::measure::waiting_html());
                }
                if screen.ask == Ask::Nothing {
                    v.farewell_shown = true;
                }
                let frame = v.frame(&screen);
                drop(v);
                // The terminal that started the local page: if it is
                // interrupted (Ctrl-C) from now on, the numbers the page shows
                // stay there. A hosted server's console is not the client's.
                if session.invitation.is_none() {
                    let plain = crate::term::Style::decide(false, true, true);
                    crate::interrupt::set_last_words(
                        frame
                            .crisis
                            .as_ref()
                            .map(|resources| crate::crisis::render(resources, plain)),
                    );
                }
                let page = html::page(
                    &frame,
                    &screen.title,
                    &main,
                    &super::connection::connection_line(session),
                );
                session.changed.notify_waiters();
                return html_response(StatusCode::OK, page);
            }
        }
        // "Continue" on the waiting page (no scripts): wait a little for the report.
        if tokio::time::timeout_at(deadline, changed).await.is_err() {
            return see_other("finish");
        }
    }
}

/// POST `walk`: apply the person's choice, then show where they are now.
pub(super) fn submit(session: &Session, body: &[u8]) -> Response {
    let Some(mut v) = session.visit() else {
        return plain(StatusCode::NOT_FOUND, "not here\n");
    };
    v.submit(&Form::parse(body));
    if session.invitation.is_some() && v.visit.waiting() && !v.measuring {
        // Hosted: the waiting page's script measures the connection from the
        // browser (`measure`); without scripts "Continue" goes on without it.
        v.measuring = true;
    }
    let to = place(&v.visit, &v.visit.screen());
    drop(v);
    session.changed.notify_waiters();
    see_other(to)
}

/// GET `my-copy.pdf`: the client's own copy at the end of a hosted check,
/// the client copy drawn by the same PDF renderer as `report --format pdf`,
/// made in memory when asked and streamed; nothing of it touches the disk.
pub(super) async fn own_copy(session: &Session) -> Response {
    let copy = session.visit().and_then(|v| v.visit.own_copy());
    let Some(copy) = copy else {
        return plain(
            StatusCode::NOT_FOUND,
            "There is no copy to download here. It is offered on the last page of a finished \
             check.\n",
        );
    };
    match tokio::task::spawn_blocking(move || crate::report::pdf::render(&copy)).await {
        Ok(Ok(pdf)) => {
            let mut r = Response::new(axum::body::Body::from(pdf));
            let h = r.headers_mut();
            h.insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("application/pdf"),
            );
            h.insert(
                http::header::CONTENT_DISPOSITION,
                http::HeaderValue::from_static(
                    "attachment; filename=\"my-session-ready-copy.pdf\"",
                ),
            );
            r
        }
        _ => plain(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Your copy could not be made just now. Nothing is wrong with your report; please \
             try the link again in a moment.\n",
        ),
    }
}

/// "Leave quickly": the visit ends at once; a kept draft stays as it was.
pub(super) fn leave(session: &Session) -> Response {
    if let Some(mut v) = session.visit() {
        v.act(Action::QuickExit);
    }
    session.changed.notify_waiters();
    see_other("away")
}

/// The media test is finished (or passed by without scripts): the visit
/// goes on, and the page goes where it is now.
pub(super) fn media_done(session: &Session) -> &'static str {
    let Some(mut v) = session.visit() else {
        return "finish";
    };
    if v.visit.screen().ask == Ask::Media {
        v.act(Action::MediaDone);
    }
    let to = place(&v.visit, &v.visit.screen());
    drop(v);
    session.changed.notify_waiters();
    to
}

/// An empty, neutral page to leave to: its title and words say nothing
/// about this check.
pub fn away_page() -> Response {
    html_response(
        StatusCode::OK,
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>New page</title>\n</head>\n<body>\n<main>\n<h1>New page</h1>\n\
         <p>Nothing here yet.</p>\n</main>\n</body>\n</html>\n"
            .to_string(),
    )
}
