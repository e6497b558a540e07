//! The interactive walk driven by a scripted client (line mode), so every
//! path is checked without a terminal: answer, skip, why, back, pause, quick
//! exit, the safety gate, and crisis resources on a yes.
use super::*;
use crate::questionnaire::flow::FlowState;
use crate::questionnaire::prompt::LinePrompter;
use crate::questionnaire::{SKIPPED, bank};

struct Outcome {
    ending: Ending,
    state: FlowState,
    screen: String,
    saves: usize,
}

fn walk_from(state: FlowState, script: &str) -> Outcome {
    let style = Style::decide(false, true, true);
    let mut prompter = LinePrompter::new(script.as_bytes(), Vec::new());
    let mut saves = 0;
    let mut save = |_: Snapshot| saves += 1;
    let (ending, state) = {
        let mut session = Session::new(
            Flow::resume(bank(), state),
            &mut prompter,
            style,
            Some("GB".to_string()),
            &mut save,
        );
        let ending = session.run();
        (ending, session.flow.state.clone())
    };
    Outcome {
        ending,
        state,
        screen: String::from_utf8(prompter.into_output()).unwrap(),
        saves,
    }
}

fn walk(script: &str) -> Outcome {
    walk_from(FlowState::default(), script)
}

/// Lines that take a client from the start to the first risk question, with
/// everything answered "1" (first option) and every part entered.
const TO_RISK: &str = "1\n1\n1\n1\n1\n1\n1\n1\n1\n1\n1\n1\n1\n1\n1\n";

#[test]
fn a_whole_walk_with_answers_skips_and_a_plan() {
    // safe_now, 2 setup Qs, 3 privacy Qs (private → no alt), home safety check,
    // 2 Qs, 5 isolation Qs, risk safety check, asq1-4 "no", recent "no", plan
    // intro, 5 plan answers (one left out).
    let mut script = String::new();
    script.push_str("1\n"); // safe now: yes
    script.push_str("1\ns\n"); // wired; skip backup phone
    script.push_str("1\n1\n1\n"); // private; alone; headphones yes
    script.push_str("1\n1\n1\n"); // home part (safety check); safe; monitored no
    script.push_str("1\n1\n1\n3\n2\n"); // isolation
    script.push_str("1\n2\n2\n2\n2\n2\n"); // risk part; all no
    script.push_str("1\nthe armchair\nblanket\nraise a hand\n\ncall my mobile\n");
    let out = walk(&script);
    assert_eq!(out.ending, Ending::Completed, "{}", out.screen);
    assert_eq!(out.state.answers["setup.backup_phone"], SKIPPED);
    assert_eq!(out.state.answers["risk.asq4"], "no");
    assert!(!out.state.answers.contains_key("risk.asq5"));
    assert_eq!(out.state.plan["place"].as_deref(), Some("the armchair"));
    assert_eq!(out.state.plan["nearby_contact"], None);
    assert!(out.saves > 20);
    // Sensitive parts ask the safety question first.
    assert_eq!(
        out.screen
            .matches("Is now still a safe and private time to answer these?")
            .count(),
        2
    );
    assert!(!out.screen.contains("Support is available now"));
}

#[test]
fn why_shows_the_reason_then_asks_the_same_question() {
    let out = walk("1\nw\n");
    assert_eq!(out.ending, Ending::Stopped);
    assert!(
        out.screen
            .contains("Why we ask this: A cable is usually steadier")
    );
    assert!(!out.state.answers.contains_key("setup.connection"));
}

#[test]
fn back_returns_to_the_previous_question_and_replaces_its_answer() {
    // safe now yes, connection wired, then back, then wifi.
    let out = walk("1\n1\nb\n2\n");
    assert_eq!(out.state.answers["setup.connection"], "wifi");
    assert_eq!(out.ending, Ending::Stopped);
}

#[test]
fn pause_stops_with_everything_kept_for_a_draft() {
    let out = walk("1\n3\np\n");
    assert_eq!(out.ending, Ending::Paused);
    assert_eq!(out.state.answers["setup.connection"], "mobile");
}

#[test]
fn the_first_question_offers_no_going_back_and_easy_parts_need_no_extra_step() {
    let out = walk("");
    let first = out.screen.find("Is now a safe and private time").unwrap();
    assert!(!out.screen[first..].contains("Go back"), "{}", out.screen);
    let out = walk("1\n");
    let setup = out.screen.find("Your setup · question 2").unwrap();
    assert!(out.screen[setup..].contains("Two questions about how you will join the call"));
    assert!(!out.screen.contains("Ready to go on"));
}

#[test]
fn quick_exit_and_closed_input() {
    assert_eq!(walk("1\nq\n").ending, Ending::QuickExit);
    assert_eq!(walk("1\n").ending, Ending::Stopped);
}

#[test]
fn not_a_safe_time_offers_to_leave_and_forgets_the_no() {
    let out = walk("2\n1\n");
    assert_eq!(out.ending, Ending::NotNow);
    assert!(out.screen.contains("That is completely okay"));
    assert!(out.state.answers.is_empty());
    // Or carry on anyway.
    let out = walk("2\n2\n1\n");
    assert_eq!(out.state.answers["start.safe_now"], "no");
    assert_eq!(out.state.answers["setup.connection"], "wired");
}

#[test]
fn skipping_a_sensitive_part_records_skips() {
    // safe, 2 setup, 3 privacy, then skip the home part.
    let out = walk("1\n1\n1\n1\n1\n1\ns\n");
    assert_eq!(out.state.answers["home.feels_safe"], SKIPPED);
    assert_eq!(out.state.answers["home.monitored"], SKIPPED);
}

