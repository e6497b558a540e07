//! `session-ready network` and `serve` from the command line: exit codes,
//! output formats, private saving, and a clean stop on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command as StdCommand, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use predicates::prelude::*;

fn cmd() -> Command {
    let mut c = Command::cargo_bin("session-ready").unwrap();
    for var in crate::net_support::ENV_TO_CLEAR {
        c.env_remove(var);
    }
    c
}

fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

#[test]
fn bad_flags_are_usage_errors_with_exit_code_2() {
    cmd()
        .args(["network", "--server", "speed.example.org"])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("--server").and(predicate::str::contains("not a web address")),
        );
    cmd()
        .args(["network", "--stun", "no-port-here"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("host:port"));
    cmd()
        .args(["network", "--max-seconds", "0"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--max-seconds"));
    cmd()
        .args(["serve", "--listen", "not-an-address"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--listen"));
}

#[test]
fn an_unreachable_server_is_a_result_not_a_failure() {
    let port = closed_port();
    let out = cmd()
        .args(["network", "--format", "json", "--max-seconds", "3"])
        .args(["--server", &format!("http://127.0.0.1:{port}")])
        .assert()
        .success();
    let json: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert!(json["download"]["mbps"].is_null());
    assert!(
        json["download"]["reason"]
            .as_str()
            .unwrap()
            .contains("turned the connection away")
    );
    assert!(json["udp"].is_null());
    assert!(json["udp_reason"].is_string());
    assert_eq!(json["video"]["conclusive"], false);
    // Nothing measured is "not-measured", never the worst band.
    assert_eq!(json["video"]["rating"], "not-measured");
    // The saved result says when it was made and can be attached to a
    // coordinator's check, where it stays "not measured".
    assert!(json["measured_at"].as_str().unwrap().ends_with('Z'));
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("client-network.json");
    std::fs::write(&saved, &out.get_output().stdout).unwrap();
    let answers = format!(
        "{}/examples/answers/video-suitable.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let check = cmd()
        .args([
            "check",
            "--no-device",
            "--format",
            "json",
            "--answers",
            &answers,
        ])
        .arg("--network")
        .arg(&saved)
        .assert()
        .success();
    let report: serde_json::Value = serde_json::from_slice(&check.get_output().stdout).unwrap();
    assert_eq!(report["network"]["video"]["rating"], "not-measured");
    assert_eq!(report["network_source"]["age_days"], 0);
    assert_eq!(report["outcome"], "video-with-adjustments");
}

#[test]
fn terminal_result_saved_to_a_file_is_private_and_plain() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("connection.txt");
    cmd()
        .args(["network", "--max-seconds", "2", "--output"])
        .arg(&path)
        .args(["--server", &format!("http://127.0.0.1:{}", closed_port())])
        .assert()
        .success();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("Your connection"), "{text}");
    assert!(text.contains("not measured"), "{text}");
    assert!(!text.contains('\u{1b}'), "no colour codes in a saved file");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
}

#[test]
fn serve_runs_answers_the_probe_and_stops_cleanly_on_sigterm() {
    let port = closed_port();
    let mut server = StdCommand::new(assert_cmd::cargo::cargo_bin("session-ready"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut ready = String::new();
    BufReader::new(server.stdout.as_mut().unwrap())
        .read_line(&mut ready)
        .unwrap();
    assert!(ready.contains("Measurement server ready"), "{ready}");

    let out = cmd()
        .args(["network", "--format", "json", "--max-seconds", "4"])
        .args(["--server", &format!("http://127.0.0.1:{port}")])
        .assert()
        .success();
    let json: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert!(json["latency"]["idle_ms"].is_number(), "{json}");
    assert!(json["download"]["mbps"].is_number(), "{json}");
    assert_eq!(json["stun_server"], format!("127.0.0.1:{port}"));
    assert!(json["duration_s"].as_f64().unwrap() <= 4.5);

    // SAFETY: sending a signal to a child we started.
    unsafe { libc::kill(server.id() as i32, libc::SIGTERM) };
    let started = Instant::now();
    let status = loop {
        if let Some(status) = server.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(8),
            "serve did not stop"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
}

#[test]
fn serve_on_a_port_in_use_says_so() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    cmd()
        .args(["serve", "--listen", &addr.to_string()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("already using that port"));
}
