//! A saved report is checked, never trusted: its answers must be ones the
//! questionnaire has, and its outcome, urgency, criteria, adjustments and
//! crisis numbers are worked out again from its answers, connection and device
//! facts with the same rules (`assessment`). Where the saved verdict differs,
//! the worked-out one is shown and the difference is said plainly: the file
//! was changed after it was made, or made by another version.
use crate::assessment::{CriterionId, Inputs};
use crate::questionnaire::bank::QuestionBank;

use super::{Report, View};

/// A report as it should be shown, and what differed from the file.
#[derive(Debug, Clone)]
pub struct Checked {
    pub report: Report,
    /// One plain sentence per difference; empty when the file agreed.
    pub changes: Vec<String>,
}

/// Check `saved` against `bank` and the assessment rules. `Err` lists the
/// answers and fields that cannot be right (an unknown question, an option a
/// question does not have, a region that is not a country code).
pub fn check(mut saved: Report, bank: &QuestionBank) -> Result<Checked, Vec<String>> {
    let mut problems = Vec::new();
    let fields = [
        ("answers", &saved.answers),
        ("unasked_answers", &saved.unasked_answers),
    ];
    for (field, answers) in fields {
        for (id, answer) in answers {
            match bank.question(id) {
                None => problems.push(format!(
                    "{field}: there is no question \"{id}\" in this version."
                )),
                Some(q) if !q.valid_values().contains(&answer.as_str()) => problems.push(format!(
                    "{field}.\"{id}\": \"{answer}\" is not one of its options ({}).",
                    q.valid_values().join(", ")
                )),
                Some(_) => {}
            }
        }
    }
    // Shown as a date in every format and sorted on by `summarize`: it must
    // be a time, never text that a spreadsheet or reader would take as more.
    if !crate::when::is_rfc3339(&saved.generated_at) {
        problems.push(format!(
            "generated_at: \"{}\" is not a date and time such as 2026-11-23T15:16:00Z \
             (RFC 3339).",
            saved.generated_at
        ));
    }
    if let Some(at) = saved
        .network_source
        .as_ref()
        .and_then(|s| s.measured_at.as_deref())
        .filter(|at| !crate::when::is_rfc3339(at))
    {
        problems.push(format!(
            "network_source.measured_at: \"{at}\" is not a date and time such as \
             2026-11-23T15:16:00Z (RFC 3339)."
        ));
    }
    if crate::crisis::normalise_region(&saved.region).as_deref() != Some(saved.region.as_str()) {
        problems.push(format!(
            "region: \"{}\" is not a two-letter country code such as GB, US or IE.",
            saved.region
        ));
    }
    if let Some(plan) = &saved.session_plan {
        for (field, text) in [
            ("place", &plan.place),
            ("comfort_items", &plan.comfort_items),
            ("pause_signal", &plan.pause_signal),
            ("nearby_contact", &plan.nearby_contact),
            ("if_call_drops", &plan.if_call_drops),
        ] {
            // Control characters are escaped when shown; length is bounded
            // here as it is for answers files, so no page count runs away.
            let count = text.as_deref().map_or(0, |t| t.chars().count());
            if count > crate::safe_text::MAX_FIELD_CHARS {
                problems.push(format!(
                    "session_plan.\"{field}\" is {count} characters long; the limit is {}.",
                    crate::safe_text::MAX_FIELD_CHARS
                ));
            }
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }

    // Which answers would have been asked is worked out again too, so a
    // report made before they were kept apart reads as one made today.
    let mut all = std::mem::take(&mut saved.unasked_answers);
    all.extend(std::mem::take(&mut saved.answers));
    (saved.answers, saved.unasked_answers) = crate::questionnaire::split_unasked(bank, all);

    // Device ratings are worked out again from the device facts, too.
    let device = saved
        .device
        .as_ref()
        .map(|d| crate::device::rules::rate(&d.facts));
    let mut derived = crate::assessment::assess(&Inputs {
        answers: &crate::questionnaire::answers_for_rules(&saved.answers, &saved.unasked_answers),
        network: saved.network.as_ref(),
        network_reason: saved.network_reason.as_deref(),
        device: device.as_ref(),
        session_plan: saved.session_plan.as_ref(),
    });
    let client = saved.view == View::Client;
    // What a copy can be checked on: everything in a clinician copy; in a
    // client copy, only the criteria and adjustments it keeps, since it holds
    // no answers about home, contact with others or risk.
    let kept = |id: CriterionId| !client || !id.withheld_from_client();
    if client {
        let visible: Vec<_> = derived
            .criteria
            .iter()
            .filter(|c| kept(c.id))
            .cloned()
            .collect();
        derived.adjustments.retain(|a| !a.withheld_from_client());
        // The left-out criteria may point to in-person care, so the saved
        // outcome stands unless it is better than the kept ones allow.
        let floor = crate::assessment::outcome_of(&visible, !derived.adjustments.is_empty());
        derived.outcome = if rank(saved.outcome) >= rank(floor) {
            saved.outcome
        } else {
            floor
        };
        derived.criteria = visible;
    }

    let mut changes = Vec::new();
    if saved.outcome != derived.outcome {
        changes.push(format!(
            "it says the outcome is {}, but its answers and measurements give {}",
            saved.outcome.as_str(),
            derived.outcome.as_str()
        ));
    }
    if !client {
        if saved.urgent != Some(derived.urgent) {
            changes.push(if derived.urgent {
                "it is not marked urgent, but its answers make it urgent".to_string()
            } else {
                "it is marked urgent, but its answers do not make it urgent".to_string()
            });
        }
        if saved.risk_screen != Some(derived.risk_screen) {
            changes.push(format!(
                "it says the ASQ screen is {}, but its answers give {}",
                saved.risk_screen.map_or("nothing", |s| s.as_str()),
                derived.risk_screen.as_str()
            ));
        }
    }
    let watched = crate::questionnaire::watched_home(&saved.answers);
    // A report made before the field existed has none; only a saved value
    // that disagrees is a change.
    if !client && saved.watched_home.is_some_and(|w| w != watched) {
        changes.push(if watched {
            "it does not say that contact needs care, but its answers about home say it does"
                .to_string()
        } else {
            "it says that contact needs care, but its answers about home do not".to_string()
        });
    }
    for criterion in &derived.criteria {
        let status = |c: &crate::assessment::CriterionResult| c.status.as_str().to_string();
        match saved.criteria.iter().find(|c| c.id == criterion.id) {
            Some(kept) if kept.status == criterion.status => {}
            Some(kept) => changes.push(format!(
                "its \"{}\" criterion says {}, but its answers give {}",
                criterion.id.as_str(),
                status(kept),
                status(criterion)
            )),
            None => changes.push(format!(
                "its \"{}\" criterion is missing",
                criterion.id.as_str()
            )),
        }
    }
    let adjustment_ids = |list: &[crate::assessment::Adjustment]| {
        list.iter().map(|a| a.id.clone()).collect::<Vec<_>>()
    };
    let saved_adjustments: Vec<_> = saved
        .adjustments
        .iter()
        .filter(|a| !client || !a.withheld_from_client())
        .cloned()
        .collect();
    if adjustment_ids(&saved_adjustments) != adjustment_ids(&derived.adjustments) {
        changes.push("its list of adjustments differs from what its answers give".to_string());
    }
    let rating = |d: &Option<crate::device::DeviceReport>| {
        d.as_ref().map(|d| {
            (
                d.overall,
                d.items
                    .iter()
                    .map(|i| (i.id.clone(), i.rating))
                    .collect::<Vec<_>>(),
            )
        })
    };
    if rating(&saved.device) != rating(&device) {
        changes.push("its device ratings differ from what its device facts give".to_string());
    }
    let resources = crate::crisis::resources_list(&saved.region);
    if saved.crisis_resources != resources {
        changes.push(format!(
            "its crisis numbers differ from this version's for region {}",
            saved.region
        ));
    }

    let mut report = saved;
    report.outcome = derived.outcome;
    report.urgent = Some(derived.urgent);
    report.risk_screen = Some(derived.risk_screen);
    report.watched_home = Some(watched);
    report.headline = derived.headline;
    report.criteria = derived.criteria;
    report.adjustments = derived.adjustments;
    report.crisis_resources = resources;
    report.device = device;
    if client {
        // Made again from what the copy holds, so never more than it
        // showed: no urgency, no ASQ result, nothing it left out.
        report = report.client_copy();
    }
    Ok(Checked { report, changes })
}

/// Outcomes from the best fit for video to the least.
fn rank(outcome: crate::assessment::Outcome) -> u8 {
    use crate::assessment::Outcome;
    match outcome {
        Outcome::VideoSuitable => 0,
        Outcome::VideoWithAdjustments => 1,
        Outcome::InPersonRecommended => 2,
    }
}

/// Said wherever a client copy is read back (`report`, `summarize`): it
/// cannot show whether the client needs contact today.
pub const CLIENT_COPY_UNCHECKED: &str = "this is a client copy, which leaves out the answers \
     about risk, so whether the client needs contact today cannot be checked from it; ask for \
     the full (clinician) copy";

/// The sentence shown (and listed by `summarize`) for a report that differed.
pub fn changed_note(changes: &[String]) -> String {
    format!(
        "this file was changed after it was made, or made by another version of \
         session-ready: {}. What is shown was worked out again from its answers and \
         measurements.",
        changes.join("; ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assessment::{Outcome, Status};
    use crate::questionnaire::bank;
    use crate::report::model::{QuestionnaireStatus, ReportParts};

    fn report(answers: &[(&str, &str)]) -> Report {
        Report::build(ReportParts {
            answers: answers
                .iter()
                .map(|(q, a)| (q.to_string(), a.to_string()))
                .collect(),
            questionnaire_status: QuestionnaireStatus::Completed,
            session_plan: None,
            network: None,
            network_reason: Some("not tested".into()),
            device: None,
            region: "GB".into(),
            clinic: None,
            client_ref: None,
        })
    }

    #[test]
    fn an_untouched_report_passes_unchanged() {
        for r in [
            report(&[("risk.asq1", "yes"), ("risk.asq5", "yes")]),
            report(&[("privacy.space", "private")]),
        ] {
            let checked = check(r.clone(), bank()).unwrap();
            assert!(checked.changes.is_empty(), "{:?}", checked.changes);
            assert_eq!(checked.report, r);
            let client = check(r.client_copy(), bank()).unwrap();
            assert!(client.changes.is_empty(), "{:?}", client.changes);
            assert_eq!(client.report, r.client_copy());
        }
    }

    #[test]
    fn an_edited_verdict_is_worked_out_again_and_said() {
        let mut r = report(&[("risk.asq1", "yes"), ("risk.asq5", "yes")]);
        r.outcome = Outcome::VideoSuitable;
        r.urgent = Some(false);
        r.risk_screen = Some(crate::assessment::RiskScreen::Negative);
        r.headline = "Video sessions look like a good fit.".into();
        for c in &mut r.criteria {
            c.status = Status::NotMet;
        }
        r.crisis_resources.clear();
        r.watched_home = Some(true);
        let checked = check(r, bank()).unwrap();
        assert_eq!(checked.report.watched_home, Some(false));
        assert!(checked.report.is_urgent());
        assert_eq!(
            checked.report.risk_screen,
            Some(crate::assessment::RiskScreen::PositiveAcute)
        );
        assert_eq!(checked.report.outcome, Outcome::InPersonRecommended);
        assert!(!checked.report.crisis_resources.is_empty());
        let all = checked.changes.join(" | ");
        for part in [
            "outcome",
            "urgent",
            "ASQ screen",
            "\"risk\" criterion",
            "crisis numbers",
            "contact needs care",
        ] {
            assert!(all.contains(part), "{part}: {all}");
        }
    }

    #[test]
    fn a_watched_home_is_worked_out_from_the_answers_never_from_the_field() {
        let mut r = report(&[("home.feels_safe", "yes"), ("home.monitored", "yes")]);
        assert_eq!(r.watched_home, Some(true));
        // An older file, without the field, reads as one made today.
        r.watched_home = None;
        let checked = check(r.clone(), bank()).unwrap();
        assert!(checked.changes.is_empty(), "{:?}", checked.changes);
        assert!(checked.report.contact_with_care());
        // A client copy edited to say so still says nothing.
        let mut client = r.client_copy();
        client.watched_home = Some(true);
        assert_eq!(check(client, bank()).unwrap().report.watched_home, None);
    }

    #[test]
    fn answers_the_questionnaire_does_not_have_are_named() {
        let mut r = report(&[]);
        r.answers.insert("risk.asq5".into(), "definitely".into());
        r.answers.insert("made.up".into(), "yes".into());
        r.region = "Narnia".into();
        r.generated_at = "=1+1".into();
        r.session_plan = Some(crate::report::model::SessionPlan {
            place: Some("x".repeat(501)),
            ..Default::default()
        });
        let problems = check(r, bank()).unwrap_err().join(" ");
        for part in [
            "\"definitely\"",
            "\"made.up\"",
            "Narnia",
            "501 characters",
            "generated_at: \"=1+1\"",
        ] {
            assert!(problems.contains(part), "{part}: {problems}");
        }
    }
}
