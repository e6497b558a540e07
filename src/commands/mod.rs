//! One file per subcommand: each turns parsed arguments into I/O around the
//! library's pure logic. `run` maps errors to the documented exit codes.
mod check;
mod docs;
mod invite;
mod keygen;
mod network;
mod questionnaire;
mod report;
mod serve;
mod summarize;

use crate::cli::{Cli, Command};
use crate::error::{Exit, InputError};
use crate::term::Style;

/// Run a parsed command line and say how the process ends.
pub fn run(cli: Cli) -> Exit {
    let style = Style::detect(cli.plain, cli.no_color);
    // `serve` shuts down gracefully on its own signals; every other command
    // restores the terminal and removes half-written files when interrupted.
    if !matches!(cli.command, Command::Serve(_)) {
        crate::interrupt::install();
    }
    let result = match cli.command {
        Command::Check(args) => check::run(args, style),
        Command::Network(args) => network::run(args, style),
        Command::Serve(args) => serve::run(args, style),
        Command::Invite(args) => invite::run(args),
        Command::Report(args) => report::run(args, style),
        Command::Summarize(args) => summarize::run(args, style),
        Command::Keygen(args) => keygen::run(args),
        Command::Questionnaire(args) => questionnaire::run(args, style),
        Command::Completions { shell } => docs::completions(shell),
        Command::Man { out_dir } => docs::man(out_dir),
    };
    match result {
        Ok(code) => code,
        // Whoever reads our output stopped reading (`| head`): a normal end.
        Err(err) if is_broken_pipe(&err) => Exit::Done,
        Err(err) => {
            let usage = err.downcast_ref::<InputError>().is_some()
                || err.downcast_ref::<clap::Error>().is_some()
                || err
                    .downcast_ref::<crate::fsutil::WriteError>()
                    .is_some_and(|e| e.is_input_problem());
            // Messages quote file names and values from files: escaped, so
            // they cannot drive the terminal.
            let disk_full = err
                .downcast_ref::<crate::fsutil::WriteError>()
                .is_some_and(|e| e.is_disk_full());
            if disk_full {
                // The whole story is in the message; the OS's wording and the
                // temporary file's name would only confuse.
                eprintln!(
                    "session-ready: {}",
                    crate::safe_text::printable(&err.to_string())
                );
                return Exit::DiskFull;
            }
            eprintln!("{}", crate::safe_text::printable(&error_message(&err)));
            if usage { Exit::Usage } else { Exit::Internal }
        }
    }
}

/// True when the error comes from writing to a pipe whose reader has gone.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// The whole error chain, calmly worded, with no Rust debug noise.
fn error_message(err: &anyhow::Error) -> String {
    let mut msg = format!("session-ready: {err}");
    for cause in err.chain().skip(1) {
        let text = cause.to_string();
        if !msg.contains(&text) {
            msg.push_str(&format!("\n  ({text})"));
        }
    }
    msg
}

/// A tokio runtime for commands that do network I/O.
pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

/// Run the connection test to the end on a runtime of its own (`network`, and
/// `check` in the foreground or on its background thread).
pub(crate) fn run_probe(
    config: &crate::net::probe::ProbeConfig,
) -> anyhow::Result<crate::net::NetworkReport> {
    let runtime = runtime()?;
    let report = runtime.block_on(crate::net::probe::run(config));
    // A name lookup stuck in the system resolver must not hold the exit.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    Ok(report)
}

/// An earlier report is never replaced silently: `--output` onto an existing
/// file is refused (exit code 2, nothing written) unless `--force` is given.
pub(crate) fn refuse_existing(
    output: Option<&std::path::Path>,
    encrypted: bool,
    force: bool,
) -> Result<(), crate::error::InputError> {
    let Some(asked) = output.filter(|p| p.as_os_str() != "-") else {
        return Ok(());
    };
    // What is written: `r.json` locked for the clinic is `r.json.age`.
    let path = crate::report::deliver::written_path(asked, encrypted);
    // Anything but a regular file is refused by the private writer itself,
    // with its own words ("not a regular file").
    let existing_file = std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_file());
    if force || !existing_file {
        return Ok(());
    }
    let named = if *path == *asked {
        format!("--output {}", asked.display())
    } else {
        format!(
            "--output {} is saved as {} (locked for the clinic), which",
            asked.display(),
            path.display()
        )
    };
    Err(crate::error::InputError::Usage(
        crate::safe_text::printable(&format!(
            "{named} already exists, so nothing was written. Choose another name, or add \
             --force to replace it."
        ))
        .into_owned(),
    ))
}
