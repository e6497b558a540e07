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
            format!(
                "the disk holding the folder {} is full",
                match path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    Some(folder) => folder.display().to_string(),
                    None => ".".to_string(),
                }
            ),
            "nothing you entered was lost. Free some space there, or save it in another \
             folder."
                .to_string(),
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

impl WriteError {
    /// The disk (or the person's quota) is full: nothing wrong with what was
    /// asked, and nothing inside the program either (exit code 3).
    pub fn is_disk_full(&self) -> bool {
        use std::io::ErrorKind;
        matches!(
            self.source.kind(),
            ErrorKind::StorageFull | ErrorKind::QuotaExceeded
        )
    }

    /// True when the person can fix it (a path, a folder, a permission), so
    /// the exit code is 2 rather than an internal failure.
    pub fn is_input_problem(&self) -> bool {
        use std::io::ErrorKind;
        matches!(
            self.source.kind(),
            ErrorKind::NotFound
                | ErrorKind::PermissionDenied
                | ErrorKind::ReadOnlyFilesystem
                | ErrorKind::AlreadyExists
                | ErrorKind::IsADirectory
                | ErrorKind::NotADirectory
                | ErrorKind::InvalidInput
        )
    }
}

/// Write `bytes` to `path` atomically with mode 0600 (owner read/write only).
/// Only a regular file is ever replaced: a device, pipe, socket or folder at
/// `path` is refused, never swapped for a file.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    if !dir.is_dir() {
        return Err(WriteError {
            path: path.display().to_string(),
            reason: format!("the folder does not exist ({})", dir.display()),
            advice: "create it first or save it somewhere else.".to_string(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "the folder does not exist"),
        });
    }
    if let Ok(meta) = std::fs::metadata(path)
        && !meta.is_file()
    {
        return Err(WriteError {
            path: path.display().to_string(),
            reason: format!("it is {}, not a regular file", kind_of(&meta)),
            advice: "name a new file or an existing ordinary file, or use --output - to \
                     write to the screen."
                .to_string(),
            source: std::io::Error::new(std::io::ErrorKind::AlreadyExists, "not a regular file"),
        });
    }
    remove_stale_temp_files(&dir);
    // If a signal arrives mid-write, the signal thread removes the temp file.
    let (mut tmp, _pending) =
        crate::interrupt::PendingFile::create(|| private_temp_file(&dir), |tmp| tmp.path())
            .map_err(|e| describe(path, e))?;
    tmp.write_all(bytes).map_err(|e| describe(path, e))?;
    tmp.as_file().sync_all().map_err(|e| describe(path, e))?;
    tmp.persist(path).map_err(|e| describe(path, e.error))?;
    Ok(())
}

/// How long a temp file of ours must have been left before it is taken to be
/// from a run that was killed mid-write (a live write takes well under a second).
const STALE_TEMP_AGE: std::time::Duration = std::time::Duration::from_secs(15 * 60);

const TEMP_PREFIX: &str = ".session-ready-";
const TEMP_SUFFIX: &str = ".tmp";

/// Remove temp files a killed run left in `dir`: only ours by name, only
/// regular files owned by this user, only ones older than [`STALE_TEMP_AGE`].
/// They may hold a whole clinician copy, so they must not stay forever.
pub fn remove_stale_temp_files(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if !(name.starts_with(TEMP_PREFIX) && name.ends_with(TEMP_SUFFIX)) {
            continue;
        }
        // symlink_metadata: a link named like ours is left alone.
        let Ok(meta) = std::fs::symlink_metadata(entry.path()) else {
            continue;
        };
        let old = meta
            .modified()
            .ok()
            .and_then(|m| m.elapsed().ok())
            .is_some_and(|age| age >= STALE_TEMP_AGE);
        if meta.is_file() && old && owned_by_me(&meta) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

#[cfg(unix)]
fn owned_by_me(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: geteuid has no preconditions and cannot fail.
    meta.uid() == unsafe { libc::geteuid() }
}

#[cfg(not(unix))]
fn owned_by_me(_meta: &std::fs::Metadata) -> bool {
    // The temp files are created in the user's own folders.
    true
}

/// What a file-system entry is, in plain words.
pub fn kind_of(meta: &std::fs::Metadata) -> &'static str {
    let kind = meta.file_type();
    if kind.is_dir() {
        return "a folder";
    }
    if kind.is_symlink() {
        return "a link";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if kind.is_socket() {
            return "a socket";
        }
        if kind.is_block_device() || kind.is_char_device() {
            return "a device";
        }
    }
    if kind.is_file() {
        "a file"
    } else {
        "something other than a file"
    }
}

