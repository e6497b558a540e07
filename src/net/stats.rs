//! Pure statistics for the probe: order statistics, jitter, and the
//! throughput estimators that decide when a transfer has settled.
//! No I/O and no clocks: every function takes the samples it needs.

/// Value at fraction `q` (0..=1) of the sorted samples, interpolating between
/// neighbours. `None` for no samples.
pub fn quantile(samples: &[f64], q: f64) -> Option<f64> {
    let mut sorted: Vec<f64> = samples.iter().copied().filter(|v| v.is_finite()).collect();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_by(f64::total_cmp);
    let rank = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let lower = rank.floor() as usize;
    let upper = rank.ceil() as usize;
    let frac = rank - lower as f64;
    Some(sorted[lower] + (sorted[upper] - sorted[lower]) * frac)
}

pub fn median(samples: &[f64]) -> Option<f64> {
    quantile(samples, 0.5)
}

pub fn minimum(samples: &[f64]) -> Option<f64> {
    quantile(samples, 0.0)
}

/// Mean absolute difference between consecutive samples: how much the delay
/// changes from one moment to the next (the quantity RFC 3550 jitter tracks).
pub fn mean_successive_difference(samples: &[f64]) -> Option<f64> {
    if samples.len() < 2 {
        return None;
    }
    let total: f64 = samples.windows(2).map(|w| (w[1] - w[0]).abs()).sum();
    Some(total / (samples.len() - 1) as f64)
}

/// RFC 3550 §6.4.1 interarrival jitter: J += (|D| − J) / 16, where D is the
/// change in transit time between consecutive packets. Fed with round-trip
/// times in arrival order, D is the change in round trip.
///
/// J starts at the first |D| rather than at zero: the RFC's zero start fades
/// over a call of minutes, but a test of a few seconds with a packet every
/// 20 ms would average in its rise from zero and read about a tenth low.
#[derive(Debug, Clone, Default)]
pub struct Rfc3550Jitter {
    last_transit: Option<f64>,
    jitter: f64,
    updates: u32,
    /// Sum of the estimate after each update, for [`Rfc3550Jitter::mean`].
    total: f64,
}

impl Rfc3550Jitter {
    pub fn update(&mut self, transit_ms: f64) {
        if let Some(last) = self.last_transit {
            let d = (transit_ms - last).abs();
            if self.updates == 0 {
                self.jitter = d;
            } else {
                self.jitter += (d - self.jitter) / 16.0;
            }
            self.updates += 1;
            self.total += self.jitter;
        }
        self.last_transit = Some(transit_ms);
    }

    /// `None` until two packets have arrived.
    pub fn value(&self) -> Option<f64> {
        (self.updates > 0).then_some(self.jitter)
    }

    /// The estimate averaged over the whole stream. The RFC 3550 value
    /// remembers only the last few dozen packets, so on its own it swings
    /// from run to run; its average over every packet is the steadier figure.
    pub fn mean(&self) -> Option<f64> {
        (self.updates > 0).then(|| self.total / f64::from(self.updates))
    }
}

/// The Wilson score interval for a proportion: `failures` out of `trials`,
/// at `z` standard errors (1.96 for 95 %), as `(low, high)` fractions.
///
/// Wilson rather than the textbook `p ± z·√(p(1−p)/n)`: that one collapses
/// to zero width when nothing was lost and can go below zero, exactly where
/// loss figures live. Clopper–Pearson never under-covers but is wider than
/// it needs to be (about a third wider at a few percent), which would call
/// more lines borderline than are; Wilson's coverage stays close to the
/// nominal 95 % for loss rates of a few percent over hundreds of packets.
pub fn wilson_interval(failures: u32, trials: u32, z: f64) -> Option<(f64, f64)> {
    if trials == 0 || failures > trials {
        return None;
    }
    let n = f64::from(trials);
    let p = f64::from(failures) / n;
    let z2 = z * z;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = z / (1.0 + z2 / n) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    // At the ends the bound is exact (no failures: the low end is 0).
    let low = if failures == 0 {
        0.0
    } else {
        (centre - half).max(0.0)
    };
    let high = if failures == trials {
        1.0
    } else {
        (centre + half).min(1.0)
    };
    Some((low, high))
}

/// One reading of a cumulative byte counter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CounterSample {
    /// Seconds since the transfer started.
    pub t: f64,
    pub bytes: u64,
}

