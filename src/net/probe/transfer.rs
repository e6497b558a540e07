//! Download and upload goodput with parallel streams, stopping as soon as
//! the estimate settles, plus latency sampled while the link is saturated.
//! One sampling loop ([`transfer`]) serves both directions; what differs is
//! how progress is counted ([`Meter`]) and how the streams send.
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use reqwest::Client;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::http::{self, Target, check_status, describe, header_bytes};
use super::{ProbeTiming, lock};
use crate::net::stats::{
    Completion, CounterSample, RateEstimate, Stability, completions_counter, read_counter_rate,
    request_cycle, upload_rate,
};

/// What one transfer phase produced.
#[derive(Debug, Clone, Default)]
pub(super) struct TransferOutcome {
    pub estimate: Option<RateEstimate>,
    /// Payload bytes moved (received for download, handed to the connection for upload).
    pub bytes: u64,
    pub streams: u32,
    /// Why the figure is missing, or a note on how it is limited.
    pub reason: Option<String>,
    /// Round trips measured while the transfer ran (ms), after the queue had time to fill.
    pub loaded_ms: Vec<f64>,
}

/// The sampling period of the phase loops.
const TICK: Duration = Duration::from_millis(50);

/// Longest reading stall bridged when the download counter is corrected
/// (`stats::read_counter_rate`): on two busy cores the program was seen
/// not reading for 0.4 s at a time while the line kept delivering.
const READ_STALL_HORIZON_S: f64 = 1.0;

/// Slow uplinks are judged over windows of at least this many request cycles.
const SLOW_UPLOAD_WINDOW_CYCLES: f64 = 2.5;

/// Loaded-latency samples are kept only after the link has had this long to fill up.
const LOAD_SETTLE: Duration = Duration::from_millis(400);

/// First problem reported by any stream (the most telling one).
#[derive(Default)]
struct Problems(Mutex<Vec<String>>);

impl Problems {
    fn add(&self, problem: String) {
        let mut list = lock(&self.0);
        if !list.contains(&problem) {
            list.push(problem);
        }
    }
    fn first(&self) -> Option<String> {
        lock(&self.0).first().cloned()
    }
}

/// Take up to `want` bytes from the shared budget.
fn reserve(budget: &AtomicU64, want: u64) -> u64 {
    let mut current = budget.load(Ordering::Relaxed);
    loop {
        let take = current.min(want);
        if take == 0 {
            return 0;
        }
        match budget.compare_exchange_weak(
            current,
            current - take,
            Ordering::Relaxed,
            Ordering::Relaxed,
        ) {
            Ok(_) => return take,
            Err(actual) => current = actual,
        }
    }
}

/// Ping every `interval` on the dedicated latency connection while a transfer runs.
async fn loaded_pings(
    client: Client,
    target: Target,
    keep_after: Instant,
    interval: Duration,
    samples: Arc<Mutex<Vec<f64>>>,
    bytes_used: Arc<AtomicU64>,
) {
    loop {
        let started = Instant::now();
        if let Ok(Ok(pong)) =
            tokio::time::timeout(Duration::from_secs(5), http::ping(&client, &target)).await
        {
            bytes_used.fetch_add(pong.bytes, Ordering::Relaxed);
            if started >= keep_after {
                lock(&samples).push(pong.rtt_ms);
            }
        }
        tokio::time::sleep_until(started + interval).await;
    }
}

/// How the transfers are sized, from the idle round trip measured just before.
///
/// TCP needs a number of round trips, not of seconds, to leave slow start
/// and show a steady rate, so on a long round trip each direction runs
/// longer, judges steadiness over a longer window, may move more data, uses
/// more streams (a long round trip means a large bandwidth-delay product at
/// any useful speed), and sends upload requests several round trips long:
/// each request waits a round trip for the server's reply, and requests much
/// shorter than that leave the line idle and feed a low rate back into the
/// next request's size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct TransferPlan {
    /// How long each direction may run before it should have settled, seconds.
    pub seconds: f64,
    /// The same for the upload, whose requests each wait a round trip for their reply:
    /// from 50 ms on it may run [`UPLOAD_EXTRA_CYCLES`] request cycles longer.
    pub upload_seconds: f64,
    /// Extra time a slow link whose rate has not settled may take, seconds.
    pub slow_extra_s: f64,
    pub streams: u32,
    pub max_download_bytes: u64,
    pub max_upload_bytes: u64,
    /// Each upload request, once the rate is known, carries this many seconds of data per stream.
    pub upload_request_s: f64,
    /// The idle round trip the plan was made for, seconds (0 when unknown).
    pub rtt_s: f64,
    pub stability: Stability,
    /// Uploads are judged over whole request cycles (a request and the wait for its
    /// reply), enough of them for the settled rule of `stats::upload_rate`.
    pub upload_stability: Stability,
}

