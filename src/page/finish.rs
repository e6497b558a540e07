//! The end of the check in the page: the outcome in calm words, crisis
//! resources first when they apply, the report preview, the saving choices
//! and the closing page. Also the connection test's progress, shown on every
//! page (server-rendered, and refreshed by `page.js` when scripts run).
//!
//! The page never builds or writes a report. The CLI builds it when the walk
//! is done (`PageServer::take_walk`, then `PageServer::offer`) exactly as the
//! terminal check does; the page sends back only the client's choice and,
//! if asked, a file name. The save itself runs here, in the CLI process,
//! through `report::deliver` (owner-only, atomic, encrypted for the clinic
//! when there is a clinic key), with the same choices and rules as the
//! terminal (`report::saving`).
use std::path::PathBuf;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Form, FromRequest, Request};
use axum::response::Response;
use http::{HeaderValue, Method, StatusCode, header};
use serde::Deserialize;

use crate::net::probe::{ProbeStep, ProgressFeed, ProgressView};
use crate::questionnaire::{Answers, SessionPlan};
use crate::report::deliver::{Delivery, deliver, written_path};
use crate::report::model::QuestionnaireStatus;
use crate::report::saving::{self, Offers, SaveChoice};
use crate::report::{Format, Report, View};

use super::html::{self, escape};
use super::{PageServer, Session};

/// What the questions leave for the end of the check.
#[derive(Debug, Clone)]
pub struct FinishedWalk {
    /// Every question that was asked, answered or `skipped`.
    pub answers: Answers,
    pub session_plan: Option<SessionPlan>,
    /// `Completed`, or `Stopped` when the client finished early.
    pub status: QuestionnaireStatus,
    /// The region the client chose or confirmed, if any.
    pub region: Option<String>,
    /// The walk learnt that someone at home may see this device.
    pub watched: bool,
}

impl FinishedWalk {
    /// The pages' frame for these answers: the support numbers when a risk
    /// answer is yes, and the watched-home rules.
    pub(super) fn frame(&self) -> html::Frame {
        let risk = self
            .answers
            .iter()
            .any(|(q, a)| crate::questionnaire::risk::is_positive_risk_answer(q, a));
        html::Frame {
            crisis: risk.then(|| {
                crate::crisis::resources_list(
                    self.region
                        .as_deref()
                        .unwrap_or(crate::crisis::FALLBACK_REGION),
                )
            }),
            watched: self.watched,
            private_window: None,
        }
    }
}

/// The frame the report calls for, once it is built.
pub(super) fn stage_frame(stage: &Stage) -> html::Frame {
    let finished = match stage {
        Stage::Ready(f) => f.as_ref(),
        Stage::Closed(c) => &c.finished,
        _ => return html::Frame::default(),
    };
    html::Frame {
        crisis: saving::crisis_applies(&finished.report)
            .then(|| finished.report.crisis_resources.clone()),
        watched: finished.watched,
        private_window: None,
    }
}

/// How a copy is saved: the flags and clinic file, as in the terminal.
#[derive(Debug, Clone)]
pub struct SaveSettings {
    /// `--format` (a screen format saves as JSON).
    pub format: Format,
    /// `--output`: the file name is then not asked.
    pub output: Option<PathBuf>,
    /// The clinic's age recipient: the full copy is locked for the clinic.
    pub encrypt_to: Option<String>,
}

/// The report the CLI built, with what the page needs to offer it.
#[derive(Debug, Clone)]
pub struct FinishedReport {
    pub report: Report,
    /// The walk's own flag, or the answers say the home may be watched.
    pub watched: bool,
    pub save: SaveSettings,
}

/// Where the end of the check stands.
#[derive(Debug, Default)]
pub(super) enum Stage {
    /// The questions are still being answered.
    #[default]
    Questions,
    /// The walk is done; the CLI is finishing the connection test and building the report.
    Building,
    Ready(Box<FinishedReport>),
    /// The client chose; the closing page shows what happened.
    Closed(Box<Closing>),
}

/// What the closing page and the terminal say.
#[derive(Debug, Clone)]
pub struct Closing {
    pub finished: FinishedReport,
    /// Where the copy was saved (its name as written, `.age` added when locked).
    pub saved: Option<PathBuf>,
}

