//! `check --browser`: the whole check in a page on this computer, or the
//! camera, microphone and speaker test alone (`--device --browser`). The page
//! server runs only while the check does.
use std::time::Duration;

use crate::cli::CheckArgs;
use crate::device::media::MediaMeasurements;
use crate::error::Exit;
use crate::page::{Ending, Limits, PageServer};
use crate::questionnaire::answers_file::AnswersFile;
use crate::report::model::QuestionnaireStatus;
use crate::term::Style;
use crate::visit::{Action, End, FrontEnd, Measured, Visit, Walked};

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

/// `check --browser`: the whole check in the page, the visit (`crate::visit`)
/// drawn by the page (`crate::page`). The connection test runs here in the
/// background while the client uses the page, and its progress shows there;
/// the visit builds the report and saves it through the same store as the
/// terminal check. With `answers` (an answers file), the page goes from the
/// media test straight to the report. At the end the terminal draws the
/// visit's last screen (its farewell, with the numbers when they apply), or
/// is cleared when the home may be watched or the client left quickly.
pub(super) fn whole_check(
    args: &CheckArgs,
    style: Style,
    setup: &Setup,
    answers: Option<AnswersFile>,
) -> anyhow::Result<Exit> {
    let limits = limits(args, Limits::whole_check());
    let probe_config = (setup.saved_network.is_none() && !args.no_network)
        .then(|| setup.probe(args, style, false));
    let plan = setup.visit_plan(args, FrontEnd::Page);
    let files = crate::visit::storage::Files {
        plain_names: true,
        ..setup.files(args)
    };
    let visit = match answers {
        Some(file) => Visit::answered(
            plan,
            files,
            Walked {
                answers: file.answers,
                session_plan: file.session_plan,
                status: QuestionnaireStatus::Completed,
                region: file.region,
            },
        ),
        None => Visit::new(plan, files),
    };
    let served = super::super::runtime().and_then(|runtime| {
        runtime.block_on(async {
            let server = PageServer::start_check(visit).await?;
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
            let mut probe = match probe {
                Some(Ok(handle)) => Some(handle),
                Some(Err(e)) => return Err(e.into()),
                None => None,
            };
            announce_check(server.url(), !args.no_open);
            let ending = loop {
                match server.wait(limits).await {
                    Ending::Measure => {
                        let handle = probe.take();
                        let (network, network_reason) = tokio::task::spawn_blocking(move || {
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
                        let (network, network_reason) = match &setup.saved_network {
                            Some((network, _)) => (Some(network.clone()), None),
                            None => (network, network_reason),
                        };
                        server.measured(Measured {
                            network,
                            network_reason,
                            device: page_device(args, server.measurements()),
                        });
                    }
                    other => break other,
                }
            };
            if ending == Ending::Ended {
                server.linger().await;
            } else {
                // The page went away or stayed silent: the visit stops here,
                // as when a terminal is closed part-way.
                server.with_visit(|v| v.act(Action::Stop));
            }
            let last = server.with_visit(|v| (v.end(), v.screen()));
            server.shutdown().await;
            Ok((ending, last))
        })
    });
    let (ending, last) = match served {
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
    let Some((end, screen)) = last else {
        return Ok(Exit::Internal);
    };
    // Leaving quickly, or a home someone may be watching: the terminal that
    // started the check keeps nothing on screen, the address included.
    if end == Some(End::QuickExit) || screen.frame.watched {
        clear_terminal();
    } else {
        let why = match ending {
            Ending::PageClosed => format!(
                "The browser page was away for {}, so session-ready has stopped its page server.",
                how_long(limits.closed_after)
            ),
            Ending::Idle => format!(
                "Nothing happened on the browser page for {}, so session-ready has stopped its \
                 page server.",
                how_long(limits.idle)
            ),
            _ => Ending::Ended.message().to_string(),
        };
        // The visit's last screen, as the terminal draws it: the support
        // numbers last when they apply.
        eprintln!("{why}\n\n{}\n", crate::ui::terminal::draw(&screen, style));
    }
    Ok(match end {
        // As when the terminal is closed in the middle of the check.
        Some(End::Stopped) => Exit::Interrupted,
        _ => Exit::Done,
    })
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

/// The device check, with the page's camera, microphone and speaker
/// measurements in it.
fn page_device(args: &CheckArgs, media: MediaMeasurements) -> Option<crate::device::DeviceReport> {
    (!args.no_device).then(|| {
        let mut facts = crate::device::collect::facts();
        facts.media = Some(media);
        crate::device::rules::rate(&facts)
    })
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
