//! `check --answers FILE`: answers given in a file instead of on screen (intake
//! coordinators). Every problem is reported at once, naming the file, the
//! question id and the valid options, so a coordinator fixes a file in one go.
use std::path::Path;

use serde_json::Value;

use super::bank::QuestionBank;
use super::flow::Flow;
use super::{Answers, SKIPPED};
use crate::error::InputError;
use crate::questionnaire::SessionPlan;

/// A parsed, validated answers file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AnswersFile {
    /// Every question that would be asked, answered or `skipped` (a question
    /// missing from the file counts as skipped, never as "no").
    pub answers: Answers,
    pub region: Option<String>,
    pub session_plan: Option<SessionPlan>,
    /// The clinic's reference for the client, printed on every page.
    pub client_ref: Option<String>,
}

const TOP_LEVEL_FIELDS: [&str; 4] = ["answers", "region", "session_plan", "client_ref"];

/// Read and validate an answers file.
pub fn load(path: &Path, bank: &QuestionBank) -> Result<AnswersFile, InputError> {
    let bytes = crate::fsutil::read_input(path, crate::fsutil::MAX_INPUT_BYTES)?;
    let text = crate::fsutil::input_text(path, bytes)?;
    parse(path, &text, bank)
}

/// Validate the text of an answers file; `path` is only used in messages.
pub fn parse(path: &Path, text: &str, bank: &QuestionBank) -> Result<AnswersFile, InputError> {
    let value: Value = crate::safe_text::parse_json_strict(text.as_bytes()).map_err(|e| {
        InputError::file(
            path,
            format!(
                "it is not valid JSON ({e}). Expected an object like \
                 {{\"answers\": {{\"privacy.space\": \"private\"}}, \"region\": \"GB\"}}."
            ),
        )
    })?;
    let Value::Object(top) = value else {
        return Err(InputError::file(
            path,
            "expected a JSON object with an \"answers\" field, like {\"answers\": {\"privacy.space\": \"private\"}}.",
        ));
    };

    let mut problems = Vec::new();
    for key in top.keys() {
        if !TOP_LEVEL_FIELDS.contains(&key.as_str()) {
            problems.push(format!(
                "field \"{key}\" is not known; the fields are: {}.",
                TOP_LEVEL_FIELDS.join(", ")
            ));
        }
    }

    let mut given = Answers::new();
    match top.get("answers") {
        Some(Value::Object(map)) => {
            for (id, value) in map {
                match check_answer(bank, id, value) {
                    Ok(option) => {
                        given.insert(id.clone(), option);
                    }
                    Err(problem) => problems.push(problem),
                }
            }
        }
        Some(_) => problems
            .push("field \"answers\" must be an object mapping question ids to option ids.".into()),
        None => problems.push(
            "field \"answers\" is missing; it maps question ids to option ids (or \"skipped\")."
                .into(),
        ),
    }

    let region = match top.get("region") {
        None | Some(Value::Null) => None,
        Some(Value::String(code)) => match crate::crisis::normalise_region(code) {
            Some(code) => Some(code),
            None => {
                problems.push(format!(
                    "field \"region\": {}",
                    crate::crisis::unknown_region(code)
                ));
                None
            }
        },
        Some(_) => {
            problems.push(format!(
                "field \"region\" must be a text such as \"GB\"; one of: {}.",
                crate::crisis::valid_regions()
            ));
            None
        }
    };

    let client_ref = match top.get("client_ref") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => match crate::safe_text::client_ref(text) {
            Ok(text) => Some(text),
            Err(why) => {
                problems.push(format!("field \"client_ref\": {why}."));
                None
            }
        },
        Some(other) => {
            problems.push(format!(
                "field \"client_ref\": expected text such as a file number, found {other}."
            ));
            None
        }
    };

    let session_plan = match top.get("session_plan") {
        None | Some(Value::Null) => None,
        Some(value) => match parse_plan(bank, value) {
            Ok(plan) => plan,
            Err(mut found) => {
                problems.append(&mut found);
                None
            }
        },
    };

    if !problems.is_empty() {
        let list: String = problems.iter().map(|p| format!("\n  - {p}")).collect();
        return Err(InputError::file(
            path,
            format!(
                "{list}\nNothing was changed. The question ids and options are listed by \
                 `session-ready check --list-questions`."
            ),
        ));
    }

    Ok(AnswersFile {
        answers: complete(bank, given),
        region,
        session_plan,
        client_ref,
    })
}

fn check_answer(bank: &QuestionBank, id: &str, value: &Value) -> Result<String, String> {
    let Some(question) = bank.question(id) else {
        let suggestion = bank
            .questions
            .iter()
            .map(|q| (strsim::levenshtein(id, &q.id), &q.id))
            .min()
            .filter(|(distance, _)| *distance <= 3)
            .map(|(_, q)| format!(" Did you mean \"{q}\"?"))
            .unwrap_or_default();
        return Err(format!(
            "answers: there is no question \"{id}\".{suggestion}"
        ));
    };
    let valid = question.valid_values();
    match value {
        Value::String(option) if valid.contains(&option.as_str()) => Ok(option.clone()),
        Value::String(option) => Err(format!(
            "answers.\"{id}\": \"{option}\" is not one of its options; expected one of: {}.",
            valid.join(", ")
        )),
        other => Err(format!(
            "answers.\"{id}\": expected an option id as a string (one of: {}), found {other}.",
            valid.join(", ")
        )),
    }
}

