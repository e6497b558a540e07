//! How a question reaches the client. Two implementations of one small trait:
//! arrow keys and typed numbers on a terminal (inquire), and a line-by-line
//! mode for screen readers (`--plain`) that also lets tests script a client.
use std::io::{BufRead, Write};

/// One entry in a menu: a short key the client can type ("1", "s") and a label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MenuItem {
    pub key: String,
    pub label: String,
    /// Whether picking it records something (an answer, a skip): the answered
    /// prompt then shows a tick. "Why", "back" and "pause" record nothing.
    pub tick: bool,
    /// Other names the item is found by when typed ("UK", "England").
    pub also: Vec<String>,
    /// Kept in a type-ahead list whatever is typed, so the list is never
    /// empty and its label says what to do ("Somewhere else, or not in this list").
    pub always: bool,
}

impl MenuItem {
    pub fn new(key: impl Into<String>, label: impl Into<String>) -> Self {
        MenuItem {
            key: key.into(),
            label: label.into(),
            tick: true,
            also: Vec::new(),
            always: false,
        }
    }

    /// Other names the item is found by when typed.
    pub fn also(mut self, names: Vec<String>) -> Self {
        self.also = names;
        self
    }

    /// Kept in a type-ahead list whatever is typed.
    pub fn always_listed(mut self) -> Self {
        self.always = true;
        self
    }

    /// True when what was typed begins its label or one of its other names.
    fn named_by(&self, typed: &str) -> bool {
        std::iter::once(&self.label)
            .chain(&self.also)
            .any(|name| name.to_lowercase().starts_with(typed))
    }

    /// An item that records nothing, so no tick is left for it.
    pub fn without_tick(mut self) -> Self {
        self.tick = false;
        self
    }
}

impl std::fmt::Display for MenuItem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}) {}", self.key, self.label)
    }
}

/// Why a prompt ended without an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interrupt {
    /// Esc (or "q" in plain mode): leave at once and clear the screen.
    QuickExit,
    /// Ctrl-C: stop here.
    Stop,
    /// The terminal went away (end of input).
    Closed,
}

/// What the questionnaire needs from a terminal.
pub trait Prompter {
    /// Clear the screen and the scrollback, so earlier answers cannot be scrolled back to.
    fn clear(&mut self);
    /// Show a block of text.
    fn say(&mut self, text: &str);
    /// Let the client pick one item; returns its index.
    fn choose(
        &mut self,
        prompt: &str,
        items: &[MenuItem],
        start: usize,
        help: &str,
    ) -> Result<usize, Interrupt>;
    /// Like `choose`, for a long list the client narrows by typing part of a
    /// label (type-ahead), e.g. a country.
    fn choose_typed(
        &mut self,
        prompt: &str,
        items: &[MenuItem],
        start: usize,
        help: &str,
    ) -> Result<usize, Interrupt> {
        self.choose(prompt, items, start, help)
    }
    /// Free text. An empty reply means "leave this out", or `default` when one is given
    /// (shown greyed as a suggestion; typing replaces it).
    fn text(&mut self, prompt: &str, help: &str, default: &str) -> Result<String, Interrupt>;
}

/// The help line under every menu. Short enough for a 60-column terminal, so
/// it is never broken mid-word; the opening says the screen is cleared.
pub fn menu_help(plain: bool) -> &'static str {
    if plain {
        "Type a number or letter, then Enter. q leaves at once."
    } else {
        "↑↓ or a number or letter, then Enter. Esc leaves at once."
    }
}

/// Plain text typed to leave at once in line mode.
pub const PLAIN_QUICK_EXIT: &str = "q";
/// Plain text typed to go back from a free-text prompt.
pub const TEXT_BACK: &str = "back";

/// Line-by-line prompts: numbered options, one typed line per answer, no
/// redrawing. Friendly to screen readers, and scriptable in tests.
pub struct LinePrompter<R, W> {
    input: R,
    output: W,
}

