//! Untrusted input and hostile outputs: control characters in free text,
//! bounded and checked input files, outputs only to regular files, and a
//! closed pipe as a normal end (issue 12, items 1, 7, 9 and 11).
use std::path::Path;
use std::process::{Command as StdCommand, Stdio};

use assert_cmd::Command;
use proptest::prelude::*;
use session_ready::report::Format;
use session_ready::report::Report;
use session_ready::report::model::{ClinicInfo, QuestionnaireStatus, ReportParts, SessionPlan};
use session_ready::report::summary::SummaryFormat;
use session_ready::report::summary::{self, Summary, Unreadable};
use session_ready::term::Style;

fn bin() -> Command {
    Command::cargo_bin("session-ready").unwrap()
}

fn check_answers(answers: &Path) -> Command {
    let mut cmd = bin();
    cmd.args(["check", "--no-network", "--no-device", "--answers"])
        .arg(answers);
    cmd
}

fn stderr_of(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).to_string()
}

/// Bidi controls, as `safe_text` lists them.
const BIDI: [char; 12] = [
    '\u{061C}', '\u{200E}', '\u{200F}', '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}',
    '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}',
];

/// The first character no output may carry: a C0 control other than newline
/// and tab, DEL, a C1 control or a bidi control.
fn first_unsafe(text: &str) -> Option<char> {
    text.chars()
        .find(|&c| (c.is_control() && c != '\n' && c != '\t') || BIDI.contains(&c))
}

const HOSTILE_PLAN: &str = "the sofa\x1b[2J\x1b]0;owned\x07\x1b]8;;http://evil.example\x07link\x1b]8;;\x07\rX\u{9b}2J\u{202e}txt";

// ---------------------------------------------------------------- item 1

#[test]
fn control_characters_in_an_answers_file_are_refused_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("answers.json");
    let file = serde_json::json!({
        "answers": {"privacy.space": "private"},
        "session_plan": {"place": HOSTILE_PLAN}
    });
    std::fs::write(&path, file.to_string()).unwrap();
    let out = check_answers(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    let err = stderr_of(&out);
    assert!(
        err.contains("session_plan.\"place\"") && err.contains("control character"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
    assert_eq!(first_unsafe(&err), None, "{err:?}");
}

#[test]
fn bidi_controls_in_a_clinic_file_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let clinic = dir.path().join("clinic.toml");
    std::fs::write(&clinic, "name = \"River\u{202e}side\"\n").unwrap();
    let answers = dir.path().join("a.json");
    std::fs::write(&answers, r#"{"answers": {}}"#).unwrap();
    let out = check_answers(&answers)
        .arg("--clinic")
        .arg(&clinic)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_of(&out);
    assert!(err.contains("\"name\"") && err.contains("U+202E"), "{err}");
}

#[test]
fn a_hand_edited_report_cannot_drive_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("r.json");
    bin()
        .args(["check", "--no-network", "--no-device", "--format", "json"])
        .arg("--answers")
        .arg(format!(
            "{}/examples/answers/video-suitable.json",
            env!("CARGO_MANIFEST_DIR")
        ))
        .arg("--output")
        .arg(&saved)
        .assert()
        .success();
    let mut report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&saved).unwrap()).unwrap();
    report["session_plan"]["place"] = HOSTILE_PLAN.into();
    std::fs::write(&saved, serde_json::to_vec(&report).unwrap()).unwrap();
    for format in ["terminal", "text", "markdown", "json", "fhir"] {
        for plain in [false, true] {
            let mut cmd = bin();
            cmd.args(["report", "--format", format]).arg(&saved);
            if plain {
                cmd.arg("--plain");
            }
            let out = cmd.output().unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            assert_eq!(first_unsafe(&text), None, "{format}: {text}");
            assert_eq!(first_unsafe(&stderr_of(&out)), None, "{format}");
        }
    }
}

fn hostile_text() -> impl Strategy<Value = String> {
    let hostile_char = prop_oneof![
        3 => any::<char>(),
        3 => proptest::char::range('\0', '\u{9f}'),
        1 => proptest::sample::select(BIDI.to_vec()),
    ];
    proptest::collection::vec(hostile_char, 0..24).prop_map(|c| c.into_iter().collect())
}

