//! The report layout (`document::Document`) as an HTML fragment, for the
//! browser page's report preview. The same blocks in the same order as the
//! Markdown, text and PDF copies: crisis resources where the layout puts
//! them (first when urgent), headings nested under the page's own heading.
//!
//! Every piece of text is escaped here, whatever the report holds: markup
//! characters become entities, and control and bidi characters are written
//! visibly (`safe_text::printable`), so a hostile session-plan answer can
//! neither add markup nor reorder what the reader sees. No attribute takes
//! report text, and nothing is loaded from anywhere.
use super::Report;
use super::document::{self, Block, Document, Inline};

/// The report as a fragment whose title is a heading of level `top`
/// (2 under a page's `<h1>`; 1 to 4). Sections are one level below it.
pub fn render(report: &Report, top: u8) -> String {
    draw(&document::build(report), top)
}

/// Draw an already laid-out document.
pub fn draw(doc: &Document, top: u8) -> String {
    let top = top.clamp(1, 4);
    let section = top + 1;
    let sub = top + 2;
    let mut out = String::from("<article class=\"report\">\n");
    for block in &doc.blocks {
        match block {
            Block::Title(t) => out.push_str(&format!("<h{top}>{}</h{top}>\n", escape(t))),
            Block::Meta(lines) => {
                out.push_str("<p class=\"report-meta\">");
                let lines: Vec<String> = lines.iter().map(|l| escape(l)).collect();
                out.push_str(&lines.join("<br>\n"));
                out.push_str("</p>\n");
            }
            Block::Heading(t) => out.push_str(&format!("<h{section}>{}</h{section}>\n", escape(t))),
            Block::Subheading(t) => out.push_str(&format!("<h{sub}>{}</h{sub}>\n", escape(t))),
            Block::Paragraph(p) => out.push_str(&format!("<p>{}</p>\n", inline(p))),
            Block::Bullets(items) => {
                out.push_str("<ul>\n");
                for i in items {
                    out.push_str(&format!("<li>{}", inline(&i.text)));
                    if !i.details.is_empty() {
                        out.push_str("\n<ul>\n");
                        for d in &i.details {
                            out.push_str(&format!("<li>{}</li>\n", escape(d)));
                        }
                        out.push_str("</ul>\n");
                    }
                    out.push_str("</li>\n");
                }
                out.push_str("</ul>\n");
            }
            // A labelled region, so a screen reader can jump to it, framed
            // by the page's style so it stands out without colour.
            Block::Callout { title, lines } => {
                out.push_str(&format!(
                    "<section class=\"callout\" aria-labelledby=\"report-callout\">\n\
                     <h{section} id=\"report-callout\">{}</h{section}>\n<ul class=\"plain\">\n",
                    escape(title)
                ));
                for l in lines {
                    out.push_str(&format!("<li>{}</li>\n", inline(l)));
                }
                out.push_str("</ul>\n</section>\n");
            }
            Block::Note(t) => out.push_str(&format!("<p class=\"note\">{}</p>\n", escape(t))),
        }
    }
    out.push_str("</article>\n");
    out
}

fn inline(spans: &Inline) -> String {
    spans
        .iter()
        .map(|s| {
            if s.strong {
                format!("<strong>{}</strong>", escape(&s.text))
            } else {
                escape(&s.text)
            }
        })
        .collect()
}

/// Text made safe for HTML element content and quoted attribute values:
/// `& < > " '` as entities, line breaks as spaces (a value is one line in
/// the layout), other control and bidi characters written visibly.
pub fn escape(text: &str) -> String {
    let text = text.replace(['\n', '\r'], " ");
    escape_markup(&crate::safe_text::printable(&text))
}

