//! `session-ready network`: the connection test on its own.

use crate::cli::{NetworkArgs, ProbeArgs};
use crate::error::{Exit, InputError};
use crate::net::probe::{self, DEFAULT_SERVER, ProbeConfig};
use crate::term::{OutputFormat, Style};

/// Check the flags a person typed; a problem here is exit code 2.
pub(crate) fn validate(args: &ProbeArgs) -> Result<(), InputError> {
    if let Some(servers) = &args.server {
        let list = probe::server_list(servers);
        if list.is_empty() {
            return Err(InputError::Usage(
                "--server: expected a web address, for example https://speed.example.org.".into(),
            ));
        }
        for server in list {
            probe::parse_server_url(&server)
                .map_err(|m| InputError::Usage(format!("--server: {m}")))?;
        }
    }
    if let Some(stun) = &args.stun {
        probe::split_host_port(stun).map_err(|m| InputError::Usage(format!("--stun: {m}")))?;
    }
    if !(args.max_seconds.is_finite() && args.max_seconds >= 1.0 && args.max_seconds <= 600.0) {
        return Err(InputError::Usage(format!(
            "--max-seconds: expected a number of seconds from 1 to 600, got {}.",
            args.max_seconds
        )));
    }
    Ok(())
}

/// The connection test's settings from the shared `--server/--stun/--max-seconds`
/// flags and the terminal style (progress bar on a TTY, plain step lines with
/// `--plain` on a TTY).
pub(crate) fn probe_config(args: &ProbeArgs, style: Style) -> ProbeConfig {
    let interactive = style.tty && std::io::IsTerminal::is_terminal(&std::io::stderr());
    ProbeConfig {
        stun: args.stun.clone(),
        max_seconds: args.max_seconds,
        progress: style.progress(),
        announce: style.plain && interactive,
        ..ProbeConfig::new(
            args.server
                .clone()
                .unwrap_or_else(|| DEFAULT_SERVER.to_string()),
        )
    }
}

pub fn run(args: NetworkArgs, style: Style) -> anyhow::Result<Exit> {
    validate(&args.probe)?;
    let config = probe_config(&args.probe, style);
    let report = super::run_probe(&config)?;
    // Colour codes belong on a terminal, never in a saved file.
    let style = if args.output.is_some() {
        Style::decide(false, style.plain, true)
    } else {
        style
    };
    // JSON keeps when the test finished, so `check --network FILE` can say how old it is.
    let bytes = match args.format {
        OutputFormat::Json => {
            crate::term::json_document(&crate::net::saved::SavedNetwork::now(report))?
        }
        _ => crate::net::render::render(&report, args.format, style)?,
    };
    crate::fsutil::emit(args.output.as_deref(), &bytes)?;
    if args.output.is_some() && args.format == OutputFormat::Terminal && style.plain {
        eprintln!("Saved.");
    }
    Ok(Exit::Done)
}
