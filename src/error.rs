//! Errors that decide the exit code. Messages follow the product's tone rules:
//! say what happened, that nothing the person entered was lost, and what to do next.
use std::path::PathBuf;

/// Exit code for a usage or input problem (PRODUCT.md: exit codes).
pub const EXIT_USAGE: u8 = 2;
/// Exit code for an internal failure.
pub const EXIT_INTERNAL: u8 = 1;

/// A problem with what the user gave us (a file, a flag, an answer). Exit code 2.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// A file could not be read or parsed; `detail` names the field and what was expected.
    #[error("There is a problem with the file {}: {detail}", path.display())]
    File { path: PathBuf, detail: String },
    /// A flag or argument does not make sense.
    #[error("{0}")]
    Usage(String),
    /// An interactive command was started without a terminal to ask questions on.
    #[error(
        "This command asks questions, and there is no terminal here to ask them on. \
         To run it without questions, give your answers in a file: --answers FILE \
         (see `session-ready check --list-questions`)."
    )]
    NoTerminal,
}

impl InputError {
    pub fn file(path: impl Into<PathBuf>, detail: impl Into<String>) -> Self {
        InputError::File {
            path: path.into(),
            detail: detail.into(),
        }
    }
}
