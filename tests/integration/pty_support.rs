//! Shared by the pty test modules: the `check` walk driven through a
//! pseudo-terminal as a client would drive it, the question needles of its
//! common stretches, and what is left on the screen at the end.
#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::net_support::ENV_TO_CLEAR;
use crate::wire_support::Wire;
use expectrl::process::unix::WaitStatus;
use expectrl::{Eof, Expect, Session};

pub const DOWN: &str = "\x1b[B";
pub const ESC: &str = "\x1b";
pub const CTRL_C: &str = "\x03";

/// The setup and privacy questions, when "I live on my own" needs no follow-up.
/// Each needle is from the start of its question, which is never wrapped,
/// even at 60 columns.
pub const SETUP_AND_PRIVACY: [&str; 5] = [
    "How will this device be connected",
    "If a video call drops, is there a phone",
    "Is there a place at home",
    "closest to your home",
    "headphones or earbuds",
];

/// The contact-with-people questions (needles from the start of each).
pub const ISOLATION: [&str; 5] = [
    "lack companionship",
    "feel left out",
    "isolated from others",
    "In a usual week",
    "Would meeting your therapist in person",
];

pub struct Client {
    pub session: expectrl::session::OsSession,
    _home: tempfile::TempDir,
    dir: PathBuf,
}

impl Client {
    pub fn start(dir: &Path, extra: &[&str]) -> Client {
        Client::launch(dir, &["--no-network"], extra)
    }

    /// With the connection test, against `wire` (a recording relay to `serve`).
    pub fn start_measured(dir: &Path, wire: &Wire, extra: &[&str]) -> Client {
        let server = wire.server_url();
        let stun = wire.stun.to_string();
        Client::launch(dir, &["--server", &server, "--stun", &stun], extra)
    }

    pub fn launch(dir: &Path, network: &[&str], extra: &[&str]) -> Client {
        Client::launch_sized(dir, (100, 40), Some("GB"), network, extra)
    }

    /// Without the connection test, in a terminal of `cols` x `rows`.
    pub fn start_sized(dir: &Path, size: (u16, u16), extra: &[&str]) -> Client {
        Client::launch_sized(dir, size, Some("GB"), &["--no-network"], extra)
    }

    /// With no region from a flag, a file or the locale (LANG=C.UTF-8, as on
    /// many Linux systems): the check asks the client.
    pub fn start_unknown_region(dir: &Path, size: (u16, u16), extra: &[&str]) -> Client {
        Client::launch_sized(dir, size, None, &["--no-network"], extra)
    }

    pub fn launch_sized(
        dir: &Path,
        size: (u16, u16),
        region: Option<&str>,
        network: &[&str],
        extra: &[&str],
    ) -> Client {
        Client::launch_env(dir, size, region, network, extra, &[])
    }