/// When a transfer's rate counts as settled: past the start-up ramp, the rate
/// over the last `window` seconds, read at every sample in the last `span`
/// seconds, stays within ±`tolerance` (a fraction) of its mean.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stability {
    pub window: f64,
    pub span: f64,
    pub tolerance: f64,
}

impl Default for Stability {
    fn default() -> Self {
        Stability {
            window: 0.5,
            span: 0.5,
            tolerance: 0.05,
        }
    }
}

/// A throughput figure with how it was arrived at.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateEstimate {
    pub bytes_per_s: f64,
    /// The rate had settled (false: the phase ran out of time or bytes first).
    pub stable: bool,
    /// Seconds of transfer the figure is based on.
    pub basis_s: f64,
}

impl RateEstimate {
    pub fn mbps(&self) -> f64 {
        self.bytes_per_s * 8.0 / 1e6
    }
}

/// Counter value at time `t`, interpolated linearly between samples.
fn counter_at(samples: &[CounterSample], t: f64) -> f64 {
    match samples.iter().position(|s| s.t >= t) {
        None => samples.last().map_or(0.0, |s| s.bytes as f64),
        Some(0) => samples[0].bytes as f64,
        Some(i) => {
            let (a, b) = (samples[i - 1], samples[i]);
            if b.t <= a.t {
                return b.bytes as f64;
            }
            let f = (t - a.t) / (b.t - a.t);
            a.bytes as f64 + (b.bytes as f64 - a.bytes as f64) * f
        }
    }
}

/// Length of the short window used to find the end of the start-up ramp.
const RAMP_PROBE_S: f64 = 0.25;

/// When the start-up ramp (TCP slow start, queues filling) is over: the
/// middle of the first short window whose rate reaches (1 − tolerance) of `rate`.
fn ramp_end(samples: &[CounterSample], start: f64, rate: f64, tolerance: f64) -> Option<f64> {
    samples
        .iter()
        .filter(|s| s.t - RAMP_PROBE_S >= start)
        .find(|s| {
            let short =
                (counter_at(samples, s.t) - counter_at(samples, s.t - RAMP_PROBE_S)) / RAMP_PROBE_S;
            short >= (1.0 - tolerance) * rate
        })
        .map(|s| s.t - RAMP_PROBE_S / 2.0)
}

/// Rate of a transfer from a cumulative byte counter (samples in time order).
///
/// Settled (see [`Stability`]) means: the ramp is over, and the windowed rate
/// read across the last `span` seconds agrees within the tolerance, all of it
/// after the ramp. The estimate is then the mean rate over that last
/// `span + window` seconds. Otherwise the estimate is the mean over the last
/// two thirds of the transfer, marked unsettled. `None` until at least one window of data exists.
pub fn counter_rate(samples: &[CounterSample], rule: Stability) -> Option<RateEstimate> {
    let first = samples.iter().position(|s| s.bytes > 0)?;
    let samples = &samples[first.saturating_sub(1)..];
    let start = samples.first()?.t;
    let end = samples.last()?.t;
    if end - start < rule.window {
        return None;
    }
    let windowed =
        |t: f64| (counter_at(samples, t) - counter_at(samples, t - rule.window)) / rule.window;
    let latest = windowed(end);
    let ramp = ramp_end(samples, start, latest, rule.tolerance);
    let settled_from = end - rule.span - rule.window;
    let recent: Vec<f64> = samples
        .iter()
        .filter(|s| s.t >= end - rule.span && s.t - rule.window >= start)
        .map(|s| windowed(s.t))
        .collect();
    let settled = recent.len() >= 3
        && within(&recent, rule.tolerance)
        && ramp.is_some_and(|r| r <= settled_from);
    // Unsettled: the last two thirds. Not from the ramp's end, which a burst
    // at the end (data held back behind a lost packet, released at once) can
    // push late and so shorten the basis.
    let from = if settled {
        settled_from
    } else {
        start + (end - start) / 3.0
    };
    let from = from.max(start);
    let bytes = counter_at(samples, end) - counter_at(samples, from);
    Some(RateEstimate {
        bytes_per_s: bytes / (end - from),
        stable: settled,
        basis_s: end - from,
    })
}

fn within(values: &[f64], tolerance: f64) -> bool {
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    mean > 0.0 && values.iter().all(|v| (v - mean).abs() <= tolerance * mean)
}

