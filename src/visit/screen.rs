//! The screen model: what one screen of a visit shows, in no front-end's
//! terms. The terminal and the page draw it and send back an [`Action`];
//! they decide nothing about what is said, offered or kept.
use crate::crisis::CrisisResource;
use crate::questionnaire::walk::Event;
use crate::report::saving::SaveChoice;
use crate::report::{Report, View};

/// One screen.
#[derive(Debug, Clone, PartialEq)]
pub struct Screen {
    /// What stays around every screen: the crisis numbers once they apply.
    pub frame: Frame,
    /// A stable name for the screen (a page's form carries it back, so a
    /// form drawn for another screen is not applied; tests name screens by it).
    pub id: String,
    pub title: String,
    pub body: Vec<Block>,
    pub ask: Ask,
}

/// Drawn around every screen by every front-end, so no screen can forget it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Frame {
    /// The region's emergency number and its whole support list, emergency
    /// first: above the question on every screen once any risk answer is yes
    /// (and on the support screen itself); the last lines of a screen that
    /// asks nothing (a farewell).
    pub crisis: Option<Vec<CrisisResource>>,
    /// The country was inferred (locale, clinic file): named beside the
    /// numbers, with a way to change it among the choices.
    pub region_note: Option<String>,
    /// Someone at home may see this device: front-ends use neutral titles.
    pub watched: bool,
    /// A farewell: the numbers come after its words, the last thing shown.
    pub last: bool,
}

/// A piece of a screen's body, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// Paragraphs, separated by blank lines.
    Text(String),
    /// Said once because of the last thing that happened (a problem, a retry).
    Notice(String),
    /// Quieter text: a reason asked for, a support line, a hint.
    Note(String),
    /// The outcome in calm words: "Video sessions look like a good fit." and
    /// the headline.
    Outcome { words: String, headline: String },
    /// A whole report copy: long; a terminal pages it, the page lays it out.
    Report { view: View, report: Box<Report> },
    /// A link to follow later (the hosted check's link to carry on).
    Link { label: String, href: String },
    /// The hosted check's end: the client may download their own copy
    /// (`Visit::own_copy`), made when asked and never stored on the server.
    OwnCopy { label: String, note: String },
}

/// What the screen asks of the person.
#[derive(Debug, Clone, PartialEq)]
pub enum Ask {
    /// One of these; `cursor` is where the terminal's highlight starts and
    /// is always the protective choice (see the proof in `visit/tests.rs`).
    Choose {
        prompt: String,
        choices: Vec<Choice>,
        cursor: usize,
        /// A long list the person narrows by typing (the country picker).
        typed: bool,
    },
    /// Free text; empty leaves it out. `value` is what was typed before a
    /// problem was found, so nothing typed is lost.
    Text {
        prompt: String,
        hint: String,
        value: String,
        /// Actions offered beside the text (go back, leave it out).
        choices: Vec<Choice>,
        /// What the typed text is.
        field: TextField,
    },
    /// The page's camera, microphone and speaker test.
    Media,
    /// Nothing to choose: the report is being put together.
    Wait,
    /// Nothing more: the visit has ended ([`Screen::frame`] is then drawn last).
    Nothing,
}

/// What a free-text question asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextField {
    /// A session-plan entry.
    Plan,
    /// The name of the file a report is saved in.
    FileName,
}

impl TextField {
    /// What typing `text` does.
    pub fn action(self, text: String) -> Action {
        match self {
            TextField::Plan => Action::Walk(Event::PlanText(text)),
            TextField::FileName => Action::FileName(text),
        }
    }
}

impl Ask {
    pub fn choices(&self) -> &[Choice] {
        match self {
            Ask::Choose { choices, .. } | Ask::Text { choices, .. } => choices,
            _ => &[],
        }
    }
}

/// One choice, in the order shown.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    /// A short key for the terminal ("1", "s") and a stable id for forms.
    pub key: String,
    pub label: String,
    pub action: Action,
    /// Choosing it records something (an answer, a skip); "why", "back" and
    /// "pause" record nothing.
    pub records: bool,
}

impl Choice {
    pub(super) fn new(key: impl Into<String>, label: impl Into<String>, action: Action) -> Self {
        Choice {
            key: key.into(),
            label: label.into(),
            action,
            records: true,
        }
    }

    pub(super) fn aside(mut self) -> Self {
        self.records = false;
        self
    }
}

/// What the person did.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Something inside the question walk.
    Walk(Event),
    /// Welcome back: pick up the kept answers.
    PickUp,
    /// Welcome back: delete them and start again.
    StartAgain,
    /// Welcome back: not now (the kept answers stay).
    NotNow,
    /// An unreadable kept file: delete it, or leave it.
    DeleteKept,
    LeaveKept,
    /// Pausing without consent given before: keep the answers, or not.
    KeepOnPause(bool),
    /// Open the country picker (the country was inferred).
    ChangeRegion,
    /// The page's media test is done or passed by.
    MediaDone,
    /// At the end: what to do with the report. `name`: a file name typed
    /// with the choice (the page's form); `None` asks for one next.
    Save {
        choice: SaveChoice,
        name: Option<String>,
    },
    /// The file name asked for after a save choice; empty uses the suggestion.
    FileName(String),
    /// Watched home: save an unlocked copy after all, having read the risk.
    ConfirmUnlocked,
    /// Back to the saving choices (after reading, a problem, or "no").
    BackToChoices,
    /// Watched home, the end: clear the screen and finish.
    Finish,
    /// Ctrl-C, the terminal closed, or the page went away for good.
    Stop,
    /// Leave at once: nothing is left on screen.
    QuickExit,
}
