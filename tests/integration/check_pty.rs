//! The real interactive flow, driven through a pseudo-terminal as a client
//! would use it: typed numbers and arrow keys, skip, why, go back, pause and
//! resume, quick exit, Ctrl-C, crisis resources on a yes, preview and save.
#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::net_support::ENV_TO_CLEAR;
use crate::wire_support::{Wire, find, lowercase};
use expectrl::process::unix::WaitStatus;
use expectrl::{Eof, Expect, Session};

const DOWN: &str = "\x1b[B";
const ESC: &str = "\x1b";
const CTRL_C: &str = "\x03";

/// The setup and privacy questions, when "I live on my own" needs no follow-up.
const SETUP_AND_PRIVACY: [&str; 5] = [
    "How will this device be connected",
    "is there a phone your therapist could call",
    "without being overheard",
    "closest to your home",
    "headphones or earbuds",
];

/// The contact-with-people questions.
const ISOLATION: [&str; 5] = [
    "lack companionship",
    "feel left out",
    "isolated from others",
    "meet someone in person",
    "important way for you to have contact",
];

struct Client {
    session: expectrl::session::OsSession,
    _home: tempfile::TempDir,
    dir: PathBuf,
}

impl Client {
    fn start(dir: &Path, extra: &[&str]) -> Client {
        Client::launch(dir, &["--no-network"], extra)
    }

    /// With the connection test, against `wire` (a recording relay to `serve`).
    fn start_measured(dir: &Path, wire: &Wire, extra: &[&str]) -> Client {
        let server = wire.server_url();
        let stun = wire.stun.to_string();
        Client::launch(dir, &["--server", &server, "--stun", &stun], extra)
    }

    fn launch(dir: &Path, network: &[&str], extra: &[&str]) -> Client {
        let home = tempfile::tempdir().unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_session-ready"));
        cmd.args(["check", "--no-device", "--region", "GB"])
            .args(network)
            .arg("--draft")
            .arg(dir.join("draft.json"))
            .args(extra)
            .current_dir(dir)
            .env("HOME", home.path())
            .env("TERM", "xterm-256color");
        for var in ENV_TO_CLEAR {
            cmd.env_remove(var);
        }
        let mut session = Session::spawn(cmd).unwrap();
        session.get_process_mut().set_window_size(100, 40).unwrap();
        session.set_expect_timeout(Some(Duration::from_secs(10)));
        Client {
            session,
            _home: home,
            dir: dir.to_path_buf(),
        }
    }

    fn wait_for(&mut self, text: &str) {
        if let Err(e) = self.session.expect(text) {
            panic!("waiting for {text:?}: {e}");
        }
    }

    /// Wait for `text`, then type `keys` and press Enter.
    fn answer(&mut self, text: &str, keys: &str) {
        self.wait_for(text);
        // Let the prompt finish drawing before typing, as a person would.
        std::thread::sleep(Duration::from_millis(60));
        self.session.send(keys).unwrap();
        std::thread::sleep(Duration::from_millis(30));
        self.session.send("\r").unwrap();
    }

    /// The same keys for each question in turn.
    fn answer_each(&mut self, questions: &[&str], keys: &str) {
        for question in questions {
            self.answer(question, keys);
        }
    }

    fn send(&mut self, keys: &str) {
        std::thread::sleep(Duration::from_millis(60));
        self.session.send(keys).unwrap();
    }

    /// Everything printed until the program ends, and its exit code.
    fn finish(mut self) -> (String, i32) {
        let rest = self.session.expect(Eof).unwrap();
        let text = String::from_utf8_lossy(rest.as_bytes()).to_string();
        let code = match self.session.get_process().wait().unwrap() {
            WaitStatus::Exited(_, code) => code,
            other => panic!("ended by {other:?}"),
        };
        (text, code)
    }

    fn draft(&self) -> PathBuf {
        self.dir.join("draft.json")
    }
}