/// Round trips allowed for the start-up ramp on top of the base duration.
const RAMP_ROUND_TRIPS: f64 = 10.0;
/// The steadiness window and span cover at least this many round trips.
const WINDOW_ROUND_TRIPS: f64 = 2.0;
/// An upload request carries at least this many round trips of data. Each
/// request is followed by a round trip with nothing to send on that stream, and
/// the next request's size follows the rate measured, so with requests of n
/// round trips a stream settles at no less than 1 − 1/(n + 1) of its share (the
/// others' queued data covers part of the gap). Longer requests settle later:
/// the settled rule needs several whole request cycles. On the 200/40 Mbit/s
/// +100 ms line of bench/netbench.py, with 8 the line carried 34.9–36.5 of the
/// 37.6 Mbit/s iperf3 reached while the probe uploaded; with 16 it carried 37.5
/// but the upload did not settle in time.
const REQUEST_ROUND_TRIPS: f64 = 12.0;
/// From 50 ms round trips on, the upload may run this many request cycles
/// longer than the download: its settled rule spans three and a half of them.
const UPLOAD_EXTRA_CYCLES: f64 = 4.0;
/// Longest upload request, seconds of data.
const MAX_UPLOAD_REQUEST_S: f64 = 3.0;
/// From this round trip on, twice the streams.
const LONG_ROUND_TRIP_S: f64 = 0.15;
/// Budgets grow with the round trip up to this factor.
const MAX_BUDGET_FACTOR: f64 = 3.0;
/// The upload's budget grows also with its longer phase, up to this factor.
const MAX_UPLOAD_BUDGET_FACTOR: f64 = 4.0;

impl TransferPlan {
    /// `rtt_s`: the idle round trip (`None` when it could not be measured: the base plan).
    pub fn for_round_trip(timing: &ProbeTiming, rtt_s: Option<f64>) -> Self {
        let rtt = rtt_s
            .filter(|r| r.is_finite() && *r > 0.0)
            .unwrap_or(0.0)
            .min(2.0);
        // 1 at short round trips, 2 at 100 ms, at most 3.
        let budget_factor = (1.0 + rtt / 0.1).min(MAX_BUDGET_FACTOR);
        let base = timing.stability;
        let window = base.window.max(WINDOW_ROUND_TRIPS * rtt);
        let span = base.span.max(WINDOW_ROUND_TRIPS * rtt);
        let upload_request_s = UPLOAD_REQUEST_S
            .max(REQUEST_ROUND_TRIPS * rtt)
            .min(MAX_UPLOAD_REQUEST_S);
        // One request and the wait for its reply.
        let cycle = upload_request_s + rtt;
        let seconds = timing.transfer_max_s + RAMP_ROUND_TRIPS * rtt;
        let upload_seconds = if rtt >= 0.05 {
            seconds + UPLOAD_EXTRA_CYCLES * cycle
        } else {
            seconds
        };
        // A fast line far away must not run out of data before its longer upload phase settles.
        let upload_budget_factor =
            (budget_factor * upload_seconds / seconds).min(MAX_UPLOAD_BUDGET_FACTOR);
        TransferPlan {
            seconds,
            upload_seconds,
            slow_extra_s: timing.slow_link_extra_s,
            streams: if rtt >= LONG_ROUND_TRIP_S {
                2 * timing.streams.max(1)
            } else {
                timing.streams.max(1)
            },
            max_download_bytes: (timing.max_download_bytes as f64 * budget_factor) as u64,
            max_upload_bytes: (timing.max_upload_bytes as f64 * upload_budget_factor) as u64,
            upload_request_s,
            rtt_s: rtt,
            stability: Stability {
                window,
                span,
                ..base
            },
            // Three request cycles and a half: at least three completions of
            // one stream inside the basis, whatever the phase.
            upload_stability: Stability {
                window: window.max(cycle),
                span: span.max(2.5 * cycle),
                ..base
            },
        }
    }
}

impl TransferPlan {
    /// The upload phase a long line gets ([`UPLOAD_EXTRA_CYCLES`] request
    /// cycles more than the download), whatever the round trip.
    pub(super) fn long_upload_seconds(&self) -> f64 {
        self.seconds + UPLOAD_EXTRA_CYCLES * (self.upload_request_s + self.rtt_s)
    }
}

/// Shared inputs of both phases.
pub(super) struct Phase<'a> {
    pub target: &'a Target,
    pub clients: &'a [Client],
    pub ping_client: &'a Client,
    pub timing: &'a ProbeTiming,
    pub plan: &'a TransferPlan,
    pub end: Instant,
    /// A slow link whose rate has not settled by `end` may go on until here.
    pub slow_end: Instant,
    pub bytes_used: Arc<AtomicU64>,
}

/// Below this upload rate the requests are shorter and the settling rule
/// follows the request cycles actually seen (see [`Meter::settling_rule`]).
const SLOW_UPLINK_BYTES_PER_S: f64 = 5_000_000.0 / 8.0;
/// On such an uplink a request carries at least this many round trips of data.
/// The long requests of a fast line far away ([`REQUEST_ROUND_TRIPS`]) keep a
/// large bandwidth-delay product in flight; a slow uplink's modem queue holds
/// more than the round trip's worth of the other streams' data, so the pause
/// while one stream waits for its reply costs no line time, and every request
/// cycle saved shortens the wait for the settled rule by several.
const SLOW_UPLINK_REQUEST_ROUND_TRIPS: f64 = 4.0;
/// On a slow uplink the settled rule spans this many of its shorter request
/// cycles (the plan's rule spans 2.5 of its own; the window, 2.5 of the
/// cycles seen under 2 Mbit/s, already holds several).
const SLOW_UPLINK_SPAN_CYCLES: f64 = 2.0;

