//! Reading a saved report back: encrypted or not, with a known schema, or a
//! calm message naming the file, what was found and what to do.
use std::path::Path;

use crate::error::InputError;

use super::verify::Checked;
use super::{Report, SCHEMA};

/// Read the report at `path` (opening it with `identity` when it is
/// encrypted) and check it (`verify`): what to show, and what differed.
pub fn read_report(path: &Path, identity: Option<&Path>) -> Result<Checked, InputError> {
    let saved = read_saved(path, identity)?;
    super::verify::check(saved, crate::questionnaire::bank()).map_err(|problems| {
        let list: String = problems.iter().map(|p| format!("\n  - {p}")).collect();
        InputError::file(
            path,
            format!(
                "it cannot be shown, because parts of it are not what this version of \
                 session-ready writes:{list}\nNothing was changed. The file may have been edited \
                 by hand, or made by a newer version."
            ),
        )
    })
}

/// Read the report at `path` as saved, without checking it.
fn read_saved(path: &Path, identity: Option<&Path>) -> Result<Report, InputError> {
    let bytes = crate::fsutil::read_input(path, crate::fsutil::MAX_INPUT_BYTES)?;
    let bytes = if super::encrypt::looks_encrypted(&bytes) {
        let Some(identity) = identity else {
            return Err(InputError::file(
                path,
                "it is encrypted, so only the clinic's key can open it. Nothing was changed. \
                 Give the key file with --identity KEYFILE.",
            ));
        };
        let mut opened = super::encrypt::decrypt(&bytes, path, identity)?;
        crate::fsutil::strip_bom(&mut opened);
        opened
    } else {
        bytes
    };
    parse_report(path, &bytes)
}

/// Check the schema and read the report; `path` is only used in messages.
pub fn parse_report(path: &Path, bytes: &[u8]) -> Result<Report, InputError> {
    if bytes.starts_with(b"%PDF") {
        return Err(InputError::file(
            path,
            "it is a PDF. Only a JSON report (saved with --format json) can be shown again \
             in other formats; open the PDF with a PDF viewer.",
        ));
    }
    if !bytes.starts_with(b"%PDF") && (bytes.contains(&0) || std::str::from_utf8(bytes).is_err()) {
        return Err(InputError::file(
            path,
            "it is not a text file (it holds binary data), so it is not a JSON report. Reports \
             to show again are the ones saved with --format json.",
        ));
    }
    let value = crate::safe_text::parse_json_strict(bytes).map_err(|e| {
        InputError::file(
            path,
            format!(
                "it is not a JSON report ({e}). Reports to show again are the ones saved with \
                 --format json."
            ),
        )
    })?;
    let found = value.get("schema").and_then(|s| s.as_str());
    match found {
        Some(s) if s == SCHEMA => {}
        Some(s) if s.starts_with("session-ready/report/") => {
            return Err(InputError::file(
                path,
                format!(
                    "it is a report in format \"{s}\", and this version of session-ready reads \
                     \"{SCHEMA}\". Nothing was changed; use the session-ready version that made \
                     it, or a newer one."
                ),
            ));
        }
        Some(s) => {
            return Err(InputError::file(
                path,
                format!(
                    "its \"schema\" is \"{s}\", so it is not a readiness report; expected \
                     \"{SCHEMA}\"."
                ),
            ));
        }
        None => {
            let hint = if value.get("resourceType").is_some() {
                " It looks like FHIR output, which cannot be read back; use the JSON report."
            } else if value.get("answers").is_some() && value.get("outcome").is_none() {
                " It looks like an answers file; make a report from it with \
                 `session-ready check --answers FILE`."
            } else {
                ""
            };
            return Err(InputError::file(
                path,
                format!(
                    "it has no \"schema\" field, so it is not a readiness report; expected \
                     \"schema\": \"{SCHEMA}\".{hint}"
                ),
            ));
        }
    }
    serde_json::from_slice::<Report>(bytes).map_err(|e| {
        InputError::file(
            path,
            format!(
                "it says it is a {SCHEMA} report, but part of it does not fit that format \
                 ({e}). The file was not changed."
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(text: &str) -> String {
        parse_report(Path::new("r.json"), text.as_bytes())
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn unknown_schema_names_what_was_found_and_expected() {
        let m = msg(r#"{"schema": "session-ready/report/v2"}"#);
        assert!(
            m.contains("r.json") && m.contains("v2") && m.contains(SCHEMA),
            "{m}"
        );
        let m = msg(r#"{"schema": "something/else"}"#);
        assert!(m.contains("something/else") && m.contains(SCHEMA), "{m}");
        let m = msg(r#"{"answers": {}}"#);
        assert!(
            m.contains("no \"schema\" field") && m.contains("answers file"),
            "{m}"
        );
    }

    #[test]
    fn broken_fields_are_named() {
        let m = msg(r#"{"schema": "session-ready/report/v1", "outcome": "maybe"}"#);
        assert!(m.contains("does not fit"), "{m}");
        assert!(m.contains("line"), "{m}");
        assert!(msg("not json").contains("not a JSON report"));
        assert!(msg("%PDF-1.3").contains("is a PDF"));
    }

    #[test]
    fn encrypted_without_a_key_says_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json.age");
        let (_, public) = super::super::encrypt::generate_identity();
        let r = super::super::encrypt::parse_recipient(&public).unwrap();
        std::fs::write(&path, super::super::encrypt::encrypt(b"{}", &r).unwrap()).unwrap();
        let m = read_report(&path, None).unwrap_err().to_string();
        assert!(m.contains("--identity") && m.contains("r.json.age"), "{m}");
    }
}
