//! The interactive walk through the questionnaire, following the product's
//! trauma-informed rules: say what comes next, explain why on request, every
//! question skippable, go back, pause, a quick exit, a safety check before
//! sensitive parts, and crisis resources the moment a risk answer is yes.
//! Terminal-independent: it talks to a [`Prompter`], so tests script a client.
use super::bank::Question;
use super::bank::Section;
use super::flow::{Entry, Flow, Step};
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

/// Called after every change so a draft (when the client agreed) is always current.
pub type SaveHook<'h> = dyn FnMut(&Flow) + 'h;

pub struct Session<'a, 'h, P: Prompter + ?Sized> {
    pub flow: Flow<'a>,
    pub prompter: &'h mut P,
    pub style: Style,
    pub crisis: &'h [CrisisResource],
    pub save: &'h mut SaveHook<'h>,
    /// Crisis resources already shown for a screening yes (shown again for item 5).
    crisis_shown: bool,
}

const KEY_SKIP: &str = "s";
const KEY_WHY: &str = "w";
const KEY_BACK: &str = "b";
const KEY_PAUSE: &str = "p";

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
}

impl<'a, 'h, P: Prompter + ?Sized> Session<'a, 'h, P> {
    pub fn new(
        flow: Flow<'a>,
        prompter: &'h mut P,
        style: Style,
        crisis: &'h [CrisisResource],
        save: &'h mut SaveHook<'h>,
    ) -> Self {
        Session {
            flow,
            prompter,
            style,
            crisis,
            save,
            crisis_shown: false,
        }
    }

    fn saved(&mut self) {
        (self.save)(&self.flow);
    }

    fn help(&self) -> String {
        if self.style.plain {
            "Type a number or letter, then Enter. Type q to leave at once.".to_string()
        } else {
            "↑↓ or type a number or letter, then Enter. Esc leaves at once and clears the screen."
                .to_string()
        }
    }

    /// Walk until the end or until the client stops.
    pub fn run(&mut self) -> Ending {
        let first_section = self.flow.bank.sections.first().map(|s| s.id.clone());
        let mut why_for: Option<String> = None;
        // The intro of a part that needs no safety check, shown above its first question.
        let mut intro: Option<String> = None;
        let mut cursor: usize = 0;
        loop {
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
                    let picked = self.question(q, show_why, cursor, intro.take());
                    why_for = None;
                    cursor = 0;
                    match picked {
                        Ok(Picked::Why) => {
                            why_for = Some(q.id.clone());
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

    /// Go back one step; the cursor starts on the answer given before.
    fn back_cursor(&mut self) -> usize {
        let previous = self.flow.state.answers.clone();
        match self.flow.back() {
            Some(Entry::Question(id)) => {
                let answer = previous.get(&id).cloned().unwrap_or_default();
                self.flow
                    .bank
                    .question(&id)
                    .and_then(|q| q.options.iter().position(|o| o.id == answer))
                    .unwrap_or(0)
            }
            _ => 0,
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
        let mut items = vec![MenuItem::new("1", go_on), MenuItem::new(KEY_SKIP, skip)];
        if self.flow.can_go_back() {
            items.push(MenuItem::new(KEY_BACK, "Go back"));
        }
        items.push(MenuItem::new(KEY_PAUSE, "Pause and finish later"));
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
        cursor: usize,
        intro: Option<String>,
    ) -> Result<Picked, Interrupt> {
        let section = self
            .flow
            .bank
            .section(&q.section)
            .map(|s| s.title.clone())
            .unwrap_or_default();
        let (n, total) = self.flow.progress(&q.id);
        let mut detail = intro.map(|i| format!("{i}\n")).unwrap_or_default();
        if show_why {
            detail.push_str(&format!("Why we ask this: {}\n", q.why));
        }
        if q.section == "risk"
            && let Some(line) = self.support_line()
        {
            detail.push_str(&format!("{}\n", self.style.dim(&line)));
        }
        self.header(&format!("{section} · question {n} of {total}"), &detail);
        let mut items: Vec<MenuItem> = q
            .options
            .iter()
            .enumerate()
            .map(|(i, o)| MenuItem::new((i + 1).to_string(), o.label.clone()))
            .collect();
        items.push(MenuItem::new(KEY_SKIP, "Skip this question"));
        if !show_why {
            items.push(MenuItem::new(KEY_WHY, "Why we ask this"));
        }
        if self.flow.can_go_back() {
            items.push(MenuItem::new(KEY_BACK, "Go back"));
        }
        items.push(MenuItem::new(KEY_PAUSE, "Pause and finish later"));
        let help = self.help();
        let picked = self.prompter.choose(&q.text, &items, cursor, &help)?;
        Ok(match items[picked].key.as_str() {
            KEY_SKIP => Picked::Skip,
            KEY_WHY => Picked::Why,
            KEY_BACK => Picked::Back,
            KEY_PAUSE => Picked::Pause,
            _ => Picked::Option(q.options[picked].id.clone()),
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
        self.header(
            "That is completely okay",
            "You can come back whenever it is a better time: run session-ready check again.\n",
        );
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
        let resources = crate::crisis::render_list(self.crisis, self.style);
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
            &format!("{why}\n\n{}\n", self.style.dim(&capitalise(hint))),
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

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
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
