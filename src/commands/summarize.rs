//! `session-ready summarize DIR|FILES…`: a caseload at a glance for intake
//! coordinators. Unreadable files are listed, never dropped; the exit code is
//! 0 when at least one report was read.

use crate::cli::SummarizeArgs;
use crate::error::{Exit, InputError};
use crate::report::summary::{collect, render};
use crate::term::Style;

pub fn run(args: SummarizeArgs, style: Style) -> anyhow::Result<Exit> {
    // Before any report is read: a saved report must never be replaced by a summary.
    super::refuse_existing(args.output.as_deref(), false, args.force)?;
    if let Some(identity) = &args.identity {
        // A bad key file would otherwise show up once per encrypted report.
        crate::report::encrypt::load_identities(identity)?;
    }
    let summary = collect(&args.paths, args.identity.as_deref());
    let to_file = args
        .output
        .as_deref()
        .is_some_and(|p| !crate::fsutil::is_stdout(Some(p)));
    // A summary of nothing is never saved: a file that looks like a caseload
    // but holds no report could be taken for an empty, calm one.
    if !(summary.reports.is_empty() && to_file) {
        let bytes = render(&summary, args.format, style)?;
        crate::fsutil::emit(args.output.as_deref(), &bytes)?;
    }
    if summary.reports.is_empty() {
        let reasons: String = if to_file {
            summary
                .unreadable
                .iter()
                .map(|u| format!("\n  - {}: {}", u.file, u.error))
                .collect()
        } else {
            String::new()
        };
        return Err(InputError::Usage(
            crate::safe_text::printable(&format!(
                "No report could be read from {}{}. Reports are the files saved with \
                 `session-ready check --format json`.{}{reasons}",
                args.paths
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                if summary.unreadable.is_empty() || to_file {
                    ""
                } else {
                    " (the reasons are listed above)"
                },
                if to_file { " Nothing was written." } else { "" },
            ))
            .into_owned(),
        )
        .into());
    }
    Ok(Exit::Done)
}
