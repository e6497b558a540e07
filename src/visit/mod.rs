//! One visit, from the opening to the farewell, for every front-end.
//!
//! `questionnaire::walk` decides the questions; this decides everything
//! around them: picking up kept answers (or an unreadable file), pausing,
//! stopping, the page's media step, waiting for the report, the preview,
//! the saving choices, the watched-home rules and the farewell. It is a
//! state machine without I/O of its own: drafts and saved reports go
//! through a small [`Storage`] trait, and the person's choice comes back as
//! an [`Action`]. Front-ends only draw [`Visit::screen`] and send actions;
//! nothing they show or keep is decided there.
//!
//! The safety rules are properties of [`Visit::screen`] itself, proven over
//! every reachable screen in `visit/tests.rs`:
//! - the [`Frame`] holds the region's emergency number and whole support list
//!   on every screen once any risk answer is yes (and on the support screen),
//!   the farewells after stopping, pausing and "not now" included; the end of
//!   a check always shows them; only the quick exit clears everything;
//! - the choice that holds the cursor never records an answer, goes into a
//!   sensitive part, or saves a copy someone at home could open.
mod screen;
pub mod storage;

use crate::assessment::watched_home;
use crate::crisis::{CrisisResource, RegionSources};
use crate::device::DeviceReport;
use crate::net::NetworkReport;
use crate::questionnaire::draft::Draft;
use crate::questionnaire::flow::FlowState;
use crate::questionnaire::walk::{self, Ending, Event, Opening, Walk, WalkState};
use crate::questionnaire::{Answers, SessionPlan, bank, risk};
use crate::report::model::{ClinicInfo, NetworkSource, QuestionnaireStatus, ReportParts};
use crate::report::saving::{self, SaveChoice};
use crate::report::{Report, View};

pub use screen::{Action, Ask, Block, Choice, Frame, Screen, TextField};
pub use storage::{DraftPlace, SaveProblem, Storage};

/// The front-end a visit is drawn by: only words differ (how to leave at
/// once, what the device check is).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrontEnd {
    /// A terminal; `plain` is the line-by-line mode (screen readers).
    Terminal { plain: bool },
    /// The local page (`check --browser`).
    Page,
    /// The page hosted by a clinic (`serve --clinic`): the answers are on
    /// the clinic's server while the check lasts.
    Hosted,
}

impl FrontEnd {
    /// How to leave at once, as a sentence's beginning.
    pub fn quick_exit(self) -> &'static str {
        match self {
            FrontEnd::Terminal { plain: true } => "Typing q leaves at once and clears the screen",
            FrontEnd::Terminal { plain: false } => "Esc leaves at once and clears the screen",
            FrontEnd::Page | FrontEnd::Hosted => {
                "“Leave quickly”, always at the top of the page, leaves at once"
            }
        }
    }

    fn device(self) -> &'static str {
        match self {
            FrontEnd::Terminal { .. } => "a quick look at this device",
            FrontEnd::Page | FrontEnd::Hosted => {
                "a short test of your camera, microphone and speakers in this page"
            }
        }
    }

    /// How to come back another time, as the end of a sentence. The
    /// terminal and the local page run the command again (`come_back`); a
    /// hosted link opens once, so a new one comes from the clinic
    /// (`come_back` names it).
    fn again(self, come_back: &str) -> String {
        match self {
            FrontEnd::Hosted => format!("ask {come_back} for a new link"),
            _ => format!("run {come_back} again"),
        }
    }

    /// What a page says if, coming back (a call, a locked phone), it finds
    /// its check closed.
    pub fn page_closed(self) -> &'static str {
        match self {
            FrontEnd::Hosted => {
                "This check has ended while the page was away: it was quiet for a while, or the \
                 service was restarted, and answers in progress are not kept. Nothing was sent \
                 to your clinic. If you were given a link to carry on, it opens your check \
                 where you stopped; otherwise please ask your clinic for a new link."
            }
            _ => {
                "This check has closed while the page was away. Nothing more is needed here; \
                 whenever you are ready, you can start again with session-ready check --browser."
            }
        }
    }

    /// Why keeping is asked, above the question.
    fn keep_text(self) -> &'static str {
        match self {
            FrontEnd::Hosted => HOSTED_KEEP_TEXT,
            _ => walk::KEEP_TEXT,
        }
    }

    /// Where the answers go, as said on the opening.
    fn answers_go(self) -> &'static str {
        match self {
            FrontEnd::Hosted => {
                "Your answers are held only while you do the check. If you pause, they are \
                 kept only if you ask, locked so that only the link you are then given opens \
                 them. At the end you choose whether your report is sent to your clinic, locked \
                 so that only the clinic can open it."
            }
            _ => "Your answers stay on this computer, and you choose whether your report is saved.",
        }
    }
}

/// Everything a visit needs that the flags and the clinic file decide,
/// resolved once by the command (`commands::check`) and handed over.
#[derive(Debug, Clone)]
pub struct VisitPlan {
    pub front_end: FrontEnd,
    pub regions: RegionSources,
    pub clinic: Option<ClinicInfo>,
    pub client_ref: Option<String>,
    /// A clinic key is set: the full copy is saved locked for the clinic.
    pub clinic_key: bool,
    /// `--output` was given: no file name is asked.
    pub output_named: bool,
    /// The servers the connection test talks to; `None` when there is no test.
    pub servers: Option<Vec<String>>,
    /// The page's camera, microphone and speaker test is a step.
    pub media: bool,
    /// A saved connection test stands in for a new one (`--network FILE`).
    pub network_source: Option<NetworkSource>,
    /// How to start again, as said on the farewells ("session-ready check").
    pub come_back: String,
    /// The clinic's office hours (the hosted check's last page says when the
    /// report will be read).
    pub office_hours: Option<crate::clinic::hours::OfficeHours>,
}

/// What the measurements gave, handed to the visit once they are done.
#[derive(Debug, Clone, Default)]
pub struct Measured {
    pub network: Option<NetworkReport>,
    pub network_reason: Option<String>,
    pub device: Option<DeviceReport>,
}

/// What the questions leave for the report.
#[derive(Debug, Clone, PartialEq)]
pub struct Walked {
    pub answers: Answers,
    pub session_plan: Option<SessionPlan>,
    pub status: QuestionnaireStatus,
    /// The region the client chose, confirmed or was given.
    pub region: Option<String>,
}

/// How a visit ended, for the front-end's exit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// Finished, paused, or "not now": a calm ending.
    Done,
    /// Stopped part-way (Ctrl-C, the terminal or page gone).
    Stopped,
    /// Left at once: nothing is shown.
    QuickExit,
}

