//! `summarize`: one row per client report for an intake coordinator, urgent
//! first, then in-person recommendations, then oldest first so no one waits
//! longest. A file that cannot be read is listed with the reason in every
//! format, never dropped.
use std::cmp::Ordering;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::assessment::{Outcome, RiskScreen, Status};
use crate::error::InputError;
use crate::net::model::VideoRating;
use crate::term::Style;

use super::Report;

/// Schema id of `summarize --format json`.
pub const SUMMARY_SCHEMA: &str = "session-ready/summary/v1";

/// Formats of a caseload summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SummaryFormat {
    Terminal,
    Csv,
    Json,
}

/// One client report, as a coordinator needs it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    pub file: String,
    /// The clinic's reference for the client, when the report has one.
    pub client_ref: Option<String>,
    /// When the report was made (RFC 3339).
    pub date: String,
    pub outcome: Outcome,
    /// Null for a client copy: it cannot say (sorted with the same-day
    /// follow-ups, above every report known not to be urgent).
    pub urgent: Option<bool>,
    /// The NIMH ASQ screen result (see the report's `risk_screen`); null for
    /// a client copy.
    pub risk_screen: Option<RiskScreen>,
    /// Criterion ids with status `met`.
    pub criteria_met: Vec<String>,
    /// Criterion ids with status `unknown` (skipped or not measured).
    pub criteria_unknown: Vec<String>,
    /// `good` | `fair` | `poor` | `unusable`, or `not-measured` (no connection
    /// test, or one that measured nothing).
    pub network_rating: String,
    pub region: String,
    /// `client` or `clinician` copy.
    pub view: String,
    pub questionnaire_status: String,
    /// Questions answered "skipped" (in this copy).
    pub skipped: usize,
    /// Set when the file's saved verdict differed from what its answers give
    /// (changed by hand, or made by another version); the row shows the
    /// worked-out verdict.
    pub changed: Option<String>,
}

/// A file that could not be read, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unreadable {
    pub file: String,
    pub error: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Summary {
    pub schema: &'static str,
    pub reports: Vec<Row>,
    pub unreadable: Vec<Unreadable>,
    /// Files in the folders given that are not reports by name (not .json or
    /// .age), counted so the coordinator knows they were passed over.
    pub other_files: usize,
}

pub fn row(file: &str, report: &Report) -> Row {
    let ids = |status: Status| {
        report
            .criteria
            .iter()
            .filter(|c| c.status == status)
            .map(|c| c.id.as_str().to_string())
            .collect()
    };
    Row {
        file: file.to_string(),
        client_ref: report.client_ref.clone(),
        date: report.generated_at.clone(),
        outcome: report.outcome,
        urgent: report.urgent,
        risk_screen: report.risk_screen,
        criteria_met: ids(Status::Met),
        criteria_unknown: ids(Status::Unknown),
        network_rating: report
            .network
            .as_ref()
            .map_or(VideoRating::NotMeasured, |n| n.video.rating)
            .as_str()
            .to_string(),
        region: report.region.clone(),
        view: report.view.as_str().to_string(),
        questionnaire_status: report.questionnaire_status.as_str().to_string(),
        skipped: report
            .answers
            .values()
            .filter(|a| *a == crate::questionnaire::SKIPPED)
            .count(),
        changed: None,
    }
}

/// Urgent first, then a positive ASQ screen whose acuity is unknown (handled
/// as possibly acute), then copies whose urgency cannot be known (client
/// copies: a genuine or edited one never sorts as safe), then in-person
/// recommended, then by date (oldest first).
fn triage_order(a: &Row, b: &Row) -> Ordering {
    let when = |r: &Row| chrono::DateTime::parse_from_rfc3339(&r.date).ok();
    let urgent = |r: &Row| r.urgent == Some(true);
    let acuity_unknown = |r: &Row| r.risk_screen == Some(RiskScreen::PositiveAcuityUnknown);
    urgent(b)
        .cmp(&urgent(a))
        .then_with(|| acuity_unknown(b).cmp(&acuity_unknown(a)))
        .then_with(|| urgency_unknown(b).cmp(&urgency_unknown(a)))
        .then_with(|| {
            (b.outcome == Outcome::InPersonRecommended)
                .cmp(&(a.outcome == Outcome::InPersonRecommended))
        })
        .then_with(|| match (when(a), when(b)) {
            (Some(x), Some(y)) => x.cmp(&y),
            _ => a.date.cmp(&b.date),
        })
        .then_with(|| a.file.cmp(&b.file))
}

