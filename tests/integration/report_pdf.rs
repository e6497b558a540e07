//! The PDF, checked the way a practice-management system, a screen reader and
//! a printer would meet it: it parses, has one or two pages, is far under
//! 5 MB, carries the dated title (on the page and in its metadata), is tagged
//! (structure tree, MarkInfo, Lang, XMP with PDF/UA and PDF/A claims), embeds
//! subset fonts that print Latin, Greek and Cyrillic as written, uses black
//! ink only, names the client on every page, and breaks pages without losing
//! text.

use crate::report_support::*;
use lopdf::{Document, Object, ObjectId};

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

/// Text with whitespace squeezed, since extraction splits lines.
fn flat(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A PDF text string: UTF-16BE with a byte-order mark, or PDFDocEncoding.
fn text_string(bytes: &[u8]) -> String {
    if bytes.starts_with(&[0xFE, 0xFF]) {
        let units: Vec<u16> = bytes[2..]
            .chunks(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        String::from_utf16(&units).unwrap()
    } else {
        bytes.iter().map(|&b| char::from(b)).collect()
    }
}

fn info_title(doc: &Document) -> String {
    let info = doc
        .trailer
        .get(b"Info")
        .and_then(Object::as_reference)
        .and_then(|id| doc.get_dictionary(id))
        .unwrap();
    text_string(info.get(b"Title").and_then(Object::as_str).unwrap())
}

fn catalog(doc: &Document) -> &lopdf::Dictionary {
    doc.catalog().unwrap()
}

fn resolve<'a>(doc: &'a Document, object: &'a Object) -> &'a Object {
    match object {
        Object::Reference(id) => doc.get_object(*id).unwrap(),
        other => other,
    }
}

/// The structure element types in reading order (depth first).
fn structure(doc: &Document) -> Vec<String> {
    fn walk(doc: &Document, object: &Object, out: &mut Vec<String>, seen: &mut Vec<ObjectId>) {
        if let Object::Reference(id) = object {
            if seen.contains(id) {
                return;
            }
            seen.push(*id);
        }
        match resolve(doc, object) {
            Object::Dictionary(d) => {
                if let Ok(kind) = d.get(b"S").and_then(Object::as_name_str) {
                    out.push(kind.to_string());
                }
                if let Ok(kids) = d.get(b"K") {
                    walk(doc, kids, out, seen);
                }
            }
            Object::Array(items) => {
                for item in items {
                    walk(doc, item, out, seen);
                }
            }
            _ => {}
        }
    }
    let root = catalog(doc).get(b"StructTreeRoot").unwrap();
    let mut out = Vec::new();
    walk(doc, root, &mut out, &mut Vec::new());
    out
}

#[test]
fn every_example_makes_a_one_to_two_page_pdf_with_the_dated_title() {
    let title = "Video-session readiness summary — 2026-01-15 (UTC)";
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
            assert!(!all.contains('\u{FFFD}'), "{name} {view}: {all}");
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

/// What PDF/UA and PDF/A checkers look for first: a structure tree in
/// reading order that opens with the one H1, MarkInfo, the document
/// language, XMP metadata claiming PDF/UA-1 and PDF/A-2, the title shown by
/// viewers, and a header version that matches the features used.
#[test]
fn the_pdf_is_tagged_with_metadata_and_a_true_version() {
    for name in ["urgent", "video-with-adjustments"] {
        let bytes = pdf_of(&example_report(name), "clinician");
        assert!(bytes.starts_with(b"%PDF-1.7"), "{name}: header version");
        let doc = Document::load_mem(&bytes).unwrap();
        let catalog = catalog(&doc);
        let marked = resolve(&doc, catalog.get(b"MarkInfo").unwrap())
            .as_dict()
            .unwrap()
            .get(b"Marked")
            .unwrap()
            .as_bool()
            .unwrap();
        assert!(marked, "{name}: MarkInfo /Marked true");
        let lang = text_string(
            resolve(&doc, catalog.get(b"Lang").unwrap())
                .as_str()
                .unwrap(),
        );
        assert_eq!(lang, "en");
        let prefs = resolve(&doc, catalog.get(b"ViewerPreferences").unwrap())
            .as_dict()
            .unwrap();
        assert!(prefs.get(b"DisplayDocTitle").unwrap().as_bool().unwrap());
        let xmp = resolve(&doc, catalog.get(b"Metadata").unwrap())
            .as_stream()
            .unwrap();
        let xmp = String::from_utf8_lossy(&xmp.content).into_owned();
        for claim in [
            "pdfuaid:part",
            "pdfaid:part",
            "Video-session readiness summary",
        ] {
            assert!(xmp.contains(claim), "{name}: {claim} missing from XMP");
        }

        let kinds = structure(&doc);
        let first_heading = kinds.iter().find(|k| k.starts_with('H')).unwrap();
        assert_eq!(first_heading, "H1", "{name}: {kinds:?}");
        assert_eq!(kinds.iter().filter(|k| *k == "H1").count(), 1, "{name}");
        for kind in ["H2", "H3", "P", "L", "LI", "Lbl", "LBody"] {
            assert!(
                kinds.iter().any(|k| k == kind),
                "{name}: no {kind} in {kinds:?}"
            );
        }
        // Urgent: the crisis box (a section with its own heading) comes
        // straight after the title, before the other sections.
        if name == "urgent" {
            let h1 = kinds.iter().position(|k| k == "H1").unwrap();
            let sect = kinds.iter().position(|k| k == "Sect").unwrap();
            let h2 = kinds.iter().position(|k| k == "H2").unwrap();
            assert!(h1 < sect && sect < h2, "{kinds:?}");
        }
    }
}

/// Every font is embedded as a subset (so the file prints the same anywhere
/// and can meet PDF/A) with a ToUnicode map (so text can be copied and read
/// aloud), and ink is black only.
#[test]
fn embedded_subset_fonts_and_black_ink() {
    let bytes = pdf_of(&example_report("in-person-recommended"), "clinician");
    let doc = Document::load_mem(&bytes).unwrap();
    let mut fonts = 0;
    let mut ink = 0;
    for (_, page) in doc.get_pages() {
        for (_, font) in doc.get_page_fonts(page) {
            fonts += 1;
            let base = font.get(b"BaseFont").and_then(Object::as_name_str).unwrap();
            // A subset is named with a six-letter tag: "ABCDEF+DejaVuSansCondensed".
            let (tag, family) = base.split_once('+').unwrap();
            assert!(
                tag.len() == 6 && tag.chars().all(|c| c.is_ascii_uppercase()),
                "{base}"
            );
            assert!(family.starts_with("DejaVuSansCondensed"), "{base}");
            assert!(font.get(b"ToUnicode").is_ok(), "{base}: no ToUnicode");
            let descendant = resolve(&doc, font.get(b"DescendantFonts").unwrap())
                .as_array()
                .unwrap()[0]
                .clone();
            let descendant = resolve(&doc, &descendant).as_dict().unwrap();
            let descriptor = resolve(&doc, descendant.get(b"FontDescriptor").unwrap())
                .as_dict()
                .unwrap();
            assert!(descriptor.get(b"FontFile2").is_ok(), "{base}: not embedded");
        }
        let content =
            lopdf::content::Content::decode(&doc.get_page_content(page).unwrap()).unwrap();
        for op in &content.operations {
            // Every colour set is zero in every component: black.
            if matches!(
                op.operator.as_str(),
                "g" | "G" | "rg" | "RG" | "k" | "K" | "sc" | "SC" | "scn" | "SCN"
            ) {
                ink += 1;
                for operand in &op.operands {
                    let v = operand
                        .as_float()
                        .unwrap_or_else(|_| operand.as_i64().unwrap() as f32);
                    assert_eq!(v, 0.0, "{op:?}");
                }
            }
        }
    }
    assert!(fonts >= 2, "regular and bold");
    assert!(ink >= 2, "no colour operators found to check");
    assert!(
        bytes.len() < 200_000,
        "{} bytes: subsets stay small",
        bytes.len()
    );
}

/// Greek, Cyrillic and Latin letters with diacritics print as written, not
/// as "?" or a replacement mark.
#[test]
fn greek_cyrillic_and_accented_latin_print_as_written() {
    let mut report = example_report("video-suitable");
    let plan = "Στο γραφείο μου · в моей комнате · Tāmaki Makaurau, Zürich, Łódź";
    report["session_plan"]["place"] = plan.into();
    report["client_ref"] = "Ωμέγα-7".into();
    let doc = Document::load_mem(&pdf_of(&report, "clinician")).unwrap();
    let all = flat(&page_texts(&doc).join(" "));
    assert!(all.contains(plan), "{all}");
    assert!(all.contains("Client: Ωμέγα-7"), "{all}");
    assert!(!all.contains("??") && !all.contains('\u{FFFD}'), "{all}");
}

/// Every page names the client (or, on the clinician copy without a
/// reference, leaves a line to write it on), so a loose sheet can be filed.
#[test]
fn every_page_names_the_client() {
    let mut report = example_report("video-suitable");
    // Every plan field near its 500-character limit runs onto a second page.
    for field in [
        "place",
        "comfort_items",
        "pause_signal",
        "nearby_contact",
        "if_call_drops",
    ] {
        let long: Vec<String> = (1..=60).map(|i| format!("w{i}")).collect();
        report["session_plan"][field] = long.join(" ").into();
    }
    report["client_ref"] = "RC-1043".into();
    let doc = Document::load_mem(&pdf_of(&report, "client")).unwrap();
    let texts = page_texts(&doc);
    assert!(texts.len() >= 2);
    for t in &texts {
        assert!(flat(t).contains("Client: RC-1043"), "{t}");
    }
    let mut report = example_report("video-suitable");
    report["client_ref"] = serde_json::Value::Null;
    let clinician = Document::load_mem(&pdf_of(&report, "clinician")).unwrap();
    assert!(flat(&page_texts(&clinician)[0]).contains("Client: ____"));
    let client = Document::load_mem(&pdf_of(&report, "client")).unwrap();
    assert!(!flat(&page_texts(&client)[0]).contains("Client:"));
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
    // Pinned so the advice does not depend on the test machine: `report`
    // works the ratings out again from these facts (one camera advice).
    report["device"]["facts"]["cpu_load_pct"] = 20.0.into();
    report["device"]["facts"]["cameras"] = serde_json::json!([]);
    report["device"]["facts"]["microphones"] = serde_json::json!(["Built-in microphone"]);
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
        "Agree with the client",
    ] {
        assert!(all.contains(expect), "{expect:?} missing: {all}");
    }
    // The connection's reasons are printed once, under Connection.
    let reason = "Delay rises to 88 ms while the line is busy.";
    assert_eq!(all.matches(reason).count(), 1, "{all}");
}

#[test]
fn plan_text_at_its_limits_keeps_every_word() {
    let mut report = example_report("video-suitable");
    // Every plan field at its limit of 500 characters (README: limits).
    let long: Vec<String> = (1..=400).map(|i| format!("w{i:03}")).collect();
    for (field, words) in [
        "place",
        "comfort_items",
        "pause_signal",
        "nearby_contact",
        "if_call_drops",
    ]
    .iter()
    .zip(long.chunks(80))
    {
        report["session_plan"][*field] = words.join(" ").into();
    }
    let doc = Document::load_mem(&pdf_of(&report, "clinician")).unwrap();
    let pages = doc.get_pages().len();
    // The limits keep it short: the type is tightened to fit, a page is
    // added only if it must be, and no word is lost either way.
    assert!(pages >= 2, "{pages} pages");
    let texts = page_texts(&doc);
    let all = flat(&texts.join(" "));
    for word in &long {
        assert!(all.contains(&format!("{word} ")), "{word} lost");
    }
    assert!(flat(&texts[pages - 1]).contains(&format!("Page {pages} of {pages}")));
    // Every page keeps the title in its footer, so a loose sheet is identifiable.
    for t in &texts {
        assert!(flat(t).contains("Video-session readiness summary — 2026-01-15 (UTC)"));
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

#[test]
fn a_positive_screen_of_unknown_acuity_starts_with_the_crisis_resources() {
    let report = acuity_unknown_report();
    let doc = Document::load_mem(&pdf_of(&report, "clinician")).unwrap();
    let first = flat(&page_texts(&doc)[0]);
    // Straight under the title, before the recommendation.
    let crisis = first.find("If you need support now").unwrap();
    let recommendation = first.find("Recommendation").unwrap();
    assert!(crisis < recommendation, "{first}");
    assert!(first.contains("988"), "{first}");
    assert!(
        first.contains("NIMH Ask Suicide-Screening Questions (ASQ)")
            && first.contains("acuity unknown"),
        "{first}"
    );
}

/// Each text span's language and text, in drawing order: the `/Lang` of
/// its marked content (`BDC /Span << /Lang … >>`), and its glyphs read back
/// through the font's Unicode map, with the glyph codes drawn.
type Drawn = (Option<String>, String, Vec<(u16, String)>);

fn spans_with_lang(doc: &Document) -> Vec<Drawn> {
    let mut out = Vec::new();
    for (_, &page) in doc.get_pages().iter() {
        let maps: std::collections::BTreeMap<Vec<u8>, std::collections::BTreeMap<u16, String>> =
            doc.get_page_fonts(page)
                .into_iter()
                .map(|(name, font)| (name, to_unicode(doc, font)))
                .collect();
        let content =
            lopdf::content::Content::decode(&doc.get_page_content(page).unwrap()).unwrap();
        let mut font: Vec<u8> = Vec::new();
        // Marked content nests (krilla wraps shaped glyphs in a span of
        // their own): inner text belongs to the outer span.
        let mut open: Vec<Option<Drawn>> = Vec::new();
        for op in &content.operations {
            match op.operator.as_str() {
                "BDC" | "BMC" => {
                    let span = op.operands.first().and_then(|o| o.as_name().ok()) == Some(b"Span");
                    let lang = match op.operands.get(1) {
                        Some(Object::Dictionary(d)) => d
                            .get(b"Lang")
                            .ok()
                            .and_then(|l| l.as_str().ok())
                            .map(text_string),
                        _ => None,
                    };
                    let outer = open.iter().any(Option::is_some);
                    open.push((span && !outer).then(|| (lang, String::new(), Vec::new())));
                }
                "EMC" => out.extend(open.pop().flatten()),
                "Tf" => font = op.operands[0].as_name().unwrap().to_vec(),
                "Tj" | "TJ" => {
                    let Some((_, text, codes)) = open.iter_mut().flatten().next() else {
                        continue;
                    };
                    let parts: Vec<&Object> = match op.operator.as_str() {
                        "Tj" => op.operands.iter().collect(),
                        _ => op.operands[0].as_array().unwrap().iter().collect(),
                    };
                    for part in parts {
                        if let Object::String(bytes, _) = part {
                            for pair in bytes.chunks(2) {
                                let code = u16::from_be_bytes([pair[0], pair[1]]);
                                let letter =
                                    maps[&font].get(&code).map_or("\u{FFFD}", String::as_str);
                                text.push_str(letter);
                                codes.push((code, letter.to_string()));
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    }
    out
}

/// Hebrew and Arabic plan text is laid out right to left by the Unicode
/// bidi algorithm, Arabic in its joining forms (shaped), and every span
/// whose letters are not Latin carries a fitting /Lang; the Latin text
/// around it stays left to right and in the document's `en`. Before, both
/// were drawn left to right, letter by letter (so they read backwards, the
/// Arabic unjoined), tagged `en`.
#[test]
fn hebrew_and_arabic_are_laid_out_right_to_left_shaped_and_language_tagged() {
    let mut report = example_report("video-suitable");
    let hebrew = "בחדר שלי ליד החלון";
    let arabic = "كوب شاي وبطانية";
    report["session_plan"]["place"] = hebrew.into();
    report["session_plan"]["comfort_items"] = arabic.into();
    report["session_plan"]["pause_signal"] = "I raise my hand / Στο γραφείο".into();
    let doc = Document::load_mem(&pdf_of(&report, "clinician")).unwrap();
    let spans = spans_with_lang(&doc);
    let find = |needle: &str| {
        spans
            .iter()
            .find(|(_, text, _)| text.trim() == needle)
            .unwrap_or_else(|| {
                let short: Vec<_> = spans.iter().map(|(l, t, _)| (l, t)).collect();
                panic!("no span {needle:?} in {short:?}")
            })
            .clone()
    };
    // Drawn in visual order: the glyphs, read left to right, give the text
    // backwards (each Arabic glyph a joining form that maps back to its letter).
    let reversed = |s: &str| s.chars().rev().collect::<String>();
    assert_eq!(find(&reversed(hebrew)).0.as_deref(), Some("he"));
    let (lang, _, codes) = find(&reversed(arabic));
    assert_eq!(lang.as_deref(), Some("und-Arab"));
    assert_eq!(find("Στο γραφείο").0.as_deref(), Some("el"));
    assert!(
        spans.iter().all(|(_, t, _)| !t.contains('\u{FFFD}')),
        "{spans:#?}"
    );
    // Latin text is not tagged again (the document is `en`).
    let latin = spans
        .iter()
        .find(|(_, t, _)| t.contains("I raise my hand"))
        .unwrap();
    assert_eq!(latin.0, None, "{latin:?}");
    // Joined: ب is final in كوب and initial in وبطانية, two glyphs of the
    // font for one letter; drawn letter by letter it would be one.
    let forms = |letter: &str| {
        let mut glyphs: Vec<u16> = codes
            .iter()
            .filter(|(_, l)| l == letter)
            .map(|(c, _)| *c)
            .collect();
        glyphs.sort_unstable();
        glyphs.dedup();
        glyphs.len()
    };
    assert_eq!(forms("ب"), 2, "{codes:?}");
}

/// Read back by poppler's `pdftotext` (an outside reader, as a clinic's
/// record system would extract text), Hebrew and Arabic plan text comes out
/// in reading order. Drawn left to right letter by letter, as before, it
/// came out backwards.
#[test]
fn pdftotext_reads_hebrew_and_arabic_in_reading_order() {
    let mut report = example_report("video-suitable");
    let hebrew = "בחדר שלי ליד החלון";
    let arabic = "كوب شاي وبطانية";
    report["session_plan"]["place"] = hebrew.into();
    report["session_plan"]["comfort_items"] = arabic.into();
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("r.pdf");
    std::fs::write(&pdf, pdf_of(&report, "clinician")).unwrap();
    let out = match std::process::Command::new("pdftotext")
        .arg(&pdf)
        .arg("-")
        .output()
    {
        Ok(out) => out,
        Err(e) => {
            crate::tools::skip_or_fail(
                &format!("pdftotext could not run ({e})"),
                "Install it with apt-get install poppler-utils",
            );
            return;
        }
    };
    assert!(out.status.success(), "{out:?}");
    // pdftotext marks right-to-left runs with embedding controls; the words
    // between them are what a reader copies.
    let text: String = String::from_utf8(out.stdout)
        .unwrap()
        .chars()
        .filter(|c| !matches!(c, '\u{202A}'..='\u{202E}'))
        .collect();
    assert!(text.contains(hebrew), "{text}");
    assert!(text.contains(arabic), "{text}");
}
