//! The circuit breaker: CLOSED / OPEN / HALF_OPEN around calls to an upstream (the RPC pool).
//!
//! - **CLOSED**: calls pass; `failure_threshold` consecutive failures open the breaker.
//! - **OPEN**: calls are refused at once for `open_duration`, giving the upstream room to
//!   recover and the caller a fast answer instead of a timeout.
//! - **HALF_OPEN**: up to `half_open_probes` calls pass as probes; when that many have
//!   succeeded the breaker closes, and any probe failure opens it again.
//!
//! Transitions are computed from tokio time when the breaker is used or read (no timer task),
//! so `stats()` shows HALF_OPEN as soon as the open period is over, and tests drive it with
//! `tokio::time::pause`. A result that arrives after the state it was admitted in has ended
//! (a slow call admitted while CLOSED, finishing during HALF_OPEN) is counted but does not
//! move the state: it says nothing about the upstream now.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use thorp_examples::node::breaker::{BreakerState, CircuitBreaker, CircuitBreakerSettings};
//!
//! let breaker = CircuitBreaker::new(CircuitBreakerSettings { failure_threshold: 2, ..Default::default() });
//! for _ in 0..2 {
//!     let _ = breaker.call(|| async { Err::<(), _>("upstream down") }).await;
//! }
//! assert_eq!(breaker.stats().state, BreakerState::Open);
//! assert!(breaker.call(|| async { Ok::<_, ()>(()) }).await.is_err()); // refused, not run
//! # }
//! ```

use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde::Serialize;

use super::invalid::{Checker, InvalidSettings};
use super::window::deadline;
use tokio::time::{Duration, Instant};

/// Settings of a [`CircuitBreaker`] (`RPC_BREAKER_*` / `CIRCUIT_*` keys). All changeable at
/// run time through [`CircuitBreaker::update`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CircuitBreakerSettings {
    /// Consecutive failures that open a closed breaker. At least 1. Default 5.
    pub failure_threshold: u32,
    /// How long an open breaker refuses calls before probing. Default 10 s.
    pub open_duration: Duration,
    /// Probes let through when half open; this many successes close the breaker. At least 1.
    /// Default 3.
    pub half_open_probes: u32,
}

impl CircuitBreakerSettings {
    /// Check every rule; report all violations. (The breaker also raises zero counts to 1
    /// rather than misbehave, but a config reload should be refused instead.)
    pub fn validate(&self) -> Result<(), InvalidSettings> {
        let mut c = Checker::new("circuitBreaker");
        c.check(self.failure_threshold >= 1, "failure_threshold", || {
            "must be at least 1".into()
        });
        c.check(!self.open_duration.is_zero(), "open_duration", || {
            "must be greater than zero".into()
        });
        c.check(self.half_open_probes >= 1, "half_open_probes", || {
            "must be at least 1".into()
        });
        c.finish()
    }
}

impl Default for CircuitBreakerSettings {
    fn default() -> Self {
        Self {
            failure_threshold: 5,
            open_duration: Duration::from_secs(10),
            half_open_probes: 3,
        }
    }
}

/// The three states, named as the seed names them (`CLOSED`, `OPEN`, `HALF_OPEN`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BreakerState {
    /// Calls pass.
    Closed,
    /// Calls are refused.
    Open,
    /// A few probe calls pass.
    HalfOpen,
}

impl BreakerState {
    /// `CLOSED`, `OPEN` or `HALF_OPEN`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Closed => "CLOSED",
            Self::Open => "OPEN",
            Self::HalfOpen => "HALF_OPEN",
        }
    }
}

impl fmt::Display for BreakerState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Figures of the breaker, as the health monitor reads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CircuitBreakerStats {
    /// The state now.
    pub state: BreakerState,
    /// Failed calls since start.
    pub failures: u64,
    /// Successful calls since start.
    pub successes: u64,
    /// Failures in a row while closed (what `failure_threshold` is compared with).
    pub consecutive_failures: u32,
    /// Calls refused without running since start.
    pub rejected: u64,
    /// Times the breaker opened since start.
    pub opened: u64,
}