/// Seconds of data per upload request on an uplink under 5 Mbit/s: the plan's,
/// cut to [`SLOW_UPLINK_REQUEST_ROUND_TRIPS`] (at least [`UPLOAD_REQUEST_S`]).
fn slow_uplink_request_s(planned: f64, rtt_s: f64) -> f64 {
    planned.min(UPLOAD_REQUEST_S.max(SLOW_UPLINK_REQUEST_ROUND_TRIPS * rtt_s))
}

/// Below this rate an unsettled transfer may use the extra time up to `slow_end`:
/// on slow, long-delay links TCP needs longer to settle, the rating's band
/// edges (0.35, 0.75, 1.2 Mbit/s) lie exactly there, and the extra data is small.
const SLOW_LINK_BYTES_PER_S: f64 = 2_000_000.0 / 8.0;

impl Phase<'_> {
    fn time_is_up(&self, now: Instant, estimate: Option<RateEstimate>) -> bool {
        if now >= self.slow_end {
            return true;
        }
        if now < self.end {
            return false;
        }
        !estimate.is_some_and(|e| !e.stable && e.bytes_per_s < SLOW_LINK_BYTES_PER_S)
    }

    fn start_loaded_pings(&self, set: &mut JoinSet<()>, started: Instant) -> Arc<Mutex<Vec<f64>>> {
        let samples = Arc::new(Mutex::new(Vec::new()));
        set.spawn(loaded_pings(
            self.ping_client.clone(),
            self.target.clone(),
            started + LOAD_SETTLE,
            Duration::from_secs_f64(self.timing.loaded_ping_interval_s),
            samples.clone(),
            self.bytes_used.clone(),
        ));
        samples
    }
}

/// Which way the data goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Direction {
    Download,
    Upload,
}

impl Direction {
    fn byte_budget(self, plan: &TransferPlan) -> u64 {
        match self {
            Direction::Download => plan.max_download_bytes,
            Direction::Upload => plan.max_upload_bytes,
        }
    }

    /// No progress for this long ends the transfer. An upload confirmation
    /// needs a whole request to arrive, so uploads allow twice as long.
    fn stall_s(self, timing: &ProbeTiming) -> f64 {
        match self {
            Direction::Download => timing.stall_s,
            Direction::Upload => 2.0 * timing.stall_s,
        }
    }
}

/// What the sampling loop reads at each tick, per direction: a download
/// counts bytes received; an upload counts requests the server confirmed
/// (bytes handed to the socket overstate the rate, see `stats::completions_counter`).
enum Meter {
    Download {
        samples: Vec<CounterSample>,
    },
    Upload {
        completions: Arc<Mutex<Vec<Completion>>>,
        /// Resized as the rate becomes known, to `request_s` per stream.
        request_size: Arc<AtomicU64>,
        request_s: f64,
        /// The idle round trip, seconds.
        rtt_s: f64,
        streams: usize,
        last_count: usize,
    },
}

impl Meter {
    /// Record one tick; true when anything moved since the last one.
    fn sample(&mut self, t: f64, moved: u64, last_moved: u64) -> bool {
        match self {
            Meter::Download { samples } => {
                let grew = moved > samples.last().map_or(0, |s| s.bytes);
                samples.push(CounterSample { t, bytes: moved });
                grew
            }
            Meter::Upload {
                completions,
                last_count,
                ..
            } => {
                let count = lock(completions).len();
                let grew = count > *last_count || moved > last_moved;
                *last_count = count;
                grew
            }
        }
    }

    fn estimate(&self, rule: Stability) -> Option<RateEstimate> {
        match self {
            Meter::Download { samples } => read_counter_rate(samples, rule, READ_STALL_HORIZON_S),
            Meter::Upload { completions, .. } => upload_rate(&lock(completions), rule),
        }
    }

