//! `serve --on-report PROGRAM`: a report that reaches the hosted check's
//! inbox is announced to a program the clinic chooses (a pager, an e-mail to
//! itself), so an urgent one finished at 2 a.m. does not wait unseen.
//!
//! The program is started directly, never through a shell, with four
//! arguments and the same four values in its environment: the urgency level
//! as the report's `risk_screen` names it, the report's `urgent`, the time it
//! arrived, and the invitation's client reference. Nothing the client
//! answered is ever passed. Each arrival is announced on its own thread, so
//! no client's page waits for it; a program that fails (or runs longer than
//! [`RUN_LIMIT`]) is tried again after [`BACKOFF`], and every failure is
//! logged with the arrival's time only.
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc::{self, Sender};
use std::time::{Duration, Instant};

use crate::report::{Report, View};

/// The waits between tries: five tries over about three minutes.
pub const BACKOFF: [Duration; 4] = [
    Duration::from_secs(2),
    Duration::from_secs(8),
    Duration::from_secs(32),
    Duration::from_secs(128),
];

/// A program still running after this long is stopped and counted as failed.
pub const RUN_LIMIT: Duration = Duration::from_secs(60);

/// What is said about one report that arrived: never an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arrival {
    /// `risk_screen` (`positive-acute`, `positive-acuity-unknown`, …), or
    /// `unknown` when the client sent the client copy, which leaves it out.
    pub risk_screen: String,
    /// `urgent`: `true`, `false`, or `unknown` (a client copy).
    pub urgent: String,
    /// When it arrived, RFC 3339 in UTC.
    pub arrived_at: String,
    /// The invitation's client reference, made safe to pass ("" if none).
    pub client_ref: String,
}

impl Arrival {
    /// The arrival of `report`, saved in the inbox as `view`, now.
    pub fn of(report: &Report, view: View) -> Arrival {
        let full = view == View::Clinician;
        Arrival {
            risk_screen: report
                .risk_screen
                .filter(|_| full)
                .map_or_else(|| "unknown".into(), |r| r.as_str().into()),
            urgent: report
                .urgent
                .filter(|_| full)
                .map_or_else(|| "unknown".into(), |u| u.to_string()),
            arrived_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            client_ref: safe_ref(report.client_ref.as_deref().unwrap_or("")),
        }
    }

    /// The program's arguments, in order.
    pub fn args(&self) -> [&str; 4] {
        [
            &self.risk_screen,
            &self.urgent,
            &self.arrived_at,
            &self.client_ref,
        ]
    }

    /// The same values in the program's environment.
    pub fn env(&self) -> [(&'static str, &str); 4] {
        [
            ("SESSION_READY_RISK_SCREEN", &self.risk_screen),
            ("SESSION_READY_URGENT", &self.urgent),
            ("SESSION_READY_ARRIVED_AT", &self.arrived_at),
            ("SESSION_READY_CLIENT_REF", &self.client_ref),
        ]
    }
}

/// A client reference comes from a signed invitation, but is passed to a
/// program all the same: letters, digits, space and `. _ - # / +` are kept,
/// anything else becomes `_`, a leading `-` too (it would read as an option),
/// and it is cut at [`crate::invite::MAX_REF_CHARS`].
pub fn safe_ref(text: &str) -> String {
    let mut out: String = text
        .chars()
        .take(crate::invite::MAX_REF_CHARS)
        .map(|c| {
            if c.is_alphanumeric() || " ._-#/+".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.starts_with('-') {
        out.replace_range(..1, "_");
    }
    out
}

/// Start announcing arrivals to `program`: what is sent on the returned
/// channel is announced, each on its own thread.
pub fn start(program: PathBuf) -> Sender<Arrival> {
    let (tx, rx) = mpsc::channel::<Arrival>();
    std::thread::spawn(move || {
        for arrival in rx {
            let program = program.clone();
            std::thread::spawn(move || announce(&program, &arrival));
        }
    });
    tx
}

/// Run the program for one arrival until it succeeds or the tries run out.
fn announce(program: &std::path::Path, arrival: &Arrival) {
    let tries = BACKOFF.len() + 1;
    for attempt in 1..=tries {
        let why = match run_once(program, arrival) {
            Ok(()) => return,
            Err(why) => why,
        };
        // The arrival's time names it; nothing about the client is logged.
        match BACKOFF.get(attempt - 1) {
            Some(wait) => {
                eprintln!(
                    "The --on-report program, for the report that arrived at {}, {why}; \
                     trying again in {} s (try {attempt} of {tries}).",
                    arrival.arrived_at,
                    wait.as_secs()
                );
                std::thread::sleep(*wait);
            }
            None => eprintln!(
                "The --on-report program, for the report that arrived at {}, {why}; it was \
                 tried {tries} times and is not tried again. The report is safe in the inbox.",
                arrival.arrived_at
            ),
        }
    }
}

/// One run: `Err` says what went wrong, in words for the log.
fn run_once(program: &std::path::Path, arrival: &Arrival) -> Result<(), String> {
    let mut command = Command::new(program);
    command
        .args(arrival.args())
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    for (name, value) in arrival.env() {
        command.env(name, value);
    }
    let mut child = command
        .spawn()
        .map_err(|e| format!("could not be started ({e})"))?;
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return Ok(()),
            Ok(Some(status)) => return Err(format!("failed ({status})")),
            Ok(None) if started.elapsed() >= RUN_LIMIT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "was still running after {} s and was stopped",
                    RUN_LIMIT.as_secs()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => return Err(format!("could not be watched ({e})")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_made_safe_to_pass() {
        assert_eq!(safe_ref("case 7"), "case 7");
        assert_eq!(safe_ref("C-104/b"), "C-104/b");
        assert_eq!(safe_ref("-rf"), "_rf");
        assert_eq!(safe_ref("a;b$(c)`d'\"e\n"), "a_b__c__d__e_");
        assert_eq!(safe_ref(&"x".repeat(100)).len(), 64);
    }

    #[test]
    fn an_arrival_carries_the_levels_and_never_an_answer() {
        let mut report = crate::report::fixture::report(&[]);
        report.client_ref = Some("case 7".into());
        let full = Arrival::of(&report, View::Clinician);
        assert_eq!(
            full.risk_screen,
            report.risk_screen.unwrap().as_str(),
            "{full:?}"
        );
        assert_eq!(full.urgent, report.urgent.unwrap().to_string());
        assert_eq!(full.client_ref, "case 7");
        // The client copy says nothing of risk: the clinic is told it cannot know.
        let client = Arrival::of(&report, View::Client);
        assert_eq!(
            (&*client.risk_screen, &*client.urgent),
            ("unknown", "unknown")
        );
        assert_eq!(full.args().len(), full.env().len());
    }
}
