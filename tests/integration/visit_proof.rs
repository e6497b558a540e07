//! The safety rules of a visit, proven over every screen a client can reach
//! rather than checked screen by screen: random clients (answering, skipping,
//! going back, pausing and resuming, stopping, leaving quickly, saving) walk
//! visits in every set-up, and every screen they meet is checked:
//! - once any risk answer is yes, the frame holds the region's emergency
//!   number and its whole support list, and the terminal's drawing shows
//!   every one of them (above the question, or last on a farewell);
//! - the end of a check always shows them; only the quick exit clears all;
//! - the choice holding the cursor never records an answer the client did
//!   not give before, never goes into a sensitive part, never keeps answers
//!   and never saves a copy someone at home could open;
//! - a copy without a lock is never saved in a watched home without its own
//!   confirmation;
//! - a link to carry on (the hosted check) is shown only by the hosted check,
//!   only on a farewell, only while answers are kept behind it, and in a
//!   watched home only if the client asked for it there;
//! - the page draws the same: every number in its box on every page (the
//!   media step included) once they apply, nothing after the quick exit,
//!   the neutral title in a watched home, and every choice the screen offers
//!   as a form that comes back as that very choice.
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use session_ready::crisis::{self, RegionSources};
use session_ready::page::{check, draw, html};
use session_ready::questionnaire::draft::Draft;
use session_ready::questionnaire::walk::Event;
use session_ready::report::saving::SaveChoice;
use session_ready::term::Style;
use session_ready::visit::Storage;
use session_ready::visit::storage::Memory;
use session_ready::visit::{Action, Ask, Block, FrontEnd, Measured, Screen, Visit, VisitPlan};

#[derive(Debug, Clone)]
struct SetUp {
    front_end: FrontEnd,
    regions: RegionSources,
    clinic_key: bool,
    output_named: bool,
    nowhere: bool,
    unreadable: bool,
    draft_fails: bool,
    /// How the client tends to choose: 0 anything, 1 mostly answers, 2 mostly "yes".
    mood: u8,
}

fn set_up() -> impl Strategy<Value = SetUp> {
    (0..4u8, 0..4u8, any::<bool>(), any::<bool>(), 0..8u8, 0..3u8).prop_map(
        |(front, region, clinic_key, output_named, odd, mood)| SetUp {
            front_end: match front {
                0 => FrontEnd::Terminal { plain: false },
                1 => FrontEnd::Terminal { plain: true },
                2 => FrontEnd::Page,
                _ => FrontEnd::Hosted,
            },
            regions: match region {
                0 => RegionSources {
                    flag: Some("GB".into()),
                    ..RegionSources::default()
                },
                1 => RegionSources {
                    locale: Some("US".into()),
                    ..RegionSources::default()
                },
                2 => RegionSources {
                    clinic: Some("IE".into()),
                    ..RegionSources::default()
                },
                _ => RegionSources::default(),
            },
            clinic_key,
            output_named,
            // The hosted store always has somewhere to keep (sealed, behind
            // a link) and never holds a file it cannot read.
            nowhere: odd == 1 && front != 3,
            unreadable: odd == 2 && front != 3,
            draft_fails: odd == 3,
            mood,
        },
    )
}

fn plan(s: &SetUp) -> VisitPlan {
    VisitPlan {
        front_end: s.front_end,
        regions: s.regions.clone(),
        clinic: None,
        client_ref: None,
        clinic_key: s.clinic_key,
        output_named: s.output_named,
        servers: Some(vec!["127.0.0.1".into()]),
        media: s.front_end == FrontEnd::Page,
        network_source: None,
        come_back: "session-ready check".into(),
        office_hours: None,
    }
}

fn has_yes(draft: Option<&Draft>) -> bool {
    draft.is_some_and(|d| {
        d.state
            .answers
            .iter()
            .any(|(q, a)| q.starts_with("risk.") && a == "yes")
    })
}

