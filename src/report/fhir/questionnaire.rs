//! The FHIR Questionnaire that QuestionnaireResponses point to, generated
//! from the question bank (schema/questionnaire.fhir.json).
use serde::Serialize;

use crate::assessment::{CriterionId, Outcome, Status};
use crate::questionnaire::{Question, SKIPPED, bank};

use super::*;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EnableWhen {
    pub question: String,
    pub operator: &'static str,
    pub answer_coding: Coding,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AnswerOption {
    pub value_coding: Coding,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QuestionnaireItem {
    pub link_id: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub code: Vec<Coding>,
    pub text: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub enable_when: Vec<EnableWhen>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_behavior: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repeats: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_only: Option<bool>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub answer_option: Vec<AnswerOption>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub item: Vec<QuestionnaireItem>,
}

impl QuestionnaireItem {
    fn new(link_id: &str, text: &str, kind: &'static str) -> Self {
        QuestionnaireItem {
            link_id: link_id.to_string(),
            code: Vec::new(),
            text: text.to_string(),
            kind,
            enable_when: Vec::new(),
            enable_behavior: None,
            required: None,
            repeats: None,
            read_only: None,
            answer_option: Vec::new(),
            item: Vec::new(),
        }
    }

    fn group(link_id: &str, text: &str, item: Vec<QuestionnaireItem>) -> Self {
        QuestionnaireItem {
            item,
            ..Self::new(link_id, text, "group")
        }
    }

    /// A result filled in by the tool, not asked of the client.
    fn computed(link_id: &str, text: &str, kind: &'static str) -> Self {
        QuestionnaireItem {
            read_only: Some(true),
            ..Self::new(link_id, text, kind)
        }
    }

    fn options(mut self, codings: impl IntoIterator<Item = Coding>) -> Self {
        self.answer_option = codings
            .into_iter()
            .map(|value_coding| AnswerOption { value_coding })
            .collect();
        self
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Questionnaire {
    pub resource_type: &'static str,
    pub id: &'static str,
    pub url: String,
    pub version: String,
    pub name: &'static str,
    pub title: &'static str,
    pub status: &'static str,
    pub subject_type: Vec<&'static str>,
    pub description: &'static str,
    pub copyright: String,
    pub item: Vec<QuestionnaireItem>,
}

/// The FHIR R4 Questionnaire generated from the question bank (written to
/// schema/questionnaire.fhir.json and kept in sync by a test).
pub fn questionnaire() -> Questionnaire {
    let bank = bank();
    let mut items = vec![assessment_definition()];
    for section in &bank.sections {
        let questions = bank
            .in_section(&section.id)
            .map(question_definition)
            .collect();
        items.push(QuestionnaireItem::group(
            &section.id,
            &section.title,
            questions,
        ));
    }
    items.push(QuestionnaireItem::group(
        "plan",
        &bank.plan.title,
        bank.plan
            .prompts
            .iter()
            .map(|p| QuestionnaireItem {
                required: Some(false),
                ..QuestionnaireItem::new(&format!("plan.{}", p.id), &p.text, "text")
            })
            .collect(),
    ));
    items.push(network_definition());
    items.push(QuestionnaireItem::group(
        "crisis",
        crate::report::document::CRISIS_TITLE,
        vec![
            QuestionnaireItem {
                repeats: Some(true),
                ..QuestionnaireItem::computed("crisis.resource", RESOURCE_TEXT, "string")
            },
            QuestionnaireItem::computed("crisis.region", REGION_TEXT, "string"),
        ],
    ));
    let copyright: Vec<String> = bank
        .sources
        .iter()
        .map(|s| format!("{} {}", s.cite, s.url))
        .collect();
    Questionnaire {
        resource_type: "Questionnaire",
        id: QUESTIONNAIRE_ID,
        url: questionnaire_url(),
        version: bank.version.to_string(),
        name: "VideoSessionReadiness",
        title: "Video-session readiness",
        status: "active",
        subject_type: vec!["Patient"],
        description: "Whether video therapy sessions from home are a good fit right now: \
                      privacy, home safety, contact with other people, current risk (NIMH ASQ) \
                      and the connection. Every question may be skipped; a skip is recorded as \
                      asked-declined, never as no.",
        copyright: copyright.join(" "),
        item: items,
    }
}

/// One bank question as a Questionnaire item: its options as codings in the
/// question's own code system, plus "declined" for a skip, and `enableWhen`
/// from its `ask_if`.
fn question_definition(q: &Question) -> QuestionnaireItem {
    let bank = bank();
    // Every question may be skipped; a skip is recorded as declined.
    let mut item = QuestionnaireItem {
        required: Some(false),
        ..QuestionnaireItem::new(&q.id, &q.text, "choice")
    }
    .options(
        q.options
            .iter()
            .map(|o| coding(&code_system(&q.id), &o.id, &o.label))
            .chain(std::iter::once(declined())),
    );
    if q.id == "isolation.isolated" {
        // The one UCLA-3 item code verified on loinc.org (docs/clinical-basis.md).
        item.code = vec![coding(
            LOINC,
            "66867-3",
            "How often do you feel isolated from others",
        )];
    }
    if let Some(cond) = &q.ask_if {
        item.enable_when = cond
            .any
            .iter()
            .flat_map(|clause| {
                clause.is.iter().map(move |value| EnableWhen {
                    question: clause.question.clone(),
                    operator: "=",
                    answer_coding: if value == SKIPPED {
                        declined()
                    } else {
                        let label = bank
                            .question(&clause.question)
                            .map_or(value.as_str(), |e| e.answer_label(value));
                        coding(&code_system(&clause.question), value, label)
                    },
                })
            })
            .collect();
        item.enable_behavior = Some("any");
    }
    item
}

fn assessment_definition() -> QuestionnaireItem {
    let outcomes = [
        Outcome::VideoSuitable,
        Outcome::VideoWithAdjustments,
        Outcome::InPersonRecommended,
    ]
    .map(|o| coding(&code_system("outcome"), o.as_str(), o.words()));
    let statuses = [Status::Met, Status::NotMet, Status::Unknown]
        .map(|s| coding(&code_system("criterion-status"), s.as_str(), s.words()));
    let mut items = vec![
        QuestionnaireItem::computed("assessment.outcome", "Outcome", "choice").options(outcomes),
        QuestionnaireItem::computed("assessment.urgent", URGENT_TEXT, "boolean"),
        QuestionnaireItem::computed("assessment.risk-screen", RISK_SCREEN_TEXT, "choice")
            .options(RiskScreen::ALL.map(risk_screen_coding)),
        QuestionnaireItem::computed("assessment.watched-home", WATCHED_HOME_TEXT, "boolean"),
        QuestionnaireItem::computed("assessment.headline", "Recommendation", "string"),
    ];
    for id in CriterionId::ALL {
        items.push(
            QuestionnaireItem::computed(
                &format!("assessment.criterion.{}", id.as_str()),
                id.title(),
                "choice",
            )
            .options(statuses.clone()),
        );
    }
    // Adjustment ids grow with the rules, so the list is open.
    items.push(QuestionnaireItem {
        repeats: Some(true),
        ..QuestionnaireItem::computed("assessment.adjustments", "What could help", "open-choice")
    });
    items.push(QuestionnaireItem {
        repeats: Some(true),
        ..QuestionnaireItem::computed("assessment.unasked", UNASKED_TEXT, "string")
    });
    QuestionnaireItem::group("assessment", "Readiness assessment", items)
}

fn network_definition() -> QuestionnaireItem {
    let ratings = [
        VideoRating::Good,
        VideoRating::Fair,
        VideoRating::Poor,
        VideoRating::Unusable,
    ]
    .map(|r| coding(&code_system("video-rating"), r.as_str(), rating_display(r)));
    let mut items = vec![
        QuestionnaireItem::computed("network.video-rating", RATING_TEXT, "choice")
            .options(ratings.into_iter().chain(std::iter::once(not_performed()))),
        QuestionnaireItem::computed("network.not-measured-reason", NOT_MEASURED_TEXT, "string"),
    ];
    for (link_id, text) in FIGURES {
        items.push(QuestionnaireItem::computed(link_id, text, "decimal"));
    }
    QuestionnaireItem::group("network", "Connection", items)
}
