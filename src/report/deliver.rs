//! Where a finished report goes: which view, which format, encrypted or not,
//! screen or file.
use std::path::Path;

use crate::error::InputError;
use crate::report::{Format, View};
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
    /// or the clinic file's `recipient` (see `commands::check::settings`).
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

impl Delivery<'_> {
    /// Where the report is written: `--output`, with `.age` added when the
    /// copy is encrypted and the name does not say so (an encrypted file under
    /// a `.json` name would look like a report anyone could open).
    pub fn output_path(&self) -> Option<std::borrow::Cow<'_, Path>> {
        Some(written_path(self.output?, self.encrypt_to.is_some()))
    }
}

/// The name a report asked for at `path` is written under: `.age` is added
/// to an encrypted copy whose name does not say so. Every "is there already
/// a file" check looks at this name, never the one typed.
pub fn written_path(path: &Path, encrypted: bool) -> std::borrow::Cow<'_, Path> {
    let named_encrypted = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("age"));
    if !encrypted || named_encrypted || crate::fsutil::is_stdout(Some(path)) {
        return std::borrow::Cow::Borrowed(path);
    }
    let mut name = path.as_os_str().to_os_string();
    name.push(".age");
    std::borrow::Cow::Owned(name.into())
}

/// Render, encrypt if asked, and write (or print) the report.
pub fn deliver(report: &Report, delivery: &Delivery) -> anyhow::Result<()> {
    let bytes = prepare(report, delivery)?;
    let path = delivery.output_path();
    crate::fsutil::emit(path.as_deref(), &bytes)?;
    if let (Some(asked), Some(written)) = (delivery.output, path.as_deref())
        && asked != written
    {
        eprintln!(
            "{}",
            crate::safe_text::printable(&format!(
                "Saved as {}: the copy is encrypted for the clinic, so its name ends in .age.",
                written.display()
            ))
        );
    }
    Ok(())
}

/// One line for a coordinator working through a batch (`check --answers …
/// --output FILE`, where the report itself goes to the file): which client
/// needs contact soon and where their report is. It names the level of
/// follow-up only, never an answer. `None` when no follow-up is flagged.
pub fn follow_up_notice(report: &Report, file: &Path) -> Option<String> {
    use crate::assessment::{CriterionId, RiskScreen, Status};
    let client = report
        .client_ref
        .as_deref()
        .map_or_else(|| "This client".to_string(), |r| format!("Client {r}"));
    let risk_met = report
        .criteria
        .iter()
        .any(|c| c.id == CriterionId::Risk && c.status == Status::Met);
    let need =
        if report.urgent == Some(true) || report.risk_screen == Some(RiskScreen::PositiveAcute) {
            "Urgent: {client} needs contact today, promptly"
        } else if report.risk_screen == Some(RiskScreen::PositiveAcuityUnknown) {
            "Same-day follow-up: {client} needs a safety follow-up today"
        } else if risk_met {
            "Follow-up: {client} needs a brief safety assessment"
        } else {
            return None;
        };
    Some(
        crate::safe_text::printable(&format!(
            "{}. Their report is in {}.",
            need.replace("{client}", &client),
            file.display()
        ))
        .into_owned(),
    )
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
    // Colour codes belong on a live terminal only, never in a file or ciphertext.
    let style = if delivery.output.is_some() || recipient.is_some() {
        Style::decide(false, delivery.style.plain, true)
    } else {
        delivery.style
    };
    let bytes = super::render::render(&shown, delivery.format, style)?;
    match recipient {
        Some(r) => super::encrypt::encrypt(&bytes, &r),
        None => Ok(bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture::report;

    fn delivery<'a>(output: Option<&'a Path>, encrypt_to: Option<&'a str>) -> Delivery<'a> {
        Delivery {
            format: Format::Terminal,
            view: None,
            output,
            encrypt_to,
            // A colour terminal: what a file or ciphertext must not inherit.
            style: Style::decide(true, false, false),
        }
    }

    #[test]
    fn default_view_is_client_on_screen_and_clinician_in_files_or_encrypted() {
        let file = Path::new("r.txt");
        assert_eq!(delivery(None, None).effective_view(), View::Client);
        assert_eq!(delivery(Some(file), None).effective_view(), View::Clinician);
        assert_eq!(
            delivery(None, Some("age1x")).effective_view(),
            View::Clinician
        );
        let explicit = Delivery {
            view: Some(View::Client),
            ..delivery(Some(file), None)
        };
        assert_eq!(explicit.effective_view(), View::Client);
    }

    #[test]
    fn files_get_no_colour_codes_but_the_screen_does() {
        // Tests run without a terminal; tell `console` to colour anyway, as it
        // would on one, so the file case has something to leave out.
        console::set_colors_enabled(true);
        let on_screen = prepare(&report(&[]), &delivery(None, None)).unwrap();
        assert!(on_screen.contains(&0x1b));
        let file = Path::new("r.txt");
        let in_file = prepare(&report(&[]), &delivery(Some(file), None)).unwrap();
        assert!(!in_file.contains(&0x1b));
        // The clinician copy, with the risk answers in the questions' own words.
        assert!(
            String::from_utf8(in_file)
                .unwrap()
                .contains("have you wished you were dead?")
        );
    }

    #[test]
    fn a_bad_recipient_stops_before_rendering() {
        let err = prepare(&report(&[]), &delivery(None, Some("age1typo"))).unwrap_err();
        assert!(err.downcast_ref::<InputError>().is_some());
        assert!(err.to_string().starts_with("--encrypt-to:"), "{err}");
    }
}
