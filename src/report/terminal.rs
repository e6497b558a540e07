//! The report as shown on screen at the end of `check` (and by `report
//! --format terminal`). Crisis resources come first when the report is urgent,
//! and always appear; words carry every meaning, colour only repeats it.
use crate::assessment::Status;
use crate::device::DeviceRating;
use crate::questionnaire::{SKIPPED, bank};
use crate::report::View;
use crate::term::{Style, Tone};

use super::Report;

fn status_tone(status: Status) -> Tone {
    match status {
        Status::Met => Tone::Concern,
        Status::NotMet => Tone::Good,
        Status::Unknown => Tone::Neutral,
    }
}

pub fn render(report: &Report, style: Style) -> String {
    let mut out = String::new();
    let crisis = crate::crisis::render(&report.crisis_resources, style);
    if report.crisis_first() {
        out.push_str(&crisis);
        out.push('\n');
    }
    out.push_str(&style.heading("Your readiness report"));
    if let Some(reference) = &report.client_ref {
        out.push_str(&format!("Client: {reference}\n"));
    }
    out.push_str(&format!("{}\n\n", report.headline));
    let screen: String = super::document::risk_screen_line(report)
        .iter()
        .map(|span| span.text.as_str())
        .collect();
    out.push_str(&format!("{screen}\n\n"));

    out.push_str(&style.heading("What was looked at"));
    for c in &report.criteria {
        out.push_str(&format!(
            "{} {}: {}\n    {}\n",
            style.bullet(),
            style.bold(c.id.title()),
            style.tone(c.status.words(), status_tone(c.status)),
            c.summary
        ));
        // The evidence (question ids and answers) is for the therapist's copy;
        // the client copy keeps to plain sentences.
        if report.view == View::Clinician {
            for e in &c.evidence {
                out.push_str(&format!("      {}\n", style.dim(&readable_evidence(e))));
            }
        }
    }
    out.push('\n');

    if !report.adjustments.is_empty() {
        out.push_str(&style.heading("What could help"));
        for a in &report.adjustments {
            out.push_str(&format!("{} {}\n", style.bullet(), a.text));
        }
        out.push('\n');
    }

    out.push_str(&style.heading("Your connection"));
    if let Some(source) = &report.network_source {
        out.push_str(&format!("{}\n", source.words()));
    }
    match &report.network {
        Some(n) => {
            let rating = n.video.rating.as_str();
            out.push_str(&format!("For a one-to-one video call: {rating}.\n"));
            for reason in &n.video.reasons {
                out.push_str(&format!("{} {reason}\n", style.bullet()));
            }
        }
        None => out.push_str(&format!(
            "Not measured: {}.\n",
            report
                .network_reason
                .as_deref()
                .unwrap_or("the connection was not tested")
        )),
    }
    out.push('\n');

    if let Some(device) = &report.device {
        out.push_str(&style.heading("Your device"));
        let (overall, tone) = crate::device::render::rating_words(device.overall);
        out.push_str(&format!("Overall: {}\n", style.tone(overall, tone)));
        for item in device
            .items
            .iter()
            .filter(|i| matches!(i.rating, DeviceRating::Caution | DeviceRating::Problem))
        {
            out.push_str(&format!(
                "{} {}: {}\n",
                style.bullet(),
                item.label,
                item.found
            ));
        }
        out.push('\n');
    }

    if let Some(plan) = &report.session_plan {
        out.push_str(&style.heading("Your session plan"));
        let bank = bank();
        for (id, value) in plan.fields() {
            let Some(value) = value else { continue };
            let text = bank
                .plan
                .prompts
                .iter()
                .find(|p| p.id == id)
                .map_or(id, |p| p.text.as_str());
            out.push_str(&format!(
                "{} {text} {}\n",
                style.bullet(),
                style.bold(&value)
            ));
        }
        out.push('\n');
    }

    if let Some(phone) = report
        .clinic
        .as_ref()
        .and_then(|c| c.dropped_call_phone.as_ref())
    {
        let who = report
            .clinic
            .as_ref()
            .and_then(|c| c.name.as_deref())
            .unwrap_or("the clinic");
        out.push_str(&format!(
            "If a video call drops, you can ring {who} on {}.\n\n",
            style.bold(phone)
        ));
    }

    let skipped = report.answers.values().filter(|a| *a == SKIPPED).count();
    if skipped > 0 {
        out.push_str(&format!(
            "{skipped} question{} skipped. That is fine: a skipped question is never counted as a no.\n\n",
            if skipped == 1 { " was" } else { "s were" }
        ));
    }
    if report.view == View::Client {
        out.push_str(&style.dim(
            "Saved reports also list each answer. This copy leaves out the answers about how \
             you have been feeling; the full copy for your therapist includes them.",
        ));
        out.push_str("\n\n");
    }

    if !report.crisis_first() {
        out.push_str(&crisis);
        out.push('\n');
    }
    out.push_str(&style.dim(
        "This is a recommendation to talk through with your therapist, not a decision. \
         Your view matters, and you can choose differently together.",
    ));
    out.push('\n');
    out
}

