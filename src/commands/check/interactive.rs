//! The interactive check, as a client at home meets it: an opening that says
//! what will happen and where answers go; consent before anything is kept;
//! the questions; the report previewed before anything is saved; crisis
//! resources at the end. The connection test runs in the background meanwhile.
use std::path::PathBuf;
use std::thread::JoinHandle;

use crate::cli::CheckArgs;
use crate::error::Exit;
use crate::questionnaire::bank;
use crate::questionnaire::draft::{self, Draft};
use crate::questionnaire::flow::{Flow, FlowState};
use crate::questionnaire::prompt::{Interrupt, LinePrompter, MenuItem, Prompter, TerminalPrompter};
use crate::questionnaire::session::{Ending, Session};
use crate::report::deliver::{Delivery, deliver};
use crate::report::model::{QuestionnaireStatus, Report, ReportParts};
use crate::report::{Format, View};
use crate::term::Style;

use super::{Measured, Setup};

/// Where progress is kept, and whether the client agreed to keep it.
struct Progress {
    /// Where a draft lives (`--draft`, or the data folder); `None` if there is nowhere.
    file: Option<PathBuf>,
    keep: bool,
    started_at: String,
    region: String,
    save_failed: bool,
}

impl Progress {
    /// Save after every change, only with consent; say once if it cannot be kept.
    fn save(&mut self, state: &FlowState) {
        let Some(file) = self.file.as_ref().filter(|_| self.keep) else {
            return;
        };
        let draft = Draft::new(
            self.started_at.clone(),
            Some(self.region.clone()),
            state.clone(),
        );
        if let Err(e) = draft::save(file, &draft)
            && !self.save_failed
        {
            self.save_failed = true;
            eprintln!(
                "Your progress could not be kept ({e}). You can carry on; pausing will not keep your answers."
            );
        }
    }

    /// True when answers are on disk for next time.
    fn kept(&self) -> bool {
        self.keep && self.file.as_ref().is_some_and(|f| f.exists())
    }

    /// The check is finished: the draft has done its job.
    fn finish(&self) {
        if let Some(file) = &self.file {
            let _ = draft::remove(file);
        }
    }
}

pub fn run(args: &CheckArgs, style: Style, setup: &Setup) -> anyhow::Result<Exit> {
    let mut prompter: Box<dyn Prompter> = if style.plain {
        Box::new(LinePrompter::new(
            std::io::BufReader::new(std::io::stdin()),
            std::io::stderr(),
        ))
    } else {
        Box::new(TerminalPrompter::new(style))
    };
    let p = prompter.as_mut();
    let file = args.draft.clone().or_else(draft::default_path);

    let server = (!args.no_network).then(|| setup.contacts());
    opening(p, style, server.as_deref());

    // A paused check: offer to pick it up (the client agreed to keep it then).
    let resumed = match resume(p, style, file.as_deref()) {
        Ok(resumed) => resumed,
        Err(i) => return Ok(leave(p, i, file.as_ref().is_some_and(|f| f.exists()))),
    };
    let keep = match &resumed {
        Some(_) => true,
        None => match ask_keep(p, style) {
            Ok(keep) => keep,
            Err(i) => return Ok(leave(p, i, false)),
        },
    };
    let mut progress = Progress {
        file,
        keep,
        started_at: resumed
            .as_ref()
            .map_or_else(draft::now, |d| d.started_at.clone()),
        region: setup.region(resumed.as_ref().and_then(|d| d.region.clone())),
        save_failed: false,
    };
    let state = resumed.map(|d| d.state).unwrap_or_default();

    // Measure while the client answers: it takes about ten seconds, and nothing
    // the client types is part of it.
    let probe = start_probe(args, setup, style);
    let device = super::device_report(args);

    let crisis = crate::crisis::resources_list(&progress.region);
    let (ending, state) = {
        let mut save = |flow: &Flow| progress.save(&flow.state);
        let mut session = Session::new(Flow::resume(bank(), state), p, style, &crisis, &mut save);
        let ending = session.run();
        (ending, session.flow.state.clone())
    };

    let status = match ending {
        Ending::Completed => QuestionnaireStatus::Completed,
        Ending::FinishedEarly => QuestionnaireStatus::Stopped,
        Ending::Paused => return Ok(paused(p, style, &mut progress, &state)),
        Ending::QuickExit => return Ok(leave(p, Interrupt::QuickExit, progress.kept())),
        Ending::Stopped => return Ok(leave(p, Interrupt::Stop, progress.kept())),
        Ending::NotNow => {
            p.clear();
            p.say("Whenever you are ready, run session-ready check again. Take care.");
            return Ok(Exit::Done);
        }
    };

    let (network, network_reason) = finish_probe(probe, style);
    let flow = Flow::resume(bank(), state);
    let report = Report::build(ReportParts {
        answers: flow.state.answers.clone(),
        questionnaire_status: status,
        session_plan: flow.session_plan(),
        network,
        network_reason,
        device,
        region: progress.region.clone(),
        clinic: setup.settings.clinic.clone(),
    });
    let saved = match preview_and_save(p, style, args, setup, &report) {
        Ok(saved) => saved,
        Err(i) => return Ok(leave(p, i, progress.kept())),
    };
    progress.finish();
    closing(
        p,
        style,
        &report,
        saved.as_ref(),
        setup.encrypt_to().is_some(),
    );
    Ok(Exit::Done)
}

