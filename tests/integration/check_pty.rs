//! The real interactive flow, driven through a pseudo-terminal as a client
//! would use it: typed numbers and arrow keys, skip, why, go back, pause and
//! resume, quick exit, Ctrl-C, crisis resources on a yes, preview and save.
#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::pty_support::*;
use crate::wire_support::{Wire, find, lowercase};
use expectrl::Expect;

#[test]
fn a_client_answers_skips_goes_back_and_saves_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::start(dir.path(), &[]);
    c.begin(false);
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
        c.answer("Support is there if you need it. Samaritans", "2");
    }
    c.answer("urgent help for your mental health", "2");
    c.answer("Would you like to make a plan now?", "1");
    c.answer("Where would you like to sit", "the green armchair");
    c.answer("within arm's reach", "");
    c.answer("need a pause", "raise a hand");
    c.answer("contact after a session", "");
    c.answer("If the call drops", "ring my mobile");
    c.answer("What would you like to do?", "2"); // save the full report
    c.answer("Where should it be saved?", "mine.json");
    let (out, code) = c.finish();
    assert_eq!(code, 0, "{out}");
    let screen = last_screen(&out);
    assert!(
        screen.contains("Your report is saved in ") && screen.contains("mine.json"),
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

/// A check (region GB) paused at the second question with the answers
/// kept: what it printed, and the draft's path.
fn pause_at_the_second_question(dir: &Path) -> (String, PathBuf) {
    let mut c = Client::start(dir, &[]);
    c.begin(true);
    c.answer("How will this device be connected", "3");
    c.answer("is there a phone your therapist could call", "p");
    let draft = c.draft();
    let (out, code) = c.finish();
    assert_eq!(code, 0);
    (out, draft)
}

#[test]
fn pause_and_resume_exactly_where_the_client_left() {
    let dir = tempfile::tempdir().unwrap();
    let (out, draft_path) = pause_at_the_second_question(dir.path());
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

/// A paused check kept GB; the next run is given `--region IE`: the region
/// given now wins, as in the page (`RegionSources::choose`), both in the
/// "not now" farewell and when picking up.
#[test]
fn a_region_given_now_wins_over_the_paused_checks_region() {
    let dir = tempfile::tempdir().unwrap();
    let (_, draft_path) = pause_at_the_second_question(dir.path());
    assert_eq!(json(&draft_path)["region"], "GB");

    let ireland =
        |dir: &Path| Client::launch_sized(dir, (100, 40), Some("IE"), &["--no-network"], &[]);
    let mut c = ireland(dir.path());
    c.wait_for("Welcome back");
    c.answer("Is now a safe and private time to carry on?", ""); // No, not now
    let (out, code) = c.finish();
    assert_eq!(code, 0);
    let screen = last_screen(&out);
    assert!(screen.contains("call 112 or 999"), "{screen}");

    let mut c = ireland(dir.path());
    c.answer("Welcome back", "1");
    c.answer("is there a phone your therapist could call", "s");
    c.wait_for("Is there a place at home");
    c.send(ESC);
    let (_, code) = c.finish();
    assert_eq!(code, 0);
    assert_eq!(json(&draft_path)["region"], "IE", "kept for next time");
}

#[test]
fn quick_exit_clears_the_screen_and_keeps_nothing_without_consent() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::start(dir.path(), &[]);
    c.walk_to_the_backup_phone_question(false, "2");
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
    c.walk_to_the_backup_phone_question(true, "1");
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
    c.begin(false);
    c.answer_each(&SETUP_AND_PRIVACY, "1");
    c.answer("Is now still a safe and private time", "s");
    c.answer_each(&ISOLATION, "s");
    c.answer("Is now still a safe and private time", "1");
    c.answer("have you wished you were dead", "1");
    // The numbers first, above the support screen's own words.
    c.wait_for("If you are in immediate danger, ");
    c.wait_for("call 999");
    c.wait_for("call 116 123");
    c.answer("Support is available now", "2"); // finish now and see my report
    c.answer("What would you like to do?", "1"); // do not save
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
    c.answer("Is now a safe and private time", "2");
    c.wait_for("That is completely okay");
    // One calm line with the emergency number for the client's region.
    c.wait_for("If you are ever in immediate danger, call 999");
    c.answer("What would you like to do?", "1");
    let (out, code) = c.finish();
    assert_eq!(code, 0);
    let screen = last_screen(&out);
    assert!(screen.contains("Whenever you are ready"), "{screen}");
    assert!(screen.contains("call 999"), "{screen}");
}

#[test]
fn plain_mode_reads_typed_lines_without_redrawing() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::start(dir.path(), &["--plain"]);
    c.walk_to_the_backup_phone_question(false, "2");
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
        c.walk_to_the_backup_phone_question(true, "2");
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
    c.begin(false);
    c.skip_to_the_end();
    c.answer("What would you like to do?", "3");
    c.answer("Where should it be saved?", "/nonexistent-folder/r.json");
    c.wait_for("the folder does not exist");
    // Back at the choices at once, with the report still there.
    c.wait_for("nothing was lost");
    c.answer("What would you like to do?", "3");
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
    c.begin(false);
    c.answer("How will this device be connected", "2");
    c.answer("is there a phone your therapist could call", "1");
    c.answer("without being overheard", "1");
    c.answer("closest to your home", "1");
    c.answer("headphones or earbuds", "1");
    c.answer("Is now still a safe and private time", "s");
    c.answer_each(&ISOLATION, "2");
    c.answer("Is now still a safe and private time", "1");
    for _ in 0..4 {
        c.answer("Support is there if you need it. Samaritans", "2");
    }
    c.answer("urgent help for your mental health", "2");
    c.answer("Would you like to make a plan now?", "1");
    c.answer("Where would you like to sit", typed[0]);
    c.answer("within arm's reach", typed[1]);
    c.answer("need a pause", typed[2]);
    c.answer("contact after a session", typed[3]);
    c.answer("If the call drops", typed[4]);
    c.answer("What would you like to do?", "2");
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
    let public = keygen_public(&key);
    std::fs::write(
        dir.path().join("clinic.toml"),
        format!(
            "name = \"Riverside\"\nrecipient = \"{public}\"\ndropped_call_phone = \"020 7946 0000\"\n"
        ),
    )
    .unwrap();
    let mut c = Client::start(dir.path(), &["--clinic", "clinic.toml"]);
    c.begin(false);
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
    c.answer("What would you like to do?", "2");
    // The suggested name says it is an encrypted (age) file; Enter takes it.
    c.answer(".json.age", "");
    let (out, code) = c.finish();
    assert_eq!(code, 0, "{out}");
    assert!(last_screen(&out).contains("locked so"), "{out}");
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

#[test]
fn enter_alone_never_answers_for_the_client() {
    for size in [(80, 24), (60, 24)] {
        for plain in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            let extra: &[&str] = if plain { &["--plain"] } else { &[] };
            let c = Client::start_sized(dir.path(), size, extra);
            if plain {
                // Line mode: Enter on an empty line records nothing and asks again.
                let mut c = c;
                c.wait_for("> ");
                for _ in 0..5 {
                    c.send("\r");
                    c.wait_for("Please type one of");
                    c.wait_for("> ");
                }
                c.send("q\r");
                let (out, code) = c.finish();
                assert_eq!(code, 0, "{out}");
                assert!(!out.contains("Support is available now"), "{out}");
                let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
                assert!(left.is_empty(), "{left:?}");
                continue;
            }
            let (out, code) = press_only_enter(c);
            assert_eq!(code, 0, "{size:?}: {out}");
            assert!(
                !out.contains("Support is available now"),
                "{size:?}: the support screen opened on Enter alone:\n{out}"
            );
            assert!(last_screen(&out).contains("Nothing was saved"), "{out}");
            let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
            assert!(left.is_empty(), "{size:?}: Enter alone saved {left:?}");
        }
    }
}

