//! Saved progress ("pause and finish later"). Kept only when the client agrees,
//! written atomically with owner-only permissions after every answer (so an
//! interruption at any moment resumes exactly where they left), and removed
//! when the check is finished.
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::flow::FlowState;
use crate::error::InputError;

pub const DRAFT_SCHEMA: &str = "session-ready/draft/v1";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Draft {
    pub schema: String,
    /// When the check was started (RFC 3339).
    pub started_at: String,
    /// When this draft was last saved (RFC 3339).
    pub saved_at: String,
    pub region: Option<String>,
    pub state: FlowState,
}

impl Draft {
    pub fn new(started_at: String, region: Option<String>, state: FlowState) -> Self {
        Draft {
            schema: DRAFT_SCHEMA.to_string(),
            started_at,
            saved_at: now(),
            region,
            state,
        }
    }
}

pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Where the draft lives: `--draft FILE`, or the user's data folder.
pub fn default_path() -> Option<PathBuf> {
    dirs::data_local_dir().map(|d| d.join("session-ready").join("draft.json"))
}

/// Parse a draft; every problem names the file and says what to do.
pub fn parse(path: &Path, text: &str) -> Result<Draft, InputError> {
    let draft: Draft = crate::safe_text::parse_json_strict(text.as_bytes())
        .and_then(serde_json::from_value)
        .map_err(|e| {
            InputError::file(path, format!("the saved progress could not be read ({e})."))
        })?;
    if draft.schema != DRAFT_SCHEMA {
        return Err(InputError::file(
            path,
            format!(
                "it was saved by a different version (schema \"{}\", expected \"{DRAFT_SCHEMA}\").",
                draft.schema
            ),
        ));
    }
    for (id, text) in &draft.state.plan {
        if let Some(text) = text
            && let Err(problem) =
                crate::safe_text::check_field(&format!("session_plan.\"{id}\""), text, false)
        {
            return Err(InputError::file(
                path,
                format!("the saved progress {problem}"),
            ));
        }
    }
    let bank = super::bank();
    for (id, answer) in &draft.state.answers {
        let valid = bank
            .question(id)
            .is_some_and(|q| q.valid_values().contains(&answer.as_str()));
        if !valid {
            return Err(InputError::file(
                path,
                format!("it holds an answer this version does not know ({id} = {answer})."),
            ));
        }
    }
    Ok(draft)
}

/// The draft at `path`, if any.
pub fn load(path: &Path) -> Result<Option<Draft>, InputError> {
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        _ => {}
    }
    let bytes = crate::fsutil::read_input(path, crate::fsutil::MAX_INPUT_BYTES)?;
    let text = crate::fsutil::input_text(path, bytes)?;
    parse(path, &text).map(Some)
}

/// Save atomically, mode 0600, creating a private folder if needed.
pub fn save(path: &Path, draft: &Draft) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && !dir.exists()
    {
        std::fs::create_dir_all(dir)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
    }
    let bytes = serde_json::to_vec_pretty(draft)?;
    crate::fsutil::write_private(path, &bytes)?;
    Ok(())
}

/// After every change of a walk, in any front-end: with the client's consent
/// the draft at `path` is brought up to date; without it (never given, or
/// withdrawn because the home may be watched) a draft from earlier is
/// deleted, so nothing stays behind.
pub fn keep_or_forget(
    path: &Path,
    keep: bool,
    started_at: &str,
    region: Option<&str>,
    state: &FlowState,
) -> anyhow::Result<()> {
    if !keep {
        if std::fs::symlink_metadata(path).is_ok_and(|m| m.is_file()) {
            remove(path)?;
        }
        return Ok(());
    }
    let draft = Draft::new(
        started_at.to_string(),
        region.map(str::to_string),
        state.clone(),
    );
    save(path, &draft)
}

/// Remove the draft (finished, or the client chose to start again).
pub fn remove(path: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_draft_round_trips_privately() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested").join("draft.json");
        let mut state = FlowState::default();
        state
            .answers
            .insert("privacy.space".into(), "sometimes".into());
        let draft = Draft::new(now(), Some("GB".into()), state);
        save(&path, &draft).unwrap();
        assert_eq!(load(&path).unwrap(), Some(draft));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            let dir_mode = std::fs::metadata(path.parent().unwrap())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(dir_mode & 0o777, 0o700);
        }
        remove(&path).unwrap();
        assert_eq!(load(&path).unwrap(), None);
        remove(&path).unwrap();
    }

    #[test]
    fn control_characters_in_a_draft_are_refused() {
        let text = format!(
            r#"{{"schema":"{DRAFT_SCHEMA}","started_at":"","saved_at":"","region":null,"state":{{"answers":{{}},"plan":{{"place":"sofa\u001b[2J"}}}}}}"#
        );
        let err = parse(Path::new("draft.json"), &text)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("session_plan.\"place\"") && err.contains("control character"),
            "{err}"
        );
    }

    #[test]
    fn unreadable_drafts_are_explained() {
        let p = Path::new("draft.json");
        assert!(
            parse(p, "{")
                .unwrap_err()
                .to_string()
                .contains("could not be read")
        );
        let other =
            r#"{"schema":"x","started_at":"","saved_at":"","region":null,"state":{"answers":{}}}"#;
        assert!(
            parse(p, other)
                .unwrap_err()
                .to_string()
                .contains("different version")
        );
        let bad = format!(
            r#"{{"schema":"{DRAFT_SCHEMA}","started_at":"","saved_at":"","region":null,"state":{{"answers":{{"privacy.space":"maybe"}}}}}}"#
        );
        assert!(
            parse(p, &bad)
                .unwrap_err()
                .to_string()
                .contains("privacy.space = maybe")
        );
    }
}
