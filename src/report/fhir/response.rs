//! The report as a FHIR QuestionnaireResponse, answering the Questionnaire
//! in `questionnaire.rs` item for item.
use serde::Serialize;

use crate::questionnaire::{Question, SKIPPED, bank};

use super::*;
use crate::report::Report;
use crate::report::model::QuestionnaireStatus;

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
        crate::report::View::Client => {
            "Client copy (answers about home, contact with others and risk left out)"
        }
    };
    let mut tags = vec![coding(
        &code_system("report-view"),
        report.view.as_str(),
        view_display,
    )];
    if report.is_urgent() {
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
        // The client copy leaves the risk answers out and puts the numbers
        // first every time, so it says only that support is there.
        let urgent = match report.view {
            crate::report::View::Clinician if report.is_urgent() => {
                "Urgent: the client answered yes to the ASQ acuity question (risk.asq5). \
                 Please contact them promptly."
            }
            crate::report::View::Clinician => {
                "Same-day safety follow-up needed: a positive ASQ screen whose acuity is \
                 unknown (question 5 not answered)."
            }
            crate::report::View::Client => "Support is there whenever you need it.",
        };
        div.push_str(&format!(
            "<p><b>{urgent}</b></p><p>{}:</p><ul>",
            xml_escape(crate::report::document::CRISIS_TITLE)
        ));
        for line in crisis_lines(report) {
            div.push_str(&format!("<li>{}</li>", xml_escape(&line)));
        }
        div.push_str("</ul>");
    }
    if let Some(words) = crate::report::document::contact_care_words(report) {
        div.push_str(&format!(
            "<p><b>{}</b>{}</p>",
            xml_escape(crate::report::document::CONTACT_CARE_LABEL.trim_end()),
            xml_escape(&format!(" {words}"))
        ));
    }
    if let Some(reference) = &report.client_ref {
        div.push_str(&format!("<p>Client: {}</p>", xml_escape(reference)));
    }
    div.push_str(&format!(
        "<p><b>{}</b></p><p>{}</p><p>{}</p>",
        xml_escape(&crate::report::document::title(report)),
        xml_escape(&crate::term::capitalise(report.outcome.words())),
        xml_escape(&crate::report::document::headline(report)),
    ));
    let screen: String = crate::report::document::risk_screen_line(report)
        .iter()
        .map(|span| span.text.as_str())
        .collect();
    if !screen.is_empty() {
        div.push_str(&format!("<p>{}</p>", xml_escape(&screen)));
    }
    div.push_str("</div>");
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

fn assessment_group(report: &Report) -> ResponseItem {
    let mut items = vec![answered(
        "assessment.outcome",
        "Outcome",
        vec![Value::Coding(coding(
            &code_system("outcome"),
            report.outcome.as_str(),
            report.outcome.words(),
        ))],
    )];
    // The client copy has neither (null in its JSON): the items are left
    // out, so nothing in it names the ASQ or its acuity question.
    if let Some(urgent) = report.urgent {
        items.push(answered(
            "assessment.urgent",
            URGENT_TEXT,
            vec![Value::Boolean(urgent)],
        ));
    }
    if let Some(screen) = report.risk_screen {
        items.push(answered(
            "assessment.risk-screen",
            RISK_SCREEN_TEXT,
            vec![Value::Coding(risk_screen_coding(screen))],
        ));
    }
    // Null in a client copy, like the urgency: the item is left out.
    if let Some(watched) = report.watched_home {
        items.push(answered(
            "assessment.watched-home",
            WATCHED_HOME_TEXT,
            vec![Value::Boolean(watched)],
        ));
    }
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
    // Answers to questions whose enableWhen is false cannot be items of
    // their own (HL7's validator rejects them); they are kept here instead,
    // never dropped, and a yes about risk is already in the screen above.
    if !report.unasked_answers.is_empty() {
        items.push(answered(
            "assessment.unasked",
            UNASKED_TEXT,
            report
                .unasked_answers
                .iter()
                .map(|(id, a)| {
                    Value::String(match bank().question(id) {
                        Some(q) => format!("{id} = {a} ({} — {})", q.text, q.answer_label(a)),
                        None => format!("{id} = {a}"),
                    })
                })
                .collect(),
        ));
    }
    group("assessment", "Readiness assessment", items)
}

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

/// One line per crisis resource, never none.
fn crisis_lines(report: &Report) -> Vec<String> {
    let mut lines: Vec<String> = report
        .crisis_resources
        .iter()
        .map(|r| crate::crisis::wording(r).text())
        .collect();
    if lines.is_empty() {
        lines.push(crate::crisis::NO_ENTRIES.into());
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
    group("crisis", crate::report::document::CRISIS_TITLE, items)
}