#[test]
fn enter_alone_inside_the_risk_part_records_only_skips() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::start_sized(dir.path(), (80, 24), &["--format", "json"]);
    c.begin(false);
    c.answer_each(&SETUP_AND_PRIVACY[..4], "");
    c.answer("somewhere else you could go", ""); // asked because the space was skipped
    c.answer(SETUP_AND_PRIVACY[4], "");
    c.answer("Is now still a safe and private time", "1");
    c.answer("Does your home feel like a safe place", "");
    c.answer("check your phone, computer or messages", "");
    // Needles from the start of each question, which is never wrapped at 80 columns.
    c.answer_each(&ISOLATION[..4], "");
    c.answer("Would meeting your therapist in person", "");
    c.answer("Is now still a safe and private time", "1");
    for question in [
        "have you wished you were dead",
        "you or your family would be better off",
        "thoughts about killing yourself",
        "tried to kill yourself",
        "In the past month, have you needed urgent help",
    ] {
        c.answer(question, "");
    }
    c.answer("Would you like to make a plan now?", "");
    c.answer("What would you like to do?", "2");
    c.answer("Where should it be saved?", "r.json");
    let (out, code) = c.finish();
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("Support is available now"), "{out}");
    let report = json(&dir.path().join("r.json"));
    assert_eq!(report["view"], "clinician");
    assert_eq!(report["answers"]["risk.asq1"], "skipped");
    for (id, answer) in report["answers"].as_object().unwrap() {
        if id == "start.safe_now" {
            continue; // typed "1"
        }
        assert_eq!(answer, "skipped", "{id} was answered by Enter alone");
    }
    assert_eq!(report["risk_screen"], "incomplete");
    assert_eq!(report["urgent"], false);
}

