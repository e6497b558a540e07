//! The walk through the questionnaire as a pure state machine, shared by every
//! front-end (the terminal in `session.rs`, the browser page in `page/`): which
//! screen comes next, what it offers, and what each choice does. It holds the
//! trauma-informed rules around the flow: the opening above "Is now a safe and
//! private time?", the country and keeping asked once after it, the notice
//! when the home may be watched, the safety check before each sensitive part,
//! "Why we ask", skip, back, pause, the support screen the moment a risk answer
//! is yes, and the session plan. No I/O: a front-end shows [`Walk::screen`],
//! feeds the client's choice back as an [`Event`], and saves a draft when
//! [`Applied::save`] says so. The whole state is serialisable ([`WalkState`]).
use serde::{Deserialize, Serialize};

use super::bank::{PlanPrompt, Question, Section};
use super::flow::{Entry, Flow, FlowState, Step};
use super::risk;
use crate::crisis::CrisisResource;

/// How the walk ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ending {
    /// Every question and the plan were answered or skipped.
    Completed,
    /// The client chose to finish early and see the report (status `stopped`).
    FinishedEarly,
    /// The client chose "pause and finish later".
    Paused,
    /// Leave at once (Esc, "Leave quickly").
    QuickExit,
    /// Ctrl-C or the terminal closed.
    Stopped,
    /// "Is now a safe and private time?" was answered no, and the client chose to leave.
    NotNow,
}

/// The opening, shown above the first question ("Is now a safe and private
/// time?") so that the first thing asked is whether now is safe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Opening {
    pub title: String,
    pub text: String,
    /// Technical details, shown only on request ("More about the connection test").
    pub more: Option<String>,
}

/// Said on the support screen, above the services.
pub fn crisis_intro(acute: bool) -> &'static str {
    if acute {
        "Thank you for telling us. Right now, the most important thing is that you can talk \
         with someone today. Please contact one of these now; they are free, and you do not \
         have to finish this check first. If you have a therapist or clinic, you can call \
         them too."
    } else {
        "Thank you for answering. If things feel hard right now, you do not have to wait \
         for a session: these services are there for you, and you can contact them at any \
         time."
    }
}

/// How long a sensitive part is, said on its introduction.
pub fn part_size(count: usize) -> String {
    format!(
        "{count} question{}, about a minute. Any of them can be skipped.",
        if count == 1 { "" } else { "s" }
    )
}

/// Why keeping is asked, said above the question.
pub const KEEP_TEXT: &str = "If you pause or have to leave, your answers can be kept in a file only \
    your user account can open, and deleted when you finish. Anyone who can use your account \
    could open it.";

/// What the check now does when the home may be watched: what is kept, and
/// what happens at the end.
pub fn watched_notes(was_kept: bool, clinic_key: bool) -> (String, &'static str) {
    let deleted = if was_kept {
        " (the answers kept so far have been deleted)"
    } else {
        ""
    };
    let save = if clinic_key {
        "nothing is saved here unless you choose; a copy locked so only your clinic can \
         open it is suggested"
    } else {
        "nothing is saved on this device unless you choose"
    };
    (
        format!("your answers are not kept on this device unless you ask{deleted}"),
        save,
    )
}

/// Before a paused walk is picked up again: the question, and the choices in
/// order (the first, "not now", holds the cursor: carrying on is the
/// client's own choice).
pub const RESUME_PROMPT: &str = "Is now a safe and private time to carry on?";
pub const RESUME_NOT_NOW: &str = "No, not now (your answers stay kept)";
pub const RESUME_PICK_UP: &str = "Pick up where I left off";
pub const RESUME_START_AGAIN: &str = "Start again (the kept answers are deleted)";

/// What the resume offer says about the paused walk: the day in the
/// client's own time zone (the draft keeps UTC), as their clock shows it.
pub fn resume_summary(saved_at: &str, answered: usize) -> String {
    resume_words(crate::when::local(saved_at), saved_at, answered)
}

fn resume_words(local: Option<crate::when::Local>, saved_at: &str, answered: usize) -> String {
    let day = local.map_or_else(
        || saved_at.get(..10).unwrap_or(saved_at).to_string(),
        |l| l.date,
    );
    format!(
        "You paused a check on {day}, with {answered} question{} answered.",
        if answered == 1 { "" } else { "s" }
    )
}