/// The text after the last clear-screen: what is left readable on the screen.
fn last_screen(output: &str) -> &str {
    output.rsplit("\x1b[3J").next().unwrap_or(output)
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn a_client_answers_skips_goes_back_and_saves_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::start(dir.path(), &[]);
    c.answer("Should your answers be kept", "1");
    c.answer("Is now a safe and private time", "1");
    c.answer("How will this device be connected", "1"); // wired
    // Go back and change it with the arrow keys: down once to Wi-Fi.
    c.answer("is there a phone your therapist could call", "b");
    c.wait_for("How will this device be connected");
    c.send(DOWN);
    c.send("\r");
    c.answer("is there a phone your therapist could call", "s"); // skip
    c.answer("without being overheard", "w"); // why?
    c.wait_for("Why we ask this: Therapy works best");
    c.answer("without being overheard", "1");
    c.answer("closest to your home", "1");
    c.answer("headphones or earbuds", "1");
    c.answer("Is now still a safe and private time", "s"); // skip the home part
    c.answer("lack companionship", "1");
    c.answer("feel left out", "1");
    c.answer("isolated from others", "1");
    c.answer("meet someone in person", "3");
    c.answer("important way for you to have contact", "2");
    c.answer("Is now still a safe and private time", "1");
    for _ in 0..4 {
        c.answer("Support is there any time: Samaritans", "2");
    }
    c.answer("urgent help for your mental health", "2");
    c.answer("Would you like to make a plan now?", "1");
    c.answer("Where would you like to sit", "the green armchair");
    c.answer("within arm's reach", "");
    c.answer("need a pause", "raise a hand");
    c.answer("contact after a session", "");
    c.answer("If the call drops", "ring my mobile");
    c.answer("What would you like to do?", "1"); // save the full report
    c.answer("Where should it be saved?", "mine.json");
    let (out, code) = c.finish();
    assert_eq!(code, 0, "{out}");
    let screen = last_screen(&out);
    assert!(
        screen.contains("Your report is saved in mine.json"),
        "{screen}"
    );
    assert!(
        screen.contains("116 123"),
        "crisis resources at the end: {screen}"
    );
    let report_path = dir.path().join("mine.json");
    let report = json(&report_path);
    assert_eq!(report["answers"]["setup.connection"], "wifi");
    assert_eq!(report["answers"]["setup.backup_phone"], "skipped");
    assert_eq!(report["answers"]["home.feels_safe"], "skipped");
    assert_eq!(report["answers"]["risk.asq4"], "no");
    assert_eq!(report["view"], "clinician");
    assert_eq!(report["session_plan"]["place"], "the green armchair");
    assert!(report["session_plan"]["comfort_items"].is_null());
    assert_eq!(report["questionnaire_status"], "completed");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&report_path)
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    assert!(
        !dir.path().join("draft.json").exists(),
        "nothing kept without consent"
    );
}

#[test]
fn pause_and_resume_exactly_where_the_client_left() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::start(dir.path(), &[]);
    c.answer("Should your answers be kept", "2");
    c.answer("Is now a safe and private time", "1");
    c.answer("How will this device be connected", "3");
    c.answer("is there a phone your therapist could call", "p");
    let draft_path = c.draft();
    let (out, code) = c.finish();
    assert_eq!(code, 0);
    assert!(out.contains("Your answers are kept privately"), "{out}");
    let draft = json(&draft_path);
    assert_eq!(draft["state"]["answers"]["setup.connection"], "mobile");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&draft_path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);

    let mut c = Client::start(dir.path(), &[]);
    c.answer("Welcome back", "1");
    // Straight to the question after the last one answered.
    c.wait_for("is there a phone your therapist could call");
    c.send(ESC);
    let (out, code) = c.finish();
    assert_eq!(code, 0);
    assert!(!out.contains("How will this device be connected"));
    // The client agreed to keep answers, so a quick exit keeps the draft.
    assert_eq!(
        json(&draft_path)["state"]["answers"]["setup.connection"],
        "mobile"
    );
}

