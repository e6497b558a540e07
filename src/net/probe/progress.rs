//! How far the connection test has got, from the probe's own steps. The
//! probe moves one [`ProgressFeed`] on as each step begins; every front end
//! reads that same feed: the terminal's indicatif bar or plain step lines
//! (here), and the browser page's line and `progress.json` (`page::finish`).
//!
//! Within a step the share grows with the time the step has had, measured
//! against its own plan, and slows down as it nears the step's end: a step
//! that takes longer than planned (a stalled or distant server) holds the
//! bar inside that step's share instead of running ahead to "almost done".
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::{ProbeConfig, ProbeTiming, choose, lock};

/// The probe's steps in order. The numbers are stable: the page reads them
/// from `progress.json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ProbeStep {
    /// Not begun yet.
    Starting = 0,
    /// Racing several measurement servers for the nearest (only with several).
    Choosing = 1,
    /// Finding the server (its name, first contact).
    Connecting = 2,
    /// Delay and steadiness, beside the audio-like UDP stream.
    Delay = 3,
    Download = 4,
    Upload = 5,
    Finished = 6,
}

impl ProbeStep {
    /// Every step, `Starting` to `Finished`.
    pub const ALL: [ProbeStep; 7] = [
        ProbeStep::Starting,
        ProbeStep::Choosing,
        ProbeStep::Connecting,
        ProbeStep::Delay,
        ProbeStep::Download,
        ProbeStep::Upload,
        ProbeStep::Finished,
    ];

    pub fn id(self) -> u8 {
        self as u8
    }

    /// What is happening, as the person is told.
    pub fn words(self) -> &'static str {
        match self {
            ProbeStep::Starting => "Getting ready to test the connection",
            ProbeStep::Choosing => "Finding the nearest measurement server",
            ProbeStep::Connecting => "Connecting to the measurement server",
            ProbeStep::Delay => "Measuring delay and steadiness, with a short audio-like test",
            ProbeStep::Download => "Measuring download speed",
            ProbeStep::Upload => "Measuring upload speed",
            ProbeStep::Finished => "The connection test has finished",
        }
    }
}

/// The steps a test with `timing` runs, each with its planned length in
/// seconds (a healthy link's; the probe's steps may take longer, up to their
/// own bounds). `several` servers add the race for the nearest.
pub(super) fn planned_steps(timing: &ProbeTiming, several: bool) -> Vec<(ProbeStep, f64)> {
    let transfer = timing.transfer_max_s * 0.65;
    let mut steps = Vec::with_capacity(5);
    if several {
        steps.push((ProbeStep::Choosing, choose::RACE.as_secs_f64()));
    }
    steps.extend([
        (ProbeStep::Connecting, 0.3),
        // A healthy link's stream stops at its shortest (see `udp_min_seconds`).
        (ProbeStep::Delay, timing.udp_min_seconds + 0.3),
        (ProbeStep::Download, transfer),
        (ProbeStep::Upload, transfer),
    ]);
    steps
}

/// Where the connection test stands.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProgressView {
    pub step: ProbeStep,
    /// The place of `step` among the steps this test runs (1 for the first;
    /// 0 before the first begins), and how many it runs.
    pub number: u8,
    pub of: u8,
    /// The share done, 0 to 1; 1 only once the test has finished.
    pub fraction: f64,
    /// The best guess of the time still needed.
    pub left: Duration,
}

/// The connection test's progress, shared: the probe moves it on, anyone
/// holding a clone reads it (cheap to clone; safe from any thread).
#[derive(Debug, Clone)]
pub struct ProgressFeed(Arc<Mutex<Track>>);

#[derive(Debug)]
struct Track {
    /// The steps this test runs, each with its planned length (seconds).
    plan: Vec<(ProbeStep, f64)>,
    step: ProbeStep,
    /// When the current step began, and how long it was planned to take.
    since: Instant,
    planned: Duration,
}

impl ProgressFeed {
    /// A feed for a test with `config`, not begun yet.
    pub fn for_config(config: &ProbeConfig) -> Self {
        let several = choose::server_list(&config.server).len() >= 2;
        ProgressFeed(Arc::new(Mutex::new(Track {
            plan: planned_steps(&config.timing, several),
            step: ProbeStep::Starting,
            since: Instant::now(),
            planned: Duration::ZERO,
        })))
    }