/// On pausing without consent to keep answers: asked once, "no" first.
pub const PAUSE_KEEP_PROMPT: &str = "Would you like your answers kept so you can finish later?";
pub const PAUSE_KEEP_NO: &str = "No, keep nothing";
pub const KEEP_YES: &str = "Yes, keep my answers privately until I finish";

/// The first question, asked before anything else.
pub const SAFE_NOW: &str = "start.safe_now";

/// The pseudo-section id recorded when the client starts the session plan.
pub const PLAN_SECTION: &str = "plan";

/// The label of the choice that shows the opening's technical details.
pub const MORE_LABEL: &str = "More about the connection test";

/// Something the client did on a screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "event", content = "value")]
pub enum Event {
    /// The country for support numbers; `None` for "somewhere else".
    Region(Option<String>),
    /// Whether answers may be kept on this device.
    Keep(bool),
    /// Go on: into a part, past a notice, on with the questions, into the plan.
    Continue,
    /// Skip the part being introduced (or leave the plan for now).
    SkipPart,
    /// An option id of the question shown.
    Answer(String),
    /// Skip the question shown.
    Skip,
    /// Show why the question is asked.
    Why,
    /// Show the opening's technical details.
    More,
    Back,
    Pause,
    /// "Leave for now" after "not a safe time".
    Leave,
    /// "Finish now and see my report" on the support screen.
    FinishNow,
    /// The reply to a session-plan prompt; blank leaves it out.
    PlanText(String),
    /// Leave at once.
    QuickExit,
}

/// One choice on a screen, in the order front-ends show them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    /// A short key to type in the terminal ("1", "s").
    pub key: String,
    pub label: String,
    pub event: Event,
    /// Whether choosing it records something (an answer, a skip); "why",
    /// "back" and "pause" record nothing.
    pub records: bool,
}

impl Choice {
    fn new(key: impl Into<String>, label: impl Into<String>, event: Event) -> Self {
        Choice {
            key: key.into(),
            label: label.into(),
            event,
            records: true,
        }
    }

    fn aside(mut self) -> Self {
        self.records = false;
        self
    }
}

/// What a question screen shows besides the question.
#[derive(Debug, Clone, PartialEq)]
pub struct QuestionScreen<'a> {
    pub question: &'a Question,
    pub section_title: &'a str,
    /// "question N of about M": N among the questions asked, M the whole bank,
    /// so the count does not change while the client answers.
    pub number: usize,
    pub about: usize,
    /// The introduction of an easy part, shown above its first question.
    pub intro: Option<String>,
    /// The opening, above the very first question.
    pub opening: Option<Opening>,
    /// The opening's technical details are shown.
    pub show_more: bool,
    /// "Why we ask this" is shown (`question.why`).
    pub show_why: bool,
    /// One support line kept in view during the risk questions.
    pub support_line: Option<String>,
    /// The option given before, when the client went back to this question.
    pub previous: Option<String>,
}

/// What to show now.
#[derive(Debug, Clone, PartialEq)]
pub enum Screen<'a> {
    /// Which country, only to show the right support numbers.
    Region,
    /// Whether answers may be kept if the client pauses or leaves.
    Keep,
    /// Said once when the home may be watched.
    Watched {
        /// Answers kept so far were deleted.
        was_kept: bool,
        /// A copy only the clinic can open will be suggested at the end.
        clinic_key: bool,
    },
    /// A sensitive part: what it asks, then "is now still a safe and private time?".
    PartIntro {
        section: &'a Section,
        /// Questions it asks (follow-ups counted only if they will be asked).
        count: usize,
    },
    Question(QuestionScreen<'a>),
    /// "Is now a safe time?" was answered no.
    NotNow,
    /// Support services, at once after a risk answer of yes.
    Crisis {
        /// The acuity item was yes: contact someone today.
        acute: bool,
    },
    PlanIntro,
    PlanPrompt(&'a PlanPrompt),
    Ended(Ending),
}

/// What a screen between questions is waiting for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "screen")]
pub enum Pending {
    NotNow,
    Crisis { acute: bool },
    Watched { was_kept: bool },
}

/// Everything the walk needs to continue exactly where it was.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WalkState {
    pub flow: FlowState,
    /// Region for support numbers; `None` until the client is asked.
    pub region: Option<String>,
    /// Whether answers may be kept on this device; `None` asks once, after
    /// the first question.
    pub keep: Option<bool>,
    /// The home may be watched (acknowledged once): from then on nothing is
    /// kept unless the client asks.
    pub watched: bool,
    /// Support resources were shown for a risk answer (shown again for item 5).
    pub crisis_shown: bool,
    /// The opening is still to be shown above the first question.
    pub opening: Option<Opening>,
    /// A screen between questions waiting for the client.
    pub pending: Option<Pending>,
    /// The question whose "why we ask" is open.
    pub why: Option<String>,
    /// The question whose technical details are open.
    pub more: Option<String>,
    /// An easy part's introduction, shown above its first question.
    pub intro: Option<String>,
    /// The option given before, after going back to a question.
    pub previous: Option<String>,
    pub ended: Option<Ending>,
}