#[derive(Debug, Clone, PartialEq)]
enum Farewell {
    /// The check is done; `saved` is what was written, if anything.
    Finished,
    Paused,
    NotNow {
        still_kept: bool,
    },
    Stopped,
    QuickExit,
    /// A watched home's end, after "clear the screen and finish".
    Cleared,
}

#[derive(Debug, Clone, PartialEq)]
enum Stage {
    Welcome(Box<Draft>),
    Unreadable {
        why: String,
        regular: bool,
    },
    Walking,
    /// The country picker, opened from a screen showing numbers; then back.
    ChangingRegion(Box<Stage>),
    /// Pausing without consent given before: ask once.
    PauseAsk,
    Media,
    Building,
    /// The report, on its own screen, before going (back) to the choices.
    Reading {
        view: View,
        once: bool,
    },
    Choices,
    ConfirmUnlocked {
        choice: SaveChoice,
        name: Option<String>,
    },
    FileName {
        choice: SaveChoice,
    },
    Farewell(Farewell),
}

/// One visit.
pub struct Visit<S: Storage> {
    plan: VisitPlan,
    storage: S,
    stage: Stage,
    walk: Walk<'static>,
    started_at: String,
    /// The person chose the country, or it was given for this run.
    region_confirmed: bool,
    /// Said once on the next screen.
    notice: Option<String>,
    /// Typed text kept after a problem, so nothing typed is lost.
    typed: String,
    save_failed: bool,
    status: Option<QuestionnaireStatus>,
    measured: Option<Measured>,
    report: Option<Report>,
    /// What was written at the end (as named to the person).
    saved: Option<String>,
    /// The session plan from an answers file (the walk makes its own otherwise).
    file_plan: Option<SessionPlan>,
    /// An unreadable kept file was left where it is, as the person chose:
    /// nothing deletes it unless they agree to keep answers in its place.
    left_unreadable: bool,
}

impl<S: Storage> Visit<S> {
    /// A new visit: kept answers are offered first, an unreadable kept file
    /// is named, and otherwise the walk starts with the opening.
    pub fn new(plan: VisitPlan, storage: S) -> Self {
        let stage = match storage.draft() {
            DraftPlace::Kept(draft) => Stage::Welcome(draft),
            DraftPlace::Unreadable { why, regular } => Stage::Unreadable { why, regular },
            DraftPlace::Empty | DraftPlace::Nowhere => Stage::Walking,
        };
        let mut visit = Visit {
            walk: Walk::resume(bank(), WalkState::default()),
            plan,
            storage,
            stage,
            started_at: crate::questionnaire::draft::now(),
            region_confirmed: false,
            notice: None,
            typed: String::new(),
            save_failed: false,
            status: None,
            measured: None,
            report: None,
            saved: None,
            file_plan: None,
            left_unreadable: false,
        };
        visit.walk = visit.fresh_walk();
        visit
    }

    /// The same visit over any store (a front-end serving visits with
    /// different stores).
    pub fn boxed(self) -> Visit<storage::AnyStorage>
    where
        S: Send + 'static,
    {
        Visit {
            plan: self.plan,
            storage: Box::new(self.storage),
            stage: self.stage,
            walk: self.walk,
            started_at: self.started_at,
            region_confirmed: self.region_confirmed,
            notice: self.notice,
            typed: self.typed,
            save_failed: self.save_failed,
            status: self.status,
            measured: self.measured,
            report: self.report,
            saved: self.saved,
            file_plan: self.file_plan,
            left_unreadable: self.left_unreadable,
        }
    }

    /// A visit whose questions were answered elsewhere (an answers file):
    /// it starts at the media step, or at the report.
    pub fn answered(plan: VisitPlan, storage: S, walked: Walked) -> Self {
        let mut visit = Visit::new(plan, storage);
        let state = WalkState {
            flow: FlowState {
                answers: walked.answers,
                ..FlowState::default()
            },
            region: walked.region.or_else(|| visit.plan.regions.choose(None)),
            keep: Some(false),
            ..WalkState::default()
        };
        visit.walk = Walk::resume(bank(), state);
        visit.walk.clinic_key = visit.plan.clinic_key;
        visit.region_confirmed = true;
        visit.file_plan = walked.session_plan;
        visit.status = Some(walked.status);
        visit.stage = if visit.plan.media {
            Stage::Media
        } else {
            Stage::Building
        };
        visit
    }