/// Offer to pick up a paused check. An unreadable draft is named, and the
/// client is offered to delete it.
fn resume(
    p: &mut dyn Prompter,
    style: Style,
    file: Option<&std::path::Path>,
) -> Result<Option<Draft>, Interrupt> {
    let Some(file) = file else { return Ok(None) };
    match draft::load(file) {
        Ok(Some(d)) => {
            if welcome_back(p, style, &d)? {
                Ok(Some(d))
            } else {
                if let Err(e) = draft::remove(file) {
                    p.say(&format!("The kept answers could not be deleted ({e})."));
                }
                Ok(None)
            }
        }
        Ok(None) => Ok(None),
        Err(e) => {
            // It cannot be resumed, and it may hold answers about risk on a
            // shared computer: offer to delete it rather than keep a copy.
            p.say(&crate::safe_text::printable(&format!(
                "Answers kept from an earlier check could not be read, so they cannot be \
                 picked up again. {e}"
            )));
            let regular = std::fs::symlink_metadata(file).is_ok_and(|m| m.is_file());
            if regular {
                let items = [
                    MenuItem::new("1", "Delete the kept answers (they may be private)"),
                    MenuItem::new("2", "Leave the file where it is"),
                ];
                let picked =
                    p.choose("What should happen to that file?", &items, 0, help(style))?;
                if picked == 0 {
                    match draft::remove(file) {
                        Ok(()) => p.say("Deleted. Starting a new check.\n"),
                        Err(e) => p.say(&format!(
                            "It could not be deleted ({e}). Starting a new check.\n"
                        )),
                    }
                    return Ok(None);
                }
            }
            p.say(&crate::safe_text::printable(&format!(
                "It was left at {}; you will be asked about it again next time. Starting a new check.\n",
                file.display()
            )));
            Ok(None)
        }
    }
}

/// `servers`: what the connection test talks to, or `None` when it is off.
fn opening(p: &mut dyn Prompter, style: Style, servers: Option<&[String]>) {
    p.clear();
    p.say(&style.heading("Getting ready for video sessions"));
    let connection = match servers {
        Some(servers) => format!(
            "2. A test of your internet connection, about 10 seconds. It runs in the background \
             while you answer and exchanges only test data with {}, which {} only this \
             computer's internet address.",
            servers.join(" and "),
            if servers.len() == 1 { "sees" } else { "see" }
        ),
        None => "2. (The connection test is turned off this time.)".to_string(),
    };
    let quick_exit = if style.plain {
        "type q and press Enter to leave at once"
    } else {
        "press Esc to leave at once and clear the screen"
    };
    p.say(&format!(
        "This check helps you and your therapist decide whether video sessions from home are \
         a good fit right now. It takes about 10 minutes:\n\n\
         1. A quick look at this device, a few seconds.\n\
         {connection}\n\
         3. About 20 questions in six short parts: your setup, privacy, home, contact with \
         other people, how you have been feeling, and a plan for your sessions.\n\n\
         Every question can be skipped, and you can see why it is asked. You can go back, \
         pause and finish later, or stop at any time: {quick_exit}.\n\n\
         Your answers stay on this computer; nothing you type is sent anywhere. You will see \
         your report before anything is saved, and you choose whether to save it.\n"
    ));
}