/// Evidence that restates an answer ("privacy.space = none (…)") in the
/// question's own words, as a person reads it on screen; other evidence
/// (scores, measurements) as written.
fn readable_evidence(evidence: &str) -> String {
    let Some((id, answer)) = evidence.split_once(" = ") else {
        return evidence.to_string();
    };
    let Some(q) = bank().question(id) else {
        return evidence.to_string();
    };
    let answer = answer.split_whitespace().next().unwrap_or(answer);
    let shown = if answer == SKIPPED {
        "skipped"
    } else {
        q.answer_label(answer)
    };
    format!("{} — {shown}", q.text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture::report;

    fn plain() -> Style {
        Style::decide(false, true, true)
    }

    #[test]
    fn urgent_reports_start_with_crisis_resources() {
        let r = report(&[("risk.asq1", "yes"), ("risk.asq5", "yes")]);
        assert!(r.urgent);
        let text = render(&r, plain());
        assert!(text.starts_with("If you need support now"), "{text}");
        assert_eq!(text.matches("If you need support now").count(), 1);
    }

    #[test]
    fn crisis_resources_always_appear_at_the_end_otherwise() {
        let text = render(&report(&[]), plain());
        let report_at = text.find("Your readiness report").unwrap();
        let crisis_at = text.find("If you need support now").unwrap();
        assert!(crisis_at > report_at);
        assert!(text.contains("Not measured: not tested (--no-network)."));
    }

    #[test]
    fn the_client_copy_on_screen_has_no_risk_answers() {
        let r = report(&[("risk.asq2", "yes")]).client_copy();
        let text = render(&r, plain());
        assert!(!text.contains("risk.asq"), "{text}");
        assert!(text.contains("points to in-person care"));
        let full = render(&report(&[("risk.asq2", "yes")]), plain());
        // The full copy names each answer by its question, not by its id.
        assert!(
            full.contains("better off if you were dead? — Yes"),
            "{full}"
        );
        assert!(!full.contains("risk.asq2 ="), "{full}");
    }

    #[test]
    fn skips_are_named_as_skips() {
        let text = render(&report(&[]), plain());
        assert!(
            text.contains("questions were skipped. That is fine"),
            "{text}"
        );
    }

    #[test]
    fn plain_output_has_no_escape_codes_or_box_drawing() {
        let text = render(&report(&[("home.feels_safe", "no")]), plain());
        assert!(!text.contains('\x1b') && !text.contains('─') && !text.contains('•'));
        let lower = text.to_lowercase();
        for word in ["fail", "exclude", "unsuitable"] {
            assert!(!lower.contains(word), "{word}");
        }
    }
}