/// What applying an event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Applied {
    /// Something a draft holds changed: save it now.
    pub save: bool,
}

/// An event that does not belong to the screen shown (a stale page, a
/// doctored form): nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotHere;

/// The walk: the flow plus the rules around it.
#[derive(Debug, Clone)]
pub struct Walk<'a> {
    pub flow: Flow<'a>,
    /// A clinic key is set, so a copy only the clinic can open can be saved.
    pub clinic_key: bool,
    state: WalkState,
}

impl<'a> Walk<'a> {
    /// Continue from `state` (its flow is taken from `flow`, already resumed).
    pub fn new(flow: Flow<'a>, mut state: WalkState) -> Self {
        // A resumed walk whose answers say the home may be watched has told
        // the client already; it is not said twice.
        state.watched = state.watched || super::watched_home(&flow.state.answers);
        state.flow = FlowState::default();
        let mut walk = Walk {
            flow,
            clinic_key: false,
            state,
        };
        walk.settle();
        walk
    }

    /// Continue a walk kept whole (the page keeps one per client).
    pub fn resume(bank: &'a super::QuestionBank, state: WalkState) -> Self {
        let flow = Flow::resume(bank, state.flow.clone());
        Walk::new(flow, state)
    }

    /// A copy of the whole state, for a draft of the walk itself.
    pub fn state(&self) -> WalkState {
        let mut state = self.state.clone();
        state.flow = self.flow.state.clone();
        state
    }

    pub fn region(&self) -> Option<&str> {
        self.state.region.as_deref()
    }

    /// Whether the client agreed to keep answers on this device.
    pub fn keep(&self) -> Option<bool> {
        self.state.keep
    }

    pub fn watched(&self) -> bool {
        self.state.watched
    }

    /// The country changed on request (the visit's picker).
    pub fn set_region(&mut self, region: String) {
        self.state.region = Some(region);
    }

    /// Consent to keep answers, given or refused when pausing.
    pub fn set_keep(&mut self, keep: bool) {
        self.state.keep = Some(keep);
    }

    pub fn ended(&self) -> Option<Ending> {
        self.state.ended
    }

    /// The support resources for the client's region (international ones
    /// until it is known), emergency first.
    pub fn crisis_resources(&self) -> Vec<CrisisResource> {
        crate::crisis::resources_list(
            self.state
                .region
                .as_deref()
                .unwrap_or(crate::crisis::FALLBACK_REGION),
        )
    }

    /// Crisis resources apply and must stay in sight on every screen from
    /// now on: the support screen was shown, or a risk answer is yes.
    pub fn crisis_in_sight(&self) -> bool {
        self.state.crisis_shown
            || self
                .flow
                .state
                .answers
                .iter()
                .any(|(q, a)| risk::is_positive_risk_answer(q, a))
    }

