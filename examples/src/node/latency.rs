//! Latency and outcome tracking over a sliding window, backed by HdrHistogram.
//!
//! A ring of per-slice histograms (see [`super::window`]): recording touches one slice, a
//! summary merges the live slices. Percentiles come from the histogram (bounded memory, 0.1%
//! precision), the average from an exact sum, so neither needs a sorted vector of samples.

use std::sync::{Mutex, PoisonError};

use hdrhistogram::{CreationError, Histogram};
use tokio::time::{Duration, Instant};

use super::window::{Reset, Ring};

/// Largest latency recorded exactly, in microseconds (60 s); longer ones saturate there.
const MAX_TRACKED_MICROS: u64 = 60_000_000;
/// Three significant figures: 0.1% error on every percentile.
const SIGNIFICANT_FIGURES: u8 = 3;
/// Slices per window: the window is exact to within one slice (10%).
const SLICES: usize = 10;

/// What a window holds for one slice of time.
#[derive(Debug)]
struct Slice {
    micros: Histogram<u64>,
    sum_micros: u64,
    ok: u64,
    failed: u64,
}

impl Reset for Slice {
    fn reset(&mut self) {
        self.micros.reset();
        self.sum_micros = 0;
        self.ok = 0;
        self.failed = 0;
    }
}

/// Figures for the current window.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) struct LatencySummary {
    /// Outcomes recorded in the window.
    pub(crate) count: u64,
    /// Of which succeeded.
    pub(crate) ok: u64,
    /// Mean latency in milliseconds (0 when empty).
    pub(crate) mean_ms: f64,
    /// 95th percentile latency in milliseconds (0 when empty).
    pub(crate) p95_ms: f64,
    /// Largest latency in milliseconds (0 when empty).
    pub(crate) max_ms: f64,
}

impl LatencySummary {
    /// Fraction of outcomes that succeeded; 1.0 for an empty window (no evidence of failure:
    /// an idle pool is not an unhealthy one, and the breaker reports outright outages).
    pub(crate) fn success_rate(&self) -> f64 {
        if self.count == 0 {
            1.0
        } else {
            self.ok as f64 / self.count as f64
        }
    }
}

/// Thread-safe sliding window of latencies and outcomes.
#[derive(Debug)]
pub(crate) struct LatencyWindow {
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    ring: Ring<Slice>,
    /// Reused for merging so a summary does not allocate.
    merged: Histogram<u64>,
}

fn histogram() -> Result<Histogram<u64>, CreationError> {
    Histogram::new_with_bounds(1, MAX_TRACKED_MICROS, SIGNIFICANT_FIGURES)
}

fn ring(window: Duration, now: Instant, template: &Histogram<u64>) -> Ring<Slice> {
    Ring::new(window, SLICES, now, || Slice {
        micros: template.clone(),
        sum_micros: 0,
        ok: 0,
        failed: 0,
    })
}

impl LatencyWindow {
    /// A window covering `window` of time.
    pub(crate) fn new(window: Duration, now: Instant) -> Result<Self, CreationError> {
        let template = histogram()?;
        let ring = ring(window, now, &template);
        Ok(Self {
            inner: Mutex::new(Inner {
                ring,
                merged: template,
            }),
        })
    }

    /// Start a fresh window of a different span (what was recorded is dropped: figures over
    /// mixed spans would mean nothing).
    pub(crate) fn set_span(&self, window: Duration, now: Instant) {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let mut template = inner.merged.clone();
        template.reset();
        inner.ring = ring(window, now, &template);
    }

    /// Record one outcome that took `latency`.
    pub(crate) fn record(&self, now: Instant, latency: Duration, ok: bool) {
        // Sub-microsecond latencies still count as a sample (the histogram's floor is 1 µs).
        let micros = u64::try_from(latency.as_micros())
            .unwrap_or(u64::MAX)
            .max(1);
        // A panic elsewhere cannot leave a half-written slice that matters: figures only.
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let slice = inner.ring.current(now);
        slice.micros.saturating_record(micros);
        slice.sum_micros = slice.sum_micros.saturating_add(micros);
        if ok {
            slice.ok += 1;
        } else {
            slice.failed += 1;
        }
    }

