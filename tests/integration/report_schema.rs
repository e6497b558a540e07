//! The published JSON Schema of the report (schema/report.schema.json) and the
//! FHIR Questionnaire (schema/questionnaire.fhir.json) are generated from the
//! code and must match the committed files; every example report validates;
//! `report` refuses a file whose schema it does not know.
//!
//! After changing the report types, regenerate with:
//!   SESSION_READY_UPDATE_SCHEMA=1 cargo test --test integration report_schema

use crate::report_support::*;
use predicates::prelude::*;
use session_ready::report::schema::{
    QUESTIONNAIRE_PATH, REPORT_SCHEMA_PATH, report_schema, to_file_text,
};

fn check_file(relative: &str, generated: String) {
    let path = root().join(relative);
    if std::env::var_os("SESSION_READY_UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{relative} is out of date; run SESSION_READY_UPDATE_SCHEMA=1 cargo test --test integration report_schema"
    );
}

#[test]
fn report_schema_file_is_in_sync_with_the_types() {
    check_file(REPORT_SCHEMA_PATH, to_file_text(&report_schema()));
}

#[test]
fn fhir_questionnaire_file_is_in_sync_with_the_question_bank() {
    let q = serde_json::to_value(session_ready::report::fhir::questionnaire()).unwrap();
    check_file(QUESTIONNAIRE_PATH, to_file_text(&q));
}

fn validator() -> jsonschema::Validator {
    let text = std::fs::read_to_string(root().join(REPORT_SCHEMA_PATH)).unwrap();
    jsonschema::validator_for(&serde_json::from_str(&text).unwrap()).unwrap()
}

#[test]
fn every_example_report_validates_in_both_views() {
    let validator = validator();
    for name in EXAMPLES {
        let clinician = example_report(name);
        let errors: Vec<String> = validator
            .iter_errors(&clinician)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{name}: {errors:#?}");

        let dir = tempfile::tempdir().unwrap();
        let path = write_json(dir.path(), name, &clinician);
        let client: serde_json::Value =
            serde_json::from_slice(&render(&path, "json", Some("client"))).unwrap();
        assert_eq!(client["view"], "client");
        assert!(validator.is_valid(&client), "{name} client copy");
    }
}

#[test]
fn a_measured_connection_validates_too() {
    let mut r = example_report("video-suitable");
    r["network"] = measured_network();
    r["network_reason"] = serde_json::Value::Null;
    assert!(validator().is_valid(&r));
}

#[test]
fn the_schema_rejects_other_versions_and_broken_reports() {
    let validator = validator();
    let good = example_report("urgent");
    let mut other = good.clone();
    other["schema"] = "session-ready/report/v2".into();
    assert!(!validator.is_valid(&other));
    let mut broken = good.clone();
    broken["outcome"] = "maybe".into();
    assert!(!validator.is_valid(&broken));
    let mut missing = good;
    missing.as_object_mut().unwrap().remove("criteria");
    assert!(!validator.is_valid(&missing));
}

#[test]
fn report_refuses_an_unknown_schema_naming_found_and_expected() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = example_report("video-suitable");
    r["schema"] = "session-ready/report/v9".into();
    let path = write_json(dir.path(), "future", &r);
    cmd()
        .arg("report")
        .arg(&path)
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(
            predicate::str::contains("future.json")
                .and(predicate::str::contains("session-ready/report/v9"))
                .and(predicate::str::contains("session-ready/report/v1")),
        );

    r.as_object_mut().unwrap().remove("schema");
    let path = write_json(dir.path(), "no-schema", &r);
    cmd()
        .arg("report")
        .arg(&path)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no \"schema\" field"));
}

#[test]
fn report_names_a_missing_file_and_a_broken_field() {
    cmd()
        .args(["report", "/nonexistent/r.json"])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("/nonexistent/r.json")
                .and(predicate::str::contains("no file there")),
        );
    let dir = tempfile::tempdir().unwrap();
    let mut r = example_report("video-suitable");
    r["urgent"] = "perhaps".into();
    let path = write_json(dir.path(), "broken", &r);
    cmd()
        .arg("report")
        .arg(&path)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("broken.json").and(predicate::str::contains("line")));
}