#[test]
fn an_acute_walk_asks_the_country_and_ends_with_its_emergency_number_at_80x24() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::start_unknown_region(dir.path(), (80, 24), &[]);
    c.answer("Is now a safe and private time", "1");
    // Type-ahead: the first letters find the country.
    c.wait_for("Which country are you in?");
    c.send("united s");
    c.wait_for("United States");
    c.send("\r");
    c.answer("Should your answers be kept", "1");
    to_the_risk_questions(&mut c, None);
    c.answer("have you wished you were dead", "1");
    c.wait_for("call or text 988");
    c.answer("What would you like to do?", "1"); // continue
    c.answer("you or your family would be better off", "2");
    c.answer("thoughts about killing yourself", "2");
    c.answer("tried to kill yourself", "2");
    c.answer("thoughts of killing yourself right now", "1");
    c.wait_for("talk with someone today");
    c.answer("What would you like to do?", "2"); // finish now
    // The numbers are right above the choice, however long the report.
    c.wait_for("If you are in immediate danger, ");
    c.wait_for("call 911");
    c.wait_for("To talk to someone now:");
    c.answer("What would you like to do?", "1");
    let (out, code) = c.finish();
    assert_eq!(code, 0, "{out}");
    let screen = final_rows(&out, 24);
    assert!(screen.contains("call 911"), "{screen}");
    assert!(screen.contains("988"), "{screen}");
    assert!(!screen.contains("116 123"), "{screen}");
}

#[test]
fn an_acuity_unknown_walk_keeps_the_numbers_in_sight_at_60_columns() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::start_sized(dir.path(), (60, 24), &["--format", "json"]);
    c.begin(false);
    to_the_risk_questions(&mut c, None);
    c.answer("have you wished you were dead", "1");
    c.wait_for("Support is available now");
    c.answer("What would you like to do?", "2"); // finish now: item 5 never asked
    c.wait_for("If you are in immediate danger, ");
    c.wait_for("call 999");
    c.answer("What would you like to do?", "2"); // save the full report
    c.wait_for("If you are in immediate danger, ");
    c.wait_for("call 999");
    // Said as text, so the name is never split at the edge of the screen.
    c.wait_for(&format!(
        "Suggested name: readiness-report-{}.json",
        chrono_date()
    ));
    c.answer("Where should it be saved?", "r.json");
    let (out, code) = c.finish();
    assert_eq!(code, 0, "{out}");
    let report = json(&dir.path().join("r.json"));
    assert_eq!(report["risk_screen"], "positive-acuity-unknown");
    assert_eq!(report["urgent"], false);
    assert_eq!(report["questionnaire_status"], "stopped");
    let screen = final_rows(&out, 24);
    assert!(screen.contains("call 999"), "{screen}");
    assert!(screen.contains("Samaritans"), "{screen}");
}

