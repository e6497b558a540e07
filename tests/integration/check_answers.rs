//! `check --answers FILE` (intake coordinators): every outcome from the example
//! answers, the JSON contract, private files, and input errors with exit code 2.
use assert_cmd::Command;
use serde_json::Value;

fn cmd() -> Command {
    let mut c = Command::cargo_bin("session-ready").unwrap();
    c.env_remove("NO_COLOR")
        .env_remove("SESSION_READY_PLAIN")
        .env("LANG", "C.UTF-8");
    c
}

fn example(name: &str) -> String {
    format!(
        "{}/examples/answers/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn report_json(name: &str, extra: &[&str]) -> Value {
    let out = cmd()
        .args([
            "check",
            "--no-network",
            "--no-device",
            "--format",
            "json",
            "--answers",
        ])
        .arg(example(name))
        .args(extra)
        .assert()
        .success();
    serde_json::from_slice(&out.get_output().stdout).unwrap()
}

fn status(report: &Value, id: &str) -> String {
    report["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap()["status"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn every_example_gives_its_outcome() {
    let r = report_json("in-person-recommended", &[]);
    assert_eq!(r["outcome"], "in-person-recommended");
    assert_eq!(status(&r, "privacy"), "met");
    assert_eq!(status(&r, "isolation"), "met");
    assert_eq!(status(&r, "home-safety"), "met");
    assert_eq!(r["urgent"], false);

    let r = report_json("urgent", &[]);
    assert_eq!(r["outcome"], "in-person-recommended");
    assert_eq!(r["urgent"], true);
    assert_eq!(status(&r, "risk"), "met");
    assert_eq!(r["region"], "AU");
    assert!(
        r["crisis_resources"][0]["contact"]
            .as_str()
            .unwrap()
            .contains("000")
    );

    let r = report_json("video-with-adjustments", &[]);
    assert_eq!(r["outcome"], "video-with-adjustments");
    assert_eq!(
        status(&r, "risk"),
        "unknown",
        "a skipped ASQ item never clears risk"
    );
    let ids: Vec<&str> = r["adjustments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    for id in ["headphones", "quiet-time", "private-place", "safety-signal"] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }

    let r = report_json("all-skipped", &[]);
    assert_eq!(r["outcome"], "video-with-adjustments");
    for c in r["criteria"].as_array().unwrap() {
        assert_eq!(c["status"], "unknown");
    }
    assert_eq!(r["answers"]["privacy.space"], "skipped");
    assert_eq!(r["region"], "INTL");
}

#[test]
fn report_json_has_the_contract_fields() {
    let r = report_json("video-suitable", &[]);
    assert!(
        r["schema"]
            .as_str()
            .unwrap()
            .starts_with("session-ready/report/v")
    );
    for field in [
        "outcome",
        "urgent",
        "criteria",
        "network",
        "crisis_resources",
        "answers",
    ] {
        assert!(r.get(field).is_some(), "{field} missing");
    }
    assert!(r["network"].is_null());
    assert!(
        r["network_reason"]
            .as_str()
            .unwrap()
            .contains("--no-network")
    );
    let ids: Vec<&str> = r["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["privacy", "isolation", "internet", "risk", "home-safety"]
    );
    for c in r["criteria"].as_array().unwrap() {
        assert!(c["evidence"].is_array());
    }
    assert_eq!(status(&r, "internet"), "unknown");
    assert_eq!(r["session_plan"]["pause_signal"], "raise a hand");
}

#[test]
fn the_screen_shows_the_client_copy_and_a_file_gets_the_clinician_copy() {
    let screen = report_json("urgent", &[]);
    assert_eq!(screen["view"], "client");
    assert!(screen["answers"].get("risk.asq1").is_none());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("client.json");
    cmd()
        .args([
            "check",
            "--no-network",
            "--no-device",
            "--format",
            "json",
            "--answers",
        ])
        .arg(example("urgent"))
        .arg("--output")
        .arg(&path)
        .assert()
        .success();
    let saved: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(saved["view"], "clinician");
    assert_eq!(saved["answers"]["risk.asq5"], "yes");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn the_terminal_report_puts_crisis_resources_first_when_urgent() {
    let out = cmd()
        .args([
            "--plain",
            "check",
            "--no-network",
            "--no-device",
            "--answers",
        ])
        .arg(example("urgent"))
        .assert()
        .success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(text.starts_with("If you need support now"), "{text}");
    assert!(text.contains("Lifeline"));
}

#[test]
fn region_flag_overrides_the_file() {
    let r = report_json("urgent", &["--region", "nz"]);
    assert_eq!(r["region"], "NZ");
    assert!(r["crisis_resources"].to_string().contains("1737"));
    cmd()
        .args([
            "check",
            "--no-network",
            "--no-device",
            "--region",
            "Britain",
            "--answers",
        ])
        .arg(example("urgent"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "US, CA, GB, IE, AU, NZ, IN, DE, FR",
        ));
}

#[test]
fn unknown_region_codes_are_refused_naming_the_valid_ones() {
    for code in ["XX", "ZZ", "es"] {
        let out = cmd()
            .args(["check", "--no-network", "--no-device", "--region", code])
            .arg("--answers")
            .arg(example("urgent"))
            .assert()
            .code(2);
        let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
        assert!(err.contains(code) && err.contains("US, CA, GB"), "{err}");
        assert!(err.contains("INTL"), "{err}");
        assert!(out.get_output().stdout.is_empty());
    }
    let err = answers_error(r#"{"answers": {}, "region": "XX"}"#);
    assert!(
        err.contains("\"region\"") && err.contains("\"XX\"") && err.contains("US, CA, GB"),
        "{err}"
    );
    // INTL asks for the international numbers on purpose.
    let r = report_json("urgent", &["--region", "intl"]);
    assert_eq!(r["region"], "INTL");
    assert!(r["crisis_resources"].to_string().contains("112"));
}

fn answers_error(content: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("client-17.json");
    std::fs::write(&path, content).unwrap();
    let out = cmd()
        .args(["check", "--no-network", "--no-device", "--answers"])
        .arg(&path)
        .assert()
        .code(2);
    let err = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(err.contains("client-17.json"), "the file is named: {err}");
    assert!(out.get_output().stdout.is_empty(), "no report on bad input");
    err
}

#[test]
fn malformed_answers_files_are_explained_with_exit_code_2() {
    let err = answers_error("{\"answers\": {\"privacy.space\": \"private\",}}");
    assert!(
        err.contains("not valid JSON") && err.contains("line 1"),
        "{err}"
    );
    let err = answers_error(r#"{"answers": {"privacy.spcae": "private"}}"#);
    assert!(
        err.contains("\"privacy.spcae\"") && err.contains("Did you mean \"privacy.space\"?"),
        "{err}"
    );
    let err = answers_error(r#"{"answers": {"home.monitored": "sometimes"}}"#);
    assert!(
        err.contains("home.monitored") && err.contains("no, yes, unsure, skipped"),
        "{err}"
    );
    let err = answers_error("");
    assert!(err.contains("not valid JSON"), "{err}");
    for word in ["panic", "Error:", "RUST_BACKTRACE"] {
        assert!(!err.contains(word), "{word} in {err}");
    }
}

#[test]
fn a_missing_answers_file_is_an_input_error() {
    cmd()
        .args([
            "check",
            "--no-network",
            "--answers",
            "/nonexistent/answers.json",
        ])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("/nonexistent/answers.json"));
}

#[test]
fn without_a_terminal_the_check_asks_for_an_answers_file() {
    cmd()
        .args(["check", "--no-network"])
        .write_stdin("")
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--answers FILE"));
}

#[test]
fn list_questions_prints_every_contract_id_with_its_options() {
    let out = cmd()
        .args(["check", "--list-questions", "--format", "json"])
        .assert()
        .success();
    let doc: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let questions = doc["questions"].as_array().unwrap();
    let find = |id: &str| questions.iter().find(|q| q["id"] == id).unwrap();
    for q in questions {
        for field in ["id", "section", "text", "why", "options"] {
            assert!(q.get(field).is_some(), "{field} missing in {q}");
        }
    }
    assert_eq!(
        find("privacy.household")["options"],
        serde_json::json!([
            "alone",
            "shared_with_private_room",
            "shared_no_private_room"
        ])
    );
    assert_eq!(
        find("risk.asq5")["ask_if"]["any"][0]["question"],
        "risk.asq1"
    );
    assert!(
        find("risk.asq1")["source"]
            .as_str()
            .unwrap()
            .contains("NIMH")
    );
    let text = cmd()
        .args(["--plain", "check", "--list-questions"])
        .assert()
        .success();
    let text = String::from_utf8(text.get_output().stdout.clone()).unwrap();
    assert!(text.contains("isolation.in_person_important"));
}

#[test]
fn region_comes_from_the_flag_then_the_answers_file_then_the_clinic_file() {
    let dir = tempfile::tempdir().unwrap();
    let clinic = dir.path().join("clinic.toml");
    std::fs::write(&clinic, "region = \"nz\"\n").unwrap();
    let clinic = clinic.to_str().unwrap();
    // urgent.json says AU; all-skipped.json names no region.
    let file_wins = report_json("urgent", &["--clinic", clinic]);
    assert_eq!(file_wins["region"], "AU");
    let clinic_fills_in = report_json("all-skipped", &["--clinic", clinic]);
    assert_eq!(clinic_fills_in["region"], "NZ");
    let flag_wins = report_json("urgent", &["--clinic", clinic, "--region", "ca"]);
    assert_eq!(flag_wins["region"], "CA");
}

#[test]
fn output_onto_an_existing_file_needs_force_and_writes_nothing_without_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("client.json");
    std::fs::write(&path, "an earlier report").unwrap();
    let run = |extra: &[&str]| {
        cmd()
            .args(["check", "--no-network", "--no-device", "--format", "json"])
            .arg("--answers")
            .arg(example("urgent"))
            .arg("--output")
            .arg(&path)
            .args(extra)
            .assert()
    };
    let out = run(&[]).code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        err.contains("already exists") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "an earlier report");
    run(&["--force"]).success();
    let saved: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(saved["risk_screen"], "positive-acute");
    // `report --output` follows the same rule.
    let again = cmd()
        .arg("report")
        .arg(&path)
        .args(["--format", "text", "--output"])
        .arg(&path)
        .assert()
        .code(2);
    assert!(String::from_utf8_lossy(&again.get_output().stderr).contains("--force"));
}
