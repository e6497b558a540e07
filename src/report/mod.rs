//! Reports: the versioned JSON model and its renderings (terminal, JSON,
//! Markdown, text, PDF, FHIR), client and clinician views, encryption.
//! `model` is shared by every command; `terminal` is the on-screen report of
//! `check`; `document` is the one layout that Markdown, text and PDF all
//! draw; `deliver` chooses view, format, encryption and destination; `input`
//! reads saved (possibly encrypted) reports back; `summary` lists many.
pub mod deliver;
pub mod document;
pub mod encrypt;
pub mod fhir;
#[cfg(test)]
pub(crate) mod fixture;
pub mod html;
pub mod input;
pub mod markdown;
pub mod model;
pub mod pdf;
pub mod render;
pub mod saving;
pub mod schema;
pub mod summary;
pub mod terminal;
pub mod text;
pub mod verify;

pub use model::{Report, SCHEMA};

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Readable on screen.
    Terminal,
    /// The full report as JSON (schema in schema/report.schema.json).
    Json,
    /// Markdown for case notes.
    Markdown,
    /// Plain text for pasting into notes.
    Text,
    /// A one-to-two page PDF for attaching to case notes.
    Pdf,
    /// HL7 FHIR R4 QuestionnaireResponse JSON for record systems.
    Fhir,
}

/// Two views of one report.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    clap::ValueEnum,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum View {
    /// Everything except risk answers: safe to show on a shared screen.
    Client,
    /// Everything, including risk answers and the session plan.
    Clinician,
}

impl View {
    /// The id as written in reports (`client`, `clinician`).
    pub fn as_str(self) -> &'static str {
        match self {
            View::Client => "client",
            View::Clinician => "clinician",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::model::VideoRating;
    use model::QuestionnaireStatus;

    #[test]
    fn ids_are_the_names_in_saved_reports() {
        let json = |value: serde_json::Value| value.as_str().unwrap().to_string();
        for view in [View::Client, View::Clinician] {
            assert_eq!(json(serde_json::to_value(view).unwrap()), view.as_str());
        }
        for status in [QuestionnaireStatus::Completed, QuestionnaireStatus::Stopped] {
            assert_eq!(json(serde_json::to_value(status).unwrap()), status.as_str());
        }
        for rating in [
            VideoRating::Good,
            VideoRating::Fair,
            VideoRating::Poor,
            VideoRating::Unusable,
        ] {
            assert_eq!(json(serde_json::to_value(rating).unwrap()), rating.as_str());
        }
    }
}