    /// `step` begins now and should take about `planned`.
    pub(super) fn begin(&self, step: ProbeStep, planned: Duration) {
        let mut track = lock(&self.0);
        // Steps only move forward: a late call from a step that ended cannot undo one.
        if step > track.step {
            track.step = step;
            track.since = Instant::now();
            track.planned = planned;
        }
    }

    pub(super) fn finish(&self) {
        self.begin(ProbeStep::Finished, Duration::ZERO);
    }

    /// The steps this test runs, in order (`Starting` and `Finished` aside).
    pub fn steps(&self) -> Vec<ProbeStep> {
        lock(&self.0).plan.iter().map(|(step, _)| *step).collect()
    }

    pub fn view(&self) -> ProgressView {
        let track = lock(&self.0);
        let of = track.plan.len() as u8;
        let total: f64 = track.plan.iter().map(|(_, s)| s).sum::<f64>().max(1e-3);
        match track.step {
            ProbeStep::Starting => ProgressView {
                step: ProbeStep::Starting,
                number: 0,
                of,
                fraction: 0.0,
                left: Duration::from_secs_f64(total),
            },
            ProbeStep::Finished => ProgressView {
                step: ProbeStep::Finished,
                number: of,
                of,
                fraction: 1.0,
                left: Duration::ZERO,
            },
            step => {
                let at = track.plan.iter().position(|(s, _)| *s == step);
                let (before, share, after) = match at {
                    Some(i) => (
                        track.plan[..i].iter().map(|(_, s)| s).sum::<f64>(),
                        track.plan[i].1,
                        track.plan[i + 1..].iter().map(|(_, s)| s).sum::<f64>(),
                    ),
                    None => (0.0, 0.0, total),
                };
                let elapsed = track.since.elapsed();
                let planned = track.planned.as_secs_f64();
                let within = if planned > 0.0 {
                    within_step(elapsed.as_secs_f64() / planned)
                } else {
                    0.0
                };
                // Time left by the healthy link's plan: a step that overruns
                // leaves the steps after it still to come.
                let this_step_left = (share - elapsed.as_secs_f64()).max(0.0);
                ProgressView {
                    step,
                    number: at.map_or(0, |i| i as u8 + 1),
                    of,
                    fraction: ((before + share * within) / total).clamp(0.0, 0.99),
                    left: Duration::from_secs_f64(this_step_left + after),
                }
            }
        }
    }
}

/// The share of a step done after `x` times its planned length: as planned
/// up to 80 %, then ever more slowly, never all of it (only the step's end says so).
fn within_step(x: f64) -> f64 {
    if !x.is_finite() || x <= 0.0 {
        0.0
    } else if x <= 0.8 {
        x
    } else {
        (1.0 - 0.2 * (-(x - 0.8) / 0.2).exp()).min(0.98)
    }
}

/// What the person sees on the terminal while the test runs: an indicatif bar
/// (the step and roughly how long is left), one plain line per step for
/// screen readers, or nothing. It reads the same [`ProgressFeed`] as the page.
pub(super) struct Progress {
    feed: ProgressFeed,
    bar: Option<ProgressBar>,
    announce: bool,
    ticker: Option<tokio::task::JoinHandle<()>>,
}

/// The bar's length: the share done in thousandths.
const BAR_LENGTH: u64 = 1000;