fn help(style: Style) -> &'static str {
    if style.plain {
        "Type a number, then Enter. Type q to leave at once."
    } else {
        "↑↓ or type a number, then Enter. Esc leaves at once and clears the screen."
    }
}

fn ask_keep(p: &mut dyn Prompter, style: Style) -> Result<bool, Interrupt> {
    let items = [
        MenuItem::new("1", "No, keep nothing (next time starts afresh)"),
        MenuItem::new("2", "Yes, keep my answers privately until I finish"),
    ];
    p.say(
        "If you pause or have to leave, your answers can be kept in a file only your user \
account can open, and deleted when you finish. Anyone who can use your account could open it.",
    );
    let picked = p.choose(
        "Should your answers be kept if you pause or leave?",
        &items,
        0,
        help(style),
    )?;
    Ok(picked == 1)
}

fn welcome_back(p: &mut dyn Prompter, style: Style, d: &Draft) -> Result<bool, Interrupt> {
    let answered = d.state.answers.len();
    p.say(&format!(
        "Welcome back. You paused a check on {}, with {answered} question{} answered.",
        d.saved_at.get(..10).unwrap_or(&d.saved_at),
        if answered == 1 { "" } else { "s" }
    ));
    let items = [
        MenuItem::new("1", "Pick up where I left off"),
        MenuItem::new("2", "Start again (the kept answers are deleted)"),
    ];
    let picked = p.choose(
        "Is now a safe and private time to carry on?",
        &items,
        0,
        help(style),
    )?;
    Ok(picked == 0)
}

/// Leave at once (Esc) or after Ctrl-C: clear the screen so nothing is left
/// readable; say only what is needed.
fn leave(p: &mut dyn Prompter, how: Interrupt, kept: bool) -> Exit {
    p.clear();
    match how {
        Interrupt::QuickExit => Exit::Done,
        Interrupt::Stop | Interrupt::Closed => {
            if kept {
                eprintln!(
                    "Stopped. Your answers so far are kept; run session-ready check to carry on."
                );
            } else {
                eprintln!("Stopped. Nothing was kept.");
            }
            // Ctrl-C and a closed terminal alike, as shells expect of Ctrl-C.
            Exit::Interrupted
        }
    }
}

fn paused(p: &mut dyn Prompter, style: Style, progress: &mut Progress, state: &FlowState) -> Exit {
    let Some(file) = progress.file.clone() else {
        p.clear();
        p.say(
            "Paused. There is nowhere to keep answers on this system, so next time starts afresh.",
        );
        return Exit::Done;
    };
    if !progress.keep {
        let items = [
            MenuItem::new("1", "Yes, keep my answers privately until I finish"),
            MenuItem::new("2", "No, keep nothing"),
        ];
        let question = "Would you like your answers kept so you can finish later?";
        progress.keep = matches!(p.choose(question, &items, 0, help(style)), Ok(0));
        progress.save(state);
    }
    p.clear();
    if progress.kept() {
        p.say(&format!(
            "Paused. Your answers are kept privately in {}.\nRun session-ready check again to pick up where you left off.",
            file.display()
        ));
    } else if progress.keep {
        p.say("Paused, but your answers could not be kept. Next time starts afresh.");
    } else {
        p.say("Paused. Nothing was kept. Run session-ready check whenever you are ready.");
    }
    Exit::Done
}

