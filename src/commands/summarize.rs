use std::process::ExitCode;

use crate::cli::SummarizeArgs;
use crate::error::InputError;
use crate::term::Style;

pub fn run(_args: SummarizeArgs, _style: Style) -> anyhow::Result<ExitCode> {
    Err(InputError::Usage("`summarize` is not built yet in this version.".into()).into())
}
