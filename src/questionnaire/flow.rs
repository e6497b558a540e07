//! The pure questionnaire flow: which step comes next, branching, skipping,
//! going back. No terminal here, so the interactive prompts, the answers file
//! and saved drafts all share one tested state machine.
use serde::{Deserialize, Serialize};

use super::bank::{PlanPrompt, Question, QuestionBank, Section};
use super::{Answers, SKIPPED};
use crate::questionnaire::SessionPlan;

/// What the client is asked next.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Step<'a> {
    /// Before the first question of a section: its intro (and, for a sensitive
    /// section, "is now still a safe and private time?").
    SectionStart(&'a Section),
    Question(&'a Question),
    Plan(&'a PlanPrompt),
    Done,
}

/// One thing the client did, in order, so "go back" can undo it exactly.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "id")]
pub enum Entry {
    /// A section's intro was seen and the client chose to continue.
    Section(String),
    /// A question was answered or skipped.
    Question(String),
    /// A plan prompt was answered or left out.
    Plan(String),
}

/// The state of one questionnaire: everything a draft needs to resume exactly.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FlowState {
    pub answers: Answers,
    /// Session plan answers by prompt id; `None` when left out.
    #[serde(default)]
    pub plan: std::collections::BTreeMap<String, Option<String>>,
    #[serde(default)]
    pub history: Vec<Entry>,
}

/// The flow over a question bank.
#[derive(Debug, Clone)]
pub struct Flow<'a> {
    pub bank: &'a QuestionBank,
    pub state: FlowState,
}

impl<'a> Flow<'a> {
    pub fn new(bank: &'a QuestionBank) -> Self {
        Self::resume(bank, FlowState::default())
    }

    /// Continue from saved state. A saved state is normalised first, so that
    /// every answer can be undone with "go back" even if the file was edited or
    /// damaged: history entries without an answer are dropped, answers without
    /// a history entry are added in question order, unknown ids are dropped.
    pub fn resume(bank: &'a QuestionBank, mut state: FlowState) -> Self {
        state.answers.retain(|id, _| bank.question(id).is_some());
        state
            .plan
            .retain(|id, _| bank.plan.prompts.iter().any(|p| p.id == *id));
        let answers = &state.answers;
        let plan = &state.plan;
        let mut seen = std::collections::BTreeSet::new();
        state.history.retain(|e| {
            let known = match e {
                Entry::Section(_) => true,
                Entry::Question(id) => answers.contains_key(id),
                Entry::Plan(id) => plan.contains_key(id),
            };
            known && seen.insert(e.clone())
        });
        for q in &bank.questions {
            let entry = Entry::Question(q.id.clone());
            if state.answers.contains_key(&q.id) && !seen.contains(&entry) {
                state.history.push(entry);
            }
        }
        for p in &bank.plan.prompts {
            let entry = Entry::Plan(p.id.clone());
            if state.plan.contains_key(&p.id) && !seen.contains(&entry) {
                state.history.push(entry);
            }
        }
        let mut flow = Flow { bank, state };
        flow.prune();
        flow
    }

