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
