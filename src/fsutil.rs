//! Private, atomic file writes: reports and drafts may hold sensitive answers, so
//! they are written to a temporary file in the same directory with owner-only
//! permissions and renamed into place, so a crash never leaves half a file.
//! Owner-only is mode 0600 on Unix and a one-entry access list on Windows.
use std::io::Write;
use std::path::Path;

#[cfg(windows)]
mod windows;

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
    let (mut tmp, _pending) =
        crate::interrupt::PendingFile::create(|| private_temp_file(&dir), |tmp| tmp.path())
            .map_err(|e| describe(path, e))?;
    tmp.write_all(bytes).map_err(|e| describe(path, e))?;
    tmp.as_file().sync_all().map_err(|e| describe(path, e))?;
    tmp.persist(path).map_err(|e| describe(path, e.error))?;
    Ok(())
}

fn temp_file_names() -> tempfile::Builder<'static, 'static> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(".session-ready-").suffix(".tmp");
    builder
}

#[cfg(unix)]
fn private_temp_file(dir: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    use std::os::unix::fs::PermissionsExt;
    temp_file_names()
        .permissions(std::fs::Permissions::from_mode(0o600))
        .tempfile_in(dir)
}

#[cfg(windows)]
fn private_temp_file(dir: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    temp_file_names().make_in(dir, |path| windows::create_owner_only(path))
}

#[cfg(not(any(unix, windows)))]
fn private_temp_file(dir: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    // No owner-only permissions known here: refuse rather than write a readable file.
    let _ = dir;
    Err(std::io::Error::from(std::io::ErrorKind::Unsupported))
}

/// Whether only the owner can read `path`: no group or other mode bits on
/// Unix; on Windows a protected access list that allows only the current user.
pub fn is_owner_only(path: &Path) -> std::io::Result<bool> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        Ok(std::fs::metadata(path)?.permissions().mode() & 0o077 == 0)
    }
    #[cfg(windows)]
    {
        windows::is_owner_only(path)
    }
    #[cfg(not(any(unix, windows)))]
    {
        let _ = path;
        Ok(false)
    }
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
        assert!(is_owner_only(&path).unwrap());
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
    fn an_ordinary_file_is_not_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plain.txt");
        std::fs::write(&path, b"x").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
        assert!(!is_owner_only(&path).unwrap());
    }

    #[test]
    fn missing_folder_is_explained() {
        let err = write_private(Path::new("/nonexistent-dir-xyz/r.json"), b"x").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("folder does not exist"), "{msg}");
        assert!(msg.contains("Nothing was overwritten"), "{msg}");
    }
}