/// Only the five characters HTML gives meaning to, as entities; the caller
/// has already decided what to do with control characters.
pub fn escape_markup(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::questionnaire::SessionPlan;
    use crate::report::View;
    use crate::report::fixture::report;

    #[test]
    fn escapes_markup_quotes_and_control_characters() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"y\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;y&quot;"
        );
        assert_eq!(escape("a\nb\rc"), "a b c");
        // Escape codes and a right-to-left override are shown, not obeyed.
        let shown = escape("\u{1b}[2Jhi\u{202e}x\u{7}");
        assert!(!shown.contains('\u{1b}') && !shown.contains('\u{202e}'));
        assert!(!shown.contains('\u{7}'));
        assert!(shown.contains("\\u{1b}[2Jhi\\u{202e}x\\u{7}"), "{shown}");
    }

    /// Every `<` in the output opens one of the tags this renderer writes.
    fn only_our_tags(html: &str) {
        const TAGS: &[&str] = &[
            "article", "h1", "h2", "h3", "h4", "h5", "h6", "p", "br", "ul", "li", "strong",
            "section",
        ];
        for piece in html.split('<').skip(1) {
            let name: String = piece
                .trim_start_matches('/')
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect();
            assert!(TAGS.contains(&name.as_str()), "unexpected tag <{piece:.30}");
        }
    }

    fn hostile_report() -> crate::report::Report {
        let mut r = report(&[("privacy.space", "private_room")]);
        let hostile = "<script>alert(\"x\")</script><img src=x onerror=alert(1)> 'q' \
                       \u{1b}]8;;http://evil.example\u{7}link\u{1b}]8;;\u{7} \u{202e}gnp.exe";
        r.session_plan = Some(SessionPlan {
            place: Some(hostile.to_string()),
            nearby_contact: Some("Sam \"O'Neil\" <sam@example.org>".into()),
            ..SessionPlan::default()
        });
        r.client_ref = Some("</p><h1>x".into());
        r
    }

    #[test]
    fn hostile_free_text_cannot_add_markup() {
        let r = hostile_report();
        for view in [View::Client, View::Clinician] {
            let shown = if view == View::Client {
                r.client_copy()
            } else {
                r.clone()
            };
            let html = render(&shown, 2);
            only_our_tags(&html);
            assert!(!html.contains('\u{1b}') && !html.contains('\u{202e}'));
            assert!(!html.contains("<script") && !html.contains("<img"));
            assert!(html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"));
        }
    }

    #[test]
    fn follows_the_document_layout_with_nested_headings() {
        let r = report(&[("privacy.space", "none")]);
        let doc = document::build(&r);
        let html = draw(&doc, 2);
        // One h2 (the title), sections as h3, opened and closed in order.
        assert_eq!(html.matches("<h2>").count(), 1);
        assert!(html.starts_with("<article class=\"report\">\n<h2>Video-session readiness"));
        let headings = doc
            .blocks
            .iter()
            .filter(|b| matches!(b, Block::Heading(_)))
            .count();
        assert_eq!(html.matches("<h3>").count(), headings);
        assert!(!html.contains("<h1>"));
        for tag in ["ul", "li", "p", "article", "section", "strong"] {
            assert_eq!(
                html.matches(&format!("<{tag}>")).count()
                    + html.matches(&format!("<{tag} ")).count(),
                html.matches(&format!("</{tag}>")).count(),
                "<{tag}> opened and closed"
            );
        }
        // The crisis callout is there, under its heading, as a region.
        assert!(html.contains(&format!(
            "<h3 id=\"report-callout\">{}</h3>",
            document::CRISIS_TITLE
        )));
    }

    #[test]
    fn crisis_resources_come_first_when_the_layout_puts_them_first() {
        let urgent = report(&[("risk.asq5", "yes")]);
        assert!(urgent.crisis_first());
        let html = render(&urgent.client_copy(), 2);
        let crisis = html.find("report-callout").unwrap();
        let recommendation = html.find("<h3>Recommendation</h3>").unwrap();
        assert!(crisis < recommendation);

        let calm = report(&[("privacy.space", "private_room")]);
        assert!(!calm.crisis_first());
        let html = render(&calm, 2);
        assert!(html.find("report-callout").unwrap() > html.find("<h3>Answers</h3>").unwrap());
        // Every client copy puts them first, so their place says nothing.
        assert!(calm.client_copy().crisis_first());
        let html = render(&calm.client_copy(), 2);
        assert!(html.find("report-callout").unwrap() < html.find("<h3>Answers</h3>").unwrap());
    }
}
