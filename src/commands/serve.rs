use std::process::ExitCode;

use crate::cli::ServeArgs;
use crate::error::InputError;
use crate::term::Style;

pub fn run(_args: ServeArgs, _style: Style) -> anyhow::Result<ExitCode> {
    Err(InputError::Usage("`serve` is not built yet in this version.".into()).into())
}
