//! `session-ready report FILE`: show a saved report again, in any format, as
//! the client or clinician copy; encrypted reports open with --identity.

use crate::cli::ReportArgs;
use crate::error::{Exit, InputError};
use crate::report::View;
use crate::report::deliver::{Delivery, deliver};
use crate::report::input::read_report;
use crate::term::Style;

pub fn run(args: ReportArgs, style: Style) -> anyhow::Result<Exit> {
    let client_ref = super::check::flag_client_ref(args.client_ref.as_deref())?;
    super::refuse_existing(args.output.as_deref(), args.force)?;
    let checked = read_report(&args.file, args.identity.as_deref())?;
    if checked.report.view == View::Client {
        // Checked or not, a client copy cannot say whether the client needs
        // contact today: --strict, which promises a checked verdict, refuses it.
        let unchecked = crate::report::verify::CLIENT_COPY_UNCHECKED;
        if args.strict {
            return Err(InputError::file(
                &args.file,
                format!(
                    "{unchecked}. Nothing was shown, because --strict was given; without it, \
                     the client copy is shown as it is."
                ),
            )
            .into());
        }
        eprintln!(
            "{}",
            crate::safe_text::printable(&format!("Note: {}: {unchecked}.", args.file.display()))
        );
    }
    if !checked.changes.is_empty() {
        let note = crate::report::verify::changed_note(&checked.changes);
        if args.strict {
            return Err(InputError::file(
                &args.file,
                format!(
                    "this file was changed after it was made, or made by another version of \
                     session-ready: {}. Nothing was shown, because --strict was given; without \
                     it, the report is shown worked out again from its answers.",
                    checked.changes.join("; ")
                ),
            )
            .into());
        }
        eprintln!(
            "{}",
            crate::safe_text::printable(&format!("Note: {}: {note}", args.file.display()))
        );
    }
    let mut report = checked.report;
    if let Some(text) = client_ref {
        report.client_ref = Some(text);
    }
    if args.view == Some(View::Clinician) && report.view == View::Client {
        // The client copy never held those answers, so they cannot be shown.
        eprintln!(
            "{}",
            crate::safe_text::printable(&format!(
                "Note: {} is the client copy, so it has no answers about home, contact with \
                 other people or risk to show; it is shown as it is. The clinician copy is the \
                 one saved for the therapist.",
                args.file.display()
            ))
        );
    }
    deliver(
        &report,
        &Delivery {
            format: args.format,
            view: args.view,
            output: args.output.as_deref(),
            encrypt_to: args.encrypt_to.as_deref(),
            style,
        },
    )?;
    Ok(Exit::Done)
}
