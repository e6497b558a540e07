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
    // The documented columns, in order; new ones are added at the end, so
    // every older column keeps its place.
    assert_eq!(
        header,
        [
            "file",
            "client_ref",
            "date",
            "outcome",
            "urgent",
            "risk_screen",
            "criteria_met",
            "criteria_unknown",
            "network_rating",
            "region",
            "view",
            "questionnaire_status",
            "skipped",
            "changed",
            "error",
            "watched_home",
        ]
    );
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
    let error = header.iter().position(|h| h == "error").unwrap();
    let errors: Vec<&csv::StringRecord> = rows.iter().filter(|r| !r[error].is_empty()).collect();
    assert_eq!(errors.len(), 2);
    // Unreadable rows come right after the urgent one (their urgency is
    // unknown) and carry nothing but the file, "unknown" and the reason.
    assert!(rows[1][error].len() > 10 && rows[2][error].len() > 10);
    assert!(
        errors
            .iter()
            .all(|r| r[2].is_empty() && &r[4] == "unknown" && &r[error + 1] == "unknown")
    );
    assert!(rows[3..].iter().all(|r| r[error].is_empty()));
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
    // The unreadable files come right after the urgent one: urgency unknown.
    let from_the_future = format!("2. {}", dir.path().join("from-the-future.json").display());
    let half_written = format!("3. {}", dir.path().join("half-written.json").display());
    assert!(
        text.contains(&from_the_future) && text.contains(&half_written),
        "{text}"
    );
    assert!(
        text.contains("Urgency unknown, this file could not be read"),
        "{text}"
    );
    assert!(text.find(&half_written) < text.find("4. "), "{text}");
    assert!(
        text.contains(
            "1 other file in the folders given was passed over, because it is not a report: "
        ),
        "{text}"
    );
    assert!(text.contains("notes.txt"), "{text}");
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

/// Issue 24, item 1: `summarize --output` onto a saved report replaced it with
/// the CSV. It is refused (exit 2, named, nothing written) unless --force.
#[test]
fn summarize_output_never_replaces_an_existing_file_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let saved = write_json(dir.path(), "urgent", &example_report("urgent"));
    let before = std::fs::read(&saved).unwrap();
    let out = cmd()
        .arg("summarize")
        .arg(&saved)
        .args(["--format", "csv", "--output"])
        .arg(&saved)
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(err.contains("urgent.json"), "{err}");
    assert!(
        err.contains("already exists") && err.contains("--force"),
        "{err}"
    );
    assert_calm(&err);
    assert_eq!(
        std::fs::read(&saved).unwrap(),
        before,
        "the saved report is untouched"
    );

    // With --force the file is replaced, as asked.
    let other = dir.path().join("caseload.csv");
    std::fs::write(&other, "old").unwrap();
    cmd()
        .arg("summarize")
        .arg(&saved)
        .args(["--format", "csv", "--force", "--output"])
        .arg(&other)
        .assert()
        .success();
    assert!(
        std::fs::read_to_string(&other)
            .unwrap()
            .starts_with("file,")
    );
}

/// Issue 24, item 6: a same-day follow-up client saved as PDF vanished from
/// the urgent-first list, and Markdown reports were passed over unnamed.
/// Reports saved as PDF, Markdown or text are named with what to do, as
/// urgency unknown, ahead of every calm report, in every format.
#[test]
fn reports_saved_as_pdf_markdown_or_text_are_named_ahead_of_the_calm_ones() {
    let dir = tempfile::tempdir().unwrap();
    write_json(dir.path(), "calm", &example_report("video-suitable"));
    for (format, name) in [
        ("pdf", "same-day.pdf"),
        ("markdown", "acute.md"),
        ("text", "acute.txt"),
    ] {
        check_answers(&answers_path("urgent"))
            .args(["--format", format, "--output"])
            .arg(dir.path().join(name))
            .assert()
            .success();
    }
    std::fs::write(dir.path().join("notes.txt"), "call back Tuesday").unwrap();

    let out = summarize(&["--plain"], dir.path()).success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    for (n, name, saved_as) in [
        (1, "acute.md", "Markdown"),
        (2, "acute.txt", "text"),
        (3, "same-day.pdf", "PDF"),
    ] {
        let entry = format!("{n}. {}\n", dir.path().join(name).display());
        let at = text
            .find(&entry)
            .unwrap_or_else(|| panic!("{entry} in {text}"));
        let note = text[at + entry.len()..].lines().next().unwrap();
        assert!(note.contains("Urgency unknown"), "{note}");
        assert!(note.contains(&format!("saved as {saved_as}")), "{note}");
        assert!(note.contains("ask for the JSON copy"), "{note}");
    }
    assert!(
        text.contains(&format!("4. {}", dir.path().join("calm.json").display())),
        "{text}"
    );
    assert!(
        text.contains("3 files could not be read, so their urgency is unknown"),
        "{text}"
    );
    assert!(text.contains("because it is not a report: "), "{text}");
    assert_calm(&text);

    let out = summarize(&["--format", "json"], dir.path()).success();
    let s: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(s["unreadable"].as_array().unwrap().len(), 3, "{s}");
    assert_eq!(s["passed_over"].as_array().unwrap().len(), 1, "{s}");
    let out = summarize(&["--format", "csv"], dir.path()).success();
    let csv = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let last = csv.lines().last().unwrap();
    assert!(
        last.contains("calm.json") && last.contains(",false,"),
        "{csv}"
    );

    // Named one by one on the command line, the same.
    let out = cmd()
        .arg("summarize")
        .arg(dir.path().join("same-day.pdf"))
        .arg(dir.path().join("calm.json"))
        .arg("--plain")
        .assert()
        .success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(
        text.contains("1. ") && text.contains("saved as PDF"),
        "{text}"
    );
    assert!(text.find("same-day.pdf") < text.find("calm.json"), "{text}");
}

