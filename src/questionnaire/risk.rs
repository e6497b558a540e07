//! The risk questions by id: the NIMH ASQ screening items, its acuity item
//! and the recent-crisis question (data/questions.json), and which answers
//! bring crisis resources onto the screen at once.

/// The ASQ screening items (asked of everyone) and the acuity item.
pub const ASQ_SCREEN: [&str; 4] = ["risk.asq1", "risk.asq2", "risk.asq3", "risk.asq4"];
pub const ASQ_ACUITY: &str = "risk.asq5";
pub const RECENT_CRISIS: &str = "risk.recent_crisis";

/// True for an answer that should bring crisis resources onto the screen at once.
pub fn is_positive_risk_answer(question: &str, answer: &str) -> bool {
    question.starts_with("risk.") && answer == "yes"
}