/// A download counter with the reader's stalls taken out.
///
/// The counter is read by the program, not on the wire: when the program is
/// short of processor time its reads fall behind while the line keeps
/// delivering into the socket buffer, then catch up at memory speed. A window
/// that starts inside such a stall and ends after the catch-up counts bytes
/// that crossed the line before it began (a 200 Mbit/s line read as 240).
/// Bytes read are never ahead of bytes delivered, so across a stall the
/// line's counter is at least the chord between the readings on either side.
/// A reading is raised to the highest chord over it from readings at most
/// `horizon` seconds apart, but only where a catch-up follows it: a sample
/// interval after it read at least [`CATCH_UP`] times the chord's rate and
/// the rate at the chord's end (the reader is back to the line's pace there).
/// That tells a stall from a start-up ramp, whose readings also lie under
/// chords reaching past them but whose rate only grows.
/// Raising a reading only lowers a rate measured from it, and the last
/// reading is never raised, so a rate ending there never exceeds what arrived.
pub fn without_read_stalls(samples: &[CounterSample], horizon: f64) -> Vec<CounterSample> {
    let rate_into = |m: usize| {
        let (a, b) = (samples[m - 1], samples[m]);
        if b.t > a.t {
            (b.bytes as f64 - a.bytes as f64) / (b.t - a.t)
        } else {
            0.0
        }
    };
    let mut out = Vec::with_capacity(samples.len());
    for (i, s) in samples.iter().enumerate() {
        let mut best = s.bytes as f64;
        let mut fastest_after = 0.0_f64;
        for k in i + 1..samples.len() {
            let after = samples[k];
            fastest_after = fastest_after.max(rate_into(k));
            if after.t - s.t > horizon {
                break;
            }
            for before in samples[..i].iter().rev() {
                if after.t - before.t > horizon {
                    break;
                }
                let slope = (after.bytes as f64 - before.bytes as f64) / (after.t - before.t);
                let burst = fastest_after >= CATCH_UP * slope.max(rate_into(k));
                if after.t > before.t && burst {
                    best = best.max(before.bytes as f64 + slope * (s.t - before.t));
                }
            }
        }
        out.push(CounterSample {
            t: s.t,
            bytes: best.round() as u64,
        });
    }
    out
}

/// [`counter_rate`] for a counter read by a program that may stall: whether
/// the rate settled, and from when, is judged on the readings as they are;
/// the figure is then taken from the counter with the stalls taken out
/// ([`without_read_stalls`]). The last reading cannot be corrected (no
/// catch-up has followed it yet), so a rate is not called settled while the
/// reader is stalled (the last interval read under half the rate): a figure
/// ending in a stall would be too low. (The corrected counter is not used to
/// judge steadiness: raising readings smooths a start-up ramp as well, and a
/// ramp must not pass for steady.)
pub fn read_counter_rate(
    samples: &[CounterSample],
    rule: Stability,
    horizon: f64,
) -> Option<RateEstimate> {
    let raw = counter_rate(samples, rule)?;
    let corrected = without_read_stalls(samples, horizon);
    let end = corrected.last()?.t;
    let from = end - raw.basis_s;
    let bytes = counter_at(&corrected, end) - counter_at(&corrected, from);
    let stalled_now = match samples {
        [.., a, b] if b.t > a.t => {
            ((b.bytes as f64 - a.bytes as f64) / (b.t - a.t)) < 0.5 * raw.bytes_per_s
        }
        _ => false,
    };
    Some(RateEstimate {
        bytes_per_s: (bytes / raw.basis_s).min(raw.bytes_per_s),
        stable: raw.stable && !stalled_now,
        ..raw
    })
}

/// A catch-up reads at least this many times the line's rate (memory speed
/// against the line's; a stall of one 50 ms sample alone doubles it).
const CATCH_UP: f64 = 1.6;

/// One finished request of a stream that sends requests one after another.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Completion {
    pub stream: usize,
    /// Seconds since the transfer started, when the server confirmed receipt.
    pub t: f64,
    pub bytes: u64,
}