    /// The rule a settled figure is judged by. On a slow uplink (under 2
    /// Mbit/s) the modem's queue holds a large part of each request, so the
    /// streams idle for much of each request cycle and the confirmed count
    /// moves in steps: a window of about one cycle swings by ±10% on a steady
    /// line. There the window covers several of the cycles actually seen.
    ///
    ///
    /// On an uplink under 5 Mbit/s the requests are shorter than a long
    /// line's plan (see [`Meter::adapt`]), so the window and span are those
    /// of the shorter request cycle, above `floor` (the download's rule). The
    /// span stays on the planned cycle, not the cycles seen: those are short
    /// while the first requests are small, and a rule built on them settled
    /// early and low (DSL 8/1 Mbit/s read 0.91–0.92 against iperf3's 0.96).
    fn settling_rule(&self, base: Stability, floor: Stability) -> Stability {
        let Meter::Upload {
            completions,
            request_s,
            rtt_s,
            ..
        } = self
        else {
            return base;
        };
        let done = lock(completions);
        let Some(e) = upload_rate(&done, base) else {
            return base;
        };
        if e.bytes_per_s >= SLOW_UPLINK_BYTES_PER_S {
            return base;
        }
        let cycle = slow_uplink_request_s(*request_s, *rtt_s) + rtt_s;
        let mut window = floor.window.max(cycle);
        if e.bytes_per_s < SLOW_LINK_BYTES_PER_S {
            // The window covers several of the cycles actually seen (see above).
            let seen = request_cycle(&done).unwrap_or(0.0);
            window = window.max(SLOW_UPLOAD_WINDOW_CYCLES * seen);
        }
        Stability {
            window,
            span: floor.span.max(SLOW_UPLINK_SPAN_CYCLES * cycle),
            ..base
        }
    }

    /// Uploads: size the next requests to take `request_s` per stream at
    /// the rate seen so far: small enough for a fine-grained estimate, big
    /// enough that per-request overhead and the wait for each reply do not matter.
    fn adapt(&self, estimate: RateEstimate) {
        if let Meter::Upload {
            request_size,
            request_s,
            rtt_s,
            streams,
            ..
        } = self
        {
            let request_s = if estimate.bytes_per_s < SLOW_UPLINK_BYTES_PER_S {
                slow_uplink_request_s(*request_s, *rtt_s)
            } else {
                *request_s
            };
            let per_stream = estimate.bytes_per_s / *streams as f64;
            // The floor at most doubles a request's time: on a very slow uplink
            // longer requests would leave too few request cycles to settle.
            let floor = UPLOAD_REQUEST_FLOOR.min((per_stream * 2.0 * request_s) as u64);
            let size = ((per_stream * request_s) as u64)
                .clamp(MIN_UPLOAD_REQUEST, MAX_UPLOAD_REQUEST)
                .max(floor);
            request_size.store(size, Ordering::Relaxed);
        }
    }

    fn confirmed_nothing(&self) -> bool {
        match self {
            Meter::Download { .. } => false,
            Meter::Upload { completions, .. } => lock(completions).is_empty(),
        }
    }

    /// Why the transfer ended early because the server stopped.
    fn stall_note(&self, moved: u64) -> String {
        match self {
            Meter::Download { .. } if moved == 0 => {
                "The measurement server did not start sending.".to_string()
            }
            Meter::Download { .. } => {
                "The measurement server stopped sending part-way; the figure is from before it stopped."
                    .to_string()
            }
            Meter::Upload { .. } if self.confirmed_nothing() => UPLOAD_NOT_CONFIRMED.to_string(),
            Meter::Upload { .. } => {
                "The measurement server stopped taking the upload part-way; the figure is from before it stopped."
                    .to_string()
            }
        }
    }

    /// Judge the rate from before a stall, not the silence after it. (An
    /// upload's figure already ends at its last confirmation.)
    fn forget_after(&mut self, cut: f64) {
        if let Meter::Download { samples } = self {
            samples.retain(|s| s.t <= cut.max(0.0));
        }
    }

    /// The counter a quick transfer's average is taken from.
    fn counter(&self) -> Vec<CounterSample> {
        match self {
            Meter::Download { samples } => samples.clone(),
            Meter::Upload { completions, .. } => {
                completions_counter(&lock(completions), TICK.as_secs_f64())
            }
        }
    }

    fn nothing_measured(&self, moved: u64) -> String {
        match self {
            Meter::Download { .. } => {
                "The download did not run long enough to measure.".to_string()
            }
            Meter::Upload { .. } if self.confirmed_nothing() && moved > 0 => {
                UPLOAD_NOT_CONFIRMED.to_string()
            }
            Meter::Upload { .. } => "The upload did not run long enough to measure.".to_string(),
        }
    }
}

