//! Shared by the report_* test modules: real reports made by running the
//! binary on the example answers, with the time and version pinned so
//! snapshots are stable.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

/// The example answers files (examples/answers/*.json), one per outcome.
pub const EXAMPLES: [&str; 5] = [
    "video-suitable",
    "video-with-adjustments",
    "in-person-recommended",
    "urgent",
    "all-skipped",
];

pub const PINNED_TIME: &str = "2026-01-15T10:30:00Z";
pub const PINNED_VERSION: &str = "0.0.0-test";

pub fn cmd() -> Command {
    let mut c = Command::cargo_bin("session-ready").unwrap();
    c.env_remove("NO_COLOR")
        .env_remove("SESSION_READY_PLAIN")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env("LANG", "C.UTF-8")
        // Dates are shown in local time: pinned, so the wording is the same
        // on every machine (tests that need a zone set their own).
        .env("TZ", "UTC");
    c
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn answers_path(name: &str) -> PathBuf {
    root().join("examples/answers").join(format!("{name}.json"))
}

/// The clinician copy `check --answers` makes from an example, as JSON,
/// with `generated_at` and `tool_version` pinned.
pub fn example_report(name: &str) -> Value {
    pinned_clinician_report(&answers_path(name))
}

/// `check --no-network --no-device --answers FILE`, a coordinator's check
/// from an answers file; callers add the format, view and output flags.
pub fn check_answers(answers: &Path) -> Command {
    let mut c = cmd();
    c.args(["check", "--no-network", "--no-device", "--answers"])
        .arg(answers);
    c
}

/// The clinician copy `check --answers` makes, as JSON, with `generated_at`
/// and `tool_version` pinned.
fn pinned_clinician_report(answers: &Path) -> Value {
    let out = check_answers(answers)
        .args(["--format", "json", "--view", "clinician"])
        .assert()
        .success();
    let mut report: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    report["generated_at"] = Value::from(PINNED_TIME);
    report["tool_version"] = Value::from(PINNED_VERSION);
    report
}

pub fn write_json(dir: &Path, name: &str, value: &Value) -> PathBuf {
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, serde_json::to_vec_pretty(value).unwrap()).unwrap();
    path
}

/// `session-ready report FILE --format F [--view V]`, stdout.
pub fn render(path: &Path, format: &str, view: Option<&str>) -> Vec<u8> {
    let mut c = cmd();
    c.arg("report").arg(path).args(["--format", format]);
    if let Some(v) = view {
        c.args(["--view", v]);
    }
    c.assert().success().get_output().stdout.clone()
}

pub fn render_text(path: &Path, format: &str, view: Option<&str>) -> String {
    String::from_utf8(render(path, format, view)).unwrap()
}

/// A measured connection, for reports that need one (the examples run
/// with --no-network).
pub fn measured_network() -> Value {
    serde_json::json!({
        "server": "http://127.0.0.1:8080",
        "stun_server": "127.0.0.1:8080",
        "download": {"mbps": 48.26, "bytes": 30000000, "streams": 4, "reason": null},
        "upload": {"mbps": 9.71, "bytes": 6000000, "streams": 2, "reason": null},
        "latency": {"idle_ms": 21.4, "min_ms": 18.0, "p90_ms": 30.2, "jitter_ms": 3.1,
                    "loaded_ms": 88.0, "samples": 20, "reason": null},
        "udp": null,
        "udp_reason": "UDP looks blocked on this network (no STUN replies)",
        "bytes_used": 36500000,
        "duration_s": 11.2,
        "video": {"rating": "fair", "mos": 4.1, "conclusive": true,
                  "reasons": ["Delay rises to 88 ms while the line is busy."]}
    })
}

/// Words the product never uses about a person or their result.
pub const VERDICT_WORDS: [&str; 5] = ["failed", "excluded", "unsuitable", "error!", "fail "];

pub fn assert_calm(text: &str) {
    let lower = text.to_lowercase();
    for word in VERDICT_WORDS {
        assert!(!lower.contains(word), "{word:?} in:\n{text}");
    }
}

