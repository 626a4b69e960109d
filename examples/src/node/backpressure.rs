//! The backpressure manager: admission control with a limit that can change at run time.
//!
//! Work is admitted while fewer than `max_queue_size` items are in the system, and refused
//! otherwise, at once: under overload a fast "no" is worth more than a slow "yes". An admitted
//! item holds an [`Admission`] guard that gives its place back when dropped, so a panic or an
//! early return cannot leak capacity. Lowering the limit below the current load admits
//! nothing new until the load has drained under it; nothing in flight is disturbed.
//!
//! ```
//! use thorp_examples::node::backpressure::{Backpressure, BackpressureSettings};
//!
//! let bp = Backpressure::new(BackpressureSettings { max_queue_size: 2, ..Default::default() });
//! let a = bp.try_admit().unwrap();
//! let _b = bp.try_admit().unwrap();
//! assert!(bp.try_admit().is_err()); // full: refused, counted
//! drop(a);
//! assert!(bp.try_admit().is_ok()); // a place came back
//! ```

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::time::{Duration, Instant};

use super::invalid::{Checker, InvalidSettings};
use super::window::{Reset, Ring};

/// Slices of the rejection-rate window.
const SLICES: usize = 10;

/// Settings of the [`Backpressure`] manager.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackpressureSettings {
    /// Items admitted at once (`BACKPRESSURE_MAX_QUEUE_SIZE`). Changeable at run time.
    /// Default 5000, as in the seed.
    pub max_queue_size: usize,
    /// Span over which `rejection_rate` is computed. Fixed at creation. Default 60 s.
    pub stats_window: Duration,
}

impl BackpressureSettings {
    /// Check every rule; report all violations.
    pub fn validate(&self) -> Result<(), InvalidSettings> {
        let mut c = Checker::new("backpressureManager");
        c.check(self.max_queue_size >= 1, "max_queue_size", || {
            "must be at least 1".into()
        });
        c.check(
            self.stats_window >= Duration::from_secs(1),
            "stats_window",
            || "must be at least 1s".into(),
        );
        c.finish()
    }
}

impl Default for BackpressureSettings {
    fn default() -> Self {
        Self {
            max_queue_size: 5_000,
            stats_window: Duration::from_secs(60),
        }
    }
}

/// Figures of the manager, as the health monitor reads them.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct BackpressureStats {
    /// `current_load` as a percent of `max_queue_size`. Above 100 right after the limit was
    /// lowered below the load (the excess drains; nothing is evicted).
    pub utilization: f64,
    /// Fraction of admission requests refused in the window, 0.0..=1.0 (0 when none came).
    pub rejection_rate: f64,
    /// Items admitted and not yet released.
    pub current_load: u64,
    /// The limit now.
    pub max_queue_size: u64,
    /// Admissions since start.
    pub admitted: u64,
    /// Refusals since start.
    pub rejected: u64,
}

/// Refused: the system is at its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("overloaded: {load} of {limit} places taken")]
pub struct Rejected {
    /// Load when refused.
    pub load: usize,
    /// Limit when refused.
    pub limit: usize,
}

/// The admission controller. Cheap to clone; clones share the limit and the load.
#[derive(Debug, Clone)]
pub struct Backpressure {
    inner: Arc<Inner>,
}

/// One admitted item's place; dropping it gives the place back.
#[derive(Debug)]
#[must_use = "dropping the admission releases the place at once"]
pub struct Admission {
    inner: Arc<Inner>,
}

/// An item travelling with its admission: the place is given back when it is dropped, after
/// the item has been handled, wherever that happens (another task, the far end of a queue).
#[derive(Debug)]
pub struct Admitted<T> {
    /// The admitted item.
    pub item: T,
    admission: Admission,
}

impl<T> Admitted<T> {
    /// The item and its admission, apart.
    pub fn into_parts(self) -> (T, Admission) {
        (self.item, self.admission)
    }
}