/// What the proof saw, across every client.
#[derive(Default)]
struct Seen {
    /// Screen id (question ids kept whole) → how often.
    screens: BTreeMap<String, usize>,
    /// Distinct (screen, frame shown, region note, watched) states.
    states: BTreeSet<String>,
    screens_checked: usize,
    /// Hosted farewells with a link to carry on.
    links: usize,
}

struct Client<'a> {
    set_up: &'a SetUp,
    picks: &'a [u16],
    at: usize,
    seen: &'a RefCell<Seen>,
    /// The client asked, in a watched home, for answers to be kept.
    asked_watched: bool,
}

impl Client<'_> {
    fn next_pick(&mut self) -> Option<u16> {
        let pick = self.picks.get(self.at).copied();
        self.at += 1;
        pick
    }

    /// Walk up to three visits (resuming kept answers) until the picks run out.
    fn walk(&mut self) -> Result<(), TestCaseError> {
        let mut storage = Memory {
            nowhere: self.set_up.nowhere,
            unreadable: self.set_up.unreadable.then(|| "it is not JSON.".into()),
            draft_fails: self.set_up.draft_fails,
            taken: vec!["taken.json".into()],
            ..Memory::default()
        };
        for _ in 0..3 {
            let mut visit = Visit::new(plan(self.set_up), storage.clone());
            // A yes kept from before counts from the first screen.
            let mut yes = has_yes(storage.draft.as_ref());
            let mut confirmed = false;
            let saved_before = storage.saved.len();
            loop {
                let screen = visit.screen();
                self.check(&visit, &screen, yes)?;
                if let Ask::Nothing = screen.ask {
                    break;
                }
                let Some(pick) = self.next_pick() else {
                    return Ok(());
                };
                let action = match &screen.ask {
                    Ask::Wait => {
                        visit.measured(Measured::default());
                        continue;
                    }
                    Ask::Media if pick.is_multiple_of(13) => Action::Stop,
                    Ask::Media => Action::MediaDone,
                    _ => self.choose(&screen, pick),
                };
                match &action {
                    Action::Walk(Event::Answer(a)) if screen.id.starts_with("q-risk.") => {
                        yes |= a == "yes";
                    }
                    // The kept answers, and any yes in them, are deleted.
                    Action::StartAgain => yes = false,
                    Action::ConfirmUnlocked => confirmed = true,
                    Action::BackToChoices => confirmed = false,
                    Action::KeepOnPause(true) if visit.watched() => self.asked_watched = true,
                    _ => {}
                }
                if std::env::var_os("VISIT_PROOF_TRACE").is_some() {
                    eprintln!("{} -> {:?} (yes={yes})", screen.id, action);
                }
                visit.act(action);
                let unlocked = visit
                    .storage()
                    .saved
                    .iter()
                    .skip(saved_before)
                    .any(|(_, _, watched)| *watched && !self.set_up.clinic_key);
                prop_assert!(
                    !unlocked || confirmed,
                    "an unlocked copy was saved in a watched home without its own yes"
                );
            }
            storage = visit.storage().clone();
            if storage.draft.is_none() {
                return Ok(());
            }
        }
        Ok(())
    }

    fn choose(&self, screen: &Screen, pick: u16) -> Action {
        if pick.is_multiple_of(97) {
            return Action::Stop;
        }
        if pick.is_multiple_of(89) {
            return Action::QuickExit;
        }
        let choices = screen.ask.choices();
        if let Ask::Text { field, .. } = &screen.ask {
            let names = [
                "",
                "taken.json",
                "-",
                "mine.json",
                "a\u{1b}[2Jb",
                "the armchair",
            ];
            if !pick.is_multiple_of(3) || choices.is_empty() {
                return field.action(names[usize::from(pick) % names.len()].to_string());
            }
        }
        let preferred: Vec<&Action> = match self.set_up.mood {
            1 => choices
                .iter()
                .filter(|c| c.records)
                .map(|c| &c.action)
                .collect(),
            2 => choices
                .iter()
                .filter(|c| {
                    matches!(&c.action, Action::Walk(Event::Answer(a)) if a == "yes")
                        || matches!(&c.action, Action::Walk(Event::Continue | Event::Keep(_)))
                })
                .map(|c| &c.action)
                .collect(),
            _ => Vec::new(),
        };
        if !preferred.is_empty() && !pick.is_multiple_of(5) {
            return preferred[usize::from(pick / 5) % preferred.len()].clone();
        }
        choices[usize::from(pick) % choices.len()].action.clone()
    }

    fn check(
        &self,
        visit: &Visit<Memory>,
        screen: &Screen,
        yes: bool,
    ) -> Result<(), TestCaseError> {
        if let Some(href) = screen.body.iter().find_map(|b| match b {
            Block::Link { href, .. } => Some(href),
            _ => None,
        }) {
            self.seen.borrow_mut().links += 1;
            prop_assert_eq!(
                self.set_up.front_end,
                FrontEnd::Hosted,
                "a link on {}",
                &screen.id
            );
            prop_assert!(
                screen.ask == Ask::Nothing,
                "a link before the end: {}",
                &screen.id
            );
            prop_assert!(visit.storage().kept(), "a link with nothing behind it");
            prop_assert_eq!(Some(href.clone()), visit.storage().place());
            prop_assert!(
                !visit.watched() || self.asked_watched,
                "a link in a watched home the client did not ask for, on {}",
                &screen.id
            );
            prop_assert!(
                page_drawing(screen).contains(&format!("<a href=\"{href}\">")),
                "the page draws the link on {}",
                &screen.id
            );
        }
        {
            let mut seen = self.seen.borrow_mut();
            *seen.screens.entry(screen.id.clone()).or_default() += 1;
            seen.states.insert(format!(
                "{}|{}|{}|{}",
                screen.id,
                screen.frame.crisis.is_some(),
                screen.frame.region_note.is_some(),
                screen.frame.watched
            ));
            seen.screens_checked += 1;
        }
        let drawn = session_ready::ui::terminal::draw(screen, Style::decide(false, true, true));
        // A hosted link opens once: no screen tells the client to run it again.
        if self.set_up.front_end == FrontEnd::Hosted {
            prop_assert!(
                !drawn.contains(&format!("run {}", plan(self.set_up).come_back)),
                "run it again, on {}:\n{}",
                &screen.id,
                drawn
            );
        }
        let page = page_drawing(screen);
        if screen.id == "away" {
            prop_assert!(screen.frame.crisis.is_none() && screen.body.is_empty());
            prop_assert_eq!(&drawn, "", "the quick exit leaves nothing");
            prop_assert_eq!(
                check::place(visit, screen),
                "away",
                "the page shows nothing"
            );
            return Ok(());
        }
        prop_assert_eq!(
            page.contains("<title>Notes</title>"),
            screen.frame.watched,
            "the neutral title on {}",
            &screen.id
        );
        check_page_choices(screen)?;
        let ends_check = screen.id == "thank-you";
        if yes || ends_check {
            let Some(resources) = &screen.frame.crisis else {
                return Err(TestCaseError::fail(format!(
                    "no crisis numbers on {} after a yes",
                    screen.id
                )));
            };
            let region = resources
                .first()
                .map(|r| r.region.clone())
                .unwrap_or_default();
            prop_assert_eq!(
                resources,
                &crisis::resources_list(&region),
                "the whole list for the region, on {}",
                &screen.id
            );
            prop_assert!(resources.iter().any(|r| r.kind == "emergency"));
            let in_box = crisis_box_text(&page);
            for r in resources {
                let words = crisis::wording(r).text();
                prop_assert!(
                    drawn.contains(&words),
                    "{} is not drawn on {}:\n{}",
                    words,
                    &screen.id,
                    drawn
                );
                prop_assert!(
                    in_box.contains(&words),
                    "{} is not in the page's box on {}:\n{}",
                    words,
                    &screen.id,
                    in_box
                );
            }
        }
        if let Ask::Choose {
            choices, cursor, ..
        } = &screen.ask
        {
            let held = &choices[*cursor].action;
            let before = screen
                .body
                .iter()
                .any(|b| matches!(b, Block::Note(n) if n.starts_with("Before, you chose")));
            let unsafe_default = match held {
                Action::Walk(Event::Answer(_)) => !before,
                Action::Walk(Event::Continue) => {
                    screen.id.starts_with("part-") || screen.id == "plan"
                }
                Action::Walk(Event::Keep(true)) | Action::KeepOnPause(true) => true,
                Action::PickUp | Action::ConfirmUnlocked => true,
                Action::Save {
                    choice: SaveChoice::SaveFull | SaveChoice::SaveClient,
                    ..
                } => !(self.set_up.clinic_key && visit.watched()),
                _ => false,
            };
            prop_assert!(
                !unsafe_default,
                "{:?} holds the cursor on {}",
                held,
                &screen.id
            );
        }
        Ok(())
    }
}

