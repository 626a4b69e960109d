//! The shutdown manager: a signal (or a call) starts a graceful stop; work in flight drains,
//! bounded by a timeout.
//!
//! Built on `tokio_util`'s [`CancellationToken`] (tasks watch it to stop taking new work) and
//! [`TaskTracker`] (waits for every tracked task without holding their `JoinHandle`s, and
//! frees finished ones at once). Both come from the tokio project; writing the same race-free
//! "cancel, then wait for N tasks" by hand is what they exist to avoid.
//!
//! The stop is triggered by SIGINT or SIGTERM once [`ShutdownManager::listen_for_signals`]
//! runs, or by [`ShutdownManager::trigger`] (tests, an ops endpoint). A second signal while
//! draining forces the stop at once, as operators expect from a second Ctrl-C.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use std::time::Duration;
//! use thorp_examples::node::shutdown::{ShutdownManager, ShutdownReason, ShutdownSettings};
//!
//! let shutdown = ShutdownManager::new(ShutdownSettings { timeout: Duration::from_secs(5) });
//! let token = shutdown.token();
//! shutdown.spawn(async move {
//!     token.cancelled().await; // stop taking work, finish what is in hand
//! });
//! shutdown.trigger(ShutdownReason::Requested);
//! let outcome = shutdown.drain().await;
//! assert!(outcome.drained);
//! # }
//! ```

use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use tokio::task::JoinHandle;
use tokio::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tokio_util::task::task_tracker::TrackedFuture;

/// Settings of the [`ShutdownManager`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShutdownSettings {
    /// How long in-flight work may take to drain (`SHUTDOWN_TIMEOUT_MS`). Read when the
    /// drain starts, so a change applies to the next stop. Default 10 s.
    pub timeout: Duration,
}

impl Default for ShutdownSettings {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
        }
    }
}

/// What started the stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShutdownReason {
    /// SIGINT (Ctrl-C).
    Interrupt,
    /// SIGTERM (what `kill`, systemd and Kubernetes send).
    Terminate,
    /// [`ShutdownManager::trigger`] was called.
    Requested,
}

impl fmt::Display for ShutdownReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Interrupt => "SIGINT",
            Self::Terminate => "SIGTERM",
            Self::Requested => "requested",
        })
    }
}

/// How the drain ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShutdownOutcome {
    /// What started it (`Requested` if drained without a trigger).
    pub reason: ShutdownReason,
    /// Every tracked task finished within the timeout.
    pub drained: bool,
    /// A second signal cut the drain short.
    pub forced: bool,
    /// Tracked tasks still running when the drain ended.
    pub abandoned: usize,
    /// How long the drain took.
    pub elapsed: Duration,
}

impl ShutdownOutcome {
    /// The process exit code this outcome deserves: 0 when drained, 1 otherwise (work was
    /// abandoned; a supervisor should know).
    pub fn exit_code(&self) -> u8 {
        u8::from(!self.drained)
    }
}

/// Figures of the manager.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShutdownStats {
    /// A stop has been triggered.
    pub shutting_down: bool,
    /// Tracked tasks running now.
    pub in_flight_tasks: usize,
    /// The drain timeout now, in milliseconds.
    pub timeout_ms: u64,
}

/// The shutdown manager. Cheap to clone; clones share everything.
#[derive(Debug, Clone)]
pub struct ShutdownManager {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    token: CancellationToken,
    force: CancellationToken,
    tracker: TaskTracker,
    settings: Mutex<ShutdownSettings>,
    reason: OnceLock<ShutdownReason>,
}

impl ShutdownManager {
    /// A manager that has not been triggered.
    pub fn new(settings: ShutdownSettings) -> Self {
        Self {
            inner: Arc::new(Inner {
                token: CancellationToken::new(),
                force: CancellationToken::new(),
                tracker: TaskTracker::new(),
                settings: Mutex::new(settings),
                reason: OnceLock::new(),
            }),
        }
    }

