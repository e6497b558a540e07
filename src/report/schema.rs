//! The published JSON Schema of the saved report (schema/report.schema.json),
//! generated from the Rust types so it cannot drift from what is written; a
//! test regenerates it and compares.
use serde_json::Value;

use super::{Report, SCHEMA};

/// Where the schema is published, relative to the repository root.
pub const REPORT_SCHEMA_PATH: &str = "schema/report.schema.json";
/// Where the FHIR Questionnaire is published, relative to the repository root.
pub const QUESTIONNAIRE_PATH: &str = "schema/questionnaire.fhir.json";

/// JSON Schema (draft 2020-12) of [`Report`], with `schema` pinned to the
/// version this build writes, so a file of another version fails validation.
pub fn report_schema() -> Value {
    let mut schema = serde_json::to_value(schemars::schema_for!(Report))
        .expect("a generated schema is valid JSON");
    schema["$id"] = Value::from(format!("https://session-ready.invalid/{SCHEMA}"));
    schema["properties"]["schema"]["const"] = Value::from(SCHEMA);
    schema
}

/// Pretty JSON with a final newline, as the files are stored.
pub fn to_file_text(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).expect("JSON values serialise");
    text.push('\n');
    text
}
