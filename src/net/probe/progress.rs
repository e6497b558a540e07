//! What the person sees while the test runs: an indicatif bar on a terminal
//! (what is being measured and roughly how long is left), one plain line per
//! step for screen readers, or nothing.
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::time::Instant;

pub(super) struct Progress {
    bar: Option<ProgressBar>,
    announce: bool,
    expected_end: Instant,
    step: String,
}

impl Progress {
    pub fn new(bar: bool, announce: bool, expected: Duration) -> Self {
        let bar = bar.then(|| {
            let pb = ProgressBar::with_draw_target(
                Some(expected.as_millis() as u64),
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
        Progress {
            bar,
            announce,
            expected_end: Instant::now() + expected,
            step: String::new(),
        }
    }

    /// A new step begins; `left` is the best guess of the time still needed overall.
    pub fn step(&mut self, what: &str, left: Duration) {
        self.step = what.to_string();
        self.expected_end = Instant::now() + left;
        if self.announce {
            eprintln!("{what} (about {} left)", seconds(left));
        }
        self.refresh();
    }

    /// Update the time-left figure and bar position.
    pub fn refresh(&self) {
        if let Some(bar) = &self.bar {
            let left = self.expected_end.saturating_duration_since(Instant::now());
            let total = bar.length().unwrap_or(1);
            let done = total
                .saturating_sub(left.as_millis() as u64)
                .max(bar.position());
            bar.set_position(done.min(total));
            bar.set_message(format!("{} (about {} left)", self.step, seconds(left)));
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        if self.announce {
            eprintln!("Connection test finished.");
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

fn seconds(d: Duration) -> String {
    let s = d.as_secs_f64().round().max(1.0) as u64;
    if s == 1 {
        "1 second".to_string()
    } else {
        format!("{s} seconds")
    }
}
