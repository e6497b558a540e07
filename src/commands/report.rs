use std::process::ExitCode;

use crate::cli::ReportArgs;
use crate::error::InputError;
use crate::term::Style;

pub fn run(_args: ReportArgs, _style: Style) -> anyhow::Result<ExitCode> {
    Err(InputError::Usage("`report` is not built yet in this version.".into()).into())
}
