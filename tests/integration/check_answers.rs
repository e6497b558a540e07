//! `check --answers FILE` (intake coordinators): every outcome from the example
//! answers, the JSON contract, private files, and input errors with exit code 2.
use std::path::Path;

use crate::report_support::{answers_path, assert_calm, check_answers, cmd};
use serde_json::Value;

/// The clinician copy (what is saved) unless `extra` names a view: the
/// client copy on screen leaves out what these tests look at.
fn report_json(name: &str, extra: &[&str]) -> Value {
    let view: &[&str] = if extra.contains(&"--view") {
        &[]
    } else {
        &["--view", "clinician"]
    };
    let out = check_answers(&answers_path(name))
        .args(["--format", "json"])
        .args(view)
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
    let out = check_answers(&answers_path("urgent"))
        .args(["--format", "json"])
        .assert()
        .success();
    let screen: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(screen["view"], "client");
    assert!(screen["answers"].get("risk.asq1").is_none());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("client.json");
    check_answers(&answers_path("urgent"))
        .args(["--format", "json", "--output"])
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
    let out = check_answers(&answers_path("urgent"))
        .arg("--plain")
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
    check_answers(&answers_path("urgent"))
        .args(["--region", "Britain"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "US, CA, GB, IE, AU, NZ, IN, DE, FR",
        ));
}

