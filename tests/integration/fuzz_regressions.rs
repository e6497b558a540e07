//! Inputs the fuzzers once crashed on (tests/fuzz_regressions/<target>/),
//! re-checked with the same properties the fuzz targets assert.
include!("../../fuzz/checks.rs");

fn inputs(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz_regressions")
        .join(target);
    let mut found: Vec<_> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| {
                    let name = e.file_name().to_string_lossy().to_string();
                    (name, std::fs::read(e.path()).unwrap())
                })
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found
}

#[test]
fn draft_regressions() {
    let found = inputs("draft");
    assert!(!found.is_empty(), "the saved draft crash is still here");
    for (name, data) in found {
        eprintln!("draft: {name}");
        checks::draft(&data);
    }
}

#[test]
fn answers_file_regressions() {
    for (name, data) in inputs("answers_file") {
        eprintln!("answers_file: {name}");
        checks::answers_file(&data);
    }
}

#[test]
fn stun_parse_regressions() {
    for (name, data) in inputs("stun_parse") {
        eprintln!("stun_parse: {name}");
        checks::stun_parse(&data);
    }
}

#[test]
fn report_regressions() {
    for (name, data) in inputs("report") {
        eprintln!("report: {name}");
        checks::report(&data);
    }
}

#[test]
fn clinic_regressions() {
    for (name, data) in inputs("clinic") {
        eprintln!("clinic: {name}");
        checks::clinic(&data);
    }
}
