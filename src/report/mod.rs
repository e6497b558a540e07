//! Reports: the versioned JSON model and its renderings (terminal, JSON,
//! Markdown, text, PDF, FHIR), client and clinician views, encryption. (Issue 5
//! builds the renderers; `model` is shared by every issue.)
pub mod model;
pub mod render;

pub use model::{Report, SCHEMA};