    /// Figures over the window at `now`.
    pub(crate) fn summary(&self, now: Instant) -> LatencySummary {
        let mut guard = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let Inner { ring, merged } = &mut *guard;
        merged.reset();
        let (mut ok, mut failed, mut sum) = (0u64, 0u64, 0u64);
        for slice in ring.buckets(now) {
            // Same bounds everywhere, so adding cannot fail; if it ever did, the slice is
            // left out of the percentiles rather than poisoning the figures.
            if merged.add(&slice.micros).is_err() {
                tracing::debug!("latency slice not merged: histogram bounds differ");
            }
            ok += slice.ok;
            failed += slice.failed;
            sum = sum.saturating_add(slice.sum_micros);
        }
        let count = ok + failed;
        if count == 0 {
            return LatencySummary::default();
        }
        let to_ms = |micros: u64| micros as f64 / 1_000.0;
        LatencySummary {
            count,
            ok,
            mean_ms: sum as f64 / count as f64 / 1_000.0,
            p95_ms: to_ms(merged.value_at_quantile(0.95)),
            max_ms: to_ms(merged.max()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn empty_window_reports_zero_latency_and_full_success() {
        let t0 = Instant::now();
        let window = LatencyWindow::new(Duration::from_secs(10), t0).unwrap();
        let summary = window.summary(t0);
        assert_eq!(summary, LatencySummary::default());
        assert_eq!(summary.success_rate(), 1.0);
    }

    #[test]
    fn skewed_latencies_give_p95_above_the_mean() {
        let t0 = Instant::now();
        let window = LatencyWindow::new(Duration::from_secs(10), t0).unwrap();
        // 90 fast calls at 10 ms and 10 slow ones at 500 ms: mean 59 ms, p95 500 ms.
        for i in 0..100u64 {
            let latency = if i % 10 == 0 { ms(500) } else { ms(10) };
            window.record(t0 + ms(i), latency, true);
        }
        let s = window.summary(t0 + ms(100));
        assert_eq!(s.count, 100);
        assert!((s.mean_ms - 59.0).abs() < 0.01, "mean {}", s.mean_ms);
        assert!((s.p95_ms - 500.0).abs() / 500.0 < 0.002, "p95 {}", s.p95_ms);
        assert!(s.p95_ms >= s.mean_ms);
        assert!((s.max_ms - 500.0).abs() / 500.0 < 0.002);
    }

    #[test]
    fn success_rate_counts_failures_in_the_window_only() {
        let t0 = Instant::now();
        let window = LatencyWindow::new(Duration::from_secs(10), t0).unwrap();
        for i in 0..10 {
            window.record(t0, ms(5), i >= 4);
        }
        assert!((window.summary(t0).success_rate() - 0.6).abs() < 1e-9);
        // Eleven seconds later the failures have aged out and new successes dominate.
        let later = t0 + Duration::from_secs(11);
        window.record(later, ms(5), true);
        let s = window.summary(later);
        assert_eq!((s.count, s.ok), (1, 1));
    }

    #[test]
    fn a_new_span_starts_empty() {
        let t0 = Instant::now();
        let window = LatencyWindow::new(Duration::from_secs(10), t0).unwrap();
        window.record(t0, ms(5), false);
        window.set_span(Duration::from_secs(2), t0);
        assert_eq!(window.summary(t0).count, 0);
        window.record(t0, ms(5), true);
        assert_eq!(
            window.summary(t0 + Duration::from_secs(2)).count,
            0,
            "2 s span"
        );
    }

    #[test]
    fn latencies_beyond_the_tracked_range_saturate_instead_of_failing() {
        let t0 = Instant::now();
        let window = LatencyWindow::new(Duration::from_secs(10), t0).unwrap();
        window.record(t0, Duration::from_secs(3_600), false);
        window.record(t0, Duration::ZERO, true);
        let s = window.summary(t0);
        assert_eq!(s.count, 2);
        assert!(s.max_ms >= 59_000.0);
    }
}
