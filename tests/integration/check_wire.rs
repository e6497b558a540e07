//! A whole `check` against a real `serve` on loopback, through a relay that
//! records every byte: answers, names, phone numbers and plan text never cross
//! the wire; the connection figures reach the report; and an interruption
//! during the connection test leaves nothing half-written.
#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Stdio};
use std::time::{Duration, Instant};

use crate::net_support::ENV_TO_CLEAR;
use crate::wire_support::{Wire, encodings, find, lowercase};
use assert_cmd::Command;

fn cmd() -> Command {
    let mut c = Command::cargo_bin("session-ready").unwrap();
    for var in ENV_TO_CLEAR {
        c.env_remove(var);
    }
    c
}

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/answers")
        .join(format!("{name}.json"))
}

/// Text no probe would ever send by chance: each is searched for on the wire.
const PLACE: &str = "the marigold attic above Quennell's bakery";
const COMFORT: &str = "grandmother Philippa's heron blanket";
const PAUSE: &str = "tap the lighthouse mug twice";
const CONTACT: &str = "Ottoline Quennell on 07700 900461";
const IF_DROPS: &str = "ring me back on 020 7946 0321";
const CLINIC_NAME: &str = "Wrenfield Pastoral Counselling";
const CLINIC_PHONE: &str = "+44 161 496 0753";

/// An answers file with distinctive free text, and a clinic file with a
/// distinctive name and phone number.
pub(crate) fn distinctive_inputs(dir: &Path) -> (PathBuf, PathBuf) {
    let mut answers: serde_json::Value =
        serde_json::from_slice(&std::fs::read(example("in-person-recommended")).unwrap()).unwrap();
    answers["session_plan"] = serde_json::json!({
        "place": PLACE,
        "comfort_items": COMFORT,
        "pause_signal": PAUSE,
        "nearby_contact": CONTACT,
        "if_call_drops": IF_DROPS,
    });
    let answers_path = dir.join("answers.json");
    std::fs::write(&answers_path, serde_json::to_vec_pretty(&answers).unwrap()).unwrap();
    let clinic = dir.join("clinic.toml");
    std::fs::write(
        &clinic,
        format!(
            "name = \"{CLINIC_NAME}\"\ndropped_call_phone = \"{CLINIC_PHONE}\"\nregion = \"GB\"\n"
        ),
    )
    .unwrap();
    (answers_path, clinic)
}

/// Everything that must stay on this computer, in every form it could take on the wire.
pub(crate) fn secrets(answers: &Path) -> Vec<String> {
    let file: serde_json::Value = serde_json::from_slice(&std::fs::read(answers).unwrap()).unwrap();
    let mut out: Vec<String> = [
        PLACE,
        COMFORT,
        PAUSE,
        CONTACT,
        IF_DROPS,
        CLINIC_NAME,
        CLINIC_PHONE,
    ]
    .iter()
    .flat_map(|t| encodings(t))
    .collect();
    out.extend(
        [
            "07700900461",
            "Quennell",
            "Ottoline",
            "0161 496 0753",
            "4961610753",
        ]
        .map(String::from),
    );
    // Question ids with their answers, and the ids alone (every one has a dot and is 8+ characters).
    for (id, value) in file["answers"].as_object().unwrap() {
        out.push(id.clone());
        out.push(format!("{id}={}", value.as_str().unwrap()));
    }
    out.extend(["session_plan", "\"answers\"", "risk.", "questionnaire"].map(String::from));
    out
}

pub(crate) fn assert_nothing_leaked(wire: &Wire, secrets: &[String]) {
    let rec = wire.recording();
    // The relay really carried the test: requests, upload bodies and the audio-like stream.
    assert!(
        rec.tcp_sent.len() > 100_000,
        "only {} bytes sent over TCP",
        rec.tcp_sent.len()
    );
    assert!(
        rec.tcp_received > 100_000,
        "only {} bytes received",
        rec.tcp_received
    );
    assert!(
        rec.udp_sent.len() >= 50,
        "only {} UDP packets",
        rec.udp_sent.len()
    );
    // Each STUN request is a bare 20-byte header: there is no room for anything else.
    assert!(rec.udp_sent.iter().all(|p| p.len() == 20));
    let tcp = lowercase(&rec.tcp_sent);
    let udp: Vec<Vec<u8>> = rec.udp_sent.iter().map(|p| lowercase(p)).collect();
    for secret in secrets {
        if let Some(at) = find(&tcp, secret) {
            let from = at.saturating_sub(200);
            panic!(
                "{secret:?} was sent over TCP: …{}…",
                String::from_utf8_lossy(&rec.tcp_sent[from..at + secret.len()])
            );
        }
        for packet in &udp {
            assert!(
                find(packet, secret).is_none(),
                "{secret:?} was sent over UDP"
            );
        }
    }
}