/// The message of an input error without the "problem with the file" prefix,
/// since the file is in its own column.
fn reason(err: InputError) -> String {
    match err {
        InputError::File { detail, .. } => detail,
        other => other.to_string(),
    }
}

/// Whether the row cannot say if the client needs contact today.
fn urgency_unknown(r: &Row) -> bool {
    r.urgent.is_none() || r.risk_screen.is_none()
}

fn is_report_name(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("json") || e.eq_ignore_ascii_case("age"))
}

/// Read every report named by `paths` (files, or folders of .json/.age files).
pub fn collect(paths: &[PathBuf], identity: Option<&Path>) -> Summary {
    let mut summary = Summary {
        schema: SUMMARY_SCHEMA,
        ..Summary::default()
    };
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            match std::fs::read_dir(path) {
                Ok(entries) => {
                    let mut found: Vec<PathBuf> = entries
                        .filter_map(|e| e.ok())
                        .map(|e| e.path())
                        // Anything named like a report is tried, whatever it
                        // is (a folder, a pipe, a broken link), so it is listed
                        // with the reason rather than dropped; other folders
                        // are passed over quietly.
                        .filter(|p| is_report_name(p) || !p.is_dir())
                        // Hidden files include our own half-written temp files.
                        .filter(|p| {
                            !p.file_name()
                                .and_then(|n| n.to_str())
                                .is_some_and(|n| n.starts_with('.'))
                        })
                        .collect();
                    found.sort();
                    for p in found {
                        if is_report_name(&p) {
                            files.push(p);
                        } else {
                            summary.other_files += 1;
                        }
                    }
                }
                Err(e) => summary.unreadable.push(Unreadable {
                    file: path.display().to_string(),
                    error: format!("the folder could not be read ({e})."),
                }),
            }
        } else {
            files.push(path.clone());
        }
    }
    for file in files {
        let name = file.display().to_string();
        match super::input::read_report(&file, identity) {
            Ok(checked) => {
                let mut row = row(&name, &checked.report);
                if !checked.changes.is_empty() {
                    row.changed = Some(super::verify::changed_note(&checked.changes));
                }
                summary.reports.push(row);
            }
            Err(e) => summary.unreadable.push(Unreadable {
                file: name,
                error: reason(e),
            }),
        }
    }
    summary.reports.sort_by(triage_order);
    summary
}

pub fn render(summary: &Summary, format: SummaryFormat, style: Style) -> anyhow::Result<Vec<u8>> {
    match format {
        SummaryFormat::Json => Ok(crate::term::json_document(summary)?),
        SummaryFormat::Csv => csv(&escaped(summary)),
        SummaryFormat::Terminal => Ok(terminal(&escaped(summary), style).into_bytes()),
    }
}

/// File names and the text taken from reports, with anything that could
/// drive a terminal or spreadsheet escaped (`safe_text`).
fn escaped(summary: &Summary) -> Summary {
    let text = |s: &str| crate::safe_text::printable(s).into_owned();
    let mut copy = summary.clone();
    for r in &mut copy.reports {
        r.file = text(&r.file);
        r.date = text(&r.date);
        r.region = text(&r.region);
        r.client_ref = r.client_ref.as_deref().map(text);
        r.changed = r.changed.as_deref().map(text);
    }
    for u in &mut copy.unreadable {
        u.file = text(&u.file);
        u.error = text(&u.error);
    }
    copy
}