    /// As `launch_sized`, with more environment (`LANG`, `PAGER`).
    pub fn launch_env(
        dir: &Path,
        size: (u16, u16),
        region: Option<&str>,
        network: &[&str],
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Client {
        let home = tempfile::tempdir().unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_session-ready"));
        cmd.args(["check", "--no-device"]);
        match region {
            Some(region) => {
                cmd.args(["--region", region]);
            }
            None => {
                cmd.env("LANG", "C.UTF-8")
                    .env_remove("LC_ALL")
                    .env_remove("LC_MESSAGES");
            }
        }
        cmd.args(network)
            .arg("--draft")
            .arg(dir.join("draft.json"))
            .args(extra)
            .current_dir(dir)
            .env("HOME", home.path())
            .env("TERM", "xterm-256color")
            // The report preview goes through the pager; `cat` prints it
            // whole and returns, so a test reads it as a stream. The real
            // pager is walked in check_pty::the_preview_opens_in_the_pager.
            .env("PAGER", "cat");
        for var in ENV_TO_CLEAR {
            cmd.env_remove(var);
        }
        for (name, value) in env {
            cmd.env(name, value);
        }
        let mut session = Session::spawn(cmd).unwrap();
        session
            .get_process_mut()
            .set_window_size(size.0, size.1)
            .unwrap();
        session.set_expect_timeout(Some(Duration::from_secs(10)));
        Client {
            session,
            _home: home,
            dir: dir.to_path_buf(),
        }
    }

    pub fn wait_for(&mut self, text: &str) {
        if let Err(e) = self.session.expect(text) {
            panic!("waiting for {text:?}: {e}");
        }
    }

    /// Wait for `text`, then type `keys` and press Enter.
    pub fn answer(&mut self, text: &str, keys: &str) {
        self.wait_for(text);
        // Let the prompt finish drawing before typing, as a person would.
        std::thread::sleep(Duration::from_millis(60));
        self.session.send(keys).unwrap();
        std::thread::sleep(Duration::from_millis(30));
        self.session.send("\r").unwrap();
    }

    /// The same keys for each question in turn.
    pub fn answer_each(&mut self, questions: &[&str], keys: &str) {
        for question in questions {
            self.answer(question, keys);
        }
    }

    pub fn send(&mut self, keys: &str) {
        std::thread::sleep(Duration::from_millis(60));
        self.session.send(keys).unwrap();
    }

    /// Everything printed until the program ends, and its exit code.
    pub fn finish(mut self) -> (String, i32) {
        let rest = self.session.expect(Eof).unwrap();
        let text = String::from_utf8_lossy(rest.as_bytes()).to_string();
        let code = match self.session.get_process().wait().unwrap() {
            WaitStatus::Exited(_, code) => code,
            other => panic!("ended by {other:?}"),
        };
        (text, code)
    }

    pub fn draft(&self) -> PathBuf {
        self.dir.join("draft.json")
    }

    /// The two opening questions: now is a safe time ("1"), and whether the
    /// answers are kept on this device ("2") or not ("1").
    pub fn begin(&mut self, keep_answers: bool) {
        self.answer("Is now a safe and private time", "1");
        let keep = if keep_answers { "2" } else { "1" };
        self.answer("Should your answers be kept", keep);
    }

    /// The opening, then `connection` typed at the first question; waits at
    /// the second (the backup phone), where the tests interrupt the walk.
    pub fn walk_to_the_backup_phone_question(&mut self, keep_answers: bool, connection: &str) {
        self.begin(keep_answers);
        self.answer("How will this device be connected", connection);
        self.wait_for("is there a phone your therapist could call");
    }

    /// After the opening: every question skipped (six in setup and privacy,
    /// as a skipped space asks about another place, five about contact with
    /// people, both "still a safe time" checks) and no plan, up to the end.
    pub fn skip_to_the_end(&mut self) {
        self.skip_to_the_end_but_the_plan();
        self.answer("Would you like to make a plan now?", "s");
    }

    /// As `skip_to_the_end`, stopping where the plan is offered.
    pub fn skip_to_the_end_but_the_plan(&mut self) {
        for _ in 0..6 {
            self.answer("Skip this question", "s");
        }
        self.answer("Is now still a safe and private time", "s");
        for _ in 0..5 {
            self.answer("Skip this question", "s");
        }
        self.answer("Is now still a safe and private time", "s");
    }
}

/// The text after the last clear-screen: what is left readable on the screen.
pub fn last_screen(output: &str) -> &str {
    output.rsplit("\x1b[3J").next().unwrap_or(output)
}

pub fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// Presses Enter at every prompt until the check ends; returns everything
/// printed and the exit code. Every prompt's help line names the quick exit.
pub fn press_only_enter(mut c: Client) -> (String, i32) {
    let mut out = String::new();
    for _ in 0..200 {
        match c.session.expect("leaves at once") {
            Ok(found) => {
                out.push_str(&String::from_utf8_lossy(found.before()));
                out.push_str("leaves at once");
                std::thread::sleep(Duration::from_millis(60));
                c.session.send("\r").unwrap();
            }
            Err(expectrl::Error::Eof) => break,
            Err(e) => panic!("waiting for a prompt: {e}\n{out}"),
        }
    }
    let (rest, code) = c.finish();
    out.push_str(&rest);
    (out, code)
}

/// The rows a terminal of `rows` lines shows at the end: the last screen
/// after a clear, as the client sees it.
pub fn final_rows(output: &str, rows: usize) -> String {
    let screen = strip_ansi(last_screen(output));
    let lines: Vec<&str> = screen.lines().collect();
    lines[lines.len().saturating_sub(rows)..].join("\n")
}

/// Text without escape sequences (colour, cursor moves).
pub fn strip_ansi(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            if chars.peek() == Some(&'[') {
                chars.next();
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() || c == '~' {
                        break;
                    }
                }
            }
            continue;
        }
        if c != '\r' {
            out.push(c);
        }
    }
    out
}

/// From the opening to the first risk question: answers typed, the home part
/// skipped unless `home` gives the two home answers.
pub fn to_the_risk_questions(c: &mut Client, home: Option<(&str, &str)>) {
    c.answer_each(&SETUP_AND_PRIVACY, "1");
    match home {
        Some((feels_safe, monitored)) => {
            c.answer("Is now still a safe and private time", "1");
            c.answer("Does your home feel like a safe place", feels_safe);
            if feels_safe == "3" {
                c.answer("Keeping this private", "1");
            }
            c.answer("check your phone, computer or messages", monitored);
            if feels_safe != "3" && monitored != "2" {
                c.answer("Keeping this private", "1");
            }
        }
        None => c.answer("Is now still a safe and private time", "s"),
    }
    c.answer_each(&ISOLATION[..4], "1");
    c.answer("Would meeting your therapist in person", "2");
    c.answer("Is now still a safe and private time", "1");
}

/// `keygen --output KEY`: the public key (age1…) it prints.
pub fn keygen_public(key: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_session-ready"))
        .args(["keygen", "--output"])
        .arg(key)
        .output()
        .unwrap();
    let printed = String::from_utf8(out.stdout).unwrap();
    printed
        .split_whitespace()
        .find(|w| w.starts_with("age1"))
        .expect("keygen prints the public key")
        .to_string()
}
