//! HL7 FHIR R4 (4.0.1) output for record systems: the report as a
//! QuestionnaireResponse, and the matching Questionnaire resource
//! (schema/questionnaire.fhir.json) that a record system can load to read it.
//!
//! Choices made (the reasons are in docs/clinical-basis.md, "Reports for the record"):
//! - Option ids are codes in one local code system per question
//!   (`{FHIR_BASE}/CodeSystem/<question id>`): the same id, e.g. `none`,
//!   means different things in different questions.
//! - A skipped question is answered with the HL7 data-absent-reason code
//!   `asked-declined`, never left empty and never turned into "no"; a question
//!   that was not asked (branching) is left out, as SDC advises.
//! - The ASQ has no verified LOINC panel, so it keeps local codes; the one
//!   verified UCLA-3 item code (LOINC 66867-3) is carried in the Questionnaire.
//! - Results that are not questions (outcome, criteria, connection, crisis
//!   resources) are read-only items of the same Questionnaire, so nothing a
//!   clinician sees in the PDF is lost in the record.
use serde::Serialize;

use crate::assessment::{CriterionId, Outcome, RiskScreen, Status};
use crate::net::model::VideoRating;
use crate::questionnaire::{Question, SKIPPED, bank};

use super::Report;
use super::model::QuestionnaireStatus;

/// Base of this tool's canonical URLs. session-ready runs no terminology
/// server, so the identifiers live under the reserved `.invalid` domain: they
/// are stable names, not addresses to fetch.
pub const FHIR_BASE: &str = "https://session-ready.invalid/fhir";
/// The Questionnaire's own id.
pub const QUESTIONNAIRE_ID: &str = "video-session-readiness";
/// HL7 code system for why a value is missing.
pub const DATA_ABSENT_REASON: &str = "http://terminology.hl7.org/CodeSystem/data-absent-reason";
const LOINC: &str = "http://loinc.org";
/// HL7 v3 ActPriority: `UR` (urgent) tags an urgent response, so a record
/// system can sort or flag it without reading the items.
pub const ACT_PRIORITY: &str = "http://terminology.hl7.org/CodeSystem/v3-ActPriority";

pub fn questionnaire_url() -> String {
    format!("{FHIR_BASE}/Questionnaire/{QUESTIONNAIRE_ID}")
}

/// Canonical reference with the question bank's version, e.g. `…|1`.
pub fn questionnaire_canonical() -> String {
    format!("{}|{}", questionnaire_url(), bank().version)
}

fn code_system(name: &str) -> String {
    format!("{FHIR_BASE}/CodeSystem/{name}")
}

/// A FHIR Coding (element order as in the specification).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Coding {
    pub system: String,
    pub code: String,
    pub display: String,
}

fn coding(system: &str, code: &str, display: &str) -> Coding {
    Coding {
        system: system.to_string(),
        code: code.to_string(),
        display: display.to_string(),
    }
}

fn declined() -> Coding {
    coding(DATA_ABSENT_REASON, "asked-declined", "Asked But Declined")
}

fn not_performed() -> Coding {
    coding(DATA_ABSENT_REASON, "not-performed", "Not Performed")
}

/// `value[x]`: exactly one typed value per answer, named as FHIR names it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Value {
    #[serde(rename = "valueBoolean")]
    Boolean(bool),
    #[serde(rename = "valueDecimal")]
    Decimal(f64),
    #[serde(rename = "valueString")]
    String(String),
    #[serde(rename = "valueCoding")]
    Coding(Coding),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Answer {
    #[serde(flatten)]
    pub value: Value,
}

/// QuestionnaireResponse.item: a group (with `item`) or a question (with
/// `answer`), never both (FHIR qrs-1); empty lists are left out, as FHIR
/// forbids empty arrays.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResponseItem {
    pub link_id: String,
    pub text: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub answer: Vec<Answer>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub item: Vec<ResponseItem>,
}