/// Spreadsheets run cells that start with these as formulas; a leading
/// apostrophe keeps a file name like "=cmd.json" as text (OWASP advice).
fn cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    }
}

const CSV_HEADER: [&str; 15] = [
    "file",
    "client_ref",
    "date",
    "outcome",
    "urgent",
    "risk_screen",
    "criteria_met",
    "criteria_unknown",
    "network_rating",
    "region",
    "view",
    "questionnaire_status",
    "skipped",
    "changed",
    "error",
];

fn csv(summary: &Summary) -> anyhow::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(CSV_HEADER)?;
    for r in &summary.reports {
        w.write_record([
            cell(&r.file),
            cell(r.client_ref.as_deref().unwrap_or_default()),
            cell(&r.date),
            r.outcome.as_str().to_string(),
            r.urgent.map_or("unknown".to_string(), |u| u.to_string()),
            r.risk_screen
                .map_or("unknown", RiskScreen::as_str)
                .to_string(),
            r.criteria_met.join(";"),
            r.criteria_unknown.join(";"),
            r.network_rating.clone(),
            cell(&r.region),
            r.view.clone(),
            r.questionnaire_status.clone(),
            r.skipped.to_string(),
            cell(r.changed.as_deref().unwrap_or_default()),
            String::new(),
        ])?;
    }
    for u in &summary.unreadable {
        let mut record = vec![String::new(); CSV_HEADER.len()];
        record[0] = cell(&u.file);
        record[CSV_HEADER.len() - 1] = cell(&u.error);
        w.write_record(&record)?;
    }
    Ok(w.into_inner()?)
}

fn list(ids: &[String]) -> String {
    if ids.is_empty() {
        "none".to_string()
    } else {
        ids.join(", ")
    }
}

