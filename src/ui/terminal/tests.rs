//! The terminal front-end driven by a scripted client (line mode), so the
//! drawing of every kind of screen is checked without a terminal: the frame
//! above the question, last on a farewell, nothing after the quick exit.
use super::*;
use crate::crisis::RegionSources;
use crate::questionnaire::prompt::LinePrompter;
use crate::visit::storage::Memory;
use crate::visit::{FrontEnd, VisitPlan};

struct Nothing;

impl Background for Nothing {
    fn start(&mut self) {}
    fn finish(&mut self) -> Measured {
        Measured::default()
    }
}

fn plan() -> VisitPlan {
    VisitPlan {
        front_end: FrontEnd::Terminal { plain: true },
        regions: RegionSources {
            flag: Some("GB".into()),
            ..RegionSources::default()
        },
        clinic: None,
        client_ref: None,
        clinic_key: false,
        output_named: false,
        servers: None,
        media: false,
        network_source: None,
        come_back: "session-ready check".into(),
        office_hours: None,
    }
}

/// Run a visit against typed lines; what was shown, how it ended, the store.
fn run_script(storage: Memory, script: &str) -> (String, End, Memory) {
    let style = Style::decide(false, true, true);
    let mut prompter = LinePrompter::new(script.as_bytes(), Vec::new());
    let mut visit = Visit::new(plan(), storage);
    let end = run(&mut visit, &mut prompter, style, &mut Nothing);
    let shown = String::from_utf8(prompter.into_output()).unwrap();
    (shown, end, visit.storage().clone())
}

/// Safe now, keep answers (yes), every setup and privacy question answered
/// "1", the home part skipped, isolation "1" and "2", into the risk part.
const TO_RISK: &str = "1\n2\n1\n1\n1\n1\n1\ns\n1\n1\n1\n1\n2\n1\n";

#[test]
fn a_whole_check_with_a_plan_ends_with_the_numbers_last() {
    let script = format!(
        "{TO_RISK}2\n2\n2\n2\n2\n1\nthe armchair\n\nraise a hand\n\nring my mobile\n1\n1\n"
    );
    let (shown, end, store) = run_script(Memory::default(), &script);
    assert_eq!(end, End::Done, "{shown}");
    let last = shown.rsplit(crate::term::CLEAR_SCREEN).next().unwrap();
    assert!(last.contains("Nothing was saved."), "{last}");
    // The numbers are the last lines left on the screen.
    let tail: Vec<&str> = last.trim_end().lines().rev().take(4).collect();
    assert!(tail.iter().any(|l| l.contains("Shout")), "{last}");
    assert!(store.draft.is_none(), "a finished check keeps no draft");
}

#[test]
fn after_a_yes_every_screen_starts_with_the_numbers_and_stopping_ends_with_them() {
    // ASQ 1 yes, carry on, then the input ends (the terminal closed).
    let script = format!("{TO_RISK}1\n1\n");
    let (shown, end, store) = run_script(Memory::default(), &script);
    assert_eq!(end, End::Stopped);
    let screens: Vec<&str> = shown.split(crate::term::CLEAR_SCREEN).collect();
    let after_yes = screens
        .iter()
        .position(|s| s.contains("Support is available now"))
        .expect("the support screen");
    for screen in &screens[after_yes..] {
        assert!(screen.contains("call 999"), "no 999 on:\n{screen}");
        assert!(screen.contains("116 123"), "no Samaritans on:\n{screen}");
    }
    let last = screens.last().unwrap();
    assert!(
        last.contains("Stopped. Your answers so far are kept"),
        "{last}"
    );
    let stopped = last.find("Stopped.").unwrap();
    assert!(
        last.rfind("call 999").unwrap() > stopped,
        "numbers last: {last}"
    );
    assert!(store.draft.is_some(), "kept, as the client agreed");
}

#[test]
fn the_quick_exit_leaves_nothing_on_screen() {
    let (shown, end, _) = run_script(Memory::default(), &format!("{TO_RISK}1\nq\n"));
    assert_eq!(end, End::QuickExit);
    let last = shown.rsplit(crate::term::CLEAR_SCREEN).next().unwrap();
    assert!(last.trim().is_empty(), "{last:?}");
}

#[test]
fn a_kept_yes_brings_the_numbers_to_welcome_back_and_not_now() {
    let (_, _, store) = run_script(Memory::default(), &format!("{TO_RISK}1\n1\np\n"));
    assert!(store.draft.is_some());
    let (shown, end, store) = run_script(store, "n\n");
    assert_eq!(end, End::Done);
    let screens: Vec<&str> = shown.split(crate::term::CLEAR_SCREEN).collect();
    let welcome = screens.iter().find(|s| s.contains("Welcome back")).unwrap();
    assert!(
        welcome.find("call 999") < welcome.find("Welcome back"),
        "{welcome}"
    );
    let last = screens.last().unwrap();
    assert!(last.contains("Your answers are still kept"), "{last}");
    assert!(last.contains("116 123") && last.contains("85258"), "{last}");
    assert!(store.draft.is_some(), "not now keeps the answers");
}

#[test]
fn a_refused_plan_entry_is_asked_again_with_nothing_lost() {
    let script = format!("{TO_RISK}2\n2\n2\n2\n2\n1\nsofa\u{1b}[2J\n");
    let (shown, _, _) = run_script(Memory::default(), &script);
    let screens: Vec<&str> = shown.split(crate::term::CLEAR_SCREEN).collect();
    // The plan prompt again, saying what was wrong; the input then ended.
    let again = screens[screens.len() - 2];
    assert!(again.contains("Where would you like to sit"), "{again}");
    assert!(again.contains("What you typed"), "{again}");
}
