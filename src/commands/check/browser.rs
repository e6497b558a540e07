//! `check --browser`: the whole check in a page on this computer, or the
//! camera, microphone and speaker test alone (`--device --browser`). The page
//! server runs only while the check does.
use std::time::Duration;

use crate::cli::CheckArgs;
use crate::device::media::MediaMeasurements;
use crate::error::Exit;
use crate::page::finish::{self, FinishedReport, FinishedWalk, SaveSettings};
use crate::page::walk::WalkSetup;
use crate::page::{Ending, Limits, PageServer};
use crate::questionnaire::answers_file::AnswersFile;
use crate::report::Report;
use crate::report::model::{QuestionnaireStatus, ReportParts};
use crate::term::Style;

use super::Setup;

/// Serve the page until the client finishes or leaves it, and return what it
/// measured. `None` when the page could not be served: the device check then
/// falls back to what the system shows, and says so.
pub(super) fn media_test(args: &CheckArgs) -> Option<MediaMeasurements> {
    let limits = limits(args, Limits::media_test());
    let served = super::super::runtime().and_then(|runtime| {
        runtime.block_on(async {
            let server = PageServer::start().await?;
            announce(server.url(), !args.no_open);
            let ending = server.wait(limits).await;
            let media = server.measurements();
            server.shutdown().await;
            eprintln!("{}\n", ending.message());
            Ok(media)
        })
    });
    match served {
        Ok(media) => Some(media),
        Err(e) => {
            eprintln!(
                "The browser page could not be started on this computer ({e}), so the camera and microphone are checked the usual way instead."
            );
            None
        }
    }
}

/// Print the address, and open it unless asked not to.
fn announce(url: &str, open: bool) {
    eprintln!(
        "\nThe camera, microphone and speaker test is ready in your web browser at:\n\n    {url}\n\nThis address works only on this computer. Keep this window open until the page says \"All done\"."
    );
    open_page(url, open);
}

fn open_page(url: &str, open: bool) {
    if open {
        match webbrowser::open(url) {
            Ok(()) => {
                eprintln!("It should open by itself; if not, copy the address into your browser.\n")
            }
            Err(_) => eprintln!(
                "Your browser could not be opened from here: please copy the address into it.\n"
            ),
        }
    } else {
        eprintln!("Copy the address into your browser to begin.\n");
    }
}

/// `check --browser`: the whole check in the page. The connection test runs
/// here in the background while the client uses the page, and its progress
/// shows there; the report is built here exactly as the terminal check builds
/// it, offered in the page, and saved here with the same choices. With
/// `answers` (an answers file), the page goes from the media test straight to
/// the report.
pub(super) fn whole_check(
    args: &CheckArgs,
    style: Style,
    setup: &Setup,
    answers: Option<AnswersFile>,
) -> anyhow::Result<Exit> {
    let limits = limits(args, Limits::whole_check());
    let probe_config = (setup.saved_network.is_none() && !args.no_network)
        .then(|| setup.probe(args, style, false));
    // The questions in the page, unless an answers file gave them.
    let questions = answers.is_none().then(|| {
        let servers = (!args.no_network && setup.saved_network.is_none()).then(|| setup.contacts());
        WalkSetup {
            draft: args
                .draft
                .clone()
                .or_else(crate::questionnaire::draft::default_path),
            regions: setup.regions.clone(),
            clinic_key: setup.encrypt_to().is_some(),
            opening: crate::visit::opening(crate::visit::FrontEnd::Page, servers.as_deref()),
        }
    });
    let served = super::super::runtime().and_then(|runtime| {
        runtime.block_on(async {
            let server = PageServer::start_check(questions).await?;
            let probe = probe_config.map(|mut config| {
                // The page follows the probe's own steps, as the terminal does.
                let feed = crate::net::probe::ProgressFeed::for_config(&config);
                config.feed = Some(feed.clone());
                let done = server.connection_started(feed);
                std::thread::Builder::new()
                    .name("connection-test".into())
                    .spawn(move || {
                        let measured = super::run_probe(&config);
                        done.done();
                        measured
                    })
            });
            let probe = match probe {
                Some(Ok(handle)) => Some(handle),
                Some(Err(e)) => return Err(e.into()),
                None => None,
            };
            if let Some(file) = answers {
                server.hold_walk(FinishedWalk {
                    answers: file.answers,
                    session_plan: file.session_plan,
                    status: QuestionnaireStatus::Completed,
                    region: file.region,
                    watched: false,
                });
            }
            announce_check(server.url(), !args.no_open);
            let mut probe = probe;
            let ending = loop {
                match server.wait(limits).await {
                    Ending::WalkDone => {
                        let Some(walk) = server.take_walk() else {
                            continue;
                        };
                        let handle = probe.take();
                        let measured = tokio::task::spawn_blocking(move || {
                            super::interactive::finish_probe(
                                handle,
                                Style::decide(false, true, true),
                            )
                        })
                        .await
                        .unwrap_or_else(|_| {
                            (
                                None,
                                Some("the connection test stopped unexpectedly".into()),
                            )
                        });
                        // A saved connection test (--network) stands in for a new one.
                        let measured = match &setup.saved_network {
                            Some((network, _)) => (Some(network.clone()), None),
                            None => measured,
                        };
                        server.offer(finished_report(
                            args,
                            setup,
                            walk,
                            measured,
                            server.measurements(),
                        ));
                    }
                    other => break other,
                }
            };
            if ending == Ending::Finished {
                server.linger().await;
            }
            let closing = server.closing();
            if closing.is_some() {
                // The check is finished: kept answers have done their job.
                server.forget_draft();
            }
            let kept = server.walk_kept();
            let last = LastLines {
                numbers: server.support_numbers(),
                watched: server.watched(),
            };
            server.shutdown().await;
            Ok((ending, closing, kept, last))
        })
    });
    let (ending, closing, kept, last) = match served {
        Ok(done) => done,
        Err(e) => {
            eprintln!(
                "The browser page could not be started on this computer ({e}). Nothing was \
                 lost. You can run the check in this window instead: {} check",
                crate::term::self_command()
            );
            return Ok(Exit::Internal);
        }
    };
    // Leaving quickly, or a home someone may be watching: the terminal that
    // started the check keeps nothing on screen, the address included.
    if ending == Ending::WalkLeft(crate::questionnaire::walk::Ending::QuickExit) {
        clear_terminal();
        return Ok(Exit::Done);
    }
    let exit = match closing {
        Some(closing) => {
            eprintln!(
                "The check is finished, and session-ready has closed its page server.\n{}\n",
                crate::safe_text::printable(&finish::saved_words(&closing))
            );
            Exit::Done
        }
        None if matches!(ending, Ending::WalkLeft(_)) => {
            // As in the terminal: pausing and "not now" end calmly.
            let words = ending.message();
            if !words.is_empty() {
                eprintln!("{words}\n");
            }
            Exit::Done
        }
        None => {
            let next = if kept {
                "Your answers so far are kept privately; run"
            } else {
                "The check was not finished, so no report was made and nothing was kept. Run"
            };
            eprintln!(
                "{}\n{next} {} check --browser whenever you are ready.\n",
                match ending {
                    Ending::PageClosed => format!(
                        "The browser page was away for {}, so session-ready has stopped its page server.",
                        how_long(limits.closed_after)
                    ),
                    _ => format!(
                        "Nothing happened on the browser page for {}, so session-ready has stopped its page server.",
                        how_long(limits.idle)
                    ),
                },
                crate::term::self_command()
            );
            // As when the terminal is closed in the middle of the check.
            Exit::Interrupted
        }
    };
    if last.watched {
        clear_terminal();
    } else if let Some(numbers) = &last.numbers {
        // The last lines, as in the terminal check: the support numbers.
        eprintln!("{}", crate::crisis::render(numbers, style));
    }
    Ok(exit)
}

