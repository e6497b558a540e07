//! Writing the page's HTML on the server: one skeleton for every page (the
//! "Leave quickly" control first, then the frame and the content), escaping
//! for anything that comes from files or people, and the support numbers
//! box. The skeleton, the box and the pages written here are maud templates,
//! escaped at compile time; the content handed in is already HTML.
use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::crisis::CrisisResource;

/// Text made safe inside HTML elements and quoted attributes. Control
/// characters a terminal would act on are dropped as well, so nothing typed
/// or edited into a file can change how the page looks.
pub fn escape(text: &str) -> String {
    let kept: String = text
        .chars()
        .filter(|&c| c == '\n' || !crate::safe_text::is_unsafe(c))
        .collect();
    crate::report::html::escape_markup(&kept)
}

/// Text with the characters a terminal would act on dropped, for a template
/// to escape.
fn clean(text: &str) -> String {
    text.chars()
        .filter(|&c| c == '\n' || !crate::safe_text::is_unsafe(c))
        .collect()
}

/// The id of the "Leave quickly" button, which leave.js also answers to Esc.
pub const LEAVE_ID: &str = "leave";

/// What every page carries around its content, whichever page it is: the
/// skeleton draws it, so no page can forget it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Frame {
    /// The support numbers, kept above the content of every page once they
    /// apply (a risk answer was yes, or the support screen was shown).
    pub crisis: Option<Vec<CrisisResource>>,
    /// The numbers' country was inferred from settings: named beside them
    /// (the page's choices then include changing it).
    pub region_note: Option<String>,
    /// Someone at home may see this device: every page is titled "Notes",
    /// and with scripts each step replaces the last in the history.
    pub watched: bool,
    /// The first page: the address that moves the check to a private window.
    pub private_window: Option<String>,
    /// What the page says if, coming back, it finds its check closed
    /// (`visit::FrontEnd::page_closed`); `None`: the local page's words.
    pub closed: Option<&'static str>,
    /// A last page (a farewell): nothing waits for the person any more, so
    /// the numbers are not followed by "it keeps your answers".
    pub last: bool,
}

/// The neutral title of every page in a home that may be watched.
pub const WATCHED_TITLE: &str = "Notes";

/// A whole page: `title` (plain text), the HTML of its main part and of its
/// footer (the connection test's line), in the frame. The tab title names
/// no therapy, so a glance at the screen says little; in a watched home it
/// says only "Notes".
pub fn page(frame: &Frame, title: &str, main_html: &str, footer_html: &str) -> String {
    skeleton(
        frame,
        title,
        main_html,
        footer_html,
        &["leave.js", "page.js"],
    )
}

/// The camera, microphone and speaker test (`assets/media.html`) in the
/// same frame, with its own script.
pub fn media_page(frame: &Frame, main_html: &str, footer_html: &str) -> String {
    skeleton(
        frame,
        "Camera, microphone and speakers",
        main_html,
        footer_html,
        &["media.js", "leave.js"],
    )
}

/// Shown by leave.js when the page comes back into view and session-ready
/// no longer answers: a calm word instead of a page that silently does nothing.
fn closed_note(words: Option<&str>) -> Markup {
    let words = words.unwrap_or(crate::visit::FrontEnd::Page.page_closed());
    html! {
        p.notice id="page-closed" role="alert" hidden { (words) }
    }
}

/// At the start: the check can move to a private window, which keeps no
/// history, before anything is answered.
fn private_window(address: &str) -> Markup {
    html! {
        details.private {
            summary { "If someone else uses this browser" }
            p {
                "You can do the check in a private window instead, which keeps no history. \
                 Open one (Ctrl+Shift+N; on a Mac, Command+Shift+N; in Firefox, \
                 Ctrl+Shift+P; on a phone, “New private tab” or “New incognito tab” in the \
                 browser's menu) and copy this address into it:"
            }
            p { code.address { (address) } }
            p { "This window then stops working, so nothing of the check stays here." }
        }
    }
}

fn skeleton(
    frame: &Frame,
    title: &str,
    main_html: &str,
    footer_html: &str,
    scripts: &[&str],
) -> String {
    let title = if frame.watched {
        WATCHED_TITLE.to_string()
    } else {
        format!("{} – session-ready", clean(title))
    };
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                link rel="icon" href="icon.svg" type="image/svg+xml";
                link rel="stylesheet" href="style.css";
                @for script in scripts {
                    script src=(script) defer {}
                }
            }
            body data-watched=[frame.watched.then_some("1")] {
                header.top {
                    p.brand { "session-ready" }
                    form.leave method="post" action="leave" {
                        button type="submit" id=(LEAVE_ID) { "Leave quickly" }
                        // Promised only once leave.js has made Esc work (it unhides this).
                        span.hint id="leave-esc" hidden { "or press Esc" }
                    }
                }
                main id="main" tabindex="-1" {
                    @if let Some(resources) = &frame.crisis {
                        (crisis_markup(resources, frame.region_note.as_deref(), !frame.last))
                    } @else if let Some(note) = &frame.region_note {
                        p.hint.region-note { (clean(note)) }
                    }
                    (closed_note(frame.closed))
                    @if let Some(address) = &frame.private_window {
                        (private_window(address))
                    }
                    (PreEscaped(main_html))
                }
                footer.bottom { (PreEscaped(footer_html)) }
            }
        }
    }
    .into_string()
}

