//! Interruption: Ctrl-C (outside raw-mode prompts), SIGTERM and a closed terminal
//! (SIGHUP) must leave the terminal usable and no half-written file behind.
//!
//! Writes are atomic (temp file + rename), so the only thing an interruption can
//! leave is the temp file itself: [`fsutil`](crate::fsutil) registers it here
//! while it is being written, and the signal thread removes it before exiting.
use std::path::{Path, PathBuf};
use std::sync::{Mutex, Once};

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
                clean_up();
                if signal != SIGHUP {
                    // The terminal is still there: say calmly what happened.
                    eprintln!(
                        "\nsession-ready stopped. Nothing half-finished was saved; anything you chose to keep is safe."
                    );
                }
                std::process::exit(128 + signal);
            }
        });
    });
}

/// Restore the terminal and remove temp files being written. Also used by the quick exit.
pub fn clean_up() {
    let _ = crossterm::terminal::disable_raw_mode();
    let _ = crossterm::execute!(std::io::stderr(), crossterm::cursor::Show);
    let pending = std::mem::take(&mut *PENDING.lock().unwrap_or_else(|e| e.into_inner()));
    for path in pending {
        let _ = std::fs::remove_file(path);
    }
}

/// A temp file that must not outlive an interruption; unregistered on drop.
pub struct PendingFile(PathBuf);

impl PendingFile {
    pub fn register(path: &Path) -> Self {
        PENDING
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(path.to_path_buf());
        PendingFile(path.to_path_buf())
    }
}

impl Drop for PendingFile {
    fn drop(&mut self) {
        PENDING
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|p| p != &self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_pending(path: &Path) -> bool {
        PENDING.lock().unwrap().iter().any(|p| p == path)
    }

    // clean_up itself is exercised by the signal tests in tests/; calling it here
    // would race with other unit tests that write files.
    #[test]
    fn temp_files_are_registered_only_while_being_written() {
        let path = Path::new("/tmp/session-ready-test-pending.tmp");
        let guard = PendingFile::register(path);
        assert!(is_pending(path));
        drop(guard);
        assert!(!is_pending(path));
    }
}
