//! The questions in the page over plain HTTP, as a browser without
//! JavaScript sends them: post/redirect/get, nothing chosen for the client,
//! stale forms ignored, escaping, pause and resume through the same draft as
//! the terminal, leaving quickly, crisis numbers in sight.
use std::path::Path;

use crate::walk_support::{Site, WalkServer, at_of, location, walk_http};

fn examples(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/answers")
        .join(name)
}

#[test]
fn the_first_page_asks_whether_now_is_safe_with_nothing_chosen() {
    let s = WalkServer::start(Some("GB"));
    let page = s.get("");
    assert_eq!(page.status, 200);
    assert!(page.headers.contains("content-security-policy"));
    assert!(
        page.body.contains("Is now a safe and private time"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Leave quickly"));
    assert!(!page.body.contains("checked"), "nothing is pre-chosen");
    assert!(
        page.body.contains("<details"),
        "why we ask works without JS"
    );
    // No script is needed for the form, and nothing is loaded from elsewhere
    // (the one address shown is this page's own, for a private window).
    for attribute in ["src=\"http", "href=\"http", "action=\"http"] {
        assert!(!page.body.contains(attribute), "{attribute}");
    }
    assert!(!page.body.contains("https://"));
    // Without the session cookie: refused.
    let other =
        crate::page_support::request(s.addr, "GET", "/walk", &[("Host", &s.addr.to_string())], "");
    assert_eq!(other.status, 403);
}

#[test]
fn an_empty_submit_records_nothing_and_a_stale_form_changes_nothing() {
    let s = WalkServer::start(Some("GB"));
    let before = s.server().walk_state().unwrap();
    let reply = s.choose("answer", &[]);
    assert_eq!(location(&reply), "walk");
    let page = s.screen();
    assert!(page.body.contains("Nothing was recorded"), "{}", page.body);
    assert_eq!(s.server().walk_state().unwrap(), before);
    // A form from an older page (reload of a POST, another tab) is ignored.
    s.choose("answer", &[("answer", "yes")]);
    let stale = s.post(
        "walk",
        &[
            ("at", "q-start.safe_now.1"),
            ("do", "answer"),
            ("answer", "no"),
        ],
    );
    assert_eq!(stale.status, 303);
    let state = s.server().walk_state().unwrap();
    assert_eq!(state.flow.answers["start.safe_now"], "yes");
    // A POST without the page's Origin is not from the page.
    let forged = crate::page_support::request(
        s.addr,
        "POST",
        "/walk",
        &[("Host", &s.addr.to_string()), ("Cookie", &s.cookie())],
        "do=skip",
    );
    assert_eq!(forged.status, 403);
}

#[test]
fn skip_back_and_skip_part_work_as_in_the_terminal() {
    let s = WalkServer::start(Some("GB"));
    s.choose("answer", &[("answer", "yes")]);
    // Country known: keeping is asked next.
    assert!(s.screen().body.contains("Should your answers be kept"));
    s.choose("keep-no", &[]);
    let page = s.screen();
    assert!(page.body.contains("question 2 of about"), "{}", page.body);
    s.choose("skip", &[]);
    s.choose("back", &[]);
    let page = s.screen();
    assert!(
        page.body.contains("How will this device be connected"),
        "{}",
        page.body
    );
    s.choose("answer", &[("answer", "wifi")]);
    s.choose("answer", &[("answer", "no")]);
    for answer in ["private", "alone", "yes"] {
        s.choose("answer", &[("answer", answer)]);
    }
    let page = s.screen();
    assert!(
        page.body.contains("Is now still a safe and private time"),
        "{}",
        page.body
    );
    s.choose("skip-part", &[]);
    let state = s.server().walk_state().unwrap();
    assert_eq!(state.flow.answers["home.feels_safe"], "skipped");
    assert_eq!(state.flow.answers["setup.connection"], "wifi");
}

#[test]
fn free_text_and_names_are_escaped_and_control_characters_refused() {
    let s = WalkServer::start(Some("GB"));
    walk_until_plan(&s);
    s.choose("continue", &[]);
    // Refused, and what was typed is shown again, escaped.
    s.choose("plan", &[("text", "<b>kitchen</b>\u{7}")]);
    let page = s.screen();
    assert!(page.body.contains("control character"), "{}", page.body);
    assert!(page.body.contains("&lt;b&gt;kitchen&lt;/b&gt;"));
    assert!(!page.body.contains("<b>kitchen"));
    let long = "a".repeat(501);
    s.choose("plan", &[("text", &long)]);
    assert!(s.screen().body.contains("the limit is 500"));
    s.choose("plan", &[("text", "<b>kitchen</b>")]);
    let state = s.server().walk_state().unwrap();
    assert_eq!(state.flow.plan["place"].as_deref(), Some("<b>kitchen</b>"));
}

fn walk_until_plan(s: &WalkServer) {
    s.choose("answer", &[("answer", "yes")]);
    s.choose("keep-no", &[]);
    for _ in 0..60 {
        let page = s.screen();
        let at = at_of(&page.body).unwrap();
        if at.starts_with("plan.") {
            return;
        }
        if at.starts_with("q-") {
            s.choose(
                "answer",
                &[(
                    "answer",
                    if at.starts_with("q-risk") {
                        "no"
                    } else {
                        first_option(&page.body)
                    },
                )],
            );
        } else {
            s.choose("continue", &[]);
        }
    }
    panic!("the plan was not reached");
}

fn first_option(html: &str) -> &str {
    let at = html
        .find("name=\"answer\" id=\"answer-0\" value=\"")
        .unwrap()
        + "name=\"answer\" id=\"answer-0\" value=\"".len();
    &html[at..at + html[at..].find('"').unwrap()]
}

#[test]
fn a_risk_yes_shows_support_at_once_and_keeps_it_on_every_page() {
    let s = WalkServer::start(Some("GB"));
    s.choose("answer", &[("answer", "yes")]);
    s.choose("keep-no", &[]);
    for _ in 0..40 {
        let page = s.screen();
        let at = at_of(&page.body).unwrap();
        if at.starts_with("q-risk.asq1") {
            assert!(page.body.contains(
                "Support is there if you need it. Samaritans: call 116 123 (free). Open: 24/7."
            ));
            assert!(!page.body.contains("class=\"crisis\""));
            break;
        }
        if at.starts_with("q-") {
            s.choose("answer", &[("answer", first_option(&page.body))]);
        } else {
            s.choose("continue", &[]);
        }
    }
    s.choose("answer", &[("answer", "yes")]);
    let page = s.screen();
    assert!(
        page.body.contains("Support is available now"),
        "{}",
        page.body
    );
    assert!(page.body.contains("116 123"));
    s.choose("continue", &[]);
    for _ in 0..3 {
        let page = s.screen();
        assert!(
            page.body.contains("class=\"crisis\""),
            "in sight: {}",
            page.body
        );
        assert!(page.body.contains("999"));
        // The box holds the support line's numbers: said once, not twice.
        assert_eq!(page.body.matches("116 123").count(), 1, "{}", page.body);
        assert!(!page.body.contains("Support is there if you need it"));
        s.choose("answer", &[("answer", "no")]);
    }
}

#[test]
fn pause_keeps_the_same_draft_as_the_terminal_and_the_next_visit_offers_it() {
    let s = WalkServer::start(Some("GB"));
    s.choose("answer", &[("answer", "yes")]);
    s.choose("keep-no", &[]);
    s.choose("answer", &[("answer", "mobile")]);
    s.choose("pause", &[]);
    // Not agreed before: asked once, "no" first.
    let page = s.screen();
    assert!(
        page.body.contains("Would you like your answers kept"),
        "{}",
        page.body
    );
    s.choose("keep-yes", &[]);
    let page = s.screen();
    assert!(
        page.body
            .contains("Paused. Your answers are kept privately"),
        "{}",
        page.body
    );
    assert_eq!(
        s.walk_ending(),
        Some(session_ready::questionnaire::walk::Ending::Paused)
    );
    let draft = s.draft();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&draft).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "owner-only");
    }
    // The terminal's own draft reader reads it.
    let kept = session_ready::questionnaire::draft::load(&draft)
        .unwrap()
        .unwrap();
    assert_eq!(kept.state.answers["setup.connection"], "mobile");
    // Next time: welcome back, "No, not now" first; pick up where it stopped.
    let dir = s.stop();
    let s = WalkServer::start_in(dir, None);
    let page = s.screen();
    assert!(page.body.contains("Welcome back"), "{}", page.body);
    let not_now = page.body.find("No, not now").unwrap();
    assert!(not_now < page.body.find("Pick up where I left off").unwrap());
    s.choose("pick-up", &[]);
    let page = s.screen();
    assert!(
        page.body
            .contains("is there a phone your therapist could call"),
        "{}",
        page.body
    );
    let state = s.server().walk_state().unwrap();
    assert_eq!(state.region.as_deref(), Some("GB"));
    assert_eq!(state.keep, Some(true));
}

