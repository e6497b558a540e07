//! The interactive check in a terminal: the visit (`crate::visit`) drawn by
//! the terminal front-end (`crate::ui::terminal`), with the connection test
//! running in the background while the client answers.
use std::thread::JoinHandle;

use crate::cli::CheckArgs;
use crate::error::Exit;
use crate::questionnaire::prompt::{LinePrompter, Prompter, TerminalPrompter};
use crate::term::Style;
use crate::ui::terminal::Background;
use crate::visit::{End, FrontEnd, Measured, Visit};

use super::Setup;

pub fn run(args: &CheckArgs, style: Style, setup: &Setup) -> anyhow::Result<Exit> {
    let mut prompter: Box<dyn Prompter> = if style.plain {
        Box::new(LinePrompter::new(
            std::io::BufReader::new(std::io::stdin()),
            std::io::stderr(),
        ))
    } else {
        Box::new(TerminalPrompter::new(style))
    };
    let plan = setup.visit_plan(args, FrontEnd::Terminal { plain: style.plain });
    let mut visit = Visit::new(plan, setup.files(args));
    let mut background = Measuring {
        args,
        setup,
        style,
        probe: None,
        started: false,
    };
    let end = crate::ui::terminal::run(&mut visit, prompter.as_mut(), style, &mut background);
    Ok(match end {
        // Ctrl-C and a closed terminal alike, as shells expect of Ctrl-C.
        End::Stopped => Exit::Interrupted,
        End::Done | End::QuickExit => Exit::Done,
    })
}

/// The connection test and the device check, run while the client answers:
/// it takes about ten seconds, and nothing the client types is part of it.
struct Measuring<'a> {
    args: &'a CheckArgs,
    setup: &'a Setup,
    style: Style,
    probe: Option<JoinHandle<super::Probed>>,
    started: bool,
}

impl Background for Measuring<'_> {
    fn start(&mut self) {
        if !self.started {
            self.started = true;
            self.probe = start_probe(self.args, self.setup, self.style);
        }
    }

    fn finish(&mut self) -> Measured {
        self.start();
        let (network, network_reason) = match &self.setup.saved_network {
            Some((network, _)) => (Some(network.clone()), None),
            None => finish_probe(self.probe.take(), self.style),
        };
        Measured {
            network,
            network_reason,
            device: super::device_report(self.args),
        }
    }
}

pub(super) fn start_probe(
    args: &CheckArgs,
    setup: &Setup,
    style: Style,
) -> Option<JoinHandle<super::Probed>> {
    if args.no_network || setup.saved_network.is_some() {
        return None;
    }
    let config = setup.probe(args, style, false);
    std::thread::Builder::new()
        .name("connection-test".into())
        .spawn(move || super::run_probe(&config))
        .ok()
}

pub(super) fn finish_probe(
    probe: Option<JoinHandle<super::Probed>>,
    style: Style,
) -> super::Probed {
    let Some(handle) = probe else {
        return (None, Some(super::NOT_TESTED.to_string()));
    };
    if !handle.is_finished() && style.progress() {
        let spinner =
            indicatif::ProgressBar::new_spinner().with_message("Finishing the connection test…");
        spinner.enable_steady_tick(std::time::Duration::from_millis(120));
        let result = handle.join();
        spinner.finish_and_clear();
        return result.unwrap_or_else(|_| probe_lost());
    }
    handle.join().unwrap_or_else(|_| probe_lost())
}

fn probe_lost() -> super::Probed {
    (
        None,
        Some("the connection test stopped unexpectedly".to_string()),
    )
}
