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