/// A paused check kept GB; the next run is given `--region IE`: the region
/// given now wins, as in the terminal (`RegionSources::choose`), both when
/// picking up and in the "not now" farewell's emergency line.
#[test]
fn a_region_given_now_wins_over_the_paused_checks_region() {
    let s = WalkServer::start(Some("GB"));
    s.choose("answer", &[("answer", "yes")]);
    s.choose("keep-yes", &[]);
    s.choose("answer", &[("answer", "mobile")]);
    s.choose("pause", &[]);
    let kept = session_ready::questionnaire::draft::load(&s.draft())
        .unwrap()
        .unwrap();
    assert_eq!(kept.region.as_deref(), Some("GB"));

    let s = WalkServer::start_in(s.stop(), Some("IE"));
    s.choose("not-now", &[]);
    let page = s.screen();
    assert!(page.body.contains("call 112 or 999"), "{}", page.body);
    assert!(
        !page.body.contains("call 999 (112 also works)"),
        "{}",
        page.body
    );

    let s = WalkServer::start_in(s.stop(), Some("IE"));
    s.choose("pick-up", &[]);
    let state = s.server().walk_state().unwrap();
    assert_eq!(state.region.as_deref(), Some("IE"));
    s.choose("answer", &[("answer", "no")]);
    let kept = session_ready::questionnaire::draft::load(&s.draft())
        .unwrap()
        .unwrap();
    assert_eq!(kept.region.as_deref(), Some("IE"), "kept for next time");
}