impl Admission {
    /// Make `item` carry this admission.
    pub fn attach<T>(self, item: T) -> Admitted<T> {
        Admitted {
            item,
            admission: self,
        }
    }
}

#[derive(Debug)]
struct Inner {
    limit: AtomicUsize,
    load: AtomicUsize,
    admitted: AtomicU64,
    rejected: AtomicU64,
    window: Mutex<Ring<Counts>>,
}

#[derive(Debug, Default)]
struct Counts {
    admitted: u64,
    rejected: u64,
}

impl Reset for Counts {
    fn reset(&mut self) {
        *self = Self::default();
    }
}

impl Backpressure {
    /// A manager with `settings`.
    pub fn new(settings: BackpressureSettings) -> Self {
        let window = Ring::new(
            settings.stats_window,
            SLICES,
            Instant::now(),
            Counts::default,
        );
        Self {
            inner: Arc::new(Inner {
                limit: AtomicUsize::new(settings.max_queue_size),
                load: AtomicUsize::new(0),
                admitted: AtomicU64::new(0),
                rejected: AtomicU64::new(0),
                window: Mutex::new(window),
            }),
        }
    }

    /// Admit one item if below the limit, or refuse at once.
    pub fn try_admit(&self) -> Result<Admission, Rejected> {
        let limit = self.inner.limit.load(Ordering::Acquire);
        let taken = self
            .inner
            .load
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |load| {
                (load < limit).then_some(load + 1)
            });
        let admitted = taken.is_ok();
        self.count(admitted);
        match taken {
            Ok(_) => Ok(Admission {
                inner: Arc::clone(&self.inner),
            }),
            Err(load) => Err(Rejected { load, limit }),
        }
    }

    /// Change the limit; applies to the next admission.
    pub fn set_max_queue_size(&self, max_queue_size: usize) {
        let old = self.inner.limit.swap(max_queue_size, Ordering::AcqRel);
        if old != max_queue_size {
            tracing::info!(old, new = max_queue_size, "backpressure limit changed");
        }
    }

    /// Apply the run-time changeable settings (`max_queue_size`).
    pub fn update(&self, settings: &BackpressureSettings) {
        self.set_max_queue_size(settings.max_queue_size);
    }

    /// Figures for the health monitor.
    pub fn stats(&self) -> BackpressureStats {
        let limit = self.inner.limit.load(Ordering::Acquire);
        let load = self.inner.load.load(Ordering::Acquire);
        let (admitted, rejected) = {
            let mut window = self
                .inner
                .window
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            window
                .buckets(Instant::now())
                .iter()
                .fold((0, 0), |(a, r), c| (a + c.admitted, r + c.rejected))
        };
        let asked = admitted + rejected;
        BackpressureStats {
            utilization: if limit == 0 {
                100.0
            } else {
                load as f64 * 100.0 / limit as f64
            },
            rejection_rate: if asked == 0 {
                0.0
            } else {
                rejected as f64 / asked as f64
            },
            current_load: load as u64,
            max_queue_size: limit as u64,
            admitted: self.inner.admitted.load(Ordering::Relaxed),
            rejected: self.inner.rejected.load(Ordering::Relaxed),
        }
    }

    fn count(&self, admitted: bool) {
        let total = if admitted {
            &self.inner.admitted
        } else {
            &self.inner.rejected
        };
        total.fetch_add(1, Ordering::Relaxed);
        let mut window = self
            .inner
            .window
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let bucket = window.current(Instant::now());
        if admitted {
            bucket.admitted += 1;
        } else {
            bucket.rejected += 1;
        }
    }
}

