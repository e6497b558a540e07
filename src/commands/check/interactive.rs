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
use crate::questionnaire::session::{Ending, Opening, Session, Snapshot};
use crate::questionnaire::walk;
use crate::report::deliver::{Delivery, deliver};
use crate::report::model::{QuestionnaireStatus, Report, ReportParts};
use crate::report::saving::{self, SaveChoice};
use crate::term::Style;

use super::{Measured, Setup};

/// Where progress is kept, and whether the client agreed to keep it.
struct Progress {
    /// Where a draft lives (`--draft`, or the data folder); `None` if there is nowhere.
    file: Option<PathBuf>,
    keep: bool,
    started_at: String,
    region: Option<String>,
    save_failed: bool,
}

impl Progress {
    /// Save after every change, only with consent; say once if it cannot be
    /// kept. Without consent (never given, or withdrawn because the home may
    /// be watched) a draft from earlier is deleted, so nothing stays behind.
    fn save(&mut self, state: &FlowState) {
        let Some(file) = self.file.as_ref() else {
            return;
        };
        let kept = draft::keep_or_forget(
            file,
            self.keep,
            &self.started_at,
            self.region.as_deref(),
            state,
        );
        if let Err(e) = kept
            && self.keep
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

    // A paused check: offer to pick it up (the client agreed to keep it then).
    let resumed = match resume(p, style, file.as_deref()) {
        Ok(Resume::Draft(d)) => Some(d),
        Ok(Resume::Fresh) => None,
        Ok(Resume::NotNow(region)) => {
            p.clear();
            let crisis = crate::crisis::resources_list(&setup.region(region));
            p.say(&format!(
                "Your answers are still kept. Whenever you are ready, run {} check again. \
                 Take care.\n\n{}",
                crate::term::self_command(),
                crate::crisis::emergency_line(&crisis)
            ));
            return Ok(Exit::Done);
        }
        Err(i) => return Ok(leave(p, i, file.as_ref().is_some_and(|f| f.exists()))),
    };
    let mut progress = Progress {
        file,
        keep: resumed.is_some(),
        started_at: resumed
            .as_ref()
            .map_or_else(draft::now, |d| d.started_at.clone()),
        region: setup.known_region(resumed.as_ref().and_then(|d| d.region.clone())),
        save_failed: false,
    };
    let state = resumed
        .as_ref()
        .map(|d| d.state.clone())
        .unwrap_or_default();

    // Measure while the client answers: it takes about ten seconds, and nothing
    // the client types is part of it.
    let probe = start_probe(args, setup, style);
    let device = super::device_report(args);

    let servers = (!args.no_network).then(|| setup.contacts());
    let (ending, state, watched) = {
        let region = progress.region.clone();
        let mut save = |snapshot: Snapshot| {
            progress.keep = snapshot.keep;
            progress.region = snapshot.region.map(str::to_string);
            progress.save(snapshot.state);
        };
        let mut session = Session::new(Flow::resume(bank(), state), p, style, region, &mut save);
        // Asked after "is now a safe time?", unless the client agreed before pausing.
        session.keep = resumed.is_some().then_some(true);
        session.clinic_key = setup.encrypt_to().is_some();
        session.opening = resumed.is_none().then(|| {
            opening(
                "a quick look at this device",
                quick_exit_words(style),
                servers.as_deref(),
            )
        });
        let ending = session.run();
        (ending, session.flow.state.clone(), session.watched)
    };
    let region = progress
        .region
        .clone()
        .unwrap_or_else(|| crate::crisis::FALLBACK_REGION.to_string());

    let status = match ending {
        Ending::Completed => QuestionnaireStatus::Completed,
        Ending::FinishedEarly => QuestionnaireStatus::Stopped,
        Ending::Paused => return Ok(paused(p, style, &mut progress, &state)),
        Ending::QuickExit => return Ok(leave(p, Interrupt::QuickExit, progress.kept())),
        Ending::Stopped => return Ok(leave(p, Interrupt::Stop, progress.kept())),
        Ending::NotNow => {
            p.clear();
            p.say(&format!(
                "Whenever you are ready, run {} check again. Take care.\n\n{}",
                crate::term::self_command(),
                crate::crisis::emergency_line(&crate::crisis::resources_list(&region))
            ));
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
        region,
        clinic: setup.settings.clinic.clone(),
        client_ref: setup.client_ref.clone(),
    });
    let watched = watched || crate::assessment::watched_home(&report.answers);
    let saved = match preview_and_save(p, style, args, setup, &report, watched) {
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
        watched,
    );
    Ok(Exit::Done)
}

/// What the client chose on the welcome-back screen.
enum Resume {
    Draft(Draft),
    Fresh,
    /// "No, not now": leave, keeping the draft; its region, if any.
    NotNow(Option<String>),
}

/// Offer to pick up a paused check. An unreadable draft is named, and the
/// client is offered to delete it.
fn resume(
    p: &mut dyn Prompter,
    style: Style,
    file: Option<&std::path::Path>,
) -> Result<Resume, Interrupt> {
    let Some(file) = file else {
        return Ok(Resume::Fresh);
    };
    match draft::load(file) {
        Ok(Some(d)) => match welcome_back(p, style, &d)? {
            Welcome::PickUp => Ok(Resume::Draft(d)),
            Welcome::NotNow => Ok(Resume::NotNow(d.region)),
            Welcome::StartAgain => {
                if let Err(e) = draft::remove(file) {
                    p.say(&format!("The kept answers could not be deleted ({e})."));
                }
                Ok(Resume::Fresh)
            }
        },
        Ok(None) => Ok(Resume::Fresh),
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
                    return Ok(Resume::Fresh);
                }
            }
            p.say(&crate::safe_text::printable(&format!(
                "It was left at {}; you will be asked about it again next time. Starting a new check.\n",
                file.display()
            )));
            Ok(Resume::Fresh)
        }
    }
}