#[test]
fn leaving_quickly_shows_a_neutral_page_from_then_on_and_keeps_what_was_kept() {
    let s = WalkServer::start(Some("GB"));
    s.choose("answer", &[("answer", "yes")]);
    s.choose("keep-yes", &[]);
    s.choose("answer", &[("answer", "wifi")]);
    assert!(s.draft().exists());
    let reply = s.post("leave", &[]);
    assert_eq!(reply.status, 303);
    assert_eq!(location(&reply), "away");
    let away = s.get("away");
    assert!(!away.body.contains("session-ready") && !away.body.contains("question"));
    // Back, reload, the start address: the neutral page, never the questions.
    for rest in ["walk", "", "media"] {
        let reply = s.get(rest);
        assert_eq!(
            (reply.status, location(&reply).as_str()),
            (303, "away"),
            "{rest}"
        );
    }
    assert!(
        s.draft().exists(),
        "like Esc in the terminal: a kept draft stays"
    );
    assert_eq!(
        s.walk_ending(),
        Some(session_ready::questionnaire::walk::Ending::QuickExit)
    );
}

#[test]
fn a_walk_from_an_answers_file_hands_over_to_the_end_with_the_same_answers() {
    for name in [
        "video-with-adjustments.json",
        "urgent.json",
        "all-skipped.json",
    ] {
        let s = WalkServer::start(None);
        walk_http(&s, &examples(name));
        let done = s.finished_walk().expect("finished");
        let file = session_ready::questionnaire::answers_file::load(
            &examples(name),
            session_ready::questionnaire::bank(),
        )
        .unwrap();
        // Every answer the walk asks for is the file's (the walk cannot
        // record an answer to a question it does not ask).
        let asked: std::collections::BTreeMap<_, _> = file
            .answers
            .iter()
            .filter(|(id, _)| done.answers.contains_key(*id))
            .map(|(a, b)| (a.clone(), b.clone()))
            .collect();
        assert_eq!(done.answers, asked, "{name}");
        assert_eq!(done.region, file.region.or(Some("INTL".into())), "{name}");
        // Next: the camera, microphone and speakers, then the end of the check.
        let next = s.get("walk");
        assert_eq!(location(&next), "media", "{name}");
        assert!(
            s.get("media")
                .body
                .contains("Camera, microphone and speakers")
        );
    }
}