    fn fresh_walk(&mut self) -> Walk<'static> {
        let (region, confirmed) = self.plan.regions.choose_with_source(None);
        self.region_confirmed = confirmed;
        let mut walk = Walk::resume(
            bank(),
            WalkState {
                region,
                keep: None,
                opening: Some(self.opening()),
                ..WalkState::default()
            },
        );
        walk.clinic_key = self.plan.clinic_key;
        walk
    }

    fn opening(&self) -> Opening {
        opening(self.plan.front_end, self.plan.servers.as_deref())
    }

    // --- what front-ends read -------------------------------------------------

    /// How the visit ended, once it has (the farewell is then the screen).
    pub fn end(&self) -> Option<End> {
        match &self.stage {
            Stage::Farewell(Farewell::QuickExit | Farewell::Cleared) => Some(End::QuickExit),
            Stage::Farewell(Farewell::Stopped) => Some(End::Stopped),
            Stage::Farewell(Farewell::Finished) if self.finish_choice_pending() => None,
            Stage::Farewell(_) => Some(End::Done),
            _ => None,
        }
    }

    /// The check proper has begun (past any kept answers on offer): the
    /// connection test may start.
    pub fn begun(&self) -> bool {
        !matches!(self.stage, Stage::Welcome(_) | Stage::Unreadable { .. }) && self.end().is_none()
    }

    /// The questions are done and the report is being waited for.
    pub fn waiting(&self) -> bool {
        self.stage == Stage::Building
    }

    /// The first screen of a new check (the opening) is shown.
    pub fn at_opening(&self) -> bool {
        self.stage == Stage::Walking
            && matches!(self.walk.screen(), walk::Screen::Question(q) if q.opening.is_some())
    }

    /// The questions are done (the report can be built once measured).
    pub fn walked(&self) -> Option<Walked> {
        Some(Walked {
            answers: self.walk.flow.state.answers.clone(),
            session_plan: self.session_plan(),
            status: self.status?,
            region: self.walk.region().map(str::to_string),
        })
    }

    /// The finished report, once built.
    pub fn report(&self) -> Option<&Report> {
        self.report.as_ref()
    }

    /// Where the report was saved, as named to the person.
    pub fn saved(&self) -> Option<&str> {
        self.saved.as_deref()
    }

    /// Someone at home may see this device.
    pub fn watched(&self) -> bool {
        self.walk.watched()
            || self
                .report
                .as_ref()
                .is_some_and(|r| watched_home(&r.answers))
    }

    pub fn storage(&self) -> &S {
        &self.storage
    }

    /// The front-end lets this visit go before its farewell (a hosted page
    /// left idle): answers kept for a link to carry on that was never given
    /// can never be reached, so they are forgotten. After a farewell (a
    /// pause), what its link opens stays.
    pub fn let_go(&mut self) {
        if self.end().is_none() {
            let _ = self.storage.forget();
        }
    }

    /// The front-end this visit is drawn by.
    pub fn front_end(&self) -> FrontEnd {
        self.plan.front_end
    }

    /// The walk's whole state (tests, and the page's form keys).
    pub fn walk_state(&self) -> WalkState {
        self.walk.state()
    }

    fn session_plan(&self) -> Option<SessionPlan> {
        self.file_plan
            .clone()
            .or_else(|| self.walk.flow.session_plan())
    }

    /// The region's resources, emergency first (international until known).
    fn resources(&self) -> Vec<CrisisResource> {
        match &self.report {
            Some(report) => report.crisis_resources.clone(),
            None => crate::crisis::resources_list(&self.region()),
        }
    }

    /// Crisis resources apply: a risk answer is yes now or in the kept
    /// answers on offer, the support screen was shown, or the report says so.
    pub fn crisis_applies(&self) -> bool {
        let kept_yes = match &self.stage {
            Stage::Welcome(draft) => kept_yes(draft),
            _ => false,
        };
        kept_yes
            || self.walk.crisis_in_sight()
            || self.report.as_ref().is_some_and(saving::crisis_applies)
    }

    /// The frame every screen is drawn in. One rule for every screen.
    fn frame(&self) -> Frame {
        let cleared = matches!(
            self.stage,
            Stage::Farewell(Farewell::QuickExit | Farewell::Cleared)
        );
        // The end of the check shows the numbers last, whatever was answered.
        let finished = self.stage == Stage::Farewell(Farewell::Finished);
        let crisis = (!cleared && (self.crisis_applies() || finished)).then(|| self.resources());
        let region_note = crisis
            .as_ref()
            .filter(|_| self.region_inferred())
            .map(|_| self.region_note());
        Frame {
            crisis,
            region_note,
            watched: self.watched() && !cleared,
            last: matches!(self.stage, Stage::Farewell(_)),
        }
    }

    /// The region whose numbers are shown now: the report's, the kept
    /// answers' on offer, or the walk's (international until known).
    fn region(&self) -> String {
        if let Some(report) = &self.report {
            return report.region.clone();
        }
        let region = match &self.stage {
            Stage::Welcome(draft) => self.plan.regions.choose(draft.region.as_deref()),
            _ => self.walk.region().map(str::to_string),
        };
        region.unwrap_or_else(|| crate::crisis::FALLBACK_REGION.to_string())
    }

    /// The numbers' country is a guess from settings (the locale, the
    /// clinic file), not given or chosen.
    fn region_inferred(&self) -> bool {
        match &self.stage {
            Stage::Welcome(draft) => {
                !self
                    .plan
                    .regions
                    .choose_with_source(draft.region.as_deref())
                    .1
            }
            _ => !self.region_confirmed,
        }
    }

    fn region_note(&self) -> String {
        let region = self.region();
        if region == crate::crisis::FALLBACK_REGION {
            "These are international numbers.".into()
        } else {
            // The clinic file's region wins over the computer's (`choose_with_source`).
            let from = if self.plan.regions.clinic.as_deref() == Some(region.as_str()) {
                "your clinic's settings"
            } else {
                "this computer's settings"
            };
            format!(
                "Numbers for: {} (from {from}).",
                crate::crisis::region_name(&region)
            )
        }
    }

    /// The screen to draw now.
    pub fn screen(&self) -> Screen {
        let mut screen = self.draw();
        screen.frame = self.frame();
        if let Some(notice) = &self.notice {
            screen.body.insert(0, Block::Notice(notice.clone()));
        }
        // Numbers inferred from settings can be changed wherever they show.
        // The end shows them whatever was answered, so the choices before it
        // name the country too.
        let support_line = self.stage == Stage::Walking
            && matches!(self.walk.screen(), walk::Screen::Question(q) if q.support_line.is_some());
        let shows_numbers =
            screen.frame.crisis.is_some() || self.stage == Stage::Choices || support_line;
        if shows_numbers && self.region_inferred() {
            if screen.frame.region_note.is_none() {
                screen.frame.region_note = Some(self.region_note());
            }
            if let Ask::Choose { choices, .. } = &mut screen.ask {
                choices.push(Choice::new("c", CHANGE_REGION, Action::ChangeRegion).aside());
            }
        }
        screen
    }

    fn draw(&self) -> Screen {
        match &self.stage {
            Stage::Welcome(draft) => {
                let items = vec![
                    Choice::new("n", walk::RESUME_NOT_NOW, Action::NotNow),
                    Choice::new("1", walk::RESUME_PICK_UP, Action::PickUp),
                    Choice::new("2", walk::RESUME_START_AGAIN, Action::StartAgain),
                ];
                plain_screen(
                    "welcome",
                    "Welcome back",
                    vec![Block::Text(walk::resume_summary(
                        &draft.saved_at,
                        draft.state.answers.len(),
                    ))],
                    choose(walk::RESUME_PROMPT, items),
                )
            }
            Stage::Unreadable { why, regular } => {
                let text = format!(
                    "Answers kept from an earlier check could not be read, so they cannot be \
                     picked up again. {why}"
                );
                let items = if *regular {
                    vec![
                        Choice::new(
                            "1",
                            "Delete the kept answers (they may be private)",
                            Action::DeleteKept,
                        ),
                        Choice::new("2", "Leave the file where it is", Action::LeaveKept),
                    ]
                } else {
                    vec![Choice::new("1", "Start a new check", Action::LeaveKept)]
                };
                plain_screen(
                    "unreadable",
                    "Answers kept from before",
                    vec![Block::Text(text)],
                    choose("What should happen to that file?", items),
                )
            }
            Stage::Walking => self.walk_screen(),
            Stage::ChangingRegion(_) => {
                let region = self.region();
                let (choices, _) = self.walk.choices(&walk::Screen::Region);
                // The current country holds the cursor: Enter changes nothing.
                let cursor = choices
                    .iter()
                    .position(|c| c.event == Event::Region(Some(region.clone())))
                    .unwrap_or(0);
                plain_screen(
                    "region-change",
                    "Support numbers",
                    vec![Block::Text(REGION_TEXT.into())],
                    Ask::Choose {
                        prompt: "Which country are you in?".into(),
                        choices: choices.into_iter().map(walk_choice).collect(),
                        cursor,
                        typed: true,
                    },
                )
            }
            Stage::PauseAsk => plain_screen(
                "pause",
                "Pause",
                // Why nothing was kept until now, where a link could be found.
                if self.watched() && self.plan.front_end == FrontEnd::Hosted {
                    vec![Block::Text(HOSTED_WATCHED_PAUSE.into())]
                } else {
                    Vec::new()
                },
                choose(
                    walk::PAUSE_KEEP_PROMPT,
                    vec![
                        Choice::new("1", walk::PAUSE_KEEP_NO, Action::KeepOnPause(false)),
                        Choice::new("2", walk::KEEP_YES, Action::KeepOnPause(true)),
                    ],
                ),
            ),
            Stage::Media => plain_screen(
                "media",
                "Camera, microphone and speakers",
                Vec::new(),
                Ask::Media,
            ),
            Stage::Building => plain_screen(
                "building",
                "Putting your report together",
                vec![Block::Text(
                    "Your answers are safe. The connection test is finishing, which can take a \
                     few more seconds."
                        .into(),
                )],
                Ask::Wait,
            ),
            Stage::Reading { view, once } => self.reading_screen(*view, *once),
            Stage::Choices => self.choices_screen(),
            Stage::ConfirmUnlocked { .. } => plain_screen(
                "confirm-unlocked",
                "Before anything is saved",
                vec![Block::Text(UNLOCKED_RISK.into())],
                choose(
                    "Save it on this device anyway?",
                    vec![
                        Choice::new("1", "No, go back to the choices", Action::BackToChoices),
                        Choice::new(
                            "2",
                            "Yes, save it on this device without a lock",
                            Action::ConfirmUnlocked,
                        ),
                    ],
                ),
            ),
            Stage::FileName { .. } => plain_screen(
                "file-name",
                "Saving your report",
                vec![Block::Note(format!(
                    "Suggested name: {}",
                    self.suggested_name()
                ))],
                Ask::Text {
                    prompt: "Where should it be saved?".into(),
                    hint: "Enter uses the suggested name, or type another.".into(),
                    value: self.typed.clone(),
                    choices: vec![
                        Choice::new("b", "Back to the choices", Action::BackToChoices).aside(),
                    ],
                    field: TextField::FileName,
                },
            ),
            Stage::Farewell(farewell) => self.farewell_screen(farewell),
        }
    }

    fn suggested_name(&self) -> String {
        self.storage.suggested_name(self.watched())
    }

    // --- the walk's screens ----------------------------------------------------

    fn walk_screen(&self) -> Screen {
        let screen = self.walk.screen();
        let title = self.walk.title(&screen);
        let prompt = self.walk.prompt(&screen);
        let (choices, cursor) = self.walk.choices(&screen);
        let choices: Vec<Choice> = choices.into_iter().map(walk_choice).collect();
        let in_sight = self.crisis_applies();
        let mut body = Vec::new();
        let id = walk_screen_id(&screen);
        match &screen {
            walk::Screen::Region => body.push(Block::Text(REGION_TEXT.into())),
            walk::Screen::Keep => body.push(Block::Text(self.plan.front_end.keep_text().into())),
            walk::Screen::Watched {
                was_kept,
                clinic_key,
            } => {
                let (mut kept, save) = walk::watched_notes(*was_kept, *clinic_key);
                if self.plan.front_end == FrontEnd::Hosted {
                    kept = hosted_watched_note(*was_kept);
                }
                body.push(Block::Text(format!(
                    "Thank you for telling us. To help keep this private from here on, {kept}; \
                     at the end, {save}; and when you finish, the screen is cleared.\n\n{}, at \
                     any moment.",
                    self.plan.front_end.quick_exit()
                )));
            }
            walk::Screen::PartIntro { section, count } => body.push(Block::Text(format!(
                "{}\n\n{}",
                section.intro,
                walk::part_size(*count)
            ))),
            walk::Screen::Question(q) => {
                if let Some(opening) = &q.opening {
                    body.push(Block::Text(opening.text.clone()));
                    if let Some(more) = opening.more.as_ref().filter(|_| q.show_more) {
                        body.push(Block::Text(more.clone()));
                    }
                } else if let Some(intro) = &q.intro {
                    body.push(Block::Text(intro.clone()));
                }
                if q.show_why {
                    body.push(Block::Note(format!("Why we ask this: {}", q.question.why)));
                }
                // Before any yes, one support line during the risk questions;
                // after one, the frame holds them all.
                if let Some(line) = q.support_line.as_ref().filter(|_| !in_sight) {
                    body.push(Block::Note(line.clone()));
                }
                if let Some(previous) = q.previous.as_deref().and_then(|p| q.question.option(p)) {
                    body.push(Block::Note(format!(
                        "Before, you chose: {}.",
                        previous.label
                    )));
                }
            }
            walk::Screen::NotNow => {
                let mut text = format!(
                    "You can come back whenever it is a better time: {}.",
                    self.plan.front_end.again(&self.plan.come_back)
                );
                if !in_sight {
                    text.push_str("\n\n");
                    text.push_str(&crate::crisis::emergency_line(&self.resources()));
                }
                body.push(Block::Text(text));
            }
            walk::Screen::Crisis { acute } => {
                body.push(Block::Text(walk::crisis_intro(*acute).into()))
            }
            walk::Screen::PlanIntro => {
                body.push(Block::Text(self.walk.flow.bank.plan.intro.clone()))
            }
            walk::Screen::PlanPrompt(p) => {
                body.push(Block::Text(p.why.clone()));
                return Screen {
                    frame: Frame::default(),
                    id,
                    title,
                    body,
                    ask: Ask::Text {
                        prompt,
                        hint: sentence(&crate::term::capitalise(&p.hint)),
                        value: self.typed.clone(),
                        choices: vec![
                            Choice::new(
                                "l",
                                "Leave this out",
                                Action::Walk(Event::PlanText(String::new())),
                            ),
                            Choice::new("b", "Go back", Action::Walk(Event::Back)).aside(),
                        ],
                        field: TextField::Plan,
                    },
                };
            }
            walk::Screen::Ended(_) => {}
        }
        Screen {
            frame: Frame::default(),
            id,
            title,
            body,
            ask: Ask::Choose {
                prompt,
                choices,
                cursor,
                typed: matches!(screen, walk::Screen::Region),
            },
        }
    }

    // --- the end ------------------------------------------------------------------

    fn reading_screen(&self, view: View, once: bool) -> Screen {
        let Some(report) = &self.report else {
            return self.choices_screen();
        };
        let (shown, intro) = match view {
            View::Clinician => (
                report.clone(),
                "This is everything the full report contains.",
            ),
            View::Client if once => (
                report.client_copy(),
                "Your report is shown once. Going back clears it from the screen.",
            ),
            View::Client => (
                report.client_copy(),
                "This is what your report contains. The full copy for your therapist also \
                 includes your answers about home, contact with other people and how you have \
                 been feeling.",
            ),
        };
        let back = if once || self.watched() {
            "Clear the screen and go back to the choices"
        } else {
            "Go on to the choices"
        };
        plain_screen(
            if once { "report-once" } else { "report" },
            "Your report",
            vec![
                Block::Text(intro.into()),
                Block::Report {
                    view,
                    report: Box::new(shown),
                },
            ],
            choose(
                "When you have finished reading:",
                vec![Choice::new("1", back, Action::BackToChoices).aside()],
            ),
        )
    }

    fn choices_screen(&self) -> Screen {
        let Some(report) = &self.report else {
            return plain_screen(
                "building",
                "Putting your report together",
                Vec::new(),
                Ask::Wait,
            );
        };
        let watched = self.watched();
        let offers = saving::offers(watched, self.plan.clinic_key);
        let mut body = Vec::new();
        if watched {
            body.push(Block::Text(
                "To keep it private, your report is not shown unless you ask, and nothing is \
                 saved on this device unless you choose."
                    .into(),
            ));
        } else {
            body.push(Block::Outcome {
                words: crate::term::capitalise(report.outcome.words()),
                headline: report.headline.clone(),
            });
            body.push(Block::Note(
                "The full copy for your therapist also includes your answers about home, contact \
                 with other people and how you have been feeling."
                    .into(),
            ));
        }
        if watched {
            body.push(Block::Note(format!(
                "Because someone at home may see this device, “{}” is the safer choice.",
                offers.items[offers.suggested].label
            )));
        }
        if self.plan.front_end == FrontEnd::Hosted {
            body.push(Block::Note(HOSTED_SENDING.into()));
        }
        let mut choices: Vec<Choice> = offers
            .items
            .iter()
            .map(|o| {
                Choice::new(
                    o.key,
                    o.label,
                    Action::Save {
                        choice: o.choice,
                        name: None,
                    },
                )
            })
            .collect();
        if !watched {
            choices.push(
                Choice::new(
                    "r",
                    "Read my report again",
                    Action::Save {
                        choice: SaveChoice::ShowOnce,
                        name: None,
                    },
                )
                .aside(),
            );
        }
        plain_screen(
            "choices",
            "Your report is ready",
            body,
            Ask::Choose {
                prompt: "What would you like to do?".into(),
                choices,
                cursor: offers.suggested,
                typed: false,
            },
        )
    }

    fn farewell_screen(&self, farewell: &Farewell) -> Screen {
        let come_back = &self.plan.come_back;
        let again = self.plan.front_end.again(come_back);
        let hosted = self.plan.front_end == FrontEnd::Hosted;
        let kept = self.storage.kept();
        let in_sight = self.crisis_applies();
        let emergency = |text: String| {
            if in_sight {
                text
            } else {
                format!(
                    "{text}\n\n{}",
                    crate::crisis::emergency_line(&self.resources())
                )
            }
        };
        let (id, title, text) = match farewell {
            Farewell::QuickExit | Farewell::Cleared => {
                return plain_screen("away", "", Vec::new(), Ask::Nothing);
            }
            Farewell::Stopped => (
                "stopped",
                "Stopped",
                if kept && hosted {
                    format!("Stopped. {HOSTED_KEPT}")
                } else if kept {
                    format!("Stopped. Your answers so far are kept; run {come_back} to carry on.")
                } else {
                    "Stopped. Nothing was kept.".to_string()
                },
            ),
            Farewell::Paused => ("paused", "Take care", self.paused_words()),
            Farewell::NotNow { still_kept: true } if hosted && kept => (
                "not-now",
                "Take care",
                emergency(format!(
                    "Your answers are still kept. {HOSTED_KEPT} Take care."
                )),
            ),
            Farewell::NotNow { still_kept: true } if !hosted => (
                "not-now",
                "Take care",
                emergency(format!(
                    "Your answers are still kept. Whenever you are ready, {again}. Take care."
                )),
            ),
            Farewell::NotNow { .. } => (
                "not-now",
                "Take care",
                emergency(format!("Whenever you are ready, {again}. Take care.")),
            ),
            Farewell::Finished => {
                let mut body = Vec::new();
                if let Some(report) = self.report.as_ref().filter(|_| !self.watched()) {
                    body.push(Block::Text(report.headline.clone()));
                }
                body.push(Block::Text(self.saved_words()));
                if self.plan.front_end == FrontEnd::Hosted {
                    self.hosted_end(&mut body);
                }
                let ask = if self.finish_choice_pending() {
                    choose(
                        "When you are ready, this screen will be cleared.",
                        vec![
                            Choice::new("1", "Clear the screen and finish", Action::Finish).aside(),
                        ],
                    )
                } else {
                    Ask::Nothing
                };
                return plain_screen("thank-you", "Thank you", body, ask);
            }
        };
        let mut body = vec![Block::Text(text)];
        // The hosted check keeps paused answers only behind their link.
        if hosted
            && kept
            && let Some(href) = self.storage.place()
        {
            body.push(Block::Link {
                label: RESUME_LABEL.into(),
                href,
            });
        }
        plain_screen(id, title, body, Ask::Nothing)
    }

    /// The hosted check's last words: when the clinic will read the report,
    /// that the numbers are for now, and the client's own copy.
    fn hosted_end(&self, body: &mut Vec<Block>) {
        if self.saved.as_deref() == Some(storage::SENT_TO_CLINIC) {
            let at = self
                .report
                .as_ref()
                .and_then(|r| r.generated_at.parse().ok())
                .unwrap_or_else(jiff::Timestamp::now);
            body.push(Block::Text(crate::clinic::hours::when_seen_words(
                self.plan.office_hours.as_ref(),
                at,
            )));
        }
        body.push(Block::Text(
            "If you need to talk to someone before then, or at any time, the support numbers \
             on this page are for now: they do not wait for the clinic."
                .into(),
        ));
        if self.own_copy().is_some() {
            let note = if self.watched() {
                "It leaves out your answers about home, contact with other people and how you \
                 have been feeling. You said someone at home may see this device: a downloaded \
                 file stays on it until you delete it, so leave it if that is a worry."
            } else {
                "It leaves out your answers about home, contact with other people and how you \
                 have been feeling, and is made only when you ask: nothing of it is kept here."
            };
            body.push(Block::OwnCopy {
                label: "Download my own copy (PDF)".into(),
                note: note.into(),
            });
        }
    }

    /// The client's own copy of a finished hosted check (the client copy,
    /// without the clinic's reference, which is the clinic's, not theirs):
    /// `None` anywhere else.
    pub fn own_copy(&self) -> Option<Report> {
        if self.plan.front_end != FrontEnd::Hosted
            || self.stage != Stage::Farewell(Farewell::Finished)
        {
            return None;
        }
        let mut copy = self.report.as_ref()?.client_copy();
        copy.client_ref = None;
        Some(copy)
    }

    /// A watched home's end waits for the person before clearing the screen.
    fn finish_choice_pending(&self) -> bool {
        self.watched() && !matches!(self.plan.front_end, FrontEnd::Page | FrontEnd::Hosted)
    }

    fn paused_words(&self) -> String {
        let come_back = &self.plan.come_back;
        if self.plan.front_end == FrontEnd::Hosted {
            let again = self.plan.front_end.again(come_back);
            return match self.storage.place() {
                Some(_) if self.storage.kept() => format!("Paused. {HOSTED_KEPT}"),
                Some(_) if self.walk.keep() == Some(true) => format!(
                    "Paused, but your answers could not be kept. When you are ready, {again}."
                ),
                _ => format!("Paused. Nothing was kept. When you are ready, {again}."),
            };
        }
        match self.storage.place() {
            None => "Paused. There is nowhere to keep answers on this system, so next time \
                     starts afresh."
                .into(),
            Some(place) if self.storage.kept() => format!(
                "Paused. Your answers are kept privately in {place}.\n\nRun {come_back} again \
                 to pick up where you left off."
            ),
            Some(_) if self.walk.keep() == Some(true) => {
                "Paused, but your answers could not be kept. Next time starts afresh.".into()
            }
            Some(_) => format!("Paused. Nothing was kept. Run {come_back} whenever you are ready."),
        }
    }

    fn saved_words(&self) -> String {
        match &self.saved {
            Some(path) if path == storage::STANDARD_OUTPUT => {
                "Your report was written to the standard output of session-ready, as --output - \
                 asked; no file was saved."
                    .into()
            }
            Some(path) if path == storage::SENT_TO_CLINIC => "Your report has reached your \
                 clinic, locked so that only the clinic can open it. Nothing of it is kept on \
                 this server."
                .into(),
            Some(path) if self.plan.clinic_key => format!(
                "Your report is saved in {path}, locked so that only your clinic can open it. \
                 You can send it to your therapist as they asked."
            ),
            Some(path) => format!(
                "Your report is saved in {path} (only your user account can open it). You can \
                 share it with your therapist."
            ),
            None => "Nothing was saved.".into(),
        }
    }

    // --- what the person did ---------------------------------------------------

    /// Apply what the person did on the screen shown. Anything the screen
    /// did not offer changes nothing (a stale page, a doctored form) and is
    /// said on the next screen.
    pub fn act(&mut self, action: Action) {
        self.notice = None;
        match action {
            Action::QuickExit => {
                let _ = self.walk.apply(Event::QuickExit);
                self.stage = Stage::Farewell(Farewell::QuickExit);
                return;
            }
            Action::Stop => {
                if let Stage::Welcome(draft) = &self.stage {
                    // The kept answers (and any yes in them) stay behind the farewell.
                    let draft = draft.clone();
                    self.hold_kept(&draft);
                }
                self.stage = match self.stage {
                    // Stopping at the watched home's last screen clears it too.
                    Stage::Farewell(Farewell::Finished) => Stage::Farewell(Farewell::Cleared),
                    _ if self.end().is_some() => return,
                    _ => Stage::Farewell(Farewell::Stopped),
                };
                return;
            }
            _ => {}
        }
        let screen = self.screen();
        let offered = match (&screen.ask, &action) {
            (Ask::Text { .. }, Action::Walk(Event::PlanText(_)) | Action::FileName(_)) => true,
            (Ask::Media, Action::MediaDone) => true,
            // The page sends the file name with its choice.
            (
                _,
                Action::Save {
                    choice,
                    name: Some(_),
                },
            ) => screen.ask.choices().iter().any(
                |c| matches!(&c.action, Action::Save { choice: offered, .. } if offered == choice),
            ),
            _ => screen.ask.choices().iter().any(|c| c.action == action),
        };
        if !offered {
            self.notice = Some(NOT_OFFERED.into());
            return;
        }
        let stage = std::mem::replace(&mut self.stage, Stage::Walking);
        self.stage = self.next(stage, action);
    }

    fn next(&mut self, stage: Stage, action: Action) -> Stage {
        match (stage, action) {
            (stage, Action::ChangeRegion) => Stage::ChangingRegion(Box::new(stage)),
            (Stage::ChangingRegion(back), Action::Walk(Event::Region(region))) => {
                let region = region.unwrap_or_else(|| crate::crisis::FALLBACK_REGION.into());
                if let Some(report) = &mut self.report {
                    report.crisis_resources = crate::crisis::resources_list(&region);
                    report.region = region.clone();
                }
                self.walk.set_region(region);
                self.region_confirmed = true;
                self.save_draft();
                *back
            }
            (Stage::Welcome(draft), Action::PickUp) => {
                let (region, confirmed) = self
                    .plan
                    .regions
                    .choose_with_source(draft.region.as_deref());
                let state = WalkState {
                    flow: draft.state.clone(),
                    region,
                    keep: Some(true),
                    // A yes kept from before keeps the numbers in sight, even
                    // if the client goes back and changes it.
                    crisis_shown: kept_yes(&draft),
                    ..WalkState::default()
                };
                self.walk = Walk::resume(bank(), state);
                self.walk.clinic_key = self.plan.clinic_key;
                self.region_confirmed = confirmed || draft.region.is_some();
                self.started_at = draft.started_at.clone();
                self.walk_moved()
            }
            (Stage::Welcome(_), Action::StartAgain) => {
                if let Err(e) = self.storage.forget() {
                    self.notice = Some(format!("The kept answers could not be deleted ({e})."));
                }
                self.walk = self.fresh_walk();
                Stage::Walking
            }
            (Stage::Welcome(draft), Action::NotNow) => {
                self.hold_kept(&draft);
                Stage::Farewell(Farewell::NotNow { still_kept: true })
            }
            (Stage::Unreadable { .. }, Action::DeleteKept) => {
                self.notice = Some(match self.storage.forget() {
                    Ok(()) => "Deleted. Starting a new check.".into(),
                    Err(e) => format!("It could not be deleted ({e}). Starting a new check."),
                });
                Stage::Walking
            }
            (Stage::Unreadable { .. }, Action::LeaveKept) => {
                self.left_unreadable = true;
                self.notice = Some(format!(
                    "It was left {}; you will be asked about it again next time. Starting a new \
                     check.",
                    self.storage
                        .place()
                        .map_or_else(|| "where it is".to_string(), |p| format!("at {p}"))
                ));
                Stage::Walking
            }
            (Stage::Walking, Action::Walk(event)) => self.walk_event(event),
            (Stage::PauseAsk, Action::KeepOnPause(keep)) => {
                self.walk.set_keep(keep);
                self.save_draft();
                Stage::Farewell(Farewell::Paused)
            }
            (Stage::Media, Action::MediaDone) => self.build_or_wait(),
            (Stage::Reading { .. }, Action::BackToChoices) => Stage::Choices,
            (Stage::Choices, Action::Save { choice, name }) => self.save_choice(choice, name),
            (Stage::ConfirmUnlocked { .. }, Action::BackToChoices) => Stage::Choices,
            (Stage::ConfirmUnlocked { choice, name }, Action::ConfirmUnlocked) => {
                self.save_or_ask(choice, name)
            }
            (Stage::FileName { .. }, Action::BackToChoices) => {
                self.typed.clear();
                Stage::Choices
            }
            (Stage::FileName { choice }, Action::FileName(name)) => {
                self.save_or_ask(choice, Some(name))
            }
            (Stage::Farewell(Farewell::Finished), Action::Finish) => {
                Stage::Farewell(Farewell::Cleared)
            }
            (stage, _) => stage,
        }
    }

    /// Leaving from "Welcome back": the kept answers (untouched on disk)
    /// decide the farewell's numbers and their country.
    fn hold_kept(&mut self, draft: &Draft) {
        let (region, confirmed) = self
            .plan
            .regions
            .choose_with_source(draft.region.as_deref());
        let mut state = self.walk.state();
        state.region = region;
        state.flow = draft.state.clone();
        self.walk = Walk::resume(bank(), state);
        self.region_confirmed = confirmed || draft.region.is_some();
    }

    fn walk_event(&mut self, event: Event) -> Stage {
        if let Event::PlanText(text) = &event
            && let Err(problem) = crate::safe_text::check_field("What you typed", text, false)
        {
            self.notice = Some(problem);
            self.typed = text.clone();
            return Stage::Walking;
        }
        self.typed.clear();
        match self.walk.apply(event) {
            Ok(applied) if applied.save => self.save_draft(),
            Ok(_) => {}
            Err(_) => self.notice = Some(NOT_OFFERED.into()),
        }
        self.walk_moved()
    }

    /// Where the visit goes once the walk has moved.
    fn walk_moved(&mut self) -> Stage {
        match self.walk.ended() {
            None => Stage::Walking,
            Some(Ending::Completed) => {
                self.status = Some(QuestionnaireStatus::Completed);
                self.after_questions()
            }
            Some(Ending::FinishedEarly) => {
                self.status = Some(QuestionnaireStatus::Stopped);
                self.after_questions()
            }
            Some(Ending::Paused) => {
                if self.storage.place().is_some() && self.walk.keep() != Some(true) {
                    Stage::PauseAsk
                } else {
                    Stage::Farewell(Farewell::Paused)
                }
            }
            Some(Ending::NotNow) => Stage::Farewell(Farewell::NotNow {
                still_kept: self.storage.kept(),
            }),
            Some(Ending::QuickExit) => Stage::Farewell(Farewell::QuickExit),
            Some(Ending::Stopped) => Stage::Farewell(Farewell::Stopped),
        }
    }

    fn after_questions(&mut self) -> Stage {
        // Finishing early goes straight to the report; otherwise the media test.
        if self.plan.media && self.status == Some(QuestionnaireStatus::Completed) {
            Stage::Media
        } else {
            self.build_or_wait()
        }
    }

    /// The measurements are done: the report can be built.
    pub fn measured(&mut self, measured: Measured) {
        self.measured = Some(measured);
        if self.stage == Stage::Building {
            self.stage = self.build_or_wait();
        }
    }

    fn build_or_wait(&mut self) -> Stage {
        let (Some(measured), Some(walked)) = (self.measured.clone(), self.walked()) else {
            return Stage::Building;
        };
        let report = assemble(&self.plan, walked, measured);
        let watched = self.walk.watched() || watched_home(&report.answers);
        self.report = Some(report);
        if watched {
            Stage::Choices
        } else {
            // The client sees what the report contains before anything is saved.
            Stage::Reading {
                view: View::Client,
                once: false,
            }
        }
    }

    fn save_choice(&mut self, choice: SaveChoice, name: Option<String>) -> Stage {
        match choice {
            SaveChoice::ShowEverything => Stage::Reading {
                view: View::Clinician,
                once: false,
            },
            SaveChoice::ShowOnce => Stage::Reading {
                view: View::Client,
                once: self.watched(),
            },
            SaveChoice::Nothing => {
                self.finished();
                Stage::Farewell(Farewell::Finished)
            }
            SaveChoice::SaveFull | SaveChoice::SaveClient => {
                if self.watched() && !self.plan.clinic_key {
                    // Never one stray key away: an unlocked copy in a watched
                    // home needs its own "yes" that names the risk.
                    Stage::ConfirmUnlocked { choice, name }
                } else {
                    self.save_or_ask(choice, name)
                }
            }
        }
    }

    fn save_or_ask(&mut self, choice: SaveChoice, name: Option<String>) -> Stage {
        let name = match name {
            _ if self.plan.output_named => None,
            None => return Stage::FileName { choice },
            Some(name) if name.trim().is_empty() => Some(self.suggested_name()),
            Some(name) => Some(name.trim().to_string()),
        };
        let (Some(report), Some(view)) = (&self.report, choice.saved_view()) else {
            return Stage::Choices;
        };
        match self
            .storage
            .save(report, view, name.as_deref(), self.watched())
        {
            Ok(path) => {
                self.saved = Some(path);
                self.typed.clear();
                self.finished();
                Stage::Farewell(Farewell::Finished)
            }
            Err(SaveProblem::Name(why)) => {
                self.notice = Some(why);
                self.typed = name.unwrap_or_default();
                if self.plan.output_named {
                    Stage::Choices
                } else {
                    Stage::FileName { choice }
                }
            }
            Err(SaveProblem::Failed(why)) => {
                self.notice = Some(format!(
                    "{why} Your report is still here, nothing was lost."
                ));
                Stage::Choices
            }
        }
    }

    /// The check is finished: kept answers have done their job.
    fn finished(&mut self) {
        let _ = self.storage.forget();
    }

    /// Keep the draft current (with consent), or make sure none stays.
    fn save_draft(&mut self) {
        let draft = Draft::new(
            self.started_at.clone(),
            self.walk.region().map(str::to_string),
            self.walk.flow.state.clone(),
        );
        let keep = self.walk.keep() == Some(true);
        if self.left_unreadable && !keep {
            return;
        }
        self.left_unreadable = false;
        if let Err(e) = self.storage.keep(keep, &draft)
            && keep
            && !self.save_failed
        {
            self.save_failed = true;
            self.notice = Some(format!(
                "Your progress could not be kept ({e}). You can carry on; pausing will not keep \
                 your answers."
            ));
        }
    }
}

