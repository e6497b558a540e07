//! The end of the check in the page (`check --browser`): the outcome, crisis
//! resources first when they apply, the report preview, each saving choice
//! and the closing page, in headless Chromium with axe-core on every page
//! and screenshots kept under target/page-screenshots/ (finish-*). The walk
//! comes from an answers file (`check --browser --answers FILE`), so the
//! report is the one `check --answers` makes: a saved copy must equal it.
//!
//! The plain-HTTP tests at the end need no browser.
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use fantoccini::Locator;
use serde_json::Value;

use crate::page_browser::{
    Browser, ONE_BROWSER, Picture, Sound, axe_source, browser_tests_wanted, write_picture,
    write_sound,
};
use crate::page_support::{Page, request};
use crate::walk_support::{Site, at_of, location};

/// The published example clinic key (examples/clinic.toml) and its identity.
const EXAMPLE_RECIPIENT: &str = "age1p68e56zyh7atxejylktm082cfjazc7ryw7vfdw8gsmmcwzqdl3qq904lvl";

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn example(name: &str) -> PathBuf {
    repo(&format!("examples/answers/{name}.json"))
}

/// `check --browser --answers` for `name`, working in a fresh folder.
fn start(name: &str, extra: &[&str]) -> (tempfile::TempDir, Page) {
    let dir = tempfile::tempdir().unwrap();
    let answers = example(name);
    let mut args = vec![
        "--answers",
        answers.to_str().unwrap(),
        "--no-network",
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let page = Page::start_in(dir.path(), &args);
    (dir, page)
}

/// What `check --answers` writes for the same answers (the clinician copy).
fn reference(name: &str, dir: &Path, extra: &[&str]) -> Value {
    let out = dir.join(format!("reference-{name}.json"));
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_session-ready"))
        .args(["check", "--answers"])
        .arg(example(name))
        .args(["--no-network", "--format", "json", "--output"])
        .arg(&out)
        .args(extra)
        .env_remove("SESSION_READY_SERVER")
        .env_remove("SESSION_READY_STUN")
        .status()
        .unwrap();
    assert!(status.success());
    let report = std::fs::read_to_string(&out).unwrap();
    std::fs::remove_file(&out).unwrap();
    serde_json::from_str(&report).unwrap()
}

/// A report without what differs between two runs: when it was made, and
/// this device's facts at the time with the adjustments drawn from them
/// (the page tested camera and microphone; `check --answers` looked for them).
pub(crate) fn comparable(mut report: Value) -> Value {
    let map = report.as_object_mut().unwrap();
    map.remove("generated_at");
    map.remove("device");
    if let Some(Value::Array(adjustments)) = map.get_mut("adjustments") {
        adjustments.retain(|a| !a["id"].as_str().unwrap_or("").starts_with("device-"));
    }
    // A device adjustment alone (a busy processor at that moment) turns
    // "video suitable" into "with adjustments", and the headline with it.
    let only_device = map["adjustments"].as_array().is_some_and(|a| a.is_empty());
    if only_device && map["outcome"] == "video-with-adjustments" {
        map.insert("outcome".into(), "video-suitable".into());
    }
    if map["outcome"] == "video-suitable" {
        map.remove("headline");
    }
    report
}

fn owner_only(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{}", path.display());
}

/// The files in `dir`, by name.
fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Look at a page: axe-core, screenshots at both sizes, reflow at 320 px.
async fn look(b: &Browser, axe: &str, name: &str, violations: &mut Vec<String>) {
    for v in b.axe_violations(axe).await {
        violations.push(format!("{name}: {v}"));
    }
    b.screenshots(&format!("finish-{name}")).await;
    b.reflows(name).await;
}

async fn text(b: &Browser) -> String {
    b.client
        .find(Locator::Css("main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn checked_radios(b: &Browser) -> u64 {
    b.client
        .execute(
            "return document.querySelectorAll('input[type=radio]:checked').length",
            vec![],
        )
        .await
        .unwrap()
        .as_u64()
        .unwrap()
}

async fn type_name(b: &Browser, name: &str) {
    let field = b.client.find(Locator::Css("#file-name")).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(name).await.unwrap();
}

/// From the report shown first (a home not watched), on to the choices.
async fn on_to_choices(b: &Browser) {
    b.visible("#do-back-to-choices").await;
    b.click("do-back-to-choices").await;
    b.visible("fieldset.choices").await;
}

/// The key of the screen shown (its form's `at`), if it has a form.
async fn screen_key(b: &Browser) -> Option<String> {
    match b.client.find(Locator::Css("input[name=at]")).await {
        Ok(field) => field.attr("value").await.ok().flatten(),
        Err(_) => None,
    }
}

/// Press `id` and wait for the next screen.
async fn step(b: &Browser, id: &str) {
    let before = screen_key(b).await;
    b.click(id).await;
    let deadline = Instant::now() + crate::page_support::WAIT;
    while screen_key(b).await == before {
        assert!(Instant::now() < deadline, "the page stayed at {before:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Save the full copy as `name`, whatever the visit shows on the way: the
/// report first (a home not watched), the choices, an unlocked copy's own
/// confirmation (a watched home), the file name.
pub(crate) async fn save_full(b: &Browser, name: &str) {
    let deadline = Instant::now() + crate::page_support::WAIT;
    while Instant::now() < deadline {
        let has = async |css: &str| b.client.find(Locator::Css(css)).await.is_ok();
        if has("#closing").await {
            return;
        }
        if has("#file-name").await {
            type_name(b, name).await;
            step(b, "continue").await;
        } else if has("#do-confirm-unlocked").await {
            step(b, "do-confirm-unlocked").await;
        } else if has("#choice-save-full").await {
            assert_eq!(
                checked_radios(b).await,
                0,
                "nothing is chosen for the client"
            );
            b.click("choice-save-full").await;
            step(b, "continue").await;
        } else if has("#do-back-to-choices").await {
            step(b, "do-back-to-choices").await;
        } else {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    b.visible("#closing").await;
}

/// Choose to save `choice`, then give the file name (empty: the suggested one).
async fn save_as(b: &Browser, choice: &str, name: &str) {
    b.click(&format!("choice-{choice}")).await;
    b.click("continue").await;
    b.visible("#file-name").await;
    type_name(b, name).await;
    b.click("continue").await;
    b.visible("#closing").await;
}

/// Run `steps` in a browser pointed at the page's `next` (past the media
/// test, as the page's own link does without scripts).
fn in_browser<F>(page: &Page, steps: F) -> Vec<String>
where
    F: AsyncFnOnce(&Browser, &str, &mut Vec<String>),
{
    let _one = ONE_BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let fixtures = tempfile::tempdir().unwrap();
    let video = write_picture(fixtures.path(), Picture::WellLit);
    let audio = write_sound(fixtures.path(), Sound::Speech);
    let axe = axe_source();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let b = Browser::start(&video, &audio, true, false).await;
        let mut violations = Vec::new();
        // The printed address first (it trades itself for the session), then `next`.
        b.client.goto(&page.url).await.unwrap();
        b.client
            .goto(&format!("http://{}/next", page.addr))
            .await
            .unwrap();
        // The report is offered as soon as it is built (page.js moves on by itself).
        b.visible("main form").await;
        let ready = b
            .client
            .execute(
                "const n = performance.getEntriesByType('navigation')[0]; \
                 return [n.domContentLoadedEventEnd, n.loadEventEnd, n.transferSize];",
                vec![],
            )
            .await
            .unwrap();
        eprintln!(
            "finish page ready in the browser: DOMContentLoaded {} ms, load {} ms",
            ready[0], ready[1]
        );
        steps(&b, &axe, &mut violations).await;
        b.close().await;
        violations
    })
}

fn no_violations(violations: &[String]) {
    assert!(
        violations.is_empty(),
        "axe-core WCAG 2.2 AA violations:\n{}",
        violations.join("\n")
    );
}

#[test]
fn a_calm_report_is_previewed_then_saved_for_the_therapist() {
    if !browser_tests_wanted() {
        return;
    }
    let (dir, page) = start("video-suitable", &[]);
    let violations = in_browser(&page, async |b, axe, v| {
        // What the client's copy contains comes first, before any choice.
        b.visible("article.report").await;
        let preview = text(b).await;
        assert!(
            preview.contains("Video-session readiness summary"),
            "{preview}"
        );
        // The client copy: the risk answers are for the therapist only.
        assert!(
            preview.contains("in your therapist's copy only"),
            "{preview}"
        );
        look(b, axe, "1-preview", v).await;
        on_to_choices(b).await;

        // Nothing is chosen for the client; no crisis box on a calm report.
        assert_eq!(checked_radios(b).await, 0);
        let shown = text(b).await;
        assert!(shown.contains("Your report is ready"), "{shown}");
        assert!(!shown.contains("If you need support now"), "{shown}");
        assert!(!shown.to_lowercase().contains("failed"), "{shown}");
        look(b, axe, "2-choices", v).await;

        b.click("choice-show-everything").await;
        b.click("continue").await;
        b.visible("article.report").await;
        let everything = text(b).await;
        assert!(everything.contains("This is everything"), "{everything}");
        assert!(
            !everything.contains("therapist's copy only"),
            "{everything}"
        );
        look(b, axe, "3-everything", v).await;
        on_to_choices(b).await;
        assert_eq!(checked_radios(b).await, 0, "choosing again starts afresh");
        save_as(b, "save-full", "for-my-therapist.json").await;
        let closing = text(b).await;
        assert!(closing.contains("Thank you"), "{closing}");
        assert!(closing.contains("for-my-therapist.json"), "{closing}");
        assert!(closing.contains("If you need support now"), "{closing}");
        look(b, axe, "4-saved", v).await;
    });
    no_violations(&violations);
    let (ok, _, err) = page.finish();
    assert!(ok, "{err}");
    assert!(err.contains("Your report is saved in"), "{err}");
    assert!(err.contains("for-my-therapist.json"), "{err}");

    let saved = dir.path().join("for-my-therapist.json");
    owner_only(&saved);
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
    assert_eq!(saved["view"], "clinician");
    let expected = reference("video-suitable", dir.path(), &[]);
    assert_eq!(comparable(saved), comparable(expected));
}

#[test]
fn a_watched_home_is_offered_the_copy_locked_for_the_clinic() {
    if !browser_tests_wanted() {
        return;
    }
    let (dir, page) = start(
        "in-person-recommended",
        &["--encrypt-to", EXAMPLE_RECIPIENT],
    );
    let violations = in_browser(&page, async |b, axe, v| {
        assert_eq!(checked_radios(b).await, 0);
        let shown = text(b).await;
        // Not shown unless asked; the safer choice named, not chosen.
        assert!(shown.contains("not shown unless you ask"), "{shown}");
        assert!(!shown.contains("See what your report contains"), "{shown}");
        assert!(
            shown.contains("“Save the full report, locked for my clinic” is the safer choice"),
            "{shown}"
        );
        look(b, axe, "5-watched-choices", v).await;

        b.click("choice-show-once").await;
        b.click("continue").await;
        b.visible("article.report").await;
        look(b, axe, "6-watched-shown-once", v).await;
        b.click("do-back-to-choices").await;
        b.visible("fieldset.choices").await;
        assert!(!text(b).await.contains("Video-session readiness summary"));

        b.click("choice-save-full").await;
        b.click("continue").await;
        b.visible("#file-name").await;
        let naming = text(b).await;
        assert!(naming.contains("notes-"), "a neutral file name: {naming}");
        assert!(!naming.contains("readiness-report"), "{naming}");
        b.click("continue").await;
        b.visible("#closing").await;
        let closing = text(b).await;
        assert!(
            closing.contains("locked so that only your clinic can open it"),
            "{closing}"
        );
        // The outcome is not repeated on a screen others may see.
        assert!(!closing.contains("in person"), "{closing}");
        look(b, axe, "7-watched-saved", v).await;
    });
    no_violations(&violations);
    let (ok, _, err) = page.finish();
    assert!(ok, "{err}");

    let names = files(dir.path());
    assert_eq!(names.len(), 1, "{names:?}");
    assert!(
        names[0].starts_with("notes-") && names[0].ends_with(".json.age"),
        "{names:?}"
    );
    let sealed = dir.path().join(&names[0]);
    owner_only(&sealed);
    let armoured = std::fs::read_to_string(&sealed).unwrap();
    assert!(armoured.starts_with("-----BEGIN AGE ENCRYPTED FILE-----"));
    let opened = std::process::Command::new(env!("CARGO_BIN_EXE_session-ready"))
        .arg("report")
        .arg(&sealed)
        .arg("--identity")
        .arg(repo("examples/clinic-example-identity.txt"))
        .args(["--format", "json", "--view", "clinician"])
        .output()
        .unwrap();
    assert!(
        opened.status.success(),
        "{}",
        String::from_utf8_lossy(&opened.stderr)
    );
    let opened: Value = serde_json::from_slice(&opened.stdout).unwrap();
    let expected = reference("in-person-recommended", dir.path(), &[]);
    assert_eq!(comparable(opened), comparable(expected));
}

#[test]
fn crisis_resources_come_first_and_nothing_is_saved_when_asked() {
    if !browser_tests_wanted() {
        return;
    }
    let (dir, page) = start("urgent", &[]);
    let violations = in_browser(&page, async |b, axe, v| {
        let first = b
            .client
            .execute(
                "const box = document.querySelector('section.crisis'); \
                 const h1 = document.querySelector('h1'); \
                 return !!box && !!(box.compareDocumentPosition(h1) & Node.DOCUMENT_POSITION_FOLLOWING);",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(first, Value::Bool(true), "the support numbers come first");
        look(b, axe, "8-crisis-first", v).await;
        on_to_choices(b).await;
        assert_eq!(checked_radios(b).await, 0);

        // An unanswered form is asked again, calmly.
        b.click("continue").await;
        b.visible("[role=alert]").await;
        assert!(text(b).await.contains("Please choose one of the options"));
        look(b, axe, "9-nothing-chosen", v).await;

        b.click("choice-nothing").await;
        b.click("continue").await;
        b.visible("#closing").await;
        let closing = text(b).await;
        assert!(closing.contains("Nothing was saved."), "{closing}");
        assert!(closing.contains("If you need support now"), "{closing}");
        look(b, axe, "10-closing-crisis", v).await;
    });
    no_violations(&violations);
    let (ok, _, err) = page.finish();
    assert!(ok, "{err}");
    assert!(err.contains("Nothing was saved."), "{err}");
    assert!(files(dir.path()).is_empty(), "{:?}", files(dir.path()));
}

// --- plain HTTP: the same rules without a browser -----------------------------

fn post_form(
    page: &Page,
    path: &str,
    origin: Option<&str>,
    body: &str,
) -> crate::page_support::Reply {
    let host = page.host();
    let cookie = page.cookie();
    let mut headers = vec![
        ("Host", host.as_str()),
        ("Cookie", cookie.as_str()),
        ("Content-Type", "application/x-www-form-urlencoded"),
    ];
    if let Some(origin) = origin {
        headers.push(("Origin", origin));
    }
    request(page.addr, "POST", &format!("/{path}"), &headers, body)
}

/// The page the visit is at now, following its redirects.
fn current(page: &Page) -> crate::page_support::Reply {
    let mut reply = page.get("walk");
    for _ in 0..3 {
        if reply.status != 303 {
            break;
        }
        reply = page.get(&location(&reply));
    }
    reply
}

/// Post the saving form without scripts (`body`: the choice and the name),
/// from the choices (back to them first from the report or the file name),
/// and follow the answer to the page it leads to.
fn save_form(page: &Page, origin: &str, body: &str) -> crate::page_support::Reply {
    let now = current(page);
    if now.body.contains("value=\"back-to-choices\"") {
        let at = at_of(&now.body).unwrap();
        let back = post_form(
            page,
            "walk",
            Some(origin),
            &format!("at={at}&do=back-to-choices"),
        );
        assert_eq!(back.status, 303, "{back:?}");
    }
    let choices = current(page);
    let at = at_of(&choices.body).unwrap();
    let reply = post_form(
        page,
        "walk",
        Some(origin),
        &format!("at={at}&do=save&{body}"),
    );
    assert_eq!(reply.status, 303, "{reply:?}");
    page.get(&location(&reply))
}

#[test]
fn saving_keeps_earlier_files_and_refuses_what_is_not_the_page() {
    let (dir, page) = start("video-suitable", &[]);
    assert_eq!(page.get("next").status, 303);
    let origin = page.origin();
    // Not from the page: no Origin, or another site's.
    let none = post_form(&page, "walk", None, "choice=nothing");
    assert_eq!(none.status, 403);
    let other = post_form(&page, "walk", Some("http://evil.example"), "choice=nothing");
    assert_eq!(other.status, 403);

    // The report is offered ("Continue" waits for it, briefly here): what
    // the client's copy holds first, then the choices.
    let offered = page.get("finish?wait=1");
    assert_eq!(location(&offered), "finish-report");
    let preview = current(&page);
    assert!(preview.body.contains("This is what your report contains"));
    let back = Site::choose(&page, "back-to-choices", &[]);
    assert_eq!(location(&back), "finish");
    let offered = page.get("finish");
    assert!(offered.body.contains("What would you like to do?"));
    for input in offered.body.split("<input").skip(1) {
        let tag = &input[..input.find('>').unwrap()];
        assert!(
            !tag.contains("checked"),
            "nothing is chosen for the client: {tag}"
        );
    }

    // An earlier file is never replaced: the name typed is kept for another try.
    std::fs::write(dir.path().join("mine.json"), "earlier").unwrap();
    let again = save_form(&page, &origin, "choice=save-full&name=mine.json");
    assert_eq!(again.status, 200);
    assert!(
        again.body.contains("already a file called mine.json"),
        "{}",
        again.body
    );
    assert!(again.body.contains("value=\"mine.json\""));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("mine.json")).unwrap(),
        "earlier"
    );

    // A name with control characters is refused and shown escaped, never obeyed.
    let odd = save_form(&page, &origin, "choice=save-client&name=%1B%5B2J%3Cb%3Ex");
    assert_eq!(odd.status, 200);
    assert!(
        !odd.body.contains('\u{1b}') && !odd.body.contains("<b>x"),
        "{}",
        odd.body
    );
    assert!(odd.body.contains("Nothing was saved"), "{}", odd.body);

    // An unknown choice is a question asked again, not a save.
    let unknown = save_form(&page, &origin, "choice=everything-now");
    assert!(unknown.body.contains("Please choose one of the options"));

    // The connection test was not run (--no-network): its numbers say so.
    let progress = page.get("progress.json");
    let numbers: Value = serde_json::from_str(&progress.body).unwrap();
    assert!(
        numbers.as_object().unwrap().values().all(Value::is_number),
        "{numbers}"
    );
    assert_eq!(numbers["tested"], 0);
    assert_eq!(numbers["report_ready"], 1);

    let done = save_form(&page, &origin, "choice=save-client&name=");
    assert!(
        done.body.contains("Your report is saved in"),
        "{}",
        done.body
    );
    let (ok, _, err) = page.finish();
    assert!(ok, "{err}");
    let names = files(dir.path());
    let copy = names
        .iter()
        .find(|n| n.starts_with("readiness-report-"))
        .unwrap_or_else(|| panic!("{names:?}"));
    let copy: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join(copy)).unwrap()).unwrap();
    assert_eq!(copy["view"], "client");
}

#[test]
fn a_typed_name_is_always_a_file_here_and_a_locked_copy_never_replaces_one() {
    let (dir, page) = start("video-suitable", &["--encrypt-to", EXAMPLE_RECIPIENT]);
    assert_eq!(page.get("next").status, 303);
    assert_eq!(page.get("finish?wait=1").status, 303);
    let origin = page.origin();
    // `-` would print the full copy on the terminal; folders and paths would
    // put it somewhere the page does not say. Each is refused calmly.
    for name in ["-", "..", "/tmp/stolen.json", "sub%2Fr.json", "..%2Fr.json"] {
        let reply = save_form(&page, &origin, &format!("choice=save-full&name={name}"));
        assert_eq!(reply.status, 200, "{name}: {reply:?}");
        assert!(
            reply.body.contains("is not a plain file name")
                && reply.body.contains("Nothing was saved"),
            "{name}: {}",
            reply.body
        );
        assert!(!reply.body.contains("Your report is saved"), "{name}");
    }
    // `old.json` locked for the clinic is written as `old.json.age`: that is
    // the name checked, so the earlier copy stays.
    std::fs::write(dir.path().join("old.json.age"), "earlier").unwrap();
    let reply = save_form(&page, &origin, "choice=save-full&name=old.json");
    assert_eq!(reply.status, 200, "{reply:?}");
    assert!(
        reply.body.contains("already a file called old.json.age"),
        "{}",
        reply.body
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("old.json.age")).unwrap(),
        "earlier"
    );
    let done = save_form(&page, &origin, "choice=save-full&name=new.json");
    assert!(done.body.contains("new.json.age"), "{}", done.body);
    let (ok, out, err) = page.finish();
    assert!(ok, "{err}");
    // Nothing was printed: the only copy is the locked file.
    assert!(out.is_empty(), "{out}");
    assert_eq!(files(dir.path()), ["new.json.age", "old.json.age"]);
    let locked = std::fs::read(dir.path().join("new.json.age")).unwrap();
    assert!(locked.starts_with(b"age-encryption.org/v1") || locked.starts_with(b"-----BEGIN AGE"));
}

#[test]
fn a_page_left_before_the_end_saves_nothing_and_says_so() {
    let (dir, page) = start("video-suitable", &["--page-closed-seconds", "1"]);
    assert_eq!(page.post("alive", "{}").status, 204);
    // No more heartbeats: the page was closed before any choice.
    let (ok, _, err) = page.finish();
    assert!(!ok);
    assert!(err.contains("was away for 1 second"), "{err}");
    assert!(err.contains("Nothing was kept"), "{err}");
    assert!(files(dir.path()).is_empty());
}

/// A TCP relay to `upstream` that holds every connection until `hold` after
/// the first one arrived (a measurement server slow to answer first
/// contact), then passes the bytes both ways.
fn holding_relay(upstream: std::net::SocketAddr, hold: Duration) -> std::net::SocketAddr {
    use std::net::{Shutdown, TcpListener, TcpStream};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut opens = None;
        for client in listener.incoming().flatten() {
            let opens = *opens.get_or_insert_with(|| Instant::now() + hold);
            std::thread::spawn(move || {
                std::thread::sleep(opens.saturating_duration_since(Instant::now()));
                let Ok(server) = TcpStream::connect(upstream) else {
                    return;
                };
                let (mut c2, mut s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                let back = std::thread::spawn(move || {
                    let _ = std::io::copy(&mut s2, &mut c2);
                    let _ = c2.shutdown(Shutdown::Write);
                });
                let (mut client, mut server) = (client, server);
                let _ = std::io::copy(&mut client, &mut server);
                let _ = server.shutdown(Shutdown::Write);
                let _ = back.join();
            });
        }
    });
    addr
}

/// The page follows the connection test's real steps, not a countdown. The
/// measurement server holds first contact for 4 seconds (about half the
/// test's planned 8.5 seconds, and within the probe's wait for it): all that
/// time the page, with and without scripts, says it is connecting, step 1 of
/// 4, and its bar stays inside that step's share (under 10 %); until the
/// download begins it stays under half way (a countdown from the planned
/// length passes 10 % within a second, half way during the hold and about
/// 90 % in the delay step after it). Then the steps follow in order, the
/// share only grows, and the end is whole.
#[test]
fn the_page_follows_the_connection_tests_steps_when_the_server_holds_first_contact() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let serve = runtime.block_on(crate::net_support::serve());
    let relay = holding_relay(serve.addr, Duration::from_secs(4));
    let dir = tempfile::tempdir().unwrap();
    let draft = dir.path().join("kept.json");
    let page = Page::start_in(
        dir.path(),
        &[
            "--server",
            &format!("http://{relay}"),
            "--stun",
            &serve.addr.to_string(),
            "--draft",
            draft.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    // (when, step, percent) for every reply, until the test has finished.
    let mut seen: Vec<(Instant, u64, u64)> = Vec::new();
    let mut page_while_held = None;
    let until = Instant::now() + crate::page_support::WAIT;
    loop {
        assert!(
            Instant::now() < until,
            "the connection test did not finish: {seen:?}"
        );
        let reply = page.get("progress.json");
        assert_eq!(reply.status, 200);
        let numbers: Value = serde_json::from_str(&reply.body).unwrap();
        assert!(
            numbers.as_object().unwrap().values().all(Value::is_number),
            "numbers only: {numbers}"
        );
        assert_eq!(numbers["tested"], 1, "{numbers}");
        let (step, percent) = (
            numbers["step"].as_u64().unwrap(),
            numbers["percent"].as_u64().unwrap(),
        );
        let now = Instant::now();
        seen.push((now, step, percent));
        // The page itself (no scripts) a good while into the hold.
        let held_since = seen.iter().find(|(_, s, _)| *s == 2).map(|(t, _, _)| *t);
        if step == 2
            && page_while_held.is_none()
            && held_since.is_some_and(|t| now - t >= Duration::from_secs(2))
        {
            page_while_held = Some(page.get("").body);
        }
        if numbers["done"] == 1 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let steps: Vec<u64> = seen.iter().map(|(_, s, _)| *s).collect();
    eprintln!(
        "steps and percentages seen: {:?}",
        seen.iter()
            .map(|(t, s, p)| ((*t - seen[0].0).as_millis() / 100 * 100, *s, *p))
            .collect::<Vec<_>>()
    );
    // The hold was seen as the connecting step, for most of it.
    let connecting: Vec<&(Instant, u64, u64)> = seen.iter().filter(|(_, s, _)| *s == 2).collect();
    let held_for = connecting.last().unwrap().0 - connecting[0].0;
    assert!(
        held_for >= Duration::from_secs(3),
        "connecting for {held_for:?}: {steps:?}"
    );
    // In order, never back; the share only grows; under half until the download.
    assert!(steps.windows(2).all(|w| w[0] <= w[1]), "{steps:?}");
    for step in [2, 3, 6] {
        assert!(steps.contains(&step), "step {step} never seen: {steps:?}");
    }
    // (A transfer on loopback may be over between two looks; not both.)
    assert!(
        steps.contains(&4) || steps.contains(&5),
        "no transfer seen: {steps:?}"
    );
    assert!(seen.windows(2).all(|w| w[0].2 <= w[1].2), "{seen:?}");
    for (_, step, percent) in &seen {
        if *step < 4 {
            assert!(*percent < 50, "{percent}% before the download: {seen:?}");
        }
        if *step == 2 {
            assert!(*percent < 10, "{percent}% while connecting: {seen:?}");
        }
    }
    assert_eq!(seen.last().unwrap().2, 100);
    // Without scripts the page said the same, in words and in its bar.
    let held = page_while_held.expect("the page was fetched during the hold");
    assert!(
        held.contains("step 1 of 4: connecting to the measurement server."),
        "{held}"
    );
    let value: u64 = held
        .split("id=\"connection-bar\" max=\"100\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no bar: {held}"));
    assert!(value < 10, "{value}");
    // Every step's sentence is in the page for page.js; nothing else is.
    for sentence in [
        "step 2 of 4: measuring delay and steadiness, with a short audio-like test.",
        "step 3 of 4: measuring download speed.",
        "step 4 of 4: measuring upload speed.",
        "The connection test has finished.",
    ] {
        assert!(held.contains(sentence), "{sentence}: {held}");
    }
    let finished = page.get("");
    assert!(
        finished
            .body
            .contains(">The connection test has finished.</p>"),
        "{}",
        finished.body
    );
    drop(page);
    drop(serve);
}

// --- the whole check on the wire -----------------------------------------------

/// A file name no probe would send by chance: typed in the page, it must
/// reach only this computer's disk.
const TYPED_NAME: &str = "Philippa-Wrenfield-heron-notes.json";

/// `check --browser` with the connection test against a real `serve` behind
/// a relay that records every byte, and the browser behind a second relay
/// that records every request the page makes. The client answers the
/// questions in the page, typing the session plan (names and phone numbers
/// included) and a file name: the connection test's progress shows in the
/// page while it runs; none of what was typed, nor the answers or the clinic
/// details, reaches the wire; the page sends the CLI only its own requests,
/// the forms of the questions and the one form with the choice and the name.
#[test]
fn the_connection_test_runs_behind_the_page_and_nothing_typed_crosses_the_wire() {
    if !browser_tests_wanted() {
        return;
    }
    let _one = ONE_BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let wire = crate::wire_support::Wire::start();
    let dir = tempfile::tempdir().unwrap();
    let (answers, clinic) = crate::check_wire::distinctive_inputs(dir.path());
    let draft = dir.path().join("kept-answers.json");
    let fixtures = tempfile::tempdir().unwrap();
    let video = write_picture(fixtures.path(), Picture::WellLit);
    let audio = write_sound(fixtures.path(), Sound::Speech);
    let axe = axe_source();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    // The browser first, so the page is seen while the test is still running.
    let b = runtime.block_on(Browser::start(&video, &audio, true, false));
    let stun = wire.stun.to_string();
    let server = wire.server_url();
    let page = Page::start_in(
        dir.path(),
        &[
            "--clinic",
            clinic.to_str().unwrap(),
            "--server",
            &server,
            "--stun",
            &stun,
            "--draft",
            draft.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    let relay = crate::page_browser::Relay::start(page.addr);
    let url = page
        .url
        .replace(&page.addr.to_string(), &relay.addr.to_string());
    let (running, violations) = runtime.block_on(async {
        let mut violations = Vec::new();
        b.client.goto(&url).await.unwrap();
        b.visible("#connection-words").await;
        let running = b
            .client
            .find(Locator::Css("#connection-words"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        look(&b, &axe, "0-connection-running", &mut violations).await;
        crate::walk_support::walk_browser(&b.client, &url, &answers).await;
        // The media test, a step of the whole check: its Finish goes on to
        // the end of the check by itself.
        assert!(
            b.client
                .current_url()
                .await
                .unwrap()
                .path()
                .ends_with("/media")
        );
        b.click("start-camera").await;
        b.result("camera-result").await;
        b.click("to-microphone").await;
        b.click("start-microphone").await;
        b.visible("#speak-now").await;
        b.click("speak-now").await;
        b.result("microphone-result").await;
        let heard = b
            .client
            .find(Locator::Css("#microphone-result"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!heard.contains("dB"), "plain words for the client: {heard}");
        b.click("to-speakers").await;
        b.click("play-chime").await;
        b.click("heard-yes").await;
        b.result("speakers-result").await;
        b.click("finish").await;
        // page.js moves on once the report is built.
        b.visible("main form").await;
        let words = b
            .client
            .find(Locator::Css("#connection-words"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(words, "The connection test has finished.");
        save_full(&b, TYPED_NAME).await;
        (running, violations)
    });
    runtime.block_on(b.close());
    no_violations(&violations);
    eprintln!("while the connection test ran, the page said: {running}");
    assert!(
        running.contains("in the background") && !running.contains("finished"),
        "the page showed the test running: {running}"
    );
    let token = page.token.clone();
    let (ok, _, err) = page.finish();
    assert!(ok, "{err}");

    // The report has the measured connection and what was typed (so it was in play).
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join(TYPED_NAME)).unwrap())
            .unwrap();
    assert!(
        saved["network"]["download"]["mbps"].is_number(),
        "{}",
        saved["network"]
    );
    let typed: Value = serde_json::from_str(&std::fs::read_to_string(&answers).unwrap()).unwrap();
    assert_eq!(saved["session_plan"], typed["session_plan"]);
    let mut secrets = crate::check_wire::secrets(&answers);
    secrets.extend(crate::wire_support::encodings(TYPED_NAME));
    secrets.extend(["philippa-wrenfield", "heron-notes"].map(String::from));
    crate::check_wire::assert_nothing_leaked(&wire, &secrets);

    // What the page sent the CLI: its files, pages and forms, heartbeat,
    // progress numbers, and the one form with the choice and the name.
    let sent = relay.sent.lock().unwrap();
    let opening = format!("/{token}/");
    let mut saves = 0;
    let mut media = 0;
    for s in sent.iter() {
        // The printed address once, then the page's own paths.
        let rest = if s.path == opening {
            ""
        } else {
            s.path
                .strip_prefix('/')
                .unwrap_or_else(|| panic!("a request outside the page: {s:?}"))
        };
        match (s.method.as_str(), rest) {
            (
                "GET",
                "" | "walk" | "media" | "next" | "finish" | "finish?wait=1" | "finish-report"
                | "finish-done" | "progress.json" | "page.js" | "leave.js" | "media.js"
                | "style.css" | "icon.svg",
            ) => assert!(s.body.is_empty(), "{s:?}"),
            ("POST", "api/alive" | "api/finish") => assert_eq!(s.body, b"{}", "{s:?}"),
            // The media test: numbers and the API's few fixed words only.
            ("POST", "api/camera" | "api/microphone" | "api/speakers") => {
                media += 1;
                let value: Value = serde_json::from_slice(&s.body).unwrap();
                let fields = value.as_object().unwrap();
                assert!(
                    fields.values().all(|v| v.is_number()
                        || ["granted", "yes"].contains(&v.as_str().unwrap_or("-"))),
                    "more than numbers left the page: {value}"
                );
            }
            // The visit's forms: the answers, the plan, the saving choice
            // and the file name, to this computer only.
            ("POST", "walk") => {
                let body = String::from_utf8_lossy(&s.body);
                if body.contains("do=save") {
                    saves += 1;
                    let mut fields: Vec<String> = form_urlencoded::parse(body.as_bytes())
                        .map(|(k, v)| format!("{k}={}", if k == "at" { "…" } else { &v }))
                        .collect();
                    fields.sort();
                    assert_eq!(fields, ["at=…", "choice=save-full", "do=save"], "{body}");
                }
            }
            _ => panic!("an unexpected request from the page: {s:?}"),
        }
    }
    assert_eq!((saves, media), (1, 3));
    // The media test's results are in the saved report's device section.
    let items = saved["device"]["items"].as_array().unwrap();
    let result = |id: &str| items.iter().find(|i| i["id"] == id).unwrap()["result"].clone();
    assert_eq!(
        (result("camera"), result("microphone"), result("speakers")),
        ("tested-ok".into(), "clear".into(), "heard".into())
    );
}

// --- parity: the questions answered in the page ------------------------------

/// The examples, each with the region it names (all-skipped names none).
const EXAMPLES: [&str; 5] = [
    "all-skipped",
    "in-person-recommended",
    "urgent",
    "video-suitable",
    "video-with-adjustments",
];

/// For every example answers file: the whole check in the page (questions
/// answered by clicking, plan text typed, then the end of the check and a
/// save), and the saved report is the one `check --answers` writes for the
/// same answers, apart from the time and this device's facts.
#[test]
fn a_whole_check_in_the_page_saves_what_check_answers_writes_for_every_example() {
    if !browser_tests_wanted() {
        return;
    }
    let _one = ONE_BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let fixtures = tempfile::tempdir().unwrap();
    let video = write_picture(fixtures.path(), Picture::WellLit);
    let audio = write_sound(fixtures.path(), Sound::Speech);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let b = runtime.block_on(Browser::start(&video, &audio, true, false));
    let mut results = Vec::new();
    for name in EXAMPLES {
        let dir = tempfile::tempdir().unwrap();
        let draft = dir.path().join("kept-answers.json");
        let file: Value =
            serde_json::from_str(&std::fs::read_to_string(example(name)).unwrap()).unwrap();
        // The region is asked in the page when nothing names it; the walk
        // answers it from the file. A locale that names one would skip the
        // question, so both runs get the file's region where it has one.
        let region: Vec<&str> = file["region"]
            .as_str()
            .map(|r| vec!["--region", r])
            .unwrap_or_default();
        let mut args = vec![
            "--no-network",
            "--format",
            "json",
            "--draft",
            draft.to_str().unwrap(),
        ];
        args.extend(&region);
        let page = Page::start_in(dir.path(), &args);
        runtime.block_on(async {
            crate::walk_support::walk_browser(&b.client, &page.url, &example(name)).await;
            let here = b.client.current_url().await.unwrap();
            if here.path().ends_with("/media") {
                // Past the media test, as its page's link does.
                b.client
                    .goto(&format!("http://{}/next", page.addr))
                    .await
                    .unwrap();
            }
            save_full(&b, "parity.json").await;
        });
        let (ok, _, err) = page.finish();
        assert!(ok, "{name}: {err}");
        let saved = dir.path().join("parity.json");
        owner_only(&saved);
        assert!(!draft.exists(), "{name}: no answers kept after the end");
        let saved: Value = serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
        let expected = reference(name, dir.path(), &region);
        assert_eq!(
            comparable(saved.clone()),
            comparable(expected),
            "{name}: the page's report differs from check --answers"
        );
        results.push(format!("{name}: same report ({})", saved["outcome"]));
    }
    runtime.block_on(b.close());
    eprintln!("parity with check --answers:\n  {}", results.join("\n  "));
}