fn poisoned_report(t: &[String]) -> Report {
    let mut answers = std::collections::BTreeMap::new();
    answers.insert("risk.asq1".to_string(), "yes".to_string());
    answers.insert("risk.asq5".to_string(), "no".to_string());
    answers.insert("privacy.space".to_string(), "sometimes".to_string());
    let mut report = Report::build(ReportParts {
        answers,
        questionnaire_status: QuestionnaireStatus::Completed,
        session_plan: Some(SessionPlan {
            place: Some(t[0].clone()),
            comfort_items: Some(t[1].clone()),
            pause_signal: Some(t[2].clone()),
            nearby_contact: Some(t[3].clone()),
            if_call_drops: Some(t[4].clone()),
        }),
        network: None,
        network_reason: Some(t[5].clone()),
        device: None,
        region: "GB".into(),
        clinic: Some(ClinicInfo {
            name: Some(t[6].clone()),
            dropped_call_phone: Some(t[7].clone()),
        }),
        client_ref: None,
    });
    // Fields a hand-edited file could hold.
    report.generated_at = t[8].clone();
    report.client_ref = Some(t[9].clone());
    report.headline = t[9].clone();
    report.answers.insert(t[10].clone(), t[11].clone());
    for criterion in &mut report.criteria {
        criterion.evidence.push(t[12].clone());
        criterion.summary.push_str(&t[13]);
    }
    if let Some(resource) = report.crisis_resources.first_mut() {
        resource.name = t[14].clone();
        resource.contact = t[15].clone();
    }
    report
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// No control character (but newline and tab) and no bidi control in any
    /// free text reaches any output format, in either view.
    #[test]
    fn no_control_character_reaches_any_output(
        t in proptest::collection::vec(hostile_text(), 16),
        file in hostile_text(),
    ) {
        let report = poisoned_report(&t);
        // Colour off: our own colour codes are the only escapes a terminal
        // output may hold, and they are not free text.
        let styles = [Style::decide(true, false, true), Style::decide(true, true, false)];
        for shown in [report.clone(), report.client_copy()] {
            for format in [Format::Terminal, Format::Text, Format::Markdown, Format::Json, Format::Fhir] {
                for style in styles {
                    let bytes = session_ready::report::render::render(&shown, format, style).unwrap();
                    let text = String::from_utf8(bytes).unwrap();
                    prop_assert_eq!(first_unsafe(&text), None, "{:?}: {:?}", format, text);
                }
            }
            let pdf = session_ready::report::render::render(&shown, Format::Pdf, styles[0]).unwrap();
            let text = pdf_text(&pdf);
            prop_assert!(text.contains("video"), "the PDF's text was extracted: {:?}", text);
            prop_assert_eq!(first_unsafe(&text), None, "pdf: {:?}", text);
        }
        let summary = Summary {
            schema: summary::SUMMARY_SCHEMA,
            reports: vec![summary::row(&file, &report)],
            unreadable: vec![Unreadable { file: file.clone(), error: t[0].clone() }],
            other_files: 0,
        };
        for format in [SummaryFormat::Terminal, SummaryFormat::Csv, SummaryFormat::Json] {
            let bytes = summary::render(&summary, format, styles[0]).unwrap();
            let text = String::from_utf8(bytes).unwrap();
            prop_assert_eq!(first_unsafe(&text), None, "{:?}: {:?}", format, text);
        }
    }
}

/// The text a PDF viewer would show, decoded through the fonts' ToUnicode
/// maps (the fonts are embedded Identity-H subsets).
fn pdf_text(pdf: &[u8]) -> String {
    let doc = lopdf::Document::load_mem(pdf).unwrap();
    crate::report_support::page_texts(&doc).join("\n")
}

// ---------------------------------------------------------------- item 7

#[test]
fn an_answers_file_over_the_limit_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.json");
    let padding = " ".repeat(1024 * 1024);
    std::fs::write(&path, format!("{{\"answers\": {{}}{padding}}}")).unwrap();
    let out = check_answers(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_of(&out);
    assert!(
        err.contains("limit of 1 MB") && err.contains("big.json"),
        "{err}"
    );
}

#[test]
fn a_plan_text_over_500_characters_is_refused_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.json");
    let file = serde_json::json!({
        "answers": {}, "session_plan": {"pause_signal": "wave ".repeat(101)}
    });
    std::fs::write(&path, file.to_string()).unwrap();
    let out = check_answers(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_of(&out);
    assert!(
        err.contains("session_plan.\"pause_signal\"") && err.contains("limit is 500"),
        "{err}"
    );
}

#[test]
fn a_key_given_twice_in_an_answers_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.json");
    std::fs::write(
        &path,
        r#"{"answers": {"risk.asq5": "yes", "privacy.space": "private", "risk.asq5": "no"}}"#,
    )
    .unwrap();
    let out = check_answers(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_of(&out);
    assert!(err.contains("\"risk.asq5\" appears twice"), "{err}");
}

