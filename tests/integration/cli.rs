//! The command-line surface: help, version, completions, man page, device check,
//! and the exit-code contract.
use assert_cmd::Command;
use predicates::prelude::*;

fn cmd() -> Command {
    let mut c = Command::cargo_bin("session-ready").unwrap();
    c.env_remove("NO_COLOR").env_remove("SESSION_READY_PLAIN");
    c
}

#[test]
fn help_explains_every_subcommand_in_plain_words() {
    let out = cmd().arg("--help").assert().success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    for (name, words) in [
        ("check", "whole readiness check"),
        ("network", "internet connection"),
        ("serve", "measurement server"),
        ("report", "saved report"),
        ("summarize", "many saved reports"),
        ("completions", "completion"),
        ("man", "manual page"),
    ] {
        assert!(text.contains(name), "{name} missing from --help:\n{text}");
        assert!(
            text.contains(words),
            "{words:?} missing from --help:\n{text}"
        );
    }
    assert!(
        text.contains("skipped"),
        "help should say questions can be skipped"
    );
}

#[test]
fn version_is_printed() {
    cmd()
        .arg("--version")
        .assert()
        .success()
        .stdout(predicate::str::contains(env!("CARGO_PKG_VERSION")));
}

#[test]
fn completions_and_man_page_are_generated_from_the_cli() {
    cmd()
        .args(["completions", "bash"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("session-ready").and(predicate::str::contains("summarize")),
        );
    cmd()
        .arg("man")
        .assert()
        .success()
        .stdout(predicate::str::contains(".TH session-ready"));
    let dir = tempfile::tempdir().unwrap();
    cmd()
        .args(["man", "--out-dir"])
        .arg(dir.path())
        .assert()
        .success();
    assert!(dir.path().join("session-ready.1").exists());
    assert!(dir.path().join("session-ready-check.1").exists());
}

#[test]
fn device_check_prints_real_figures_as_json() {
    let out = cmd()
        .args(["check", "--device", "--format", "json"])
        .assert()
        .success();
    let v: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert!(v["facts"]["cpu_cores"].as_u64().unwrap() >= 1);
    assert!(v["facts"]["memory_total_mb"].as_u64().unwrap() > 0);
    let ids: Vec<&str> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "os",
            "cpu",
            "cpu-load",
            "memory",
            "battery",
            "camera",
            "microphone"
        ]
    );
}

#[test]
fn device_check_in_plain_mode_has_no_colour_or_box_drawing() {
    let out = cmd()
        .args(["--plain", "check", "--device"])
        .assert()
        .success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(text.contains("Your device"));
    assert!(!text.contains('\x1b'), "no escape codes in plain mode");
    assert!(!text.contains('─') && !text.contains('•'));
}

#[test]
fn unknown_flag_is_a_usage_error_with_exit_code_2() {
    cmd().args(["check", "--no-such-flag"]).assert().code(2);
}

#[test]
fn device_report_written_to_a_file_is_private() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("device.json");
    cmd()
        .args(["check", "--device", "--format", "json", "--output"])
        .arg(&path)
        .assert()
        .success();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    serde_json::from_slice::<serde_json::Value>(&std::fs::read(&path).unwrap()).unwrap();
}

/// docs/interface.md's command table names every flag each command takes
/// (`--force` for `check` and `report` was missing): a flag added to the
/// CLI without its row being updated fails here.
#[test]
fn the_interface_table_lists_every_flag_of_every_command() {
    use clap::CommandFactory;
    let docs = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/interface.md"),
    )
    .unwrap();
    let cli = session_ready::cli::Cli::command();
    let mut missing = Vec::new();
    for sub in cli.get_subcommands() {
        let name = sub.get_name();
        if name == "help" {
            continue;
        }
        let row = docs
            .lines()
            .find(|l| l.starts_with(&format!("| `{name}")))
            .unwrap_or_else(|| panic!("no row for {name} in docs/interface.md"));
        for arg in sub.get_arguments() {
            if arg.is_hide_set() || arg.is_global_set() {
                continue;
            }
            let flags: Vec<&str> = row
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
                .collect();
            if let Some(long) = arg.get_long()
                && !flags.contains(&format!("--{long}").as_str())
            {
                missing.push(format!("{name} --{long}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "not in docs/interface.md's table: {missing:?}"
    );
}
