//! Rendering a report in each format. (Issue 5 builds Markdown, text, PDF, FHIR.)
use crate::cli::Format;
use crate::term::Style;

use super::Report;

/// Render `report` (already in the chosen view) as bytes in `format`.
pub fn render(report: &Report, format: Format, style: Style) -> anyhow::Result<Vec<u8>> {
    match format {
        Format::Json => {
            let mut out = serde_json::to_vec_pretty(report)?;
            out.push(b'\n');
            Ok(out)
        }
        Format::Terminal => Ok(super::terminal::render(report, style).into_bytes()),
        other => Err(crate::error::InputError::Usage(format!(
            "The {other:?} format is not built yet in this version; use --format json."
        ))
        .into()),
    }
}
