//! The interactive walk through the questionnaire in a terminal: each screen
//! of the walk (`walk.rs`, where the trauma-informed rules live) drawn as a
//! heading, its text and a menu. Terminal-independent itself: it talks to a
//! [`Prompter`], so tests script a client.
use super::flow::{Flow, FlowState};
use super::prompt::{Interrupt, MenuItem, Prompter, TEXT_BACK};
pub use super::walk::{Ending, Opening, PLAN_SECTION};
use super::walk::{Event, QuestionScreen, Screen, Walk, WalkState};
use crate::term::Style;

/// What a draft needs after every change.
pub struct Snapshot<'s> {
    pub state: &'s FlowState,
    /// The client asked for answers to be kept on this device.
    pub keep: bool,
    /// The region for support numbers, once known.
    pub region: Option<&'s str>,
}

/// Called after every change so a draft (when the client agreed) is always
/// current, and removed when they have not (or no longer) agreed.
pub type SaveHook<'h> = dyn FnMut(Snapshot<'_>) + 'h;

/// The terminal front-end of [`Walk`]: draws each screen and turns the
/// client's pick into an event. The rules themselves live in `walk.rs`.
pub struct Session<'a, 'h, P: Prompter + ?Sized> {
    pub flow: Flow<'a>,
    pub prompter: &'h mut P,
    pub style: Style,
    /// Region for support numbers; `None` until the client is asked.
    pub region: Option<String>,
    /// Whether answers may be kept on this device; `None` asks once, after
    /// the first question.
    pub keep: Option<bool>,
    /// The home may be watched (acknowledged once): from then on nothing is
    /// kept unless the client asks.
    pub watched: bool,
    /// A clinic key is set, so a copy only the clinic can open can be saved.
    pub clinic_key: bool,
    pub opening: Option<Opening>,
    pub save: &'h mut SaveHook<'h>,
}

impl<'a, 'h, P: Prompter + ?Sized> Session<'a, 'h, P> {
    pub fn new(
        flow: Flow<'a>,
        prompter: &'h mut P,
        style: Style,
        region: Option<String>,
        save: &'h mut SaveHook<'h>,
    ) -> Self {
        let watched = super::watched_home(&flow.state.answers);
        Session {
            flow,
            prompter,
            style,
            region,
            keep: Some(false),
            watched,
            clinic_key: false,
            opening: None,
            save,
        }
    }

    fn help(&self) -> String {
        super::prompt::menu_help(self.style.plain).to_string()
    }

    /// Walk until the end or until the client stops.
    pub fn run(&mut self) -> Ending {
        let state = WalkState {
            region: self.region.clone(),
            keep: self.keep,
            watched: self.watched,
            opening: self.opening.clone(),
            ..WalkState::default()
        };
        let mut walk = Walk::new(self.flow.clone(), state);
        walk.clinic_key = self.clinic_key;
        let ending = loop {
            let screen = walk.screen();
            if let Screen::Ended(ending) = screen {
                break ending;
            }
            let event = match self.show(&walk, &screen) {
                Ok(event) => event,
                Err(interrupt) => break ending(interrupt),
            };
            if let Ok(applied) = walk.apply(event)
                && applied.save
            {
                (self.save)(Snapshot {
                    state: &walk.flow.state,
                    keep: walk.keep() == Some(true),
                    region: walk.region(),
                });
            }
        };
        let state = walk.state();
        self.region = state.region;
        self.keep = state.keep;
        self.watched = state.watched;
        self.opening = state.opening;
        self.flow = walk.flow;
        ending
    }

    fn header(&mut self, title: &str, detail: &str) {
        self.prompter.clear();
        let heading = self.style.heading(title);
        self.prompter.say(&heading);
        if !detail.is_empty() {
            self.prompter.say(detail);
        }
    }