/// The opening, above "Is now a safe and private time?": what happens, how
/// long it takes, that every question can be skipped, the quick exit, and
/// where answers go. The servers the connection test talks to are one
/// choice away.
pub fn opening(front_end: FrontEnd, servers: Option<&[String]>) -> Opening {
    let more = servers.map(|servers| {
        format!(
            "The connection test takes about 10 seconds and runs in the background while you \
             answer. It exchanges only test data with {}, which {} only this computer's \
             internet address. Nothing you type is sent.",
            servers.join(" and "),
            if servers.len() == 1 { "sees" } else { "see" }
        )
    });
    let connection = match (servers, front_end) {
        (Some(_), _) => "a connection test while you answer",
        // The hosted page measures from the browser, against the clinic's
        // server, on its waiting page (src/page/measure.rs).
        (None, FrontEnd::Hosted) => {
            "a connection test of about 15 seconds with your clinic's server near the end"
        }
        (None, _) => "no connection test this time",
    };
    Opening {
        title: "Getting ready for video sessions".into(),
        text: format!(
            "This check helps you and your therapist decide whether video sessions from home \
             are a good fit right now. It takes about 10 minutes: {}, {connection}, and about \
             20 short questions. Every question can be skipped. {}. {}",
            front_end.device(),
            front_end.quick_exit(),
            front_end.answers_go(),
        ),
        more,
    }
}