/// The whole page the browser gets for `screen` (the media step in its own
/// page, with the same skeleton).
fn page_drawing(screen: &Screen) -> String {
    let frame = check::frame(screen, None);
    if screen.ask == Ask::Media {
        return html::media_page(&frame, session_ready::page::MEDIA_HTML, "");
    }
    html::page(
        &frame,
        &screen.title,
        &draw::main_html(screen, "key.0", None),
        "",
    )
}

/// The text of the page's support box (tags dropped, entities read), placed
/// before the screen's own content.
fn crisis_box_text(page: &str) -> String {
    let Some(start) = page.find("<section class=\"crisis\"") else {
        return String::new();
    };
    let end = start + page[start..].find("</section>").unwrap_or(0);
    let mut text = String::new();
    let mut in_tag = false;
    for c in page[start..end].chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// Every choice on the screen can be sent from the page, and what it sends
/// comes back as that very choice (no two choices share a form).
fn check_page_choices(screen: &Screen) -> Result<(), TestCaseError> {
    let html = draw::main_html(screen, "key.0", None);
    for choice in screen.ask.choices() {
        let Some(fields) = draw::fields(&choice.action) else {
            return Err(TestCaseError::fail(format!(
                "{:?} on {} cannot be sent from the page",
                choice.action, screen.id
            )));
        };
        for (name, value) in &fields {
            let field = if *name == "do" {
                format!("name=\"do\" value=\"{value}\"")
            } else {
                format!("name=\"{name}\" id=")
            };
            prop_assert!(
                html.contains(&field),
                "{} not drawn on {}",
                field,
                &screen.id
            );
        }
        let form = draw::Form::new(
            fields
                .into_iter()
                .map(|(n, v)| (n.to_string(), v))
                .collect(),
        );
        let back = draw::decode(screen, &form);
        let expected = match &choice.action {
            Action::Save { choice, .. } => Action::Save {
                choice: *choice,
                name: None,
            },
            other => other.clone(),
        };
        prop_assert_eq!(back, Ok(expected), "on {}", &screen.id);
    }
    if let Ask::Text { field, .. } = &screen.ask {
        prop_assert!(
            html.contains("name=\"text\""),
            "a text field on {}",
            &screen.id
        );
        let typed = "the armchair".to_string();
        let code = match field {
            session_ready::visit::TextField::Plan => "plan",
            session_ready::visit::TextField::FileName => "file-name",
        };
        let form = draw::Form::new(vec![
            ("do".into(), code.into()),
            ("text".into(), typed.clone()),
        ]);
        prop_assert_eq!(draw::decode(screen, &form), Ok(field.action(typed)));
    }
    Ok(())
}

#[test]
fn every_reachable_screen_keeps_the_safety_rules() {
    let seen = RefCell::new(Seen::default());
    let config = Config {
        cases: 4000,
        failure_persistence: None,
        ..Config::default()
    };
    // The same clients on every run, so CI is repeatable; set
    // VISIT_PROOF_RANDOM=1 to search with new ones (each failure found is a
    // real breach: add it to `clients_that_once_broke_the_rules`).
    let mut runner = if std::env::var_os("VISIT_PROOF_RANDOM").is_some() {
        TestRunner::new(config)
    } else {
        TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha))
    };
    let strategy = (set_up(), proptest::collection::vec(any::<u16>(), 0..260));
    runner
        .run(&strategy, |(set_up, picks)| {
            Client {
                set_up: &set_up,
                picks: &picks,
                at: 0,
                seen: &seen,
                asked_watched: false,
            }
            .walk()
        })
        .unwrap();
    let seen = seen.into_inner();
    // The proof means something only if it reached every kind of screen.
    let kinds: BTreeSet<String> = seen
        .screens
        .keys()
        .map(|id| match id.split_once('.') {
            Some((kind, _)) if id.starts_with("q-") => kind.to_string(),
            _ => id.clone(),
        })
        .collect();
    for kind in [
        "welcome",
        "unreadable",
        "region",
        "keep",
        "watched",
        "q-start",
        "q-setup",
        "q-privacy",
        "q-home",
        "q-isolation",
        "q-risk",
        "part-home",
        "part-risk",
        "crisis-false",
        "crisis-true",
        "not-now-ask",
        "plan",
        "pause",
        "media",
        "report",
        "report-once",
        "choices",
        "confirm-unlocked",
        "file-name",
        "thank-you",
        "stopped",
        "paused",
        "not-now",
        "away",
        "region-change",
    ] {
        assert!(kinds.contains(kind), "never reached {kind}: {kinds:?}");
    }
    assert!(kinds.iter().any(|k| k.starts_with("plan-")), "{kinds:?}");
    assert!(
        seen.links > 0,
        "no hosted farewell with a link to carry on was reached"
    );
    eprintln!(
        "visit proof: {} screens checked, {} distinct screens, {} distinct screen states",
        seen.screens_checked,
        seen.screens.len(),
        seen.states.len()
    );
}