/// What a second load of the printed address shows instead of the check:
/// it opens the check once only, so that someone who reads it elsewhere
/// (another account's `ps`, the browser's history) cannot answer for the
/// client. Standalone: the page's style and scripts belong to the visit.
pub fn already_opened() -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "Already opened" }
            }
            body {
                main {
                    h1 { "This address was already opened" }
                    p {
                        "The address session-ready prints opens the check once only, to keep it \
                         private. It has already been opened in a browser on this computer."
                    }
                    p {
                        "If the check is open in another window or tab, please carry on there. \
                         If you cannot find it, close session-ready in the window where you \
                         started it (Ctrl-C), then start the check again."
                    }
                }
            }
        }
    }
    .into_string()
}

/// The support numbers, kept in sight on every page once they apply:
/// emergency first, then the support lines. Each number is a link a phone
/// can dial (`tel:`) or text (`sms:`), and never breaks across lines.
pub fn crisis_box(resources: &[CrisisResource]) -> String {
    crisis_markup(resources, None, true).into_string()
}

fn crisis_markup(resources: &[CrisisResource], region_note: Option<&str>, grace: bool) -> Markup {
    let emergency = resources.iter().filter(|r| r.kind == "emergency");
    let ordered: Vec<&CrisisResource> = emergency
        .chain(resources.iter().filter(|r| r.kind != "emergency"))
        .collect();
    html! {
        section.crisis aria-labelledby="crisis-heading" {
            h2 id="crisis-heading" { "If you need support now" }
            ul {
                @for r in &ordered {
                    @let w = crate::crisis::wording(r);
                    @let contact = r.contact.trim().trim_end_matches('.');
                    li {
                        (with_links(&w.lead, contact))
                        strong { (with_links(&w.emphasis, contact)) }
                        (with_links(&w.rest, contact))
                    }
                }
                @if resources.is_empty() {
                    // Never an empty box: a data file without entries still points somewhere.
                    li { (crate::crisis::NO_ENTRIES) }
                }
            }
            @if let Some(note) = region_note {
                p.region-note { (clean(note)) }
            }
            @if grace {
                p.grace {
                    "You can leave this page to call or text: it keeps your answers and waits \
                     for you for " (super::GRACE_MINUTES) " minutes."
                }
            }
        }
    }
}

/// `text`, with the phone numbers of `contact` in it as links.
fn with_links(text: &str, contact: &str) -> Markup {
    match text.find(contact).filter(|_| !contact.is_empty()) {
        Some(at) => html! {
            (clean(&text[..at]))
            (linked_numbers(contact))
            (clean(&text[at + contact.len()..]))
        },
        None => html! { (clean(text)) },
    }
}

/// `contact` (plain text, e.g. "call 13 11 14, or text 0477 13 11 14")
/// with each phone number a link: `sms:` when the words before it since the
/// last number say "text" and not "call", else `tel:`. A number is digits
/// in groups joined by single spaces or hyphens, standing alone (so
/// "988lifeline.org" and "24/7" are left as they are).
pub fn linked_numbers(contact: &str) -> Markup {
    let chars: Vec<char> = contact.chars().collect();
    let mut parts: Vec<(String, Option<String>)> = Vec::new();
    let mut words = String::new();
    let mut i = 0;
    while i < chars.len() {
        let starts = chars[i].is_ascii_digit()
            && (i == 0 || chars[i - 1].is_whitespace() || chars[i - 1] == '(');
        match starts.then(|| number_end(&chars, i)).flatten() {
            Some(end) => {
                let shown: String = chars[i..end].iter().collect();
                let digits: String = shown.chars().filter(char::is_ascii_digit).collect();
                let lower = words.to_lowercase();
                let scheme = if lower.contains("text") && !lower.contains("call") {
                    "sms"
                } else {
                    "tel"
                };
                parts.push((std::mem::take(&mut words), None));
                parts.push((shown, Some(format!("{scheme}:{digits}"))));
                i = end;
            }
            None => {
                words.push(chars[i]);
                i += 1;
            }
        }
    }
    parts.push((words, None));
    html! {
        @for (text, href) in &parts {
            @match href {
                Some(href) => a.number href=(href) { (clean(text)) },
                None => (clean(text)),
            }
        }
    }
}

