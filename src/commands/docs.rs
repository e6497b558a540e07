//! Shell completions and man pages, generated from the clap definitions.
use std::path::PathBuf;

use clap::CommandFactory;

use crate::cli::Cli;
use crate::error::Exit;

pub fn completions(shell: clap_complete::Shell) -> anyhow::Result<Exit> {
    let mut cmd = Cli::command();
    // Rendered first and written with write_all: clap_complete's own writer
    // panics on a closed pipe, and `| head` must end calmly.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, "session-ready", &mut script);
    crate::fsutil::emit(None, &script)?;
    Ok(Exit::Done)
}

pub fn man(out_dir: Option<PathBuf>) -> anyhow::Result<Exit> {
    let cmd = Cli::command();
    match out_dir {
        Some(dir) => {
            std::fs::create_dir_all(&dir)?;
            clap_mangen::generate_to(cmd, &dir)?;
            eprintln!("Manual pages written to {}.", dir.display());
        }
        None => {
            let mut page = Vec::new();
            clap_mangen::Man::new(cmd).render(&mut page)?;
            crate::fsutil::emit(None, &page)?;
        }
    }
    Ok(Exit::Done)
}
