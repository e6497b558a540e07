//! The trauma-informed questionnaire: question bank (embedded data), the pure
//! flow (next question, branching, go back), the interactive prompts, the
//! answers file, and saved drafts. (Issue 4.)
use std::collections::BTreeMap;

/// Question id → option id, or [`SKIPPED`].
pub type Answers = BTreeMap<String, String>;

/// The recorded value of a skipped question. A skip is never a "no".
pub const SKIPPED: &str = "skipped";
