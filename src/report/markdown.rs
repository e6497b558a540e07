//! Markdown for case notes. Text from reports (including the client's own
//! session-plan words) is escaped, so it can never turn into links, HTML or
//! headings when a notes system renders it.
use super::Report;
use super::document::{self, Block, Inline};

pub fn render(report: &Report) -> String {
    let doc = document::build(report);
    let mut out = String::new();
    for block in &doc.blocks {
        match block {
            Block::Title(t) => out.push_str(&format!("# {}\n\n", escape(t))),
            Block::Meta(lines) => {
                for l in lines {
                    out.push_str(&format!("*{}*  \n", escape(l)));
                }
                out.push('\n');
            }
            Block::Heading(t) => out.push_str(&format!("## {}\n\n", escape(t))),
            Block::Subheading(t) => out.push_str(&format!("### {}\n\n", escape(t))),
            Block::Paragraph(p) => out.push_str(&format!("{}\n\n", inline(p))),
            Block::Bullets(items) => {
                for i in items {
                    out.push_str(&format!("- {}\n", inline(&i.text)));
                    for d in &i.details {
                        out.push_str(&format!("  - {}\n", escape(d)));
                    }
                }
                out.push('\n');
            }
            // A blockquote keeps the crisis lines together and set apart in
            // any renderer, without relying on colour.
            Block::Callout { title, lines } => {
                out.push_str(&format!("## {}\n\n", escape(title)));
                for l in lines {
                    out.push_str(&format!("> {}  \n", inline(l)));
                }
                out.push('\n');
            }
            Block::Note(t) => out.push_str(&format!("*{}*\n\n", escape(t))),
        }
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

fn inline(spans: &Inline) -> String {
    spans
        .iter()
        .map(|s| {
            let text = escape(&s.text);
            // Emphasis markers must hug the text, so keep surrounding spaces outside.
            let trimmed = text.trim();
            if s.strong && !trimmed.is_empty() {
                let lead = &text[..text.len() - text.trim_start().len()];
                let tail = &text[text.trim_end().len()..];
                format!("{lead}**{trimmed}**{tail}")
            } else {
                text
            }
        })
        .collect()
}

/// Backslash-escape the characters Markdown gives meaning to, and only
/// where they would: `_` inside a word (as in `privacy.lack_companionship`)
/// never starts emphasis in CommonMark, so ids stay readable when the
/// Markdown is pasted as plain text.
///
/// GitHub-flavoured renderers also turn bare addresses into links
/// (`http://…`, `www.…`, `name@host.example`, `mailto:`/`xmpp:` ones) and
/// `~~x~~` into strikethrough. A backslash before the `:` of a scheme, the
/// `.` after `www`, and every `~` and `|` breaks those patterns while still
/// showing the character. An e-mail address is matched after escapes are
/// resolved (cmark-gfm links `a\@b.example`), so every `@` is followed by an
/// empty HTML comment instead: the text around it is no longer one run, no
/// address forms, and renderers show nothing for the comment.
/// An `@` that starts no e-mail autolink (see [`escape`]).
const AT_BREAK: &str = "@<!-- -->";

pub fn escape(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    for (i, &c) in chars.iter().enumerate() {
        let before = i.checked_sub(1).and_then(|j| chars.get(j));
        let after = chars.get(i + 1);
        let word = |c: Option<&char>| c.is_some_and(|c| c.is_alphanumeric());
        let special = match c {
            '\\' | '`' | '*' | '[' | ']' | '<' | '>' | '~' | '|' | '&' => true,
            '_' => !(word(before) && word(after)),
            '#' => i == 0,
            // A list, quote or heading marker at the start of a value.
            '-' | '+' | '=' => i == 0,
            // "http://", "https://", "ftp://": the colon of a scheme. (The
            // other GFM schemes, mailto: and xmpp:, need an `@`, escaped above.)
            ':' => word(before) && after == Some(&'/'),
            // "www." (any case) starts an extended autolink.
            '.' => {
                i >= 3
                    && chars[i - 3..i]
                        .iter()
                        .collect::<String>()
                        .eq_ignore_ascii_case("www")
            }
            _ => false,
        };
        if special {
            out.push('\\');
        }
        // Line breaks inside a value would end the list item or paragraph.
        if c == '\n' || c == '\r' {
            out.push(' ');
        } else if c == '@' {
            out.push_str(AT_BREAK);
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_in_free_text() {
        assert_eq!(
            escape("<script>*hi*</script>"),
            "\\<script\\>\\*hi\\*\\</script\\>"
        );
        assert_eq!(escape("[link](x)"), "\\[link\\](x)");
        assert_eq!(escape("a\nb"), "a b");
        assert_eq!(
            escape("isolation.left_out = _x_"),
            "isolation.left_out = \\_x\\_"
        );
        assert_eq!(escape("#1 and #2"), "\\#1 and #2");
    }
}
