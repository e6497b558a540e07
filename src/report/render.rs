//! Rendering a report in each format. (Issue 5 builds Markdown, text, PDF, FHIR.)
use crate::cli::Format;

use super::Report;

/// Render `report` (already in the chosen view) as bytes in `format`.
pub fn render(report: &Report, format: Format) -> anyhow::Result<Vec<u8>> {
    match format {
        Format::Json => Ok(serde_json::to_vec_pretty(report)?),
        other => Err(crate::error::InputError::Usage(format!(
            "The {other:?} format is not built yet in this version; use --format json."
        ))
        .into()),
    }
}