/// A delivered-bytes counter for uploads, built from request completions.
///
/// Counting bytes handed to the socket overstates upload speed (the kernel
/// buffers megabytes). A completion means the server has every byte of that
/// request, and each stream has one request in flight, so at each of a
/// stream's completion instants its delivered total is known exactly; in
/// between it is interpolated. The streams' counters are added up on a grid
/// of `step` seconds, up to the time every stream has last reported (after
/// that some streams' progress is unknown). Streams with no completion are left out.
pub fn completions_counter(completions: &[Completion], step: f64) -> Vec<CounterSample> {
    let per_stream = stream_counters(completions);
    let Some(end) = common_end(&per_stream) else {
        return Vec::new();
    };
    let step = step.max(1e-3);
    let mut out = Vec::new();
    let mut t: f64 = 0.0;
    loop {
        let at = t.min(end);
        out.push(CounterSample {
            t: at,
            bytes: delivered_at(&per_stream, at).round() as u64,
        });
        if at >= end {
            break;
        }
        t += step;
    }
    out
}

/// Each stream's delivered total at its completion instants, from (0, 0).
fn stream_counters(completions: &[Completion]) -> Vec<Vec<CounterSample>> {
    let streams = completions.iter().map(|c| c.stream + 1).max().unwrap_or(0);
    let mut per_stream = Vec::new();
    for stream in 0..streams {
        let mut mine: Vec<&Completion> =
            completions.iter().filter(|c| c.stream == stream).collect();
        if mine.is_empty() {
            continue;
        }
        mine.sort_by(|a, b| a.t.total_cmp(&b.t));
        let mut total = 0;
        let mut points = vec![CounterSample { t: 0.0, bytes: 0 }];
        for c in mine {
            total += c.bytes;
            points.push(CounterSample {
                t: c.t,
                bytes: total,
            });
        }
        per_stream.push(points);
    }
    per_stream
}

/// The last time at which every stream's progress is known.
fn common_end(per_stream: &[Vec<CounterSample>]) -> Option<f64> {
    per_stream
        .iter()
        .map(|p| p.last().map_or(0.0, |s| s.t))
        .reduce(f64::min)
}

fn delivered_at(per_stream: &[Vec<CounterSample>], t: f64) -> f64 {
    per_stream.iter().map(|p| counter_at(p, t)).sum()
}

/// The typical time between one stream's consecutive completions (a request
/// and the wait for its reply), over each stream's last few requests: the
/// first requests are small while the rate is still unknown. `None` until
/// some stream has completed twice.
pub fn request_cycle(completions: &[Completion]) -> Option<f64> {
    const LAST_REQUESTS: usize = 4;
    let mut cycles = Vec::new();
    for points in stream_counters(completions) {
        // points[0] is the (0, 0) origin, not a completion.
        let times: Vec<f64> = points.iter().skip(1).map(|p| p.t).collect();
        let gaps: Vec<f64> = times.windows(2).map(|w| w[1] - w[0]).collect();
        cycles.extend(gaps.iter().rev().take(LAST_REQUESTS));
    }
    median(&cycles)
}

/// Upload rate from request completions: [`counter_rate`] on
/// [`completions_counter`] decides whether the rate has settled and over
/// which span, then the figure is taken between two completions of one
/// stream (the one that last reported earliest) spanning about that long.
///
/// Why: between completions a stream's progress is interpolated, and the
/// interpolation runs ahead of the truth while a new request is still
/// travelling (each request starts with a gap of a round trip plus queueing).
/// With both ends of the span at the same stream's completions, that stream is
/// exact at both ends and every other stream is at a random point of its
/// request at both ends, so the interpolation errors cancel instead of
/// biasing the figure. Settled also needs at least three of that stream's
/// requests inside the span.
const MIN_COMPLETIONS_IN_SPAN: usize = 3;