/// The opening, drawn above "Is now a safe and private time?": what happens,
/// how long it takes, that every question can be skipped, and the quick exit.
/// The servers the connection test talks to are one choice away.
/// `device` names the device check as this front-end does it.
pub(super) fn opening(device: &str, quick_exit: &str, servers: Option<&[String]>) -> Opening {
    let more = servers.map(|servers| {
        format!(
            "The connection test takes about 10 seconds and runs in the background while you \
             answer. It exchanges only test data with {}, which {} only this computer's \
             internet address. Nothing you type is sent.",
            servers.join(" and "),
            if servers.len() == 1 { "sees" } else { "see" }
        )
    });
    let connection = if servers.is_some() {
        "a connection test while you answer"
    } else {
        "no connection test this time"
    };
    Opening {
        title: "Getting ready for video sessions".into(),
        text: format!(
            "This check helps you and your therapist decide whether video sessions from home \
             are a good fit right now. It takes about 10 minutes: {device}, {connection}, \
             and about 20 short questions. Every question can be \
             skipped. {quick_exit}. Your answers stay on this computer, and you choose \
             whether your report is saved."
        ),
        more,
    }
}

/// How to leave at once, as the opening says it in a terminal.
fn quick_exit_words(style: Style) -> &'static str {
    if style.plain {
        "Typing q leaves at once"
    } else {
        "Esc leaves at once and clears the screen"
    }
}

fn help(style: Style) -> &'static str {
    crate::questionnaire::prompt::menu_help(style.plain)
}

/// What the client chose on the welcome-back screen.
enum Welcome {
    PickUp,
    StartAgain,
    NotNow,
}