impl<R: BufRead, W: Write> LinePrompter<R, W> {
    pub fn new(input: R, output: W) -> Self {
        LinePrompter { input, output }
    }

    pub fn into_output(self) -> W {
        self.output
    }

    fn read_line(&mut self) -> Result<String, Interrupt> {
        let _ = self.output.flush();
        let mut line = String::new();
        match self.input.read_line(&mut line) {
            Ok(0) | Err(_) => Err(Interrupt::Closed),
            Ok(_) => Ok(line.trim().to_string()),
        }
    }

    /// The numbered list, then one typed line at a time until `matcher` finds
    /// the item it names; `retry` says what to type instead.
    fn choose_by(
        &mut self,
        prompt: &str,
        items: &[MenuItem],
        help: &str,
        matcher: impl Fn(&[MenuItem], &str) -> Option<usize>,
        retry: &str,
    ) -> Result<usize, Interrupt> {
        let _ = writeln!(
            self.output,
            "{}",
            crate::term::wrap(prompt, crate::term::text_width())
        );
        for item in items {
            let _ = writeln!(self.output, "  {item}");
        }
        loop {
            let _ = write!(self.output, "{help}\n> ");
            let line = self.read_line()?;
            if line.eq_ignore_ascii_case(PLAIN_QUICK_EXIT) {
                return Err(Interrupt::QuickExit);
            }
            if let Some(index) = matcher(items, &line) {
                return Ok(index);
            }
            let _ = writeln!(self.output, "{retry}");
        }
    }
}

impl<R: BufRead, W: Write> Prompter for LinePrompter<R, W> {
    fn clear(&mut self) {
        // Screen readers lose their place on a cleared screen only if nothing
        // marks the change; a blank line does.
        let _ = writeln!(self.output, "{}", crate::term::CLEAR_SCREEN);
    }

    fn say(&mut self, text: &str) {
        let _ = writeln!(
            self.output,
            "{}",
            crate::term::wrap(text, crate::term::text_width())
        );
    }

    fn choose(
        &mut self,
        prompt: &str,
        items: &[MenuItem],
        _start: usize,
        help: &str,
    ) -> Result<usize, Interrupt> {
        let keys: Vec<&str> = items.iter().map(|i| i.key.as_str()).collect();
        let retry = format!(
            "Please type one of: {} (or {PLAIN_QUICK_EXIT} to leave).",
            keys.join(", ")
        );
        self.choose_by(prompt, items, help, match_item, &retry)
    }

    fn choose_typed(
        &mut self,
        prompt: &str,
        items: &[MenuItem],
        _start: usize,
        help: &str,
    ) -> Result<usize, Interrupt> {
        let matcher = |items: &[MenuItem], line: &str| {
            match_item(items, line).or_else(|| match_prefix(items, line))
        };
        let retry = format!(
            "Please type a name from the list, or its code (or {PLAIN_QUICK_EXIT} to leave)."
        );
        self.choose_by(prompt, items, help, matcher, &retry)
    }

    fn text(&mut self, prompt: &str, help: &str, default: &str) -> Result<String, Interrupt> {
        let width = crate::term::text_width();
        let prompt = crate::term::wrap(prompt, width);
        let help = crate::term::wrap(help, width);
        let _ = write!(self.output, "{prompt}\n{help}\n> ");
        let line = self.read_line()?;
        if line.eq_ignore_ascii_case(PLAIN_QUICK_EXIT) {
            return Err(Interrupt::QuickExit);
        }
        Ok(if line.is_empty() {
            default.to_string()
        } else {
            line
        })
    }
}

/// The item a typed key or label names (case-insensitive).
pub fn match_item(items: &[MenuItem], typed: &str) -> Option<usize> {
    let typed = typed.trim();
    items
        .iter()
        .position(|i| i.key.eq_ignore_ascii_case(typed))
        .or_else(|| {
            items
                .iter()
                .position(|i| i.label.eq_ignore_ascii_case(typed))
        })
}

