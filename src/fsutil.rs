//! Private, atomic file writes: reports and drafts may hold sensitive answers, so
//! they are written to a temporary file in the same directory with owner-only
//! permissions and renamed into place, so a crash never leaves half a file.
use std::io::Write;
use std::path::Path;

/// Why a private write failed, phrased for the person at the keyboard.
#[derive(Debug, thiserror::Error)]
#[error("Could not save {path}: {reason}. Nothing was overwritten; {advice}")]
pub struct WriteError {
    pub path: String,
    pub reason: String,
    pub advice: String,
    #[source]
    pub source: std::io::Error,
}

fn describe(path: &Path, err: std::io::Error) -> WriteError {
    use std::io::ErrorKind;
    // tempfile wraps OS errors with the path, so match on the kind, not the raw code.
    let (reason, advice) = match err.kind() {
        ErrorKind::StorageFull | ErrorKind::QuotaExceeded => (
            "the disk is full".to_string(),
            "free some space or save it somewhere else.".to_string(),
        ),
        ErrorKind::ReadOnlyFilesystem => (
            "that place is read-only".to_string(),
            "save it in a folder you can write to.".to_string(),
        ),
        ErrorKind::PermissionDenied => (
            "permission was refused".to_string(),
            "save it in a folder you own.".to_string(),
        ),
        ErrorKind::NotFound => (
            "the folder does not exist".to_string(),
            "create it first or save it somewhere else.".to_string(),
        ),
        _ => (
            err.to_string(),
            "try again, or save it somewhere else.".to_string(),
        ),
    };
    WriteError {
        path: path.display().to_string(),
        reason,
        advice,
        source: err,
    }
}

/// Write `bytes` to `path` atomically with mode 0600 (owner read/write only).
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    // If a signal arrives mid-write, the signal thread removes the temp file.
    let (mut tmp, _pending) = crate::interrupt::PendingFile::create(
        || {
            tempfile::Builder::new()
                .prefix(".session-ready-")
                .suffix(".tmp")
                .permissions(private_permissions())
                .tempfile_in(&dir)
        },
        |tmp| tmp.path(),
    )
    .map_err(|e| describe(path, e))?;
    tmp.write_all(bytes).map_err(|e| describe(path, e))?;
    tmp.as_file().sync_all().map_err(|e| describe(path, e))?;
    tmp.persist(path).map_err(|e| describe(path, e.error))?;
    Ok(())
}

#[cfg(unix)]
fn private_permissions() -> std::fs::Permissions {
    use std::os::unix::fs::PermissionsExt;
    std::fs::Permissions::from_mode(0o600)
}

#[cfg(not(unix))]
fn private_permissions() -> std::fs::Permissions {
    // Windows has no mode bits; the temp file is created in the user's own folder.
    std::fs::metadata(".")
        .map(|m| m.permissions())
        .unwrap_or_else(|_| unreachable!("current directory has metadata"))
}

/// Write `bytes` to `output` privately, or to stdout.
pub fn emit(output: Option<&Path>, bytes: &[u8]) -> anyhow::Result<()> {
    match output {
        Some(path) => write_private(path, bytes)?,
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(bytes)?;
            out.flush()?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_owner_only_and_replaces_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.json");
        write_private(&path, b"first").unwrap();
        write_private(&path, b"second").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty());
    }

    #[test]
    fn missing_folder_is_explained() {
        let err = write_private(Path::new("/nonexistent-dir-xyz/r.json"), b"x").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("folder does not exist"), "{msg}");
        assert!(msg.contains("Nothing was overwritten"), "{msg}");
    }
}
