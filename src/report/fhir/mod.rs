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
//!
//! The response is built in `response.rs`, the Questionnaire in
//! `questionnaire.rs`; what both must agree on (canonical URLs, code systems,
//! the texts and codings of the computed items) is here.

use serde::Serialize;

use crate::assessment::RiskScreen;
use crate::net::model::VideoRating;
use crate::questionnaire::bank;

mod questionnaire;
mod response;

pub use questionnaire::{
    AnswerOption, EnableWhen, Questionnaire, QuestionnaireItem, questionnaire,
};
pub use response::{
    Answer, Identifier, Meta, Narrative, QuestionnaireResponse, ResponseItem, Subject, Value,
    questionnaire_response, render,
};

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

const URGENT_TEXT: &str = "Urgent (ASQ acuity question answered yes)";
/// Where contact is planned: the client's phone or messages may be
/// monitored, or home does not feel safe (clinician copy only).
const WATCHED_HOME_TEXT: &str =
    "Contact with care: phone or messages may be monitored, or home does not feel safe";
/// Answers a file gave to questions whose `enableWhen` is false: not items
/// of the response (HL7 forbids that), but kept here, read-only.
const UNASKED_TEXT: &str = "Answered in the file, though not asked";
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

fn rating_display(rating: VideoRating) -> &'static str {
    match rating {
        VideoRating::Good => "Good",
        VideoRating::Fair => "Fair",
        VideoRating::Poor => "Poor",
        VideoRating::Unusable => "Unusable",
        VideoRating::NotMeasured => "Not measured",
    }
}