#[test]
fn the_media_test_is_a_step_of_the_whole_check_with_leave_quickly() {
    let s = WalkServer::start(Some("GB"));
    // Only where the visit is: before the questions are done, the media
    // test's address leads back to them.
    assert_eq!(location(&s.get("media")), "walk");
    walk_http(&s, &examples("video-suitable.json"));
    let media = s.get("media");
    assert_eq!(media.status, 200);
    assert!(media.body.contains("Camera, microphone and speakers"));
    assert!(media.body.contains("Leave quickly") && media.body.contains("leave.js"));
    assert!(media.body.contains("href=\"next\""), "on without scripts");
    assert!(s.get("leave.js").body.contains("location.replace"));
    // Forms post to the page itself, so the browser must send its Origin.
    assert!(s.get("").headers.contains("referrer-policy: same-origin"));
}

/// `check --browser` (the questions in the page) for an answers file walked
/// without scripts, the media test passed by, the full copy saved as JSON:
/// the same report as `check --answers` with that file.
#[cfg(unix)]
#[test]
fn the_whole_check_in_the_page_saves_the_same_report_as_check_answers() {
    for name in ["video-with-adjustments", "urgent", "in-person-recommended"] {
        let dir = tempfile::tempdir().unwrap();
        let file = examples(&format!("{name}.json"));
        let answers = crate::walk_support::Answers::load(&file);
        let out = dir.path().join("report.json");
        let draft = dir.path().join("draft.json");
        let mut args = vec![
            "--no-network",
            "--format",
            "json",
            "--output",
            out.to_str().unwrap(),
            "--draft",
            draft.to_str().unwrap(),
        ];
        if let Some(region) = &answers.region {
            args.extend(["--region", region.as_str()]);
        }
        let page = crate::page_support::Page::start_in(dir.path(), &args);
        walk_http(&page, &file);
        // Past the media test without scripts, then the end of the check.
        let next = page.get("next");
        assert_eq!(
            (next.status, location(&next).as_str()),
            (303, "finish"),
            "{name}"
        );
        // As the page's "Continue" without scripts: wait for the report,
        // shown first (what the client's copy contains), then the choices.
        // A home that may be watched sees the choices at once.
        let finish = page.get("finish?wait=1");
        if location(&finish) == "finish-report" {
            let preview = page.get("finish-report");
            assert!(preview.body.contains("<h1>Your report</h1>"), "{name}");
            page.choose("back-to-choices", &[]);
        }
        let choices = page.get("finish");
        assert!(
            choices.body.contains("save-full"),
            "{name}: {}",
            choices.body
        );
        let at = at_of(&choices.body).unwrap();
        let mut saved = Site::post(
            &page,
            "walk",
            &[("at", at.as_str()), ("do", "save"), ("choice", "save-full")],
        );
        if location(&saved) == "finish" {
            // A watched home: an unlocked copy needs its own "yes", naming the risk.
            let confirm = page.get("finish");
            assert!(
                confirm.body.contains("Save it on this device anyway?"),
                "{name}"
            );
            let at = at_of(&confirm.body).unwrap();
            saved = Site::post(
                &page,
                "walk",
                &[("at", at.as_str()), ("do", "confirm-unlocked")],
            );
        }
        assert_eq!(
            (saved.status, location(&saved).as_str()),
            (303, "finish-done"),
            "{saved:?}"
        );
        assert!(page.get("finish-done").body.contains("saved"), "{name}");
        let (ok, _, err) = page.finish();
        assert!(ok, "{name}: {err}");
        let in_page: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
        let reference = reference_report(&file, dir.path());
        assert_eq!(
            crate::page_finish::comparable(in_page),
            crate::page_finish::comparable(reference),
            "{name}"
        );
        assert!(!draft.exists(), "no draft left after the check");
    }
}

#[cfg(unix)]
fn reference_report(file: &Path, dir: &Path) -> serde_json::Value {
    let out = dir.join("reference.json");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_session-ready"))
        .args(["check", "--answers"])
        .arg(file)
        .args(["--no-network", "--format", "json", "--output"])
        .arg(&out)
        .env_remove("SESSION_READY_SERVER")
        .env_remove("SESSION_READY_STUN")
        .status()
        .unwrap();
    assert!(status.success());
    serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap()
}

