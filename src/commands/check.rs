use std::process::ExitCode;

use crate::cli::{CheckArgs, NetworkFormat};
use crate::error::InputError;
use crate::term::Style;

pub fn run(args: CheckArgs, style: Style) -> anyhow::Result<ExitCode> {
    if args.device {
        let report = crate::device::collect();
        let format = match args.format {
            crate::cli::Format::Json => NetworkFormat::Json,
            _ => NetworkFormat::Terminal,
        };
        let bytes = crate::device::render(&report, format, style)?;
        super::emit(args.output.as_deref(), &bytes)?;
        return Ok(ExitCode::SUCCESS);
    }
    Err(InputError::Usage(
        "The full `check` is not built yet in this version; try `check --device`.".into(),
    )
    .into())
}
