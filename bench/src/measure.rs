//! Timing tools shared by the figures: batches for nanosecond operations, one timing per
//! operation for distributions, exact percentiles, and how long a thread sat preempted.

use serde::Serialize;
use std::hint::black_box;
use std::time::{Duration, Instant};

/// The runtime every async figure runs on: two workers, one per core of the machines the
/// figures are recorded on, with I/O and time.
pub fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|error| error.to_string())
}

/// Runs `op` `iters` times back to back and returns the time per call, in nanoseconds. The
/// result of every call goes through [`black_box`], so none is optimized away, and the loop
/// overhead is part of every figure alike (the floor measures little else).
#[inline(never)]
pub fn per_call_ns<R>(iters: u64, mut op: impl FnMut() -> R) -> f64 {
    let started = Instant::now();
    for _ in 0..iters {
        black_box(op());
    }
    nanos(started.elapsed()) / iters as f64
}

/// How many calls of `op` take about `target`, so timer reads are a negligible part of a batch.
pub fn calibrate<R>(target: Duration, mut op: impl FnMut() -> R) -> u64 {
    let mut iters = 16_u64;
    loop {
        let started = Instant::now();
        for _ in 0..iters {
            black_box(op());
        }
        let took = started.elapsed();
        if took >= target || iters >= 1 << 30 {
            // Scale to the target from the last batch; at least one call.
            let scaled = iters as f64 * nanos(target) / nanos(took).max(1.0);
            return (scaled as u64).max(1);
        }
        iters *= 4;
    }
}

/// A duration in nanoseconds, as a float for arithmetic.
pub fn nanos(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e9
}

/// A duration in whole nanoseconds, saturating at `u32::MAX` (4.3 s; no single read is near).
pub fn nanos_u32(duration: Duration) -> u32 {
    u32::try_from(duration.as_nanos()).unwrap_or(u32::MAX)
}

/// A distribution of timings, in nanoseconds, summarized exactly (sorted, nearest rank).
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Distribution {
    /// Timings summarized.
    pub count: usize,
    /// Arithmetic mean.
    pub mean: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Largest.
    pub max: f64,
    /// Share (0..1) of timings over 1 microsecond.
    pub over_1us: f64,
}

impl Distribution {
    /// Summarizes `samples` (nanoseconds); sorts them in place.
    pub fn of(samples: &mut [u32]) -> Self {
        if samples.is_empty() {
            return Self::default();
        }
        samples.sort_unstable();
        let count = samples.len();
        let rank = |quantile: f64| {
            // Nearest rank: the smallest sample with at least `quantile` of samples at or below.
            let index = (quantile * count as f64).ceil() as usize;
            f64::from(samples[index.clamp(1, count) - 1])
        };
        let sum: u64 = samples.iter().map(|&sample| u64::from(sample)).sum();
        let over = samples.len() - samples.partition_point(|&sample| sample <= 1000);
        Self {
            count,
            mean: sum as f64 / count as f64,
            p50: rank(0.50),
            p90: rank(0.90),
            p99: rank(0.99),
            p999: rank(0.999),
            max: f64::from(samples[count - 1]),
            over_1us: over as f64 / count as f64,
        }
    }

    /// Summarizes durations.
    pub fn of_durations(durations: &[Duration]) -> Self {
        let mut samples: Vec<u32> = durations.iter().copied().map(nanos_u32).collect();
        Self::of(&mut samples)
    }
}

/// How long the calling thread waited for a CPU while runnable, and how often it was switched
/// out against its will: on a shared 2-core machine, most long single timings are these.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Preemption {
    /// Time runnable but not running, in nanoseconds (`/proc/thread-self/schedstat`).
    pub waited_ns: u64,
    /// Involuntary context switches (`/proc/thread-self/status`).
    pub switches: u64,
}

impl Preemption {
    /// The calling thread's totals so far (zero where the kernel does not tell).
    pub fn now() -> Self {
        let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
        let waited_ns = read("/proc/thread-self/schedstat")
            .split_whitespace()
            .nth(1)
            .and_then(|field| field.parse().ok())
            .unwrap_or(0);
        let switches = read("/proc/thread-self/status")
            .lines()
            .find_map(|line| line.strip_prefix("nonvoluntary_ctxt_switches:"))
            .and_then(|field| field.trim().parse().ok())
            .unwrap_or(0);
        Self {
            waited_ns,
            switches,
        }
    }

    /// What happened between `earlier` and `self`.
    pub fn since(self, earlier: Self) -> Self {
        Self {
            waited_ns: self.waited_ns.saturating_sub(earlier.waited_ns),
            switches: self.switches.saturating_sub(earlier.switches),
        }
    }
}

impl std::ops::Add for Preemption {
    type Output = Self;

    fn add(self, other: Self) -> Self {
        Self {
            waited_ns: self.waited_ns + other.waited_ns,
            switches: self.switches + other.switches,
        }
    }
}

/// The calling thread's total time runnable but off CPU, read cheaply again and again: the file
/// stays open and each read is one `pread`. Subtracted from a timing, it leaves the time the
/// thread actually ran (on a shared machine, a preemption can land inside any timing).
pub struct RunQueueClock(Option<std::fs::File>);

impl RunQueueClock {
    /// The clock of the calling thread (it reads zero where the kernel does not tell).
    pub fn of_this_thread() -> Self {
        Self(std::fs::File::open("/proc/thread-self/schedstat").ok())
    }

    /// Nanoseconds this thread has waited for a CPU since it started.
    pub fn waited_ns(&self) -> u64 {
        use std::os::unix::fs::FileExt;
        let Some(file) = &self.0 else { return 0 };
        let mut buffer = [0_u8; 96];
        let len = file.read_at(&mut buffer, 0).unwrap_or(0);
        std::str::from_utf8(buffer.get(..len).unwrap_or_default())
            .ok()
            .and_then(|text| text.split_whitespace().nth(1)?.parse().ok())
            .unwrap_or(0)
    }
}

/// The median of `values` (the mean of the middle two for an even count); 0 when empty.
pub fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_unstable_by(f64::total_cmp);
    let middle = values.len() / 2;
    if values.len().is_multiple_of(2) {
        (values[middle - 1] + values[middle]) / 2.0
    } else {
        values[middle]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let mut samples: Vec<u32> = (1..=1000).rev().collect();
        let summary = Distribution::of(&mut samples);
        assert_eq!(summary.count, 1000);
        assert_eq!(
            (summary.p50, summary.p90, summary.p99),
            (500.0, 900.0, 990.0)
        );
        assert_eq!((summary.p999, summary.max), (999.0, 1000.0));
        assert!((summary.mean - 500.5).abs() < 1e-9);
        assert_eq!(summary.over_1us, 0.0);
        let mut slow = vec![10, 1001, 5000, 20];
        assert!((Distribution::of(&mut slow).over_1us - 0.5).abs() < 1e-9);
    }

    #[test]
    fn an_empty_distribution_is_zero() {
        assert_eq!(Distribution::of(&mut []).count, 0);
        assert_eq!(median(&mut []), 0.0);
    }

    #[test]
    fn medians_of_odd_and_even_counts() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), 2.5);
    }
}
