//! The question bank: embedded data (data/questions.json) with ids from
//! docs/interface.md, sections, plain-language text, a "why we ask" for every question,
//! option ids and branching. Loaded once and checked by tests, so a broken data
//! file is caught before release rather than in front of a client.
use std::sync::OnceLock;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Answers, SKIPPED};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QuestionBank {
    pub version: u32,
    /// Where question wording comes from (attribution).
    pub sources: Vec<Source>,
    pub sections: Vec<Section>,
    pub questions: Vec<Question>,
    /// Free-text session plan built with the client (docs/clinical-basis.md).
    pub plan: PlanSection,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub id: String,
    pub cite: String,
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Section {
    pub id: String,
    pub title: String,
    /// What the section asks and why, shown before its first question.
    pub intro: String,
    /// Sensitive sections are preceded by "is now still a safe and private time?".
    pub sensitive: bool,
    /// Whether the client copy keeps this section's answers. The client copy
    /// may be read by anyone in the home (docs/clinical-basis.md), so answers
    /// about home, contact with other people and risk stay in the
    /// clinician copy only.
    pub client_copy: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Question {
    /// Stable id, e.g. `privacy.space` (docs/interface.md: never renamed).
    pub id: String,
    pub section: String,
    pub text: String,
    /// Why we ask this, in plain words.
    pub why: String,
    /// Id of the entry in `sources` the wording comes from.
    pub source: String,
    pub options: Vec<Choice>,
    /// Asked only when this holds; otherwise the question is not asked at all
    /// (and left out of the answers, unlike a skip).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ask_if: Option<Condition>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    /// Stable option id, e.g. `shared_no_private_room`.
    pub id: String,
    pub label: String,
}

/// True when any clause holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    pub any: Vec<Clause>,
}

/// `question`'s answer is one of `is` (which may include `skipped`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Clause {
    pub question: String,
    pub is: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanSection {
    pub title: String,
    pub intro: String,
    pub prompts: Vec<PlanPrompt>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanPrompt {
    /// Field of the report's `session_plan`, e.g. `pause_signal`.
    pub id: String,
    pub text: String,
    pub hint: String,
    pub why: String,
}

impl Condition {
    pub fn holds(&self, answers: &Answers) -> bool {
        self.any.iter().any(|clause| {
            answers
                .get(&clause.question)
                .is_some_and(|a| clause.is.iter().any(|v| v == a))
        })
    }
}

impl Question {
    /// Whether this question is asked, given the answers so far.
    pub fn is_enabled(&self, answers: &Answers) -> bool {
        self.ask_if.as_ref().is_none_or(|c| c.holds(answers))
    }

    pub fn option(&self, id: &str) -> Option<&Choice> {
        self.options.iter().find(|o| o.id == id)
    }

    /// The option ids a file may use for this question, `skipped` included.
    pub fn valid_values(&self) -> Vec<&str> {
        self.options
            .iter()
            .map(|o| o.id.as_str())
            .chain(std::iter::once(SKIPPED))
            .collect()
    }

    /// The answer in words, for reports: the option label, or "skipped".
    pub fn answer_label<'a>(&'a self, answer: &'a str) -> &'a str {
        self.option(answer).map_or(answer, |o| o.label.as_str())
    }
}

impl QuestionBank {
    pub fn question(&self, id: &str) -> Option<&Question> {
        self.questions.iter().find(|q| q.id == id)
    }

    pub fn section(&self, id: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.id == id)
    }

    pub fn source(&self, id: &str) -> Option<&Source> {
        self.sources.iter().find(|s| s.id == id)
    }

    /// Whether the answer to question `id` stays out of the client copy: its
    /// section (the part of the id before the dot) is one the client copy
    /// leaves out. Ids this version does not know are judged by the same
    /// prefix, so a newer bank's `risk.*` answer is never shown either.
    pub fn withheld_from_client(&self, id: &str) -> bool {
        let section = id.split_once('.').map_or(id, |(section, _)| section);
        self.section(section).is_some_and(|s| !s.client_copy)
    }

    /// Questions of one section, in order.
    pub fn in_section<'a>(&'a self, section: &'a str) -> impl Iterator<Item = &'a Question> + 'a {
        self.questions.iter().filter(move |q| q.section == section)
    }

    /// Problems that would make the data unusable (checked by tests and at load).
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        for (index, q) in self.questions.iter().enumerate() {
            if !seen.insert(q.id.as_str()) {
                problems.push(format!("duplicate question id {}", q.id));
            }
            if self.section(&q.section).is_none() {
                problems.push(format!("{}: unknown section {}", q.id, q.section));
            }
            if self.source(&q.source).is_none() {
                problems.push(format!("{}: unknown source {}", q.id, q.source));
            }
            if q.text.trim().is_empty() || q.why.trim().is_empty() {
                problems.push(format!("{}: text and why must both be written", q.id));
            }
            if q.options.len() < 2 {
                problems.push(format!("{}: needs at least two options", q.id));
            }
            if q.options.iter().any(|o| o.id == SKIPPED) {
                problems.push(format!("{}: `skipped` is reserved", q.id));
            }
            for clause in q.ask_if.iter().flat_map(|c| &c.any) {
                // Branching may only look back, so the flow never depends on the future.
                let earlier = self.questions[..index]
                    .iter()
                    .find(|e| e.id == clause.question);
                match earlier {
                    None => problems.push(format!(
                        "{}: ask_if refers to {}, which is not an earlier question",
                        q.id, clause.question
                    )),
                    Some(e) => {
                        for value in &clause.is {
                            if !e.valid_values().contains(&value.as_str()) {
                                problems.push(format!(
                                    "{}: ask_if value {value} is not an option of {}",
                                    q.id, e.id
                                ));
                            }
                        }
                    }
                }
            }
        }
        problems
    }
}