/// The one place a report is assembled from a visit's parts (the terminal,
/// the page and answers files all come here).
pub fn assemble(plan: &VisitPlan, walked: Walked, measured: Measured) -> Report {
    let region = plan
        .regions
        .choose(walked.region.as_deref())
        .unwrap_or_else(|| crate::crisis::FALLBACK_REGION.to_string());
    let mut report = Report::build(ReportParts {
        answers: walked.answers,
        questionnaire_status: walked.status,
        session_plan: walked.session_plan,
        network: measured.network,
        network_reason: measured.network_reason,
        device: measured.device,
        region,
        clinic: plan.clinic.clone(),
        client_ref: plan.client_ref.clone(),
    });
    report.network_source = plan.network_source.clone();
    report
}

/// Kept answers that hold a yes to a risk question.
fn kept_yes(draft: &Draft) -> bool {
    draft
        .state
        .answers
        .iter()
        .any(|(q, a)| risk::is_positive_risk_answer(q, a))
}

/// Said when an action is not among the screen's choices (a stale page, a
/// doctored form).
pub const NOT_OFFERED: &str = "That choice is not on this page, so nothing was changed.";

/// The hosted check: why keeping is asked, above the question.
const HOSTED_KEEP_TEXT: &str = "If you pause, you can be given a link that carries on where you \
    stopped. Your answers are then locked so that only that link opens them, and the link opens \
    them once.";