#[test]
fn answers_names_phone_numbers_and_plan_never_cross_the_wire() {
    let wire = Wire::start();
    let dir = tempfile::tempdir().unwrap();
    let (answers, clinic) = distinctive_inputs(dir.path());
    let report_path = dir.path().join("report.json");
    cmd()
        .args([
            "check",
            "--no-device",
            "--format",
            "json",
            "--view",
            "clinician",
        ])
        .arg("--answers")
        .arg(&answers)
        .arg("--clinic")
        .arg(&clinic)
        .args([
            "--server",
            &wire.server_url(),
            "--stun",
            &wire.stun.to_string(),
        ])
        .arg("--output")
        .arg(&report_path)
        .assert()
        .success();
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report_path).unwrap()).unwrap();
    // The secrets are in the report (so they were in play), and the test was measured.
    assert_eq!(report["session_plan"]["nearby_contact"], CONTACT);
    assert_eq!(report["clinic"]["name"], CLINIC_NAME);
    assert!(
        report["network"]["download"]["mbps"].is_number(),
        "{}",
        report["network"]
    );
    assert_eq!(report["network"]["udp_status"], "measured");
    assert_nothing_leaked(&wire, &secrets(&answers));
}

#[test]
fn the_video_suitable_example_is_suitable_with_a_measured_connection() {
    let wire = Wire::start();
    let out = cmd()
        .args([
            "check",
            "--no-device",
            "--format",
            "json",
            "--view",
            "clinician",
        ])
        .arg("--answers")
        .arg(example("video-suitable"))
        .args([
            "--server",
            &wire.server_url(),
            "--stun",
            &wire.stun.to_string(),
        ])
        .assert()
        .success();
    let report: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let network = &report["network"];
    assert_eq!(network["video"]["rating"], "good", "{network}");
    assert_eq!(network["video"]["conclusive"], true);
    assert!(network["latency"]["idle_ms"].as_f64().unwrap() < 50.0);
    assert_eq!(network["udp"]["loss_pct"], 0.0);
    assert!(network["bytes_used"].as_u64().unwrap() > 0);
    let internet = report["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "internet")
        .unwrap();
    assert_eq!(internet["status"], "not-met", "{internet}");
    assert_eq!(report["outcome"], "video-suitable");
    assert_eq!(report["urgent"], false);
}

/// A server that accepts connections and never says anything: the connection
/// test waits on it until its own time cap.
fn silent_server() -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming().flatten() {
            held.push(conn);
        }
    });
    addr
}

#[test]
fn a_signal_during_the_connection_test_leaves_no_report_and_no_temp_file() {
    let server = silent_server();
    let bin = assert_cmd::cargo::cargo_bin("session-ready");
    for (signal, code) in [("-TERM", 143), ("-INT", 130), ("-HUP", 129)] {
        let dir = tempfile::tempdir().unwrap();
        let report = dir.path().join("report.json");
        let mut command = StdCommand::new(&bin);
        for var in ENV_TO_CLEAR {
            command.env_remove(var);
        }
        let mut child = command
            .args(["check", "--no-device", "--format", "json", "--answers"])
            .arg(example("urgent"))
            .args([
                "--server",
                &format!("http://{server}"),
                "--max-seconds",
                "30",
            ])
            .arg("--output")
            .arg(&report)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Well into the connection test, which would wait up to 30 s on this server.
        std::thread::sleep(Duration::from_millis(800));
        assert!(child.try_wait().unwrap().is_none(), "still measuring");
        let sent = Instant::now();
        StdCommand::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .unwrap();
        let status = child.wait().unwrap();
        assert!(
            sent.elapsed() < Duration::from_secs(2),
            "{signal} took {:?}",
            sent.elapsed()
        );
        assert_eq!(status.code(), Some(code), "{signal}");
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
        assert!(left.is_empty(), "{signal} left {left:?}");
    }
}
