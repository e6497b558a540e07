//! Where a finished report goes: which view, which format, encrypted or not,
//! screen or file. (Issue 5 adds encryption and the other formats.)
use std::path::Path;

use crate::cli::{Format, View};
use crate::term::Style;

use super::Report;

/// How the person asked for the report.
#[derive(Debug, Clone, Copy)]
pub struct Delivery<'a> {
    pub format: Format,
    /// Explicit view; by default the client copy on screen, the clinician copy in a file.
    pub view: Option<View>,
    pub output: Option<&'a Path>,
    /// age recipient for an encrypted clinician copy.
    pub encrypt_to: Option<&'a str>,
    pub style: Style,
}

impl Delivery<'_> {
    /// The view used when none was asked for: never risk answers on screen.
    pub fn effective_view(&self) -> View {
        self.view.unwrap_or(if self.output.is_some() {
            View::Clinician
        } else {
            View::Client
        })
    }
}

/// Render and write (or print) the report as asked.
pub fn deliver(report: &Report, delivery: &Delivery) -> anyhow::Result<()> {
    let shown = match delivery.effective_view() {
        View::Client => report.client_copy(),
        View::Clinician => report.clone(),
    };
    let bytes = super::render::render(&shown, delivery.format, delivery.style)?;
    crate::commands::emit(delivery.output, &bytes)
}
