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
pub mod input;
pub mod markdown;
pub mod model;
pub mod pdf;
pub mod render;
pub mod schema;
pub mod summary;
pub mod terminal;
pub mod text;

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