fn welcome_back(p: &mut dyn Prompter, style: Style, d: &Draft) -> Result<Welcome, Interrupt> {
    let answered = d.state.answers.len();
    p.clear();
    p.say(&style.heading("Welcome back"));
    p.say(&format!(
        "{}\n",
        walk::resume_summary(&d.saved_at, answered)
    ));
    // "No, not now" holds the cursor: carrying on is the client's choice.
    let items = [
        MenuItem::new("n", walk::RESUME_NOT_NOW),
        MenuItem::new("1", walk::RESUME_PICK_UP),
        MenuItem::new("2", walk::RESUME_START_AGAIN),
    ];
    let picked = p.choose(walk::RESUME_PROMPT, &items, 0, help(style))?;
    Ok(match picked {
        1 => Welcome::PickUp,
        2 => Welcome::StartAgain,
        _ => Welcome::NotNow,
    })
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
        // "No" holds the cursor: answers are kept only when the client asks.
        let items = [
            MenuItem::new("1", walk::PAUSE_KEEP_NO),
            MenuItem::new("2", walk::KEEP_YES),
        ];
        let question = walk::PAUSE_KEEP_PROMPT;
        progress.keep = matches!(p.choose(question, &items, 0, help(style)), Ok(1));
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

pub(super) fn start_probe(
    args: &CheckArgs,
    setup: &Setup,
    style: Style,
) -> Option<JoinHandle<Measured>> {
    if args.no_network {
        return None;
    }
    let config = setup.probe(args, style, false);
    std::thread::Builder::new()
        .name("connection-test".into())
        .spawn(move || super::run_probe(&config))
        .ok()
}

pub(super) fn finish_probe(probe: Option<JoinHandle<Measured>>, style: Style) -> Measured {
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
    watched: bool,
) -> Result<Option<PathBuf>, Interrupt> {
    let client = report.client_copy();
    let mut show = client.clone();
    let in_sight = if saving::crisis_applies(report) {
        crate::crisis::render_short(&report.crisis_resources, style)
    } else {
        String::new()
    };
    let keyed = setup.encrypt_to().is_some();
    let offers = saving::offers(watched, keyed);
    let items: Vec<MenuItem> = offers
        .items
        .iter()
        .map(|o| MenuItem::new(o.key, o.label))
        .collect();
    loop {
        p.clear();
        if watched {
            p.say(&style.heading("Your report is ready"));
            p.say(
                "To keep it private, your report is not shown unless you ask, and nothing is \
                 saved on this device unless you choose.\n",
            );
        } else {
            p.say(&crate::report::terminal::render(&show, style));
            p.say(
                "Above is what your report contains. The full copy for your therapist also \
                 includes your answers about how you have been feeling.\n",
            );
        }
        // The numbers stay right above the choice, however long the report.
        p.say(&in_sight);
        let picked = p.choose(
            "What would you like to do?",
            &items,
            offers.suggested,
            help(style),
        )?;
        let choice = offers.items[picked].choice;
        let view = match choice.saved_view() {
            Some(view) => view,
            None if choice == SaveChoice::ShowEverything => {
                if !page(p, style, &crate::report::terminal::render(report, style)) {
                    show = report.clone();
                }
                continue;
            }
            None if choice == SaveChoice::ShowOnce => {
                p.clear();
                p.say(&crate::report::terminal::render(&client, style));
                p.say(&in_sight);
                let done = [MenuItem::new("1", "Clear the screen and go back").without_tick()];
                p.choose("When you have finished reading:", &done, 0, help(style))?;
                continue;
            }
            None => return Ok(None),
        };
        show = client.clone();
        let path = match &args.output {
            Some(path) => path.clone(),
            None => {
                let suggested =
                    saving::unique_name(&saving::default_file_name(args.format, keyed, watched));
                p.say(&in_sight);
                // Said above the prompt, where it wraps at spaces like any text.
                p.say(&format!("Suggested name: {suggested}"));
                let typed = p.text(
                    "Where should it be saved?",
                    "Enter uses the suggested name, or type another.",
                    "",
                )?;
                let typed = typed.trim();
                let path = PathBuf::from(if typed.is_empty() {
                    suggested.as_str()
                } else {
                    typed
                });
                // A typed name is always a file: `-` would print the full copy here.
                if typed == "-" {
                    p.say(&saving::typed_file_name(typed).unwrap_err());
                    p.say(&in_sight);
                    let again = [MenuItem::new("1", "Back to the choices").without_tick()];
                    p.choose("Nothing was saved.", &again, 0, help(style))?;
                    continue;
                }
                // Never replace an earlier report without asking: choose again.
                // What is checked is the name written (`.age` added when locked).
                let written =
                    crate::report::deliver::written_path(&path, setup.encrypt_to().is_some());
                if std::fs::symlink_metadata(&written).is_ok() {
                    p.say(&crate::safe_text::printable(&format!(
                        "There is already a file called {}; it was left as it is. Please \
                         choose another name.",
                        written.display()
                    )));
                    p.say(&in_sight);
                    let again = [MenuItem::new("1", "Back to the choices").without_tick()];
                    p.choose("Nothing was replaced.", &again, 0, help(style))?;
                    continue;
                }
                path
            }
        };
        let delivery = Delivery {
            format: saving::saved_format(args.format),
            view: Some(view),
            output: Some(&path),
            encrypt_to: setup.encrypt_to(),
            style,
        };
        match deliver(report, &delivery) {
            Ok(()) => return Ok(delivery.output_path().map(|p| p.into_owned())),
            Err(e) => {
                // Nothing is lost: the report is still here; offer the choice again.
                p.say(&e.to_string());
                p.say(&in_sight);
                let again = [MenuItem::new("1", "Back to the choices").without_tick()];
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

/// Show a long text through the pager (`$PAGER`, else `less`), which leaves
/// nothing on screen when closed. False when there is no pager to use (plain
/// mode, no terminal, none installed): the caller then shows it directly.
fn page(p: &mut dyn Prompter, style: Style, text: &str) -> bool {
    if style.plain || !crate::term::interactive() {
        return false;
    }
    p.clear();
    crate::term::page(text)
}

fn closing(
    p: &mut dyn Prompter,
    style: Style,
    report: &Report,
    saved: Option<&PathBuf>,
    encrypted: bool,
    watched: bool,
) {
    p.clear();
    p.say(&style.heading("Thank you"));
    if !watched {
        p.say(&format!("{}\n", report.headline));
    }
    match saved {
        Some(path) if encrypted => p.say(&crate::safe_text::printable(&format!(
            "Your report is saved in {}, locked so that only your clinic can open it. \
             You can send it to your therapist as they asked.\n",
            path.display()
        ))),
        Some(path) => p.say(&crate::safe_text::printable(&format!(
            "Your report is saved in {} (only your user account can open it). You can share \
             it with your therapist, or show it again with: {} report {}\n",
            path.display(),
            crate::term::self_command(),
            path.display()
        ))),
        None => p.say("Nothing was saved.\n"),
    }
    // The last lines before the program ends: the support numbers.
    p.say(&crate::crisis::render(&report.crisis_resources, style));
    if watched {
        let done = [MenuItem::new("1", "Clear the screen and finish").without_tick()];
        let _ = p.choose(
            "When you are ready, this screen will be cleared.",
            &done,
            0,
            help(style),
        );
        p.clear();
    }
}
