//! Where a finished report goes: which view, which format, encrypted or not,
//! screen or file.
use std::path::Path;

use crate::cli::{Format, View};
use crate::error::InputError;
use crate::term::Style;

use super::Report;

/// How the person asked for the report.
#[derive(Debug, Clone, Copy)]
pub struct Delivery<'a> {
    pub format: Format,
    /// Explicit view; by default the client copy on screen, the clinician copy
    /// in a file or when encrypted.
    pub view: Option<View>,
    pub output: Option<&'a Path>,
    /// age recipient (`age1…`) for an encrypted clinician copy: `--encrypt-to`,
    /// or the clinic file's `recipient` (see `clinic::settings`).
    pub encrypt_to: Option<&'a str>,
    pub style: Style,
}

impl Delivery<'_> {
    /// The view used when none was asked for: never risk answers on a screen
    /// in the clear. A file is the clinician copy (written privately), and so
    /// is an encrypted copy, which only the clinic can open.
    pub fn effective_view(&self) -> View {
        self.view
            .unwrap_or(if self.output.is_some() || self.encrypt_to.is_some() {
                View::Clinician
            } else {
                View::Client
            })
    }
}

/// Render, encrypt if asked, and write (or print) the report.
pub fn deliver(report: &Report, delivery: &Delivery) -> anyhow::Result<()> {
    let bytes = prepare(report, delivery)?;
    crate::commands::emit(delivery.output, &bytes)
}

/// The bytes `deliver` would write: the view chosen, rendered, encrypted.
pub fn prepare(report: &Report, delivery: &Delivery) -> anyhow::Result<Vec<u8>> {
    // Checked before rendering so a typo costs nothing.
    let recipient = match delivery.encrypt_to {
        Some(r) => Some(
            super::encrypt::parse_recipient(r)
                .map_err(|why| InputError::Usage(format!("--encrypt-to: {why}.")))?,
        ),
        None => None,
    };
    if delivery.format == Format::Pdf
        && delivery.output.is_none()
        && recipient.is_none()
        && delivery.style.tty
    {
        return Err(InputError::Usage(
            "A PDF cannot be shown on screen. Nothing was written; add --output summary.pdf \
             to save it."
                .into(),
        )
        .into());
    }
    let shown = match delivery.effective_view() {
        View::Client => report.client_copy(),
        View::Clinician => report.clone(),
    };
    let bytes = super::render::render(&shown, delivery.format, delivery.style)?;
    match recipient {
        Some(r) => super::encrypt::encrypt(&bytes, &r),
        None => Ok(bytes),
    }
}