/// The hosted check: what a paused visit keeps, above the link to carry on.
const HOSTED_KEPT: &str = "Your answers are locked so that only the link below opens them. It \
    opens your check once, where you stopped, while the link from your clinic is valid (if the \
    service is restarted meanwhile, it opens nothing and your clinic can send a new one). Keep it \
    somewhere private: anyone with it could open your answers.";

/// The label of the link that carries on a paused hosted check.
pub const RESUME_LABEL: &str = "Carry on with the check later";

/// The hosted check, pausing in a watched home: why no link was offered.
const HOSTED_WATCHED_PAUSE: &str = "Because someone at home may see this device, no link to \
    carry on later is given unless you ask for one: a link left in this browser could open your \
    answers.";

/// The hosted check's words on the watched-home notice: what is kept.
fn hosted_watched_note(was_kept: bool) -> String {
    let deleted = if was_kept {
        " (your answers so far are no longer kept)"
    } else {
        ""
    };
    format!(
        "no link to carry on later is given unless you ask, since a link left in this browser \
         could open your answers{deleted}"
    )
}

/// What the hosted check's saving choices send, and who can open it.
pub const HOSTED_SENDING: &str = "What your clinic receives: if you choose to save, the copy \
     you choose goes to your clinic, locked (encrypted) on this server before it is stored, so \
     that only the people at your clinic who hold the clinic's key can open it. Nothing of it \
     is kept here in plain text, and nothing is sent if you choose not to save. At the end you \
     can download your own copy.";