#[test]
fn a_watched_home_keeps_nothing_saves_nothing_by_default_and_clears_the_last_screen() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::start_sized(dir.path(), (80, 24), &[]);
    c.begin(true); // yes, keep them
    c.answer_each(&SETUP_AND_PRIVACY, "1");
    let draft = c.draft();
    assert!(draft.exists(), "kept, as asked");
    c.answer("Is now still a safe and private time", "1");
    c.answer("Does your home feel like a safe place", "1");
    c.answer("check your phone, computer or messages", "1"); // yes
    c.wait_for("Keeping this private");
    c.wait_for("deleted");
    assert!(!draft.exists(), "no draft once the home may be watched");
    c.answer("Ready to go on?", "");
    c.answer_each(&ISOLATION[..4], "s");
    c.answer("Would meeting your therapist in person", "s");
    c.answer("Is now still a safe and private time", "s");
    c.answer("Would you like to make a plan now?", "s");
    // The report is not shown unless asked; Enter saves nothing.
    c.wait_for("Your report is ready");
    c.answer("What would you like to do?", "");
    c.wait_for("Nothing was saved");
    c.wait_for("If you need support now");
    c.answer("this screen will be cleared", "");
    let (out, code) = c.finish();
    assert_eq!(code, 0, "{out}");
    let screen = strip_ansi(last_screen(&out));
    assert!(
        !screen.chars().any(char::is_alphanumeric),
        "the last screen is cleared: {screen:?}"
    );
    assert!(!out.contains("home may not be a safe place"), "{out}");
    assert!(!draft.exists());
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_watched_home_with_a_clinic_key_saves_a_locked_copy_under_a_neutral_name() {
    let dir = tempfile::tempdir().unwrap();
    let public = keygen_public(&dir.path().join("key.txt"));
    let mut c = Client::start_sized(dir.path(), (80, 24), &["--encrypt-to", &public]);
    c.begin(false);
    c.answer_each(&SETUP_AND_PRIVACY, "1");
    c.answer("Is now still a safe and private time", "1");
    c.answer("Does your home feel like a safe place", "3"); // no
    c.wait_for("is suggested");
    c.answer("Ready to go on?", "");
    c.answer("check your phone, computer or messages", "s");
    c.answer_each(&ISOLATION[..4], "s");
    c.answer("Would meeting your therapist in person", "s");
    c.answer("Is now still a safe and private time", "s");
    c.answer("Would you like to make a plan now?", "s");
    c.answer("What would you like to do?", ""); // the locked copy holds the cursor
    c.answer("Where should it be saved?", "");
    c.answer("this screen will be cleared", "");
    let (out, code) = c.finish();
    assert_eq!(code, 0, "{out}");
    let saved: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".age"))
        .collect();
    assert_eq!(saved.len(), 1, "{saved:?}");
    assert!(saved[0].starts_with("notes-"), "{saved:?}");
    let armored = std::fs::read_to_string(dir.path().join(&saved[0])).unwrap();
    assert!(armored.starts_with("-----BEGIN AGE ENCRYPTED FILE-----"));
}