/// The embedded question bank.
pub fn bank() -> &'static QuestionBank {
    static BANK: OnceLock<QuestionBank> = OnceLock::new();
    BANK.get_or_init(|| {
        serde_json::from_str(include_str!("../../data/questions.json"))
            .expect("data/questions.json is valid (checked by tests)")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_bank_is_consistent() {
        let problems = bank().problems();
        assert!(problems.is_empty(), "{problems:#?}");
    }

    /// The contract (docs/interface.md): these ids and options exist and are never renamed.
    #[test]
    fn contract_question_and_option_ids_exist() {
        let contract: &[(&str, &[&str])] = &[
            ("start.safe_now", &["yes", "no"]),
            ("privacy.space", &["private", "sometimes", "none"]),
            (
                "privacy.household",
                &[
                    "alone",
                    "shared_with_private_room",
                    "shared_no_private_room",
                ],
            ),
            ("privacy.alternative_space", &["yes", "no"]),
            ("privacy.headphones", &["yes", "no"]),
            ("home.feels_safe", &["yes", "mostly", "no"]),
            ("home.monitored", &["no", "yes", "unsure"]),
            (
                "isolation.lack_companionship",
                &["hardly_ever", "some_of_the_time", "often"],
            ),
            (
                "isolation.left_out",
                &["hardly_ever", "some_of_the_time", "often"],
            ),
            (
                "isolation.isolated",
                &["hardly_ever", "some_of_the_time", "often"],
            ),
            (
                "isolation.in_person_contact",
                &["none", "once_or_twice", "several"],
            ),
            ("isolation.in_person_important", &["yes", "no", "unsure"]),
            ("risk.asq1", &["yes", "no"]),
            ("risk.asq2", &["yes", "no"]),
            ("risk.asq3", &["yes", "no"]),
            ("risk.asq4", &["yes", "no"]),
            ("risk.asq5", &["yes", "no"]),
            ("risk.recent_crisis", &["yes", "no"]),
            ("setup.connection", &["wired", "wifi", "mobile"]),
        ];
        for (id, options) in contract {
            let q = bank()
                .question(id)
                .unwrap_or_else(|| panic!("{id} missing"));
            for option in *options {
                assert!(q.option(option).is_some(), "{id} lacks option {option}");
            }
        }
    }

    /// The NIMH ASQ is reproduced verbatim (public domain, wording must not change).
    #[test]
    fn asq_items_are_verbatim_and_attributed() {
        let verbatim = [
            (
                "risk.asq1",
                "In the past few weeks, have you wished you were dead?",
            ),
            (
                "risk.asq2",
                "In the past few weeks, have you felt that you or your family would be better off if you were dead?",
            ),
            (
                "risk.asq3",
                "In the past week, have you been having thoughts about killing yourself?",
            ),
            ("risk.asq4", "Have you ever tried to kill yourself?"),
            (
                "risk.asq5",
                "Are you having thoughts of killing yourself right now?",
            ),
        ];
        for (id, text) in verbatim {
            let q = bank().question(id).unwrap();
            assert_eq!(q.text, text);
            assert_eq!(q.source, "asq");
        }
        assert!(bank().source("asq").unwrap().cite.contains("NIMH"));
    }

    #[test]
    fn asq5_is_asked_only_after_a_yes() {
        let q5 = bank().question("risk.asq5").unwrap();
        let mut answers = Answers::new();
        for id in ["risk.asq1", "risk.asq2", "risk.asq3", "risk.asq4"] {
            answers.insert(id.into(), "no".into());
        }
        assert!(!q5.is_enabled(&answers));
        answers.insert("risk.asq3".into(), SKIPPED.into());
        assert!(!q5.is_enabled(&answers));
        answers.insert("risk.asq2".into(), "yes".into());
        assert!(q5.is_enabled(&answers));
    }

    #[test]
    fn problems_catch_forward_references_and_bad_values() {
        let mut b = bank().clone();
        b.questions[0].ask_if = Some(Condition {
            any: vec![Clause {
                question: "risk.asq1".into(),
                is: vec!["maybe".into()],
            }],
        });
        let problems = b.problems();
        assert!(
            problems
                .iter()
                .any(|p| p.contains("not an earlier question")),
            "{problems:?}"
        );
    }

    #[test]
    fn plan_prompts_match_the_report_fields() {
        let ids: Vec<&str> = bank().plan.prompts.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "place",
                "comfort_items",
                "pause_signal",
                "nearby_contact",
                "if_call_drops"
            ]
        );
    }
}