impl Drop for Admission {
    fn drop(&mut self) {
        self.inner.load.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manager(max_queue_size: usize) -> Backpressure {
        Backpressure::new(BackpressureSettings {
            max_queue_size,
            stats_window: Duration::from_secs(10),
        })
    }

    #[test]
    fn validation_refuses_a_zero_limit() {
        assert_eq!(BackpressureSettings::default().validate(), Ok(()));
        let zero = BackpressureSettings {
            max_queue_size: 0,
            ..BackpressureSettings::default()
        };
        assert_eq!(
            zero.validate().unwrap_err().problems[0].field,
            "max_queue_size"
        );
    }

    #[test]
    fn admits_up_to_the_limit_and_refuses_beyond() {
        let bp = manager(3);
        let held: Vec<Admission> = (0..3).map(|_| bp.try_admit().unwrap()).collect();
        assert_eq!(bp.try_admit().unwrap_err(), Rejected { load: 3, limit: 3 });
        let stats = bp.stats();
        assert_eq!(
            (stats.current_load, stats.admitted, stats.rejected),
            (3, 3, 1)
        );
        assert!((stats.utilization - 100.0).abs() < 1e-9);
        assert!((stats.rejection_rate - 0.25).abs() < 1e-9);
        drop(held);
        assert_eq!(bp.stats().current_load, 0);
    }

    #[test]
    fn an_attached_item_holds_its_place_until_dropped() {
        let bp = manager(1);
        let admitted = bp.try_admit().unwrap().attach("work");
        assert!(bp.try_admit().is_err());
        let (item, admission) = admitted.into_parts();
        assert_eq!(item, "work");
        assert_eq!(bp.stats().current_load, 1);
        drop(admission);
        assert_eq!(bp.stats().current_load, 0);
    }

    #[test]
    fn raising_the_limit_admits_more_at_once() {
        let bp = manager(1);
        let _a = bp.try_admit().unwrap();
        assert!(bp.try_admit().is_err());
        bp.set_max_queue_size(2);
        let _b = bp.try_admit().unwrap();
        assert!((bp.stats().utilization - 100.0).abs() < 1e-9);
    }

    #[test]
    fn lowering_below_the_load_drains_without_evicting() {
        let bp = manager(4);
        let mut held: Vec<Admission> = (0..4).map(|_| bp.try_admit().unwrap()).collect();
        bp.update(&BackpressureSettings {
            max_queue_size: 2,
            ..BackpressureSettings::default()
        });
        assert!((bp.stats().utilization - 200.0).abs() < 1e-9);
        assert!(bp.try_admit().is_err(), "over the new limit");
        held.truncate(2);
        assert!(bp.try_admit().is_err(), "at the new limit");
        held.truncate(1);
        held.push(bp.try_admit().unwrap());
        assert_eq!(bp.stats().current_load, 2);
    }

    #[test]
    fn concurrent_admissions_never_exceed_the_limit() {
        let bp = manager(8);
        let peak = Arc::new(AtomicUsize::new(0));
        std::thread::scope(|scope| {
            for _ in 0..4 {
                let (bp, peak) = (bp.clone(), Arc::clone(&peak));
                scope.spawn(move || {
                    for _ in 0..2_000 {
                        if let Ok(admission) = bp.try_admit() {
                            peak.fetch_max(bp.stats().current_load as usize, Ordering::Relaxed);
                            drop(admission);
                        }
                    }
                });
            }
        });
        assert!(peak.load(Ordering::Relaxed) <= 8);
        let stats = bp.stats();
        assert_eq!(stats.current_load, 0);
        assert_eq!(stats.admitted + stats.rejected, 8_000);
    }

    #[tokio::test(start_paused = true)]
    async fn rejection_rate_recovers_once_refusals_leave_the_window() {
        let bp = manager(0);
        for _ in 0..5 {
            assert!(bp.try_admit().is_err());
        }
        assert_eq!(bp.stats().rejection_rate, 1.0);
        bp.set_max_queue_size(10);
        tokio::time::advance(Duration::from_secs(11)).await;
        let _ok = bp.try_admit().unwrap();
        assert_eq!(bp.stats().rejection_rate, 0.0);
        assert_eq!(bp.stats().rejected, 5, "the total still counts them");
    }
}
