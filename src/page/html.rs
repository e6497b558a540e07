//! Writing the page's HTML on the server: one skeleton for every page (the
//! "Leave quickly" control first, then the content), escaping for anything
//! that comes from files or people, and the support numbers box.
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

/// The id of the "Leave quickly" button, which leave.js also answers to Esc.
pub const LEAVE_ID: &str = "leave";

/// A whole page: `title` (already plain text; escaped here), the HTML of
/// its main part and of its footer (the connection test's line). The tab
/// title names no therapy, so a glance at the screen says little.
pub fn page(title: &str, main_html: &str, footer_html: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title} – session-ready</title>\n\
         <link rel=\"icon\" href=\"icon.svg\" type=\"image/svg+xml\">\n\
         <link rel=\"stylesheet\" href=\"style.css\">\n\
         <script src=\"leave.js\" defer></script>\n\
         <script src=\"page.js\" defer></script>\n</head>\n<body>\n\
         <header class=\"top\">\n<p class=\"brand\">session-ready</p>\n\
         <form class=\"leave\" method=\"post\" action=\"leave\">\
         <button type=\"submit\" id=\"{LEAVE_ID}\">Leave quickly</button>\
         <span class=\"hint\">or press Esc</span></form>\n</header>\n\
         <main id=\"main\">\n{main_html}\n</main>\n\
         <footer class=\"bottom\">{footer_html}</footer>\n</body>\n</html>\n",
        title = escape(title),
    )
}

/// What a second load of the printed address shows instead of the check:
/// it opens the check once only, so that someone who reads it elsewhere
/// (another account's `ps`, the browser's history) cannot answer for the
/// client. Standalone: the page's style and scripts belong to the visit.
pub fn already_opened() -> String {
    "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
     <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
     <title>Already opened</title>\n</head>\n<body>\n<main>\n<h1>This address was already opened</h1>\n\
     <p>The address session-ready prints opens the check once only, to keep it private. \
     It has already been opened in a browser on this computer.</p>\n\
     <p>If the check is open in another window or tab, please carry on there. If you cannot \
     find it, close session-ready in the window where you started it (Ctrl-C), then start \
     the check again.</p>\n</main>\n</body>\n</html>\n"
        .to_string()
}

/// The support numbers, kept in sight on every page once they apply:
/// emergency first, then the support lines.
pub fn crisis_box(resources: &[CrisisResource]) -> String {
    let mut out = String::from(
        "<section class=\"crisis\" aria-labelledby=\"crisis-heading\">\n\
         <h2 id=\"crisis-heading\">If you need support now</h2>\n<ul>\n",
    );
    let emergency = resources.iter().filter(|r| r.kind == "emergency");
    for r in emergency.chain(resources.iter().filter(|r| r.kind != "emergency")) {
        let w = crate::crisis::wording(r);
        out.push_str(&format!(
            "<li>{}<strong>{}</strong>{}</li>\n",
            escape(&w.lead),
            escape(&w.emphasis),
            escape(&w.rest)
        ));
    }
    if resources.is_empty() {
        // Never an empty box: a data file without entries still points somewhere.
        out.push_str(&format!("<li>{}</li>\n", crate::crisis::NO_ENTRIES));
    }
    out.push_str("</ul>\n</section>\n");
    out
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
        let html = page("A <title>", "<p>x</p>", "");
        assert!(html.contains("A &lt;title&gt; – session-ready"));
        let leave = html.find("Leave quickly").unwrap();
        assert!(leave < html.find("<main").unwrap());
        assert!(!html.contains("http"), "nothing from elsewhere");
    }
}
