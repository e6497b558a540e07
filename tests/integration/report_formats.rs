//! Markdown, plain text and the client/clinician views, from reports that
//! `check --answers` makes from every example answers file. Snapshots pin the
//! wording; the other tests pin the product rules in every format.

use crate::report_support::*;

/// Render every example in `format` for both views and hand each to `check`.
fn each_rendering(format: &str, mut check: impl FnMut(&str, &str, &serde_json::Value, String)) {
    let dir = tempfile::tempdir().unwrap();
    for name in EXAMPLES {
        let report = example_report(name);
        let path = write_json(dir.path(), name, &report);
        for view in ["client", "clinician"] {
            check(name, view, &report, render_text(&path, format, Some(view)));
        }
    }
}

#[test]
fn markdown_snapshots() {
    each_rendering("markdown", |name, view, _, text| {
        insta::assert_snapshot!(format!("markdown-{name}-{view}"), text);
    });
}

#[test]
fn text_snapshots() {
    each_rendering("text", |name, view, _, text| {
        insta::assert_snapshot!(format!("text-{name}-{view}"), text);
    });
}

/// The screen layout (`report FILE` on a terminal, without colour here).
#[test]
fn terminal_snapshots() {
    each_rendering("terminal", |name, view, _, text| {
        insta::assert_snapshot!(format!("terminal-{name}-{view}"), text);
    });
}

/// The saved text copy's headline (the recommendation before the ASQ
/// result), its call to act (clinician copy, when the ASQ asks for one) and
/// its closing sentence.
fn saved_words(text: &str) -> (String, Vec<String>, String) {
    let lines: Vec<&str> = text.lines().collect();
    let heading = lines.iter().position(|l| *l == "Recommendation").unwrap();
    // Heading, underline, the outcome in bold, a blank line, the paragraph.
    let paragraph = lines[heading + 4];
    let headline = [
        "Suicide risk screen",
        "Questions about how you have been feeling",
    ]
    .iter()
    .find_map(|lead| paragraph.find(lead))
    .map_or(paragraph, |at| &paragraph[..at]);
    let alerts = lines
        .iter()
        .filter(|l| l.starts_with("Urgent: ") || l.starts_with("Same-day follow-up: "))
        .map(|l| l.to_string())
        .collect();
    let closing = lines.last().unwrap().trim_matches(['(', ')']);
    (headline.trim().to_string(), alerts, closing.to_string())
}

/// The screen says what the saved copy of the same view says: headline,
/// call to act and closing sentence, in the clinician's words for the
/// clinician copy and the client's for the client copy.
#[test]
fn the_screen_speaks_as_the_saved_copy_of_its_view() {
    let dir = tempfile::tempdir().unwrap();
    let mut alerts_seen = 0;
    for name in EXAMPLES {
        let report = example_report(name);
        let path = write_json(dir.path(), name, &report);
        for view in ["client", "clinician"] {
            let saved = render_text(&path, "text", Some(view));
            let screen = render_text(&path, "terminal", Some(view));
            let (headline, alerts, closing) = saved_words(&saved);
            assert!(
                screen.contains(&headline),
                "{name} {view}: {headline}\n{screen}"
            );
            assert!(
                screen.contains(&closing),
                "{name} {view}: {closing}\n{screen}"
            );
            for alert in &alerts {
                assert!(screen.contains(alert), "{name} {view}: {alert}\n{screen}");
            }
            alerts_seen += alerts.len();
            // The FHIR narrative, the human-readable part of that format.
            let fhir: serde_json::Value =
                serde_json::from_slice(&render(&path, "fhir", Some(view))).unwrap();
            let narrative = fhir["text"]["div"].as_str().unwrap();
            assert!(narrative.contains(&headline), "{name} {view}: {narrative}");
            let client_closing = "talk through with your therapist, not a decision";
            let client_headline = report["headline"].as_str().unwrap();
            if view == "clinician" {
                assert!(!screen.contains(client_closing), "{name}: {screen}");
                assert!(!screen.contains(client_headline), "{name}: {screen}");
            } else {
                assert!(screen.contains(client_closing), "{name}: {screen}");
                // The client copy's own headline, which names no left-out answer.
                let copy: serde_json::Value =
                    serde_json::from_slice(&render(&path, "json", Some(view))).unwrap();
                assert_eq!(headline, copy["headline"].as_str().unwrap(), "{name}");
            }
        }
    }
    assert!(
        alerts_seen > 0,
        "the urgent example's clinician copy has a call to act"
    );
}