/// "30 minutes", "1 minute", "5 seconds".
fn how_long(d: Duration) -> String {
    let s = d.as_secs();
    match (s / 60, s % 60) {
        (1, 0) => "1 minute".into(),
        (m, 0) if m > 0 => format!("{m} minutes"),
        (_, _) if s == 1 => "1 second".into(),
        _ => format!("{s} seconds"),
    }
}

/// What the terminal says last, taken from the page before it stops.
struct LastLines {
    /// The support numbers, when they apply.
    numbers: Option<Vec<crate::crisis::CrisisResource>>,
    /// Someone at home may see this device: the terminal is cleared instead.
    watched: bool,
}

/// Clear the terminal that started the check, scrollback included (it shows
/// the page's address), when it is one.
fn clear_terminal() {
    use std::io::{IsTerminal, Write};
    let mut err = std::io::stderr();
    if err.is_terminal() {
        let _ = err.write_all(crate::term::CLEAR_SCREEN.as_bytes());
        let _ = err.flush();
    }
}

/// Build the report exactly as the terminal check does, with the page's
/// camera, microphone and speaker measurements in the device section.
fn finished_report(
    args: &CheckArgs,
    setup: &Setup,
    walk: FinishedWalk,
    (network, network_reason): super::Probed,
    media: MediaMeasurements,
) -> FinishedReport {
    let device = (!args.no_device).then(|| {
        let mut facts = crate::device::collect::facts();
        facts.media = Some(media);
        crate::device::rules::rate(&facts)
    });
    let mut report = Report::build(ReportParts {
        answers: walk.answers,
        questionnaire_status: walk.status,
        session_plan: walk.session_plan,
        network,
        network_reason,
        device,
        region: setup.region(walk.region),
        clinic: setup.settings.clinic.clone(),
        client_ref: setup.client_ref.clone(),
    });
    if let Some((_, source)) = &setup.saved_network {
        report.network_source = Some(source.clone());
    }
    let watched = walk.watched || crate::assessment::watched_home(&report.answers);
    FinishedReport {
        report,
        watched,
        save: SaveSettings {
            format: args.format,
            output: args.output.clone(),
            encrypt_to: setup.encrypt_to().map(str::to_string),
        },
    }
}

fn limits(args: &CheckArgs, default: Limits) -> Limits {
    let seconds = |flag: Option<u64>, default: Duration| {
        flag.map_or(default, |s| Duration::from_secs(s.max(1)))
    };
    Limits {
        idle: seconds(args.page_idle_seconds, default.idle),
        closed_after: seconds(args.page_closed_seconds, default.closed_after),
    }
}

/// Print the address of the whole check, and open it unless asked not to.
fn announce_check(url: &str, open: bool) {
    eprintln!(
        "\nYour readiness check is ready in your web browser at:\n\n    {url}\n\nThis address \
         works only on this computer. Keep this window open until the page says \"Thank you\"."
    );
    open_page(url, open);
}