#[test]
fn pausing_in_the_page_ends_the_check_calmly_with_the_answers_kept() {
    let dir = tempfile::tempdir().unwrap();
    let draft = dir.path().join("draft.json");
    let page = crate::page_support::Page::start_in(
        dir.path(),
        &[
            "--no-network",
            "--region",
            "GB",
            "--draft",
            draft.to_str().unwrap(),
        ],
    );
    page.choose("answer", &[("answer", "yes")]);
    page.choose("keep-yes", &[]);
    page.choose("answer", &[("answer", "wifi")]);
    page.choose("pause", &[]);
    assert!(
        page.screen()
            .body
            .contains("Paused. Your answers are kept privately")
    );
    let (ok, _, err) = page.finish();
    assert!(ok, "{err}");
    assert!(
        err.contains("Paused. Your answers are kept privately"),
        "{err}"
    );
    let kept = session_ready::questionnaire::draft::load(&draft)
        .unwrap()
        .unwrap();
    assert_eq!(kept.state.answers["setup.connection"], "wifi");
}

#[test]
fn with_answers_from_a_file_the_media_test_still_offers_leave_quickly() {
    let dir = tempfile::tempdir().unwrap();
    let file = examples("video-suitable.json");
    let page = crate::page_support::Page::start_in(
        dir.path(),
        &["--answers", file.to_str().unwrap(), "--no-network"],
    );
    assert_eq!(location(&page.get("")), "media");
    let start = page.get("media");
    assert!(start.body.contains("Camera, microphone and speakers"));
    assert!(start.body.contains("Leave quickly"));
    let left = Site::post(&page, "leave", &[]);
    assert_eq!((left.status, location(&left).as_str()), (303, "away"));
    assert!(page.get("away").body.contains("Nothing here"));
}

/// After a risk "yes", however `check --browser` ends (here: Pause), the
/// last lines in the terminal are the support numbers, as in the terminal check.
#[test]
fn after_a_risk_yes_the_terminal_ends_with_the_support_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let page = crate::page_support::Page::start_in(
        dir.path(),
        &[
            "--no-network",
            "--region",
            "GB",
            "--draft",
            dir.path().join("draft.json").to_str().unwrap(),
        ],
    );
    page.choose("answer", &[("answer", "yes")]);
    page.choose("keep-no", &[]);
    let mut said_yes = false;
    for _ in 0..60 {
        let screen = page.screen();
        let at = at_of(&screen.body).unwrap();
        if at.starts_with("q-risk.asq1") {
            page.choose("answer", &[("answer", "yes")]);
            said_yes = true;
            break;
        }
        if at.starts_with("q-home.monitored") {
            // Not a watched home: there the terminal is cleared instead.
            page.choose("answer", &[("answer", "no")]);
        } else if at.starts_with("q-") {
            page.choose("skip", &[]);
        } else {
            page.choose("continue", &[]);
        }
    }
    assert!(said_yes, "the walk reached ASQ 1");
    // On to the next question (past the support screen, if it came first), then Pause.
    while !at_of(&page.screen().body).unwrap().starts_with("q-") {
        page.choose("continue", &[]);
    }
    page.choose("pause", &[]);
    page.choose("keep-no", &[]);
    let farewell = page.screen();
    assert!(farewell.body.contains("Take care"), "{farewell:?}");
    let (ok, _, err) = page.finish();
    assert!(ok, "{err}");
    let paused = err.find("Paused").unwrap_or_else(|| panic!("{err}"));
    let numbers = err
        .rfind("If you need support now")
        .unwrap_or_else(|| panic!("the support numbers: {err}"));
    assert!(paused < numbers, "the numbers come last: {err}");
    let last = &err[numbers..];
    assert!(last.contains("999") && last.contains("116 123"), "{err}");
}

#[cfg(unix)]
mod terminal {
    use std::net::SocketAddr;

    use expectrl::Expect;

    use crate::walk_support::{Site, at_of, walk_http};

    /// `check --browser --no-open` in a pseudo-terminal, driven over HTTP.
    struct InTerminal {
        session: expectrl::session::OsSession,
        addr: SocketAddr,
        token: String,
        jar: crate::page_support::Jar,
        _dir: tempfile::TempDir,
    }

    impl Site for InTerminal {
        fn addr(&self) -> SocketAddr {
            self.addr
        }
        fn cookie(&self) -> String {
            self.jar.cookie(self.addr, &self.token)
        }
        fn keep(&self, reply: &crate::page_support::Reply) {
            self.jar.keep(reply)
        }
    }

