//! `summarize`: one row per client report for an intake coordinator, urgent
//! first, then in-person recommendations, then oldest first so no one waits
//! longest. A file that cannot be read is listed with the reason in every
//! format, never dropped, and its urgency is unknown: it comes right after
//! the urgent ones and same-day follow-ups, never among the calm ones. A
//! report saved as Markdown, text or PDF is named as such (only the JSON copy
//! can be read back).
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
    /// True when the client's phone or messages may be monitored, or home
    /// does not feel safe (see the report's `watched_home`): contact with
    /// care. Null for a client copy.
    pub watched_home: Option<bool>,
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
    /// Files in the folders given that are not reports (not .json or .age,
    /// and not a report saved as Markdown, text or PDF), counted so the
    /// coordinator knows they were passed over...
    pub other_files: usize,
    /// ...and named.
    pub passed_over: Vec<String>,
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
        watched_home: report.watched_home,
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

/// The other formats a report can be saved in, which cannot be read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OtherFormat {
    Pdf,
    Markdown,
    Text,
    Html,
}

impl OtherFormat {
    fn of(path: &Path, bytes: &[u8]) -> Option<OtherFormat> {
        if bytes.starts_with(b"%PDF") {
            return Some(OtherFormat::Pdf);
        }
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "pdf" => Some(OtherFormat::Pdf),
            "md" | "markdown" => Some(OtherFormat::Markdown),
            "txt" | "text" => Some(OtherFormat::Text),
            "html" | "htm" => Some(OtherFormat::Html),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            OtherFormat::Pdf => "PDF",
            OtherFormat::Markdown => "Markdown",
            OtherFormat::Text => "text",
            OtherFormat::Html => "a web page",
        }
    }
}

/// Whether `bytes` hold a report saved as PDF, Markdown, text or HTML: each
/// names session-ready (the PDF in its metadata, the others in the footer).
fn saved_in_other_format(path: &Path, bytes: &[u8]) -> Option<OtherFormat> {
    let format = OtherFormat::of(path, bytes)?;
    contains_bytes(bytes, b"session-ready").then_some(format)
}

fn contains_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Why a report saved as `format` is listed rather than read.
fn other_format_note(format: OtherFormat) -> String {
    let saved = match format {
        OtherFormat::Html => "saved as a web page".to_string(),
        f => format!("saved as {}", f.name()),
    };
    format!(
        "it is a session-ready report {saved}, which cannot be read for its answers. Open it to \
         check it yourself, and ask for the JSON copy (saved with --format json) so it can be \
         read here. Nothing was changed."
    )
}

/// A PDF report with its fonts is well under this; only files this size are
/// looked into for being a report saved in another format.
const OTHER_FORMAT_MAX_BYTES: u64 = 16 * 1024 * 1024;

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
                            continue;
                        }
                        // A report saved as PDF, Markdown or text is named, never passed over.
                        let bytes = crate::fsutil::read_input(&p, OTHER_FORMAT_MAX_BYTES);
                        match bytes.ok().and_then(|b| saved_in_other_format(&p, &b)) {
                            Some(format) => summary.unreadable.push(Unreadable {
                                file: p.display().to_string(),
                                error: other_format_note(format),
                            }),
                            None => {
                                summary.other_files += 1;
                                summary.passed_over.push(p.display().to_string());
                            }
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
        // Named on the command line: a report saved in another format says so.
        if !is_report_name(&file)
            && let Ok(bytes) = crate::fsutil::read_input(&file, OTHER_FORMAT_MAX_BYTES)
            && let Some(format) = saved_in_other_format(&file, &bytes)
        {
            summary.unreadable.push(Unreadable {
                file: name,
                error: other_format_note(format),
            });
            continue;
        }
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
    summary.unreadable.sort_by(|a, b| a.file.cmp(&b.file));
    summary
}

/// Urgent or same-day follow-up: listed before the files whose urgency is
/// unknown because they could not be read.
fn ahead_of_unreadable(row: &Row) -> bool {
    row.urgent == Some(true)
        || row.risk_screen == Some(RiskScreen::PositiveAcuityUnknown)
        || urgency_unknown(row)
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
    for p in &mut copy.passed_over {
        *p = text(p);
    }
    for u in &mut copy.unreadable {
        u.file = text(&u.file);
        u.error = text(&u.error);
    }
    copy
}