#[test]
fn unknown_region_codes_are_refused_naming_the_valid_ones() {
    for code in ["XX", "ZZ", "es"] {
        let out = check_answers(&answers_path("urgent"))
            .args(["--region", code])
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
    let out = check_answers(&path).assert().code(2);
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
        err.contains("home.monitored") && err.contains("yes, no, unsure, skipped"),
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
    check_answers(std::path::Path::new("/nonexistent/answers.json"))
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

/// The clinic's reference for the client, from `--client-ref` or the answers
/// file (the flag wins), is in every format: JSON, terminal, Markdown, text,
/// FHIR (subject and narrative), the PDF's page header, and summarize's CSV.
#[test]
fn the_client_reference_is_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let mut answers: Value =
        serde_json::from_str(&std::fs::read_to_string(answers_path("urgent")).unwrap()).unwrap();
    answers["client_ref"] = "RC-1043 (file)".into();
    let path = dir.path().join("answers.json");
    std::fs::write(&path, answers.to_string()).unwrap();
    let run = |format: &str, extra: &[&str]| -> Vec<u8> {
        let out = check_answers(&path)
            .args(["--view", "clinician", "--format", format])
            .args(extra)
            .assert()
            .success();
        out.get_output().stdout.clone()
    };
    let json: Value = serde_json::from_slice(&run("json", &[])).unwrap();
    assert_eq!(json["client_ref"], "RC-1043 (file)");
    let json: Value =
        serde_json::from_slice(&run("json", &["--client-ref", "  RC-2001 "])).unwrap();
    assert_eq!(json["client_ref"], "RC-2001", "the flag wins, trimmed");
    for format in ["terminal", "markdown", "text"] {
        let text = String::from_utf8(run(format, &["--plain"])).unwrap();
        assert!(text.contains("Client: RC-1043 (file)"), "{format}: {text}");
    }
    let fhir: Value = serde_json::from_slice(&run("fhir", &[])).unwrap();
    assert_eq!(fhir["subject"]["identifier"]["value"], "RC-1043 (file)");
    assert!(
        fhir["text"]["div"]
            .as_str()
            .unwrap()
            .contains("Client: RC-1043 (file)")
    );

    // `report --client-ref` adds one to a saved report; summarize lists it.
    let saved = dir.path().join("reports");
    std::fs::create_dir(&saved).unwrap();
    std::fs::write(saved.join("a.json"), run("json", &[])).unwrap();
    let csv = cmd()
        .args(["summarize", "--format", "csv"])
        .arg(&saved)
        .assert()
        .success();
    let csv = String::from_utf8(csv.get_output().stdout.clone()).unwrap();
    assert!(
        csv.starts_with("file,client_ref,") && csv.contains(",RC-1043 (file),"),
        "{csv}"
    );
    let md = cmd()
        .args(["report", "--format", "markdown", "--client-ref", "RC-9"])
        .arg(saved.join("a.json"))
        .assert()
        .success();
    let md = String::from_utf8(md.get_output().stdout.clone()).unwrap();
    assert!(md.contains("Client: RC-9"), "{md}");
}

#[test]
fn a_client_reference_that_cannot_be_printed_is_refused_with_exit_code_2() {
    for bad in ["", "   ", "a\u{1b}[2Jb", "x\u{202e}y", &"9".repeat(41)] {
        let out = check_answers(&answers_path("video-suitable"))
            .args(["--client-ref", bad])
            .assert()
            .code(2);
        let err = String::from_utf8(out.get_output().stderr.clone()).unwrap();
        assert!(err.contains("--client-ref"), "{err}");
        assert!(out.get_output().stdout.is_empty());
    }
    let err = answers_error(r#"{"answers": {}, "client_ref": 1043}"#);
    assert!(err.contains("client_ref"), "{err}");
}

/// A saved connection test as `network --format json` writes it, with good
/// figures, finished `days_ago` days before now.
fn saved_network(dir: &std::path::Path, days_ago: i64) -> std::path::PathBuf {
    let measured_at = chrono::Utc::now() - chrono::Duration::days(days_ago);
    let network = serde_json::json!({
        "measured_at": measured_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "server": "https://speed.cloudflare.com",
        "stun_server": "stun.cloudflare.com:3478",
        "download": {"mbps": 48.2, "bytes": 30000000, "streams": 4, "reason": null, "stable": true},
        "upload": {"mbps": 12.5, "bytes": 8000000, "streams": 4, "reason": null, "stable": true},
        "latency": {"idle_ms": 21.0, "min_ms": 18.0, "p90_ms": 30.0, "jitter_ms": 3.0,
                    "loaded_ms": 40.0, "samples": 20, "reason": null},
        "udp": {"rtt_ms": 22.0, "jitter_ms": 2.0, "loss_pct": 0.0, "sent": 200, "received": 200,
                "p90_rtt_ms": 25.0},
        "udp_reason": null,
        "udp_status": "measured",
        "bytes_used": 38500000,
        "duration_s": 7.1,
        // A hand-edited rating is never believed: it is worked out again.
        "video": {"rating": "unusable", "mos": null, "reasons": ["edited"], "conclusive": false}
    });
    let path = dir.join(format!("network-{days_ago}.json"));
    std::fs::write(&path, serde_json::to_vec_pretty(&network).unwrap()).unwrap();
    path
}

/// `check --network FILE` carries the client's real connection into a
/// coordinator's report, so every outcome is reachable, with its age shown.
#[test]
fn a_saved_connection_test_reaches_the_report_with_its_age() {
    let dir = tempfile::tempdir().unwrap();
    let fresh = saved_network(dir.path(), 2);
    let out = cmd()
        .args(["check", "--no-device", "--format", "json", "--answers"])
        .arg(answers_path("video-suitable"))
        .arg("--network")
        .arg(&fresh)
        .assert()
        .success();
    let report: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(report["outcome"], "video-suitable", "{report:#}");
    assert_eq!(
        report["network"]["video"]["rating"], "good",
        "re-rated, not copied"
    );
    assert_eq!(report["network"]["download"]["mbps"], 48.2);
    assert_eq!(report["network_source"]["age_days"], 2);
    assert_eq!(report["network_source"]["stale"], false);
    assert_eq!(status(&report, "internet"), "not-met");

    let stale = saved_network(dir.path(), 20);
    for format in ["text", "markdown", "terminal"] {
        let out = cmd()
            .args([
                "check",
                "--no-device",
                "--plain",
                "--view",
                "clinician",
                "--format",
                format,
            ])
            .arg("--answers")
            .arg(answers_path("video-suitable"))
            .arg("--network")
            .arg(&stale)
            .assert()
            .success();
        let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
        assert!(
            text.contains("(20 days before this report)"),
            "{format}: {text}"
        );
        assert!(text.contains("older than 14 days"), "{format}: {text}");
    }
}

#[test]
fn a_saved_connection_test_that_cannot_be_right_is_refused_with_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let good: Value =
        serde_json::from_slice(&std::fs::read(saved_network(dir.path(), 1)).unwrap()).unwrap();
    let mut cases: Vec<(&str, String)> = vec![
        ("not JSON", "{\"server\": ".to_string()),
        (
            "a report, not a test",
            std::fs::read_to_string(answers_path("urgent")).unwrap(),
        ),
    ];
    let mut negative = good.clone();
    negative["download"]["mbps"] = (-5.0).into();
    cases.push(("negative speed", negative.to_string()));
    let mut lost = good.clone();
    lost["udp"]["loss_pct"] = 250.0.into();
    cases.push(("loss over 100%", lost.to_string()));
    let mut future = good;
    future["measured_at"] = "2099-01-01T00:00:00Z".into();
    cases.push(("from the future", future.to_string()));
    for (what, content) in cases {
        let path = dir.path().join("client-net.json");
        std::fs::write(&path, content).unwrap();
        let out = cmd()
            .args(["check", "--no-device", "--format", "json", "--answers"])
            .arg(answers_path("video-suitable"))
            .arg("--network")
            .arg(&path)
            .assert()
            .code(2);
        let err = String::from_utf8(out.get_output().stderr.clone()).unwrap();
        assert!(err.contains("client-net.json"), "{what}: {err}");
        assert!(out.get_output().stdout.is_empty(), "{what}");
    }
    // --network and --no-network contradict each other.
    cmd()
        .args(["check", "--no-network", "--network", "x.json", "--answers"])
        .arg(answers_path("video-suitable"))
        .assert()
        .code(2);
}

/// Without a connection test the outcome is "video with adjustments" for the
/// open internet criterion, and the headline promises no changes that are
/// not listed.
#[test]
fn the_headline_promises_no_adjustments_that_are_not_listed() {
    for name in ["video-suitable", "video-with-adjustments", "all-skipped"] {
        let report = report_json(name, &[]);
        let adjustments = report["adjustments"].as_array().unwrap();
        let headline = report["headline"].as_str().unwrap();
        if adjustments.is_empty() {
            assert!(!headline.contains("changes"), "{name}: {headline}");
        }
    }
}

#[test]
fn output_onto_an_existing_file_needs_force_and_writes_nothing_without_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("client.json");
    std::fs::write(&path, "an earlier report").unwrap();
    let run = |extra: &[&str]| {
        check_answers(&answers_path("urgent"))
            .args(["--format", "json", "--output"])
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

/// Issue 24, item 5: a coordinator's batch (`check --answers … --output F`)
/// printed nothing for an acute client. Each client who needs contact soon
/// gets one line on stderr naming the client and the file, never an answer.
#[test]
fn a_batch_names_each_client_who_needs_contact_soon_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let answers = |name: &str, value: serde_json::Value| {
        let path = dir.path().join(format!("{name}-answers.json"));
        std::fs::write(&path, value.to_string()).unwrap();
        path
    };
    let run = |answers: &Path, out: &str, extra: &[&str]| -> String {
        let assert = check_answers(answers)
            .args(extra)
            .arg("--output")
            .arg(dir.path().join(out))
            .assert()
            .success();
        assert!(assert.get_output().stdout.is_empty());
        String::from_utf8(assert.get_output().stderr.clone()).unwrap()
    };
    let acute = run(
        &answers_path("urgent"),
        "c104.json",
        &["--client-ref", "C-104"],
    );
    assert_eq!(acute.lines().count(), 1, "{acute}");
    assert!(
        acute.starts_with("Urgent: Client C-104 needs contact today"),
        "{acute}"
    );
    assert!(acute.contains("c104.json"), "{acute}");

    let unknown = answers(
        "unknown",
        serde_json::json!({"region": "US", "answers": {"start.safe_now": "yes", "risk.asq1": "yes"}}),
    );
    let same_day = run(&unknown, "unknown.json", &[]);
    assert_eq!(same_day.lines().count(), 1, "{same_day}");
    assert!(
        same_day.starts_with("Same-day follow-up: This client needs a safety follow-up today"),
        "{same_day}"
    );
    assert!(same_day.contains("unknown.json"), "{same_day}");

    let non_acute = answers(
        "non-acute",
        serde_json::json!({"region": "US", "answers": {"risk.asq2": "yes", "risk.asq5": "no"}}),
    );
    let follow_up = run(&non_acute, "non-acute.json", &["--format", "markdown"]);
    assert!(
        follow_up.starts_with("Follow-up: This client needs a brief safety assessment"),
        "{follow_up}"
    );

    for line in [&acute, &same_day, &follow_up] {
        assert_calm(line);
        // The level of follow-up only: no question, option or answer.
        let words = line
            .split(" Their report is in ")
            .next()
            .unwrap()
            .to_lowercase();
        for word in ["asq", "yes", "risk.", "acuity question"] {
            assert!(!words.contains(word), "{word} in {line}");
        }
    }
    // No follow-up flagged: nothing on stderr, as before.
    assert_eq!(run(&answers_path("video-suitable"), "calm.json", &[]), "");
}

#[test]
fn output_for_the_clinic_checks_the_locked_name_it_writes() {
    let dir = tempfile::tempdir().unwrap();
    let asked = dir.path().join("r.json");
    let locked = dir.path().join("r.json.age");
    std::fs::write(&locked, "an earlier locked report").unwrap();
    let clinic = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/clinic.toml");
    let run = |extra: &[&str]| {
        check_answers(&answers_path("urgent"))
            .args(["--format", "json", "--clinic"])
            .arg(&clinic)
            .arg("--output")
            .arg(&asked)
            .args(extra)
            .assert()
    };
    let out = run(&[]).code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        err.contains("r.json.age") && err.contains("already exists") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(&locked).unwrap(),
        "an earlier locked report"
    );
    assert!(!asked.exists());
    run(&["--force"]).success();
    let written = std::fs::read_to_string(&locked).unwrap();
    assert!(
        written.starts_with("-----BEGIN AGE ENCRYPTED FILE-----"),
        "{written}"
    );
}
