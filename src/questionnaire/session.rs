//! The interactive walk through the questionnaire, following the product's
//! trauma-informed rules: say what comes next, explain why on request, every
//! question skippable, go back, pause, a quick exit, a safety check before
//! sensitive parts, and crisis resources the moment a risk answer is yes.
//! Terminal-independent: it talks to a [`Prompter`], so tests script a client.
use super::bank::Question;
use super::bank::Section;
use super::flow::{Entry, Flow, FlowState, Step};
use super::prompt::{Interrupt, MenuItem, Prompter, TEXT_BACK};
use crate::crisis::CrisisResource;
use crate::term::Style;

/// How the walk ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// Every question and the plan were answered or skipped.
    Completed,
    /// The client chose to finish early and see the report (status `stopped`).
    FinishedEarly,
    /// The client chose "pause and finish later".
    Paused,
    /// Esc: leave at once, clear the screen.
    QuickExit,
    /// Ctrl-C or the terminal closed.
    Stopped,
    /// "Is now a safe and private time?" was answered no, and the client chose to leave.
    NotNow,
}

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

/// The opening screen, drawn above the first question ("Is now a safe and
/// private time?") so that the first thing asked is whether now is safe.
#[derive(Debug, Clone)]
pub struct Opening {
    pub title: String,
    pub text: String,
    /// Technical details, shown only on request ("More about the connection test").
    pub more: Option<String>,
}

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
    crisis: Vec<CrisisResource>,
    /// Crisis resources already shown for a screening yes (shown again for item 5).
    crisis_shown: bool,
}

const SAFE_NOW: &str = "start.safe_now";

const KEY_SKIP: &str = "s";
const KEY_WHY: &str = "w";
const KEY_BACK: &str = "b";
const KEY_PAUSE: &str = "p";
const KEY_MORE: &str = "m";

enum Gate {
    Continue,
    Skip,
}

enum Picked {
    Option(String),
    Skip,
    Why,
    Back,
    Pause,
    More,
}