    impl InTerminal {
        fn start() -> InTerminal {
            let dir = tempfile::tempdir().unwrap();
            let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_session-ready"));
            cmd.args([
                "check",
                "--browser",
                "--no-open",
                "--no-network",
                "--region",
                "GB",
                "--format",
                "json",
                "--draft",
            ])
            .arg(dir.path().join("draft.json"))
            .current_dir(dir.path())
            .env("TERM", "xterm-256color");
            for var in crate::net_support::ENV_TO_CLEAR {
                cmd.env_remove(var);
            }
            let mut session = expectrl::Session::spawn(cmd).unwrap();
            session.set_expect_timeout(Some(crate::page_support::WAIT));
            let found = session
                .expect(expectrl::Regex(
                    r"http://127\.0\.0\.1:(\d+)/([0-9a-f]{32})/",
                ))
                .unwrap();
            let port: u16 = String::from_utf8_lossy(found.get(1).unwrap())
                .parse()
                .unwrap();
            let token = String::from_utf8_lossy(found.get(2).unwrap()).into_owned();
            InTerminal {
                session,
                addr: SocketAddr::from(([127, 0, 0, 1], port)),
                token,
                jar: Default::default(),
                _dir: dir,
            }
        }

        /// Everything the terminal gets from now until the program ends.
        fn rest(mut self) -> String {
            let rest = self.session.expect(expectrl::Eof).unwrap();
            String::from_utf8_lossy(rest.as_bytes()).into_owned()
        }
    }

    /// What stays on screen: everything after the last clear, if any.
    fn after_last_clear(out: &str) -> Option<&str> {
        out.rfind(session_ready::term::CLEAR_SCREEN)
            .map(|at| &out[at + session_ready::term::CLEAR_SCREEN.len()..])
    }

    /// Ctrl-C in the terminal that started the page, after a risk "yes" in
    /// the page: the support numbers stay on the terminal.
    #[test]
    fn ctrl_c_in_the_starting_terminal_after_a_risk_yes_leaves_the_numbers() {
        let t = InTerminal::start();
        t.choose("answer", &[("answer", "yes")]);
        t.choose("keep-no", &[]);
        for _ in 0..60 {
            let page = t.screen();
            let at = at_of(&page.body).unwrap();
            if at.starts_with("q-risk.asq1") {
                t.choose("answer", &[("answer", "yes")]);
                break;
            }
            if at.starts_with("q-") {
                t.choose("skip", &[]);
            } else {
                t.choose("continue", &[]);
            }
        }
        assert!(t.screen().body.contains("class=\"crisis\""));
        let mut t = t;
        t.session.send(expectrl::ControlCode::EndOfText).unwrap();
        let out = t.rest();
        let stopped = out
            .find("session-ready stopped")
            .unwrap_or_else(|| panic!("{out}"));
        let last = &out[stopped..];
        assert!(
            last.contains("999") && last.contains("116 123"),
            "the numbers after Ctrl-C: {last}"
        );
    }

    #[test]
    fn leaving_quickly_clears_the_terminal_that_started_the_page() {
        let t = InTerminal::start();
        t.choose("answer", &[("answer", "yes")]);
        assert_eq!(t.post("leave", &[]).status, 303);
        assert_eq!(t.get("away").status, 200);
        let out = t.rest();
        let left = after_last_clear(&out).unwrap_or_else(|| panic!("not cleared: {out:?}"));
        assert!(left.trim().is_empty(), "left on screen: {left:?}");
    }

    #[test]
    fn a_watched_home_check_ends_with_the_terminal_cleared() {
        let t = InTerminal::start();
        let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("examples/answers/in-person-recommended.json");
        walk_http(&t, &file);
        assert_eq!(t.get("next").status, 303);
        let choices = t.get("finish?wait=1");
        assert!(choices.body.contains("What would you like to do?"));
        let at = at_of(&choices.body).unwrap();
        let nothing = t.post(
            "walk",
            &[("at", at.as_str()), ("do", "save"), ("choice", "nothing")],
        );
        assert_eq!(nothing.status, 303);
        assert!(t.get("finish-done").body.contains("Nothing was saved"));
        let out = t.rest();
        let left = after_last_clear(&out).unwrap_or_else(|| panic!("not cleared: {out:?}"));
        assert!(left.trim().is_empty(), "left on screen: {left:?}");
    }
}
