//! Terminal conventions: colour and progress only on a TTY, NO_COLOR honoured,
//! and a `--plain` mode for screen readers (no animation, no box drawing).
use std::io::IsTerminal;

/// How output should look, decided once from flags and the environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    /// stdout is a terminal.
    pub tty: bool,
    /// Colours and emphasis may be used.
    pub color: bool,
    /// Screen-reader friendly: no animation, no box drawing, no colour.
    pub plain: bool,
}

impl Style {
    /// Decide from the `--plain` / `--no-color` flags, NO_COLOR and whether stdout is a TTY.
    pub fn detect(plain: bool, no_color: bool) -> Self {
        let tty = std::io::stdout().is_terminal();
        let no_color_env = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Self::decide(tty, plain, no_color || no_color_env)
    }

    /// Pure decision, separated for tests.
    /// Text for reading on screen: wrapped to the terminal's width on a TTY,
    /// left as it is for pipes and files (their reader wraps it).
    pub fn fit(&self, text: String) -> String {
        if self.tty {
            wrap(&text, text_width())
        } else {
            text
        }
    }

    pub fn decide(tty: bool, plain: bool, no_color: bool) -> Self {
        Style {
            tty,
            color: tty && !plain && !no_color,
            plain,
        }
    }

    /// Progress bars and spinners are shown only on an interactive terminal and never in plain mode.
    pub fn progress(&self) -> bool {
        self.tty && !self.plain && std::io::stderr().is_terminal()
    }

    pub fn bold(&self, s: &str) -> String {
        if self.color {
            console::style(s).bold().to_string()
        } else {
            s.to_string()
        }
    }

    pub fn dim(&self, s: &str) -> String {
        if self.color {
            console::style(s).dim().to_string()
        } else {
            s.to_string()
        }
    }

    /// Colour by meaning; the words always carry the meaning on their own.
    pub fn tone(&self, s: &str, tone: Tone) -> String {
        if !self.color {
            return s.to_string();
        }
        let styled = console::style(s);
        match tone {
            Tone::Good => styled.green(),
            Tone::Caution => styled.yellow(),
            Tone::Concern => styled.magenta(),
            Tone::Neutral => styled,
        }
        .to_string()
    }

    /// A section heading: underlined with '=' normally, a plain line in plain mode.
    pub fn heading(&self, title: &str) -> String {
        if self.plain {
            format!("{title}\n")
        } else {
            let rule = "─".repeat(title.chars().count().min(72));
            format!("{}\n{}\n", self.bold(title), self.dim(&rule))
        }
    }

    /// A bullet that screen readers read naturally.
    pub fn bullet(&self) -> &'static str {
        if self.plain { "-" } else { "•" }
    }
}

/// What a coloured phrase means. Red is avoided on purpose: nothing here is an alarm or a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Good,
    Caution,
    Concern,
    Neutral,
}

/// Clear the screen and the scrollback (xterm "E3"), cursor home: what the
/// quick exit and every new question use, so earlier answers cannot be scrolled back to.
pub const CLEAR_SCREEN: &str = "\x1b[H\x1b[2J\x1b[3J";

/// Width to wrap prose at: the terminal's, capped for readability.
pub fn text_width() -> usize {
    crossterm::terminal::size()
        .map(|(cols, _)| usize::from(cols))
        .unwrap_or(80)
        .clamp(30, 88)
}

#[cfg(test)]
mod wrap_tests {
    #[test]
    fn words_are_never_split_at_slashes_or_hyphens() {
        let text =
            "Download 48.3 Mbit/s; show it again with: /usr/local/bin/session-ready report a.json";
        for width in [30, 60] {
            let wrapped = super::wrap(text, width);
            for word in text.split(' ') {
                assert!(
                    wrapped.contains(word),
                    "{word:?} split at {width}:\n{wrapped}"
                );
            }
        }
    }
}

