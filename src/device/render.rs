//! Terminal and JSON output of the device check.
use crate::term::OutputFormat;
use crate::term::{Style, Tone};

use super::{DeviceRating, DeviceReport};

pub fn render(
    report: &DeviceReport,
    format: OutputFormat,
    style: Style,
) -> anyhow::Result<Vec<u8>> {
    match format {
        OutputFormat::Json => Ok(crate::term::json_document(report)?),
        OutputFormat::Terminal => Ok(style.fit(terminal(report, style)).into_bytes()),
    }
}

/// Words first, colour only as a second cue.
pub fn rating_words(rating: DeviceRating) -> (&'static str, Tone) {
    match rating {
        DeviceRating::Ok => ("fine", Tone::Good),
        DeviceRating::Caution => ("worth a look", Tone::Caution),
        DeviceRating::Problem => ("needs attention", Tone::Concern),
        DeviceRating::Unknown => ("could not tell", Tone::Neutral),
    }
}

/// The device section as shown on screen.
pub fn terminal(report: &DeviceReport, style: Style) -> String {
    let mut out = style.heading("Your device");
    let (overall, tone) = rating_words(report.overall);
    out.push_str(&format!("Overall: {}\n\n", style.tone(overall, tone)));
    for item in &report.items {
        let (words, tone) = rating_words(item.rating);
        out.push_str(&format!(
            "{} {}: {} ({})\n    {}\n",
            style.bullet(),
            style.bold(&item.label),
            item.found,
            style.tone(words, tone),
            item.advice
        ));
    }
    out.push_str(&format!(
        "\n{}\n",
        style.dim("Compared with the published requirements of Microsoft Teams and Zoom for one-to-one video calls.")
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::{DeviceFacts, rules};

    #[test]
    fn plain_terminal_output_is_ascii_and_names_every_item() {
        let facts = DeviceFacts {
            os: "Linux".into(),
            cpu_cores: 2,
            memory_total_mb: 4096,
            memory_available_mb: 2048,
            cameras: Some(vec![]),
            ..Default::default()
        };
        let text = terminal(&rules::rate(&facts), Style::decide(false, true, true));
        assert!(text.is_ascii(), "{text}");
        for label in ["Camera", "Microphone", "Memory", "Processor", "Power"] {
            assert!(text.contains(label), "{label} missing in {text}");
        }
        assert!(text.contains("needs attention"));
    }
}