/// Where a heading or phrase first appears, or a failure naming it.
fn position(text: &str, needle: &str) -> usize {
    text.find(needle)
        .unwrap_or_else(|| panic!("{needle:?} missing from:\n{text}"))
}

#[test]
fn crisis_resources_always_appear_and_come_first_when_urgent() {
    for format in ["markdown", "text"] {
        each_rendering(format, |name, view, report, text| {
            let crisis = position(&text.to_lowercase(), "if you need support now");
            let title = position(&text, "Video-session readiness summary");
            let first_contact = report["crisis_resources"][0]["contact"].as_str().unwrap();
            position(&text, first_contact);
            if report["urgent"] == true {
                // Straight under the title, before the recommendation.
                let recommendation = position(&text, "Recommendation");
                assert!(
                    title < crisis && crisis < recommendation,
                    "{name} {view} {format}: crisis must come first"
                );
                assert!(
                    !text[..title].contains("Made "),
                    "{name} {view} {format}: nothing before the title"
                );
            } else {
                assert!(crisis > title, "{name} {view} {format}");
            }
        });
    }
}

/// The client copy may be read by anyone in the client's home: in every
/// format it holds no answer about home, contact with other people or risk
/// (ids, question wording or the criteria they decide), no ASQ result and
/// no urgency; the clinician copy holds them all.
#[test]
fn the_client_copy_holds_nothing_a_watched_home_should_not_read() {
    let bank = session_ready::questionnaire::bank();
    let withheld: Vec<_> = bank
        .questions
        .iter()
        .filter(|q| bank.withheld_from_client(&q.id))
        .collect();
    for section in ["home", "isolation", "risk"] {
        assert!(withheld.iter().any(|q| q.section == section), "{section}");
    }
    let revealing = [
        "ASQ",
        "acuity",
        "Urgent",
        "urgent",
        "Suicide risk",
        "suicide safety",
        "Same-day",
        "loneliness",
        "home-safety",
        "\"isolation\"",
        "talk with someone today",
        "someone has come in",
        "Contact with care",
        "may be monitored",
        "watched-home",
    ];
    // The left-out criteria are not named with a status either.
    let statuses: Vec<String> = [
        "Safety at home",
        "Contact with other people",
        "How you have",
    ]
    .iter()
    .flat_map(|title| {
        ["points to", "fine for video", "not known yet"].map(|status| format!("{title}: {status}"))
    })
    .collect();
    let check = |name: &str, format: &str, view: &str, text: &str| {
        let flat = text.replace(['\\', '\n'], " ").replace("  ", " ");
        for q in &withheld {
            if view == "client" {
                assert!(!flat.contains(&q.id), "{name} {format}: {}\n{text}", q.id);
                assert!(!flat.contains(&q.text), "{name} {format}: {}", q.text);
            }
        }
        if view == "client" {
            for word in revealing
                .iter()
                .copied()
                .chain(statuses.iter().map(String::as_str))
                // The JSON's field names are the contract; its value is null.
                .filter(|word| format != "json" || *word != "urgent")
            {
                assert!(!flat.contains(word), "{name} {format}: {word:?}\n{text}");
            }
            let human = format != "json" && format != "fhir";
            assert!(
                !human
                    || flat
                        .contains("home, contact with other people and how you have been feeling"),
                "{name} {format}: the copy says what it leaves out\n{text}"
            );
        } else if format != "terminal" {
            assert!(flat.contains("risk.asq1"), "{name} {format} clinician");
        }
    };
    for format in ["markdown", "text", "json", "fhir", "terminal"] {
        each_rendering(format, |name, view, _, text| {
            if format == "json" || format == "fhir" {
                // Machine formats hold the ids, and the JSON says it cannot
                // tell urgency rather than "not urgent".
                let value: serde_json::Value = serde_json::from_str(&text).unwrap();
                if format == "json" && view == "client" {
                    assert_eq!(value["urgent"], serde_json::Value::Null, "{name}");
                    assert_eq!(value["risk_screen"], serde_json::Value::Null, "{name}");
                }
            }
            check(name, format, view, &text)
        });
    }
    let dir = tempfile::tempdir().unwrap();
    for name in EXAMPLES {
        let path = write_json(dir.path(), name, &example_report(name));
        for view in ["client", "clinician"] {
            let pdf = lopdf::Document::load_mem(&render(&path, "pdf", Some(view))).unwrap();
            let text = page_texts(&pdf).join(" ");
            // Words are drawn one by one in the PDF: compare without spaces.
            let squeeze = |s: &str| s.split_whitespace().collect::<String>();
            let text = squeeze(&text);
            if view == "client" {
                for q in &withheld {
                    assert!(!text.contains(&squeeze(&q.text)), "{name} pdf: {}", q.text);
                }
                for word in revealing {
                    assert!(!text.contains(&squeeze(word)), "{name} pdf: {word}");
                }
            } else {
                assert!(text.contains("risk.asq1"), "{name} pdf clinician");
            }
        }
        // The page's copy (HTML fragment) is drawn from the same client copy.
        let report: session_ready::report::Report =
            serde_json::from_value(example_report(name)).unwrap();
        let html = session_ready::report::html::render(&report.client_copy(), 2);
        check(name, "html", "client", &html);
    }
}