/// Move data one way with parallel streams until the rate settles, time
/// runs out, the byte budget is spent or the server stalls; sample the delay
/// on the side.
pub(super) async fn transfer(direction: Direction, phase: Phase<'_>) -> TransferOutcome {
    let timing = phase.timing;
    let started = Instant::now();
    let budget_bytes = direction.byte_budget(phase.plan);
    let stability = match direction {
        Direction::Download => phase.plan.stability,
        Direction::Upload => phase.plan.upload_stability,
    };
    // Bytes received (download) or handed to the connection (upload).
    let moved = Arc::new(AtomicU64::new(0));
    let budget = Arc::new(AtomicU64::new(budget_bytes));
    let problems = Arc::new(Problems::default());
    let streams = phase.clients.len().max(1);

    let mut tasks = JoinSet::new();
    let mut meter = match direction {
        Direction::Download => {
            // Big requests keep every stream busy for the whole phase; unread
            // data is dropped with the connection at the end.
            let request_size = (budget_bytes / streams as u64).max(256 * 1024);
            for client in phase.clients {
                tasks.spawn(download_stream(
                    client.clone(),
                    phase.target.clone(),
                    request_size,
                    budget.clone(),
                    moved.clone(),
                    problems.clone(),
                    phase.bytes_used.clone(),
                ));
            }
            Meter::Download {
                samples: vec![CounterSample { t: 0.0, bytes: 0 }],
            }
        }
        Direction::Upload => {
            let completions = Arc::new(Mutex::new(Vec::new()));
            let request_size = Arc::new(AtomicU64::new(MIN_UPLOAD_REQUEST));
            let payload = random_payload();
            for (index, client) in phase.clients.iter().enumerate() {
                tasks.spawn(upload_stream(UploadStream {
                    index,
                    client: client.clone(),
                    target: phase.target.clone(),
                    payload: payload.clone(),
                    started,
                    request_size: request_size.clone(),
                    budget: budget.clone(),
                    handed_over: moved.clone(),
                    completions: completions.clone(),
                    problems: problems.clone(),
                    bytes_used: phase.bytes_used.clone(),
                }));
            }
            Meter::Upload {
                completions,
                request_size,
                request_s: phase.plan.upload_request_s,
                rtt_s: phase.plan.rtt_s,
                streams,
                last_count: 0,
            }
        }
    };
    let mut pinger = JoinSet::new();
    let loaded = phase.start_loaded_pings(&mut pinger, started);

    let mut last_growth = started;
    let mut last_moved = 0;
    let mut note = None;
    let mut ticker = tokio::time::interval(TICK);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = tokio::time::sleep_until(phase.slow_end) => {}
        }
        let now = Instant::now();
        let now_moved = moved.load(Ordering::Relaxed);
        let t = now.duration_since(started).as_secs_f64();
        if meter.sample(t, now_moved, last_moved) {
            last_growth = now;
        }
        last_moved = now_moved;
        let estimate = meter.estimate(meter.settling_rule(stability, phase.plan.stability));
        // Request sizes follow the rate over the short window, so they grow
        // before the upload's longer settling window has filled.
        if let Some(recent) = match direction {
            Direction::Download => None,
            Direction::Upload => meter.estimate(phase.plan.stability),
        } {
            meter.adapt(recent);
        }
        if estimate.is_some_and(|e| e.stable) {
            break;
        }
        while tasks.try_join_next().is_some() {}
        if tasks.is_empty() {
            break;
        }
        let stall_s = direction.stall_s(timing);
        if now.duration_since(last_growth).as_secs_f64() >= stall_s {
            note = Some(meter.stall_note(now_moved));
            meter.forget_after(t - stall_s);
            break;
        }
        if phase.time_is_up(now, estimate) {
            break;
        }
    }
    tasks.abort_all();
    pinger.abort_all();
    let bytes = moved.load(Ordering::Relaxed);
    let (estimate, reason) = conclude(
        &meter,
        (stability, phase.plan.stability),
        (bytes, budget_bytes),
        note,
        problems.first(),
    );
    unless_server_busy(
        TransferOutcome {
            estimate,
            bytes,
            streams: streams as u32,
            reason,
            loaded_ms: lock(&loaded).clone(),
        },
        &problems,
    )
}

/// The figure and its note once a transfer has stopped: the settled rule
/// over what the meter holds, the whole transfer's average (a lower bound)
/// when it ended cleanly before one window, and why it is missing or partial.
/// `rules` is the direction's rule and the download's (the floor of a slow
/// uplink's); `first_problem` the first thing any stream reported.
fn conclude(
    meter: &Meter,
    (stability, floor): (Stability, Stability),
    (bytes, budget_bytes): (u64, u64),
    note: Option<String>,
    first_problem: Option<String>,
) -> (Option<RateEstimate>, Option<String>) {
    let mut estimate = meter.estimate(meter.settling_rule(stability, floor));
    if estimate.is_none() && first_problem.is_none() && bytes > 0 {
        estimate = quick_transfer_estimate(&meter.counter());
    }
    let reason = match (&estimate, note) {
        (_, Some(n)) => Some(n),
        (None, None) => Some(first_problem.unwrap_or_else(|| meter.nothing_measured(bytes))),
        (Some(e), None) if !e.stable => Some(unsettled_note(bytes, budget_bytes)),
        _ => None,
    };
    (estimate, reason)
}

/// What a browser recorded of one transfer against `serve` (the hosted
/// check's page, `super::browser`): the same readings the sampling loop
/// takes, so the same meter judges them.
pub(super) enum Recorded {
    /// The received-bytes counter, read about every 50 ms.
    Download(Vec<CounterSample>),
    /// Each upload request the server confirmed.
    Upload {
        completions: Vec<Completion>,
        streams: usize,
    },
}