#[test]
fn quick_exit_clears_the_screen_and_keeps_nothing_without_consent() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::start(dir.path(), &[]);
    c.answer("Should your answers be kept", "1");
    c.answer("Is now a safe and private time", "1");
    c.answer("How will this device be connected", "2");
    c.wait_for("is there a phone your therapist could call");
    c.send(ESC);
    let draft = c.draft();
    let (out, code) = c.finish();
    assert_eq!(code, 0);
    let screen = last_screen(&out);
    assert!(
        !screen.chars().any(|c| c.is_alphanumeric()),
        "nothing readable after a quick exit: {screen:?}"
    );
    assert!(!draft.exists());
}

#[test]
fn ctrl_c_stops_with_the_terminal_restored_and_the_draft_intact() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::start(dir.path(), &[]);
    c.answer("Should your answers be kept", "2");
    c.answer("Is now a safe and private time", "1");
    c.answer("How will this device be connected", "1");
    c.wait_for("is there a phone your therapist could call");
    c.send(CTRL_C);
    let draft = c.draft();
    let (out, code) = c.finish();
    assert_eq!(code, 130);
    assert!(
        last_screen(&out).contains("Your answers so far are kept"),
        "{out}"
    );
    // The cursor is shown again (terminal restored).
    assert!(out.contains("\x1b[?25h"), "cursor restored");
    let saved = json(&draft);
    assert_eq!(saved["state"]["answers"]["setup.connection"], "wired");
    assert!(
        saved["state"]["answers"]
            .get("setup.backup_phone")
            .is_none()
    );
}

#[test]
fn ctrl_c_during_the_connection_test_on_a_terminal_stops_cleanly() {
    // A server that accepts and never answers keeps the test (and its progress bar) going.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let server = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || listener.incoming().flatten().collect::<Vec<_>>());
    let dir = tempfile::tempdir().unwrap();
    let answers = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/answers/urgent.json");
    let answers = answers.to_str().unwrap();
    let mut c = Client::launch(
        dir.path(),
        &["--server", &server, "--max-seconds", "30"],
        &["--answers", answers, "--output", "report.json"],
    );
    c.wait_for("Connecting to the measurement server");
    std::thread::sleep(Duration::from_millis(300));
    c.send(CTRL_C);
    let (out, code) = c.finish();
    assert_eq!(code, 130, "{out}");
    let hidden = out.rfind("\x1b[?25l").unwrap_or(0);
    assert!(
        out[hidden..].contains("\x1b[?25h"),
        "cursor shown again: {out:?}"
    );
    assert!(out.contains("session-ready stopped"), "{out}");
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
    assert!(left.is_empty(), "left {left:?}");
}

#[test]
fn a_yes_brings_crisis_resources_at_once_and_the_client_can_finish_early() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::start(dir.path(), &[]);
    c.answer("Should your answers be kept", "1");
    c.answer("Is now a safe and private time", "1");
    c.answer_each(&SETUP_AND_PRIVACY, "1");
    c.answer("Is now still a safe and private time", "s");
    c.answer_each(&ISOLATION, "s");
    c.answer("Is now still a safe and private time", "1");
    c.answer("have you wished you were dead", "1");
    c.wait_for("Support is available now");
    c.wait_for("If you are in immediate danger, call 999");
    c.answer("call 116 123", "2"); // finish now and see my report
    c.answer("What would you like to do?", "4"); // do not save
    let (out, code) = c.finish();
    assert_eq!(code, 0);
    let screen = last_screen(&out);
    assert!(screen.contains("Nothing was saved."), "{screen}");
    assert!(screen.contains("116 123"));
    assert!(!screen.contains("wished you were dead"));
    assert!(
        std::fs::read_dir(dir.path()).unwrap().next().is_none(),
        "no files left"
    );
}

#[test]
fn not_a_safe_time_lets_the_client_leave_gently() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::start(dir.path(), &[]);
    c.answer("Should your answers be kept", "1");
    c.answer("Is now a safe and private time", "2");
    c.answer("That is completely okay", "1");
    let (out, code) = c.finish();
    assert_eq!(code, 0);
    assert!(last_screen(&out).contains("Whenever you are ready"));
}

