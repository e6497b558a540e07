//! The questions in the page in a real browser (headless Chromium through
//! WebDriver): a whole walk with JavaScript turned off; a keyboard-only walk
//! with axe-core WCAG 2.2 AA, reflow at 320 px and screenshots on every kind
//! of screen; Esc replacing the page with a neutral one that Back does not
//! leave; pause and the resume offer.
use std::path::Path;

use fantoccini::Locator;
use fantoccini::key::Key;
use session_ready::questionnaire::walk::Ending;

use crate::browser_support::{Browser, ONE_BROWSER, Options, axe_source, browser_tests_wanted};
use crate::walk_support::{WalkServer, walk_browser};

fn example(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/answers")
        .join(name)
}

fn key(k: Key) -> String {
    String::from(char::from(k))
}

async fn wait_for_path(b: &Browser, ending: &str) {
    let deadline = std::time::Instant::now() + crate::page_support::WAIT;
    loop {
        let url = b.client.current_url().await.unwrap();
        if url.path().ends_with(ending) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the page did not go to {ending}: at {url}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// The screen the page shows now (its form's `at`), if it has a form.
async fn at(b: &Browser) -> Option<String> {
    let field = b.client.find(Locator::Css("input[name=at]")).await.ok()?;
    field.attr("value").await.ok().flatten()
}

async fn body_text(b: &Browser) -> String {
    b.client
        .find(Locator::Css("body"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Press a button with the keyboard and wait for the next screen.
async fn press(b: &Browser, id: &str) {
    let before = at(b).await;
    b.keyboard(id).await;
    let deadline = std::time::Instant::now() + crate::page_support::WAIT;
    while at(b).await == before && before.is_some() {
        assert!(
            std::time::Instant::now() < deadline,
            "#{id} did not move on from {before:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Chromium with JavaScript, past the safe-time gate ("yes") and the
/// keep-answers question ("no"): where most walks begin.
async fn past_the_opening(url: &str) -> Browser {
    let b = Browser::launch(Options {
        javascript: true,
        ..Options::default()
    })
    .await;
    b.client.goto(url).await.unwrap();
    b.client
        .find(Locator::Css("#answer-0"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    press(&b, "do-answer").await;
    press(&b, "do-keep-no").await;
    b
}

#[test]
fn a_whole_walk_with_javascript_turned_off() {
    if !browser_tests_wanted() {
        return;
    }
    let _one = ONE_BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let file = example("video-with-adjustments.json");
    let s = WalkServer::start(None);
    let done = s.runtime.block_on(async {
        let b = Browser::launch(Options {
            javascript: false,
            ..Options::default()
        })
        .await;
        b.client.goto(&s.url).await.unwrap();
        // leave.js marks the page when it runs: here it must not.
        let marked = b
            .client
            .find(Locator::Css("html"))
            .await
            .unwrap()
            .attr("data-js")
            .await
            .unwrap();
        assert_eq!(marked, None, "JavaScript is off in this browser");
        walk_browser(&b.client, &s.url, &file).await;
        let done = s.finished_walk().expect("the walk reached its end");
        // Leave quickly works as a plain form.
        b.client
            .find(Locator::Css("#leave"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_for_path(&b, "/away").await;
        b.close().await;
        done
    });
    let expected = session_ready::questionnaire::answers_file::load(
        &file,
        session_ready::questionnaire::bank(),
    )
    .unwrap();
    assert_eq!(done.answers, expected.answers);
    assert_eq!(done.region, expected.region);
}

#[test]
fn esc_leaves_for_a_neutral_page_that_back_does_not_leave() {
    if !browser_tests_wanted() {
        return;
    }
    let _one = ONE_BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let s = WalkServer::start(Some("GB"));
    s.runtime.block_on(async {
        let b = past_the_opening(&s.url).await;
        assert!(
            body_text(&b)
                .await
                .contains("How will this device be connected")
        );
        b.keys(&key(Key::Escape)).await;
        wait_for_path(&b, "/away").await;
        b.client.back().await.unwrap();
        // Back lands on the neutral page again (the check shows nothing now).
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        wait_for_path(&b, "/away").await;
        let text = body_text(&b).await;
        assert!(
            !text.contains("question") && !text.contains("session-ready"),
            "{text}"
        );
        let violations = b.axe_violations(&axe_source()).await;
        assert!(violations.is_empty(), "the neutral page: {violations:?}");
        b.close().await;
    });
    assert_eq!(s.walk_ending(), Some(Ending::QuickExit));
}

#[test]
fn keyboard_only_with_no_axe_violations_on_any_screen_and_reflow_at_320_px() {
    if !browser_tests_wanted() {
        return;
    }
    let _one = ONE_BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let axe = axe_source();
    let s = WalkServer::start(None);
    let mut violations = Vec::new();
    let mut looked = Vec::new();
    s.runtime.block_on(async {
        let b = Browser::launch(Options {
            javascript: true,
            ..Options::default()
        })
        .await;
        b.client.goto(&s.url).await.unwrap();
        let mut notice_seen = false;
        for _ in 0..80 {
            let Some(place) = at(&b).await else {
                break;
            };
            let place = place
                .rsplit_once('.')
                .map_or(place.clone(), |(p, _)| p.to_string());
            // One look per kind of screen.
            let kind = match place.as_str() {
                "q-start.safe_now" => "opening",
                p if p.starts_with("q-risk") => "risk-question",
                p if p.starts_with("q-") => "question",
                p if p.starts_with("part-") => "part",
                p if p.starts_with("crisis") => "crisis",
                p if p.starts_with("plan-") => "plan-prompt",
                p => p,
            }
            .to_string();
            if !looked.contains(&kind) {
                for v in b.axe_violations(&axe).await {
                    violations.push(format!("{kind}: {v}"));
                }
                b.screenshots(&format!("walk-{kind}")).await;
                b.reflows(&kind).await;
                looked.push(kind.clone());
            }
            if let Some(question) = place.strip_prefix("q-") {
                if question == "setup.connection" && !notice_seen {
                    // Continue with nothing chosen: nothing is recorded.
                    b.keyboard("do-answer").await;
                    notice_seen = true;
                    let deadline = std::time::Instant::now() + crate::page_support::WAIT;
                    while !body_text(&b).await.contains("Nothing was recorded") {
                        assert!(std::time::Instant::now() < deadline, "no notice");
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    }
                    for v in b.axe_violations(&axe).await {
                        violations.push(format!("notice: {v}"));
                    }
                    b.screenshots("walk-notice").await;
                    continue;
                }
                b.tab_to("answer-0").await;
                // The first option: "Yes" for home.monitored too, so the page
                // then says how it keeps things private.
                b.keys(" ").await;
                press(&b, "do-answer").await;
            } else if place.starts_with("plan-") {
                b.tab_to("plan-text").await;
                b.keys("the armchair").await;
                press(&b, "do-plan").await;
            } else if place == "region" {
                b.tab_to("region-0").await;
                b.keys(&key(Key::Down)).await;
                press(&b, "do-answer").await;
            } else if place == "keep" {
                press(&b, "do-keep-no").await;
            } else {
                press(&b, "do-continue").await;
            }
        }
        wait_for_path(&b, "/media").await;
        b.close().await;
    });
    eprintln!("axe-core looked at: {}", looked.join(", "));
    for kind in [
        "opening",
        "region",
        "keep",
        "question",
        "part",
        "watched",
        "risk-question",
        "crisis",
        "plan",
        "plan-prompt",
    ] {
        assert!(
            looked.iter().any(|k| k == kind),
            "{kind} not reached: {looked:?}"
        );
    }
    assert!(
        violations.is_empty(),
        "axe-core WCAG 2.2 AA violations:\n{}",
        violations.join("\n")
    );
    let done = s.finished_walk().expect("finished by keyboard alone");
    assert_eq!(done.answers["home.monitored"], "yes");
    assert!(s.watched());
    assert_eq!(
        done.session_plan.unwrap().place.as_deref(),
        Some("the armchair")
    );
}

#[test]
fn pause_and_the_resume_offer_in_the_browser_have_no_axe_violations() {
    if !browser_tests_wanted() {
        return;
    }
    let _one = ONE_BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let axe = axe_source();
    let mut violations = Vec::new();
    let s = WalkServer::start(Some("GB"));
    s.runtime.block_on(async {
        let b = past_the_opening(&s.url).await;
        press(&b, "do-pause").await;
        for v in b.axe_violations(&axe).await {
            violations.push(format!("pause: {v}"));
        }
        b.screenshots("walk-pause").await;
        press(&b, "do-keep-yes").await;
        assert!(
            body_text(&b)
                .await
                .contains("Your answers are kept privately")
        );
        for v in b.axe_violations(&axe).await {
            violations.push(format!("paused: {v}"));
        }
        b.screenshots("walk-paused").await;
        b.close().await;
    });
    assert_eq!(s.walk_ending(), Some(Ending::Paused));
    let dir = s.stop();
    let s = WalkServer::start_in(dir, None);
    s.runtime.block_on(async {
        let b = Browser::launch(Options {
            javascript: true,
            ..Options::default()
        })
        .await;
        b.client.goto(&s.url).await.unwrap();
        assert!(body_text(&b).await.contains("Welcome back"));
        for v in b.axe_violations(&axe).await {
            violations.push(format!("welcome back: {v}"));
        }
        b.screenshots("walk-welcome-back").await;
        b.reflows("welcome back").await;
        press(&b, "do-pick-up").await;
        assert!(body_text(&b).await.contains("question 2 of about"));
        b.close().await;
    });
    assert!(
        violations.is_empty(),
        "axe-core WCAG 2.2 AA violations:\n{}",
        violations.join("\n")
    );
}

/// The whole check through `check --browser` in a browser with JavaScript
/// turned off: the questions answered from an answers file, the media test
/// passed by (its noscript link), the full copy saved: the same report as
/// `check --answers`.
#[test]
fn the_whole_check_without_javascript_saves_the_same_report_as_check_answers() {
    if !browser_tests_wanted() {
        return;
    }
    let _one = ONE_BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let file = example("video-with-adjustments.json");
    let out = dir.path().join("report.json");
    let page = crate::page_support::Page::start_in(
        dir.path(),
        &[
            "--no-network",
            "--region",
            "IE",
            "--format",
            "json",
            "--output",
            out.to_str().unwrap(),
            "--draft",
            dir.path().join("draft.json").to_str().unwrap(),
        ],
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let b = Browser::launch(Options {
            javascript: false,
            ..Options::default()
        })
        .await;
        walk_browser(&b.client, &page.url, &file).await;
        wait_for_path(&b, "/media").await;
        b.client
            .find(Locator::Css("a[href=next]"))
            .await
            .expect("the media test can be passed by without scripts")
            .click()
            .await
            .unwrap();
        wait_for_path(&b, "/finish").await;
        // While the report is put together the page offers "Continue",
        // which waits for it (without scripts nothing refreshes by itself).
        let deadline = std::time::Instant::now() + crate::page_support::WAIT;
        let save_full = loop {
            if let Ok(choice) = b.client.find(Locator::Css("#choice-save-full")).await {
                break choice;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the report was offered"
            );
            // What the client's copy holds comes first, then the choices.
            if let Ok(back) = b.client.find(Locator::Css("#do-back-to-choices")).await {
                back.click().await.unwrap();
            } else if let Ok(go_on) = b.client.find(Locator::Css("#continue")).await {
                go_on.click().await.unwrap();
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        };
        save_full.click().await.unwrap();
        b.client
            .find(Locator::Css("#continue"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_for_path(&b, "/finish-done").await;
        b.close().await;
    });
    let (ok, _, err) = page.finish();
    assert!(ok, "{err}");
    let in_page: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let reference_out = dir.path().join("reference.json");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_session-ready"))
        .args(["check", "--answers"])
        .arg(&file)
        .args(["--no-network", "--format", "json", "--output"])
        .arg(&reference_out)
        .env_remove("SESSION_READY_SERVER")
        .env_remove("SESSION_READY_STUN")
        .status()
        .unwrap();
    assert!(status.success());
    let reference: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&reference_out).unwrap()).unwrap();
    assert_eq!(
        crate::page_finish::comparable(in_page),
        crate::page_finish::comparable(reference)
    );
}

#[test]
fn not_a_safe_time_is_answered_gently_with_no_axe_violations() {
    if !browser_tests_wanted() {
        return;
    }
    let _one = ONE_BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let axe = axe_source();
    let s = WalkServer::start(Some("GB"));
    let mut violations = Vec::new();
    s.runtime.block_on(async {
        let b = Browser::launch(Options {
            javascript: true,
            ..Options::default()
        })
        .await;
        b.client.goto(&s.url).await.unwrap();
        // A radio group is one Tab stop; the arrow key chooses "No".
        b.tab_to("answer-0").await;
        b.keys(&key(Key::Down)).await;
        press(&b, "do-answer").await;
        let text = body_text(&b).await;
        assert!(text.contains("That is completely okay"), "{text}");
        assert!(text.contains("999"), "the emergency number: {text}");
        for v in b.axe_violations(&axe).await {
            violations.push(format!("not now: {v}"));
        }
        b.screenshots("walk-not-now").await;
        press(&b, "do-leave-now").await;
        assert!(body_text(&b).await.contains("Take care"));
        for v in b.axe_violations(&axe).await {
            violations.push(format!("take care: {v}"));
        }
        b.close().await;
    });
    assert!(violations.is_empty(), "{}", violations.join("\n"));
    assert_eq!(s.walk_ending(), Some(Ending::NotNow));
    // Next time starts by asking again, not from a stale "no".
    assert!(s.server().walk_state().unwrap().flow.answers.is_empty());
}

/// Size the window so the page itself is `w` CSS pixels wide.
async fn page_width(b: &Browser, w: u32, h: u32) {
    b.client.set_window_size(w, h).await.unwrap();
    let inner = b
        .client
        .execute("return [window.innerWidth, window.innerHeight]", vec![])
        .await
        .unwrap();
    let (iw, ih) = (
        inner[0].as_u64().unwrap() as u32,
        inner[1].as_u64().unwrap() as u32,
    );
    b.client
        .set_window_size(w + w.saturating_sub(iw), h + h.saturating_sub(ih))
        .await
        .unwrap();
}

/// The page now has the support box above its content, with the region's
/// emergency number as a link a phone can dial, "Leave quickly" in sight
/// even scrolled to the bottom, and Esc promised only with scripts.
async fn assert_framed(b: &Browser, javascript: bool, name: &str) {
    let found = b
        .client
        .execute(
            r#"const box = document.querySelector("main > section.crisis");
               const main = document.querySelector("main");
               window.scrollTo(0, document.documentElement.scrollHeight);
               const leave = document.getElementById("leave").getBoundingClientRect();
               const esc = document.getElementById("leave-esc");
               return {
                 box: !!box,
                 first: !!box && main.firstElementChild === box,
                 tel: !!(box && box.querySelector('a.number[href="tel:000"]')),
                 leave_in_sight: leave.top >= 0 && leave.bottom <= window.innerHeight,
                 esc_shown: !!esc && !esc.hidden && esc.offsetParent !== null,
                 title: document.title,
               };"#,
            vec![],
        )
        .await
        .unwrap();
    let at = b.client.current_url().await.unwrap();
    assert_eq!(found["box"], true, "{name} ({at}): the support box");
    assert_eq!(found["first"], true, "{name}: above the content");
    assert_eq!(found["tel"], true, "{name}: 000 dials");
    assert_eq!(
        found["leave_in_sight"], true,
        "{name}: Leave quickly in reach"
    );
    assert_eq!(
        found["esc_shown"], javascript,
        "{name}: Esc promised only with scripts"
    );
    b.client
        .execute("window.scrollTo(0, 0)", vec![])
        .await
        .unwrap();
}

/// After a risk "yes", every later page of `check --browser` carries the
/// support numbers in its frame: every question, the media test, the page
/// that waits for the report, the report's choices and the last page; with
/// JavaScript on and off, at 390 px. At 320 px with 200 % text the box
/// never scrolls sideways and no number breaks.
#[test]
fn after_a_risk_yes_every_page_carries_the_support_numbers() {
    if !browser_tests_wanted() {
        return;
    }
    let _one = ONE_BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let file = example("urgent.json");
    let answers = crate::walk_support::Answers::load(&file);
    for javascript in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let page = crate::page_support::Page::start_in(
            dir.path(),
            &[
                "--no-network",
                "--format",
                "json",
                "--draft",
                dir.path().join("draft.json").to_str().unwrap(),
            ],
        );
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let mut framed = Vec::new();
        runtime.block_on(async {
            let b = Browser::launch(Options {
                javascript,
                ..Options::default()
            })
            .await;
            page_width(&b, 390, 844).await;
            b.client.goto(&page.url).await.unwrap();
            let mut after_yes = false;
            for _ in 0..200 {
                let Some(at) = at(&b).await else {
                    break;
                };
                if after_yes {
                    assert_framed(&b, javascript, &at).await;
                    framed.push(at.clone());
                }
                let (action, fields) = answers.choice(&at);
                for (name, value) in &fields {
                    if name == "text" {
                        let input = b.client.find(Locator::Css("#plan-text")).await.unwrap();
                        input.send_keys(value).await.unwrap();
                    } else {
                        b.client
                            .find(Locator::Css(&format!(
                                "input[name=\"{name}\"][value=\"{value}\"]"
                            )))
                            .await
                            .unwrap()
                            .click()
                            .await
                            .unwrap();
                    }
                }
                if at.starts_with("q-risk.asq1") {
                    after_yes = true;
                }
                press(&b, &format!("do-{action}")).await;
            }
            assert!(after_yes, "the walk reached the risk questions");
            wait_for_path(&b, "/media").await;
            assert_framed(&b, javascript, "media").await;
            b.screenshots(&format!("crisis-media-js-{javascript}"))
                .await;
            page_width(&b, 390, 844).await;
            // The camera, microphone and speaker steps are sections of this page.
            framed.push("media".into());
            // At 320 px with 200 % text: no sideways scrolling, no broken number.
            page_width(&b, 320, 640).await;
            let fits = b
                .client
                .execute(
                    r#"document.documentElement.style.fontSize = "200%";
                       const box = document.querySelector("section.crisis");
                       const numbers = [...box.querySelectorAll("a.number")];
                       const lines = numbers.map(a => a.getClientRects().length);
                       const r = [document.documentElement.scrollWidth <= window.innerWidth,
                                  box.scrollWidth <= box.clientWidth, lines,
                                  [box.scrollWidth, box.clientWidth]];
                       document.documentElement.style.fontSize = "";
                       return r;"#,
                    vec![],
                )
                .await
                .unwrap();
            assert_eq!(fits[0], true, "the page scrolls sideways: {fits}");
            assert_eq!(fits[1], true, "the box overflows: {fits}");
            assert!(
                fits[2].as_array().unwrap().iter().all(|n| n == 1),
                "a number breaks across lines: {fits}"
            );
            page_width(&b, 390, 844).await;
            b.client
                .goto(&format!("http://{}/next", page.addr))
                .await
                .unwrap();
            // The page that waits for the report, if it is still being put
            // together, and the report's choices.
            let deadline = std::time::Instant::now() + crate::page_support::WAIT;
            loop {
                let url = b.client.current_url().await.unwrap();
                if url.path().ends_with("/finish-report") {
                    // What the client's copy holds comes first, in the frame too.
                    assert_framed(&b, javascript, "report").await;
                    if !framed.iter().any(|f| f == "report") {
                        framed.push("report".into());
                    }
                    if let Ok(back) = b.client.find(Locator::Css("#do-back-to-choices")).await {
                        back.click().await.unwrap();
                    }
                }
                if url.path().ends_with("/finish") {
                    assert_framed(&b, javascript, "finish").await;
                    if b.client.find(Locator::Css("#choice-nothing")).await.is_ok() {
                        break;
                    }
                    framed.push("waiting".into());
                    if !javascript && let Ok(go_on) = b.client.find(Locator::Css("#continue")).await
                    {
                        go_on.click().await.unwrap();
                    }
                }
                assert!(
                    std::time::Instant::now() < deadline,
                    "the report was offered"
                );
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
            b.screenshots(&format!("crisis-choices-js-{javascript}"))
                .await;
            page_width(&b, 390, 844).await;
            framed.push("choices".into());
            let invalid = b
                .client
                .execute(
                    "return document.querySelectorAll('input:invalid, [required]').length",
                    vec![],
                )
                .await
                .unwrap();
            assert_eq!(invalid, 0, "nothing is announced invalid on load");
            b.client
                .find(Locator::Css("#choice-nothing"))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
            b.client
                .find(Locator::Css("#continue"))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
            wait_for_path(&b, "/finish-done").await;
            assert_framed(&b, javascript, "done").await;
            framed.push("done".into());
            b.close().await;
        });
        eprintln!(
            "JavaScript {}: the support box was on {} pages: {}",
            if javascript { "on" } else { "off" },
            framed.len(),
            framed.join(", ")
        );
        assert!(framed.iter().any(|f| f.starts_with("q-risk.asq2")));
        assert!(framed.iter().any(|f| f.starts_with("plan")), "{framed:?}");
        let (ok, _, err) = page.finish();
        assert!(ok, "{err}");
    }
}

/// Without JavaScript, "Leave quickly" is a plain form; Back afterwards must
/// not bring the last question back from the browser's memory (its
/// back/forward cache keeps even `no-store` pages unless a cookie changed).
#[test]
fn without_javascript_back_after_leaving_quickly_shows_nothing_of_the_check() {
    if !browser_tests_wanted() {
        return;
    }
    let _one = ONE_BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let s = WalkServer::start(Some("GB"));
    s.runtime.block_on(async {
        let b = Browser::launch(Options {
            javascript: false,
            ..Options::default()
        })
        .await;
        b.client.goto(&s.url).await.unwrap();
        b.client
            .find(Locator::Css("#answer-0"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        press(&b, "do-answer").await;
        press(&b, "do-keep-no").await;
        assert!(
            body_text(&b)
                .await
                .contains("How will this device be connected")
        );
        b.client
            .find(Locator::Css("#leave"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_for_path(&b, "/away").await;
        for _ in 0..2 {
            b.client.back().await.unwrap();
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            let url = b.client.current_url().await.unwrap();
            let text = body_text(&b).await;
            eprintln!("Back after leaving quickly, without JavaScript: {url}");
            assert!(
                !text.contains("How will this device be connected")
                    && !text.contains("session-ready")
                    && !text.contains("question"),
                "Back shows the check again at {url}: {text}"
            );
        }
        b.close().await;
    });
}

/// In a home that may be watched, every page is titled "Notes" and each
/// step replaces the last in the history (with JavaScript): Back and the
/// history list keep nothing of what follows.
#[test]
fn in_a_watched_home_the_history_keeps_nothing_of_the_check() {
    if !browser_tests_wanted() {
        return;
    }
    let _one = ONE_BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let s = WalkServer::start(Some("GB"));
    s.runtime.block_on(async {
        let b = past_the_opening(&s.url).await;
        // On to "someone at home may see this device": yes.
        for _ in 0..30 {
            let place = at(&b).await.unwrap();
            if place.starts_with("q-home.monitored") {
                b.client
                    .find(Locator::Css("input[name=answer][value=yes]"))
                    .await
                    .unwrap()
                    .click()
                    .await
                    .unwrap();
                press(&b, "do-answer").await;
                break;
            }
            if place.starts_with("q-") {
                press(&b, "do-skip").await;
            } else {
                press(&b, "do-continue").await;
            }
        }
        let length = |b: &Browser| {
            let client = b.client.clone();
            async move {
                client
                    .execute("return [history.length, document.title]", vec![])
                    .await
                    .unwrap()
            }
        };
        let at_watched = length(&b).await;
        assert_eq!(at_watched[1], "Notes", "{at_watched}");
        for _ in 0..4 {
            let place = at(&b).await.unwrap();
            if place.starts_with("q-") {
                press(&b, "do-skip").await;
            } else {
                press(&b, "do-continue").await;
            }
            let now = length(&b).await;
            assert_eq!(now, at_watched, "after {place}: {now}");
        }
        b.close().await;
    });
}

/// Back to the page after session-ready closed (a long call, a locked
/// phone): the page says so calmly instead of doing nothing.
#[test]
fn a_page_that_comes_back_after_the_check_closed_says_so_calmly() {
    if !browser_tests_wanted() {
        return;
    }
    let _one = ONE_BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let mut s = WalkServer::start(Some("GB"));
    let b = s.runtime.block_on(past_the_opening(&s.url));
    let hidden = |b: &Browser| {
        let client = b.client.clone();
        async move {
            client
                .execute(
                    "return document.getElementById('page-closed').hidden",
                    vec![],
                )
                .await
                .unwrap()
        }
    };
    let back = "document.dispatchEvent(new Event('visibilitychange'))";
    s.runtime.block_on(async {
        // Still there: nothing is said.
        b.client.execute(back, vec![]).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        assert_eq!(hidden(&b).await, true);
    });
    let server = s.server.take().unwrap();
    s.runtime.block_on(server.shutdown());
    s.runtime.block_on(async {
        b.client.execute(back, vec![]).await.unwrap();
        let deadline = std::time::Instant::now() + crate::page_support::WAIT;
        while hidden(&b).await == true {
            assert!(std::time::Instant::now() < deadline, "the note appears");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let text = body_text(&b).await;
        assert!(text.contains("This check has closed"), "{text}");
        b.close().await;
    });
}
