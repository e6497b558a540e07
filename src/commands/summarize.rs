//! `session-ready summarize DIR|FILES…`: a caseload at a glance for intake
//! coordinators. Unreadable files are listed, never dropped; the exit code is
//! 0 when at least one report was read.

use crate::cli::SummarizeArgs;
use crate::error::{Exit, InputError};
use crate::report::summary::{collect, render};
use crate::term::Style;

pub fn run(args: SummarizeArgs, style: Style) -> anyhow::Result<Exit> {
    // Before any report is read: a saved report must never be replaced by a summary.
    super::refuse_existing(args.output.as_deref(), args.force)?;
    if let Some(identity) = &args.identity {
        // A bad key file would otherwise show up once per encrypted report.
        crate::report::encrypt::load_identities(identity)?;
    }
    let summary = collect(&args.paths, args.identity.as_deref());
    let bytes = render(&summary, args.format, style)?;
    crate::fsutil::emit(args.output.as_deref(), &bytes)?;
    if summary.reports.is_empty() {
        return Err(InputError::Usage(format!(
            "No report could be read from {}{}. Reports are the files saved with \
             `session-ready check --format json`.",
            args.paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            if summary.unreadable.is_empty() {
                ""
            } else {
                " (the reasons are listed above)"
            }
        ))
        .into());
    }
    Ok(Exit::Done)
}
