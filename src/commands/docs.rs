//! Shell completions and man pages, generated from the clap definitions.
use std::path::PathBuf;

use clap::CommandFactory;

use crate::cli::Cli;
use crate::error::Exit;

pub fn completions(shell: clap_complete::Shell) -> anyhow::Result<Exit> {
    let mut cmd = Cli::command();
    clap_complete::generate(shell, &mut cmd, "session-ready", &mut std::io::stdout());
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
        None => clap_mangen::Man::new(cmd).render(&mut std::io::stdout())?,
    }
    Ok(Exit::Done)
}