#[test]
fn a_yes_shows_crisis_resources_at_once_and_item_5_follows() {
    let script = format!("{TO_RISK}1\n1\n");
    let out = walk(&script);
    assert_eq!(out.state.answers["risk.asq1"], "yes", "{}", out.screen);
    let shown = out
        .screen
        .find("Support is available now")
        .expect("crisis screen");
    assert!(out.screen[shown..].contains("116 123"));
    assert!(out.screen[shown..].contains("immediate danger"));
    // asq2-4 no, then item 5 is asked.
    let script = format!("{TO_RISK}1\n1\n2\n2\n2\n");
    let out = walk(&script);
    assert!(
        out.screen
            .contains("Are you having thoughts of killing yourself right now?")
    );
}

#[test]
fn an_acute_yes_shows_resources_again_and_finishing_early_is_allowed() {
    // asq1 yes → crisis (continue), asq2-4 no, asq5 yes → crisis (finish now).
    let script = format!("{TO_RISK}1\n1\n2\n2\n2\n1\n2\n");
    let out = walk(&script);
    assert_eq!(out.ending, Ending::FinishedEarly, "{}", out.screen);
    assert_eq!(out.state.answers["risk.asq5"], "yes");
    assert_eq!(out.screen.matches("Support is available now").count(), 2);
    assert!(out.screen.contains("talk with someone today"));
}

#[test]
fn risk_questions_keep_a_support_line_in_view() {
    let script = format!("{TO_RISK}q\n");
    let out = walk(&script);
    let risk_q = out
        .screen
        .rfind("In the past few weeks, have you wished")
        .unwrap();
    let line = out.screen[..risk_q]
        .rfind("Support is there if you need it. Samaritans")
        .unwrap();
    assert!(line < risk_q);
}

#[test]
fn resuming_a_draft_starts_where_it_stopped() {
    let first = walk("1\n3\np\n");
    let out = walk_from(first.state.clone(), "2\n");
    // The next question after setup.connection is the backup phone.
    let asked = out
        .screen
        .find("is there a phone your therapist could call")
        .unwrap();
    assert!(!out.screen[..asked].contains("How will this device be connected"));
    assert_eq!(out.state.answers["setup.backup_phone"], "no");
}

#[test]
fn plan_text_can_go_back_and_be_left_out() {
    let mut script = String::from(TO_RISK);
    script.push_str("2\n2\n2\n2\n2\n"); // asq1-4 no, recent no
    script.push_str("1\nkitchen\nback\nbedroom\n"); // plan: place, back, place again
    let out = walk(&script);
    assert_eq!(out.state.plan["place"].as_deref(), Some("bedroom"));
    // Leaving the whole plan.
    let mut script = String::from(TO_RISK);
    script.push_str("2\n2\n2\n2\n2\ns\n");
    let out = walk(&script);
    assert_eq!(out.ending, Ending::Completed);
    assert!(out.state.plan.values().all(Option::is_none));
}

#[test]
fn going_back_from_a_safety_check_returns_to_the_last_question() {
    // safe, 2 setup, 3 privacy, then "go back" at the home safety check, change headphones.
    let out = walk("1\n1\n1\n1\n1\n1\nb\n2\n1\n");
    assert_eq!(out.state.answers["privacy.headphones"], "no");
    assert_eq!(
        out.screen
            .matches("Is now still a safe and private time")
            .count(),
        2
    );
}

/// A walk as the interactive check starts it: region unknown, keeping not
/// yet asked. Returns the ending, the screen, the region chosen and every
/// "keep" the save hook saw, in order.
fn first_walk(script: &str) -> (Ending, String, Option<String>, Vec<bool>) {
    let style = Style::decide(false, true, true);
    let mut prompter = LinePrompter::new(script.as_bytes(), Vec::new());
    let mut keeps = Vec::new();
    let mut save = |s: Snapshot| keeps.push(s.keep);
    let (ending, region) = {
        let mut session = Session::new(Flow::new(bank()), &mut prompter, style, None, &mut save);
        session.keep = None;
        let ending = session.run();
        (ending, session.region.clone())
    };
    let screen = String::from_utf8(prompter.into_output()).unwrap();
    (ending, screen, region, keeps)
}

#[test]
fn the_country_and_keeping_are_asked_once_after_is_now_safe() {
    // safe now: yes; country by the first letters; keep: yes; then stop.
    let (ending, screen, region, keeps) = first_walk("1\nunited k\n2\n");
    assert_eq!(ending, Ending::Stopped);
    assert_eq!(region.as_deref(), Some("GB"));
    let safe = screen.find("Is now a safe and private time").unwrap();
    let country = screen.find("Which country are you in?").unwrap();
    let keep = screen.find("Should your answers be kept").unwrap();
    assert!(safe < country && country < keep, "{screen}");
    assert_eq!(keeps.last(), Some(&true), "kept once the client agreed");
    // The risk part's support line is then the chosen country's.
    assert_eq!(screen.matches("Which country are you in?").count(), 1);
}

#[test]
fn a_home_that_may_be_watched_stops_keeping_answers_at_once() {
    let mut script = String::from("1\n0\n2\n"); // safe; somewhere else; keep: yes
    script.push_str("1\ns\n1\n1\n1\n"); // setup and privacy
    script.push_str("1\n1\n2\n"); // home part; feels safe; monitored: yes
    let (_, screen, region, keeps) = first_walk(&script);
    assert_eq!(region.as_deref(), Some(crate::crisis::FALLBACK_REGION));
    assert!(screen.contains("Keeping this private"), "{screen}");
    assert!(screen.contains("have been deleted"), "{screen}");
    let first_keep = keeps.iter().position(|k| *k).unwrap();
    let withdrawn = keeps[first_keep..].iter().position(|k| !*k).unwrap() + first_keep;
    assert!(keeps[withdrawn..].iter().all(|k| !*k), "{keeps:?}");
}