fn start_probe(args: &CheckArgs, setup: &Setup, style: Style) -> Option<JoinHandle<Measured>> {
    if args.no_network {
        return None;
    }
    let config = setup.probe(args, style, false);
    std::thread::Builder::new()
        .name("connection-test".into())
        .spawn(move || super::run_probe(&config))
        .ok()
}

fn finish_probe(probe: Option<JoinHandle<Measured>>, style: Style) -> Measured {
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

fn probe_lost() -> Measured {
    (
        None,
        Some("the connection test stopped unexpectedly".to_string()),
    )
}

/// Show the report, then let the client choose what (if anything) to save.
fn preview_and_save(
    p: &mut dyn Prompter,
    style: Style,
    args: &CheckArgs,
    setup: &Setup,
    report: &Report,
) -> Result<Option<PathBuf>, Interrupt> {
    let client = report.client_copy();
    let mut show = client.clone();
    loop {
        p.clear();
        p.say(&crate::report::terminal::render(&show, style));
        p.say("Above is what your report contains. The full copy for your therapist also includes your answers about how you have been feeling.");
        let items = [
            MenuItem::new("1", "Save the full report for my therapist"),
            MenuItem::new(
                "2",
                "Save a copy without the answers about how I have been feeling",
            ),
            MenuItem::new("3", "Show everything the full report contains"),
            MenuItem::new("4", "Do not save anything"),
        ];
        let picked = p.choose("What would you like to do?", &items, 0, help(style))?;
        let view = match picked {
            0 => View::Clinician,
            1 => View::Client,
            2 => {
                show = report.clone();
                continue;
            }
            _ => return Ok(None),
        };
        show = client.clone();
        let path = match &args.output {
            Some(path) => path.clone(),
            None => {
                let suggested = default_file_name(args.format, setup.encrypt_to().is_some());
                let typed = p.text(
                    "Where should it be saved?",
                    "Press Enter to use the suggested name, or type another.",
                    &suggested,
                )?;
                let typed = typed.trim();
                PathBuf::from(if typed.is_empty() {
                    suggested.as_str()
                } else {
                    typed
                })
            }
        };
        let format = match args.format {
            Format::Terminal => Format::Json,
            other => other,
        };
        let delivery = Delivery {
            format,
            view: Some(view),
            output: Some(&path),
            encrypt_to: setup.encrypt_to(),
            style,
        };
        match deliver(report, &delivery) {
            Ok(()) => return Ok(Some(path)),
            Err(e) => {
                // Nothing is lost: the report is still here; offer the choice again.
                p.say(&e.to_string());
                let again = [MenuItem::new("1", "Back to the choices")];
                p.choose(
                    "Your report is still here, nothing was lost.",
                    &again,
                    0,
                    help(style),
                )?;
            }
        }
    }
}

/// `readiness-report-<date>.<ext>`, with `.age` added when the copy is encrypted.
fn default_file_name(format: Format, encrypted: bool) -> String {
    let date = chrono::Local::now().format("%Y-%m-%d");
    let ext = match format {
        Format::Markdown => "md",
        Format::Text => "txt",
        Format::Pdf => "pdf",
        Format::Fhir => "fhir.json",
        Format::Json | Format::Terminal => "json",
    };
    let age = if encrypted { ".age" } else { "" };
    format!("readiness-report-{date}.{ext}{age}")
}

fn closing(
    p: &mut dyn Prompter,
    style: Style,
    report: &Report,
    saved: Option<&PathBuf>,
    encrypted: bool,
) {
    p.clear();
    p.say(&style.heading("Thank you"));
    p.say(&format!("{}\n", report.headline));
    match saved {
        Some(path) if encrypted => p.say(&format!(
            "Your report is saved in {}, locked so that only your clinic can open it. \
             You can send it to your therapist as they asked.\n",
            path.display()
        )),
        Some(path) => p.say(&format!(
            "Your report is saved in {} (only your user account can open it). You can share it with your therapist, or show it again with: session-ready report {}\n",
            path.display(),
            path.display()
        )),
        None => p.say("Nothing was saved.\n"),
    }
    p.say(&crate::crisis::render(&report.crisis_resources, style));
}
