//! Sliding time windows: a ring of per-slice buckets keyed by tokio time.
//!
//! Every rate and percentile the components report is computed over "the last N seconds"
//! rather than since start, so a fault that has passed stops counting and the figures recover.
//! Time comes from [`tokio::time::Instant`] so tests drive it with `tokio::time::pause`.

use tokio::time::{Duration, Instant};

/// A bucket that can be emptied when its slice of time is reused.
pub(crate) trait Reset {
    /// Forget everything recorded in this bucket.
    fn reset(&mut self);
}

impl Reset for u64 {
    fn reset(&mut self) {
        *self = 0;
    }
}

/// `now + duration`, saturating at a year ahead instead of panicking on overflow (durations
/// come from config files; `Instant + Duration` panics past the clock's range).
pub(crate) fn deadline(now: Instant, duration: Duration) -> Instant {
    const FAR: Duration = Duration::from_secs(365 * 24 * 3_600);
    now.checked_add(duration.min(FAR)).unwrap_or(now)
}

/// The smallest slice we accept, so a window of zero cannot divide by zero.
const MIN_SLICE: Duration = Duration::from_millis(1);

/// A ring of `slices` buckets; the window is the current (partial) slice plus the ones before.
///
/// The covered span is therefore between `window - slice` and `window`; with 10 slices that is
/// within 10% of the nominal window, which is what a dashboard needs.
#[derive(Debug)]
pub(crate) struct Ring<B> {
    slice: Duration,
    buckets: Vec<B>,
    /// Index of the bucket that receives records now.
    head: usize,
    /// When the head bucket's slice began.
    head_start: Instant,
}

impl<B: Reset> Ring<B> {
    /// A ring covering `window` split into `slices` buckets, each made by `make`.
    pub(crate) fn new(
        window: Duration,
        slices: usize,
        now: Instant,
        make: impl FnMut() -> B,
    ) -> Self {
        let slices = slices.max(1);
        let slice = (window / u32::try_from(slices).unwrap_or(u32::MAX)).max(MIN_SLICE);
        let buckets = std::iter::repeat_with(make).take(slices).collect();
        Self {
            slice,
            buckets,
            head: 0,
            head_start: now,
        }
    }

    /// The span one bucket covers.
    pub(crate) fn slice(&self) -> Duration {
        self.slice
    }

    /// The whole span the ring covers when full.
    pub(crate) fn span(&self) -> Duration {
        self.slice * u32::try_from(self.buckets.len()).unwrap_or(u32::MAX)
    }

    /// Move the head to the slice containing `now`, emptying the buckets skipped over.
    fn advance(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.head_start);
        let slice_nanos = self.slice.as_nanos();
        let steps = elapsed.as_nanos() / slice_nanos;
        if steps == 0 {
            return;
        }
        let len = self.buckets.len();
        if steps >= len as u128 {
            // Idle for a whole window or more: everything is stale.
            self.buckets.iter_mut().for_each(Reset::reset);
            self.head = 0;
            let into_slice = u64::try_from(elapsed.as_nanos() % slice_nanos).unwrap_or(0);
            self.head_start = now - Duration::from_nanos(into_slice);
            return;
        }
        // steps < len, so it fits usize and u32 (the ring is small).
        let steps = steps as usize;
        for _ in 0..steps {
            self.head = (self.head + 1) % len;
            self.buckets[self.head].reset();
        }
        self.head_start += self.slice * steps as u32;
    }

    /// The bucket for the slice containing `now`.
    pub(crate) fn current(&mut self, now: Instant) -> &mut B {
        self.advance(now);
        &mut self.buckets[self.head]
    }

    /// Every bucket still inside the window at `now` (oldest first is not guaranteed).
    pub(crate) fn buckets(&mut self, now: Instant) -> &[B] {
        self.advance(now);
        &self.buckets
    }
}

/// Counts events per slice to report a rate over the window.
#[derive(Debug)]
pub(crate) struct RateMeter {
    ring: Ring<u64>,
    started: Instant,
}