#[test]
fn the_clinician_copy_shows_risk_answers_with_the_asq_attributed() {
    let bank = session_ready::questionnaire::bank();
    let asq = bank.source("asq").unwrap().cite.clone();
    let ucla = bank.source("ucla3").unwrap().cite.clone();
    for format in ["markdown", "text"] {
        each_rendering(format, |name, view, _, text| {
            let flat = text.replace('\\', "");
            if view == "clinician" {
                assert!(flat.contains(&asq), "{name} {format}: ASQ not attributed");
                assert!(flat.contains(&bank.question("risk.asq3").unwrap().text));
            } else {
                assert!(
                    !flat.contains(&asq),
                    "{name} {format}: no ASQ items, no ASQ credit"
                );
            }
            // The three loneliness items are in the clinician copy only.
            assert_eq!(
                flat.contains(&ucla),
                view == "clinician",
                "{name} {view} {format}: UCLA-3 attributed where its items are"
            );
        });
    }
}

#[test]
fn skips_are_shown_as_skipped_never_as_no() {
    each_rendering("text", |name, view, report, text| {
        let skipped = report["answers"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(id, a)| {
                *a == "skipped"
                    && (view == "clinician"
                        || !session_ready::questionnaire::bank().withheld_from_client(id))
            })
            .count();
        let shown = text.matches("— skipped").count();
        assert!(
            shown >= skipped,
            "{name}: {skipped} skips but {shown} shown:\n{text}"
        );
        if skipped > 0 {
            assert!(text.contains("never counted as a no"), "{name}");
        }
    });
    // The all-skipped example says so for every question it shows.
    let dir = tempfile::tempdir().unwrap();
    let path = write_json(dir.path(), "s", &example_report("all-skipped"));
    let text = render_text(&path, "text", Some("clinician"));
    for line in text
        .lines()
        .filter(|l| l.starts_with("- ") && l.contains("? — "))
    {
        assert!(line.contains("— skipped"), "{line}");
    }
}

#[test]
fn wording_stays_calm_and_plain_in_every_text_format() {
    for format in ["markdown", "text", "fhir"] {
        each_rendering(format, |name, view, _, text| {
            assert_calm(&text);
            assert!(
                !text.contains('\x1b'),
                "{name} {view} {format}: escape codes"
            );
        });
    }
}

#[test]
fn check_offers_every_format_directly() {
    for (format, expect) in [
        ("markdown", "# Video-session readiness summary"),
        ("text", "Video-session readiness summary"),
        ("fhir", "\"resourceType\": \"QuestionnaireResponse\""),
        ("pdf", "%PDF-"),
        ("json", "\"schema\": \"session-ready/report/v1\""),
    ] {
        let out = cmd()
            .args(["check", "--no-network", "--no-device", "--format", format])
            .arg("--answers")
            .arg(answers_path("video-with-adjustments"))
            .assert()
            .success();
        let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
        assert!(stdout.contains(expect), "{format}: {stdout}");
    }
}

#[test]
fn a_report_file_is_private_and_the_clinician_copy_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_json(dir.path(), "r", &example_report("urgent"));
    let out = dir.path().join("summary.md");
    cmd()
        .arg("report")
        .arg(&path)
        .args(["--format", "markdown", "--output"])
        .arg(&out)
        .assert()
        .success();
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains("Clinician copy"), "{text}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&out).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // On screen too, without --view, it is the file's own copy (issue 24, item 7).
    let shown = render_text(&path, "markdown", None);
    assert!(shown.contains("Clinician copy"), "{shown}");
    // --view client still gives the client copy.
    let client = render_text(&path, "markdown", Some("client"));
    assert!(client.contains("Client copy") && !client.contains("risk.asq"));
}

