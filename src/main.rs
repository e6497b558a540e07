//! Thin entry point: parse the command line, run it, map errors to exit codes.
use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = session_ready::cli::Cli::parse();
    session_ready::commands::run(cli).into()
}