/// A call was refused because the breaker is open (or half open with every probe taken).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("circuit breaker {state}: call refused")]
pub struct BreakerOpen {
    /// The state that refused.
    pub state: BreakerState,
    /// When an open breaker will start probing; `None` when half open.
    pub retry_after: Option<Duration>,
}

/// The outcome of [`CircuitBreaker::call`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BreakerError<E> {
    /// Refused without running.
    #[error(transparent)]
    Open(BreakerOpen),
    /// Ran and failed.
    #[error("{0}")]
    Inner(E),
}

/// The breaker. Cheap to clone; clones share the state.
#[derive(Debug, Clone)]
pub struct CircuitBreaker {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    machine: Mutex<Machine>,
    failures: AtomicU64,
    successes: AtomicU64,
    rejected: AtomicU64,
    opened: AtomicU64,
}

#[derive(Debug)]
struct Machine {
    settings: CircuitBreakerSettings,
    state: State,
    /// Bumped on every transition; a permit from an older era does not move the state.
    era: u64,
}

#[derive(Debug, Clone, Copy)]
enum State {
    Closed { consecutive_failures: u32 },
    Open { until: Instant },
    HalfOpen { in_flight: u32, succeeded: u32 },
}

/// Leave to run one call; report how it went with [`success`](Self::success) or
/// [`failure`](Self::failure). Dropped without a verdict (the call was cancelled), it
/// frees its probe place and counts as neither.
#[derive(Debug)]
#[must_use = "report the call's outcome with success() or failure()"]
pub struct Permit {
    inner: Arc<Inner>,
    era: u64,
    probe: bool,
    settled: bool,
}

impl CircuitBreaker {
    /// A closed breaker with `settings` (zero thresholds are raised to 1).
    pub fn new(settings: CircuitBreakerSettings) -> Self {
        let settings = sanitize(settings);
        Self {
            inner: Arc::new(Inner {
                machine: Mutex::new(Machine {
                    settings,
                    state: State::Closed {
                        consecutive_failures: 0,
                    },
                    era: 0,
                }),
                failures: AtomicU64::new(0),
                successes: AtomicU64::new(0),
                rejected: AtomicU64::new(0),
                opened: AtomicU64::new(0),
            }),
        }
    }

    /// Replace the settings; they apply from the next call or transition on.
    pub fn update(&self, settings: CircuitBreakerSettings) {
        let mut machine = self.inner.lock();
        machine.settings = sanitize(settings);
        tracing::info!(
            failure_threshold = machine.settings.failure_threshold,
            open_ms = machine.settings.open_duration.as_millis() as u64,
            half_open_probes = machine.settings.half_open_probes,
            "circuit breaker settings applied"
        );
    }

    /// Ask to run one call.
    pub fn acquire(&self) -> Result<Permit, BreakerOpen> {
        let now = Instant::now();
        let mut guard = self.inner.lock();
        let machine = &mut *guard;
        machine.refresh(now);
        let probes = machine.settings.half_open_probes;
        let refusal = match &mut machine.state {
            State::Closed { .. } => None,
            State::HalfOpen {
                in_flight,
                succeeded,
            } if in_flight.saturating_add(*succeeded) < probes => {
                *in_flight = in_flight.saturating_add(1);
                return Ok(Permit {
                    inner: Arc::clone(&self.inner),
                    era: machine.era,
                    probe: true,
                    settled: false,
                });
            }
            State::HalfOpen { .. } => Some(BreakerOpen {
                state: BreakerState::HalfOpen,
                retry_after: None,
            }),
            State::Open { until } => Some(BreakerOpen {
                state: BreakerState::Open,
                retry_after: Some(until.saturating_duration_since(now)),
            }),
        };
        match refusal {
            None => Ok(Permit {
                inner: Arc::clone(&self.inner),
                era: machine.era,
                probe: false,
                settled: false,
            }),
            Some(refusal) => {
                self.inner.rejected.fetch_add(1, Ordering::Relaxed);
                Err(refusal)
            }
        }
    }