/// `Reference` by identifier only: the clinic's own reference for the
/// client; its system is the clinic's, so none is claimed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Subject {
    pub identifier: Identifier,
    pub display: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Identifier {
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Meta {
    pub tag: Vec<Coding>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Narrative {
    pub status: &'static str,
    pub div: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QuestionnaireResponse {
    pub resource_type: &'static str,
    pub meta: Meta,
    pub language: &'static str,
    pub text: Narrative,
    pub questionnaire: String,
    pub status: &'static str,
    /// The clinic's reference for the client, as a logical reference.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<Subject>,
    pub authored: String,
    pub item: Vec<ResponseItem>,
}

fn group(link_id: &str, text: &str, items: Vec<ResponseItem>) -> ResponseItem {
    ResponseItem {
        link_id: link_id.to_string(),
        text: text.to_string(),
        answer: Vec::new(),
        item: items,
    }
}

fn answered(link_id: &str, text: &str, answers: Vec<Value>) -> ResponseItem {
    ResponseItem {
        link_id: link_id.to_string(),
        text: text.to_string(),
        answer: answers.into_iter().map(|value| Answer { value }).collect(),
        item: Vec::new(),
    }
}

/// The answer to one bank question, as FHIR sees it.
fn question_answer(q: &Question, answer: &str) -> Value {
    if answer == SKIPPED {
        return Value::Coding(declined());
    }
    Value::Coding(coding(&code_system(&q.id), answer, q.answer_label(answer)))
}

/// Render `report` (already in the chosen view) as a QuestionnaireResponse.
pub fn render(report: &Report) -> anyhow::Result<Vec<u8>> {
    Ok(crate::term::json_document(&questionnaire_response(report))?)
}

pub fn questionnaire_response(report: &Report) -> QuestionnaireResponse {
    let bank = bank();
    // Items keep the Questionnaire's order in every case (HL7's validator
    // checks it); urgency is shown by a tag and the narrative's first lines.
    let mut items = vec![assessment_group(report)];
    for section in &bank.sections {
        let answered_items: Vec<ResponseItem> = bank
            .in_section(&section.id)
            .filter_map(|q| {
                let a = report.answers.get(&q.id)?;
                Some(answered(&q.id, &q.text, vec![question_answer(q, a)]))
            })
            .collect();
        // A section with nothing answered (e.g. the risk section in the
        // client copy) is left out entirely rather than sent empty.
        if !answered_items.is_empty() {
            items.push(group(&section.id, &section.title, answered_items));
        }
    }
    if let Some(plan) = plan_group(report) {
        items.push(plan);
    }
    items.push(network_group(report));
    items.push(crisis_group(report));

    let view_display = match report.view {
        crate::report::View::Clinician => "Clinician copy",
        crate::report::View::Client => "Client copy (risk answers left out)",
    };
    let mut tags = vec![coding(
        &code_system("report-view"),
        report.view.as_str(),
        view_display,
    )];
    if report.urgent {
        tags.insert(0, coding(ACT_PRIORITY, "UR", "urgent"));
    }
    QuestionnaireResponse {
        resource_type: "QuestionnaireResponse",
        meta: Meta { tag: tags },
        language: "en",
        text: narrative(report),
        questionnaire: questionnaire_canonical(),
        status: match report.questionnaire_status {
            QuestionnaireStatus::Completed => "completed",
            QuestionnaireStatus::Stopped => "stopped",
        },
        subject: report.client_ref.as_ref().map(|reference| Subject {
            identifier: Identifier {
                value: reference.clone(),
            },
            display: format!("Client {reference}"),
        }),
        authored: report.generated_at.clone(),
        item: items,
    }
}

/// A short human-readable summary (FHIR dom-6: resources should have
/// narrative). An urgent response opens with the urgency and the numbers to
/// call, since the items keep the Questionnaire's order and put them last.
fn narrative(report: &Report) -> Narrative {
    let mut div = String::from("<div xmlns=\"http://www.w3.org/1999/xhtml\">");
    if report.crisis_first() {
        // The client copy leaves the risk answers out, so it says only
        // that support is there now.
        let urgent = match report.view {
            crate::report::View::Clinician if report.urgent => {
                "Urgent: the client answered yes to the ASQ acuity question (risk.asq5). \
                 Please contact them promptly."
            }
            crate::report::View::Clinician => {
                "Same-day safety follow-up needed: a positive ASQ screen whose acuity is \
                 unknown (question 5 not answered)."
            }
            crate::report::View::Client if report.urgent => "Urgent: support is there for you now.",
            crate::report::View::Client => "Support is there for you now.",
        };
        div.push_str(&format!(
            "<p><b>{urgent}</b></p><p>{}:</p><ul>",
            xml_escape(super::document::CRISIS_TITLE)
        ));
        for line in crisis_lines(report) {
            div.push_str(&format!("<li>{}</li>", xml_escape(&line)));
        }
        div.push_str("</ul>");
    }
    if let Some(reference) = &report.client_ref {
        div.push_str(&format!("<p>Client: {}</p>", xml_escape(reference)));
    }
    div.push_str(&format!(
        "<p><b>{}</b></p><p>{}</p><p>{}</p><p>{}</p></div>",
        xml_escape(&super::document::title(report)),
        xml_escape(&crate::term::capitalise(report.outcome.words())),
        xml_escape(&report.headline),
        xml_escape(
            &super::document::risk_screen_line(report)
                .iter()
                .map(|span| span.text.as_str())
                .collect::<String>()
        )
    ));
    Narrative {
        status: "generated",
        div,
    }
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The item text of the ASQ result, crediting the NIMH.
const RISK_SCREEN_TEXT: &str = "Suicide risk screen, NIMH Ask Suicide-Screening Questions (ASQ)";

/// The ASQ result as a coding: the report's code, the clinician's words.
fn risk_screen_coding(screen: RiskScreen) -> Coding {
    coding(
        &code_system("risk-screen"),
        screen.as_str(),
        &screen.short_clinical(),
    )
}

fn assessment_group(report: &Report) -> ResponseItem {
    let mut items = vec![
        answered(
            "assessment.outcome",
            "Outcome",
            vec![Value::Coding(coding(
                &code_system("outcome"),
                report.outcome.as_str(),
                report.outcome.words(),
            ))],
        ),
        answered(
            "assessment.urgent",
            URGENT_TEXT,
            vec![Value::Boolean(report.urgent)],
        ),
        answered(
            "assessment.risk-screen",
            RISK_SCREEN_TEXT,
            vec![Value::Coding(risk_screen_coding(report.risk_screen))],
        ),
    ];
    if !report.headline.trim().is_empty() {
        items.push(answered(
            "assessment.headline",
            "Recommendation",
            vec![Value::String(report.headline.clone())],
        ));
    }
    for c in &report.criteria {
        items.push(answered(
            &format!("assessment.criterion.{}", c.id.as_str()),
            c.id.title(),
            vec![Value::Coding(coding(
                &code_system("criterion-status"),
                c.status.as_str(),
                c.status.words(),
            ))],
        ));
    }
    if !report.adjustments.is_empty() {
        items.push(answered(
            "assessment.adjustments",
            "What could help",
            report
                .adjustments
                .iter()
                .map(|a| Value::Coding(coding(&code_system("adjustment"), &a.id, &a.text)))
                .collect(),
        ));
    }
    group("assessment", "Readiness assessment", items)
}

const URGENT_TEXT: &str = "Urgent (ASQ acuity question answered yes)";
const RATING_TEXT: &str = "Connection rating for a one-to-one video call";
const NOT_MEASURED_TEXT: &str = "Why the connection was not measured";
const RESOURCE_TEXT: &str = "Ways to reach support now";
const REGION_TEXT: &str = "Region the numbers are for";

/// The measured figures and their items.
const FIGURES: [(&str, &str); 6] = [
    ("network.download-mbps", "Download (Mbit/s)"),
    ("network.upload-mbps", "Upload (Mbit/s)"),
    ("network.latency-idle-ms", "Delay when idle (ms)"),
    ("network.latency-loaded-ms", "Delay while busy (ms)"),
    ("network.jitter-ms", "Jitter (ms)"),
    ("network.udp-loss-pct", "Audio-like packets lost (%)"),
];

fn plan_group(report: &Report) -> Option<ResponseItem> {
    let plan = report.session_plan.as_ref()?;
    let values = plan.fields();
    let items: Vec<ResponseItem> = bank()
        .plan
        .prompts
        .iter()
        .filter_map(|p| {
            let (_, value) = values.iter().find(|(id, _)| *id == p.id)?;
            let value = value.as_deref()?.trim();
            // FHIR strings may not be empty: an unwritten field is left out.
            (!value.is_empty()).then(|| {
                answered(
                    &format!("plan.{}", p.id),
                    &p.text,
                    vec![Value::String(value.to_string())],
                )
            })
        })
        .collect();
    (!items.is_empty()).then(|| group("plan", &bank().plan.title, items))
}

fn network_group(report: &Report) -> ResponseItem {
    let Some(n) = &report.network else {
        let mut items = vec![answered(
            "network.video-rating",
            RATING_TEXT,
            vec![Value::Coding(not_performed())],
        )];
        if let Some(reason) = report
            .network_reason
            .as_deref()
            .filter(|r| !r.trim().is_empty())
        {
            items.push(answered(
                "network.not-measured-reason",
                NOT_MEASURED_TEXT,
                vec![Value::String(reason.to_string())],
            ));
        }
        return group("network", "Connection", items);
    };
    // A probe that measured nothing has no rating: the same absent-value code
    // as a connection that was never tested.
    let rating = if n.video.rating == VideoRating::NotMeasured {
        not_performed()
    } else {
        coding(
            &code_system("video-rating"),
            n.video.rating.as_str(),
            rating_display(n.video.rating),
        )
    };
    let mut items = vec![answered(
        "network.video-rating",
        RATING_TEXT,
        vec![Value::Coding(rating)],
    )];
    let values = [
        n.download.mbps,
        n.upload.mbps,
        n.latency.idle_ms,
        n.latency.loaded_ms,
        n.latency.jitter_ms,
        n.udp.as_ref().map(|u| u.loss_pct),
    ];
    for ((link_id, text), value) in FIGURES.iter().zip(values) {
        // One decimal place is all these figures carry.
        if let Some(v) = value.filter(|v| v.is_finite()) {
            items.push(answered(
                link_id,
                text,
                vec![Value::Decimal((v * 10.0).round() / 10.0)],
            ));
        }
    }
    group("network", "Connection", items)
}

fn rating_display(rating: VideoRating) -> &'static str {
    match rating {
        VideoRating::Good => "Good",
        VideoRating::Fair => "Fair",
        VideoRating::Poor => "Poor",
        VideoRating::Unusable => "Unusable",
        VideoRating::NotMeasured => "Not measured",
    }
}

/// One line per crisis resource, never none.
fn crisis_lines(report: &Report) -> Vec<String> {
    let mut lines: Vec<String> = report
        .crisis_resources
        .iter()
        .map(|r| {
            let hours = r
                .hours
                .as_deref()
                .map(|h| format!(" ({h})"))
                .unwrap_or_default();
            if r.kind == "emergency" {
                format!("If you are in immediate danger: {}{hours}", r.contact)
            } else {
                format!("{}: {}{hours}", r.name, r.contact)
            }
        })
        .collect();
    if lines.is_empty() {
        lines.push("If you are in immediate danger, call your local emergency number.".into());
    }
    lines
}

fn crisis_group(report: &Report) -> ResponseItem {
    let lines = crisis_lines(report)
        .into_iter()
        .map(Value::String)
        .collect();
    let mut items = vec![answered("crisis.resource", RESOURCE_TEXT, lines)];
    if !report.region.trim().is_empty() {
        items.push(answered(
            "crisis.region",
            REGION_TEXT,
            vec![Value::String(report.region.clone())],
        ));
    }
    group("crisis", super::document::CRISIS_TITLE, items)
}

// ---------------------------------------------------------------------------
// The Questionnaire resource that QuestionnaireResponses point to.

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
            .map(|q| {
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
            })
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
        super::document::CRISIS_TITLE,
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