/// The one item whose label starts with what was typed (case-insensitive).
pub fn match_prefix(items: &[MenuItem], typed: &str) -> Option<usize> {
    let typed = typed.trim().to_lowercase();
    if typed.is_empty() {
        return None;
    }
    let mut found = items.iter().enumerate().filter(|(_, i)| i.named_by(&typed));
    match (found.next(), found.next()) {
        (Some((index, _)), None) => Some(index),
        _ => None,
    }
}

/// Arrow keys, Enter, and typed numbers or letters (a typed key narrows the
/// list to that item), via inquire. Esc leaves at once.
pub struct TerminalPrompter {
    render: inquire::ui::RenderConfig<'static>,
}

impl TerminalPrompter {
    pub fn new(style: crate::term::Style) -> Self {
        let render = if style.color {
            inquire::ui::RenderConfig::default_colored()
        } else {
            inquire::ui::RenderConfig::empty()
        };
        TerminalPrompter { render }
    }
}

impl TerminalPrompter {
    /// inquire draws its message on one line; a long question is printed
    /// wrapped above it instead, so words are never split at the screen edge.
    fn message(&self, prompt: &str) -> String {
        let width = crate::term::text_width();
        if prompt.chars().count() + 2 <= width {
            return prompt.to_string();
        }
        eprintln!("{}", crate::term::wrap(prompt, width));
        "Your answer:".to_string()
    }

    /// inquire draws its help line unwrapped, in brackets: one too long for
    /// the screen would break mid-word, so it is printed wrapped above the
    /// question instead, and `None` is given to inquire.
    fn help<'h>(&self, help: &'h str) -> Option<&'h str> {
        let width = crate::term::text_width();
        if help.chars().count() + 2 <= width {
            return Some(help);
        }
        eprintln!("{}", crate::term::wrap(help, width));
        None
    }
}

fn interrupt(err: inquire::InquireError) -> Interrupt {
    match err {
        inquire::InquireError::OperationCanceled => Interrupt::QuickExit,
        inquire::InquireError::OperationInterrupted => Interrupt::Stop,
        _ => Interrupt::Closed,
    }
}

impl Prompter for TerminalPrompter {
    fn clear(&mut self) {
        let mut err = std::io::stderr();
        let _ = write!(err, "{}", crate::term::CLEAR_SCREEN);
        let _ = err.flush();
    }

    fn say(&mut self, text: &str) {
        eprintln!("{}", crate::term::wrap(text, crate::term::text_width()));
    }

    fn choose(
        &mut self,
        prompt: &str,
        items: &[MenuItem],
        start: usize,
        help: &str,
    ) -> Result<usize, Interrupt> {
        let scorer = |typed: &str, item: &MenuItem, _: &str, _: usize| -> Option<i64> {
            let typed = typed.trim();
            if typed.is_empty() || item.key.eq_ignore_ascii_case(typed) {
                Some(0)
            } else if typed.chars().all(|c| c.is_ascii_digit()) || typed.len() == 1 {
                // A typed key picks exactly that item, never a label that happens to contain it.
                None
            } else {
                item.label
                    .to_lowercase()
                    .contains(&typed.to_lowercase())
                    .then_some(0)
            }
        };
        // The answered line would repeat the choice on screen; keep it unreadable
        // so sensitive answers are not left behind.
        let formatter = |o: inquire::list_option::ListOption<&MenuItem>| {
            if o.value.tick { "✓" } else { "" }.to_string()
        };
        let help = self.help(help);
        let message = self.message(prompt);
        let mut select = inquire::Select::new(&message, items.to_vec())
            .with_render_config(self.render)
            .with_starting_cursor(start.min(items.len().saturating_sub(1)))
            .with_scorer(&scorer)
            .with_formatter(&formatter)
            .with_page_size(items.len().max(1));
        if let Some(help) = help {
            select = select.with_help_message(help);
        }
        let picked = select.raw_prompt().map_err(interrupt)?;
        Ok(picked.index)
    }