#[test]
fn plain_mode_reads_typed_lines_without_redrawing() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::start(dir.path(), &["--plain"]);
    c.answer("Should your answers be kept", "1");
    c.answer("Is now a safe and private time", "1");
    c.answer("How will this device be connected", "2");
    c.wait_for("is there a phone your therapist could call");
    c.answer("> ", "q");
    let (out, code) = c.finish();
    assert_eq!(code, 0);
    assert!(!out.contains('─'), "no box drawing in plain mode");
    assert!(!out.contains("\x1b[38"), "no colour in plain mode");
}

#[test]
fn sigterm_and_a_closed_terminal_mid_question_leave_the_draft_whole() {
    use expectrl::process::unix::Signal;
    for (signal, code) in [(Signal::SIGTERM, 143), (Signal::SIGHUP, 129)] {
        let dir = tempfile::tempdir().unwrap();
        let mut c = Client::start(dir.path(), &[]);
        c.answer("Should your answers be kept", "2");
        c.answer("Is now a safe and private time", "1");
        c.answer("How will this device be connected", "2");
        c.wait_for("is there a phone your therapist could call");
        std::thread::sleep(Duration::from_millis(100));
        c.session.get_process_mut().signal(signal).unwrap();
        let draft = c.draft();
        let (_, exit) = c.finish();
        assert_eq!(exit, code, "{signal:?}");
        let saved = json(&draft);
        assert_eq!(saved["state"]["answers"]["setup.connection"], "wifi");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().to_string())
            .filter(|n| n != "draft.json")
            .collect();
        assert!(leftovers.is_empty(), "{signal:?} left {leftovers:?}");
    }
}

#[test]
fn a_failed_save_loses_nothing_and_can_be_tried_elsewhere() {
    let dir = tempfile::tempdir().unwrap();
    // Through to the end quickly: skip everything, then try to save where it cannot go.
    let mut c = Client::start(dir.path(), &[]);
    c.answer("Should your answers be kept", "1");
    c.answer("Is now a safe and private time", "1");
    // Two setup questions and four privacy ones (a skipped space asks about another place).
    for _ in 0..6 {
        c.answer("Skip this question", "s");
    }
    c.answer("Is now still a safe and private time", "s");
    for _ in 0..5 {
        c.answer("Skip this question", "s");
    }
    c.answer("Is now still a safe and private time", "s");
    c.answer("Would you like to make a plan now?", "s");
    c.answer("What would you like to do?", "2");
    c.answer("Where should it be saved?", "/nonexistent-folder/r.json");
    c.wait_for("the folder does not exist");
    c.answer("nothing was lost", "1");
    c.answer("What would you like to do?", "2");
    c.answer("Where should it be saved?", "r.json");
    let (out, code) = c.finish();
    assert_eq!(code, 0, "{out}");
    let saved = json(&dir.path().join("r.json"));
    assert_eq!(saved["view"], "client");
    assert_eq!(saved["answers"]["privacy.space"], "skipped");
}

