//! The walk driven directly, as any front-end drives it: no terminal, no
//! page, only screens and events.
use super::*;
use crate::questionnaire::{SKIPPED, bank};

fn fresh() -> Walk<'static> {
    Walk::resume(
        bank(),
        WalkState {
            opening: Some(Opening {
                title: "Getting ready".into(),
                text: "What happens.".into(),
                more: Some("The servers.".into()),
            }),
            ..WalkState::default()
        },
    )
}

fn question_id(walk: &Walk) -> String {
    match walk.screen() {
        Screen::Question(q) => q.question.id.clone(),
        other => panic!("expected a question, got {other:?}"),
    }
}

fn apply(walk: &mut Walk, event: Event) -> Applied {
    walk.apply(event.clone())
        .unwrap_or_else(|_| panic!("{event:?} not offered on {:?}", walk.screen()))
}

/// Past the safe-time gate, the country and keeping.
fn started() -> Walk<'static> {
    let mut walk = fresh();
    apply(&mut walk, Event::Answer("yes".into()));
    assert_eq!(walk.screen(), Screen::Region);
    apply(&mut walk, Event::Region(Some("GB".into())));
    assert_eq!(walk.screen(), Screen::Keep);
    apply(&mut walk, Event::Keep(false));
    walk
}

/// Answer every question with its first option (entering every part) until `stop_at`.
fn answer_until(walk: &mut Walk, stop_at: &str) {
    loop {
        match walk.screen() {
            Screen::Question(q) if q.question.id == stop_at => return,
            Screen::Question(q) => {
                let first = q.question.options[0].id.clone();
                apply(walk, Event::Answer(first));
            }
            Screen::PartIntro { .. } | Screen::Watched { .. } | Screen::Crisis { .. } => {
                apply(walk, Event::Continue);
            }
            other => panic!("did not reach {stop_at}: {other:?}"),
        }
    }
}

#[test]
fn the_first_screen_is_the_safe_time_question_under_the_opening_with_nothing_chosen() {
    let walk = fresh();
    let Screen::Question(q) = walk.screen() else {
        panic!("{:?}", walk.screen())
    };
    assert_eq!(q.question.id, SAFE_NOW);
    assert_eq!(q.opening.as_ref().unwrap().title, "Getting ready");
    let (choices, start) = walk.choices(&walk.screen());
    // The held choice records a skip, never an answer; no back or pause yet.
    assert_eq!(choices[start].event, Event::Skip);
    assert!(!choices.iter().any(|c| c.event == Event::Back));
    assert!(!choices.iter().any(|c| c.event == Event::Pause));
    assert!(choices.iter().any(|c| c.event == Event::More));
    assert!(!walk.crisis_in_sight());
}

#[test]
fn an_empty_submit_records_nothing() {
    let mut walk = started();
    let before = walk.state();
    // What a page sends when the client submits with no radio chosen, or a
    // doctored form: nothing offered, nothing recorded.
    assert_eq!(walk.apply(Event::Answer(String::new())), Err(NotHere));
    assert_eq!(walk.apply(Event::Answer("maybe".into())), Err(NotHere));
    assert_eq!(walk.apply(Event::Keep(true)), Err(NotHere));
    assert_eq!(walk.apply(Event::PlanText("x".into())), Err(NotHere));
    assert_eq!(walk.state(), before);
}

#[test]
fn the_opening_details_and_why_are_shown_on_request_then_once() {
    let mut walk = fresh();
    assert_eq!(apply(&mut walk, Event::More), Applied { save: false });
    let Screen::Question(q) = walk.screen() else {
        panic!()
    };
    assert!(q.show_more);
    let (choices, _) = walk.choices(&walk.screen());
    assert!(!choices.iter().any(|c| c.event == Event::More));
    apply(&mut walk, Event::Why);
    let Screen::Question(q) = walk.screen() else {
        panic!()
    };
    assert!(q.show_why && !q.show_more);
    assert!(walk.flow.state.answers.is_empty());
}

#[test]
fn country_and_keeping_are_asked_once_after_the_safe_time_question() {
    let mut walk = started();
    assert_eq!(walk.region(), Some("GB"));
    assert_eq!(walk.keep(), Some(false));
    // The easy first part starts with its introduction above its question.
    let Screen::Question(q) = walk.screen() else {
        panic!()
    };
    assert_eq!(q.question.id, "setup.connection");
    assert!(q.intro.is_some());
    assert!(q.opening.is_none());
    apply(&mut walk, Event::Answer("wired".into()));
    let Screen::Question(q) = walk.screen() else {
        panic!()
    };
    assert!(q.intro.is_none(), "the introduction is shown once");
    // "Somewhere else" gives the international numbers.
    let mut walk = fresh();
    apply(&mut walk, Event::Answer("yes".into()));
    apply(&mut walk, Event::Region(None));
    assert_eq!(walk.region(), Some(crate::crisis::FALLBACK_REGION));
}