/// The figure of a browser's transfer, by the rules of [`transfer`]: the
/// plan's settled rule (and a slow uplink's), the lower bound of a rate that
/// had not settled when the browser stopped at the plan's time, and the notes
/// the probe gives. `problem`: why a stream stopped early, in the report's words.
pub(super) fn judge_recorded(
    plan: &TransferPlan,
    recorded: Recorded,
    bytes: u64,
    problem: Option<String>,
) -> TransferOutcome {
    let (meter, stability, budget, streams) = match recorded {
        Recorded::Download(samples) => {
            let streams = plan.streams;
            (
                Meter::Download { samples },
                plan.stability,
                plan.max_download_bytes,
                streams as usize,
            )
        }
        Recorded::Upload {
            completions,
            streams,
        } => {
            let last_count = completions.len();
            (
                Meter::Upload {
                    completions: Arc::new(Mutex::new(completions)),
                    request_size: Arc::new(AtomicU64::new(0)),
                    request_s: plan.upload_request_s,
                    rtt_s: plan.rtt_s,
                    streams: streams.max(1),
                    last_count,
                },
                plan.upload_stability,
                plan.max_upload_bytes,
                streams,
            )
        }
    };
    let busy = problem.as_deref() == Some(http::SERVER_BUSY);
    let (estimate, reason) = conclude(
        &meter,
        (stability, plan.stability),
        (bytes, budget),
        None,
        problem,
    );
    let problems = Problems::default();
    if busy {
        problems.add(http::SERVER_BUSY.to_string());
    }
    unless_server_busy(
        TransferOutcome {
            estimate,
            bytes,
            streams: streams as u32,
            reason,
            loaded_ms: Vec::new(),
        },
        &problems,
    )
}

/// Upload request sizes, for a browser that sends the probe's requests: the
/// smallest, the largest, and the floor once the rate is known.
pub(super) const UPLOAD_REQUEST_BOUNDS: [u64; 3] =
    [MIN_UPLOAD_REQUEST, MAX_UPLOAD_REQUEST, UPLOAD_REQUEST_FLOOR];

/// Loaded round trips are kept only from this long into a transfer.
pub(super) const LOADED_AFTER: Duration = LOAD_SETTLE;

/// When the server turned any stream away as busy (429/503), the streams
/// that ran say how much the server shared, not what the line can do: the
/// figure is left out and the reason names the server.
fn unless_server_busy(outcome: TransferOutcome, problems: &Problems) -> TransferOutcome {
    if !lock(&problems.0).iter().any(|p| p == http::SERVER_BUSY) {
        return outcome;
    }
    TransferOutcome {
        estimate: None,
        reason: Some(http::SERVER_BUSY.to_string()),
        loaded_ms: Vec::new(),
        ..outcome
    }
}

fn unsettled_note(bytes: u64, budget: u64) -> String {
    if bytes * 10 >= budget * 9 {
        "The data limit for this test was reached before the speed settled, so the real speed is probably higher."
            .to_string()
    } else {
        "The speed had not quite settled when the time was up, so this figure is approximate."
            .to_string()
    }
}

/// For a transfer that finished before one estimation window (a very fast
/// link with a small data budget): the average over the whole transfer, a lower bound.
fn quick_transfer_estimate(samples: &[CounterSample]) -> Option<RateEstimate> {
    let first = samples.iter().find(|s| s.bytes > 0)?;
    let last = samples.last()?;
    let span = last.t - samples.first()?.t;
    (span > 0.0 && last.bytes > 0).then(|| RateEstimate {
        bytes_per_s: last.bytes as f64 / span.max(first.t),
        stable: false,
        basis_s: span,
    })
}

async fn download_stream(
    client: Client,
    target: Target,
    request_size: u64,
    budget: Arc<AtomicU64>,
    received: Arc<AtomicU64>,
    problems: Arc<Problems>,
    bytes_used: Arc<AtomicU64>,
) {
    loop {
        let want = reserve(&budget, request_size);
        if want == 0 {
            return;
        }
        let url = target.down_url(want);
        bytes_used.fetch_add(100 + url.len() as u64, Ordering::Relaxed);
        let mut response = match client.get(&url).send().await {
            Ok(r) => r,
            Err(e) => return problems.add(describe(&e, &target)),
        };
        if let Err(p) = check_status(&response) {
            return problems.add(p);
        }
        bytes_used.fetch_add(header_bytes(response.headers()), Ordering::Relaxed);
        if response.content_length().is_some_and(|len| len > want) {
            return problems.add(more_than_asked());
        }
        let mut got: u64 = 0;
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    let take = (chunk.len() as u64).min(want - got);
                    got += take;
                    received.fetch_add(take, Ordering::Relaxed);
                    bytes_used.fetch_add(take, Ordering::Relaxed);
                    if take < chunk.len() as u64 {
                        return problems.add(more_than_asked());
                    }
                }
                Ok(None) => break,
                Err(e) => return problems.add(describe(&e, &target)),
            }
        }
        if got < want {
            return problems.add(
                "The measurement server closed the connection before sending everything it promised."
                    .to_string(),
            );
        }
    }
}

fn more_than_asked() -> String {
    "The measurement server sent more than was asked for, so the rest was not read.".to_string()
}

/// The payload for uploads: random, so no compressing proxy can shrink it.
fn random_payload() -> Bytes {
    let mut buf = vec![0u8; UPLOAD_CHUNK];
    rand::fill(&mut buf[..]);
    Bytes::from(buf)
}

