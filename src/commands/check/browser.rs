//! `check --browser`: the camera, microphone and speaker test in a page on
//! this computer. The page server runs only while the test does.
use std::time::Duration;

use crate::cli::CheckArgs;
use crate::device::media::MediaMeasurements;
use crate::page::{Limits, PageServer};

/// Serve the page until the client finishes or leaves it, and return what it
/// measured. `None` when the page could not be served: the device check then
/// falls back to what the system shows, and says so.
pub(super) fn media_test(args: &CheckArgs) -> Option<MediaMeasurements> {
    let limits = Limits {
        idle: Duration::from_secs(args.page_idle_seconds.max(1)),
        closed_after: Duration::from_secs(args.page_closed_seconds.max(1)),
    };
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