#[test]
fn what_the_client_types_never_crosses_the_wire() {
    let wire = Wire::start();
    let dir = tempfile::tempdir().unwrap();
    let typed = [
        "under the stairs at Aunt Philippa's",
        "Marmaduke the knitted otter",
        "I will hold up the green card",
        "Perpetua Oyelaran-Wick, 07700 900982",
        "text Perpetua then ring 0161 496 0999",
    ];
    let mut c = Client::start_measured(dir.path(), &wire, &[]);
    c.answer("Should your answers be kept", "1");
    c.answer("Is now a safe and private time", "1");
    c.answer("How will this device be connected", "2");
    c.answer("is there a phone your therapist could call", "1");
    c.answer("without being overheard", "1");
    c.answer("closest to your home", "1");
    c.answer("headphones or earbuds", "1");
    c.answer("Is now still a safe and private time", "s");
    c.answer_each(&ISOLATION, "2");
    c.answer("Is now still a safe and private time", "1");
    for _ in 0..4 {
        c.answer("Support is there any time: Samaritans", "2");
    }
    c.answer("urgent help for your mental health", "2");
    c.answer("Would you like to make a plan now?", "1");
    c.answer("Where would you like to sit", typed[0]);
    c.answer("within arm's reach", typed[1]);
    c.answer("need a pause", typed[2]);
    c.answer("contact after a session", typed[3]);
    c.answer("If the call drops", typed[4]);
    c.answer("What would you like to do?", "1");
    c.answer("Where should it be saved?", "report.json");
    let (out, code) = c.finish();
    assert_eq!(code, 0, "{out}");
    let report = json(&dir.path().join("report.json"));
    assert_eq!(report["session_plan"]["nearby_contact"], typed[3]);
    assert!(
        report["network"]["download"]["mbps"].is_number(),
        "{}",
        report["network"]
    );
    assert_eq!(report["network"]["udp_status"], "measured");

    let rec = wire.recording();
    assert!(rec.tcp_sent.len() > 100_000 && rec.udp_sent.len() >= 50);
    let tcp = lowercase(&rec.tcp_sent);
    let mut secrets: Vec<&str> = typed.to_vec();
    secrets.extend([
        "Perpetua",
        "07700900982",
        "Marmaduke",
        "setup.connection",
        "risk.asq",
    ]);
    for secret in secrets {
        assert!(find(&tcp, secret).is_none(), "{secret:?} was sent over TCP");
        for packet in &rec.udp_sent {
            assert!(
                find(&lowercase(packet), secret).is_none(),
                "{secret:?} was sent over UDP"
            );
        }
    }
}

#[test]
fn with_a_clinic_file_the_report_is_locked_for_the_clinic() {
    let dir = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_session-ready");
    let key = dir.path().join("clinic-key.txt");
    let out = Command::new(bin)
        .args(["keygen", "--output"])
        .arg(&key)
        .output()
        .unwrap();
    let public = String::from_utf8(out.stdout).unwrap();
    let public = public
        .split_whitespace()
        .find(|w| w.starts_with("age1"))
        .expect("keygen prints the public key");
    std::fs::write(
        dir.path().join("clinic.toml"),
        format!(
            "name = \"Riverside\"\nrecipient = \"{public}\"\ndropped_call_phone = \"020 7946 0000\"\n"
        ),
    )
    .unwrap();
    let mut c = Client::start(dir.path(), &["--clinic", "clinic.toml"]);
    c.answer("Should your answers be kept", "1");
    c.answer("Is now a safe and private time", "1");
    for question in [
        "How will this device be connected",
        "is there a phone your therapist could call",
        "without being overheard",
        "closest to your home",
        "somewhere else you could go", // asked because the first was skipped
        "headphones or earbuds",
    ] {
        c.answer(question, "s");
    }
    c.answer("Is now still a safe and private time", "s");
    c.answer_each(&ISOLATION, "s");
    c.answer("Is now still a safe and private time", "s");
    c.answer("Would you like to make a plan now?", "s");
    c.wait_for("you can ring Riverside on");
    c.answer("What would you like to do?", "1");
    // The suggested name says it is an encrypted (age) file; Enter takes it.
    c.answer(".json.age", "");
    let (out, code) = c.finish();
    assert_eq!(code, 0, "{out}");
    assert!(
        last_screen(&out).contains("locked so that only your"),
        "{out}"
    );
    let saved: Vec<PathBuf> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".json.age"))
        .collect();
    assert_eq!(saved.len(), 1, "{saved:?}");
    let armored = std::fs::read_to_string(&saved[0]).unwrap();
    assert!(armored.starts_with("-----BEGIN AGE ENCRYPTED FILE-----"));
    // The clinic opens it with its key.
    let opened = Command::new(bin)
        .args([
            "report",
            "--format",
            "json",
            "--view",
            "clinician",
            "--identity",
        ])
        .arg(&key)
        .arg(&saved[0])
        .output()
        .unwrap();
    assert!(opened.status.success(), "{opened:?}");
    let report: serde_json::Value = serde_json::from_slice(&opened.stdout).unwrap();
    assert_eq!(report["view"], "clinician");
    assert_eq!(report["clinic"]["dropped_call_phone"], "020 7946 0000");
}
