//! Interruption: Ctrl-C (outside raw-mode prompts), SIGTERM and a closed terminal
//! (SIGHUP) must leave the terminal usable and no half-written file behind.
//!
//! Writes are atomic (temp file + rename), so the only thing an interruption can
//! leave is the temp file itself: [`fsutil`](crate::fsutil) registers it here
//! while it is being written, and the signal thread removes it before exiting.
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, Once};

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
static INSTALL: Once = Once::new();

/// Start the signal thread (idempotent). Call once at start-up.
pub fn install() {
    INSTALL.call_once(|| {
        let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
            return;
        };
        std::thread::spawn(move || {
            if let Some(signal) = signals.forever().next() {
                restore_terminal();
                // Hold the list until exit, so no new temp file can start meanwhile.
                let _no_new_files = remove_pending();
                if signal != SIGHUP {
                    // The terminal is still there: say calmly what happened.
                    eprintln!(
                        "\nsession-ready stopped. Nothing half-finished was saved; anything you chose to keep is safe."
                    );
                }
                std::process::exit(crate::error::Exit::for_signal(signal).code().into());
            }
        });
    });
}

fn restore_terminal() {
    let _ = crossterm::terminal::disable_raw_mode();
    let _ = crossterm::execute!(std::io::stderr(), crossterm::cursor::Show);
}

fn pending() -> MutexGuard<'static, Vec<PathBuf>> {
    PENDING.lock().unwrap_or_else(|e| e.into_inner())
}

/// Remove every registered temp file; the list stays locked while the guard lives.
fn remove_pending() -> MutexGuard<'static, Vec<PathBuf>> {
    let mut list = pending();
    for path in list.drain(..) {
        let _ = std::fs::remove_file(path);
    }
    list
}

/// A temp file that must not outlive an interruption; unregistered on drop.
pub struct PendingFile(PathBuf);

impl PendingFile {
    /// Create a temp file with `make` and register the path `path_of` gives,
    /// both under the lock: a signal handled meanwhile either sees the file or
    /// stops the process before it is created.
    pub fn create<T>(
        make: impl FnOnce() -> std::io::Result<T>,
        path_of: impl FnOnce(&T) -> &Path,
    ) -> std::io::Result<(T, PendingFile)> {
        let mut list = pending();
        let made = make()?;
        let path = path_of(&made).to_path_buf();
        list.push(path.clone());
        Ok((made, PendingFile(path)))
    }
}

impl Drop for PendingFile {
    fn drop(&mut self) {
        pending().retain(|p| p != &self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_pending(path: &Path) -> bool {
        PENDING.lock().unwrap().iter().any(|p| p == path)
    }

    // Removal itself is exercised by the signal tests in tests/; doing it here
    // would race with other unit tests that write files.
    #[test]
    fn temp_files_are_registered_only_while_being_written() {
        let (file, guard) = PendingFile::create(
            tempfile::NamedTempFile::new,
            |f: &tempfile::NamedTempFile| f.path(),
        )
        .unwrap();
        assert!(is_pending(file.path()));
        drop(guard);
        assert!(!is_pending(file.path()));
    }
}