impl Progress {
    /// Must be called inside a tokio runtime when `bar` is true (the bar refreshes itself).
    pub fn new(bar: bool, announce: bool, feed: ProgressFeed) -> Self {
        let bar = bar.then(|| {
            let pb = ProgressBar::with_draw_target(Some(BAR_LENGTH), ProgressDrawTarget::stderr());
            pb.set_style(
                ProgressStyle::with_template("{spinner} {msg}  [{bar:24}]")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            pb.enable_steady_tick(Duration::from_millis(120));
            pb
        });
        let ticker = bar.clone().map(|pb| {
            let feed = feed.clone();
            tokio::spawn(async move {
                loop {
                    refresh(&pb, &feed);
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            })
        });
        Progress {
            feed,
            bar,
            announce,
            ticker,
        }
    }

    /// `step` begins and should take about `planned`.
    pub fn step(&mut self, step: ProbeStep, planned: Duration) {
        self.feed.begin(step, planned);
        if self.announce {
            let now = self.feed.view();
            eprintln!("{} (about {} left)", step.words(), seconds(now.left));
        }
        if let Some(bar) = &self.bar {
            refresh(bar, &self.feed);
        }
    }

    pub fn finish(&mut self) {
        self.feed.finish();
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

/// Move the bar to the share done and say what is happening.
fn refresh(bar: &ProgressBar, feed: &ProgressFeed) {
    let now = feed.view();
    let done = ((now.fraction * BAR_LENGTH as f64) as u64).max(bar.position());
    bar.set_position(done.min(BAR_LENGTH));
    bar.set_message(format!(
        "{} (about {} left)",
        now.step.words(),
        seconds(now.left)
    ));
}

fn seconds(d: Duration) -> String {
    let s = d.as_secs_f64().round().max(1.0) as u64;
    if s == 1 {
        "1 second".to_string()
    } else {
        format!("{s} seconds")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed() -> ProgressFeed {
        ProgressFeed::for_config(&ProbeConfig::new("http://127.0.0.1:9"))
    }

    /// Pretend the current step began `ago`.
    fn backdate(feed: &ProgressFeed, ago: Duration) {
        let mut track = lock(&feed.0);
        track.since = Instant::now() - ago;
    }

    #[test]
    fn a_step_that_overruns_stays_inside_its_share() {
        let feed = feed();
        assert_eq!(feed.view().step, ProbeStep::Starting);
        assert_eq!(feed.view().fraction, 0.0);
        feed.begin(ProbeStep::Connecting, Duration::from_millis(300));
        // A server that does not answer: a minute on the first step.
        backdate(&feed, Duration::from_secs(60));
        let stuck = feed.view();
        assert_eq!(
            (stuck.step, stuck.number, stuck.of),
            (ProbeStep::Connecting, 1, 4)
        );
        let plan = planned_steps(&ProbeTiming::default(), false);
        let total: f64 = plan.iter().map(|(_, s)| s).sum();
        assert!(stuck.fraction < plan[0].1 / total, "{stuck:?}");
        // The rest of the test is still ahead.
        assert!(
            stuck.left.as_secs_f64() >= total - plan[0].1 - 1e-9,
            "{stuck:?}"
        );
    }

    #[test]
    fn the_share_grows_with_each_step_and_is_whole_only_at_the_end() {
        let feed = feed();
        let mut last = 0.0;
        for step in [
            ProbeStep::Connecting,
            ProbeStep::Delay,
            ProbeStep::Download,
            ProbeStep::Upload,
        ] {
            feed.begin(step, Duration::from_secs(3));
            let begun = feed.view().fraction;
            assert!(begun >= last, "{step:?}: {begun} after {last}");
            backdate(&feed, Duration::from_secs(2));
            let later = feed.view().fraction;
            assert!(later > begun && later < 1.0, "{step:?}: {later}");
            last = later;
        }
        // A step that comes late (an earlier one's) does not move the test back.
        feed.begin(ProbeStep::Delay, Duration::from_secs(3));
        assert_eq!(feed.view().step, ProbeStep::Upload);
        feed.finish();
        let end = feed.view();
        assert_eq!(
            (end.step, end.fraction, end.left),
            (ProbeStep::Finished, 1.0, Duration::ZERO)
        );
    }

    #[test]
    fn several_servers_add_the_race_for_the_nearest() {
        let feed =
            ProgressFeed::for_config(&ProbeConfig::new("http://127.0.0.1:9,http://127.0.0.2:9"));
        feed.begin(ProbeStep::Choosing, choose::RACE);
        let now = feed.view();
        assert_eq!((now.number, now.of), (1, 5));
    }

    #[test]
    fn within_a_step_the_share_never_reaches_the_whole() {
        assert_eq!(within_step(0.0), 0.0);
        assert_eq!(within_step(0.5), 0.5);
        assert!((within_step(0.8) - 0.8).abs() < 1e-12);
        assert!(within_step(1.0) > 0.8 && within_step(1.0) < 1.0);
        assert!(within_step(1e6) < 1.0 && within_step(f64::NAN) == 0.0);
        let mut last = 0.0;
        for i in 1..400 {
            let now = within_step(f64::from(i) / 100.0);
            assert!(now >= last);
            last = now;
        }
    }
}
