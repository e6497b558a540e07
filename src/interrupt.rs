//! Interruption: Ctrl-C (outside raw-mode prompts), SIGTERM and a closed terminal
//! (SIGHUP) must leave the terminal usable and no half-written file behind.
//!
//! Writes are atomic (temp file + rename), so the only thing an interruption can
//! leave is the temp file itself: [`fsutil`](crate::fsutil) registers it here
//! while it is being written, and the signal thread removes it before exiting.
//! On Windows the console's Ctrl-C, Ctrl-Break and close/log-off/shut-down
//! events play the part of those signals (see [`install`]).
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, Once};

use crate::error::Exit;

static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
static LAST_WORDS: Mutex<Option<String>> = Mutex::new(None);
static INSTALL: Once = Once::new();

/// What stays on screen if the program is interrupted from now on: the
/// support numbers, once a visit shows them (`None` again when they no
/// longer apply). Front-ends set it as they draw each screen, so Ctrl-C
/// outside a prompt (a wait, the page's check) never takes them away.
pub fn set_last_words(words: Option<String>) {
    *LAST_WORDS.lock().unwrap_or_else(|e| e.into_inner()) = words;
}

fn last_words() -> Option<String> {
    LAST_WORDS.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Start the signal thread (idempotent). Call once at start-up.
pub fn install() {
    INSTALL.call_once(|| {
        let Some(wait) = waiter() else {
            return;
        };
        std::thread::spawn(move || {
            if let Some(interruption) = wait() {
                stop(interruption);
            }
        });
    });
}

/// Restore the terminal, remove temp files, say so calmly and exit with
/// `Exit::Interrupted`, `Exit::Terminated` or `Exit::HungUp` (the same codes on
/// Windows, so scripts see the same on every system).
fn stop(interruption: Exit) -> ! {
    restore_terminal();
    // Hold the list until exit, so no new temp file can start meanwhile.
    let _no_new_files = remove_pending();
    if interruption != Exit::HungUp {
        // The terminal is still there: say calmly what happened, then what
        // must stay in sight (the support numbers, once they apply).
        eprintln!(
            "\nsession-ready stopped. Nothing half-finished was saved; anything you chose to keep is safe."
        );
        if let Some(words) = last_words().as_deref() {
            eprintln!("\n{words}");
        }
    }
    exit_now(interruption.code().into());
}

/// End the process from the signal thread, whatever the other threads (the
/// connection test's runtime, a prompt, the page server) are doing.
#[cfg(not(windows))]
fn exit_now(code: i32) -> ! {
    std::process::exit(code);
}

/// On Windows `std::process::exit` is `ExitProcess`: it stops the other
/// threads wherever they are and then runs every DLL's detach code, which may
/// wait for a lock one of them held; Windows' advice for a process that does
/// not know what its threads are doing is `TerminateProcess`, which skips
/// that code. Nothing here needs it: the clean-up above is done, and stderr
/// is unbuffered. Under Wine, `ExitProcess` also runs the C library's exit
/// handlers after telling wineserver the process is gone, and wineserver
/// kills (SIGKILL, exit 137) a process still there about half a second
/// later: a loaded machine sometimes got 137 instead of this code
/// (.ci/windows.sh has the figures).
#[cfg(windows)]
fn exit_now(code: i32) -> ! {
    use windows_sys::Win32::System::Threading::{GetCurrentProcess, TerminateProcess};
    // SAFETY: the pseudo-handle of this process is always valid; on success
    // the call does not return.
    unsafe {
        TerminateProcess(GetCurrentProcess(), code as u32);
    }
    std::process::exit(code);
}

/// Register for the interruptions now (so none is missed once `install`
/// returns) and give back a blocking wait for the first one.
#[cfg(unix)]
fn waiter() -> Option<impl FnOnce() -> Option<Exit> + Send + 'static> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]).ok()?;
    Some(move || signals.forever().next().map(Exit::for_signal))
}

/// Windows console control events through tokio, on a small runtime of their
/// own. For close, log-off and shut-down tokio keeps the console's handler
/// waiting, so the clean-up finishes before Windows ends the process.
#[cfg(windows)]
fn waiter() -> Option<impl FnOnce() -> Option<Exit> + Send + 'static> {
    use tokio::signal::windows;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .ok()?;
    let (mut ctrl_c, mut ctrl_break, mut close, mut logoff, mut shutdown) =
        runtime.block_on(async {
            Some((
                windows::ctrl_c().ok()?,
                windows::ctrl_break().ok()?,
                windows::ctrl_close().ok()?,
                windows::ctrl_logoff().ok()?,
                windows::ctrl_shutdown().ok()?,
            ))
        })?;
    Some(move || {
        runtime.block_on(async {
            tokio::select! {
                Some(()) = ctrl_c.recv() => Some(Exit::Interrupted),
                Some(()) = ctrl_break.recv() => Some(Exit::Interrupted),
                Some(()) = close.recv() => Some(Exit::HungUp),
                Some(()) = logoff.recv() => Some(Exit::Terminated),
                Some(()) = shutdown.recv() => Some(Exit::Terminated),
                else => None,
            }
        })
    })
}

#[cfg(not(any(unix, windows)))]
fn waiter() -> Option<fn() -> Option<Exit>> {
    None
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