#[test]
fn saving_into_a_missing_folder_names_the_folder() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-folder");
    let out = check_answers(&example("video-suitable"))
        .arg("--output")
        .arg(missing.join("r.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    let err = stderr_of(&out);
    assert!(
        err.contains(&format!(
            "the folder does not exist ({})",
            missing.display()
        )),
        "{err}"
    );
}

#[test]
fn a_binary_file_is_not_a_text_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("photo.json");
    std::fs::write(&path, [0x89, b'P', b'N', b'G', 0, 0, 0xff, 0xfe]).unwrap();
    let out = check_answers(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr_of(&out).contains("not a text file"),
        "{}",
        stderr_of(&out)
    );
    let out = bin().arg("report").arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr_of(&out).contains("not a text file"),
        "{}",
        stderr_of(&out)
    );
}

// ---------------------------------------------------------------- item 8 (reading)

#[cfg(unix)]
#[test]
fn special_files_are_named_never_read() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe.json");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid C string and mode.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let looped = dir.path().join("loop.json");
    std::os::unix::fs::symlink(&looped, &looped).unwrap();
    let dangling = dir.path().join("gone.json");
    std::os::unix::fs::symlink(dir.path().join("nothing"), &dangling).unwrap();
    let folder = dir.path().join("folder.json");
    std::fs::create_dir(&folder).unwrap();

    let cases = [
        (fifo.as_path(), "named pipe"),
        (Path::new("/dev/zero"), "a device"),
        (looped.as_path(), "loop"),
        (dangling.as_path(), "dangling link"),
        (folder.as_path(), "a folder"),
    ];
    for (path, expected) in cases {
        // A pipe would hang and /dev/zero never ends: the timeout catches both.
        let out = bin()
            .arg("report")
            .arg(path)
            .timeout(std::time::Duration::from_secs(60))
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(2),
            "{}: {}",
            path.display(),
            stderr_of(&out)
        );
        assert!(
            stderr_of(&out).contains(expected),
            "{expected}: {}",
            stderr_of(&out)
        );
    }
    // summarize lists each of them rather than dropping them.
    let out = bin()
        .args(["summarize", "--format", "json"])
        .arg(dir.path())
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let listed: Vec<String> = summary["unreadable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["file"].as_str().unwrap().to_string())
        .collect();
    for name in ["pipe.json", "loop.json", "gone.json", "folder.json"] {
        assert!(
            listed.iter().any(|f| f.ends_with(name)),
            "{name}: {listed:?}"
        );
    }
}

// ---------------------------------------------------------------- item 9

fn example(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/answers")
        .join(format!("{name}.json"))
}

#[cfg(unix)]
#[test]
fn only_regular_files_are_replaced() {
    use std::os::unix::fs::FileTypeExt;
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid C string and mode.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let folder = dir.path().join("folder");
    std::fs::create_dir(&folder).unwrap();
    let mut targets = vec![(fifo.clone(), "named pipe"), (folder.clone(), "a folder")];
    // As root /dev/null could be replaced; any user can at least be refused.
    targets.push(("/dev/null".into(), "a device"));
    for (target, kind) in &targets {
        let out = check_answers(&example("urgent"))
            .arg("--output")
            .arg(target)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
        let err = stderr_of(&out);
        assert!(
            err.contains(kind) && err.contains("not a regular file"),
            "{err}"
        );
    }
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
    assert!(folder.is_dir());
    assert!(
        std::fs::metadata("/dev/null")
            .unwrap()
            .file_type()
            .is_char_device()
    );
}

#[test]
fn output_dash_writes_to_standard_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = check_answers(&example("urgent"))
        .args(["--format", "json", "--output", "-"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // `--output` asks for the file copy, which is the clinician's.
    assert_eq!(report["view"], "clinician");
    assert!(!dir.path().join("-").exists());
}

#[test]
fn stale_temp_files_of_ours_are_removed_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    let make = |name: &str, old: bool| {
        let path = dir.path().join(name);
        let file = std::fs::File::create(&path).unwrap();
        if old {
            file.set_modified(hour_ago).unwrap();
        }
        path
    };
    let stale = make(".session-ready-Ab12Cd.tmp", true);
    let fresh = make(".session-ready-Xy34Zw.tmp", false);
    let foreign = make(".other-tool-Ab12Cd.tmp", true);
    let theirs = make("notes.tmp", true);
    check_answers(&example("urgent"))
        .arg("--output")
        .arg(dir.path().join("r.json"))
        .assert()
        .success();
    assert!(!stale.exists(), "a stale temp file of ours is removed");
    for kept in [&fresh, &foreign, &theirs] {
        assert!(kept.exists(), "{} must stay", kept.display());
    }
}

