//! What the person sees while the test runs: an indicatif bar on a terminal
//! (what is being measured and roughly how long is left), one plain line per
//! step for screen readers, or nothing.
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::time::Instant;

use super::lock;

/// The current step and when the whole test is expected to end.
struct Now {
    step: String,
    expected_end: Instant,
}

pub(super) struct Progress {
    bar: Option<ProgressBar>,
    announce: bool,
    now: Arc<Mutex<Now>>,
    ticker: Option<tokio::task::JoinHandle<()>>,
}

impl Progress {
    /// Must be called inside a tokio runtime when `bar` is true (the bar refreshes itself).
    pub fn new(bar: bool, announce: bool, expected: Duration) -> Self {
        let now = Arc::new(Mutex::new(Now {
            step: String::new(),
            expected_end: Instant::now() + expected,
        }));
        let bar = bar.then(|| {
            let pb = ProgressBar::with_draw_target(
                Some(expected.as_millis().max(1) as u64),
                ProgressDrawTarget::stderr(),
            );
            pb.set_style(
                ProgressStyle::with_template("{spinner} {msg}  [{bar:24}]")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            pb.enable_steady_tick(Duration::from_millis(120));
            pb
        });
        let ticker = bar.clone().map(|pb| {
            let now = now.clone();
            tokio::spawn(async move {
                loop {
                    refresh(&pb, &now);
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            })
        });
        Progress {
            bar,
            announce,
            now,
            ticker,
        }
    }

    /// A new step begins; `left` is the best guess of the time still needed overall.
    pub fn step(&mut self, what: &str, left: Duration) {
        {
            let mut now = lock(&self.now);
            now.step = what.to_string();
            now.expected_end = Instant::now() + left;
        }
        if self.announce {
            eprintln!("{what} (about {} left)", seconds(left));
        }
        if let Some(bar) = &self.bar {
            refresh(bar, &self.now);
        }
    }

    pub fn finish(&mut self) {
        self.stop();
        if self.announce {
            eprintln!("Connection test finished.");
        }
    }

    fn stop(&mut self) {
        if let Some(ticker) = self.ticker.take() {
            ticker.abort();
        }
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Move the bar to the share of time elapsed and say what is happening.
fn refresh(bar: &ProgressBar, now: &Mutex<Now>) {
    let (step, left) = {
        let now = lock(now);
        (
            now.step.clone(),
            now.expected_end.saturating_duration_since(Instant::now()),
        )
    };
    let total = bar.length().unwrap_or(1);
    let done = total
        .saturating_sub(left.as_millis() as u64)
        .max(bar.position());
    bar.set_position(done.min(total));
    bar.set_message(format!("{step} (about {} left)", seconds(left)));
}

fn seconds(d: Duration) -> String {
    let s = d.as_secs_f64().round().max(1.0) as u64;
    if s == 1 {
        "1 second".to_string()
    } else {
        format!("{s} seconds")
    }
}
