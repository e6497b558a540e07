// The properties each fuzz target checks, shared with tests/fuzz_regressions.rs
// (included by both) so saved crashing inputs are re-checked by `cargo test`.
#[allow(dead_code)]
mod checks {
    use session_ready::report::{Format, View};
    use session_ready::clinic;
    use session_ready::net::stun;
    use session_ready::questionnaire::flow::{Flow, Step};
    use session_ready::questionnaire::{answers_file, bank, draft};
    use session_ready::report::encrypt::parse_recipient;
    use session_ready::report::input::parse_report;
    use session_ready::report::render::render;
    use session_ready::term::Style;
    use std::path::Path;

    /// Any bytes as an answers file: never a panic, and whatever is accepted
    /// is a complete, valid set of answers.
    pub fn answers_file(data: &[u8]) {
        let text = String::from_utf8_lossy(data);
        let bank = bank();
        if let Ok(file) = answers_file::parse(Path::new("fuzz.json"), &text, bank) {
            for (id, answer) in &file.answers {
                let q = bank
                    .question(id)
                    .expect("only known questions are accepted");
                assert!(q.valid_values().contains(&answer.as_str()));
            }
        }
    }

    /// Any bytes as a saved draft: never a panic, and an accepted draft resumes
    /// into a flow that can be walked forwards and all the way back.
    pub fn draft(data: &[u8]) {
        let text = String::from_utf8_lossy(data);
        let Ok(d) = draft::parse(Path::new("draft.json"), &text) else {
            return;
        };
        let mut flow = Flow::resume(bank(), d.state);
        for _ in 0..64 {
            match flow.next_step() {
                Step::SectionStart(s) => flow.start_section(&s.id.clone()),
                Step::Question(q) => flow.answer(&q.id.clone(), &q.options[0].id.clone()),
                Step::Plan(p) => flow.answer_plan(&p.id.clone(), None),
                Step::Done => break,
            }
        }
        while flow.back().is_some() {}
        assert!(flow.state.answers.is_empty() && flow.state.plan.is_empty());
    }

    /// Any bytes as a STUN datagram: the parser and the server's reply logic
    /// never panic, and what they accept survives a round trip.
    pub fn stun_parse(data: &[u8]) {
        if let Ok(message) = stun::parse(data) {
            // Anything accepted has a consistent header and attributes.
            assert_eq!(data.len() % 4, 0);
            let _ = message.mapped_address();
            let _ = message.unknown_required();
        }
        let from = "192.0.2.1:3478".parse().unwrap();
        if let Some(reply) = stun::respond(data, from, Some("fuzz")) {
            // Our own replies always parse, and answer the same transaction.
            let parsed = stun::parse(&reply).expect("replies we build are valid STUN");
            let request = stun::parse(data).expect("only valid requests are answered");
            assert_eq!(parsed.transaction_id, request.transaction_id);
        }
    }

    /// The formats every accepted report is rendered in. PDF is left out: it
    /// made the fuzzer about 30 times slower (94 runs a second against 3,200).
    pub const REPORT_FORMATS: [Format; 5] = [
        Format::Terminal,
        Format::Json,
        Format::Markdown,
        Format::Text,
        Format::Fhir,
    ];

    /// Any bytes as a saved report (`session-ready report FILE`): never a
    /// panic; an accepted report saved again as JSON reads back the same; and
    /// it renders in every format, both copies, in colour and plain.
    pub fn report(data: &[u8]) {
        let Ok(report) = parse_report(Path::new("report.json"), data) else {
            return;
        };
        let plain = Style::decide(false, true, true);
        let saved = render(&report, Format::Json, plain).expect("an accepted report saves as JSON");
        let again = parse_report(Path::new("again.json"), &saved)
            .expect("a report saved as JSON reads back");
        assert_eq!(again, report, "a saved report reads back the same");
        let client = report.client_copy();
        assert_eq!(client.view, View::Client);
        assert!(client.answers.keys().all(|id| !id.starts_with("risk.")));
        for shown in [&report, &client] {
            for format in REPORT_FORMATS {
                for style in [Style::decide(true, false, false), plain] {
                    render(shown, format, style)
                        .unwrap_or_else(|e| panic!("{format:?} rendering failed: {e}"));
                }
            }
        }
    }

    /// Any bytes as a clinic file (`check --clinic FILE`): never a panic, and
    /// an accepted file is tidy, as `clinic::parse` promises: every field
    /// given is trimmed and non-empty, the recipient is an age public key, the
    /// phone number has digits, the region is a normalised two-letter code
    /// (or INTL), and the tidied settings written back read back the same.
    pub fn clinic(data: &[u8]) {
        let text = String::from_utf8_lossy(data);
        let Ok(config) = clinic::parse(Path::new("clinic.toml"), &text) else {
            return;
        };
        for value in [
            &config.name,
            &config.recipient,
            &config.server,
            &config.stun,
            &config.dropped_call_phone,
            &config.region,
        ]
        .into_iter()
        .flatten()
        {
            assert!(
                !value.is_empty() && value.trim() == value && !value.chars().any(char::is_control),
                "{value:?} is not tidy"
            );
        }
        if let Some(r) = &config.recipient {
            assert!(parse_recipient(r).is_ok(), "recipient {r:?} accepted");
        }
        if let Some(p) = &config.dropped_call_phone {
            assert!(
                p.chars().any(|c| c.is_ascii_digit()),
                "phone {p:?} accepted"
            );
        }
        if let Some(r) = &config.region {
            assert!(
                r == session_ready::crisis::FALLBACK_REGION
                    || (r.len() == 2 && r.chars().all(|c| c.is_ascii_uppercase()) && r != "UK"),
                "region {r:?} is not normalised"
            );
        }
        let written = toml::to_string(&config).expect("clinic settings write as TOML");
        let again = clinic::parse(Path::new("again.toml"), &written)
            .unwrap_or_else(|e| panic!("tidied settings read back ({e}):\n{written}"));
        assert_eq!(again, config, "tidied settings read back the same");
    }
}