pub fn upload_rate(completions: &[Completion], rule: Stability) -> Option<RateEstimate> {
    let counter = completions_counter(completions, 0.05);
    let coarse = counter_rate(&counter, rule)?;
    let per_stream = stream_counters(completions);
    let end = common_end(&per_stream)?;
    let reference = per_stream
        .iter()
        .find(|p| p.last().is_some_and(|s| s.t == end))?;
    let wanted_from = end - coarse.basis_s;
    let from = reference
        .iter()
        .map(|s| s.t)
        .filter(|t| *t < end && *t > 0.0)
        .min_by(|a, b| (a - wanted_from).abs().total_cmp(&(b - wanted_from).abs()))?;
    if end - from < 0.5 * coarse.basis_s {
        return Some(RateEstimate {
            stable: false,
            ..coarse
        });
    }
    // Settled also needs several requests per stream inside the span: with
    // only one or two, the streams may be finishing in step.
    let completions_in_span = reference
        .iter()
        .filter(|s| s.t > from && s.t <= end)
        .count();
    Some(RateEstimate {
        bytes_per_s: (delivered_at(&per_stream, end) - delivered_at(&per_stream, from))
            / (end - from),
        stable: coarse.stable && completions_in_span >= MIN_COMPLETIONS_IN_SPAN,
        basis_s: end - from,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_interval_matches_published_values() {
        // 5 of 100 at 95 %: 2.15 % to 11.18 % (Newcombe 1998, table I, method 3).
        let (lo, hi) = wilson_interval(5, 100, 1.96).unwrap();
        assert!(
            (lo - 0.0215).abs() < 5e-4 && (hi - 0.1118).abs() < 5e-4,
            "{lo} {hi}"
        );
        // Nothing lost of 10: 0 to z²/(n+z²) = 27.8 %, never a zero-width "0 %".
        let (lo, hi) = wilson_interval(0, 10, 1.96).unwrap();
        assert_eq!(lo, 0.0);
        assert!((hi - 3.8416 / 13.8416).abs() < 1e-9, "{hi}");
        // Everything lost: the high end is exactly 1.
        assert_eq!(wilson_interval(7, 7, 1.96).unwrap().1, 1.0);
        assert_eq!(wilson_interval(0, 0, 1.96), None);
        assert_eq!(wilson_interval(3, 2, 1.96), None);
    }

    /// The probe's stream is sized by this: about 1,900 packets keep the 95 %
    /// interval within ±1 percentage point for any loss up to 5 %, where 125
    /// packets (the old audio-like stream) gave about ±3.8 at 5 %.
    #[test]
    fn wilson_width_at_a_few_percent_depends_on_the_packet_count() {
        for pct in 1..=5u32 {
            let n = 1_900;
            let lost = n * pct / 100;
            let (lo, hi) = wilson_interval(lost, n, 1.96).unwrap();
            assert!(hi - lo <= 0.02, "{pct}%: {lo}..{hi}");
            assert!(lo < f64::from(pct) / 100.0 && f64::from(pct) / 100.0 < hi);
        }
        let (lo, hi) = wilson_interval(6, 125, 1.96).unwrap();
        assert!(hi - lo > 0.07, "{lo}..{hi}");
    }

    #[test]
    fn rfc3550_mean_averages_the_estimate_over_the_stream() {
        let mut j = Rfc3550Jitter::default();
        assert_eq!(j.mean(), None);
        for rtt in [10.0, 26.0, 10.0] {
            j.update(rtt);
        }
        // J1 = |D1| = 16, J2 = 16 + (16 - 16)/16 = 16.
        assert!((j.value().unwrap() - 16.0).abs() < 1e-12);
        assert!((j.mean().unwrap() - 16.0).abs() < 1e-12);
    }

    /// A short stream's average is not pulled down by the estimate's rise
    /// from zero: 3 ms every packet reads 3 ms from the first pair on (from
    /// zero, 25 frames' average read 1.5 ms).
    #[test]
    fn rfc3550_mean_of_a_short_stream_is_not_pulled_down_by_its_start() {
        let mut j = Rfc3550Jitter::default();
        for i in 0..25 {
            j.update(if i % 2 == 0 { 40.0 } else { 43.0 });
        }
        assert!(close(j.mean().unwrap(), 3.0, 1e-9), "{:?}", j.mean());
    }

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn quantiles_interpolate_and_ignore_non_finite() {
        let v = [40.0, 10.0, 30.0, 20.0, f64::NAN];
        assert_eq!(median(&v), Some(25.0));
        assert_eq!(minimum(&v), Some(10.0));
        assert!(close(quantile(&v, 0.9).unwrap(), 37.0, 1e-9));
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[7.0]), Some(7.0));
    }

    #[test]
    fn successive_difference_measures_change_not_level() {
        assert_eq!(mean_successive_difference(&[50.0, 50.0, 50.0]), Some(0.0));
        assert_eq!(mean_successive_difference(&[10.0, 20.0, 10.0]), Some(10.0));
        assert_eq!(mean_successive_difference(&[10.0]), None);
    }

    #[test]
    fn rfc3550_jitter_converges_to_the_mean_change() {
        let mut j = Rfc3550Jitter::default();
        assert_eq!(j.value(), None);
        // Alternating 40/46 ms: every change is 6 ms, so J tends to 6.
        for i in 0..400 {
            j.update(if i % 2 == 0 { 40.0 } else { 46.0 });
        }
        assert!(close(j.value().unwrap(), 6.0, 0.01), "{:?}", j.value());
        // A constant delay has no jitter however large it is.
        let mut flat = Rfc3550Jitter::default();
        for _ in 0..50 {
            flat.update(300.0);
        }
        assert_eq!(flat.value(), Some(0.0));
    }

    fn ramp_then_flat(rate: f64, ramp_s: f64, end_s: f64) -> Vec<CounterSample> {
        // Linear ramp to `rate` over `ramp_s`, then constant: bytes are the integral.
        let mut out = Vec::new();
        let mut t: f64 = 0.0;
        while t <= end_s + 1e-9 {
            let bytes = if t < ramp_s {
                rate * t * t / (2.0 * ramp_s)
            } else {
                rate * ramp_s / 2.0 + rate * (t - ramp_s)
            };
            out.push(CounterSample {
                t,
                bytes: bytes as u64,
            });
            t += 0.05;
        }
        out
    }

    #[test]
    fn counter_rate_settles_on_the_plateau_not_the_ramp() {
        let samples = ramp_then_flat(2_500_000.0, 0.5, 2.0);
        let est = counter_rate(&samples, Stability::default()).unwrap();
        assert!(est.stable);
        assert!(close(est.bytes_per_s, 2_500_000.0, 2_500.0), "{est:?}");
        assert!(close(est.mbps(), 20.0, 0.05));
    }

    #[test]
    fn counter_rate_is_unsettled_while_still_ramping() {
        let samples = ramp_then_flat(2_500_000.0, 3.0, 1.5);
        let est = counter_rate(&samples, Stability::default()).unwrap();
        assert!(!est.stable);
        // Still a usable lower bound from the later part of the transfer.
        assert!(est.bytes_per_s > 0.0 && est.bytes_per_s < 2_500_000.0);
    }

    #[test]
    fn counter_rate_needs_a_window_of_data() {
        let samples = ramp_then_flat(1_000_000.0, 0.1, 0.5);
        assert_eq!(counter_rate(&samples, Stability::default()), None);
        assert_eq!(counter_rate(&[], Stability::default()), None);
        let idle = [
            CounterSample { t: 0.0, bytes: 0 },
            CounterSample { t: 3.0, bytes: 0 },
        ];
        assert_eq!(counter_rate(&idle, Stability::default()), None);
    }

    #[test]
    fn counter_rate_ignores_a_fast_ramp_once_settled() {
        // The lab trace shape: full rate reached after 0.15 s.
        let samples = ramp_then_flat(2_400_000.0, 0.15, 1.5);
        let est = counter_rate(&samples, Stability::default()).unwrap();
        assert!(est.stable);
        assert!(close(est.bytes_per_s, 2_400_000.0, 2_400.0), "{est:?}");
    }

    #[test]
    fn completions_counter_is_exact_at_completions_and_adds_streams() {
        // Two streams sharing 1 MB/s equally, 100 kB requests: each completes every 0.2 s, offset.
        let mut c = Vec::new();
        for i in 1..=10 {
            c.push(Completion {
                stream: 0,
                t: 0.2 * i as f64,
                bytes: 100_000,
            });
            c.push(Completion {
                stream: 1,
                t: 0.1 + 0.2 * i as f64,
                bytes: 100_000,
            });
        }
        let counter = completions_counter(&c, 0.05);
        assert!(
            close(counter.last().unwrap().t, 2.0, 1e-9),
            "ends when both streams last reported"
        );
        let est = counter_rate(&counter, Stability::default()).unwrap();
        assert!(est.stable);
        assert!(close(est.bytes_per_s, 1_000_000.0, 10_000.0), "{est:?}");
        assert!(completions_counter(&[], 0.05).is_empty());
    }

    /// Streams that idle for a round trip plus queueing at the start of each
    /// request (as real uploads do) while others fill the link.
    fn gappy_uploads(
        streams: usize,
        rate_each: f64,
        size: u64,
        gap: f64,
        end: f64,
    ) -> Vec<Completion> {
        let mut out = Vec::new();
        for s in 0..streams {
            // Spread the streams' phases so their completions interleave.
            let cycle = gap + size as f64 / rate_each;
            let mut t = cycle * s as f64 / streams as f64;
            while t + cycle <= end {
                t += cycle;
                out.push(Completion {
                    stream: s,
                    t,
                    bytes: size,
                });
            }
        }
        out
    }

    #[test]
    fn a_reading_stall_is_not_read_as_a_faster_line() {
        // 1 MB/s on the wire; the reader stalls from 0.3 to 1.2 s, then catches up at once.
        let line = 1_000_000.0;
        let samples: Vec<CounterSample> = (0..=38)
            .map(|i| {
                let t = i as f64 * 0.05;
                let read_t = if (0.3..1.2).contains(&t) { 0.3 } else { t };
                CounterSample {
                    t,
                    bytes: (line * read_t) as u64,
                }
            })
            .collect();
        // A window from inside the stall to after the catch-up reads too fast...
        let raw = (samples[30].bytes - samples[10].bytes) as f64;
        assert!(raw > 1.15 * line, "{raw}");
        // ...but not once the stall is taken out.
        let fixed = without_read_stalls(&samples, 1.2);
        let rate = (fixed[30].bytes - fixed[10].bytes) as f64;
        assert!((rate / line - 1.0).abs() < 0.01, "{rate}");
        for (f, s) in fixed.iter().zip(&samples) {
            assert!(f.bytes >= s.bytes, "readings are only raised");
            assert!(f.bytes as f64 <= line * f.t + 1.0, "never above the line");
        }
        assert_eq!(fixed.last(), samples.last(), "the last reading stays");
        // The transfer's figure (unsettled here: the last two thirds, from inside the stall).
        let uncorrected = counter_rate(&samples, Stability::default()).unwrap();
        assert!(uncorrected.bytes_per_s > line * 1.15, "{uncorrected:?}");
        let est = read_counter_rate(&samples, Stability::default(), 1.2).unwrap();
        assert!(est.bytes_per_s <= line * 1.001, "{est:?}");
        assert!(est.bytes_per_s >= line * 0.97, "{est:?}");
        assert_eq!(est.stable, uncorrected.stable);
        // A stall in the last moments (no catch-up yet) is not a settled figure.
        let steady = ramp_then_flat(line, 0.3, 2.0);
        assert!(read_counter_rate(&steady, Stability::default(), 1.2).is_some_and(|e| e.stable));
        let mut stalled_end = steady.clone();
        let last = stalled_end.len() - 1;
        stalled_end[last].bytes = stalled_end[last - 1].bytes;
        let est = read_counter_rate(&stalled_end, Stability::default(), 1.2).unwrap();
        assert!(!est.stable, "{est:?}");
        // A steady reader is left as it is, start-up ramp included (no burst follows it).
        let steady = ramp_then_flat(line, 0.5, 3.0);
        let same = without_read_stalls(&steady, 1.0);
        for (a, b) in same.iter().zip(&steady) {
            assert!(a.bytes.abs_diff(b.bytes) <= 1, "{a:?} {b:?}");
        }
    }

    #[test]
    fn request_cycles_come_from_the_last_requests() {
        // Small quick requests first, then one every 0.4 s per stream.
        let mut c = Vec::new();
        for s in 0..2 {
            for i in 1..=4 {
                c.push(Completion {
                    stream: s,
                    t: 0.05 * i as f64,
                    bytes: 4096,
                });
            }
            for i in 1..=5 {
                c.push(Completion {
                    stream: s,
                    t: 0.2 + 0.4 * i as f64,
                    bytes: 40_000,
                });
            }
        }
        assert!(close(request_cycle(&c).unwrap(), 0.4, 1e-9));
        assert_eq!(request_cycle(&c[..1]), None);
    }

    #[test]
    fn upload_rate_is_not_biased_by_request_gaps() {
        let (streams, rate_each, size, gap) = (4, 150_000.0, 40_000, 0.09);
        let truth = streams as f64 * size as f64 / (gap + size as f64 / rate_each);
        let done = gappy_uploads(streams, rate_each, size, gap, 3.0);
        let est = upload_rate(&done, Stability::default()).unwrap();
        assert!(
            (est.bytes_per_s / truth - 1.0).abs() < 0.01,
            "{est:?} vs {truth}"
        );
        assert!(upload_rate(&[], Stability::default()).is_none());
    }
}
