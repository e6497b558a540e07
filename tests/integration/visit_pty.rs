//! The visit's safety rules as a client meets them in a real terminal (a
//! pseudo-terminal at 80x24 and 60x24): the support numbers stay in sight at
//! every point where they once vanished, a stray key never turns a watched
//! home's protective default into a save, an inferred country is named and
//! can be changed, long screens are paged, and nothing breaks mid-word.
#![cfg(unix)]

use std::time::Duration;

use crate::pty_support::*;
use expectrl::Expect;

const SIZES: [(u16, u16); 2] = [(80, 24), (60, 24)];

/// Through the opening and into the risk part, then "yes" to ASQ 1 and on
/// past the support screen: waits at ASQ 2.
fn a_yes_then_ask_two(c: &mut Client, keep: bool) {
    c.begin(keep);
    to_the_risk_questions(c, None);
    c.answer("have you wished you were dead", "1");
    c.wait_for("Support is available now");
    c.answer("What would you like to do?", "1"); // continue with the questions
    c.wait_for("call 999");
}

fn assert_numbers(screen: &str, place: &str) {
    for number in ["call 999", "116 123", "SHOUT to 85258"] {
        assert!(screen.contains(number), "{place}: no {number}:\n{screen}");
    }
}

#[test]
fn ctrl_c_after_a_yes_leaves_every_number_on_screen() {
    for size in SIZES {
        let dir = tempfile::tempdir().unwrap();
        let mut c = Client::start_sized(dir.path(), size, &[]);
        a_yes_then_ask_two(&mut c, false);
        c.wait_for("better off");
        c.send(CTRL_C);
        let (out, code) = c.finish();
        assert_eq!(code, 130, "{out}");
        let screen = final_rows(&out, usize::from(size.1));
        assert!(screen.contains("Stopped. Nothing was kept."), "{screen}");
        assert_numbers(&screen, &format!("after Ctrl-C at {size:?}"));
    }
}

#[test]
fn pausing_after_a_yes_and_coming_back_keep_the_numbers_in_sight() {
    for size in SIZES {
        let dir = tempfile::tempdir().unwrap();
        let mut c = Client::start_sized(dir.path(), size, &[]);
        a_yes_then_ask_two(&mut c, false);
        c.wait_for("better off");
        c.send("p\r");
        // Asked once; the numbers stay above the question.
        c.wait_for("call 999");
        c.answer("Would you like your answers kept", "2");
        let (out, code) = c.finish();
        assert_eq!(code, 0, "{out}");
        let screen = final_rows(&out, usize::from(size.1));
        assert!(screen.contains("Paused. Your answers are kept"), "{screen}");
        assert_numbers(&screen, &format!("after pausing at {size:?}"));

        // Next time: the kept yes brings the numbers onto "Welcome back",
        // and "not now" ends with all of them, not the emergency line alone.
        let mut c = Client::start_sized(dir.path(), size, &[]);
        c.wait_for("call 999");
        c.wait_for("116 123");
        c.wait_for("Welcome back");
        c.answer("safe and private time to carry on", ""); // no, not now
        let (out, code) = c.finish();
        assert_eq!(code, 0, "{out}");
        let screen = final_rows(&out, usize::from(size.1));
        assert!(screen.contains("Your answers are still kept"), "{screen}");
        assert_numbers(&screen, &format!("after not now at {size:?}"));
    }
}

#[test]
fn after_an_acute_yes_every_later_screen_shows_999_and_the_support_lines() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::start_sized(dir.path(), (80, 24), &[]);
    a_yes_then_ask_two(&mut c, false);
    // Each screen draws the numbers above its question: wait for them, then
    // for the question, in the order they are drawn.
    for question in [
        "better off",
        "thoughts about killing yourself",
        "tried to kill yourself",
    ] {
        c.answer(question, "2");
        c.wait_for("call 999");
        c.wait_for("116 123");
    }
    c.answer("thoughts of killing yourself right now", "1");
    c.wait_for("call 999");
    c.wait_for("talk with someone today");
    c.answer("What would you like to do?", "1"); // continue
    c.wait_for("call 999");
    c.wait_for("116 123");
    c.answer("urgent help for your mental health", "2");
    c.wait_for("call 999");
    c.wait_for("116 123");
    c.answer("Would you like to make a plan now?", "1");
    for prompt in [
        "Where would you like to sit",
        "within arm's reach",
        "need a pause",
        "contact after a session",
        "If the call drops",
    ] {
        c.wait_for("call 999");
        c.wait_for("116 123");
        c.answer(prompt, "");
    }
    c.wait_for("call 999");
    c.answer("What would you like to do?", "1"); // nothing saved
    let (out, code) = c.finish();
    assert_eq!(code, 0, "{out}");
    assert_numbers(&final_rows(&out, 24), "the end");
}

/// Through a watched home ("someone may check my messages") to the end.
fn watched_to_the_end(c: &mut Client) {
    c.begin(false);
    c.answer_each(&SETUP_AND_PRIVACY, "1");
    c.answer("Is now still a safe and private time", "1");
    c.answer("Does your home feel like a safe place", "s");
    c.answer("check your phone, computer or messages", "1"); // yes
    c.answer("Ready to go on?", "");
    c.answer_each(&ISOLATION[..4], "s");
    c.answer("Would meeting your therapist in person", "s");
    c.answer("Is now still a safe and private time", "s");
    c.answer("Would you like to make a plan now?", "s");
    c.wait_for("Your report is ready");
}