/// The most bytes read from any one input file: answers, reports, clinic
/// files, drafts, keys and saved network results (README: limits).
pub const MAX_INPUT_BYTES: u64 = 1024 * 1024;

/// Read an input file of at most `limit` bytes. Only regular files are
/// opened: a folder, named pipe, device, dangling link or link loop is named
/// in the message instead of being read (a pipe would hang, /dev/zero would
/// never end). `what` names the file's role for messages ("the answers file").
pub fn read_input(path: &Path, limit: u64) -> Result<Vec<u8>, crate::error::InputError> {
    use std::io::Read;
    let problem = |detail: String| crate::error::InputError::file(path, detail);
    let link = std::fs::symlink_metadata(path).map_err(|e| problem(open_reason(&e)))?;
    let meta = std::fs::metadata(path).map_err(|e| {
        if link.file_type().is_symlink() {
            if e.kind() == std::io::ErrorKind::NotFound {
                problem(
                    "it is a link to something that is not there (a dangling link). Give the \
                     path of the file itself."
                        .to_string(),
                )
            } else {
                problem(format!(
                    "it is a link that cannot be followed; links may point to each other in a \
                     loop ({e}). Give the path of the file itself."
                ))
            }
        } else {
            problem(open_reason(&e))
        }
    })?;
    if !meta.is_file() {
        return Err(problem(format!(
            "it is {}, not a regular file, so it was not read. Give the path of a saved file.",
            kind_of(&meta)
        )));
    }
    let too_large = || {
        problem(format!(
            "it is larger than the limit of {} for files read by session-ready. Nothing was \
             read; check that this is the right file.",
            size_words(limit)
        ))
    };
    if meta.len() > limit {
        return Err(too_large());
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // If a pipe is swapped in after the check above, opening it must not wait.
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(|e| problem(open_reason(&e)))?;
    let opened = file.metadata().map_err(|e| problem(open_reason(&e)))?;
    if !opened.is_file() {
        return Err(problem(format!(
            "it is {}, not a regular file, so it was not read.",
            kind_of(&opened)
        )));
    }
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| problem(open_reason(&e)))?;
    if bytes.len() as u64 > limit {
        return Err(too_large());
    }
    strip_bom(&mut bytes);
    Ok(bytes)
}

/// Drop a UTF-8 byte order mark at the very start: PowerShell 5.1
/// (`Out-File`, `Set-Content -Encoding UTF8`) and older Notepad write one,
/// and the text after it is what was meant.
pub fn strip_bom(bytes: &mut Vec<u8>) {
    if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        bytes.drain(..3);
    }
}

/// The bytes of an input file as text, or "not a text file" for binary data.
pub fn input_text(path: &Path, bytes: Vec<u8>) -> Result<String, crate::error::InputError> {
    let binary = || {
        crate::error::InputError::file(
            path,
            "it is not a text file (it holds binary data). Check that this is the right file.",
        )
    };
    if bytes.contains(&0) {
        return Err(binary());
    }
    String::from_utf8(bytes).map_err(|_| binary())
}

fn size_words(bytes: u64) -> String {
    if bytes >= 1024 * 1024 && bytes.is_multiple_of(1024 * 1024) {
        format!("{} MB", bytes / (1024 * 1024))
    } else {
        format!("{bytes} bytes")
    }
}

fn open_reason(e: &std::io::Error) -> String {
    let why = match e.kind() {
        std::io::ErrorKind::NotFound => "there is no file there".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission was refused".to_string(),
        std::io::ErrorKind::IsADirectory => "it is a folder, not a file".to_string(),
        _ => e.to_string(),
    };
    format!("it could not be read ({why}). Check the path.")
}

fn temp_file_names() -> tempfile::Builder<'static, 'static> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(TEMP_PREFIX).suffix(TEMP_SUFFIX);
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

/// True for `--output -`: standard output, as the file.
pub fn is_stdout(output: Option<&Path>) -> bool {
    output.is_some_and(|p| p.as_os_str() == "-")
}

/// Write `bytes` to `output` privately, or to stdout (no `--output`, or `-`).
pub fn emit(output: Option<&Path>, bytes: &[u8]) -> anyhow::Result<()> {
    match output {
        Some(path) if !is_stdout(Some(path)) => write_private(path, bytes)?,
        _ => {
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
        assert!(
            msg.contains("the folder does not exist (/nonexistent-dir-xyz)"),
            "{msg}"
        );
        assert!(msg.contains("Nothing was overwritten"), "{msg}");
    }
}
