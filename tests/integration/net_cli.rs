//! `session-ready network` and `serve` from the command line: exit codes,
//! output formats, private saving, and a clean stop on SIGTERM.

#[cfg(unix)]
use std::io::{BufRead, BufReader};
#[cfg(unix)]
use std::process::{Command as StdCommand, Stdio};
#[cfg(unix)]
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
    // A stream budget no test fits in, and budgets that cannot work, are refused.
    cmd()
        .args(["serve", "--stun-verified-per-second", "500"])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("--stun-verified-per-second")
                .and(predicate::str::contains("800")),
        );
    cmd()
        .args(["serve", "--stun-verified-total-per-second", "900"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--stun-verified-total-per-second"));
    cmd()
        .args(["serve", "--stun-cookies-per-second", "0"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--stun-cookies-per-second"));
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

// SIGTERM is how Unix service managers stop `serve`; Windows has no equivalent
// to send to a console child (its Ctrl-C is checked under Wine by .ci/windows.sh).
#[cfg(unix)]
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

/// Issue 24, item 10: HTTP_PROXY was used for a loopback server, and a dead
/// proxy was reported as the server "turned the connection away (nothing is
/// answering there)" and "talked only to <server>"; UDP was skipped though
/// it never uses the proxy.
#[cfg(unix)]
#[test]
fn a_proxy_is_never_used_for_this_computer_and_a_dead_one_is_named() {
    let port = closed_port();
    let dead = closed_port();
    let mut server = StdCommand::new(assert_cmd::cargo::cargo_bin("session-ready"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut ready = String::new();
    BufReader::new(server.stdout.as_mut().unwrap())
        .read_line(&mut ready)
        .unwrap();
    let proxy = format!("http://127.0.0.1:{dead}");

    // This computer's own server is reached directly, whichever variable is set.
    for (var, host) in [
        ("HTTP_PROXY", "127.0.0.1"),
        ("http_proxy", "localhost"),
        ("ALL_PROXY", "127.0.0.1"),
    ] {
        let out = cmd()
            .env(var, &proxy)
            .args(["network", "--format", "json", "--max-seconds", "4"])
            .args(["--server", &format!("http://{host}:{port}")])
            .assert()
            .success();
        let json: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
        assert!(json["download"]["mbps"].is_number(), "{var}: {json}");
        assert_eq!(json["via_proxy"], false, "{var}");
        assert!(json.get("proxy").is_none(), "{var}: {json}");
    }

    // A server elsewhere, through a proxy that is not there: the proxy is
    // named (without the password in its address), not the server.
    let secret = format!("http://someone:hunter2@127.0.0.1:{dead}");
    let server_url = format!("http://speed.session-ready.test:{port}");
    let out = cmd()
        .env("HTTP_PROXY", &secret)
        .args(["network", "--format", "json", "--max-seconds", "4"])
        .args(["--server", &server_url])
        .assert()
        .success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(!text.contains("hunter2"), "{text}");
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let reason = json["download"]["reason"].as_str().unwrap();
    assert!(
        reason.starts_with(&format!(
            "The proxy {proxy} could not be used (it turned the connection away"
        )),
        "{reason}"
    );
    assert!(!reason.contains("The measurement server at"), "{reason}");
    assert_eq!(json["proxy"], proxy);
    // UDP never goes through the proxy: it is tried, not skipped for it.
    let udp = json["udp_reason"].as_str().unwrap_or_default();
    assert!(
        !udp.contains("could not be reached (the audio test"),
        "{udp}"
    );

    let out = cmd()
        .env("HTTP_PROXY", &secret)
        .args(["--plain", "network", "--max-seconds", "4"])
        .args(["--server", &server_url])
        .assert()
        .success();
    let screen = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let words = screen.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words.contains(&format!("and the proxy {proxy}, which see")),
        "{screen}"
    );
    assert!(!screen.contains("hunter2"), "{screen}");

    // SAFETY: sending a signal to a child we started.
    unsafe { libc::kill(server.id() as i32, libc::SIGTERM) };
    let _ = server.wait();
}
