//! `summarize` for intake coordinators: one row per report, urgent first,
//! then in-person recommendations, then oldest first; unreadable files listed
//! with the reason in every format; encrypted reports read with --identity.

use std::path::Path;

use crate::report_support::*;
use predicates::prelude::*;
use serde_json::Value;

/// A caseload folder: every example (dated a day apart, newest first so the
/// order has to come from sorting), one malformed file, one of an unknown
/// schema, and a note that is not a report.
fn caseload(dir: &Path) {
    for (i, name) in EXAMPLES.iter().enumerate() {
        let mut r = example_report(name);
        r["generated_at"] = format!("2026-01-{:02}T09:00:00Z", 20 - i).into();
        write_json(dir, name, &r);
    }
    std::fs::write(
        dir.join("half-written.json"),
        "{\"schema\": \"session-ready/report/v1\", \"outc",
    )
    .unwrap();
    let mut future = example_report("video-suitable");
    future["schema"] = "session-ready/report/v7".into();
    write_json(dir, "from-the-future", &future);
    std::fs::write(dir.join("notes.txt"), "call back Tuesday").unwrap();
    // Our own half-written temp files are hidden and never listed.
    std::fs::write(dir.join(".session-ready-abc.tmp"), "x").unwrap();
}

fn summarize(args: &[&str], dir: &Path) -> assert_cmd::assert::Assert {
    cmd().arg("summarize").arg(dir).args(args).assert()
}

#[test]
fn json_rows_are_in_triage_order_with_unreadable_files_listed() {
    let dir = tempfile::tempdir().unwrap();
    caseload(dir.path());
    let out = summarize(&["--format", "json"], dir.path()).success();
    let s: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(s["schema"], "session-ready/summary/v1");
    let files: Vec<String> = s["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            Path::new(r["file"].as_str().unwrap())
                .file_stem()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    // urgent, then in-person, then by date, oldest first (all-skipped is the oldest).
    assert_eq!(
        files,
        [
            "urgent",
            "in-person-recommended",
            "all-skipped",
            "video-with-adjustments",
            "video-suitable"
        ]
    );
    let urgent = &s["reports"][0];
    assert_eq!(urgent["urgent"], true);
    assert_eq!(urgent["criteria_met"], serde_json::json!(["risk"]));
    // Never measured is "not-measured", never null or "unusable".
    assert_eq!(urgent["network_rating"], "not-measured");
    let in_person = &s["reports"][1];
    assert_eq!(
        in_person["criteria_met"],
        serde_json::json!(["privacy", "isolation", "home-safety"])
    );
    assert_eq!(
        in_person["criteria_unknown"],
        serde_json::json!(["internet"])
    );

    let unreadable: Vec<(String, String)> = s["unreadable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["file"].as_str().unwrap().into(),
                u["error"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(unreadable.len(), 2, "{unreadable:?}");
    assert!(
        unreadable
            .iter()
            .any(|(f, e)| f.ends_with("half-written.json") && e.contains("not a JSON report"))
    );
    assert!(
        unreadable
            .iter()
            .any(|(f, e)| f.ends_with("from-the-future.json")
                && e.contains("session-ready/report/v7"))
    );
    assert_eq!(s["other_files"], 1);
}

#[test]
fn csv_is_proper_csv_with_an_error_column() {
    let dir = tempfile::tempdir().unwrap();
    caseload(dir.path());
    // A file name that needs quoting, and one a spreadsheet would run as a formula.
    let r = example_report("video-suitable");
    write_json(dir.path(), "Smith, \"Jo\"", &r);
    write_json(dir.path(), "=HYPERLINK(1)", &r);
    let out = summarize(&["--format", "csv"], dir.path()).success();
    let mut reader = csv::Reader::from_reader(out.get_output().stdout.as_slice());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(header[0], "file");
    assert_eq!(header.last().unwrap(), "error");
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 9);
    assert!(rows.iter().all(|r| r.len() == header.len()));
    assert!(rows[0][0].ends_with("urgent.json") && &rows[0][4] == "true");
    assert!(rows.iter().any(|r| r[0].ends_with("Smith, \"Jo\".json")));
    // Named directly from inside the folder, the formula-like name is neutralised.
    let direct = cmd()
        .current_dir(dir.path())
        .args(["summarize", "--format", "csv", "=HYPERLINK(1).json"])
        .assert()
        .success();
    let text = String::from_utf8(direct.get_output().stdout.clone()).unwrap();
    assert!(
        text.lines()
            .nth(1)
            .unwrap()
            .starts_with("'=HYPERLINK(1).json,"),
        "{text}"
    );
    let error = header.len() - 1;
    let errors: Vec<&csv::StringRecord> = rows.iter().filter(|r| !r[error].is_empty()).collect();
    assert_eq!(errors.len(), 2);
    // Unreadable rows come last and carry nothing but the file and the reason.
    assert!(rows[7][error].len() > 10 && rows[8][error].len() > 10);
    assert!(errors.iter().all(|r| r[2].is_empty()));
}

#[test]
fn the_terminal_view_lists_urgent_first_and_the_unreadable_files() {
    let dir = tempfile::tempdir().unwrap();
    caseload(dir.path());
    let out = summarize(&["--plain"], dir.path()).success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(
        text.contains(
            "5 reports read: 2 in-person recommended, 3 video with adjustments, 0 video \
             suitable. 1 of them is urgent and comes first."
        ),
        "{text}"
    );
    let first = text.find("1. ").unwrap();
    assert!(
        text[first..].starts_with(&format!("1. {}", dir.path().join("urgent.json").display())),
        "{text}"
    );
    assert!(text.contains("Urgent: the ASQ acuity question was answered yes"));
    assert!(text.contains("Could not be read (nothing was changed)"));
    assert!(text.contains("half-written.json") && text.contains("from-the-future.json"));
    assert!(text.contains("1 other file in the folders given was passed over"));
    assert!(
        text.is_ascii() || !text.contains('─'),
        "plain mode has no box drawing"
    );
    assert_calm(&text);
}

#[test]
fn exit_code_is_2_only_when_nothing_could_be_read() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("broken.json"), "not json").unwrap();
    summarize(&["--format", "csv"], dir.path())
        .code(2)
        .stdout(predicate::str::contains("broken.json"))
        .stderr(predicate::str::contains("No report could be read"));
    let empty = tempfile::tempdir().unwrap();
    summarize(&[], empty.path()).code(2);
    cmd()
        .args(["summarize", "/nonexistent/reports.json"])
        .assert()
        .code(2)
        .stdout(predicate::str::contains("no file there"));
}