#[test]
fn back_returns_to_the_last_answer_and_remembers_it() {
    let mut walk = started();
    apply(&mut walk, Event::Answer("mobile".into()));
    assert_eq!(question_id(&walk), "setup.backup_phone");
    assert_eq!(apply(&mut walk, Event::Back), Applied { save: true });
    let Screen::Question(q) = walk.screen() else {
        panic!()
    };
    assert_eq!(q.question.id, "setup.connection");
    assert_eq!(q.previous.as_deref(), Some("mobile"));
    let (choices, start) = walk.choices(&walk.screen());
    assert_eq!(choices[start].event, Event::Answer("mobile".into()));
    assert!(!walk.flow.state.answers.contains_key("setup.connection"));
    apply(&mut walk, Event::Answer("wifi".into()));
    assert_eq!(walk.flow.state.answers["setup.connection"], "wifi");
}

#[test]
fn skip_records_a_skip_and_skip_part_skips_the_whole_part() {
    let mut walk = started();
    apply(&mut walk, Event::Skip);
    assert_eq!(walk.flow.state.answers["setup.connection"], SKIPPED);
    answer_until(&mut walk, "privacy.headphones");
    apply(&mut walk, Event::Answer("yes".into()));
    let Screen::PartIntro { section, count } = walk.screen() else {
        panic!("{:?}", walk.screen())
    };
    assert_eq!(section.id, "home");
    assert_eq!(count, 2);
    let (choices, start) = walk.choices(&walk.screen());
    assert_eq!(
        choices[start].event,
        Event::SkipPart,
        "skipping holds the cursor"
    );
    apply(&mut walk, Event::SkipPart);
    assert_eq!(walk.flow.state.answers["home.feels_safe"], SKIPPED);
    assert_eq!(walk.flow.state.answers["home.monitored"], SKIPPED);
    // Back at a part's introduction lands on the question before it.
    answer_until(&mut walk, "risk.asq1");
    let mut walk2 = started();
    answer_until(&mut walk2, "privacy.headphones");
    apply(&mut walk2, Event::Answer("yes".into()));
    apply(&mut walk2, Event::Back);
    assert_eq!(question_id(&walk2), "privacy.headphones");
}

#[test]
fn pause_ends_the_walk_and_the_kept_state_resumes_exactly() {
    let mut walk = started();
    apply(&mut walk, Event::Answer("wired".into()));
    apply(&mut walk, Event::Why);
    let saved = serde_json::to_string(&walk.state()).unwrap();
    let resumed = Walk::resume(bank(), serde_json::from_str(&saved).unwrap());
    assert_eq!(resumed.screen(), walk.screen());
    assert_eq!(resumed.state(), walk.state());
    assert_eq!(apply(&mut walk, Event::Pause), Applied { save: false });
    assert_eq!(walk.screen(), Screen::Ended(Ending::Paused));
    assert_eq!(
        walk.apply(Event::Back),
        Err(NotHere),
        "nothing after the end"
    );
    // A draft keeps only the flow: resumed from it, the walk goes on at the
    // same question without asking the country or keeping again.
    let flow_only = WalkState {
        flow: walk.state().flow,
        region: Some("GB".into()),
        keep: Some(true),
        ..WalkState::default()
    };
    let resumed = Walk::resume(bank(), flow_only);
    assert_eq!(question_id(&resumed), "setup.backup_phone");
}

#[test]
fn not_a_safe_time_offers_to_leave_and_forgets_the_no() {
    let mut walk = fresh();
    apply(&mut walk, Event::Answer("no".into()));
    assert_eq!(walk.screen(), Screen::NotNow);
    apply(&mut walk, Event::Leave);
    assert_eq!(walk.screen(), Screen::Ended(Ending::NotNow));
    assert!(walk.flow.state.answers.is_empty());
    let mut walk = fresh();
    apply(&mut walk, Event::Answer("no".into()));
    apply(&mut walk, Event::Continue);
    assert_eq!(walk.screen(), Screen::Region);
}