    /// The screen to show now.
    pub fn screen(&self) -> Screen<'a> {
        if let Some(ending) = self.state.ended {
            return Screen::Ended(ending);
        }
        match self.state.pending {
            Some(Pending::NotNow) => return Screen::NotNow,
            Some(Pending::Crisis { acute }) => return Screen::Crisis { acute },
            Some(Pending::Watched { was_kept }) => {
                return Screen::Watched {
                    was_kept,
                    clinic_key: self.clinic_key,
                };
            }
            None => {}
        }
        if self.flow.state.answers.contains_key(SAFE_NOW) {
            if self.state.region.is_none() {
                return Screen::Region;
            }
            if self.state.keep.is_none() {
                return Screen::Keep;
            }
        }
        match self.flow.next_step() {
            Step::SectionStart(section) => {
                let count = self
                    .flow
                    .bank
                    .in_section(&section.id)
                    .filter(|q| q.ask_if.is_none())
                    .count();
                Screen::PartIntro { section, count }
            }
            Step::Question(q) => Screen::Question(self.question_screen(q)),
            Step::Plan(_) if !self.plan_started() => Screen::PlanIntro,
            Step::Plan(prompt) => Screen::PlanPrompt(prompt),
            Step::Done => Screen::Ended(Ending::Completed),
        }
    }

    fn question_screen(&self, q: &'a Question) -> QuestionScreen<'a> {
        let bank = self.flow.bank;
        let opening = self.state.opening.clone().filter(|_| q.id == SAFE_NOW);
        let show_more = self.state.more.as_deref() == Some(q.id.as_str())
            && opening.as_ref().is_some_and(|o| o.more.is_some());
        let support_line = (q.section == "risk")
            .then(|| {
                let resources = self.crisis_resources();
                resources.iter().find(|r| r.kind == "support").map(|r| {
                    format!(
                        "Support is there if you need it. {}",
                        crate::crisis::wording(r).text()
                    )
                })
            })
            .flatten();
        QuestionScreen {
            question: q,
            section_title: bank.section(&q.section).map_or("", |s| s.title.as_str()),
            number: self.flow.progress(&q.id).0,
            about: bank.questions.len(),
            intro: self.state.intro.clone(),
            opening,
            show_more,
            show_why: self.state.why.as_deref() == Some(q.id.as_str()),
            support_line,
            previous: self.state.previous.clone(),
        }
    }

    /// The title of a screen, as both front-ends show it.
    pub fn title(&self, screen: &Screen) -> String {
        match screen {
            Screen::Region => "Support numbers".into(),
            Screen::Keep => "If you need to stop".into(),
            Screen::Watched { .. } => "Keeping this private".into(),
            Screen::PartIntro { section, .. } => section.title.clone(),
            Screen::Question(q) => match &q.opening {
                Some(opening) => opening.title.clone(),
                None => format!(
                    "{} · question {} of about {}",
                    q.section_title, q.number, q.about
                ),
            },
            Screen::NotNow => "That is completely okay".into(),
            Screen::Crisis { .. } => "Support is available now".into(),
            Screen::PlanIntro | Screen::PlanPrompt(_) => self.flow.bank.plan.title.clone(),
            Screen::Ended(_) => String::new(),
        }
    }

    /// The question or prompt the choices answer.
    pub fn prompt(&self, screen: &Screen<'a>) -> String {
        match screen {
            Screen::Region => "Which country are you in?".into(),
            Screen::Keep => "Should your answers be kept if you pause or leave?".into(),
            Screen::Watched { .. } => "Ready to go on?".into(),
            Screen::PartIntro { .. } => {
                "Is now still a safe and private time to answer these?".into()
            }
            Screen::Question(q) => q.question.text.clone(),
            Screen::NotNow | Screen::Crisis { .. } => "What would you like to do?".into(),
            Screen::PlanIntro => "Would you like to make a plan now?".into(),
            Screen::PlanPrompt(p) => p.text.clone(),
            Screen::Ended(_) => String::new(),
        }
    }

    /// The choices a screen offers, in order, and the one that holds the
    /// cursor: never one that goes on into something sensitive or records
    /// an answer the client did not choose.
    pub fn choices(&self, screen: &Screen<'a>) -> (Vec<Choice>, usize) {
        let back_and_pause = |items: &mut Vec<Choice>| {
            if self.flow.can_go_back() {
                items.push(Choice::new("b", "Go back", Event::Back).aside());
            }
        };
        match screen {
            Screen::Region => {
                let mut items = vec![Choice::new(
                    "0",
                    "Somewhere else, or not in this list (show international numbers)",
                    Event::Region(None),
                )];
                // By name, so typing "Uni" finds the United Kingdom first.
                let mut regions: Vec<_> = crate::crisis::data().regions.iter().collect();
                regions.sort_by(|a, b| a.name.cmp(&b.name));
                items.extend(regions.into_iter().map(|r| {
                    Choice::new(
                        r.region.clone(),
                        r.name.clone(),
                        Event::Region(Some(r.region.clone())),
                    )
                }));
                (items, 0)
            }
            Screen::Keep => (
                vec![
                    Choice::new(
                        "1",
                        "No, keep nothing (next time starts afresh)",
                        Event::Keep(false),
                    ),
                    Choice::new("2", KEEP_YES, Event::Keep(true)),
                ],
                0,
            ),
            Screen::Watched { .. } => (
                vec![Choice::new("1", "Continue", Event::Continue).aside()],
                0,
            ),
            Screen::PartIntro { .. } | Screen::PlanIntro => {
                let (go_on, skip) = if matches!(screen, Screen::PlanIntro) {
                    ("Make a plan now", "Leave the plan for now")
                } else {
                    ("Yes, continue", "Skip this part")
                };
                // Skipping holds the cursor: going on into a sensitive part is
                // always the client's own choice, never what Enter alone does.
                let mut items = vec![
                    Choice::new("s", skip, Event::SkipPart),
                    Choice::new("1", go_on, Event::Continue),
                ];
                back_and_pause(&mut items);
                items.push(Choice::new("p", "Pause and finish later", Event::Pause).aside());
                (items, 0)
            }
            Screen::Question(q) => {
                // "Skip this question" comes first and holds the cursor, so
                // Enter pressed out of habit never records an answer the
                // client did not choose.
                let mut items = vec![Choice::new("s", "Skip this question", Event::Skip)];
                items.extend(q.question.options.iter().enumerate().map(|(i, o)| {
                    Choice::new(
                        (i + 1).to_string(),
                        o.label.clone(),
                        Event::Answer(o.id.clone()),
                    )
                }));
                if !q.show_why {
                    items.push(Choice::new("w", "Why we ask this", Event::Why).aside());
                }
                if q.opening.as_ref().is_some_and(|o| o.more.is_some()) && !q.show_more {
                    items.push(Choice::new("m", MORE_LABEL, Event::More).aside());
                }
                if self.flow.can_go_back() {
                    items.push(Choice::new("b", "Go back", Event::Back).aside());
                    // With nothing answered yet there is nothing to keep for later.
                    items.push(Choice::new("p", "Pause and finish later", Event::Pause).aside());
                }
                let start = q
                    .previous
                    .as_ref()
                    .and_then(|p| q.question.options.iter().position(|o| o.id == *p))
                    .map_or(0, |i| i + 1);
                (items, start)
            }
            Screen::NotNow => (
                vec![
                    Choice::new("1", "Leave for now", Event::Leave),
                    Choice::new("2", "Carry on anyway", Event::Continue),
                ],
                0,
            ),
            Screen::Crisis { .. } => (
                vec![
                    Choice::new("1", "Continue with the questions", Event::Continue),
                    Choice::new("2", "Finish now and see my report", Event::FinishNow),
                ],
                0,
            ),
            Screen::PlanPrompt(_) | Screen::Ended(_) => (Vec::new(), 0),
        }
    }

    /// Apply what the client did on the screen shown. An event that does not
    /// belong there changes nothing.
    pub fn apply(&mut self, event: Event) -> Result<Applied, NotHere> {
        let screen = self.screen();
        if let Screen::Ended(_) = screen {
            return Err(NotHere);
        }
        if event == Event::QuickExit {
            self.state.ended = Some(Ending::QuickExit);
            return Ok(Applied { save: false });
        }
        // Only what the screen offers (free text on a plan prompt).
        let (choices, _) = self.choices(&screen);
        let offered = match (&screen, &event) {
            (Screen::PlanPrompt(_), Event::PlanText(_) | Event::Back) => true,
            (Screen::PlanPrompt(_), _) => false,
            _ => choices.iter().any(|c| c.event == event),
        };
        if !offered {
            return Err(NotHere);
        }
        let mut save = true;
        match screen {
            Screen::Region => {
                if let Event::Region(region) = event {
                    self.state.region =
                        Some(region.unwrap_or_else(|| crate::crisis::FALLBACK_REGION.into()));
                }
            }
            Screen::Keep => self.state.keep = Some(event == Event::Keep(true)),
            Screen::Watched { .. } => {
                self.state.pending = None;
                save = false;
            }
            Screen::PartIntro { section, .. } => match event {
                Event::Continue => self.flow.start_section(&section.id),
                Event::SkipPart => self.flow.skip_section(&section.id),
                Event::Back => {
                    self.flow.back();
                }
                _ => return Ok(self.end(Ending::Paused)),
            },
            Screen::PlanIntro => match event {
                Event::Continue => self.flow.start_section(PLAN_SECTION),
                Event::SkipPart => {
                    self.flow.start_section(PLAN_SECTION);
                    self.flow.skip_plan();
                }
                Event::Back => {
                    self.flow.back();
                }
                _ => return Ok(self.end(Ending::Paused)),
            },
            Screen::Question(q) => {
                let id = q.question.id.clone();
                // What a question screen shows once is not shown again.
                self.state.why = None;
                self.state.more = None;
                self.state.intro = None;
                self.state.previous = None;
                match event {
                    Event::Why => {
                        self.state.why = Some(id);
                        save = false;
                    }
                    Event::More => {
                        self.state.more = Some(id);
                        save = false;
                    }
                    Event::Back => self.back_to_question(),
                    Event::Pause => return Ok(self.end(Ending::Paused)),
                    Event::Skip => self.flow.skip(&id),
                    Event::Answer(option) => self.answered(&id, &option),
                    _ => return Err(NotHere),
                }
            }
            Screen::NotNow => {
                self.state.pending = None;
                if event == Event::Leave {
                    // Next time starts by asking again, not from a stale "no".
                    self.flow.back();
                    self.state.ended = Some(Ending::NotNow);
                    return Ok(Applied { save: true });
                }
                save = false;
            }
            Screen::Crisis { .. } => {
                self.state.pending = None;
                if event == Event::FinishNow {
                    return Ok(self.end(Ending::FinishedEarly));
                }
                save = false;
            }
            Screen::PlanPrompt(prompt) => match event {
                Event::PlanText(text) => self.flow.answer_plan(&prompt.id, Some(&text)),
                _ => {
                    self.flow.back();
                }
            },
            Screen::Ended(_) => return Err(NotHere),
        }
        save |= self.settle();
        Ok(Applied { save })
    }

    fn end(&mut self, ending: Ending) -> Applied {
        self.state.ended = Some(ending);
        Applied { save: false }
    }

    /// Go back from a question: the option given before is remembered, so
    /// the question starts from it.
    fn back_to_question(&mut self) {
        let previous = self.flow.state.answers.clone();
        if let Some(Entry::Question(id)) = self.flow.back() {
            self.state.previous = previous
                .get(&id)
                .filter(|a| {
                    self.flow
                        .bank
                        .question(&id)
                        .is_some_and(|q| q.option(a).is_some())
                })
                .cloned();
        }
    }

    fn answered(&mut self, question: &str, option: &str) {
        self.flow.answer(question, option);
        if question == SAFE_NOW && option == "no" {
            self.state.pending = Some(Pending::NotNow);
            return;
        }
        if risk::is_positive_risk_answer(question, option) {
            let acute = question == risk::ASQ_ACUITY;
            if acute || !self.state.crisis_shown {
                self.state.crisis_shown = true;
                self.state.pending = Some(Pending::Crisis { acute });
            }
        }
    }

    fn plan_started(&self) -> bool {
        self.flow
            .state
            .history
            .iter()
            .any(|e| matches!(e, Entry::Section(s) if s == PLAN_SECTION))
    }

    /// What happens by itself between screens: once "is now a safe time?" is
    /// answered the opening has done its job; when the home may be watched,
    /// nothing is kept from then on (the client is told); the first part and
    /// easy parts start without an extra step. True when a draft must be saved.
    fn settle(&mut self) -> bool {
        let bank = self.flow.bank;
        let first_section = bank.sections.first().map(|s| s.id.as_str());
        loop {
            if self.state.ended.is_some() || self.state.pending.is_some() {
                return false;
            }
            if self.flow.state.answers.contains_key(SAFE_NOW) {
                self.state.opening = None;
                if self.state.region.is_none() || self.state.keep.is_none() {
                    return false;
                }
                if !self.state.watched && super::watched_home(&self.flow.state.answers) {
                    self.state.watched = true;
                    let was_kept = self.state.keep == Some(true);
                    // Nothing stays on this device from here on unless the
                    // client asks (when pausing); a draft kept so far is
                    // deleted now.
                    self.state.keep = Some(false);
                    self.state.pending = Some(Pending::Watched { was_kept });
                    return true;
                }
            }
            match self.flow.next_step() {
                Step::SectionStart(section) if Some(section.id.as_str()) == first_section => {
                    // The opening introduces the first part.
                    self.flow.start_section(&section.id);
                }
                Step::SectionStart(section) if !section.sensitive => {
                    self.flow.start_section(&section.id);
                    self.state.intro = Some(section.intro.clone());
                }
                Step::Done => {
                    self.state.ended = Some(Ending::Completed);
                    return false;
                }
                _ => return false,
            }
        }
    }
}

#[cfg(test)]
mod tests;