/// The connection test's progress, as the page shows it: the probe's own
/// feed (the same the terminal reads), and whether its thread has ended.
#[derive(Debug, Clone, Default)]
pub(super) struct Connection {
    feed: Option<ProgressFeed>,
    done: bool,
}

/// Given to the thread that runs the connection test, so it can say when it is done.
#[derive(Clone)]
pub struct ConnectionDone(std::sync::Arc<Session>);

impl ConnectionDone {
    pub fn done(&self) {
        self.0.progress().connection.done = true;
        self.0.changed.notify_waiters();
    }
}

/// The media test is finished (or passed by without scripts): hand over a
/// walk that was waiting for it, and say where the page goes next.
pub(super) fn media_finished(session: &Session) -> &'static str {
    let held = session.progress().held_walk.take();
    if let Some(walk) = held {
        walk_done(session, walk);
    }
    AFTER_MEDIA
}

/// Where the page goes after the media test in the whole check.
const AFTER_MEDIA: &str = "finish";

/// Hand the finished walk to the CLI (called by the question pages when the
/// client reaches the end). The page then goes to `finish`.
pub(super) fn walk_done(session: &Session, walk: FinishedWalk) {
    {
        let mut p = session.progress();
        p.walk = Some(walk);
        p.stage = Stage::Building;
    }
    session.changed.notify_waiters();
}

impl PageServer {
    /// The connection test has started in the background and moves `feed`
    /// on as it goes. The returned handle marks it done.
    pub fn connection_started(&self, feed: ProgressFeed) -> ConnectionDone {
        self.session.progress().connection = Connection {
            feed: Some(feed),
            done: false,
        };
        ConnectionDone(self.session.clone())
    }

    /// The walk was done elsewhere (an answers file): the page goes from the
    /// media test straight to the end of the check.
    pub fn hold_walk(&self, walk: FinishedWalk) {
        let mut p = self.session.progress();
        p.held_frame = walk.frame();
        p.held_walk = Some(walk);
    }

    /// The finished walk, once, after `wait` said `Ending::WalkDone`.
    pub fn take_walk(&self) -> Option<FinishedWalk> {
        self.session.progress().walk.take()
    }

    /// Offer the built report in the page.
    pub fn offer(&self, finished: FinishedReport) {
        self.session.progress().stage = Stage::Ready(Box::new(finished));
        self.session.changed.notify_waiters();
    }

    /// After the closing page: give the browser a moment to fetch what the
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

    /// What the client chose, once the closing page was reached.
    pub fn closing(&self) -> Option<Closing> {
        match &self.session.progress().stage {
            Stage::Closed(c) => Some((**c).clone()),
            _ => None,
        }
    }
}

/// The pages this file answers with GET (`finish-save` takes the choice by POST).
pub(super) const GETS: [&str; 5] = [
    "next",
    "progress.json",
    "finish",
    "finish-report",
    "finish-done",
];

/// Answer one of [`GETS`], or `finish-save`.
pub(super) async fn route(session: &Session, rest: &str, request: Request) -> Response {
    // After "Leave quickly" every page is the neutral one, the report included.
    if session.walk().is_some_and(|w| w.left_quickly()) && rest != "progress.json" {
        return see_other("away");
    }
    let method = request.method().clone();
    let get = method == Method::GET || method == Method::HEAD;
    match rest {
        "progress.json" if get => progress_json(session),
        "next" if get => next(session),
        "finish" if get => {
            // "Continue" on the waiting page asks to wait for the report.
            let wait = request.uri().query().is_some_and(|q| q == "wait=1");
            finish(session, wait).await
        }
        "finish-report" if get => preview(session),
        "finish-done" if get => done(session),
        "finish-save" if method == Method::POST => {
            // A form posted by the page always carries its Origin (checked
            // against the page's own by the caller); one without is not from it.
            if !request.headers().contains_key(header::ORIGIN) {
                return super::forbidden();
            }
            let form = Form::<SaveForm>::from_request(request, &()).await;
            match form {
                Ok(Form(form)) => save(session, form).await,
                Err(_) => super::plain(StatusCode::BAD_REQUEST, "not a choice\n"),
            }
        }
        _ => super::plain(StatusCode::METHOD_NOT_ALLOWED, "not here\n"),
    }
}

