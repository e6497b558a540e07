//! The PDF, checked the way a practice-management system and a printer would
//! meet it: it parses, has one or two pages, is far under 5 MB, carries the
//! dated title (on the page and in its metadata), uses only built-in fonts
//! and black ink, and breaks pages without losing text.

use crate::report_support::*;
use lopdf::{Document, Object};

const MAX_UPLOAD: usize = 5 * 1024 * 1024;

fn pdf_of(report: &serde_json::Value, view: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let path = write_json(dir.path(), "r", report);
    let out = dir.path().join("r.pdf");
    cmd()
        .arg("report")
        .arg(&path)
        .args(["--format", "pdf", "--view", view, "--output"])
        .arg(&out)
        .assert()
        .success();
    std::fs::read(&out).unwrap()
}

/// The text of each page, in drawing order. Decoded as WinAnsiEncoding, the
/// encoding the fonts declare (lopdf's own extract_text falls back to
/// StandardEncoding here and loses the dashes).
fn page_texts(doc: &Document) -> Vec<String> {
    doc.get_pages()
        .values()
        .map(|&page| {
            let content =
                lopdf::content::Content::decode(&doc.get_page_content(page).unwrap()).unwrap();
            let mut text = String::new();
            for op in content.operations.iter().filter(|op| op.operator == "Tj") {
                if let Some(Object::String(bytes, _)) = op.operands.first() {
                    text.push_str(&Document::decode_text(Some("WinAnsiEncoding"), bytes));
                    text.push(' ');
                }
            }
            text
        })
        .collect()
}

