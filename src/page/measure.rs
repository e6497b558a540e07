//! The hosted check's connection test, run by the client's browser
//! (`assets/measure.js`) against the same `serve` while the visit waits for
//! its measurements. The page asks for the plan (`POST api/network-plan`,
//! sized by its idle round trip), measures, and sends raw samples
//! (`POST api/network`); the figures and the rating come from
//! `net::probe::browser_report`, the probe's own rules. Without scripts the
//! waiting page's "Continue" goes on without it, and the report says the
//! connection was not measured in this browser.
use axum::body::Body;
use axum::response::Response;
use http::{HeaderMap, HeaderValue, StatusCode, header};

use super::Session;
use super::connection::connection_sentence;
use super::html::escape;
use crate::device::{DeviceFacts, DeviceReport, UnreadFacts};
use crate::net::probe::{self, BrowserSamples, ProbeStep};
use crate::visit::Measured;

/// The largest sample set accepted (a real one is 20–60 kB).
pub(super) const MAX_SAMPLES_BODY: usize = 256 * 1024;

/// The steps the page runs, in order (the data channel runs with the delay).
const STEPS: [ProbeStep; 3] = [ProbeStep::Delay, ProbeStep::Download, ProbeStep::Upload];

/// On the hosted waiting page: the line the page's test keeps current (its
/// sentences written here, as the local page's are) and its scripts. Hidden
/// until the script runs; without scripts nothing of it shows.
pub(super) fn waiting_html() -> String {
    let steps: String = STEPS
        .iter()
        .chain([&ProbeStep::Finished])
        .map(|&step| {
            format!(
                " data-step-{}=\"{}\"",
                step.id(),
                escape(&connection_sentence(step, &STEPS))
            )
        })
        .collect();
    format!(
        "<div class=\"connection\" id=\"browser-test\" hidden>\
         <p id=\"browser-test-words\" role=\"status\"{steps}>{}</p>\
         <progress id=\"browser-test-bar\" max=\"100\" value=\"0\" \
         aria-labelledby=\"browser-test-words\">0%</progress></div>\n\
         <script src=\"rtc.js\" defer></script>\n<script src=\"measure.js\" defer></script>\n",
        escape(&connection_sentence(ProbeStep::Starting, &STEPS))
    )
}

/// What the visit gets on the hosted check: the page's camera, microphone
/// and speaker findings (the server's own machine is not the client's, so
/// nothing else is read: those items say a browser does not share them),
/// and the connection as the browser measured it, or why not.
fn measured(
    session: &Session,
    network: Result<crate::net::model::NetworkReport, String>,
) -> Measured {
    let media = session.progress().media;
    let device = DeviceFacts {
        media: Some(media),
        unread: vec![UnreadFacts {
            items: ["os", "cpu", "cpu-load", "memory", "battery"]
                .map(String::from)
                .to_vec(),
            reason: "the check ran in a web browser, which does not share this".into(),
        }],
        ..DeviceFacts::default()
    };
    let (network, network_reason) = match network {
        Ok(report) => (Some(report), None),
        Err(reason) => (None, Some(reason)),
    };
    Measured {
        network,
        network_reason,
        device: Some(device_report(&device)),
    }
}

fn device_report(facts: &DeviceFacts) -> DeviceReport {
    crate::device::rules::rate(facts)
}

/// The hosted visit waits for its measurements and the page did not send
/// any (no scripts, or "Continue" pressed): it goes on without them.
pub(super) fn without_browser_test(session: &Session) {
    let m = measured(session, Err(super::hosted::NOT_MEASURED.into()));
    if let Some(mut v) = session.visit()
        && v.visit.waiting()
    {
        v.visit.measured(m);
    }
    session.changed.notify_waiters();
}

fn json(status: StatusCode, body: String) -> Response {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

fn refused(status: StatusCode, why: &str) -> Response {
    let mut r = Response::new(Body::from(format!("{why}\n")));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

/// Only a hosted visit that is waiting for its measurements takes these calls.
fn waiting(session: &Session) -> Result<(), Box<Response>> {
    if session.invitation.is_none() {
        return Err(Box::new(refused(StatusCode::NOT_FOUND, "not here")));
    }
    match session.visit() {
        Some(v) if v.visit.waiting() => Ok(()),
        _ => Err(Box::new(refused(
            StatusCode::CONFLICT,
            "This check is not waiting for a connection test now.",
        ))),
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanAsked {
    /// The browser's idle round trip, ms (null: unknown).
    rtt_ms: Option<f64>,
}

/// `POST api/network-plan`: the probe's plan for the browser's round trip.
pub(super) fn plan(session: &Session, body: &[u8]) -> Response {
    if let Err(r) = waiting(session) {
        return *r;
    }
    let Ok(asked) = serde_json::from_slice::<PlanAsked>(body) else {
        return refused(
            StatusCode::BAD_REQUEST,
            "expected {\"rtt_ms\": number or null}",
        );
    };
    let plan = probe::browser_plan(asked.rtt_ms);
    json(
        StatusCode::OK,
        serde_json::to_string(&plan).unwrap_or_default(),
    )
}

/// `POST api/network`: the browser's samples become the visit's connection
/// test. Unreadable: 400; readable but impossible: 422 naming the field.
pub(super) fn samples(session: &Session, headers: &HeaderMap, body: &[u8]) -> Response {
    if let Err(r) = waiting(session) {
        return *r;
    }
    let samples: BrowserSamples = match serde_json::from_slice(body) {
        Ok(s) => s,
        Err(e) => {
            return refused(
                StatusCode::BAD_REQUEST,
                &format!("not a connection test's samples: {e}"),
            );
        }
    };
    let report = match probe::browser_report(&samples, &server_name(headers)) {
        Ok(report) => report,
        Err(why) => return refused(StatusCode::UNPROCESSABLE_ENTITY, &why),
    };
    let m = measured(session, Ok(report));
    if let Some(mut v) = session.visit()
        && v.visit.waiting()
    {
        v.visit.measured(m);
    }
    session.changed.notify_waiters();
    json(StatusCode::OK, "{\"ready\":1}".into())
}

/// The server the browser measured against, as the report names it: this
/// check's own address (the Host the browser used, when it looks like one).
fn server_name(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 255
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        });
    let https = headers
        .get("x-forwarded-proto")
        .is_some_and(|p| p == "https");
    match host {
        Some(host) => format!("{}://{host}", if https { "https" } else { "http" }),
        None => "this check's own server".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_server_is_named_by_a_plain_host_only() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("check.example:8443"));
        assert_eq!(server_name(&h), "http://check.example:8443");
        h.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        assert_eq!(server_name(&h), "https://check.example:8443");
        h.insert(header::HOST, HeaderValue::from_static("a<b>"));
        assert_eq!(server_name(&h), "this check's own server");
    }

    #[test]
    fn the_waiting_line_has_a_sentence_for_every_step() {
        let html = waiting_html();
        for step in STEPS.iter().chain([&ProbeStep::Finished]) {
            assert!(
                html.contains(&format!("data-step-{}=", step.id())),
                "{step:?}"
            );
        }
        assert!(html.contains("step 2 of 3: measuring download speed"));
        assert!(html.contains(" hidden>"));
    }
}