const UPLOAD_NOT_CONFIRMED: &str = "The measurement server did not confirm receiving any upload.";
const UPLOAD_CHUNK: usize = 64 * 1024;
/// Small enough that a slow uplink (1 Mbit/s over 4 streams) still completes
/// several requests a second, which the settled rule of `stats::upload_rate` needs.
const MIN_UPLOAD_REQUEST: u64 = 4 * 1024;
/// Each upload request, once the rate is known, takes at least this long per
/// stream: long enough that its HTTP overhead and the pause for the reply cost
/// little, short enough that several fit in the settling span.
const UPLOAD_REQUEST_S: f64 = 0.4;
const MAX_UPLOAD_REQUEST: u64 = 8 * 1024 * 1024;
/// Once the rate is known, no request carries less (unless that would take
/// more than twice [`UPLOAD_REQUEST_S`]). Each request also costs
/// the uplink its head, the acknowledgement of the reply and a part-filled last
/// packet (about 300 bytes), which only matters on slow uplinks: on the 1 Mbit/s
/// DSL line of bench/netbench.py, 0.4 s requests (12 KB per stream) read
/// 0.90–0.91 against iperf3's 0.96; with this floor 0.93–0.94, in 7.0–7.1 s
/// instead of 6.3–6.8 (24 KB read 0.92 and took 8.0 s).
const UPLOAD_REQUEST_FLOOR: u64 = 16 * 1024;

struct UploadStream {
    index: usize,
    client: Client,
    target: Target,
    payload: Bytes,
    started: Instant,
    request_size: Arc<AtomicU64>,
    budget: Arc<AtomicU64>,
    handed_over: Arc<AtomicU64>,
    completions: Arc<Mutex<Vec<Completion>>>,
    problems: Arc<Problems>,
    bytes_used: Arc<AtomicU64>,
}

async fn upload_stream(s: UploadStream) {
    let url = s.target.up_url();
    let mut first = true;
    loop {
        // First requests of different sizes, so the streams do not finish in
        // step and leave the link idle together while waiting for replies.
        let wanted = if first {
            MIN_UPLOAD_REQUEST + MIN_UPLOAD_REQUEST * s.index as u64 / 4
        } else {
            s.request_size.load(Ordering::Relaxed)
        };
        first = false;
        let size = reserve(&s.budget, wanted);
        if size == 0 {
            return;
        }
        let body = reqwest::Body::wrap_stream(payload_stream(
            s.payload.clone(),
            size,
            s.handed_over.clone(),
            s.bytes_used.clone(),
        ));
        s.bytes_used
            .fetch_add(150 + url.len() as u64, Ordering::Relaxed);
        let mut response = match s
            .client
            .post(&url)
            .header(reqwest::header::CONTENT_LENGTH, size)
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(body)
            .send()
            .await
        {
            Ok(r) => r,
            Err(e) => return s.problems.add(describe(&e, &s.target)),
        };
        let confirmed = Instant::now();
        if let Err(p) = check_status(&response) {
            return s.problems.add(p);
        }
        s.bytes_used
            .fetch_add(header_bytes(response.headers()), Ordering::Relaxed);
        let mut reply = 0usize;
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    reply += chunk.len();
                    s.bytes_used
                        .fetch_add(chunk.len() as u64, Ordering::Relaxed);
                    if reply > 64 * 1024 {
                        return s.problems.add(
                            "The measurement server answered uploads with far more than a short reply."
                                .to_string(),
                        );
                    }
                }
                Ok(None) => break,
                Err(e) => return s.problems.add(describe(&e, &s.target)),
            }
        }
        lock(&s.completions).push(Completion {
            stream: s.index,
            t: confirmed.duration_since(s.started).as_secs_f64(),
            bytes: size,
        });
    }
}