    /// Run `call` if allowed; every `Err` counts as a failure.
    pub async fn call<T, E, F, Fut>(&self, call: F) -> Result<T, BreakerError<E>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        self.call_classified(call, |_| true).await
    }

    /// Run `call` if allowed; an `Err` counts as a failure only when `is_failure` says so
    /// (a request the upstream rejected as malformed says nothing about its health).
    pub async fn call_classified<T, E, F, Fut>(
        &self,
        call: F,
        is_failure: impl FnOnce(&E) -> bool,
    ) -> Result<T, BreakerError<E>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let permit = self.acquire().map_err(BreakerError::Open)?;
        match call().await {
            Ok(value) => {
                permit.success();
                Ok(value)
            }
            Err(error) => {
                if is_failure(&error) {
                    permit.failure();
                } else {
                    permit.success();
                }
                Err(BreakerError::Inner(error))
            }
        }
    }

    /// Figures for the health monitor.
    pub fn stats(&self) -> CircuitBreakerStats {
        let mut machine = self.inner.lock();
        machine.refresh(Instant::now());
        let consecutive_failures = match machine.state {
            State::Closed {
                consecutive_failures,
            } => consecutive_failures,
            State::Open { .. } | State::HalfOpen { .. } => 0,
        };
        CircuitBreakerStats {
            state: machine.state.name(),
            failures: self.inner.failures.load(Ordering::Relaxed),
            successes: self.inner.successes.load(Ordering::Relaxed),
            consecutive_failures,
            rejected: self.inner.rejected.load(Ordering::Relaxed),
            opened: self.inner.opened.load(Ordering::Relaxed),
        }
    }

    /// The state now.
    pub fn state(&self) -> BreakerState {
        let mut machine = self.inner.lock();
        machine.refresh(Instant::now());
        machine.state.name()
    }
}