/// A font's ToUnicode map: character code (two bytes, Identity-H) → text.
pub fn to_unicode(
    doc: &lopdf::Document,
    font: &lopdf::Dictionary,
) -> std::collections::BTreeMap<u16, String> {
    let mut map = std::collections::BTreeMap::new();
    let Ok(stream) = font
        .get(b"ToUnicode")
        .and_then(lopdf::Object::as_reference)
        .and_then(|id| doc.get_object(id))
        .and_then(lopdf::Object::as_stream)
    else {
        return map;
    };
    let data = stream
        .decompressed_content()
        .unwrap_or_else(|_| stream.content.clone());
    let text = String::from_utf8_lossy(&data);
    let hex = |s: &str| u32::from_str_radix(s.trim_matches(['<', '>']), 16).unwrap_or(0);
    let utf16 = |s: &str| {
        let s = s.trim_matches(['<', '>']);
        let units: Vec<u16> = (0..s.len() / 4)
            .map(|i| u16::from_str_radix(&s[i * 4..i * 4 + 4], 16).unwrap())
            .collect();
        String::from_utf16_lossy(&units)
    };
    let mut mode = "";
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            [.., "beginbfchar"] => mode = "char",
            [.., "beginbfrange"] => mode = "range",
            ["endbfchar"] | ["endbfrange"] => mode = "",
            [code, dst] if mode == "char" => {
                map.insert(hex(code) as u16, utf16(dst));
            }
            [lo, hi, dst] if mode == "range" && dst.starts_with('<') => {
                let start = utf16(dst).chars().next().map_or(0, u32::from);
                for (i, code) in (hex(lo)..=hex(hi)).enumerate() {
                    if let Some(c) = char::from_u32(start + i as u32) {
                        map.insert(code as u16, c.to_string());
                    }
                }
            }
            _ => {}
        }
    }
    map
}

/// The text of each page in drawing order, decoded through each font's
/// ToUnicode map (the fonts are Identity-H: two bytes per glyph).
pub fn page_texts(doc: &lopdf::Document) -> Vec<String> {
    doc.get_pages()
        .values()
        .map(|&page| {
            let maps: std::collections::BTreeMap<Vec<u8>, std::collections::BTreeMap<u16, String>> =
                doc.get_page_fonts(page)
                    .into_iter()
                    .map(|(name, font)| (name, to_unicode(doc, font)))
                    .collect();
            let content =
                lopdf::content::Content::decode(&doc.get_page_content(page).unwrap()).unwrap();
            let mut text = String::new();
            let mut font: Vec<u8> = Vec::new();
            let decode = |bytes: &[u8], font: &[u8], text: &mut String| {
                let map = &maps[font];
                for pair in bytes.chunks(2) {
                    let code = u16::from_be_bytes([pair[0], *pair.get(1).unwrap_or(&0)]);
                    text.push_str(map.get(&code).map_or("\u{FFFD}", String::as_str));
                }
            };
            for op in &content.operations {
                match op.operator.as_str() {
                    "Tf" => font = op.operands[0].as_name().unwrap().to_vec(),
                    "Tj" => {
                        if let Some(lopdf::Object::String(bytes, _)) = op.operands.first() {
                            decode(bytes, &font, &mut text);
                        }
                        text.push(' ');
                    }
                    "TJ" => {
                        for part in op.operands[0].as_array().unwrap() {
                            if let lopdf::Object::String(bytes, _) = part {
                                decode(bytes, &font, &mut text);
                            }
                        }
                        text.push(' ');
                    }
                    _ => {}
                }
            }
            text
        })
        .collect()
}

/// The clinician copy `check --answers` makes from answers given inline.
pub fn report_from_answers(answers: &Value) -> Value {
    let dir = tempfile::tempdir().unwrap();
    pinned_clinician_report(&write_json(dir.path(), "answers", answers))
}

/// A client who said yes to ASQ item 1 and chose "Finish now": item 5 was
/// never reached, so acuity is unknown.
pub fn acuity_unknown_report() -> Value {
    report_from_answers(&serde_json::json!({
        "region": "US",
        "answers": {"start.safe_now": "yes", "risk.asq1": "yes"}
    }))
}