    /// The next step given what has been done so far.
    pub fn next_step(&self) -> Step<'a> {
        let bank = self.bank;
        for q in &bank.questions {
            if self.state.answers.contains_key(&q.id) || !q.is_enabled(&self.state.answers) {
                continue;
            }
            if !self.section_started(&q.section)
                && let Some(section) = bank.section(&q.section)
            {
                return Step::SectionStart(section);
            }
            return Step::Question(q);
        }
        match bank
            .plan
            .prompts
            .iter()
            .find(|p| !self.state.plan.contains_key(&p.id))
        {
            Some(prompt) => Step::Plan(prompt),
            None => Step::Done,
        }
    }

    fn section_started(&self, section: &str) -> bool {
        self.state
            .history
            .iter()
            .any(|e| matches!(e, Entry::Section(s) if s == section))
    }

    /// The client read a section's intro and chose to continue.
    pub fn start_section(&mut self, section: &str) {
        if !self.section_started(section) {
            self.state.history.push(Entry::Section(section.to_string()));
        }
    }

    /// Record an option id (or [`SKIPPED`]) for a question.
    pub fn answer(&mut self, question: &str, value: &str) {
        self.state
            .answers
            .insert(question.to_string(), value.to_string());
        self.state
            .history
            .push(Entry::Question(question.to_string()));
        self.prune();
    }

    pub fn skip(&mut self, question: &str) {
        self.answer(question, SKIPPED);
    }

    /// Skip every question still to be asked in a section (the client chose
    /// "skip this part"). Each is recorded as a skip, never as "no".
    pub fn skip_section(&mut self, section: &str) {
        self.start_section(section);
        while let Step::Question(q) = self.next_step() {
            if q.section != section {
                break;
            }
            self.skip(&q.id.clone());
        }
    }

    /// Record a plan answer; blank text means "left out". Control characters
    /// a terminal let through are dropped and the text is kept within
    /// `safe_text::MAX_FIELD_CHARS`, so a saved draft always reads back.
    pub fn answer_plan(&mut self, prompt: &str, text: Option<&str>) {
        let text = text
            .map(|t| {
                t.chars()
                    .filter(|&c| !crate::safe_text::is_unsafe(c) && c != '\n' && c != '\t')
                    .take(crate::safe_text::MAX_FIELD_CHARS)
                    .collect::<String>()
            })
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty());
        self.state.plan.insert(prompt.to_string(), text);
        self.state.history.push(Entry::Plan(prompt.to_string()));
    }

    /// Leave out every remaining plan prompt.
    pub fn skip_plan(&mut self) {
        while let Step::Plan(p) = self.next_step() {
            self.answer_plan(&p.id.clone(), None);
        }
    }

    /// Undo the last thing done. Returns the previous answer (an option id or
    /// plan text) so the prompt can start from it; `None` when at the start.
    pub fn back(&mut self) -> Option<Entry> {
        let entry = self.state.history.pop()?;
        match &entry {
            Entry::Section(_) => {}
            Entry::Question(id) => {
                self.state.answers.remove(id);
            }
            Entry::Plan(id) => {
                self.state.plan.remove(id);
            }
        }
        // Going back over a section intro lands on the question before it, so
        // the client is never stuck on an intro screen.
        if matches!(entry, Entry::Section(_)) && !self.state.history.is_empty() {
            return self.back();
        }
        Some(entry)
    }

    /// True when there is an answer to go back to (section intros alone do not count).
    pub fn can_go_back(&self) -> bool {
        self.state
            .history
            .iter()
            .any(|e| !matches!(e, Entry::Section(_)))
    }

    /// Drop answers to questions that are no longer asked (e.g. ASQ item 5 after
    /// the yes that enabled it was changed on going back).
    fn prune(&mut self) {
        loop {
            let disabled: Vec<String> = self
                .bank
                .questions
                .iter()
                .filter(|q| {
                    self.state.answers.contains_key(&q.id) && !q.is_enabled(&self.state.answers)
                })
                .map(|q| q.id.clone())
                .collect();
            if disabled.is_empty() {
                break;
            }
            for id in disabled {
                self.state.answers.remove(&id);
                self.state
                    .history
                    .retain(|e| !matches!(e, Entry::Question(q) if *q == id));
            }
        }
    }

    /// (number of this question among those asked so far and still to come, total).
    pub fn progress(&self, question: &str) -> (usize, usize) {
        let mut answers = self.state.answers.clone();
        let mut asked = Vec::new();
        // Unanswered questions count as "no answer yet", which enables none of
        // the follow-ups; totals grow when a follow-up becomes relevant.
        for q in &self.bank.questions {
            if q.is_enabled(&answers) {
                asked.push(q.id.as_str());
            } else {
                answers.remove(&q.id);
            }
        }
        let index = asked.iter().position(|id| *id == question).unwrap_or(0);
        (index + 1, asked.len())
    }

    /// The session plan as stored in the report; `None` when every prompt was left out.
    pub fn session_plan(&self) -> Option<SessionPlan> {
        SessionPlan::from_fields(|id| self.state.plan.get(id).cloned().flatten())
    }

    /// True once every question has an answer or a skip (the plan may be pending).
    pub fn questions_done(&self) -> bool {
        matches!(self.next_step(), Step::Plan(_) | Step::Done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::questionnaire::bank;

    fn answer_until(flow: &mut Flow, stop_at: &str, value: &str) {
        loop {
            match flow.next_step() {
                Step::SectionStart(s) => flow.start_section(&s.id.clone()),
                Step::Question(q) if q.id == stop_at => break,
                Step::Question(q) => {
                    let first = q.options[0].id.clone();
                    flow.answer(&q.id.clone(), if value.is_empty() { &first } else { value });
                }
                other => panic!("did not reach {stop_at}: {other:?}"),
            }
        }
    }

    #[test]
    fn starts_with_the_safe_time_question_after_its_intro() {
        let mut flow = Flow::new(bank());
        assert!(matches!(flow.next_step(), Step::SectionStart(s) if s.id == "start"));
        flow.start_section("start");
        assert!(matches!(flow.next_step(), Step::Question(q) if q.id == "start.safe_now"));
    }

    #[test]
    fn asq5_follows_a_yes_and_disappears_when_the_yes_is_taken_back() {
        let mut flow = Flow::new(bank());
        answer_until(&mut flow, "risk.asq1", "");
        flow.answer("risk.asq1", "yes");
        for id in ["risk.asq2", "risk.asq3", "risk.asq4"] {
            flow.answer(id, "no");
        }
        assert!(matches!(flow.next_step(), Step::Question(q) if q.id == "risk.asq5"));
        flow.answer("risk.asq5", "no");
        // Go back to asq1 and change it to no: asq5 is no longer asked.
        for _ in 0..5 {
            flow.back();
        }
        assert!(matches!(flow.next_step(), Step::Question(q) if q.id == "risk.asq1"));
        flow.answer("risk.asq1", "no");
        for id in ["risk.asq2", "risk.asq3", "risk.asq4"] {
            flow.answer(id, "no");
        }
        assert!(matches!(flow.next_step(), Step::Question(q) if q.id == "risk.recent_crisis"));
        assert!(!flow.state.answers.contains_key("risk.asq5"));
    }

    #[test]
    fn a_skipped_asq_item_does_not_open_item_5() {
        let mut flow = Flow::new(bank());
        answer_until(&mut flow, "risk.asq1", "");
        flow.skip("risk.asq1");
        for id in ["risk.asq2", "risk.asq3", "risk.asq4"] {
            flow.answer(id, "no");
        }
        assert!(matches!(flow.next_step(), Step::Question(q) if q.id == "risk.recent_crisis"));
        assert_eq!(flow.state.answers["risk.asq1"], SKIPPED);
    }

    #[test]
    fn back_undoes_exactly_the_last_answer_and_returns_it() {
        let mut flow = Flow::new(bank());
        flow.start_section("start");
        flow.answer("start.safe_now", "yes");
        assert!(matches!(flow.next_step(), Step::SectionStart(s) if s.id == "setup"));
        flow.start_section("setup");
        flow.answer("setup.connection", "wifi");
        assert_eq!(
            flow.back(),
            Some(Entry::Question("setup.connection".into()))
        );
        assert!(matches!(flow.next_step(), Step::Question(q) if q.id == "setup.connection"));
        // Back over the section intro lands on the previous question.
        assert_eq!(flow.back(), Some(Entry::Question("start.safe_now".into())));
        assert!(flow.state.answers.is_empty());
        assert!(matches!(flow.next_step(), Step::Question(q) if q.id == "start.safe_now"));
        // At the very start, back returns to the first intro, then has nothing left.
        assert_eq!(flow.back(), Some(Entry::Section("start".into())));
        assert!(matches!(flow.next_step(), Step::SectionStart(s) if s.id == "start"));
        assert_eq!(flow.back(), None);
    }

    #[test]
    fn skipping_a_section_records_skips_not_noes() {
        let mut flow = Flow::new(bank());
        answer_until(&mut flow, "home.feels_safe", "");
        flow.skip_section("home");
        assert_eq!(flow.state.answers["home.feels_safe"], SKIPPED);
        assert_eq!(flow.state.answers["home.monitored"], SKIPPED);
        assert!(matches!(flow.next_step(), Step::SectionStart(s) if s.id == "isolation"));
    }

    #[test]
    fn alternative_space_is_asked_only_without_privacy_at_home() {
        let mut flow = Flow::new(bank());
        answer_until(&mut flow, "privacy.space", "");
        flow.answer("privacy.space", "private");
        flow.answer("privacy.household", "alone");
        assert!(matches!(flow.next_step(), Step::Question(q) if q.id == "privacy.headphones"));
        flow.back();
        flow.back();
        flow.answer("privacy.space", "none");
        flow.answer("privacy.household", "alone");
        assert!(
            matches!(flow.next_step(), Step::Question(q) if q.id == "privacy.alternative_space")
        );
    }

    #[test]
    fn plan_comes_after_the_questions_and_blank_means_left_out() {
        let mut flow = Flow::new(bank());
        answer_until(&mut flow, "risk.recent_crisis", "no");
        flow.answer("risk.recent_crisis", "no");
        assert!(flow.questions_done());
        assert!(matches!(flow.next_step(), Step::Plan(p) if p.id == "place"));
        flow.answer_plan("place", Some("  the armchair  "));
        flow.answer_plan("comfort_items", Some("   "));
        flow.answer_plan("pause_signal", Some("wave\x1b[2J\u{202e}"));
        flow.skip_plan();
        assert_eq!(flow.next_step(), Step::Done);
        let plan = flow.session_plan().unwrap();
        assert_eq!(plan.place.as_deref(), Some("the armchair"));
        assert_eq!(plan.comfort_items, None);
        // What a terminal let through is dropped, so the draft reads back.
        assert_eq!(plan.pause_signal.as_deref(), Some("wave[2J"));
    }

    #[test]
    fn progress_counts_only_questions_that_will_be_asked() {
        let flow = Flow::new(bank());
        let (n, total) = flow.progress("start.safe_now");
        assert_eq!(n, 1);
        let all = bank().questions.len();
        // alternative_space and asq5 are not asked until something enables them.
        assert_eq!(total, all - 2);
    }

    #[test]
    fn a_damaged_state_is_normalised_so_every_answer_can_be_undone() {
        let mut state = FlowState::default();
        state.answers.insert("privacy.space".into(), "none".into());
        state.answers.insert("not.a.question".into(), "yes".into());
        state.plan.insert("place".into(), Some("x".into()));
        state.plan.insert("seat".into(), None);
        state.history = vec![
            Entry::Question("risk.asq1".into()),
            Entry::Plan("place".into()),
            Entry::Plan("place".into()),
        ];
        let mut flow = Flow::resume(bank(), state);
        assert!(!flow.state.answers.contains_key("not.a.question"));
        assert!(!flow.state.plan.contains_key("seat"));
        while flow.back().is_some() {}
        assert!(flow.state.answers.is_empty() && flow.state.plan.is_empty());
    }

    #[test]
    fn resumed_state_continues_where_it_stopped() {
        let mut flow = Flow::new(bank());
        answer_until(&mut flow, "privacy.headphones", "");
        let saved = serde_json::to_string(&flow.state).unwrap();
        let resumed = Flow::resume(bank(), serde_json::from_str(&saved).unwrap());
        assert_eq!(resumed.next_step(), flow.next_step());
        assert_eq!(resumed.state, flow.state);
    }
}
