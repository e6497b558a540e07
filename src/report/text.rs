//! Plain text for pasting into notes fields. Paragraphs are not wrapped by
//! hand: notes fields wrap text themselves, and hard line breaks would leave
//! ragged lines in a narrower box. ASCII markers only (no box drawing), so it
//! pastes cleanly anywhere and reads well with a screen reader.
use super::Report;
use super::document::{self, Block, Inline};

pub fn render(report: &Report) -> String {
    let doc = document::build(report);
    let mut out = String::new();
    for block in &doc.blocks {
        match block {
            Block::Title(t) => {
                out.push_str(&format!("{t}\n{}\n\n", "=".repeat(t.chars().count())));
            }
            Block::Meta(lines) => {
                for l in lines {
                    out.push_str(&format!("{l}\n"));
                }
                out.push('\n');
            }
            Block::Heading(t) => {
                out.push_str(&format!("{t}\n{}\n", "-".repeat(t.chars().count())));
            }
            Block::Subheading(t) => out.push_str(&format!("{t}:\n")),
            Block::Paragraph(p) => out.push_str(&format!("{}\n\n", inline(p))),
            Block::Bullets(items) => {
                for i in items {
                    out.push_str(&format!("- {}\n", inline(&i.text)));
                    for d in &i.details {
                        out.push_str(&format!("    {d}\n"));
                    }
                }
                out.push('\n');
            }
            Block::Callout { title, lines } => {
                let upper = title.to_uppercase();
                out.push_str(&format!("{upper}\n{}\n", "*".repeat(upper.chars().count())));
                for l in lines {
                    out.push_str(&format!("{}\n", inline(l)));
                }
                out.push('\n');
            }
            Block::Note(t) => out.push_str(&format!("({t})\n\n")),
        }
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

/// Emphasis has no mark in plain text: the words carry the meaning.
fn inline(spans: &Inline) -> String {
    spans
        .iter()
        .map(|s| s.text.replace(['\n', '\r'], " "))
        .collect()
}