    /// Draw one screen and wait for the client's choice.
    fn show(&mut self, walk: &Walk<'a>, screen: &Screen<'a>) -> Result<Event, Interrupt> {
        let title = walk.title(screen);
        let prompt = walk.prompt(screen);
        let detail = match screen {
            Screen::Region => {
                "This is only used to show the right support numbers. Type the first \
                 letters of your country to find it.\n"
                    .to_string()
            }
            Screen::Keep => format!("{}\n", super::walk::KEEP_TEXT),
            Screen::Watched {
                was_kept,
                clinic_key,
            } => {
                let quick_exit = if self.style.plain {
                    "Typing q leaves at once and clears the screen"
                } else {
                    "Esc leaves at once and clears the screen"
                };
                let (kept, save) = super::walk::watched_notes(*was_kept, *clinic_key);
                format!(
                    "Thank you for telling us. To help keep this private from here on:\n\
                     • {kept};\n\
                     • at the end, {save};\n\
                     • when you finish, the screen is cleared.\n\n\
                     {quick_exit}, at any moment.\n"
                )
            }
            Screen::PartIntro { section, count } => {
                format!("{}\n\n{}\n", section.intro, super::walk::part_size(*count))
            }
            Screen::Question(q) => self.question_detail(q),
            Screen::NotNow => format!(
                "You can come back whenever it is a better time: run {} check again.\n\n{}\n",
                crate::term::self_command(),
                crate::crisis::emergency_line(&walk.crisis_resources())
            ),
            Screen::Crisis { acute } => format!("{}\n", super::walk::crisis_intro(*acute)),
            Screen::PlanIntro => format!("{}\n", walk.flow.bank.plan.intro),
            Screen::PlanPrompt(p) => format!(
                "{}\n\n{}\n",
                p.why,
                self.style.dim(&crate::term::capitalise(&p.hint))
            ),
            Screen::Ended(_) => String::new(),
        };
        self.header(&title, &detail);
        if let Screen::Crisis { .. } = screen {
            let resources = crate::crisis::render_list(&walk.crisis_resources(), self.style);
            self.prompter.say(&resources);
        }
        if let Screen::PlanPrompt(_) = screen {
            let help = if self.style.plain {
                format!(
                    "Enter on an empty line leaves this out. Type {TEXT_BACK} to go back, or q to leave at once."
                )
            } else {
                format!(
                    "Enter on an empty line leaves this out · type {TEXT_BACK} to go back · Esc leaves at once"
                )
            };
            let reply = self.prompter.text(&prompt, &help, "")?;
            return Ok(if reply.trim().eq_ignore_ascii_case(TEXT_BACK) {
                Event::Back
            } else {
                Event::PlanText(reply)
            });
        }
        let (choices, start) = walk.choices(screen);
        let items: Vec<MenuItem> = choices
            .iter()
            .map(|c| {
                let item = MenuItem::new(c.key.clone(), c.label.clone());
                if c.records { item } else { item.without_tick() }
            })
            .collect();
        let help = self.help();
        let picked = if let Screen::Region = screen {
            self.prompter.choose_typed(&prompt, &items, start, &help)?
        } else {
            self.prompter.choose(&prompt, &items, start, &help)?
        };
        Ok(choices[picked].event.clone())
    }

    /// Above a question: an easy part's introduction or the opening, the
    /// reason when asked for, and a support line during the risk questions.
    fn question_detail(&self, q: &QuestionScreen) -> String {
        let mut detail = q
            .intro
            .as_ref()
            .map(|i| format!("{i}\n"))
            .unwrap_or_default();
        if let Some(opening) = &q.opening {
            detail = opening.text.clone();
            if let Some(more) = opening.more.as_ref().filter(|_| q.show_more) {
                detail.push_str(&format!("\n\n{more}"));
            }
            detail.push('\n');
        }
        if q.show_why {
            detail.push_str(&format!("Why we ask this: {}\n", q.question.why));
        }
        if let Some(line) = &q.support_line {
            detail.push_str(&format!("{}\n", self.style.dim(line)));
        }
        detail
    }
}

fn ending(interrupt: Interrupt) -> Ending {
    match interrupt {
        Interrupt::QuickExit => Ending::QuickExit,
        Interrupt::Stop | Interrupt::Closed => Ending::Stopped,
    }
}

#[cfg(test)]
mod tests;