/// `next`: past the media test without scripts (the page's noscript link).
fn next(session: &Session) -> Response {
    if session.whole_check {
        return see_other(media_finished(session));
    }
    session.progress().finished = true;
    session.changed.notify_waiters();
    page(
        session,
        "Nothing more to do here",
        "<h1>Nothing more to do here</h1>\n<p>The camera, microphone and speakers were not \
         tested in this page; your report says so. You can close this page now.</p>\n",
    )
}

// --- the connection test's progress -----------------------------------------

/// The page's view of the connection test, numbers only: the step's id (its
/// sentence is in the page, see [`connection_line`]) and the percentage done.
fn progress_json(session: &Session) -> Response {
    let p = session.progress();
    let now = p.connection.view();
    let ready = u8::from(matches!(p.stage, Stage::Ready(_) | Stage::Closed(_)));
    let body = serde_json::json!({
        "tested": u8::from(now.is_some()),
        "done": u8::from(now.is_some_and(|v| v.step == ProbeStep::Finished)),
        "step": now.map_or(0, |v| v.step.id()),
        "percent": now.map_or(0, percent),
        "report_ready": ready,
    });
    let mut r = Response::new(Body::from(body.to_string()));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

impl Connection {
    /// Where the test stands (`None` when it is not part of this check); a
    /// test whose thread has ended is finished, whatever its feed last said.
    fn view(&self) -> Option<ProgressView> {
        let feed = self.feed.as_ref()?;
        let now = feed.view();
        Some(if self.done {
            ProgressView {
                step: ProbeStep::Finished,
                fraction: 1.0,
                left: Duration::ZERO,
                number: now.of,
                ..now
            }
        } else {
            now
        })
    }
}

fn percent(now: ProgressView) -> u64 {
    (now.fraction * 100.0).clamp(0.0, 100.0) as u64
}

/// One line about the connection test, for any page (escaped HTML; empty
/// when it is not running in this check). Every step's sentence is in the
/// line's `data-step-N` attributes, so `page.js` shows the step that
/// `progress.json` names (by its number) without a second copy of the words.
pub(super) fn connection_line(session: &Session) -> String {
    let (now, steps) = {
        let p = session.progress();
        let Some(now) = p.connection.view() else {
            return String::new();
        };
        let steps = p.connection.feed.as_ref().map(ProgressFeed::steps);
        (now, steps.unwrap_or_default())
    };
    let percent = percent(now);
    let sentences: String = ProbeStep::ALL
        .iter()
        .filter(|step| {
            matches!(step, ProbeStep::Starting | ProbeStep::Finished) || steps.contains(step)
        })
        .map(|&step| {
            format!(
                " data-step-{}=\"{}\"",
                step.id(),
                escape(&connection_sentence(step, &steps))
            )
        })
        .collect();
    format!(
        "<div class=\"connection\" id=\"connection\">\
         <p id=\"connection-words\" role=\"status\"{sentences}>{}</p>\
         <progress id=\"connection-bar\" max=\"100\" value=\"{percent}\" \
         aria-labelledby=\"connection-words\">{percent}%</progress></div>",
        escape(&connection_sentence(now.step, &steps))
    )
}

/// The page's sentence for `step` of a test that runs `steps`.
fn connection_sentence(step: ProbeStep, steps: &[ProbeStep]) -> String {
    match (step, steps.iter().position(|s| *s == step)) {
        (ProbeStep::Finished, _) => "The connection test has finished.".into(),
        (_, Some(at)) => {
            let mut words = step.words().chars();
            let lowered: String = words
                .next()
                .map(|first| first.to_lowercase().chain(words).collect())
                .unwrap_or_default();
            format!(
                "The connection test is running in the background, step {} of {}: {lowered}.",
                at + 1,
                steps.len()
            )
        }
        _ => "The connection test is starting in the background.".into(),
    }
}

// --- pages -------------------------------------------------------------------

/// A whole page in the shared skeleton ("Leave quickly" first), with the
/// connection test's line in its footer.
fn page(session: &Session, title: &str, body: &str) -> Response {
    let html = html::page(&session.frame(), title, body, &connection_line(session));
    let mut r = Response::new(Body::from(html));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    r
}

fn see_other(to: &'static str) -> Response {
    let mut r = super::plain(StatusCode::SEE_OTHER, "");
    r.headers_mut()
        .insert(header::LOCATION, HeaderValue::from_static(to));
    r
}

/// How long a press of "Continue" waits for the report before saying it is
/// still being put together (the connection test is capped well below this).
const READY_WAIT: Duration = Duration::from_secs(30);

/// `finish`: the report when it is ready; otherwise say what is still
/// happening at once, or (`wait`, the page's "Continue" without scripts)
/// wait a little for it first.
async fn finish(session: &Session, wait: bool) -> Response {
    let deadline = tokio::time::Instant::now() + READY_WAIT;
    loop {
        let changed = session.changed.notified();
        {
            let p = session.progress();
            match &p.stage {
                Stage::Ready(f) => {
                    let f = (**f).clone();
                    drop(p);
                    return choices_page(session, &f, None, "");
                }
                Stage::Closed(_) => return see_other("finish-done"),
                Stage::Questions => {
                    drop(p);
                    return page(
                        session,
                        "Not finished yet",
                        "<h1>Not finished yet</h1>\n<p>The questions are not finished yet, so \
                         there is no report to show.</p>\n<p><a href=\"./\">Back to the \
                         beginning</a></p>\n",
                    );
                }
                Stage::Building => {}
            }
        }
        if !wait || tokio::time::timeout_at(deadline, changed).await.is_err() {
            return page(
                session,
                "Putting your report together",
                "<div data-waiting=\"report\"><h1>Putting your report together</h1>\n<p>Your answers are safe. The \
                 connection test is finishing, which can take a few more seconds.</p>\n\
                 <p><a class=\"button primary\" href=\"finish?wait=1\" id=\"continue\">Continue</a></p></div>\n",
            );
        }
    }
}

/// The outcome, crisis resources first when they apply, the preview link
/// and the saving choices. `problem` is said above the form when the last
/// attempt needs the client's attention; `typed` keeps the name they typed.
fn choices_page(
    session: &Session,
    f: &FinishedReport,
    problem: Option<&str>,
    typed: &str,
) -> Response {
    let report = &f.report;
    let keyed = f.save.encrypt_to.is_some();
    let offers = saving::offers(f.watched, keyed);
    // The support numbers, when they apply, are in the page's frame above.
    let mut body = String::from("<h1>Your report is ready</h1>\n");
    if f.watched {
        body.push_str(
            "<p>To keep it private, your report is not shown unless you ask, and nothing is \
             saved on this device unless you choose.</p>\n",
        );
    } else {
        body.push_str(&format!(
            "<p class=\"outcome\"><strong>{}.</strong> {}</p>\n",
            escape(&crate::term::capitalise(report.outcome.words())),
            escape(&report.headline)
        ));
        body.push_str(
            "<p><a href=\"finish-report\">See what your report contains</a> (the copy for you; \
             the full copy for your therapist also includes your answers about how you have \
             been feeling).</p>\n",
        );
    }
    if let Some(problem) = problem {
        body.push_str(&format!(
            "<div class=\"result\" data-rating=\"caution\" role=\"alert\"><p>{}</p></div>\n",
            escape(problem)
        ));
    }
    body.push_str(&choices_form(f, &offers, typed));
    page(session, "Your report is ready", &body)
}

fn choices_form(f: &FinishedReport, offers: &Offers, typed: &str) -> String {
    let mut form = String::from(
        "<form method=\"post\" action=\"finish-save\">\n<fieldset class=\"choices\">\n\
         <legend>What would you like to do?</legend>\n",
    );
    // No choice is selected for the client: an empty form is asked again.
    // Not `required`: screen readers would call the choices invalid on load.
    for o in &offers.items {
        let id = o.choice.id();
        form.push_str(&format!(
            "<div class=\"choice\"><input type=\"radio\" name=\"choice\" id=\"choice-{id}\" \
             value=\"{id}\"><label for=\"choice-{id}\">{}</label></div>\n",
            escape(o.label)
        ));
    }
    form.push_str("</fieldset>\n");
    if f.watched {
        form.push_str(&format!(
            "<p class=\"hint\">Because someone at home may see this device, \
             “{}” is the safer choice.</p>\n",
            escape(offers.items[offers.suggested].label)
        ));
    }
    if f.save.output.is_none() {
        let suggested = suggested_name(f);
        let folder = std::env::current_dir()
            .map(|d| d.display().to_string())
            .unwrap_or_else(|_| "the folder session-ready was started in".into());
        form.push_str(&format!(
            "<p><label for=\"name\">File name, if you save (you can leave this empty)</label>\
             <input type=\"text\" id=\"name\" name=\"name\" value=\"{}\" autocomplete=\"off\" \
             spellcheck=\"false\" aria-describedby=\"name-hint\"></p>\n\
             <p id=\"name-hint\" class=\"hint\">Left empty, it is saved as {} in {}.</p>\n",
            escape(typed),
            escape(&suggested),
            escape(&folder)
        ));
    }
    form.push_str(
        "<p class=\"actions\"><button type=\"submit\" class=\"primary\" id=\"continue\">\
         Continue</button></p>\n</form>\n",
    );
    form
}

fn suggested_name(f: &FinishedReport) -> String {
    saving::unique_name(&saving::default_file_name(
        f.save.format,
        f.save.encrypt_to.is_some(),
        f.watched,
    ))
}

/// A report copy on its own page, with the way back to the choices.
fn report_page(session: &Session, f: &FinishedReport, view: View, intro: &str) -> Response {
    let shown = match view {
        View::Client => f.report.client_copy(),
        View::Clinician => f.report.clone(),
    };
    let mut body = String::from("<h1>Your report</h1>\n");
    body.push_str(&format!("<p>{}</p>\n", escape(intro)));
    body.push_str(&crate::report::html::render(&shown, 2));
    let back = if f.watched {
        "Hide my report and go back to the choices"
    } else {
        "Back to the choices"
    };
    body.push_str(&format!(
        "<p class=\"actions\"><a class=\"button primary\" href=\"finish\" id=\"back\">{back}</a></p>\n"
    ));
    page(session, "Your report", &body)
}

fn ready(session: &Session) -> Option<FinishedReport> {
    match &session.progress().stage {
        Stage::Ready(f) => Some((**f).clone()),
        _ => None,
    }
}

/// `finish-report`: the client's copy. In a home that may be watched it is
/// shown only through the "show my report once" choice.
fn preview(session: &Session) -> Response {
    match ready(session) {
        Some(f) if !f.watched => report_page(
            session,
            &f,
            View::Client,
            "This is what your report contains. The full copy for your therapist also \
             includes your answers about how you have been feeling.",
        ),
        _ => see_other("finish"),
    }
}

#[derive(Debug, Deserialize)]
struct SaveForm {
    #[serde(default)]
    choice: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

/// `finish-save`: do what the client chose.
async fn save(session: &Session, form: SaveForm) -> Response {
    let Some(f) = ready(session) else {
        return see_other("finish");
    };
    let typed = form.name.as_deref().unwrap_or("").trim().to_string();
    let offers = saving::offers(f.watched, f.save.encrypt_to.is_some());
    let Some(choice) = form.choice.as_deref().and_then(|id| offers.find(id)) else {
        return choices_page(
            session,
            &f,
            Some("Please choose one of the options, then press Continue."),
            &typed,
        );
    };
    let view = match choice {
        SaveChoice::ShowEverything => {
            return report_page(
                session,
                &f,
                View::Clinician,
                "This is everything the full report contains.",
            );
        }
        SaveChoice::ShowOnce => {
            return report_page(
                session,
                &f,
                View::Client,
                "Your report is shown once. Going back hides it again.",
            );
        }
        SaveChoice::Nothing => return close(session, f, None),
        SaveChoice::SaveFull | SaveChoice::SaveClient => choice.saved_view(),
    };
    let path = match &f.save.output {
        Some(path) => path.clone(),
        None if typed.is_empty() => PathBuf::from(suggested_name(&f)),
        // A name typed in the page is always a file here, never `-`.
        None => match saving::typed_file_name(&typed) {
            Ok(path) => path,
            Err(why) => {
                let why = format!("{why} Nothing was saved.");
                return choices_page(session, &f, Some(&why), "");
            }
        },
    };
    // Never replace an earlier report: choose again. What is checked is the
    // name actually written (`.age` added when locked for the clinic).
    let written = written_path(&path, f.save.encrypt_to.is_some()).into_owned();
    if std::fs::symlink_metadata(&written).is_ok() {
        let why = format!(
            "There is already a file called {}; it was left as it is. Nothing was \
             replaced: please choose another name.",
            written.display()
        );
        return choices_page(session, &f, Some(&why), &typed);
    }
    let outcome = {
        let f = f.clone();
        let path = path.clone();
        tokio::task::spawn_blocking(move || {
            let delivery = Delivery {
                format: saving::saved_format(f.save.format),
                view,
                output: Some(&path),
                encrypt_to: f.save.encrypt_to.as_deref(),
                style: crate::term::Style::decide(false, true, true),
            };
            deliver(&f.report, &delivery).map(|()| delivery.output_path().map(|p| p.into_owned()))
        })
        .await
    };
    match outcome {
        Ok(Ok(saved)) => close(session, f, saved),
        Ok(Err(e)) => {
            let why = format!("{e} Your report is still here, nothing was lost.");
            choices_page(session, &f, Some(&why), &typed)
        }
        Err(_) => choices_page(
            session,
            &f,
            Some("The report could not be saved. Your report is still here, nothing was lost."),
            &typed,
        ),
    }
}

fn close(session: &Session, finished: FinishedReport, saved: Option<PathBuf>) -> Response {
    session.progress().stage = Stage::Closed(Box::new(Closing { finished, saved }));
    session.changed.notify_waiters();
    see_other("finish-done")
}

/// The words the closing page and the terminal use for what was saved.
pub fn saved_words(closing: &Closing) -> String {
    match &closing.saved {
        // `--output -`: printed for the program that started the check.
        Some(path) if crate::fsutil::is_stdout(Some(path)) => {
            "Your report was written to the standard output of session-ready, as --output - \
             asked; no file was saved."
                .into()
        }
        Some(path) if closing.finished.save.encrypt_to.is_some() => format!(
            "Your report is saved in {}, locked so that only your clinic can open it. You can \
             send it to your therapist as they asked.",
            absolute(path).display()
        ),
        Some(path) => format!(
            "Your report is saved in {} (only your user account can open it). You can share it \
             with your therapist.",
            absolute(path).display()
        ),
        None => "Nothing was saved.".into(),
    }
}

fn absolute(path: &std::path::Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// `finish-done`: thank you, what was saved, the support numbers last. The
/// CLI stops the page server once this page has been shown.
fn done(session: &Session) -> Response {
    let closing = match &session.progress().stage {
        Stage::Closed(c) => (**c).clone(),
        _ => return see_other("finish"),
    };
    let f = &closing.finished;
    let mut body = String::from("<h1>Thank you</h1>\n");
    if !f.watched {
        body.push_str(&format!("<p>{}</p>\n", escape(&f.report.headline)));
    }
    body.push_str(&format!(
        "<p id=\"saved\">{}</p>\n",
        escape(&saved_words(&closing))
    ));
    // The support numbers last, unless the frame already shows them first.
    if session.frame().crisis.is_none() {
        body.push_str(&html::crisis_box(&f.report.crisis_resources));
    }
    body.push_str(
        "<p>The check is finished and session-ready has closed its page. You can close this \
         page now.</p>\n",
    );
    let response = page(session, "Thank you", &body);
    {
        let mut p = session.progress();
        p.finished = true;
    }
    session.changed.notify_waiters();
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_step_has_its_place_and_the_end_is_whole() {
        let feed =
            ProgressFeed::for_config(&crate::net::probe::ProbeConfig::new("http://127.0.0.1:9"));
        let steps = feed.steps();
        assert_eq!(
            connection_sentence(ProbeStep::Download, &steps),
            "The connection test is running in the background, step 3 of 4: measuring download speed."
        );
        assert!(connection_sentence(ProbeStep::Starting, &steps).contains("starting"));
        let mut c = Connection {
            feed: Some(feed),
            done: false,
        };
        let starting = c.view().unwrap();
        assert_eq!((starting.step, percent(starting)), (ProbeStep::Starting, 0));
        // The thread ended (even without its feed saying so): finished, whole.
        c.done = true;
        let done = c.view().unwrap();
        assert_eq!((done.step, percent(done)), (ProbeStep::Finished, 100));
        assert!(Connection::default().view().is_none());
    }
}