#[test]
fn the_opening_fits_80x24_with_the_details_one_choice_away() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::launch_sized(
        dir.path(),
        (80, 24),
        Some("US"),
        &["--server", "http://127.0.0.1:9", "--max-seconds", "2"],
        &[],
    );
    // The menu's help line ends the first screen.
    let found = c.session.expect("then Enter").unwrap();
    let opening = strip_ansi(&String::from_utf8_lossy(found.before()));
    let opening = last_screen(&opening).trim().to_string();
    assert!(opening.lines().count() <= 19, "{opening}");
    let opening = opening.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        opening.contains("Every question can be skipped"),
        "{opening}"
    );
    assert!(opening.contains("Esc leaves at once"), "{opening}");
    assert!(
        !opening.contains("127.0.0.1"),
        "no jargon up front: {opening}"
    );
    // The first question is whether now is a safe time.
    assert!(
        opening.contains("Is now a safe and private time"),
        "{opening}"
    );
    c.send("m");
    c.send("\r");
    c.wait_for("127.0.0.1:9");
    c.answer("Is now a safe and private time", "2");
    c.wait_for("If you are ever in immediate danger, call 911");
    c.answer("What would you like to do?", "1");
    let (_, code) = c.finish();
    assert_eq!(code, 0);
}

#[test]
fn resuming_offers_not_now_and_saving_never_replaces_a_report() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::start(dir.path(), &[]);
    c.begin(true);
    c.answer("How will this device be connected", "p");
    c.finish();
    let mut c = Client::start(dir.path(), &[]);
    c.wait_for("Welcome back");
    c.answer("Is now a safe and private time to carry on?", ""); // No, not now
    let (out, code) = c.finish();
    assert_eq!(code, 0);
    assert!(last_screen(&out).contains("call 999"), "{out}");
    assert!(c_draft_exists(dir.path()), "the kept answers stay");

    // An earlier report of the same day is never replaced.
    let date = chrono_date();
    let earlier = dir.path().join(format!("readiness-report-{date}.json"));
    std::fs::write(&earlier, "earlier").unwrap();
    let mut c = Client::start(dir.path(), &[]);
    c.answer("Is now a safe and private time to carry on?", "2"); // start again
    c.answer("Is now a safe and private time", "s");
    c.answer("Should your answers be kept", "1");
    c.skip_to_the_end();
    c.answer("What would you like to do?", "3");
    c.answer("Where should it be saved?", "");
    let (out, code) = c.finish();
    assert_eq!(code, 0, "{out}");
    assert_eq!(std::fs::read_to_string(&earlier).unwrap(), "earlier");
    assert!(
        dir.path()
            .join(format!("readiness-report-{date}-2.json"))
            .exists()
    );
}

fn c_draft_exists(dir: &Path) -> bool {
    dir.join("draft.json").exists()
}

/// Today's date as the suggested file name has it (local time).
fn chrono_date() -> String {
    let out = Command::new("date").arg("+%Y-%m-%d").output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// Issue 24, item 7: on a terminal, `report FILE` of a clinician copy is
/// paged from its first line (the urgent line), as the full copy is in
/// `check`, so nothing scrolls it away. The pager here is `tee`, which keeps
/// what it was given.
#[test]
fn report_on_a_terminal_is_paged_from_the_urgent_line() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("urgent.json");
    let saved = Command::new(env!("CARGO_BIN_EXE_session-ready"))
        .args([
            "check",
            "--no-network",
            "--no-device",
            "--format",
            "json",
            "--answers",
        ])
        .arg(crate::report_support::answers_path("urgent"))
        .arg("--output")
        .arg(&report)
        .status()
        .unwrap();
    assert!(saved.success());
    let paged = dir.path().join("paged.txt");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_session-ready"));
    cmd.arg("report")
        .arg(&report)
        .env("PAGER", format!("tee {}", paged.display()))
        .env("TERM", "xterm-256color")
        .env_remove("NO_COLOR");
    let mut session = expectrl::Session::spawn(cmd).unwrap();
    session.set_expect_timeout(Some(Duration::from_secs(20)));
    session.expect(expectrl::Eof).unwrap();
    let text =
        strip_ansi(&std::fs::read_to_string(&paged).expect("the report went through the pager"));
    assert!(text.starts_with("Urgent: "), "{text}");
    let words = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(words.contains("region for support numbers: AU"), "{text}");
}