    /// Apply new settings (the timeout is read when a drain starts).
    pub fn update(&self, settings: ShutdownSettings) {
        *self
            .inner
            .settings
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = settings;
    }

    /// A token cancelled when the stop starts; watch it to stop taking new work.
    pub fn token(&self) -> CancellationToken {
        self.inner.token.clone()
    }

    /// Whether the stop has started.
    pub fn is_shutting_down(&self) -> bool {
        self.inner.token.is_cancelled()
    }

    /// Spawn `task` on the runtime and wait for it when draining.
    pub fn spawn<F>(&self, task: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.inner.tracker.spawn(task)
    }

    /// Wrap `future` so the drain waits for it wherever it runs.
    pub fn track<F: Future>(&self, future: F) -> TrackedFuture<F> {
        self.inner.tracker.track_future(future)
    }

    /// Start the stop; later triggers keep the first reason.
    pub fn trigger(&self, reason: ShutdownReason) {
        if self.inner.reason.set(reason).is_ok() {
            tracing::info!(%reason, in_flight_tasks = self.inner.tracker.len(), "graceful shutdown started");
        }
        self.inner.token.cancel();
    }

    /// Resolve when the stop has started, with its reason.
    pub async fn triggered(&self) -> ShutdownReason {
        self.inner.token.cancelled().await;
        self.reason()
    }

    fn reason(&self) -> ShutdownReason {
        self.inner
            .reason
            .get()
            .copied()
            .unwrap_or(ShutdownReason::Requested)
    }

    /// Listen for SIGINT and SIGTERM in a background task: the first triggers the stop, the
    /// second forces it. Fails only if the signal handlers cannot be installed.
    pub fn listen_for_signals(&self) -> std::io::Result<JoinHandle<()>> {
        let mut signals = Signals::install()?;
        let this = self.clone();
        Ok(tokio::spawn(async move {
            let Some(first) = signals.next().await else {
                return;
            };
            this.trigger(first);
            if let Some(second) = signals.next().await {
                tracing::warn!(signal = %second, "second signal: forcing shutdown");
                this.inner.force.cancel();
            }
        }))
    }

    /// Stop tracking new tasks and wait for the tracked ones, up to the timeout (or until a
    /// second signal). Call after [`trigger`](Self::trigger) or once the trigger fired.
    pub async fn drain(&self) -> ShutdownOutcome {
        let timeout = self
            .inner
            .settings
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .timeout;
        let started = Instant::now();
        let tracker = &self.inner.tracker;
        tracker.close();
        let (drained, forced) = tokio::select! {
            () = tracker.wait() => (true, false),
            () = tokio::time::sleep(timeout) => (false, false),
            () = self.inner.force.cancelled() => (tracker.is_empty(), true),
        };
        let outcome = ShutdownOutcome {
            reason: self.reason(),
            drained,
            forced,
            abandoned: tracker.len(),
            elapsed: started.elapsed(),
        };
        let elapsed_ms = outcome.elapsed.as_millis() as u64;
        if drained {
            tracing::info!(reason = %outcome.reason, elapsed_ms, "graceful shutdown complete");
        } else {
            tracing::error!(reason = %outcome.reason, elapsed_ms, abandoned = outcome.abandoned,
                            timeout_ms = timeout.as_millis() as u64, forced, "shutdown did not drain");
        }
        outcome
    }

    /// Wait for the trigger, then drain: the tail of a `main`.
    pub async fn wait_and_drain(&self) -> ShutdownOutcome {
        self.triggered().await;
        self.drain().await
    }

    /// Figures of the manager.
    pub fn stats(&self) -> ShutdownStats {
        let timeout = self
            .inner
            .settings
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .timeout;
        ShutdownStats {
            shutting_down: self.is_shutting_down(),
            in_flight_tasks: self.inner.tracker.len(),
            timeout_ms: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
        }
    }
}

