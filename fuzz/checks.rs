// The properties each fuzz target checks, shared with tests/fuzz_regressions.rs
// (included by both) so saved crashing inputs are re-checked by `cargo test`.
#[allow(dead_code)]
mod checks {
    use session_ready::net::stun;
    use session_ready::questionnaire::flow::{Flow, Step};
    use session_ready::questionnaire::{answers_file, bank, draft};
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
}
