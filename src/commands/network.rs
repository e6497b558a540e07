use std::process::ExitCode;

use crate::cli::NetworkArgs;
use crate::error::InputError;
use crate::term::Style;

pub fn run(_args: NetworkArgs, _style: Style) -> anyhow::Result<ExitCode> {
    Err(InputError::Usage("`network` is not built yet in this version.".into()).into())
}