/// `size` bytes as 64 KiB slices of the shared random payload, counted as
/// the connection takes them.
fn payload_stream(
    payload: Bytes,
    size: u64,
    handed_over: Arc<AtomicU64>,
    bytes_used: Arc<AtomicU64>,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    futures_util::stream::unfold(size, move |left| {
        let payload = payload.clone();
        let handed_over = handed_over.clone();
        let bytes_used = bytes_used.clone();
        async move {
            if left == 0 {
                return None;
            }
            let n = (left as usize).min(payload.len());
            handed_over.fetch_add(n as u64, Ordering::Relaxed);
            bytes_used.fetch_add(n as u64, Ordering::Relaxed);
            Some((Ok(payload.slice(..n)), left - n as u64))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transfers_are_sized_in_round_trips() {
        let timing = ProbeTiming::default();
        let short = TransferPlan::for_round_trip(&timing, Some(0.002));
        let unknown = TransferPlan::for_round_trip(&timing, None);
        assert_eq!(unknown.streams, 4);
        assert_eq!(unknown.stability, timing.stability);
        assert!(short.seconds < 3.1 && short.max_download_bytes < 42_000_000);
        assert_eq!(short.upload_request_s, UPLOAD_REQUEST_S);

        // Ordinary links (under 100 ms) keep each direction near the base budget.
        let ordinary = TransferPlan::for_round_trip(&timing, Some(0.03));
        assert!(ordinary.seconds <= 3.5, "{ordinary:?}");
        assert_eq!(ordinary.streams, 4);
        // On a 100 ms line three request cycles fit in the upload's settling span and window.
        let long = TransferPlan::for_round_trip(&timing, Some(0.1));
        let cycle = long.upload_request_s + 0.1;
        assert!(long.upload_stability.window + long.upload_stability.span >= 3.0 * cycle - 1e-9);

        // A satellite round trip: longer phases, windows and requests, more streams.
        let satellite = TransferPlan::for_round_trip(&timing, Some(0.6));
        assert!(satellite.seconds >= 8.0, "{satellite:?}");
        assert_eq!(satellite.streams, 8);
        assert!(satellite.upload_request_s >= 2.4 && satellite.upload_request_s <= 3.0);
        assert!(satellite.upload_stability.span >= 2.0 * (2.4 + 0.6));
        assert!(satellite.stability.window >= 1.2 - 1e-9);
        assert_eq!(satellite.stability.tolerance, timing.stability.tolerance);
        assert!(satellite.max_upload_bytes <= 4 * timing.max_upload_bytes);
        // Ordinary links scale the upload budget as the download's (the 25 MB at 100 Mbit/s target).
        let scale = |plan: u64, base: u64| plan as f64 / base as f64;
        assert!(
            (scale(ordinary.max_upload_bytes, timing.max_upload_bytes)
                - scale(ordinary.max_download_bytes, timing.max_download_bytes))
            .abs()
                < 1e-6
        );
        // A fast line far away gets an upload budget for its longer upload phase.
        assert!(
            long.max_upload_bytes > 2 * timing.max_upload_bytes,
            "{long:?}"
        );

        // A nonsense round trip falls back to the base plan rather than a huge one.
        assert_eq!(
            TransferPlan::for_round_trip(&timing, Some(f64::NAN)),
            unknown
        );
        assert!(TransferPlan::for_round_trip(&timing, Some(1e9)).seconds <= 3.0 + 20.0);
    }

    /// The request size an upload over 4 streams settles on at `mbps`.
    fn upload_request_size_at(mbps: f64, request_s: f64, rtt_s: f64) -> u64 {
        let m = Meter::Upload {
            completions: Arc::new(Mutex::new(Vec::new())),
            request_size: Arc::new(AtomicU64::new(MIN_UPLOAD_REQUEST)),
            request_s,
            rtt_s,
            streams: 4,
            last_count: 0,
        };
        m.adapt(RateEstimate {
            bytes_per_s: mbps * 1e6 / 8.0,
            stable: false,
            basis_s: 1.0,
        });
        let Meter::Upload { request_size, .. } = m else {
            unreachable!()
        };
        request_size.load(Ordering::Relaxed)
    }

    #[test]
    fn upload_requests_follow_the_rate_above_a_floor() {
        let size_at = |mbps| upload_request_size_at(mbps, UPLOAD_REQUEST_S, 0.03);
        // 1 Mbit/s over 4 streams would be 12.5 KB per 0.4 s request: raised to the floor.
        assert_eq!(size_at(1.0), UPLOAD_REQUEST_FLOOR);
        // 0.25 Mbit/s: 3.1 KB per 0.4 s; the floor stops at twice that time (6.25 KB).
        assert_eq!(size_at(0.25), 6_250);
        // 20 Mbit/s: 0.4 s of a stream's share, well above the floor.
        assert_eq!(size_at(20.0), 250_000);
        // Never above the largest request.
        assert_eq!(size_at(10_000.0), MAX_UPLOAD_REQUEST);
    }

    /// On a 60 ms line the plan's requests are 12 round trips long (0.72 s):
    /// kept on a fast uplink, cut to 0.4 s under 5 Mbit/s, where the modem's
    /// queue covers each stream's wait for its reply.
    #[test]
    fn slow_uplinks_get_shorter_requests_than_a_long_line_plans() {
        let plan = TransferPlan::for_round_trip(&ProbeTiming::default(), Some(0.06));
        assert!((plan.upload_request_s - 0.72).abs() < 1e-9, "{plan:?}");
        let size_at = |mbps| upload_request_size_at(mbps, plan.upload_request_s, plan.rtt_s);
        // 2 Mbit/s over 4 streams, 0.4 s each (0.72 s would be 45 KB).
        assert_eq!(size_at(2.0), 25_000);
        // 20 Mbit/s keeps the plan's 0.72 s.
        assert_eq!(size_at(20.0), 450_000);
    }

    #[test]
    fn budget_is_shared_and_never_overdrawn() {
        let budget = AtomicU64::new(250);
        assert_eq!(reserve(&budget, 100), 100);
        assert_eq!(reserve(&budget, 100), 100);
        assert_eq!(reserve(&budget, 100), 50);
        assert_eq!(reserve(&budget, 100), 0);
    }
}