    fn choose_typed(
        &mut self,
        prompt: &str,
        items: &[MenuItem],
        start: usize,
        help: &str,
    ) -> Result<usize, Interrupt> {
        let scorer = |typed: &str, item: &MenuItem, _: &str, _: usize| -> Option<i64> {
            let typed = typed.trim().to_lowercase();
            let label = item.label.to_lowercase();
            if typed.is_empty() || item.key.eq_ignore_ascii_case(&typed) {
                Some(3)
            } else if item.also.iter().any(|n| n.eq_ignore_ascii_case(&typed)) {
                // "UK", "USA": a whole other name finds its country first.
                Some(3)
            } else if item.named_by(&typed) || item.key.to_lowercase().starts_with(&typed) {
                Some(2)
            } else if label.contains(&typed) {
                Some(1)
            } else if item.always {
                // Never an empty list: Enter then says what to do.
                Some(0)
            } else {
                None
            }
        };
        let formatter = |o: inquire::list_option::ListOption<&MenuItem>| o.value.label.clone();
        let help = self.help(help);
        let message = self.message(prompt);
        let mut select = inquire::Select::new(&message, items.to_vec())
            .with_render_config(self.render)
            .with_starting_cursor(start.min(items.len().saturating_sub(1)))
            .with_scorer(&scorer)
            .with_formatter(&formatter)
            .with_page_size(items.len().clamp(1, 12));
        if let Some(help) = help {
            select = select.with_help_message(help);
        }
        let picked = select.raw_prompt().map_err(interrupt)?;
        Ok(picked.index)
    }

    fn text(&mut self, prompt: &str, help: &str, default: &str) -> Result<String, Interrupt> {
        let formatter = |_: &str| "✓".to_string();
        let help = self.help(help);
        let message = self.message(prompt);
        let mut text = inquire::Text::new(&message)
            .with_render_config(self.render)
            .with_formatter(&formatter);
        if let Some(help) = help {
            text = text.with_help_message(help);
        }
        // An empty default would be drawn as "()" after the question.
        if !default.is_empty() {
            text = text.with_default(default);
        }
        text.prompt().map_err(interrupt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items() -> Vec<MenuItem> {
        vec![
            MenuItem::new("1", "Yes"),
            MenuItem::new("2", "No"),
            MenuItem::new("s", "Skip this question"),
        ]
    }

    #[test]
    fn typed_keys_and_labels_pick_items() {
        assert_eq!(match_item(&items(), "2"), Some(1));
        assert_eq!(match_item(&items(), " S "), Some(2));
        assert_eq!(match_item(&items(), "yes"), Some(0));
        assert_eq!(match_item(&items(), "3"), None);
    }

    #[test]
    fn line_prompter_re_asks_until_it_understands() {
        let input = b"maybe\n2\n" as &[u8];
        let mut p = LinePrompter::new(input, Vec::new());
        assert_eq!(p.choose("Question?", &items(), 0, "Type a number"), Ok(1));
        let out = String::from_utf8(p.into_output()).unwrap();
        assert!(out.contains("1) Yes") && out.contains("Please type one of: 1, 2, s"));
    }

    #[test]
    fn line_prompter_quick_exit_and_closed_input() {
        let mut p = LinePrompter::new(b"q\n" as &[u8], Vec::new());
        assert_eq!(p.choose("Q?", &items(), 0, ""), Err(Interrupt::QuickExit));
        let mut p = LinePrompter::new(b"" as &[u8], Vec::new());
        assert_eq!(p.choose("Q?", &items(), 0, ""), Err(Interrupt::Closed));
        let mut p = LinePrompter::new(b"  my kitchen \n" as &[u8], Vec::new());
        assert_eq!(p.text("Where?", "", ""), Ok("my kitchen".into()));
    }
}