fn terminal(summary: &Summary, style: Style) -> String {
    let mut out = style.heading("Caseload summary");
    let count = |o: Outcome| summary.reports.iter().filter(|r| r.outcome == o).count();
    let urgent = summary
        .reports
        .iter()
        .filter(|r| r.urgent == Some(true))
        .count();
    let acuity_unknown = summary
        .reports
        .iter()
        .filter(|r| r.risk_screen == Some(RiskScreen::PositiveAcuityUnknown))
        .count();
    let unknown = summary
        .reports
        .iter()
        .filter(|r| urgency_unknown(r))
        .count();
    // The outcome counts add up to the reports read; urgency and same-day
    // follow-up cut across outcomes, so they are their own sentences.
    out.push_str(&format!(
        "{} report{} read: {} in-person recommended, {} video with adjustments, {} video \
         suitable.{}{}{}\n",
        summary.reports.len(),
        if summary.reports.len() == 1 { "" } else { "s" },
        count(Outcome::InPersonRecommended),
        count(Outcome::VideoWithAdjustments),
        count(Outcome::VideoSuitable),
        match urgent {
            0 => String::new(),
            1 => " 1 of them is urgent and comes first.".to_string(),
            n => format!(" {n} of them are urgent and come first."),
        },
        match acuity_unknown {
            0 => String::new(),
            1 => " 1 needs same-day follow-up (acuity unknown).".to_string(),
            n => format!(" {n} need same-day follow-up (acuity unknown)."),
        },
        match unknown {
            0 => String::new(),
            1 => " 1 is a client copy, whose urgency cannot be checked.".to_string(),
            n => format!(" {n} are client copies, whose urgency cannot be checked."),
        }
    ));
    if !summary.unreadable.is_empty() {
        out.push_str(&format!(
            "{} file{} could not be read; listed at the end.\n",
            summary.unreadable.len(),
            if summary.unreadable.len() == 1 {
                ""
            } else {
                "s"
            }
        ));
    }
    out.push_str(
        "Urgent first, then same-day follow-ups, then copies whose urgency is unknown, then \
         in-person recommendations, then oldest first.\n\n",
    );

    for (i, r) in summary.reports.iter().enumerate() {
        let date = r.date.get(..10).unwrap_or(&r.date);
        let client = r
            .client_ref
            .as_deref()
            .map(|c| format!(", client {c}"))
            .unwrap_or_default();
        out.push_str(&format!(
            "{}. {} ({date}{client})\n",
            i + 1,
            style.bold(&r.file)
        ));
        if r.urgent == Some(true) {
            out.push_str(&format!(
                "   {} the ASQ acuity question was answered yes. Please contact this client \
                 promptly; support numbers for region {} are at the top of their report.\n",
                style.bold("Urgent:"),
                r.region
            ));
        } else if r.risk_screen == Some(RiskScreen::PositiveAcuityUnknown) {
            out.push_str(&format!(
                "   {} a yes on the ASQ screening questions, and the acuity question was not \
                 answered, so acuity is unknown. A same-day safety follow-up is needed (brief \
                 suicide safety assessment); support numbers for region {} are at the top of \
                 their report.\n",
                style.bold("Same-day follow-up:"),
                r.region
            ));
        } else if urgency_unknown(r) {
            out.push_str(&format!(
                "   {} {}.\n",
                style.bold("Urgency unknown:"),
                super::verify::CLIENT_COPY_UNCHECKED
            ));
        }
        if let Some(note) = &r.changed {
            out.push_str(&format!("   {} {note}\n", style.bold("Checked again:")));
        }
        out.push_str(&format!("   Outcome: {}.\n", r.outcome.as_str()));
        if let Some(screen) = r.risk_screen {
            out.push_str(&format!(
                "   {}.\n",
                crate::term::capitalise(&screen.short_clinical())
            ));
        }
        out.push_str(&format!(
            "   Criteria met: {}. Not known yet: {}.\n",
            list(&r.criteria_met),
            list(&r.criteria_unknown)
        ));
        out.push_str(&format!(
            "   Connection: {}. Skipped questions: {}. {} copy{}.\n",
            r.network_rating,
            r.skipped,
            crate::term::capitalise(&r.view),
            if r.questionnaire_status == "stopped" {
                ", questionnaire stopped before the end"
            } else {
                ""
            }
        ));
    }
    if !summary.unreadable.is_empty() {
        out.push('\n');
        out.push_str(&style.heading("Could not be read (nothing was changed)"));
        for u in &summary.unreadable {
            out.push_str(&format!("{} {}: {}\n", style.bullet(), u.file, u.error));
        }
    }
    if summary.other_files > 0 {
        out.push_str(&format!(
            "\n{} other file{} in the folders given {} passed over, because {} not end in .json \
             or .age.\n",
            summary.other_files,
            if summary.other_files == 1 { "" } else { "s" },
            if summary.other_files == 1 {
                "was"
            } else {
                "were"
            },
            if summary.other_files == 1 {
                "its name does"
            } else {
                "their names do"
            },
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_csv_cell_from_a_file_is_kept_as_text() {
        let row = Row {
            file: "r.json".into(),
            client_ref: Some("@SUM(1)".into()),
            date: "=HYPERLINK(\"http://evil.example\")".into(),
            outcome: Outcome::VideoSuitable,
            urgent: Some(false),
            risk_screen: Some(RiskScreen::Negative),
            criteria_met: vec![],
            criteria_unknown: vec![],
            network_rating: "not-measured".into(),
            region: "GB".into(),
            view: "clinician".into(),
            questionnaire_status: "completed".into(),
            skipped: 0,
            changed: None,
        };
        let summary = Summary {
            schema: SUMMARY_SCHEMA,
            reports: vec![row],
            ..Summary::default()
        };
        let out = String::from_utf8(csv(&summary).unwrap()).unwrap();
        assert!(out.contains("\"'=HYPERLINK"), "{out}");
        assert!(out.contains(",'@SUM(1),"), "{out}");
    }
}