/// Issue 24, item 14 (summarize part): with no readable report at all,
/// nothing is written to --output and the reasons are in the message.
#[test]
fn no_readable_report_writes_no_output_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("broken.json"), "not json").unwrap();
    let target = dir.path().join("caseload.csv");
    let out = cmd()
        .arg("summarize")
        .arg(dir.path().join("broken.json"))
        .args(["--format", "csv", "--output"])
        .arg(&target)
        .assert()
        .code(2);
    assert!(!target.exists(), "no summary of nothing is saved");
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(err.contains("No report could be read"), "{err}");
    assert!(
        err.contains("broken.json: it is not a JSON report"),
        "{err}"
    );
    assert!(err.contains("Nothing was written"), "{err}");
    assert_calm(&err);
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
    // Nor does it say whether the home is watched: a client copy cannot.
    assert!(line.ends_with(",unknown"), "{line}");

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

/// A client whose phone or messages may be monitored is flagged where the
/// coordinator plans contact: a "Contact with care" line in the list, and
/// `watched_home` in the CSV and JSON. A client copy cannot say (null,
/// `unknown`), and says nothing of it.
#[test]
fn a_watched_home_is_flagged_where_contact_is_planned() {
    let dir = tempfile::tempdir().unwrap();
    let mut watched = report_from_answers(&serde_json::json!({
        "region": "GB",
        "client_ref": "W-1",
        "answers": {"risk.asq1": "yes", "risk.asq5": "yes", "home.feels_safe": "yes",
                    "home.monitored": "unsure"}
    }));
    watched["generated_at"] = "2026-01-02T09:00:00Z".into();
    let watched_path = write_json(dir.path(), "watched", &watched);
    let client: Value =
        serde_json::from_slice(&render(&watched_path, "json", Some("client"))).unwrap();
    assert_eq!(client["watched_home"], Value::Null);
    write_json(dir.path(), "watched-client", &client);
    let calm = example_report("video-suitable");
    write_json(dir.path(), "calm", &calm);

    let out = summarize(&["--format", "json"], dir.path()).success();
    let s: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let row = |file: &str| {
        s["reports"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["file"].as_str().unwrap().ends_with(file))
            .unwrap()
            .clone()
    };
    assert_eq!(row("/watched.json")["watched_home"], true, "{s}");
    assert_eq!(row("watched-client.json")["watched_home"], Value::Null);
    assert_eq!(row("calm.json")["watched_home"], false);

    let out = summarize(&["--format", "csv"], dir.path()).success();
    let mut reader = csv::Reader::from_reader(out.get_output().stdout.as_slice());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let column = header.iter().position(|h| h == "watched_home").unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let cell = |file: &str| rows.iter().find(|r| r[0].ends_with(file)).unwrap()[column].to_string();
    assert_eq!(cell("/watched.json"), "true");
    assert_eq!(cell("watched-client.json"), "unknown");
    assert_eq!(cell("calm.json"), "false");

    let out = summarize(&[], dir.path()).success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let blocks: Vec<&str> = text.split("\n").collect();
    let first = blocks
        .iter()
        .position(|l| l.contains("watched.json"))
        .unwrap();
    let own: Vec<&str> = blocks[first + 1..]
        .iter()
        .take_while(|l| l.starts_with("   "))
        .copied()
        .collect();
    let own = own.join(" ");
    assert!(own.contains("Urgent:"), "{text}");
    assert!(own.contains("Contact with care:"), "{text}");
    assert!(own.contains("may be monitored"), "{text}");
    assert_eq!(text.matches("Contact with care:").count(), 1, "{text}");
    assert_calm(&text);
}
