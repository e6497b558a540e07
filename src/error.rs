//! Errors that decide the exit code. Messages follow the product's tone rules:
//! say what happened, that nothing the person entered was lost, and what to do next.
use std::path::PathBuf;

/// How the process ends: every exit code the program uses (docs/interface.md: exit
/// codes). The outcome of a check is in the report, never in the exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// 0: the command finished, or the person chose to pause or leave.
    Done,
    /// 1: something went wrong inside the program.
    Internal,
    /// 2: a usage or input problem: a flag, a file or an answer.
    Usage,
    /// 3: the result could not be saved because the disk (or quota) is full.
    DiskFull,
    /// 130 (128 + SIGINT): stopped with Ctrl-C, as shells expect.
    Interrupted,
    /// 143 (128 + SIGTERM): asked to stop by another program.
    Terminated,
    /// 129 (128 + SIGHUP): the terminal was closed.
    HungUp,
}

impl Exit {
    /// The number the process exits with.
    pub fn code(self) -> u8 {
        match self {
            Exit::Done => 0,
            Exit::Internal => 1,
            Exit::Usage => 2,
            Exit::DiskFull => 3,
            Exit::HungUp => 128 + 1,
            Exit::Interrupted => 128 + 2,
            Exit::Terminated => 128 + 15,
        }
    }

    /// The exit for a stop by `signal`, one of the POSIX numbers the program
    /// catches (SIGHUP 1, SIGINT 2, SIGTERM 15): 128 + that number.
    pub fn for_signal(signal: i32) -> Exit {
        match signal {
            1 => Exit::HungUp,
            15 => Exit::Terminated,
            _ => Exit::Interrupted,
        }
    }
}

impl From<Exit> for std::process::ExitCode {
    fn from(exit: Exit) -> Self {
        std::process::ExitCode::from(exit.code())
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_the_documented_ones() {
        let codes = [
            (Exit::Done, 0),
            (Exit::Internal, 1),
            (Exit::Usage, 2),
            (Exit::HungUp, 129),
            (Exit::Interrupted, 130),
            (Exit::Terminated, 143),
        ];
        for (exit, code) in codes {
            assert_eq!(exit.code(), code, "{exit:?}");
        }
        assert_eq!(Exit::for_signal(1), Exit::HungUp);
        assert_eq!(Exit::for_signal(2), Exit::Interrupted);
        assert_eq!(Exit::for_signal(15), Exit::Terminated);
    }
}