fn parse_plan(bank: &QuestionBank, value: &Value) -> Result<Option<SessionPlan>, Vec<String>> {
    let Value::Object(map) = value else {
        return Err(vec![
            "field \"session_plan\" must be an object of short texts.".into(),
        ]);
    };
    let ids: Vec<&str> = bank.plan.prompts.iter().map(|p| p.id.as_str()).collect();
    let mut problems = Vec::new();
    let mut plan = std::collections::BTreeMap::new();
    for (key, value) in map {
        if !ids.contains(&key.as_str()) {
            problems.push(format!(
                "session_plan: \"{key}\" is not known; the fields are: {}.",
                ids.join(", ")
            ));
            continue;
        }
        match value {
            Value::String(text) => {
                if let Err(problem) =
                    crate::safe_text::check_field(&format!("session_plan.\"{key}\""), text, false)
                {
                    problems.push(problem);
                    continue;
                }
                plan.insert(key.clone(), Some(text.clone()));
            }
            Value::Null => {
                plan.insert(key.clone(), None);
            }
            other => problems.push(format!(
                "session_plan.\"{key}\": expected text, found {other}."
            )),
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut flow = Flow::new(bank);
    for (id, text) in &plan {
        flow.answer_plan(id, text.as_deref());
    }
    Ok(flow.session_plan())
}

/// Every question the flow would ask, in order: the file's answer, or `skipped`
/// when the file leaves it out. Answers to questions the flow would not ask
/// (e.g. ASQ item 5 with no earlier yes) are kept: a risk answer is never
/// dropped (`Report::build` keeps them apart, see `split_unasked`).
pub fn complete(bank: &QuestionBank, given: Answers) -> Answers {
    let mut answers = Answers::new();
    for q in &bank.questions {
        if let Some(value) = given.get(&q.id) {
            answers.insert(q.id.clone(), value.clone());
        } else if q.is_enabled(&answers) {
            answers.insert(q.id.clone(), SKIPPED.to_string());
        }
    }
    answers
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::questionnaire::bank;

    fn parse_str(text: &str) -> Result<AnswersFile, String> {
        parse(Path::new("client.json"), text, bank()).map_err(|e| e.to_string())
    }

    #[test]
    fn a_valid_file_is_completed_with_skips() {
        let file = parse_str(
            r#"{"answers": {"privacy.space": "private", "risk.asq1": "no"}, "region": "gb"}"#,
        )
        .unwrap();
        assert_eq!(file.answers["privacy.space"], "private");
        assert_eq!(file.answers["risk.asq2"], SKIPPED);
        assert_eq!(file.region.as_deref(), Some("GB"));
        // Not asked: no earlier yes, and space is private.
        assert!(!file.answers.contains_key("risk.asq5"));
        assert!(!file.answers.contains_key("privacy.alternative_space"));
    }

    #[test]
    fn malformed_json_names_the_file_and_the_position() {
        let err = parse_str("{\"answers\": {\"privacy.space\": }").unwrap_err();
        assert!(err.contains("client.json"), "{err}");
        assert!(err.contains("not valid JSON"), "{err}");
        assert!(err.contains("line 1"), "{err}");
    }

    #[test]
    fn unknown_question_ids_get_a_suggestion() {
        let err = parse_str(r#"{"answers": {"privacy.spaec": "private"}}"#).unwrap_err();
        assert!(err.contains("\"privacy.spaec\""), "{err}");
        assert!(err.contains("Did you mean \"privacy.space\"?"), "{err}");
    }

    #[test]
    fn invalid_options_list_the_valid_ones() {
        let err = parse_str(r#"{"answers": {"privacy.space": "maybe"}}"#).unwrap_err();
        assert!(err.contains("privacy.space"), "{err}");
        assert!(err.contains("private, sometimes, none, skipped"), "{err}");
        let err = parse_str(r#"{"answers": {"risk.asq1": true}}"#).unwrap_err();
        assert!(err.contains("yes, no, skipped"), "{err}");
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let err = parse_str(
            r#"{"answers": {"x.y": "a", "home.feels_safe": "sure"}, "regon": "GB", "region": "GBR"}"#,
        )
        .unwrap_err();
        for part in ["\"x.y\"", "home.feels_safe", "\"regon\"", "GBR"] {
            assert!(err.contains(part), "{part} missing from {err}");
        }
    }

    #[test]
    fn structure_errors_say_what_was_expected() {
        assert!(parse_str("[1,2]").unwrap_err().contains("JSON object"));
        assert!(
            parse_str("{}")
                .unwrap_err()
                .contains("\"answers\" is missing")
        );
        assert!(
            parse_str(r#"{"answers": []}"#)
                .unwrap_err()
                .contains("must be an object")
        );
    }

    #[test]
    fn an_acute_answer_is_kept_even_without_an_earlier_yes() {
        let file = parse_str(r#"{"answers": {"risk.asq5": "yes"}}"#).unwrap();
        assert_eq!(file.answers["risk.asq5"], "yes");
    }

    #[test]
    fn session_plan_is_read_and_checked() {
        let file = parse_str(
            r#"{"answers": {}, "session_plan": {"place": "the kitchen table", "pause_signal": ""}}"#,
        )
        .unwrap();
        let plan = file.session_plan.unwrap();
        assert_eq!(plan.place.as_deref(), Some("the kitchen table"));
        assert_eq!(plan.pause_signal, None);
        let err = parse_str(r#"{"answers": {}, "session_plan": {"seat": "x"}}"#).unwrap_err();
        assert!(err.contains("pause_signal"), "{err}");
    }
}