// ---------------------------------------------------------------- item 11

#[test]
fn a_closed_pipe_is_a_normal_end() {
    for args in [&["man"][..], &["completions", "bash"], &["keygen"]] {
        for _ in 0..20 {
            let mut child = StdCommand::new(assert_cmd::cargo::cargo_bin("session-ready"))
                .args(args)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            // Close the reading end before anything is written, like `head -c 0`.
            drop(child.stdout.take());
            let out = child.wait_with_output().unwrap();
            let err = stderr_of(&out);
            assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
            if args[0] != "keygen" {
                assert!(err.is_empty(), "{args:?}: {err}");
            }
        }
    }
}

/// An unreadable paused-check draft is named to the client, who is offered
/// to delete it (it may hold answers about risk); it is never renamed and kept.
#[cfg(unix)]
#[test]
fn an_unreadable_draft_is_explained_and_deleted_when_the_client_agrees() {
    use expectrl::{Eof, Expect, Session};
    let dir = tempfile::tempdir().unwrap();
    let draft = dir.path().join("draft.json");
    std::fs::write(
        &draft,
        "{\"schema\": \"session-ready/draft/v1\", \"state\": ",
    )
    .unwrap();
    let mut cmd = StdCommand::new(assert_cmd::cargo::cargo_bin("session-ready"));
    cmd.args([
        "check",
        "--plain",
        "--no-network",
        "--no-device",
        "--region",
        "GB",
    ])
    .arg("--draft")
    .arg(&draft)
    .current_dir(dir.path())
    .env("HOME", dir.path())
    .env("TERM", "xterm-256color")
    .env_remove("NO_COLOR")
    .env_remove("SESSION_READY_PLAIN");
    let mut session = Session::spawn(cmd).unwrap();
    session.set_expect_timeout(Some(std::time::Duration::from_secs(30)));
    session.expect("could not be read").unwrap();
    session.expect("What should happen to that file?").unwrap();
    session.expect("> ").unwrap();
    session.send("1\r").unwrap();
    session.expect("Deleted").unwrap();
    session.expect("> ").unwrap();
    session.send("q\r").unwrap();
    session.expect(Eof).unwrap();
    assert!(!draft.exists(), "the unreadable draft is deleted");
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
    assert!(
        left.iter()
            .all(|e| !e.file_name().to_string_lossy().contains("unreadable")),
        "nothing is set aside"
    );
}

// ---------------------------------------------------------------- item 8 (checking)

/// The urgent example saved as JSON, read back as a value to edit.
fn saved_urgent(dir: &Path) -> (std::path::PathBuf, serde_json::Value) {
    let saved = dir.join("urgent.json");
    check_answers(&example("urgent"))
        .args(["--format", "json", "--output"])
        .arg(&saved)
        .assert()
        .success();
    let value = serde_json::from_slice(&std::fs::read(&saved).unwrap()).unwrap();
    (saved, value)
}

/// What a hand edit would do to hide an urgent report.
fn hide_urgency(report: &mut serde_json::Value) {
    report["outcome"] = "video-suitable".into();
    report["urgent"] = false.into();
    report["headline"] = "Video sessions look like a good fit.".into();
    for criterion in report["criteria"].as_array_mut().unwrap() {
        criterion["status"] = "not-met".into();
    }
    report["adjustments"] = serde_json::json!([]);
    report["crisis_resources"] = serde_json::json!([]);
}

#[test]
fn an_edited_verdict_is_worked_out_again_and_said() {
    let dir = tempfile::tempdir().unwrap();
    let (saved, mut report) = saved_urgent(dir.path());
    hide_urgency(&mut report);
    std::fs::write(&saved, serde_json::to_vec(&report).unwrap()).unwrap();

    let out = bin()
        .args(["report", "--format", "json", "--view", "clinician"])
        .arg(&saved)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let shown: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(shown["urgent"], true);
    assert_eq!(shown["outcome"], "in-person-recommended");
    assert!(!shown["crisis_resources"].as_array().unwrap().is_empty());
    let err = stderr_of(&out);
    assert!(
        err.contains("changed after it was made, or made by another version"),
        "{err}"
    );

    // On screen the crisis numbers come first again.
    let out = bin()
        .args(["report", "--plain"])
        .arg(&saved)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let crisis = text
        .find("If you need support now")
        .expect("crisis numbers shown");
    let title = text
        .find("Your readiness report")
        .expect("the report's title");
    assert!(crisis < title, "crisis numbers come first: {text}");

    let out = bin()
        .args(["report", "--strict"])
        .arg(&saved)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(stderr_of(&out).contains("--strict"), "{}", stderr_of(&out));

    // summarize sorts it as urgent and says why the row differs from the file.
    let out = bin()
        .args(["summarize", "--format", "json"])
        .arg(&saved)
        .output()
        .unwrap();
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let row = &summary["reports"][0];
    assert_eq!(row["urgent"], true);
    assert!(row["changed"].as_str().unwrap().contains("urgent"), "{row}");
}