/// Text with whitespace squeezed, since extraction splits lines.
fn flat(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn info_title(doc: &Document) -> String {
    let info = doc
        .trailer
        .get(b"Info")
        .and_then(Object::as_reference)
        .and_then(|id| doc.get_dictionary(id))
        .unwrap();
    let bytes = info.get(b"Title").and_then(Object::as_str).unwrap();
    // UTF-16BE with a byte-order mark, as PDF text strings with non-Latin characters are.
    assert_eq!(&bytes[..2], &[0xFE, 0xFF]);
    let units: Vec<u16> = bytes[2..]
        .chunks(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect();
    String::from_utf16(&units).unwrap()
}

#[test]
fn every_example_makes_a_one_to_two_page_pdf_with_the_dated_title() {
    let title = "Video-session readiness summary — 2026-01-15";
    for name in EXAMPLES {
        let report = example_report(name);
        for view in ["client", "clinician"] {
            let bytes = pdf_of(&report, view);
            assert!(
                bytes.len() < MAX_UPLOAD,
                "{name} {view}: {} bytes",
                bytes.len()
            );
            let doc = Document::load_mem(&bytes).unwrap();
            let pages = doc.get_pages().len();
            assert!((1..=2).contains(&pages), "{name} {view}: {pages} pages");
            assert_eq!(info_title(&doc), title);
            let texts = page_texts(&doc);
            let first = flat(&texts[0]);
            assert!(first.contains(title), "{name} {view}: {first}");
            assert!(
                first.contains(&format!("Page 1 of {pages}")),
                "{name} {view}"
            );
            let all = flat(&texts.join(" "));
            assert!(all.contains("If you need support now"), "{name} {view}");
            assert_calm(&all);
            if view == "client" {
                assert!(
                    !all.contains("risk.asq"),
                    "{name}: risk answer in client PDF"
                );
            } else {
                assert!(
                    all.contains("risk.asq1"),
                    "{name}: clinician PDF lacks risk answers"
                );
                assert!(
                    all.contains("Ask Suicide-Screening Questions (ASQ)"),
                    "{name}"
                );
            }
        }
    }
}

#[test]
fn urgent_pdf_starts_with_the_crisis_resources() {
    let report = example_report("urgent");
    for view in ["client", "clinician"] {
        let doc = Document::load_mem(&pdf_of(&report, view)).unwrap();
        let first = flat(&page_texts(&doc)[0]);
        // The title first (the one H1), the crisis box straight under it.
        let crisis = first.find("If you need support now").unwrap();
        let title = first.find("Video-session readiness summary").unwrap();
        let recommendation = first.find("Recommendation").unwrap();
        assert!(title < crisis && crisis < recommendation, "{view}: {first}");
        assert!(first.contains("call 000"), "{first}");
    }
}

#[test]
fn only_built_in_fonts_and_black_ink() {
    let bytes = pdf_of(&example_report("in-person-recommended"), "clinician");
    let doc = Document::load_mem(&bytes).unwrap();
    let mut black_set = 0;
    for (_, page) in doc.get_pages() {
        for (_, font) in doc.get_page_fonts(page) {
            let base = font.get(b"BaseFont").and_then(Object::as_name_str).unwrap();
            assert!(base.starts_with("Helvetica"), "{base}");
        }
        let content =
            lopdf::content::Content::decode(&doc.get_page_content(page).unwrap()).unwrap();
        for op in &content.operations {
            // Colour operators: only grey 0 (black) is ever set.
            if matches!(
                op.operator.as_str(),
                "rg" | "RG" | "k" | "K" | "sc" | "SC" | "scn" | "SCN"
            ) {
                panic!("colour operator {op:?}");
            }
            if matches!(op.operator.as_str(), "g" | "G") {
                let v = op.operands[0]
                    .as_float()
                    .unwrap_or_else(|_| op.operands[0].as_i64().unwrap() as f32);
                assert_eq!(v, 0.0, "{op:?}");
                black_set += 1;
            }
        }
    }
    // Ink is set explicitly to black on every page, so there is something to check.
    assert!(black_set >= 2, "no grey/black ink operators found");
}

#[test]
fn a_full_report_with_connection_device_plan_and_clinic_still_fits_two_pages() {
    let mut report = example_report("video-with-adjustments");
    report["network"] = measured_network();
    report["network_reason"] = serde_json::Value::Null;
    report["clinic"] = serde_json::json!({"name": "Riverside Counselling", "dropped_call_phone": "+44 20 7946 0000"});
    report["session_plan"] = serde_json::json!({
        "place": "the box room upstairs, with the door shut",
        "comfort_items": "water, tissues, a blanket",
        "pause_signal": "hold up my hand",
        "nearby_contact": "my sister, who lives two streets away",
        "if_call_drops": "ring my mobile"
    });
    // A device section as `check` writes it on a machine short of a camera.
    let device = cmd()
        .args(["check", "--device", "--format", "json"])
        .assert()
        .success();
    report["device"] = serde_json::from_slice(&device.get_output().stdout).unwrap();
    let bytes = pdf_of(&report, "clinician");
    let doc = Document::load_mem(&bytes).unwrap();
    assert!(
        doc.get_pages().len() <= 2,
        "{} pages",
        doc.get_pages().len()
    );
    let all = flat(&page_texts(&doc).join(" "));
    for expect in [
        "For a one-to-one video call: fair",
        "Riverside Counselling",
        "hold up my hand",
        "Device",
    ] {
        assert!(all.contains(expect), "{expect:?} missing: {all}");
    }
}

#[test]
fn long_free_text_flows_onto_more_pages_without_losing_a_word() {
    let mut report = example_report("video-suitable");
    let long: Vec<String> = (1..=700).map(|i| format!("word{i}")).collect();
    report["session_plan"]["comfort_items"] = long.join(" ").into();
    let doc = Document::load_mem(&pdf_of(&report, "clinician")).unwrap();
    let pages = doc.get_pages().len();
    assert!(pages >= 3, "{pages} pages");
    let texts = page_texts(&doc);
    let all = flat(&texts.join(" "));
    for word in &long {
        assert!(all.contains(&format!("{word} ")), "{word} lost");
    }
    assert!(flat(&texts[pages - 1]).contains(&format!("Page {pages} of {pages}")));
    // Every page keeps the title in its footer, so a loose sheet is identifiable.
    for t in &texts {
        assert!(flat(t).contains("Video-session readiness summary — 2026-01-15"));
    }
}

#[test]
fn letter_paper_for_north_america_a4_elsewhere() {
    let size = |region: &str| {
        let mut r = example_report("video-suitable");
        r["region"] = region.into();
        let doc = Document::load_mem(&pdf_of(&r, "client")).unwrap();
        let (_, page) = doc.get_pages().into_iter().next().unwrap();
        let media = doc
            .get_dictionary(page)
            .unwrap()
            .get(b"MediaBox")
            .unwrap()
            .as_array()
            .unwrap()
            .clone();
        let w = media[2]
            .as_float()
            .unwrap_or_else(|_| media[2].as_i64().unwrap() as f32);
        w.round() as i64
    };
    assert_eq!(size("US"), 612);
    assert_eq!(size("GB"), 595);
}
