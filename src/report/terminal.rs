//! The report as shown on screen at the end of `check`. (Issue 4.)
use crate::term::Style;

use super::Report;

pub fn render(report: &Report, style: Style) -> String {
    format!(
        "{}\n{}\n",
        style.bold("Your readiness report"),
        report.headline
    )
}