impl RateMeter {
    /// A meter over `window`, in `slices` buckets.
    pub(crate) fn new(window: Duration, slices: usize, now: Instant) -> Self {
        Self {
            ring: Ring::new(window, slices, now, || 0),
            started: now,
        }
    }

    /// Count `n` events at `now`.
    pub(crate) fn record(&mut self, now: Instant, n: u64) {
        let bucket = self.ring.current(now);
        *bucket = bucket.saturating_add(n);
    }

    /// Events per second over the window at `now`.
    ///
    /// Until a full window has passed since start the divisor is the time actually elapsed,
    /// so a young meter does not under-report.
    pub(crate) fn per_second(&mut self, now: Instant) -> f64 {
        let span = self.ring.span();
        let age = now.saturating_duration_since(self.started);
        let total: u64 = self.ring.buckets(now).iter().sum();
        let divisor = age.min(span).max(self.ring.slice());
        total as f64 / divisor.as_secs_f64()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_land_in_the_current_slice_and_expire_after_the_window() {
        let t0 = Instant::now();
        let mut ring = Ring::new(Duration::from_secs(10), 10, t0, || 0u64);
        *ring.current(t0) += 1;
        *ring.current(t0 + Duration::from_millis(500)) += 1;
        *ring.current(t0 + Duration::from_secs(3)) += 5;
        assert_eq!(
            ring.buckets(t0 + Duration::from_secs(3))
                .iter()
                .sum::<u64>(),
            7
        );
        // 9.9 s later the first slice is still inside the window; at 10 s it is gone.
        assert_eq!(
            ring.buckets(t0 + Duration::from_millis(9_900))
                .iter()
                .sum::<u64>(),
            7
        );
        assert_eq!(
            ring.buckets(t0 + Duration::from_secs(10))
                .iter()
                .sum::<u64>(),
            5
        );
        assert_eq!(
            ring.buckets(t0 + Duration::from_secs(13))
                .iter()
                .sum::<u64>(),
            0
        );
    }

    #[test]
    fn a_long_idle_gap_clears_everything_and_keeps_slice_alignment() {
        let t0 = Instant::now();
        let mut ring = Ring::new(Duration::from_secs(1), 4, t0, || 0u64);
        *ring.current(t0) += 3;
        let later = t0 + Duration::from_secs(3_600) + Duration::from_millis(100);
        assert_eq!(ring.buckets(later).iter().sum::<u64>(), 0);
        *ring.current(later) += 1;
        // Still the same slice 140 ms later (slices are 250 ms, aligned to the start).
        *ring.current(later + Duration::from_millis(140)) += 1;
        assert_eq!(*ring.current(later + Duration::from_millis(140)), 2);
    }

    #[test]
    fn deadlines_saturate_instead_of_overflowing() {
        let now = Instant::now();
        assert_eq!(
            deadline(now, Duration::from_secs(5)),
            now + Duration::from_secs(5)
        );
        let far = deadline(now, Duration::MAX);
        assert!(far > now + Duration::from_secs(364 * 24 * 3_600));
    }

    #[test]
    fn zero_window_does_not_divide_by_zero() {
        let t0 = Instant::now();
        let mut meter = RateMeter::new(Duration::ZERO, 0, t0);
        meter.record(t0, 1);
        assert!(meter.per_second(t0).is_finite());
    }

    #[test]
    fn rate_uses_elapsed_time_while_young_and_the_window_when_full() {
        let t0 = Instant::now();
        let mut meter = RateMeter::new(Duration::from_secs(10), 10, t0);
        for ms in (0..2_000).step_by(100) {
            meter.record(t0 + Duration::from_millis(ms), 1);
        }
        // 20 events in 2 s.
        let young = meter.per_second(t0 + Duration::from_secs(2));
        assert!((young - 10.0).abs() < 0.01, "young rate {young}");
        // After 10 s, the same 20 events over the 10 s window.
        let full = meter.per_second(t0 + Duration::from_millis(9_999));
        assert!((full - 2.0).abs() < 0.01, "full rate {full}");
    }
}
