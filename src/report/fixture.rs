//! The report the unit tests of the renderers and of delivery start from:
//! every question answered as skipped except those given, a private space,
//! nothing measured.
use crate::questionnaire::{answers_file, bank};
use crate::report::Report;
use crate::report::model::{QuestionnaireStatus, ReportParts};

/// A completed report with `changes` as the given answers (question id, option id).
pub(crate) fn report(changes: &[(&str, &str)]) -> Report {
    let mut answers = answers_file::complete(
        bank(),
        changes
            .iter()
            .map(|(q, a)| (q.to_string(), a.to_string()))
            .collect(),
    );
    answers.insert("privacy.space".into(), "private".into());
    Report::build(ReportParts {
        answers,
        questionnaire_status: QuestionnaireStatus::Completed,
        session_plan: None,
        network: None,
        network_reason: Some("not tested (--no-network)".into()),
        device: None,
        region: "GB".into(),
        clinic: None,
        client_ref: None,
    })
}
