//! The connection test's progress on every page of the whole check: one
//! line, server-rendered, refreshed by `page.js` from `progress.json` when
//! scripts run. It reads the probe's own feed, the same the terminal reads.
use std::time::Duration;

use axum::body::Body;
use axum::response::Response;
use http::{HeaderValue, header};

use crate::net::probe::{ProbeStep, ProgressFeed, ProgressView};

use super::Session;
use super::html::escape;

/// The connection test's progress, as the page shows it: the probe's own
/// feed (the same the terminal reads), and whether its thread has ended.
#[derive(Debug, Clone, Default)]
pub(super) struct Connection {
    feed: Option<ProgressFeed>,
    done: bool,
}

/// Given to the thread that runs the connection test, so it can say when it is done.
#[derive(Clone)]
pub struct ConnectionDone(pub(super) std::sync::Arc<Session>);

impl ConnectionDone {
    pub fn done(&self) {
        self.0.progress().connection.done = true;
        self.0.changed.notify_waiters();
    }
}

/// The page's view of the connection test, numbers only: the step's id (its
/// sentence is in the page, see [`connection_line`]), the percentage done,
/// and whether the report is ready (the waiting page then moves on).
pub(super) fn progress_json(session: &Session) -> Response {
    let ready = session.report_ready();
    let p = session.progress();
    let now = p.connection.view();
    let body = serde_json::json!({
        "tested": u8::from(now.is_some()),
        "done": u8::from(now.is_some_and(|v| v.step == ProbeStep::Finished)),
        "step": now.map_or(0, |v| v.step.id()),
        "percent": now.map_or(0, percent),
        "report_ready": u8::from(ready),
    });
    let mut r = Response::new(Body::from(body.to_string()));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

impl Connection {
    /// The test in progress, as its feed says.
    pub(super) fn following(feed: ProgressFeed) -> Connection {
        Connection {
            feed: Some(feed),
            done: false,
        }
    }

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
pub(super) fn connection_sentence(step: ProbeStep, steps: &[ProbeStep]) -> String {
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
