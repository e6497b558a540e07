//! Reports: the versioned JSON model and its renderings (terminal, JSON,
//! Markdown, text, PDF, FHIR), client and clinician views, encryption.
//! `model` is shared by every command; `terminal` is the on-screen report of
//! `check`; `deliver` chooses view, format, encryption and destination.
pub mod deliver;
pub mod model;
pub mod render;
pub mod terminal;

pub use model::{Report, SCHEMA};
