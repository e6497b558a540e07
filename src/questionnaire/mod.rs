//! The trauma-informed questionnaire: the question bank (embedded data), the pure
//! flow (next question, branching, go back), the answers file, saved drafts and
//! the interactive prompts.
pub mod bank;

use std::collections::BTreeMap;

pub use bank::{Question, QuestionBank, bank};
pub use plan::SessionPlan;

/// Question id → option id, or [`SKIPPED`].
pub type Answers = BTreeMap<String, String>;

/// The recorded value of a skipped question. A skip is never a "no".
pub const SKIPPED: &str = "skipped";
pub mod answers_file;
pub mod draft;
pub mod flow;
pub mod plan;
pub mod prompt;
pub mod risk;
pub mod session;
pub mod walk;

/// A home that may be watched: it does not feel safe, or someone may check
/// the client's phone, computer or messages (yes or unsure). From then on the
/// check keeps nothing on the device unless asked.
pub fn watched_home(answers: &Answers) -> bool {
    answers.get("home.feels_safe").is_some_and(|a| a == "no")
        || answers
            .get("home.monitored")
            .is_some_and(|a| a == "yes" || a == "unsure")
}

/// Answers to questions the questionnaire would have asked, and answers to
/// questions it would not have asked (their `ask_if` did not hold, given the
/// answers before them), which only a file can give: `risk.asq5` with no yes
/// on items 1 to 4, `privacy.alternative_space` with a private space. The
/// second are not answers to the questionnaire (in FHIR their `enableWhen` is
/// false), but are kept apart, never dropped unread (see [`answers_for_rules`]);
/// a skip there says nothing and is not kept. Ids this version does not know
/// stay with the answers, where they are named.
pub fn split_unasked(bank: &QuestionBank, answers: Answers) -> (Answers, Answers) {
    let mut asked = Answers::new();
    let mut unasked = Answers::new();
    for q in &bank.questions {
        let Some(value) = answers.get(&q.id) else {
            continue;
        };
        if q.is_enabled(&asked) {
            asked.insert(q.id.clone(), value.clone());
        } else if value != SKIPPED {
            unasked.insert(q.id.clone(), value.clone());
        }
    }
    for (id, value) in answers {
        if bank.question(&id).is_none() {
            asked.insert(id, value);
        }
    }
    (asked, unasked)
}

/// What the assessment rules read: the asked answers, plus every yes about
/// risk among the unasked ones. A coordinator who typed `risk.asq5 = yes`
/// recorded a client thinking of killing themselves right now; ignoring it
/// because items 1 to 4 were not yes would under-triage, so it counts
/// (docs/clinical-basis.md).
pub fn answers_for_rules(asked: &Answers, unasked: &Answers) -> Answers {
    let mut answers = asked.clone();
    for (id, value) in unasked {
        if risk::is_positive_risk_answer(id, value) {
            answers.insert(id.clone(), value.clone());
        }
    }
    answers
}

/// The unasked answers that still count: each yes about risk.
pub fn counted_unasked(unasked: &Answers) -> impl Iterator<Item = (&String, &String)> {
    unasked
        .iter()
        .filter(|(id, value)| risk::is_positive_risk_answer(id, value))
}