#[test]
fn encrypted_reports_are_read_with_identity_and_listed_without_it() {
    let dir = tempfile::tempdir().unwrap();
    let keys = tempfile::tempdir().unwrap();
    let key = keys.path().join("k.txt");
    let public = cmd()
        .args(["keygen", "--output"])
        .arg(&key)
        .assert()
        .success();
    let public = String::from_utf8(public.get_output().stdout.clone()).unwrap();
    check_answers(&answers_path("urgent"))
        .args([
            "--format",
            "json",
            "--encrypt-to",
            public.trim(),
            "--output",
        ])
        .arg(dir.path().join("client-7.json.age"))
        .assert()
        .success();
    write_json(dir.path(), "client-8", &example_report("video-suitable"));

    let out = summarize(&["--format", "json"], dir.path()).success();
    let s: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(s["reports"].as_array().unwrap().len(), 1);
    assert!(
        s["unreadable"][0]["error"]
            .as_str()
            .unwrap()
            .contains("--identity")
    );

    let out = cmd()
        .arg("summarize")
        .arg(dir.path())
        .args(["--format", "json", "--identity"])
        .arg(&key)
        .assert()
        .success();
    let s: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(s["reports"].as_array().unwrap().len(), 2);
    assert_eq!(s["reports"][0]["urgent"], true);
    assert_eq!(s["reports"][0]["view"], "clinician");
    assert!(s["unreadable"].as_array().unwrap().is_empty());
}

/// The outcome counts add up to the reports read, with urgency said apart.
#[test]
fn the_counts_add_up() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["urgent", "video-with-adjustments"] {
        write_json(dir.path(), name, &example_report(name));
    }
    let out = summarize(&["--plain"], dir.path()).success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let line = text.lines().find(|l| l.contains("reports read")).unwrap();
    let (read, counts) = line.split_once(" reports read: ").unwrap();
    let counts = counts.split('.').next().unwrap();
    let sum: usize = counts
        .split(", ")
        .map(|c| c.split(' ').next().unwrap().parse::<usize>().unwrap())
        .sum();
    assert_eq!(sum, read.trim().parse::<usize>().unwrap(), "{line}");
    assert!(line.contains("1 of them is urgent"), "{line}");
}

/// A connection test that ran but measured nothing is "not-measured" in the
/// CSV, like a check without one; never "unusable".
#[test]
fn a_never_measured_connection_is_not_measured_in_the_csv() {
    let dir = tempfile::tempdir().unwrap();
    let mut blank = example_report("video-suitable");
    let mut network = measured_network();
    network["download"] = serde_json::json!({"mbps": null, "bytes": 0, "streams": 0,
        "reason": "the server could not be reached"});
    network["upload"] = network["download"].clone();
    network["latency"] = serde_json::json!({"idle_ms": null, "min_ms": null, "p90_ms": null,
        "jitter_ms": null, "loaded_ms": null, "samples": 0, "reason": "no reply"});
    network["video"] = serde_json::json!({"rating": "not-measured", "mos": null,
        "reasons": [], "conclusive": false});
    blank["network"] = network;
    write_json(dir.path(), "blank", &blank);
    write_json(dir.path(), "untested", &example_report("video-suitable"));
    let out = summarize(&["--format", "csv"], dir.path()).success();
    let mut reader = csv::Reader::from_reader(out.get_output().stdout.as_slice());
    let column = reader
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == "network_rating")
        .unwrap();
    for row in reader.records() {
        assert_eq!(&row.unwrap()[column], "not-measured");
    }
}