/// SIGINT and SIGTERM as one stream.
struct Signals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    #[cfg(unix)]
    fn install() -> std::io::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Self {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    #[cfg(not(unix))]
    fn install() -> std::io::Result<Self> {
        Ok(Self {})
    }

    #[cfg(unix)]
    async fn next(&mut self) -> Option<ShutdownReason> {
        tokio::select! {
            got = self.interrupt.recv() => got.map(|()| ShutdownReason::Interrupt),
            got = self.terminate.recv() => got.map(|()| ShutdownReason::Terminate),
        }
    }

    #[cfg(not(unix))]
    async fn next(&mut self) -> Option<ShutdownReason> {
        tokio::signal::ctrl_c()
            .await
            .ok()
            .map(|()| ShutdownReason::Interrupt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn manager(timeout_ms: u64) -> ShutdownManager {
        ShutdownManager::new(ShutdownSettings {
            timeout: Duration::from_millis(timeout_ms),
        })
    }

    #[tokio::test(start_paused = true)]
    async fn in_flight_work_finishes_before_the_drain_returns() {
        let shutdown = manager(1_000);
        let finished = Arc::new(AtomicUsize::new(0));
        for i in 0..5u64 {
            let (token, finished) = (shutdown.token(), Arc::clone(&finished));
            shutdown.spawn(async move {
                token.cancelled().await;
                // Finishing the item in hand takes a while after the stop starts.
                tokio::time::sleep(Duration::from_millis(100 + i * 50)).await;
                finished.fetch_add(1, Ordering::SeqCst);
            });
        }
        assert_eq!(shutdown.stats().in_flight_tasks, 5);
        shutdown.trigger(ShutdownReason::Terminate);
        let outcome = shutdown.drain().await;
        assert_eq!(finished.load(Ordering::SeqCst), 5);
        assert!(outcome.drained && !outcome.forced);
        assert_eq!(
            (outcome.abandoned, outcome.reason, outcome.exit_code()),
            (0, ShutdownReason::Terminate, 0)
        );
        assert_eq!(outcome.elapsed, Duration::from_millis(300));
    }

    #[tokio::test(start_paused = true)]
    async fn a_stuck_task_is_abandoned_at_the_timeout() {
        let shutdown = manager(500);
        shutdown.spawn(tokio::time::sleep(Duration::from_secs(3_600)));
        shutdown.spawn(async {});
        shutdown.trigger(ShutdownReason::Requested);
        let outcome = shutdown.drain().await;
        assert!(!outcome.drained);
        assert_eq!((outcome.abandoned, outcome.exit_code()), (1, 1));
        assert_eq!(outcome.elapsed, Duration::from_millis(500));
    }

    #[tokio::test(start_paused = true)]
    async fn the_first_reason_wins_and_the_timeout_is_read_at_drain_time() {
        let shutdown = manager(10_000);
        shutdown.update(ShutdownSettings {
            timeout: Duration::from_millis(50),
        });
        shutdown.spawn(tokio::time::sleep(Duration::from_secs(1)));
        let waiter = tokio::spawn({
            let shutdown = shutdown.clone();
            async move { shutdown.wait_and_drain().await }
        });
        shutdown.trigger(ShutdownReason::Interrupt);
        shutdown.trigger(ShutdownReason::Terminate);
        let outcome = waiter.await.unwrap();
        assert_eq!(outcome.reason, ShutdownReason::Interrupt);
        assert_eq!(outcome.elapsed, Duration::from_millis(50));
        assert_eq!(shutdown.stats().timeout_ms, 50);
    }

    #[tokio::test(start_paused = true)]
    async fn tracked_futures_count_like_tasks() {
        let shutdown = manager(1_000);
        let work = shutdown.track(tokio::time::sleep(Duration::from_millis(200)));
        let handle = tokio::spawn(work);
        shutdown.trigger(ShutdownReason::Requested);
        let outcome = shutdown.drain().await;
        assert!(outcome.drained);
        assert_eq!(outcome.elapsed, Duration::from_millis(200));
        handle.await.unwrap();
    }
}