/// Said on the country picker.
const REGION_TEXT: &str = "This is only used to show the right support numbers.";

/// The choice that opens the country picker from a screen showing numbers.
pub const CHANGE_REGION: &str = "Change the country for these numbers";

/// Why an unlocked copy is a risk in a watched home.
const UNLOCKED_RISK: &str = "You said someone at home may see this device. A copy saved here \
    without a lock can be opened by anyone who uses this account, and it holds all your answers, \
    including how you have been feeling. A copy that is not saved cannot be found.";

fn plain_screen(id: &str, title: &str, body: Vec<Block>, ask: Ask) -> Screen {
    Screen {
        frame: Frame::default(),
        id: id.into(),
        title: title.into(),
        body,
        ask,
    }
}

fn choose(prompt: &str, choices: Vec<Choice>) -> Ask {
    Ask::Choose {
        prompt: prompt.into(),
        choices,
        cursor: 0,
        typed: false,
    }
}

fn walk_choice(c: walk::Choice) -> Choice {
    let choice = Choice::new(c.key, c.label, Action::Walk(c.event));
    if c.records { choice } else { choice.aside() }
}

fn walk_screen_id(screen: &walk::Screen) -> String {
    match screen {
        walk::Screen::Region => "region".into(),
        walk::Screen::Keep => "keep".into(),
        walk::Screen::Watched { .. } => "watched".into(),
        walk::Screen::PartIntro { section, .. } => format!("part-{}", section.id),
        walk::Screen::Question(q) => format!("q-{}", q.question.id),
        walk::Screen::NotNow => "not-now-ask".into(),
        walk::Screen::Crisis { acute } => format!("crisis-{acute}"),
        walk::Screen::PlanIntro => "plan".into(),
        walk::Screen::PlanPrompt(p) => format!("plan-{}", p.id),
        walk::Screen::Ended(_) => "ended".into(),
    }
}

/// `text` ending like a sentence, so another can follow it.
fn sentence(text: &str) -> String {
    let text = text.trim_end();
    if text.ends_with(['.', '!', '?', ')']) {
        text.to_string()
    } else {
        format!("{text}.")
    }
}