#[test]
fn acuity_unknown_comes_right_after_urgent_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    caseload(dir.path());
    let mut stopped = acuity_unknown_report();
    // The newest of all, so only the rule can put it second.
    stopped["generated_at"] = "2026-02-01T09:00:00Z".into();
    write_json(dir.path(), "stopped-early", &stopped);
    let out = summarize(&["--format", "json"], dir.path()).success();
    let s: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let order: Vec<&str> = s["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["risk_screen"].as_str().unwrap())
        .collect();
    assert_eq!(
        order[..3],
        ["positive-acute", "positive-acuity-unknown", "negative"]
    );
    let out = summarize(&[], dir.path()).success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let urgent = flat.find("urgent.json").unwrap();
    let stopped_at = flat.find("stopped-early.json").unwrap();
    assert!(urgent < stopped_at, "{text}");
    assert!(
        flat.contains("Same-day follow-up: a yes on the ASQ screening questions")
            && flat.contains("brief suicide safety assessment"),
        "{text}"
    );
    let out = summarize(&["--format", "csv"], dir.path()).success();
    let csv = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(
        csv.lines().next().unwrap().contains("urgent,risk_screen,"),
        "{csv}"
    );
    assert!(csv.contains(",false,positive-acuity-unknown,"), "{csv}");
}

/// A client copy cannot say whether the client needs contact today, so one
/// edited to look calm (or a genuine one) never sorts as safe: it comes
/// after the urgent and same-day reports and before every report known not
/// to be urgent, saying why; `report --strict` refuses it, and `report`
/// says so.
#[test]
fn a_client_copy_is_never_sorted_as_safe() {
    let dir = tempfile::tempdir().unwrap();
    let urgent = write_json(dir.path(), "urgent-full", &example_report("urgent"));
    let client: Value = serde_json::from_slice(&render(&urgent, "json", Some("client"))).unwrap();
    assert_eq!(client["urgent"], Value::Null);
    assert_eq!(client["risk_screen"], Value::Null);
    std::fs::remove_file(&urgent).unwrap();
    let genuine_path = write_json(dir.path(), "genuine-client", &client);
    // Edited to look negative: what a forger would write.
    let mut forged = client.clone();
    forged["urgent"] = false.into();
    forged["risk_screen"] = "negative".into();
    forged["outcome"] = "video-suitable".into();
    forged["generated_at"] = "2026-01-19T09:00:00Z".into();
    let forged_path = write_json(dir.path(), "forged-client", &forged);
    // An older, calm clinician copy would otherwise sort first by date.
    let mut calm = example_report("video-suitable");
    calm["generated_at"] = "2026-01-01T09:00:00Z".into();
    write_json(dir.path(), "calm", &calm);

    let out = summarize(&["--format", "json"], dir.path()).success();
    let s: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let rows = s["reports"].as_array().unwrap();
    let order: Vec<&str> = rows.iter().map(|r| r["file"].as_str().unwrap()).collect();
    assert!(
        order[..2].iter().all(|f| f.contains("-client")),
        "{order:?}"
    );
    assert!(order[2].contains("calm"), "{order:?}");
    for row in &rows[..2] {
        assert_eq!(row["urgent"], Value::Null);
        assert_eq!(row["risk_screen"], Value::Null);
    }

    let csv = summarize(&["--format", "csv"], dir.path()).success();
    let csv = String::from_utf8(csv.get_output().stdout.clone()).unwrap();
    let line = csv.lines().find(|l| l.contains("forged-client")).unwrap();
    assert!(
        line.contains("forged-client") && line.contains(",unknown,unknown,"),
        "{line}"
    );

    let text = summarize(&[], dir.path()).success();
    let text = String::from_utf8(text.get_output().stdout.clone()).unwrap();
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains(
            "Urgency unknown: this is a client copy, which leaves out the answers about risk, so \
             whether the client needs contact today cannot be checked from it; ask for the full \
             (clinician) copy."
        ),
        "{text}"
    );
    assert!(
        flat.contains("2 are client copies, whose urgency cannot be checked."),
        "{text}"
    );

    for path in [&forged_path, &genuine_path] {
        let strict = cmd()
            .args(["report", "--strict", "--format", "text"])
            .arg(path)
            .assert()
            .code(2);
        let err = String::from_utf8(strict.get_output().stderr.clone()).unwrap();
        assert!(err.contains("cannot be checked from it"), "{err}");
        assert!(strict.get_output().stdout.is_empty());
    }
    let shown = cmd()
        .args(["report", "--format", "text"])
        .arg(&forged_path)
        .assert()
        .success();
    let err = String::from_utf8(shown.get_output().stderr.clone()).unwrap();
    assert!(err.contains("ask for the full (clinician) copy"), "{err}");
}