#[test]
fn a_stray_key_never_moves_a_watched_home_onto_an_unlocked_save() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::start_sized(dir.path(), (80, 24), &[]);
    watched_to_the_end(&mut c);
    c.wait_for("What would you like to do?");
    // A stray key, then Backspace: the list is whole again, and the
    // highlight is on the first item, the protective one.
    c.send("x");
    c.send("\x7f");
    c.send("\r");
    c.wait_for("Nothing was saved");
    c.answer("this screen will be cleared", "");
    let (out, code) = c.finish();
    assert_eq!(code, 0, "{out}");
    assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none());

    // Choosing the unlocked save asks again, naming the risk; Enter there
    // goes back to the choices, and Enter there saves nothing.
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::start_sized(dir.path(), (80, 24), &[]);
    watched_to_the_end(&mut c);
    c.answer("What would you like to do?", "3");
    c.wait_for("can be opened by anyone who uses this account");
    c.answer("Save it on this device anyway?", "");
    c.answer("What would you like to do?", "");
    c.wait_for("Nothing was saved");
    c.answer("this screen will be cleared", "");
    let (out, code) = c.finish();
    assert_eq!(code, 0, "{out}");
    assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none());
}

fn us_locale(dir: &std::path::Path) -> Client {
    Client::launch_env(
        dir,
        (80, 24),
        None,
        &["--no-network"],
        &[],
        &[("LANG", "en_US.UTF-8"), ("LC_ALL", ""), ("LC_MESSAGES", "")],
    )
}

#[test]
fn a_country_from_the_locale_is_named_and_can_be_changed() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = us_locale(dir.path());
    c.begin(false);
    to_the_risk_questions(&mut c, None);
    // Before any yes: the support line, its country named, a way to change it.
    c.wait_for("Numbers for: United States (from this computer's settings)");
    c.wait_for("988");
    c.answer("Change the country for these numbers", "c");
    c.wait_for("Which country are you in?");
    // "Uni" then Enter: the United Kingdom, first by name.
    c.send("Uni");
    c.send("\r");
    // Chosen now: the numbers are the UK's, and no longer called a guess.
    c.wait_for("Samaritans");
    c.answer("have you wished you were dead", "2");
    std::thread::sleep(Duration::from_millis(100));
    c.send(CTRL_C);
    let (out, code) = c.finish();
    assert_eq!(code, 130, "{out}");
    assert!(!final_rows(&out, 24).contains("988"), "{out}");
}

#[test]
fn the_preview_opens_in_the_pager_with_the_recommendation_first() {
    if which("less").is_none() {
        eprintln!(
            "`less` is not installed: the pager walk is skipped (the inline preview is tested instead)."
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::launch_env(
        dir.path(),
        (80, 24),
        Some("GB"),
        &["--no-network"],
        &[],
        &[("PAGER", "less -R")],
    );
    c.begin(false);
    c.skip_to_the_end();
    c.wait_for("Press q to close this");
    c.send("q");
    // The choices screen keeps the recommendation in sight above the choice.
    c.wait_for("Your report is ready");
    let found = c.session.expect("What would you like to do?").unwrap();
    let above = strip_ansi(&String::from_utf8_lossy(found.before()));
    assert!(
        above.contains("Video sessions") || above.contains("video"),
        "the outcome above the choice: {above}"
    );
    c.answer("Read my report again", "r");
    c.wait_for("Press q to close this");
    c.send("q");
    c.answer("What would you like to do?", "1");
    let (out, code) = c.finish();
    assert_eq!(code, 0, "{out}");
}

#[test]
fn no_line_is_wider_than_the_screen_on_the_plan_prompts() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::start_sized(dir.path(), (60, 24), &[]);
    c.begin(false);
    c.skip_to_the_end_but_the_plan();
    c.answer("Would you like to make a plan now?", "1");
    // The help is drawn with the question; read everything up to its end.
    let found = c.session.expect("Esc leaves at once").unwrap();
    let drawn = strip_ansi(&String::from_utf8_lossy(found.before()));
    for line in drawn.lines() {
        assert!(
            line.chars().count() <= 60,
            "a line wider than 60 columns breaks mid-word: {line:?}"
        );
    }
    c.send(ESC);
    let (_, code) = c.finish();
    assert_eq!(code, 0);
}

fn which(program: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|p| p.is_file())
    })
}

#[test]
fn the_country_picker_knows_common_names_and_says_what_to_do_when_nothing_matches() {
    for (typed, number) in [
        ("England", "Samaritans"),
        ("USA", "988"),
        ("uk", "Samaritans"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut c = Client::start_unknown_region(dir.path(), (80, 24), &[]);
        c.answer("Is now a safe and private time", "1");
        c.wait_for("Which country are you in?");
        c.send("Narnia");
        // Nothing matches: the one item left says what Enter does.
        c.wait_for("not in this list");
        for _ in 0.."Narnia".len() {
            c.send("\x7f");
        }
        c.send(typed);
        c.send("\r");
        c.answer("Should your answers be kept", "1");
        to_the_risk_questions(&mut c, None);
        c.wait_for(number);
        c.send(ESC);
        let (_, code) = c.finish();
        assert_eq!(code, 0, "{typed}");
    }
}