/// Spreadsheets run cells that start with these as formulas; a leading
/// apostrophe keeps a file name like "=cmd.json" as text (OWASP advice).
/// Their full-width forms (＝ ＋ － ＠) are guarded too: some spreadsheets
/// fold them to the ASCII ones when the cell is read.
fn cell(text: &str) -> String {
    if text.starts_with([
        '=', '+', '-', '@', '\t', '\r', '\u{FF1D}', '\u{FF0B}', '\u{FF0D}', '\u{FF20}',
    ]) {
        format!("'{text}")
    } else {
        text.to_string()
    }
}

/// New columns go at the end, so a reader that counts columns still finds
/// the old ones where they were.
const CSV_HEADER: [&str; 16] = [
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
    "watched_home",
];

const ERROR_COLUMN: usize = 14;

fn csv(summary: &Summary) -> anyhow::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(CSV_HEADER)?;
    let (first, rest): (Vec<&Row>, Vec<&Row>) =
        summary.reports.iter().partition(|r| ahead_of_unreadable(r));
    let report = |w: &mut csv::Writer<Vec<u8>>, r: &Row| {
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
            r.watched_home
                .map_or("unknown".to_string(), |w| w.to_string()),
        ])
    };
    for r in first {
        report(&mut w, r)?;
    }
    // Files that could not be read: urgency unknown, so after the urgent ones
    // and before every report that was read and found calmer.
    for u in &summary.unreadable {
        let mut record = vec![String::new(); CSV_HEADER.len()];
        record[0] = cell(&u.file);
        record[4] = "unknown".to_string();
        record[ERROR_COLUMN] = cell(&u.error);
        record[ERROR_COLUMN + 1] = "unknown".to_string();
        w.write_record(&record)?;
    }
    for r in rest {
        report(&mut w, r)?;
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
            "{} could not be read, so {} urgency is unknown; {} listed right after the urgent \
             ones and same-day follow-ups.\n",
            match summary.unreadable.len() {
                1 => "1 file".to_string(),
                n => format!("{n} files"),
            },
            if summary.unreadable.len() == 1 {
                "its"
            } else {
                "their"
            },
            if summary.unreadable.len() == 1 {
                "it is"
            } else {
                "they are"
            }
        ));
    }
    out.push_str(
        "Urgent first, then same-day follow-ups, then client copies and files whose urgency is \
         unknown, then in-person recommendations, then oldest first.\n\n",
    );

    let mut number = 0;
    let mut unreadable_listed = false;
    for r in &summary.reports {
        if !unreadable_listed && !ahead_of_unreadable(r) {
            unreadable(&mut out, summary, style, &mut number);
            unreadable_listed = true;
        }
        number += 1;
        // Local time with its zone (the CSV and JSON keep the saved UTC time).
        let date = crate::when::local(&r.date).map_or_else(
            || r.date.get(..10).unwrap_or(&r.date).to_string(),
            |l| l.short(),
        );
        let client = r
            .client_ref
            .as_deref()
            .map(|c| format!(", client {c}"))
            .unwrap_or_default();
        out.push_str(&format!(
            "{}. {} ({date}{client})\n",
            number,
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
        if r.watched_home == Some(true) {
            out.push_str(&format!(
                "   {} their phone or messages may be monitored, or home does not feel safe. \
                 Ask how and when it is safe to reach them before calling or leaving a \
                 message.\n",
                style.bold("Contact with care:")
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
    if !unreadable_listed {
        unreadable(&mut out, summary, style, &mut number);
    }
    if summary.other_files > 0 {
        out.push_str(&format!(
            "\n{} other file{} in the folders given {} passed over, because {} not a report: {}.\n",
            summary.other_files,
            if summary.other_files == 1 { "" } else { "s" },
            if summary.other_files == 1 {
                "was"
            } else {
                "were"
            },
            if summary.other_files == 1 {
                "it is"
            } else {
                "they are"
            },
            summary.passed_over.join(", "),
        ));
    }
    out
}

/// The files that could not be read, numbered on from the reports before them.
fn unreadable(out: &mut String, summary: &Summary, style: Style, number: &mut usize) {
    for u in &summary.unreadable {
        *number += 1;
        out.push_str(&format!(
            "{number}. {}\n   {} this file could not be read: {}\n",
            style.bold(&u.file),
            style.bold("Urgency unknown,"),
            u.error
        ));
    }
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
            watched_home: Some(false),
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
        for lookalike in ["\u{FF1D}1+1", "\u{FF0B}1", "\u{FF0D}1", "\u{FF20}SUM(1)"] {
            assert_eq!(cell(lookalike), format!("'{lookalike}"));
        }
        assert!(out.contains(",'@SUM(1),"), "{out}");
    }

    #[test]
    fn the_error_column_is_the_one_named_error() {
        assert_eq!(CSV_HEADER[ERROR_COLUMN], "error");
    }
}