#[test]
fn a_risk_yes_brings_the_support_screen_and_keeps_resources_in_sight() {
    let mut walk = started();
    answer_until(&mut walk, "risk.asq1");
    let Screen::Question(q) = walk.screen() else {
        panic!()
    };
    assert!(q.support_line.as_deref().unwrap().contains("Samaritans"));
    assert!(!walk.crisis_in_sight());
    apply(&mut walk, Event::Answer("yes".into()));
    assert_eq!(walk.screen(), Screen::Crisis { acute: false });
    assert!(walk.crisis_in_sight());
    apply(&mut walk, Event::Continue);
    for id in ["risk.asq2", "risk.asq3", "risk.asq4"] {
        assert_eq!(question_id(&walk), id);
        apply(&mut walk, Event::Answer("no".into()));
    }
    // Item 5 follows a yes; a yes there brings the screen again, urgently.
    assert_eq!(question_id(&walk), "risk.asq5");
    apply(&mut walk, Event::Answer("yes".into()));
    assert_eq!(walk.screen(), Screen::Crisis { acute: true });
    // Going back and taking the yes back does not hide the numbers again.
    apply(&mut walk, Event::Continue);
    while question_id(&walk) != "risk.asq1" {
        apply(&mut walk, Event::Back);
    }
    apply(&mut walk, Event::Answer("no".into()));
    assert!(walk.crisis_in_sight());
    // Finishing early is the client's choice on the support screen.
    let mut walk = started();
    answer_until(&mut walk, "risk.asq1");
    apply(&mut walk, Event::Answer("yes".into()));
    apply(&mut walk, Event::FinishNow);
    assert_eq!(walk.ended(), Some(Ending::FinishedEarly));
}

#[test]
fn a_home_that_may_be_watched_stops_keeping_and_says_so_once() {
    let mut walk = fresh();
    apply(&mut walk, Event::Answer("yes".into()));
    apply(&mut walk, Event::Region(Some("GB".into())));
    apply(&mut walk, Event::Keep(true));
    answer_until(&mut walk, "home.monitored");
    let applied = apply(&mut walk, Event::Answer("yes".into()));
    assert!(applied.save, "the draft is deleted at once");
    assert_eq!(walk.keep(), Some(false));
    assert_eq!(
        walk.screen(),
        Screen::Watched {
            was_kept: true,
            clinic_key: false
        }
    );
    apply(&mut walk, Event::Continue);
    assert!(walk.watched());
    assert!(matches!(
        walk.screen(),
        Screen::PartIntro { .. } | Screen::Question(_)
    ));
}

#[test]
fn the_plan_is_offered_then_free_text_is_kept_clean_and_bounded() {
    let mut walk = started();
    answer_until(&mut walk, "risk.asq1");
    for _ in 0..5 {
        apply(&mut walk, Event::Answer("no".into()));
    }
    assert_eq!(walk.screen(), Screen::PlanIntro);
    let (choices, start) = walk.choices(&walk.screen());
    assert_eq!(choices[start].event, Event::SkipPart);
    apply(&mut walk, Event::Continue);
    let Screen::PlanPrompt(p) = walk.screen() else {
        panic!()
    };
    assert_eq!(p.id, "place");
    assert_eq!(walk.apply(Event::Answer("x".into())), Err(NotHere));
    apply(&mut walk, Event::PlanText("kitchen\x1b[2J".into()));
    apply(&mut walk, Event::Back);
    let long = "a".repeat(crate::safe_text::MAX_FIELD_CHARS + 50);
    apply(&mut walk, Event::PlanText(long));
    assert_eq!(
        walk.flow.state.plan["place"]
            .as_ref()
            .unwrap()
            .chars()
            .count(),
        crate::safe_text::MAX_FIELD_CHARS
    );
    apply(&mut walk, Event::PlanText("   ".into()));
    assert_eq!(walk.flow.state.plan["comfort_items"], None);
    while let Screen::PlanPrompt(_) = walk.screen() {
        apply(&mut walk, Event::PlanText(String::new()));
    }
    assert_eq!(walk.screen(), Screen::Ended(Ending::Completed));
}

#[test]
fn quick_exit_is_accepted_on_every_screen_and_saves_nothing() {
    let mut walk = started();
    assert_eq!(apply(&mut walk, Event::QuickExit), Applied { save: false });
    assert_eq!(walk.ended(), Some(Ending::QuickExit));
    let mut walk = fresh();
    apply(&mut walk, Event::Answer("no".into()));
    apply(&mut walk, Event::QuickExit);
    assert_eq!(walk.ended(), Some(Ending::QuickExit));
}

/// The resume offer names the day the client paused in their own time zone:
/// late evening UTC is the next morning in Sydney.
#[test]
fn the_resume_offer_gives_the_local_day() {
    let sydney = jiff::tz::TimeZone::get("Australia/Sydney").unwrap();
    let at = "2026-01-15T22:30:00Z";
    let words = resume_words(crate::when::in_zone(at, &sydney), at, 3);
    assert_eq!(
        words,
        "You paused a check on 2026-01-16, with 3 questions answered."
    );
    assert!(resume_words(None, at, 1).contains("on 2026-01-15, with 1 question answered"));
}