/// Issue 24, item 7: `report FILE` showed a clinician copy as the client
/// view (no urgent line); `--format json > out` wrote the client view while
/// `--output -` wrote the full copy; the clinician screen had no date, time
/// or region. Now every way shows the file's own view, urgent line first.
#[test]
fn report_shows_the_files_own_view_with_the_urgent_line_first() {
    let dir = tempfile::tempdir().unwrap();
    let clinician = write_json(dir.path(), "urgent", &example_report("urgent"));
    let screen = render_text(&clinician, "terminal", None);
    assert!(screen.starts_with("Urgent: "), "{screen}");
    assert!(
        screen.contains("Made 2026-") && screen.contains("region for support numbers: AU"),
        "{screen}"
    );
    assert!(screen.contains("Clinician copy"), "{screen}");
    // The same view whichever way the JSON leaves.
    let piped = render(&clinician, "json", None);
    let dash = cmd()
        .arg("report")
        .arg(&clinician)
        .args(["--format", "json", "--output", "-"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(piped, dash);
    let piped: serde_json::Value = serde_json::from_slice(&piped).unwrap();
    assert_eq!(piped["view"], "clinician");
    // Every format of the clinician copy puts the urgent line before the body.
    for format in ["markdown", "text"] {
        let text = render_text(&clinician, format, None);
        let urgent = text
            .find("Urgent:")
            .unwrap_or_else(|| panic!("{format}: {text}"));
        let body = text.find("What was looked at").unwrap();
        assert!(urgent < body, "{format}: {text}");
    }

    // A client copy opens as the client copy, wherever it goes.
    let client_copy: serde_json::Value =
        serde_json::from_slice(&render(&clinician, "json", Some("client"))).unwrap();
    let client = write_json(dir.path(), "client", &client_copy);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&render(&client, "json", None)).unwrap()["view"],
        "client"
    );
    let screen = render_text(&client, "terminal", None);
    assert!(
        !screen.contains("Urgent:") && !screen.contains("risk.asq"),
        "{screen}"
    );
}

#[test]
fn a_measured_connection_and_a_clinic_appear_in_the_text() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = example_report("video-suitable");
    r["network"] = measured_network();
    r["network_reason"] = serde_json::Value::Null;
    r["clinic"] = serde_json::json!({"name": "Riverside", "dropped_call_phone": "020 7946 0000"});
    r["questionnaire_status"] = "stopped".into();
    let path = write_json(dir.path(), "r", &r);
    let text = render_text(&path, "text", Some("clinician"));
    for expect in [
        "For a one-to-one video call: fair.",
        "Download 48.3 Mbit/s; upload 9.7 Mbit/s.",
        "Audio-like test: not measured (UDP looks blocked",
        "Delay rises to 88 ms",
        "Clinic: Riverside",
        "Clinic number if a video call drops: 020 7946 0000",
        "stopped before the end",
    ] {
        assert!(text.contains(expect), "{expect:?} missing:\n{text}");
    }
}

/// Render Markdown as GitHub does (CommonMark + GFM extensions).
fn gfm_html(markdown: &str) -> String {
    let mut options = comrak::Options::default();
    options.extension.autolink = true;
    options.extension.strikethrough = true;
    options.extension.table = true;
    options.extension.tasklist = true;
    options.extension.footnotes = true;
    comrak::markdown_to_html(markdown, &options)
}

