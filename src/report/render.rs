//! Rendering a report in each format. `check --format` and `report --format`
//! both come through here, so every format is available to both.
use crate::report::Format;
use crate::term::Style;

use super::Report;

/// Render `report` (already in the chosen view) as bytes in `format`.
/// Every format but JSON draws from a copy whose free text is escaped
/// (`safe_text`), so nothing in a report can drive a terminal or a viewer;
/// JSON keeps the data and escapes at the byte level (`term::json_document`).
pub fn render(report: &Report, format: Format, style: Style) -> anyhow::Result<Vec<u8>> {
    let escaped;
    let report = if format == Format::Json {
        report
    } else {
        escaped = crate::safe_text::escape_strings(report);
        &escaped
    };
    match format {
        Format::Json => Ok(crate::term::json_document(report)?),
        Format::Terminal => Ok(style
            .fit(super::terminal::render(report, style))
            .into_bytes()),
        Format::Markdown => Ok(super::markdown::render(report).into_bytes()),
        Format::Text => Ok(super::text::render(report).into_bytes()),
        Format::Pdf => super::pdf::render(report),
        Format::Fhir => super::fhir::render(report),
    }
}