impl<'a, 'h, P: Prompter + ?Sized> Session<'a, 'h, P> {
    pub fn new(
        flow: Flow<'a>,
        prompter: &'h mut P,
        style: Style,
        region: Option<String>,
        save: &'h mut SaveHook<'h>,
    ) -> Self {
        let crisis = crate::crisis::resources_list(
            region.as_deref().unwrap_or(crate::crisis::FALLBACK_REGION),
        );
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
            crisis,
            crisis_shown: false,
        }
    }

    fn saved(&mut self) {
        (self.save)(Snapshot {
            state: &self.flow.state,
            keep: self.keep == Some(true),
            region: self.region.as_deref(),
        });
    }

    fn help(&self) -> String {
        super::prompt::menu_help(self.style.plain).to_string()
    }

    /// Walk until the end or until the client stops.
    pub fn run(&mut self) -> Ending {
        let first_section = self.flow.bank.sections.first().map(|s| s.id.clone());
        let mut why_for: Option<String> = None;
        let mut more_for: Option<String> = None;
        // The intro of a part that needs no safety check, shown above its first question.
        let mut intro: Option<String> = None;
        // The option given before, when the client went back to a question.
        let mut cursor: Option<usize> = None;
        loop {
            if let Err(ending) = self.checkpoints() {
                return ending;
            }
            let step = self.flow.next_step();
            let result = match step {
                Step::SectionStart(section) if Some(&section.id) == first_section.as_ref() => {
                    // The opening screen already introduced the first part.
                    self.flow.start_section(&section.id);
                    continue;
                }
                Step::SectionStart(section) if !section.sensitive => {
                    self.flow.start_section(&section.id);
                    intro = Some(section.intro.clone());
                    continue;
                }
                Step::SectionStart(section) => self.section_intro(section),
                Step::Question(q) => {
                    let show_why = why_for.as_deref() == Some(q.id.as_str());
                    let show_more = more_for.as_deref() == Some(q.id.as_str());
                    let picked = self.question(q, show_why, show_more, cursor, intro.take());
                    why_for = None;
                    more_for = None;
                    cursor = None;
                    match picked {
                        Ok(Picked::Why) => {
                            why_for = Some(q.id.clone());
                            continue;
                        }
                        Ok(Picked::More) => {
                            more_for = Some(q.id.clone());
                            continue;
                        }
                        Ok(Picked::Back) => {
                            cursor = self.back_cursor();
                            self.saved();
                            continue;
                        }
                        Ok(Picked::Pause) => Err(Ending::Paused),
                        Ok(Picked::Skip) => {
                            self.flow.skip(&q.id);
                            self.saved();
                            Ok(())
                        }
                        Ok(Picked::Option(option)) => self.answered(q, &option),
                        Err(i) => Err(ending(i)),
                    }
                }
                Step::Plan(prompt) => {
                    if !self.plan_started() {
                        self.plan_intro()
                    } else {
                        self.plan_prompt(prompt.id.clone(), &prompt.text, &prompt.hint, &prompt.why)
                    }
                }
                Step::Done => return Ending::Completed,
            };
            if let Err(ending) = result {
                return ending;
            }
        }
    }

    /// What happens between questions, once: after "is now a safe time?",
    /// the country (when unknown) and whether to keep answers; when the home
    /// may be watched, what the check now does to keep things private.
    fn checkpoints(&mut self) -> Result<(), Ending> {
        if !self.flow.state.answers.contains_key(SAFE_NOW) {
            return Ok(());
        }
        self.opening = None;
        if self.region.is_none() {
            self.ask_region().map_err(ending)?;
            self.saved();
        }
        if self.keep.is_none() {
            self.keep = Some(self.ask_keep().map_err(ending)?);
            self.saved();
        }
        if !self.watched && super::watched_home(&self.flow.state.answers) {
            self.watched = true;
            let was_kept = self.keep == Some(true);
            // Nothing stays on this device from here on unless the client asks
            // (when pausing); a draft kept so far is deleted now.
            self.keep = Some(false);
            self.saved();
            self.watched_screen(was_kept).map_err(ending)?;
        }
        Ok(())
    }

    fn ask_region(&mut self) -> Result<(), Interrupt> {
        self.header(
            "Support numbers",
            "This is only used to show the right support numbers. Type the first letters \
             of your country to find it.\n",
        );
        let data = crate::crisis::data();
        let mut items = vec![MenuItem::new(
            "0",
            "Somewhere else (show international numbers)",
        )];
        items.extend(
            data.regions
                .iter()
                .map(|r| MenuItem::new(r.region.clone(), r.name.clone())),
        );
        let help = self.help();
        let picked = self
            .prompter
            .choose_typed("Which country are you in?", &items, 0, &help)?;
        let region = match picked {
            0 => crate::crisis::FALLBACK_REGION.to_string(),
            i => items[i].key.clone(),
        };
        self.crisis = crate::crisis::resources_list(&region);
        self.region = Some(region);
        Ok(())
    }

    fn ask_keep(&mut self) -> Result<bool, Interrupt> {
        self.header(
            "If you need to stop",
            "If you pause or have to leave, your answers can be kept in a file only your user \
             account can open, and deleted when you finish. Anyone who can use your account \
             could open it.\n",
        );
        let items = [
            MenuItem::new("1", "No, keep nothing (next time starts afresh)"),
            MenuItem::new("2", "Yes, keep my answers privately until I finish"),
        ];
        let help = self.help();
        let picked = self.prompter.choose(
            "Should your answers be kept if you pause or leave?",
            &items,
            0,
            &help,
        )?;
        Ok(picked == 1)
    }

    /// Said once, calmly, when home may not feel safe or may be watched.
    fn watched_screen(&mut self, was_kept: bool) -> Result<(), Interrupt> {
        let quick_exit = if self.style.plain {
            "Typing q leaves at once and clears the screen"
        } else {
            "Esc leaves at once and clears the screen"
        };
        let deleted = if was_kept {
            " (the answers kept so far have been deleted)"
        } else {
            ""
        };
        let save = if self.clinic_key {
            "nothing is saved here unless you choose; a copy locked so only your clinic can \
             open it is suggested"
        } else {
            "nothing is saved on this device unless you choose"
        };
        let detail = format!(
            "Thank you for telling us. To help keep this private from here on:\n\
             • your answers are not kept on this device unless you ask{deleted};\n\
             • at the end, {save};\n\
             • when you finish, the screen is cleared.\n\n\
             {quick_exit}, at any moment.\n"
        );
        self.header("Keeping this private", &detail);
        let items = [MenuItem::new("1", "Continue").without_tick()];
        let help = self.help();
        self.prompter
            .choose("Ready to go on?", &items, 0, &help)
            .map(|_| ())
    }

    /// Go back one step; the cursor starts on the answer given before (on
    /// "Skip this question" when it was skipped).
    fn back_cursor(&mut self) -> Option<usize> {
        let previous = self.flow.state.answers.clone();
        match self.flow.back() {
            Some(Entry::Question(id)) => {
                let answer = previous.get(&id).cloned().unwrap_or_default();
                self.flow
                    .bank
                    .question(&id)
                    .and_then(|q| q.options.iter().position(|o| o.id == answer))
            }
            _ => None,
        }
    }

    fn header(&mut self, title: &str, detail: &str) {
        self.prompter.clear();
        let heading = self.style.heading(title);
        self.prompter.say(&heading);
        if !detail.is_empty() {
            self.prompter.say(detail);
        }
    }

    /// A sensitive part: what it asks, then "is now still a safe and private time?".
    fn section_intro(&mut self, section: &Section) -> Result<(), Ending> {
        // Follow-up questions are counted only if they will be asked.
        let count = self
            .flow
            .bank
            .in_section(&section.id)
            .filter(|q| q.ask_if.is_none())
            .count();
        let title = section.title.clone();
        let detail = format!(
            "{}\n\n{} question{}, about a minute. Any of them can be skipped.\n",
            section.intro,
            count,
            if count == 1 { "" } else { "s" }
        );
        self.header(&title, &detail);
        let prompt = "Is now still a safe and private time to answer these?";
        let Some(gate) = self.gate(prompt, "Yes, continue", "Skip this part")? else {
            return Ok(());
        };
        match gate {
            Gate::Continue => self.flow.start_section(&section.id),
            Gate::Skip => self.flow.skip_section(&section.id),
        }
        self.saved();
        Ok(())
    }

    /// The choice at the start of a part: continue, skip it, go back or pause.
    /// `None` when the client went back (already done here).
    fn gate(&mut self, prompt: &str, go_on: &str, skip: &str) -> Result<Option<Gate>, Ending> {
        // Skipping holds the cursor: going on into a sensitive part is always
        // the client's own choice, never what Enter alone does.
        let mut items = vec![MenuItem::new(KEY_SKIP, skip), MenuItem::new("1", go_on)];
        if self.flow.can_go_back() {
            items.push(MenuItem::new(KEY_BACK, "Go back").without_tick());
        }
        items.push(MenuItem::new(KEY_PAUSE, "Pause and finish later").without_tick());
        let help = self.help();
        let picked = self
            .prompter
            .choose(prompt, &items, 0, &help)
            .map_err(ending)?;
        match items[picked].key.as_str() {
            "1" => Ok(Some(Gate::Continue)),
            KEY_SKIP => Ok(Some(Gate::Skip)),
            KEY_BACK => {
                self.back_cursor();
                self.saved();
                Ok(None)
            }
            _ => Err(Ending::Paused),
        }
    }

    fn question(
        &mut self,
        q: &Question,
        show_why: bool,
        show_more: bool,
        cursor: Option<usize>,
        intro: Option<String>,
    ) -> Result<Picked, Interrupt> {
        let opening = self.opening.clone().filter(|_| q.id == SAFE_NOW);
        let section = self
            .flow
            .bank
            .section(&q.section)
            .map(|s| s.title.clone())
            .unwrap_or_default();
        let (n, _) = self.flow.progress(&q.id);
        // Follow-ups come and go with the answers; "about" the whole bank
        // keeps the count from changing while the client answers.
        let total = self.flow.bank.questions.len();
        let mut detail = intro.map(|i| format!("{i}\n")).unwrap_or_default();
        if let Some(opening) = &opening {
            detail = opening.text.clone();
            if let Some(more) = opening.more.as_ref().filter(|_| show_more) {
                detail.push_str(&format!("\n\n{more}"));
            }
            detail.push('\n');
        }
        if show_why {
            detail.push_str(&format!("Why we ask this: {}\n", q.why));
        }
        if q.section == "risk"
            && let Some(line) = self.support_line()
        {
            detail.push_str(&format!("{}\n", self.style.dim(&line)));
        }
        let title = match &opening {
            Some(opening) => opening.title.clone(),
            None => format!("{section} · question {n} of about {total}"),
        };
        self.header(&title, &detail);
        // "Skip this question" comes first and holds the cursor, so Enter
        // pressed out of habit never records an answer the client did not choose.
        let mut items = vec![MenuItem::new(KEY_SKIP, "Skip this question")];
        items.extend(
            q.options
                .iter()
                .enumerate()
                .map(|(i, o)| MenuItem::new((i + 1).to_string(), o.label.clone())),
        );
        if !show_why {
            items.push(MenuItem::new(KEY_WHY, "Why we ask this").without_tick());
        }
        if opening.as_ref().is_some_and(|o| o.more.is_some()) && !show_more {
            items.push(MenuItem::new(KEY_MORE, "More about the connection test").without_tick());
        }
        if self.flow.can_go_back() {
            items.push(MenuItem::new(KEY_BACK, "Go back").without_tick());
            // With nothing answered yet there is nothing to keep for later.
            items.push(MenuItem::new(KEY_PAUSE, "Pause and finish later").without_tick());
        }
        let help = self.help();
        let start = cursor.map_or(0, |option| option + 1);
        let picked = self.prompter.choose(&q.text, &items, start, &help)?;
        Ok(match items[picked].key.as_str() {
            KEY_SKIP => Picked::Skip,
            KEY_WHY => Picked::Why,
            KEY_BACK => Picked::Back,
            KEY_PAUSE => Picked::Pause,
            KEY_MORE => Picked::More,
            _ => Picked::Option(q.options[picked - 1].id.clone()),
        })
    }

    /// One line naming a support service, kept in view during the risk questions.
    fn support_line(&self) -> Option<String> {
        let r = self.crisis.iter().find(|r| r.kind == "support")?;
        Some(format!(
            "Support is there any time: {}, {}.",
            r.name, r.contact
        ))
    }

    fn answered(&mut self, q: &Question, option: &str) -> Result<(), Ending> {
        self.flow.answer(&q.id, option);
        self.saved();
        if q.id == "start.safe_now" && option == "no" {
            return self.not_now();
        }
        if crate::questionnaire::risk::is_positive_risk_answer(&q.id, option) {
            let acute = q.id == crate::questionnaire::risk::ASQ_ACUITY;
            if acute || !self.crisis_shown {
                self.crisis_shown = true;
                return self.crisis_screen(acute);
            }
        }
        Ok(())
    }

    fn not_now(&mut self) -> Result<(), Ending> {
        let detail = format!(
            "You can come back whenever it is a better time: run {} check again.\n\n{}\n",
            crate::term::self_command(),
            crate::crisis::emergency_line(&self.crisis)
        );
        self.header("That is completely okay", &detail);
        let items = [
            MenuItem::new("1", "Leave for now"),
            MenuItem::new("2", "Carry on anyway"),
        ];
        let help = self.help();
        let picked = self
            .prompter
            .choose("What would you like to do?", &items, 0, &help)
            .map_err(ending)?;
        if picked == 0 {
            // Next time starts by asking again, not from a stale "no".
            self.flow.back();
            self.saved();
            return Err(Ending::NotNow);
        }
        Ok(())
    }

    fn crisis_screen(&mut self, acute: bool) -> Result<(), Ending> {
        let intro = if acute {
            "Thank you for telling us. Right now, the most important thing is that you can talk \
             with someone today. Please contact one of these now; they are free, and you do not \
             have to finish this check first. If you have a therapist or clinic, you can call \
             them too.\n"
        } else {
            "Thank you for answering. If things feel hard right now, you do not have to wait \
             for a session: these services are there for you, and you can contact them at any \
             time.\n"
        };
        self.header("Support is available now", intro);
        let resources = crate::crisis::render_list(&self.crisis, self.style);
        self.prompter.say(&resources);
        let items = [
            MenuItem::new("1", "Continue with the questions"),
            MenuItem::new("2", "Finish now and see my report"),
        ];
        let help = self.help();
        let picked = self
            .prompter
            .choose("What would you like to do?", &items, 0, &help)
            .map_err(ending)?;
        if picked == 1 {
            return Err(Ending::FinishedEarly);
        }
        Ok(())
    }

    fn plan_started(&self) -> bool {
        self.flow
            .state
            .history
            .iter()
            .any(|e| matches!(e, Entry::Section(s) if s == PLAN_SECTION))
    }

    fn plan_intro(&mut self) -> Result<(), Ending> {
        let plan = &self.flow.bank.plan;
        let detail = format!("{}\n", plan.intro);
        let title = plan.title.clone();
        self.header(&title, &detail);
        let prompt = "Would you like to make a plan now?";
        let Some(gate) = self.gate(prompt, "Make a plan now", "Leave the plan for now")? else {
            return Ok(());
        };
        match gate {
            Gate::Continue => self.flow.start_section(PLAN_SECTION),
            Gate::Skip => {
                self.flow.start_section(PLAN_SECTION);
                self.flow.skip_plan();
            }
        }
        self.saved();
        Ok(())
    }

    fn plan_prompt(&mut self, id: String, text: &str, hint: &str, why: &str) -> Result<(), Ending> {
        let title = self.flow.bank.plan.title.clone();
        self.header(
            &title,
            &format!(
                "{why}\n\n{}\n",
                self.style.dim(&crate::term::capitalise(hint))
            ),
        );
        let help = if self.style.plain {
            format!(
                "Enter on an empty line leaves this out. Type {TEXT_BACK} to go back, or q to leave at once."
            )
        } else {
            format!(
                "Enter on an empty line leaves this out · type {TEXT_BACK} to go back · Esc leaves at once"
            )
        };
        let reply = self.prompter.text(text, &help, "").map_err(ending)?;
        if reply.trim().eq_ignore_ascii_case(TEXT_BACK) {
            self.back_cursor();
        } else {
            self.flow.answer_plan(&id, Some(&reply));
        }
        self.saved();
        Ok(())
    }
}

/// The pseudo-section id recorded when the client starts the session plan.
pub const PLAN_SECTION: &str = "plan";

fn ending(interrupt: Interrupt) -> Ending {
    match interrupt {
        Interrupt::QuickExit => Ending::QuickExit,
        Interrupt::Stop | Interrupt::Closed => Ending::Stopped,
    }
}

#[cfg(test)]
mod tests;