/// The same Markdown through cmark-gfm, GitHub's own renderer, with its
/// extensions; `None` (said loudly) when it is not installed, unless
/// SESSION_READY_REQUIRE_TOOLS=1 (as .ci/run sets) makes it required.
fn cmark_gfm_html(markdown: &str) -> Option<String> {
    use std::io::Write;
    let child = std::process::Command::new("cmark-gfm")
        .args([
            "-e",
            "autolink",
            "-e",
            "strikethrough",
            "-e",
            "table",
            "-e",
            "tasklist",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) => {
            assert!(
                std::env::var("SESSION_READY_REQUIRE_TOOLS").as_deref() != Ok("1"),
                "cmark-gfm is required (SESSION_READY_REQUIRE_TOOLS=1) but could not run: {e}"
            );
            eprintln!(
                "SKIPPED: the cmark-gfm check of the Markdown (cmark-gfm could not run: {e}; \
                 apt-get install cmark-gfm)"
            );
            return None;
        }
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(markdown.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    Some(String::from_utf8(out.stdout).unwrap())
}

/// Plan text that GFM would turn into links, strikethrough or a table stays
/// text: no `<a`, no `<del`, no `<table`, every character still shown, under
/// comrak and under cmark-gfm; and every report opens with its one h1,
/// urgent ones too.
#[test]
fn free_text_stays_text_under_github_flavoured_markdown() {
    let dir = tempfile::tempdir().unwrap();
    let hostile = [
        "http://evil.example/x",
        "https://evil.example/y?q=1",
        "www.evil.example",
        "WWW.evil.example/z",
        "mail@evil.example",
        "mailto:mail@evil.example",
        "xmpp:who@evil.example",
        "ftp://evil.example",
        "~~struck~~ and ~one~",
        "a | b",
        "[^1] and [ ] task",
        "<https://evil.example>",
        "&lt;b&gt; &amp;",
        "foo\\@evil.example",
        "mailto:a\\@evil.example",
        "xmpp:a\\@evil.example",
        "a.b@c.evil.example",
    ];
    for name in EXAMPLES {
        let mut r = example_report(name);
        r["session_plan"] = serde_json::json!({
            "place": hostile.join(" "),
            "pause_signal": "- [ ] tick",
            "comfort_items": "| x | y |",
            "nearby_contact": "---",
            "if_call_drops": "=== www.evil.example",
        });
        r["clinic"] = serde_json::json!({"name": "Riverside http://evil.example",
            "dropped_call_phone": "call@evil.example"});
        r["client_ref"] = "ref@evil.example mailto:x@evil.example".into();
        let path = write_json(dir.path(), name, &r);
        for view in ["client", "clinician"] {
            let md = render_text(&path, "markdown", Some(view));
            assert!(md.starts_with("# "), "{name} {view}: h1 first:\n{md}");
            assert_eq!(
                md.lines().filter(|l| l.starts_with("# ")).count(),
                1,
                "{name} {view}: one h1"
            );
            for html in std::iter::once(gfm_html(&md)).chain(cmark_gfm_html(&md)) {
                for tag in ["<a", "<del", "<table", "<input", "<sup", "<hr", "<h1>Video"] {
                    if tag == "<h1>Video" {
                        assert!(html.starts_with(tag), "{name} {view}: {html}");
                    } else {
                        assert!(!html.contains(tag), "{name} {view}: {tag} in\n{html}");
                    }
                }
                // Escaping hides nothing: the words are all still there
                // (the empty comment after an `@` shows as nothing).
                let shown = html.replace("<!-- raw HTML omitted -->", "");
                for text in [
                    "http://evil.example/x",
                    "mail@evil.example",
                    "~~struck~~",
                    "a | b",
                    "foo\\@evil.example",
                    "ref@evil.example",
                ] {
                    assert!(
                        shown.contains(text),
                        "{name} {view}: {text} lost in\n{html}"
                    );
                }
            }
        }
    }
}

#[test]
fn free_text_cannot_inject_markdown() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = example_report("video-suitable");
    r["session_plan"]["place"] = "<img src=x onerror=alert(1)> [click](http://x) # heading".into();
    let path = write_json(dir.path(), "r", &r);
    let md = render_text(&path, "markdown", Some("clinician"));
    assert!(
        md.contains("\\<img src=x onerror=alert(1)\\> \\[click\\](http\\://x) # heading"),
        "{md}"
    );
}

#[test]
fn a_pdf_is_not_sent_to_a_terminal_but_is_to_a_pipe() {
    // assert_cmd's stdout is a pipe, so the PDF arrives there.
    let dir = tempfile::tempdir().unwrap();
    let path = write_json(dir.path(), "r", &example_report("video-suitable"));
    let bytes = render(&path, "pdf", None);
    assert!(bytes.starts_with(b"%PDF-"));
}

#[test]
fn every_report_names_its_asq_result_credited_to_the_nimh() {
    let expected = [
        ("video-suitable", "negative"),
        ("video-with-adjustments", "incomplete"),
        ("in-person-recommended", "negative"),
        ("urgent", "positive-acute"),
        ("all-skipped", "incomplete"),
    ];
    for (name, screen) in expected {
        assert_eq!(example_report(name)["risk_screen"], screen, "{name}");
    }
    for format in ["markdown", "text", "terminal"] {
        each_rendering(format, |name, view, report, text| {
            let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
            // The client copy names no screen at all: it may be read by
            // someone else in the home.
            assert_eq!(
                flat.contains("NIMH Ask Suicide-Screening Questions (ASQ)"),
                view == "clinician",
                "{name} {view} {format}: {text}"
            );
            if view == "clinician" {
                let words = match report["risk_screen"].as_str().unwrap() {
                    "negative" => "Negative — no further screening needed now",
                    "incomplete" => "Incomplete — not all of questions 1 to 4 answered, none yes",
                    "positive-acute" => "Positive, acute (imminent risk)",
                    other => panic!("{other}"),
                };
                assert!(flat.contains(words), "{name} {format}: {text}");
            }
        });
    }
}

#[test]
fn a_positive_screen_of_unknown_acuity_is_never_quiet_in_any_format() {
    let report = acuity_unknown_report();
    assert_eq!(report["risk_screen"], "positive-acuity-unknown");
    assert_eq!(report["urgent"], false, "urgent stays true only for acute");
    let dir = tempfile::tempdir().unwrap();
    let path = write_json(dir.path(), "stopped-early", &report);
    for format in ["markdown", "text", "terminal"] {
        for view in ["client", "clinician"] {
            let text = render_text(&path, format, Some(view));
            let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
            let crisis = position(&text.to_lowercase(), "if you need support now");
            let title = position(
                &text,
                if format == "terminal" {
                    "Your readiness report"
                } else {
                    "Video-session readiness summary"
                },
            );
            if format == "terminal" {
                assert!(crisis < title, "{format} {view}: crisis first:\n{text}");
            } else {
                // Straight under the title (the one h1), before the recommendation.
                let recommendation = position(&text, "Recommendation");
                assert!(
                    title < crisis && crisis < recommendation,
                    "{format} {view}: crisis first:\n{text}"
                );
            }
            assert!(flat.contains("call or text 988"), "{format} {view}");
            if view == "clinician" {
                assert!(
                    flat.contains(
                        "Positive, acuity unknown (question 5 not answered) — same-day safety \
                         follow-up needed: brief suicide safety assessment, because acuity is \
                         unknown"
                    ),
                    "{format}: {text}"
                );
            } else {
                assert!(!flat.contains("ASQ"), "{format}: {text}");
            }
        }
    }
    // FHIR: items keep the Questionnaire's order (crisis last); the
    // narrative opens with the follow-up and the numbers; the result a coding.
    let fhir: serde_json::Value =
        serde_json::from_slice(&render(&path, "fhir", Some("clinician"))).unwrap();
    assert_eq!(fhir["item"][0]["linkId"], "assessment");
    let div = fhir["text"]["div"].as_str().unwrap();
    assert!(
        div.find("988").unwrap() < div.find("Video-session readiness").unwrap(),
        "{div}"
    );
    let assessment = fhir["item"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["linkId"] == "assessment")
        .unwrap();
    let screen = assessment["item"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["linkId"] == "assessment.risk-screen")
        .expect("the ASQ result is an item");
    assert!(screen["text"].as_str().unwrap().contains("NIMH"));
    let coding = &screen["answer"][0]["valueCoding"];
    assert_eq!(coding["code"], "positive-acuity-unknown");
    assert!(
        coding["display"]
            .as_str()
            .unwrap()
            .starts_with("ASQ: positive, acuity unknown")
    );
    assert!(
        fhir["text"]["div"]
            .as_str()
            .unwrap()
            .contains("acuity unknown")
    );
}

/// Every crisis resource reads the same in every front-end that shows it
/// (`crisis::wording`): the page's box, the questions on screen, and the
/// report on screen, in Markdown, text and FHIR. Hours never run into a
/// number ("(free), 24/7", "(free) (24/7)").
#[test]
fn every_front_end_words_the_support_numbers_alike() {
    use session_ready::crisis;
    let style = session_ready::term::Style::decide(false, true, true);
    let mut regions = crisis::known_regions();
    regions.push(crisis::FALLBACK_REGION);
    for region in regions {
        let resources = crisis::resources_list(region);
        let expected: Vec<String> = resources
            .iter()
            .map(|r| crisis::wording(r).text())
            .collect();
        // The page's markup (emphasis, the numbers' links) set aside.
        let mut page = String::new();
        let mut in_tag = false;
        for c in session_ready::page::html::crisis_box(&resources).chars() {
            match c {
                '<' => in_tag = true,
                '>' => in_tag = false,
                c if !in_tag => page.push(c),
                _ => {}
            }
        }
        let page = page.replace("&amp;", "&");
        let on_screen = crisis::render_list(&resources, style);
        let mut shown = vec![("page", page), ("questions on screen", on_screen)];
        for format in ["terminal", "markdown", "text", "fhir"] {
            let out = check_answers(&answers_path("video-suitable"))
                .args(["--region", region, "--format", format])
                .output()
                .unwrap();
            assert!(out.status.success(), "{region} {format}");
            let text = String::from_utf8(out.stdout).unwrap();
            // Markdown's emphasis and escapes, and JSON's, set aside.
            let text = match format {
                "markdown" => text.replace("**", "").replace("\\&", "&"),
                "fhir" => text.replace("\\\"", "\""),
                _ => text,
            };
            shown.push((format, text));
        }
        for (place, text) in &shown {
            for line in &expected {
                assert!(text.contains(line), "{region} {place}: {line:?} in\n{text}");
            }
            for run_on in [", 24/7", ") (24/7)", "(24/7)"] {
                assert!(!text.contains(run_on), "{region} {place}: {run_on}\n{text}");
            }
        }
    }
    let samaritans = crisis::resources_list("GB")
        .into_iter()
        .find(|r| r.name == "Samaritans")
        .unwrap();
    assert_eq!(
        crisis::wording(&samaritans).text(),
        "Samaritans: call 116 123 (free). Open: 24/7."
    );
}

/// A client who thinks someone may check their phone or messages: the
/// clinician copy says so in every format, right under the urgent line where
/// contact is planned (before the recommendation), and the client copy,
/// which a watched home may read, says nothing of it.
#[test]
fn a_watched_home_is_visible_to_the_clinician_where_contact_is_planned() {
    let report = report_from_answers(&serde_json::json!({
        "region": "GB",
        "answers": {"risk.asq1": "yes", "risk.asq5": "yes", "home.feels_safe": "mostly",
                    "home.monitored": "yes"}
    }));
    assert_eq!(report["watched_home"], true);
    let dir = tempfile::tempdir().unwrap();
    let path = write_json(dir.path(), "watched", &report);
    let care = "Contact with care:";
    let advice = "ask how and when it is safe to reach them";
    for format in ["markdown", "text", "terminal"] {
        let text = render_text(&path, format, Some("clinician"));
        let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
        let flat = flat.replace(['*', '\\'], "");
        let urgent = position(&flat, "Urgent:");
        let at = position(&flat, care);
        assert!(urgent < at, "{format}: after the urgent line\n{text}");
        if format != "terminal" {
            assert!(at < position(&flat, "Recommendation"), "{format}\n{text}");
        }
        assert!(flat.contains("home.monitored = yes"), "{format}\n{text}");
        assert!(
            flat.contains("phone and messages may be monitored"),
            "{format}"
        );
        assert!(flat.contains(advice), "{format}\n{text}");
        assert_calm(&text);
        let client = render_text(&path, format, Some("client"));
        assert!(!client.contains("Contact with care"), "{format}\n{client}");
        assert!(!client.contains("monitored"), "{format}\n{client}");
    }
    let squeeze = |s: &str| s.split_whitespace().collect::<String>();
    let pdf = lopdf::Document::load_mem(&render(&path, "pdf", Some("clinician"))).unwrap();
    let text = squeeze(&page_texts(&pdf).join(" "));
    assert!(text.contains(&squeeze(care)), "pdf: {text}");
    assert!(text.contains(&squeeze(advice)), "pdf: {text}");
    assert!(
        text.find(&squeeze(care)) < text.find("Recommendation"),
        "pdf"
    );
    let pdf = lopdf::Document::load_mem(&render(&path, "pdf", Some("client"))).unwrap();
    let text = squeeze(&page_texts(&pdf).join(" "));
    assert!(!text.contains(&squeeze(care)), "pdf client: {text}");

    let fhir: serde_json::Value =
        serde_json::from_slice(&render(&path, "fhir", Some("clinician"))).unwrap();
    let div = fhir["text"]["div"].as_str().unwrap();
    assert!(div.contains("<b>Contact with care:</b>"), "{div}");
    let item = |fhir: &serde_json::Value| {
        fhir["item"][0]["item"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["linkId"] == "assessment.watched-home")
            .cloned()
    };
    assert_eq!(item(&fhir).unwrap()["answer"][0]["valueBoolean"], true);
    let client: serde_json::Value =
        serde_json::from_slice(&render(&path, "fhir", Some("client"))).unwrap();
    assert!(item(&client).is_none());
    assert!(
        !client["text"]["div"]
            .as_str()
            .unwrap()
            .contains("Contact with care")
    );

    let json: serde_json::Value =
        serde_json::from_slice(&render(&path, "json", Some("client"))).unwrap();
    assert_eq!(json["watched_home"], serde_json::Value::Null);

    // The page's copy of the report draws the same document.
    let full: session_ready::report::Report = serde_json::from_value(report).unwrap();
    let html = session_ready::report::html::render(&full, 2);
    assert!(html.contains("Contact with care"), "{html}");
    let html = session_ready::report::html::render(&full.client_copy(), 2);
    assert!(!html.contains("Contact with care"), "{html}");
}

/// `report FILE --format F` in the time zone `tz`, stdout.
fn render_in(path: &std::path::Path, format: &str, view: &str, tz: &str) -> Vec<u8> {
    cmd()
        .env("TZ", tz)
        .arg("report")
        .arg(path)
        .args(["--format", format, "--view", view])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone()
}

/// Dates are read in the clinic's own time (`TZ`, else the system's), with
/// the zone written out, in every human-readable format; the JSON and FHIR
/// keep the one UTC instant. Late evening in UTC is the next morning in
/// Sydney: the old title said the UTC day, without a zone.
#[test]
fn dates_are_local_with_their_zone_in_every_human_format() {
    let mut report = example_report("urgent");
    report["generated_at"] = "2026-01-15T22:30:00Z".into();
    let dir = tempfile::tempdir().unwrap();
    let path = write_json(dir.path(), "late", &report);
    let zones = [
        (
            "Australia/Sydney",
            "2026-01-16 (AEDT)",
            "2026-01-16 09:30 AEDT (UTC+11:00, Australia/Sydney)",
        ),
        ("UTC", "2026-01-15 (UTC)", "2026-01-15 22:30 UTC"),
        // A POSIX rule, as TZ may give: no name, the offset said.
        (
            "<-03>3",
            "2026-01-15 (UTC-03:00)",
            "2026-01-15 19:30 UTC-03:00",
        ),
    ];
    for (tz, day, time) in zones {
        let title = format!("Video-session readiness summary — {day}");
        for format in ["markdown", "text"] {
            for view in ["client", "clinician"] {
                let text = String::from_utf8(render_in(&path, format, view, tz)).unwrap();
                assert!(text.contains(&title), "{tz} {format} {view}: {text}");
                assert!(
                    text.contains(&format!("Made {time} by")),
                    "{tz} {format}: {text}"
                );
            }
        }
        // The clinician copy on screen says when, too.
        let screen = String::from_utf8(render_in(&path, "terminal", "clinician", tz)).unwrap();
        assert!(
            screen.contains(&format!("Made {time} by")),
            "{tz}: {screen}"
        );
        let squeeze = |s: &str| s.split_whitespace().collect::<String>();
        let pdf = lopdf::Document::load_mem(&render_in(&path, "pdf", "clinician", tz)).unwrap();
        let text = squeeze(&page_texts(&pdf).join(" "));
        assert!(text.contains(&squeeze(&title)), "{tz} pdf: {text}");
        assert!(text.contains(&squeeze(time)), "{tz} pdf: {text}");
        let fhir: serde_json::Value =
            serde_json::from_slice(&render_in(&path, "fhir", "clinician", tz)).unwrap();
        assert_eq!(fhir["authored"], "2026-01-15T22:30:00Z");
        assert!(
            fhir["text"]["div"].as_str().unwrap().contains(&title),
            "{tz}"
        );
        let json: serde_json::Value =
            serde_json::from_slice(&render_in(&path, "json", "clinician", tz)).unwrap();
        assert_eq!(json["generated_at"], "2026-01-15T22:30:00Z");
    }
    // A new report is saved in UTC wherever it is made.
    let made = check_answers(&answers_path("urgent"))
        .env("TZ", "Australia/Sydney")
        .args(["--format", "json"])
        .assert()
        .success();
    let made: serde_json::Value = serde_json::from_slice(&made.get_output().stdout).unwrap();
    let at = made["generated_at"].as_str().unwrap();
    assert!(at.ends_with('Z') && at.len() == 20, "{at}");
}

/// A saved report's `generated_at` must be a time: `"=1+1"` is refused with
/// the usual message (exit 2, the field named, nothing changed), by `report`
/// and by `summarize`, which lists the file as unreadable.
#[test]
fn a_saved_time_that_is_not_a_time_is_refused() {
    let mut report = example_report("video-suitable");
    report["generated_at"] = "=1+1".into();
    let dir = tempfile::tempdir().unwrap();
    let path = write_json(dir.path(), "edited", &report);
    let out = cmd()
        .arg("report")
        .arg(&path)
        .args(["--format", "text"])
        .assert()
        .code(2)
        .stdout("");
    let err = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(
        err.contains("generated_at: \"=1+1\" is not a date and time"),
        "{err}"
    );
    assert!(err.contains("Nothing was changed"), "{err}");
    assert_calm(&err);
    let out = cmd()
        .args(["summarize", "--format", "json"])
        .arg(&path)
        .assert()
        .code(2);
    // The reasons are listed (in the summary itself), the file named.
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.get_output().stdout),
        String::from_utf8_lossy(&out.get_output().stderr)
    );
    assert!(
        all.contains("generated_at: \\\"=1+1\\\"") || all.contains("generated_at: \"=1+1\""),
        "{all}"
    );
}