fn sanitize(mut settings: CircuitBreakerSettings) -> CircuitBreakerSettings {
    settings.failure_threshold = settings.failure_threshold.max(1);
    settings.half_open_probes = settings.half_open_probes.max(1);
    settings
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, Machine> {
        // Transitions are single assignments; a panic elsewhere cannot leave one half done.
        self.machine.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl State {
    fn name(self) -> BreakerState {
        match self {
            Self::Closed { .. } => BreakerState::Closed,
            Self::Open { .. } => BreakerState::Open,
            Self::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }
}

impl Machine {
    /// Apply the time-driven transition: OPEN becomes HALF_OPEN when its period is over.
    fn refresh(&mut self, now: Instant) {
        if let State::Open { until } = self.state
            && now >= until
        {
            self.enter(State::HalfOpen {
                in_flight: 0,
                succeeded: 0,
            });
            tracing::info!(
                probes = self.settings.half_open_probes,
                "circuit breaker half open: probing"
            );
        }
    }

    fn enter(&mut self, state: State) {
        self.state = state;
        self.era += 1;
    }

    fn open(&mut self, now: Instant, inner: &Inner) {
        self.enter(State::Open {
            until: deadline(now, self.settings.open_duration),
        });
        inner.opened.fetch_add(1, Ordering::Relaxed);
    }
}

impl Permit {
    /// The call succeeded.
    pub fn success(mut self) {
        self.settle(true);
    }

    /// The call failed.
    pub fn failure(mut self) {
        self.settle(false);
    }

    fn settle(&mut self, ok: bool) {
        self.settled = true;
        let inner = &*self.inner;
        let counter = if ok {
            &inner.successes
        } else {
            &inner.failures
        };
        counter.fetch_add(1, Ordering::Relaxed);
        let now = Instant::now();
        let mut guard = inner.lock();
        let machine = &mut *guard;
        machine.refresh(now);
        if machine.era != self.era {
            return;
        }
        match (&mut machine.state, ok) {
            (
                State::Closed {
                    consecutive_failures,
                },
                true,
            ) => *consecutive_failures = 0,
            (
                State::Closed {
                    consecutive_failures,
                },
                false,
            ) => {
                *consecutive_failures = consecutive_failures.saturating_add(1);
                if *consecutive_failures >= machine.settings.failure_threshold {
                    let failures = *consecutive_failures;
                    machine.open(now, inner);
                    tracing::warn!(
                        consecutive_failures = failures,
                        open_ms = machine.settings.open_duration.as_millis() as u64,
                        "circuit breaker opened"
                    );
                }
            }
            (
                State::HalfOpen {
                    in_flight,
                    succeeded,
                },
                true,
            ) => {
                *in_flight = in_flight.saturating_sub(1);
                *succeeded = succeeded.saturating_add(1);
                if *succeeded >= machine.settings.half_open_probes {
                    machine.enter(State::Closed {
                        consecutive_failures: 0,
                    });
                    tracing::info!("circuit breaker closed: upstream recovered");
                }
            }
            (State::HalfOpen { .. }, false) => {
                machine.open(now, inner);
                tracing::warn!(
                    open_ms = machine.settings.open_duration.as_millis() as u64,
                    "circuit breaker re-opened: probe failed"
                );
            }
            // Permits are only handed out in CLOSED or HALF_OPEN, and the era check above
            // drops those whose state has ended; nothing to do.
            (State::Open { .. }, _) => {}
        }
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if self.settled || !self.probe {
            return;
        }
        let mut machine = self.inner.lock();
        if machine.era == self.era
            && let State::HalfOpen { in_flight, .. } = &mut machine.state
        {
            *in_flight = in_flight.saturating_sub(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breaker(failure_threshold: u32, half_open_probes: u32) -> CircuitBreaker {
        CircuitBreaker::new(CircuitBreakerSettings {
            failure_threshold,
            open_duration: Duration::from_secs(10),
            half_open_probes,
        })
    }

    fn fail(b: &CircuitBreaker) {
        b.acquire().unwrap().failure();
    }

    fn succeed(b: &CircuitBreaker) {
        b.acquire().unwrap().success();
    }

    #[tokio::test(start_paused = true)]
    async fn consecutive_failures_open_it_and_a_success_resets_the_streak() {
        let b = breaker(3, 1);
        fail(&b);
        fail(&b);
        succeed(&b);
        fail(&b);
        fail(&b);
        assert_eq!(b.state(), BreakerState::Closed);
        assert_eq!(b.stats().consecutive_failures, 2);
        fail(&b);
        let stats = b.stats();
        assert_eq!(
            (stats.state, stats.failures, stats.successes, stats.opened),
            (BreakerState::Open, 5, 1, 1)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn open_refuses_until_the_period_ends_then_probes() {
        let b = breaker(1, 2);
        fail(&b);
        let refused = b.acquire().unwrap_err();
        assert_eq!(refused.state, BreakerState::Open);
        assert_eq!(refused.retry_after, Some(Duration::from_secs(10)));
        tokio::time::advance(Duration::from_millis(9_999)).await;
        assert!(b.acquire().is_err());
        tokio::time::advance(Duration::from_millis(1)).await;
        assert_eq!(b.state(), BreakerState::HalfOpen, "shown without any call");
        // Two probes pass, a third waits for their verdict.
        let p1 = b.acquire().unwrap();
        let p2 = b.acquire().unwrap();
        assert_eq!(
            b.acquire().unwrap_err(),
            BreakerOpen {
                state: BreakerState::HalfOpen,
                retry_after: None
            }
        );
        p1.success();
        assert_eq!(b.state(), BreakerState::HalfOpen);
        p2.success();
        assert_eq!(b.state(), BreakerState::Closed);
        assert_eq!(b.stats().rejected, 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_probe_reopens_for_a_full_period() {
        let b = breaker(1, 3);
        fail(&b);
        tokio::time::advance(Duration::from_secs(10)).await;
        succeed(&b);
        fail(&b);
        assert_eq!(b.state(), BreakerState::Open);
        assert_eq!(b.stats().opened, 2);
        tokio::time::advance(Duration::from_secs(5)).await;
        assert_eq!(b.state(), BreakerState::Open);
        tokio::time::advance(Duration::from_secs(5)).await;
        assert_eq!(b.state(), BreakerState::HalfOpen);
    }

    #[tokio::test(start_paused = true)]
    async fn a_cancelled_probe_frees_its_place_without_a_verdict() {
        let b = breaker(1, 1);
        fail(&b);
        tokio::time::advance(Duration::from_secs(10)).await;
        drop(b.acquire().unwrap());
        assert_eq!(b.state(), BreakerState::HalfOpen);
        succeed(&b);
        assert_eq!(b.state(), BreakerState::Closed);
    }

    #[tokio::test(start_paused = true)]
    async fn results_from_an_earlier_state_do_not_move_the_current_one() {
        let b = breaker(2, 1);
        let slow = b.acquire().unwrap(); // admitted while closed
        fail(&b);
        fail(&b); // opens
        tokio::time::advance(Duration::from_secs(10)).await;
        assert_eq!(b.state(), BreakerState::HalfOpen);
        slow.success(); // stale: counted, but it is not the probe
        assert_eq!(b.state(), BreakerState::HalfOpen);
        assert_eq!(b.stats().successes, 1);
        succeed(&b);
        assert_eq!(b.state(), BreakerState::Closed);
    }

    #[tokio::test(start_paused = true)]
    async fn call_classifies_errors_and_skips_the_call_when_open() {
        let b = breaker(1, 1);
        let benign = b
            .call_classified(|| async { Err::<(), _>("bad params") }, |_| false)
            .await;
        assert_eq!(benign, Err(BreakerError::Inner("bad params")));
        assert_eq!(b.state(), BreakerState::Closed);
        let _ = b.call(|| async { Err::<(), _>("down") }).await;
        assert_eq!(b.state(), BreakerState::Open);
        let mut ran = false;
        let refused = b
            .call(|| {
                ran = true;
                async { Ok::<_, &str>(()) }
            })
            .await;
        assert!(matches!(refused, Err(BreakerError::Open(_))));
        assert!(!ran, "an open breaker does not run the call");
    }

    #[tokio::test(start_paused = true)]
    async fn updated_settings_apply_to_the_next_transition() {
        let b = breaker(5, 1);
        fail(&b);
        b.update(CircuitBreakerSettings {
            failure_threshold: 2,
            open_duration: Duration::from_secs(1),
            half_open_probes: 0,
        });
        fail(&b);
        assert_eq!(b.state(), BreakerState::Open);
        tokio::time::advance(Duration::from_secs(1)).await;
        succeed(&b); // half_open_probes 0 is raised to 1
        assert_eq!(b.state(), BreakerState::Closed);
    }

    #[test]
    fn validation_refuses_zero_counts_and_durations() {
        assert_eq!(CircuitBreakerSettings::default().validate(), Ok(()));
        let zero = CircuitBreakerSettings {
            failure_threshold: 0,
            open_duration: Duration::ZERO,
            half_open_probes: 0,
        };
        assert_eq!(zero.validate().unwrap_err().problems.len(), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_huge_open_duration_from_config_does_not_panic() {
        let b = CircuitBreaker::new(CircuitBreakerSettings {
            failure_threshold: 1,
            open_duration: Duration::MAX,
            half_open_probes: 1,
        });
        fail(&b);
        assert_eq!(b.state(), BreakerState::Open);
    }

    #[test]
    fn states_are_named_like_the_seed() {
        assert_eq!(
            serde_json::to_value(BreakerState::HalfOpen).unwrap(),
            "HALF_OPEN"
        );
        assert_eq!(BreakerState::Open.to_string(), "OPEN");
    }
}