/// Where the phone number starting at `start` ends, if one does.
fn number_end(chars: &[char], start: usize) -> Option<usize> {
    let mut end = start;
    while end < chars.len() && chars[end].is_ascii_digit() {
        end += 1;
    }
    // More groups: a single space or hyphen, then digits.
    while end + 1 < chars.len()
        && matches!(chars[end], ' ' | '-')
        && chars[end + 1].is_ascii_digit()
    {
        let mut next = end + 1;
        while next < chars.len() && chars[next].is_ascii_digit() {
            next += 1;
        }
        end = next;
    }
    let stands_alone = chars
        .get(end)
        .is_none_or(|c| c.is_whitespace() || matches!(c, ',' | ')' | '.' | ';'));
    stands_alone.then_some(end)
}

/// Paragraphs from plain text: blank lines separate them.
pub fn paragraphs(text: &str) -> String {
    text.split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| format!("<p>{}</p>\n", escape(p)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_leaves_no_markup_and_no_terminal_controls() {
        assert_eq!(
            escape("<script>\"a\" & 'b'</script>"),
            "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/script&gt;"
        );
        assert_eq!(escape("wave\x1b[2J\u{202e}"), "wave[2J");
    }

    #[test]
    fn every_page_offers_leave_quickly_first() {
        let html = page(&Frame::default(), "A <title>", "<p>x</p>", "");
        assert!(html.contains("A &lt;title&gt; – session-ready"));
        let leave = html.find("Leave quickly").unwrap();
        assert!(leave < html.find("<main").unwrap());
        assert!(!html.contains("http"), "nothing from elsewhere");
        // Esc is promised only once leave.js has made it true.
        assert!(html.contains("<span class=\"hint\" id=\"leave-esc\" hidden>or press Esc</span>"));
        assert!(!html.contains("class=\"crisis\""));
    }

    #[test]
    fn the_frame_draws_the_support_numbers_and_the_neutral_title_on_any_page() {
        let resources = crate::crisis::resources_list("GB");
        let frame = Frame {
            crisis: Some(resources),
            watched: true,
            ..Frame::default()
        };
        for html in [
            page(&frame, "Your report", "<h1>Your report</h1>", ""),
            media_page(&frame, "<h1>Camera</h1>", ""),
        ] {
            let crisis = html.find("class=\"crisis\"").unwrap();
            assert!(crisis < html.find("<h1>").unwrap(), "above the content");
            assert!(html.contains("<title>Notes</title>"), "{html}");
            assert!(!html.contains("Your report –") && !html.contains("Camera, microphone"));
            assert!(html.contains("href=\"tel:999\""), "{html}");
        }
    }

    #[test]
    fn numbers_are_links_that_dial_or_text_and_nothing_else_is() {
        let linked_numbers = |c: &str| super::linked_numbers(c).into_string();
        assert_eq!(
            linked_numbers("call 116 123 (free)"),
            "call <a class=\"number\" href=\"tel:116123\">116 123</a> (free)"
        );
        assert_eq!(
            linked_numbers("call 13 11 14, or text 0477 13 11 14"),
            "call <a class=\"number\" href=\"tel:131114\">13 11 14</a>, or text \
             <a class=\"number\" href=\"sms:0477131114\">0477 13 11 14</a>"
        );
        assert_eq!(
            linked_numbers("text SHOUT to 85258"),
            "text SHOUT to <a class=\"number\" href=\"sms:85258\">85258</a>"
        );
        assert_eq!(
            linked_numbers("call or text 988, or chat at 988lifeline.org"),
            "call or text <a class=\"number\" href=\"tel:988\">988</a>, or chat at 988lifeline.org"
        );
        assert_eq!(
            linked_numbers("call or text 9-8-8 (English and French)"),
            "call or text <a class=\"number\" href=\"tel:988\">9-8-8</a> (English and French)"
        );
        assert_eq!(
            linked_numbers("call 999 (112 also works)"),
            "call <a class=\"number\" href=\"tel:999\">999</a> \
             (<a class=\"number\" href=\"tel:112\">112</a> also works)"
        );
        assert_eq!(linked_numbers("open 24/7 & more"), "open 24/7 &amp; more");
        // Every number in the data is linked whole.
        for region in ["US", "CA", "GB", "IE", "AU", "NZ", "IN", "DE", "FR", "INTL"] {
            for r in crate::crisis::resources_list(region) {
                let html = linked_numbers(&r.contact);
                assert!(html.contains("<a class=\"number\""), "{region}: {html}");
            }
        }
    }
}