/// How to run this program again, as the client can type it: `session-ready`
/// when that name on PATH is this very program, otherwise its full path (for
/// example when it was started through `cargo run`).
pub fn self_command() -> String {
    let Ok(me) = std::env::current_exe().and_then(std::fs::canonicalize) else {
        return env!("CARGO_PKG_NAME").to_string();
    };
    let name = me
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let on_path = std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths)
            .any(|dir| std::fs::canonicalize(dir.join(&name)).is_ok_and(|found| found == me))
    });
    if on_path {
        return name.trim_end_matches(".exe").to_string();
    }
    let path = me.display().to_string();
    if path.contains(char::is_whitespace) {
        format!("\"{path}\"")
    } else {
        path
    }
}

/// Wrap each line of `text` to `width`, continuing list items and indented
/// lines under their own text rather than at the margin.
pub fn wrap(text: &str, width: usize) -> String {
    text.split('\n')
        .map(|line| {
            let spaces = line.len() - line.trim_start().len();
            let rest = &line[spaces..];
            let marker = ["• ", "- ", "* "]
                .iter()
                .find(|m| rest.starts_with(**m))
                .map(|m| m.chars().count())
                .or_else(|| {
                    let digits = rest.chars().take_while(char::is_ascii_digit).count();
                    (digits > 0 && rest[digits..].starts_with(". ")).then_some(digits + 2)
                })
                .unwrap_or(0);
            let indent = " ".repeat(spaces + marker);
            // Break only at spaces: never inside "Mbit/s", a path or a
            // hyphenated word, which the default Unicode rules would split.
            textwrap::fill(
                line,
                textwrap::Options::new(width)
                    .subsequent_indent(&indent)
                    .word_separator(textwrap::WordSeparator::AsciiSpace)
                    .word_splitter(textwrap::WordSplitter::NoHyphenation)
                    // A word longer than the line (a path, a URL) runs on
                    // rather than being cut in two.
                    .break_words(false),
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// True when questions can be asked: keys come from stdin and the questions
/// are drawn on stderr (stdout stays free for data).
pub fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// Show a long text through the pager (`$PAGER`, else `less -R`), from its
/// first line, so what comes first stays in sight. False when no pager could
/// be started: the caller then prints the text itself.
pub fn page(text: &str) -> bool {
    use std::io::Write;
    let pager = std::env::var("PAGER")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| "less -R".to_string());
    let mut words = pager.split_whitespace();
    let Some(program) = words.next() else {
        return false;
    };
    let child = std::process::Command::new(program)
        .args(words)
        .env("LESS", "R")
        .stdin(std::process::Stdio::piped())
        .spawn();
    let Ok(mut child) = child else {
        return false;
    };
    if let Some(mut stdin) = child.stdin.take() {
        let wrapped = wrap(text, text_width());
        let _ = stdin.write_all(wrapped.as_bytes());
    }
    child.wait().is_ok_and(|s| s.success())
}

/// How a measurement (connection test, device check) is written: for reading
/// on screen, or as JSON for scripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Terminal,
    Json,
}

/// `text` with its first letter in upper case ("good" → "Good").
pub fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Pretty JSON with a final newline, as every `--format json` prints it.
/// Characters that could drive a terminal are written as `\uXXXX` escapes
/// (the data is unchanged for any JSON reader).
pub fn json_document(value: &impl serde::Serialize) -> serde_json::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut serializer = serde_json::Serializer::with_formatter(
        &mut out,
        crate::safe_text::SafeJsonFormatter::new(),
    );
    serde::Serialize::serialize(value, &mut serializer)?;
    out.push(b'\n');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_only_on_tty_without_plain_or_no_color() {
        assert!(Style::decide(true, false, false).color);
        assert!(!Style::decide(false, false, false).color);
        assert!(!Style::decide(true, true, false).color);
        assert!(!Style::decide(true, false, true).color);
    }

    #[test]
    fn wrapping_keeps_list_items_under_their_text() {
        let text = "Intro words that go on and on.\n  1. A first item that is long enough to wrap\n• bullet text that wraps too";
        let wrapped = wrap(text, 24);
        assert!(
            wrapped.contains("  1. A first item that\n     is long enough"),
            "{wrapped}"
        );
        assert!(
            wrapped.contains("• bullet text that wraps\n  too"),
            "{wrapped}"
        );
    }

    #[test]
    fn plain_mode_has_no_box_drawing() {
        let s = Style::decide(true, true, false);
        assert!(s.heading("Network").is_ascii());
        assert_eq!(s.bullet(), "-");
    }
}
