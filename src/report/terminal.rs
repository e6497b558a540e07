//! The report as shown on screen at the end of `check` (and by `report
//! --format terminal`): a drawer of [`document::screen`], which decides what
//! is shown and in which order (crisis resources first when urgent, and
//! always present). Words carry every meaning; colour only repeats it.
use crate::term::Style;

use super::Report;
use super::document::{self, Block, Document, Inline};

pub fn render(report: &Report, style: Style) -> String {
    draw(&document::screen(report), style)
}

/// Headings as the rest of the screen draws them; one blank line after each
/// paragraph, list and callout, except that a paragraph or callout that
/// introduces a list sits right above it.
fn draw(doc: &Document, style: Style) -> String {
    let mut out = String::new();
    for (index, block) in doc.blocks.iter().enumerate() {
        let introduces_list = matches!(doc.blocks.get(index + 1), Some(Block::Bullets(_)));
        let gap = if introduces_list { "" } else { "\n" };
        match block {
            Block::Title(t) | Block::Heading(t) | Block::Subheading(t) => {
                out.push_str(&style.heading(t))
            }
            Block::Meta(lines) => {
                for line in lines {
                    out.push_str(&format!("{line}\n"));
                }
            }
            Block::Paragraph(text) => out.push_str(&format!("{}\n{gap}", inline(text, style))),
            Block::Bullets(items) => {
                // The list under a callout is part of it, so it is indented.
                let under_callout = index
                    .checked_sub(1)
                    .is_some_and(|i| matches!(doc.blocks[i], Block::Callout { .. }));
                let indent = if under_callout { "  " } else { "" };
                for item in items {
                    let text = inline(&item.text, style);
                    out.push_str(&format!("{indent}{} {text}\n", style.bullet()));
                    if let Some(summary) = &item.summary {
                        out.push_str(&format!("    {summary}\n"));
                    }
                    for detail in &item.details {
                        out.push_str(&format!("      {}\n", style.dim(detail)));
                    }
                }
                out.push('\n');
            }
            Block::Callout { title, lines } => {
                out.push_str(&style.heading(title));
                for line in lines {
                    out.push_str(&format!("{}\n", inline(line, style)));
                }
                out.push_str(gap);
            }
            Block::Note(t) => out.push_str(&format!("{}\n\n", style.dim(t))),
        }
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

fn inline(spans: &Inline, style: Style) -> String {
    spans
        .iter()
        .map(|span| match span.tone {
            Some(tone) => style.tone(&span.text, tone),
            None if span.strong => style.bold(&span.text),
            None => span.text.clone(),
        })
        .collect()
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
        assert!(r.is_urgent());
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
        let r = report(&[("risk.asq2", "yes"), ("home.monitored", "yes")]).client_copy();
        let text = render(&r, plain());
        assert!(!text.contains("risk.asq"), "{text}");
        assert!(
            !text.contains("ASQ") && !text.contains("Safety at home"),
            "{text}"
        );
        assert!(text.contains("some of your answers are best talked through in person"));
        let full = render(&report(&[("risk.asq2", "yes")]), plain());
        // The full copy names each answer by its question, not by its id.
        assert!(
            full.contains("better off if you were dead? — Yes"),
            "{full}"
        );
        assert!(!full.contains("risk.asq2 ="), "{full}");
    }

    #[test]
    fn each_copy_on_screen_speaks_to_its_reader_as_the_saved_copy_does() {
        let full = report(&[("risk.asq1", "yes"), ("risk.asq5", "yes")]);
        let client = full.client_copy();
        let on_screen = render(&full, plain());
        let saved = crate::report::text::render(&full);
        let closing = document::closing_sentence(crate::report::View::Clinician);
        assert!(on_screen.contains(closing) && saved.contains(closing));
        assert!(
            on_screen.contains("Urgent: the client answered yes"),
            "{on_screen}"
        );
        assert!(on_screen.contains("Talk this through with the client"));
        assert!(!on_screen.contains(&full.headline), "{on_screen}");

        let on_screen = render(&client, plain());
        let closing = document::closing_sentence(crate::report::View::Client);
        assert!(on_screen.contains(closing), "{on_screen}");
        assert!(on_screen.contains(&client.headline));
        assert!(!on_screen.contains("Urgent:") && !on_screen.contains("with the client"));
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
    fn the_screen_and_the_saved_formats_show_the_same_plan_entries() {
        let mut r = report(&[]);
        r.session_plan = Some(crate::questionnaire::SessionPlan {
            place: Some("  the green armchair ".into()),
            pause_signal: Some("   ".into()),
            ..Default::default()
        });
        let screen = render(&r, plain());
        let saved = crate::report::text::render(&r);
        for text in [&screen, &saved] {
            assert!(text.contains("the green armchair\n"), "{text}");
            assert!(
                !text.contains("show your therapist that you need a pause"),
                "a blank entry is left out: {text}"
            );
        }
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