#[test]
fn answers_a_report_cannot_hold_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let (saved, mut report) = saved_urgent(dir.path());
    report["answers"]["risk.asq2"] = "definitely".into();
    report["answers"]["made.up"] = "yes".into();
    std::fs::write(&saved, serde_json::to_vec(&report).unwrap()).unwrap();
    let out = bin().arg("report").arg(&saved).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_of(&out);
    assert!(
        err.contains("\"definitely\"") && err.contains("\"made.up\""),
        "{err}"
    );
}

// ---------------------------------------------------------------- item 10

fn example_identity() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/clinic-example-identity.txt")
}

#[test]
fn the_example_clinic_walk_through_works_and_names_end_in_age() {
    let dir = tempfile::tempdir().unwrap();
    let clinic = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/clinic.toml");
    let asked = dir.path().join("report.json");
    let out = check_answers(&example("urgent"))
        .args(["--format", "json", "--clinic"])
        .arg(&clinic)
        .arg("--output")
        .arg(&asked)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let written = dir.path().join("report.json.age");
    assert!(!asked.exists() && written.exists());
    assert!(
        stderr_of(&out).contains("report.json.age"),
        "{}",
        stderr_of(&out)
    );

    // The example identity opens it; the README walk-through works as written.
    let key = dir.path().join("key.txt");
    std::fs::copy(example_identity(), &key).unwrap();
    set_mode(&key, 0o600);
    let out = bin()
        .args([
            "report",
            "--format",
            "json",
            "--view",
            "clinician",
            "--identity",
        ])
        .arg(&key)
        .arg(&written)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(stderr_of(&out).is_empty(), "{}", stderr_of(&out));
    let shown: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(shown["urgent"], true);
}

#[test]
fn a_saved_report_is_encrypted_again_for_a_clinic() {
    let dir = tempfile::tempdir().unwrap();
    let (saved, _) = saved_urgent(dir.path());
    let public = std::fs::read_to_string(example_identity())
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("# public key: ").map(str::to_string))
        .unwrap();
    let out = bin()
        .args([
            "report",
            "--format",
            "json",
            "--encrypt-to",
            &public,
            "--output",
        ])
        .arg(dir.path().join("for-clinic.json"))
        .arg(&saved)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let sealed = dir.path().join("for-clinic.json.age");
    let bytes = std::fs::read(&sealed).unwrap();
    assert!(bytes.starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----"));
    let out = bin()
        .args([
            "report",
            "--format",
            "json",
            "--view",
            "clinician",
            "--identity",
        ])
        .arg(example_identity())
        .arg(&sealed)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let shown: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(shown["view"], "clinician");
    assert_eq!(
        shown["answers"]["risk.asq5"], "yes",
        "the risk answers travelled"
    );
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) {}

#[cfg(unix)]
#[test]
fn a_key_file_others_can_read_is_pointed_out() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("clinic-key.txt");
    bin()
        .arg("keygen")
        .arg("--output")
        .arg(&key)
        .assert()
        .success();
    let public = std::fs::read_to_string(&key)
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("# public key: ").map(str::to_string))
        .unwrap();
    let sealed = dir.path().join("r.json.age");
    check_answers(&example("urgent"))
        .args(["--format", "json", "--encrypt-to", &public, "--output"])
        .arg(&sealed)
        .assert()
        .success();
    let open = |key: &Path| {
        bin()
            .args(["report", "--format", "json", "--identity"])
            .arg(key)
            .arg(&sealed)
            .output()
            .unwrap()
    };
    let out = open(&key);
    assert!(out.status.success());
    assert!(stderr_of(&out).is_empty(), "{}", stderr_of(&out));
    set_mode(&key, 0o644);
    let out = open(&key);
    assert!(out.status.success());
    let err = stderr_of(&out);
    assert!(
        err.contains("can be read by other accounts") && err.contains("chmod 600"),
        "{err}"
    );
}