/// Clients the random search once found breaking the rules, replayed.
#[test]
fn clients_that_once_broke_the_rules() {
    let seen = RefCell::new(Seen::default());
    let cases: [(SetUp, &[u16]); 2] = [
        // A yes, Ctrl-C on the support screen, "pick up" next time, then back
        // to the question whose yes was kept: the numbers stay.
        (
            SetUp {
                front_end: FrontEnd::Terminal { plain: false },
                regions: RegionSources {
                    locale: Some("US".into()),
                    ..RegionSources::default()
                },
                clinic_key: false,
                output_named: false,
                nowhere: false,
                unreadable: true,
                draft_fails: false,
                mood: 1,
            },
            &[
                1, 1, 35785, 9961, 1, 41945, 741, 15946, 1300, 1, 50736, 726, 11731, 98, 27365,
                64791, 8245, 2196, 37270,
            ],
        ),
        // Kept answers with a yes on offer, then Ctrl-C on "Welcome back".
        (
            SetUp {
                front_end: FrontEnd::Terminal { plain: false },
                regions: RegionSources::default(),
                clinic_key: false,
                output_named: false,
                nowhere: false,
                unreadable: false,
                draft_fails: false,
                mood: 2,
            },
            &[
                1, 1, 4475, 29043, 1, 4264, 15576, 1, 28860, 30380, 1, 15624, 49, 476, 0, 24460,
                61, 1, 2366, 1, 36, 1, 36, 66, 1, 1, 1, 1, 1, 1, 1, 0, 4171, 51313,
            ],
        ),
    ];
    for (set_up, picks) in &cases {
        Client {
            set_up,
            picks,
            at: 0,
            seen: &seen,
            asked_watched: false,
        }
        .walk()
        .unwrap();
    }
}
