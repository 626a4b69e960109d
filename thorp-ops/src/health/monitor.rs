//! The monitor: a tokio task that checks every component on an interval, publishes the latest
//! report, keeps the history and raises alerts.

use super::alert::{
    AckError, Alert, AlertEngine, AlertEvent, AlertSink, AlertTransition, DynSink, LogSink,
};
use super::component::{BoxError, DynCheck, HealthCheck};
#[cfg(feature = "derive")]
use super::config::HealthConfig;
use super::history::{HealthSummary, History};
use super::report::{
    CHECK_FAILED, CHECK_PANICKED, CHECK_TIMEOUT, ComponentHealth, ComponentReport, HIGH_MEMORY,
    HealthReport, MemoryMetrics, SystemMetrics,
};
use super::rules::{CheckContext, RuleKind, RuleSpec};
use super::settings::{self, MonitorSettings, SettingsRejected};
use super::status::HealthStatus;
use super::system::{ProcProbe, SystemProbe, SystemSample};
#[cfg(feature = "derive")]
use crate::config::{HotConfig, HotReload};
use std::any::Any;
use std::borrow::Cow;
use std::collections::HashMap;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, SystemTime};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::{Instant, MissedTickBehavior};
use tracing::{debug, error, info, warn};

const MIB: u64 = 1024 * 1024;
/// Alert events waiting for the sinks; past this the newest are dropped (and counted).
const ALERT_QUEUE: usize = 256;

/// Why the monitor refused something.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MonitorError {
    /// Two components with one name.
    #[error("a health component named `{0}` is already registered")]
    DuplicateComponent(String),
    /// The settings do not fit (see the inner error).
    #[error(transparent)]
    Settings(#[from] SettingsRejected),
    /// `start` was called outside a tokio runtime.
    #[error("the health monitor must be started from within a tokio runtime")]
    NoRuntime,
}

/// What [`HealthMonitor::start`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartOutcome {
    /// The monitor task was started.
    Started,
    /// It was already running; nothing changed.
    AlreadyRunning,
}

/// One threshold a registered component uses, as [`HealthMonitor::thresholds`] lists them.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ThresholdInfo {
    /// The component.
    pub component: Cow<'static, str>,
    /// The rule, with its key and default.
    pub rule: &'static RuleSpec,
    /// The threshold in force now.
    pub current: f64,
}

#[derive(Clone)]
struct Registered {
    name: Cow<'static, str>,
    affects_readiness: bool,
    component: Arc<dyn DynCheck>,
}

impl Registered {
    fn new(component: impl HealthCheck) -> Self {
        Self {
            name: HealthCheck::name(&component),
            affects_readiness: component.affects_readiness(),
            component: Arc::new(component),
        }
    }
}

/// Settings as applied: the value plus what each check needs from it, built once per apply.
#[derive(Debug)]
struct Applied {
    settings: Arc<MonitorSettings>,
    ctx: CheckContext,
}

impl Applied {
    fn new(settings: MonitorSettings) -> Arc<Self> {
        let ctx = CheckContext::new(Arc::new(settings.thresholds.clone()));
        Arc::new(Self {
            settings: Arc::new(settings),
            ctx,
        })
    }
}

#[derive(Default)]
struct State {
    history: History,
    alerts: AlertEngine,
    total: u64,
    first_at: Option<Instant>,
    last_at: Option<Instant>,
}

struct Core {
    /// Shared with the check in progress: a tick takes the list without copying it, and a
    /// registration copies it only while a check holds the old one.
    components: Mutex<Arc<Vec<Registered>>>,
    settings: watch::Sender<Arc<Applied>>,
    latest: watch::Sender<Option<Arc<HealthReport>>>,
    state: Mutex<State>,
    probe: Arc<dyn SystemProbe>,
    sinks: Arc<[Arc<dyn DynSink>]>,
    dropped_events: AtomicU64,
}

struct Running {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

struct Shared {
    core: Arc<Core>,
    running: Mutex<Option<Running>>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        // The last handle is gone: nobody can read reports any more, so stop checking.
        if let Some(running) = lock(&self.running).take() {
            running.task.abort();
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every critical section leaves the data consistent, so a panic elsewhere cannot poison it
    // in a way that matters; keep serving.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Checks registered components on an interval and keeps what it finds.
///
/// Cheap to clone; clones share one monitor. Readers ([`latest`](Self::latest),
/// [`subscribe`](Self::subscribe), [`summary`](Self::summary), ...) only read what the last
/// check published and never trigger a check. When the last clone is dropped the task stops.
///
/// ```
/// use thorp_ops::health::{stats_fn, HealthMonitor, HealthStatus, MonitorSettings};
/// use thorp_ops::health::stock::RpcPoolStats;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let monitor = HealthMonitor::builder()
///     .component(stats_fn(|| RpcPoolStats {
///         success_rate: 0.80,
///         avg_latency_ms: 45.0,
///         p95_latency_ms: 80.0,
///         active_connections: 25,
///     }))
///     .build()?;
/// monitor.start()?;
///
/// let report = monitor.first_report().await;
/// assert_eq!(report.overall, HealthStatus::Critical);
/// assert_eq!(report.component("rpcPool").unwrap().health.issue.as_deref(), Some("HIGH_ERROR_RATE"));
///
/// // Thresholds change at run time, from the next check on.
/// let mut settings = MonitorSettings::clone(&monitor.settings());
/// settings.thresholds.insert("HEALTH_MIN_RPC_SUCCESS_RATE", 0.75);
/// monitor.apply_settings(settings)?;
/// monitor.stop().await;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct HealthMonitor {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for HealthMonitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let components: Vec<_> = lock(&self.shared.core.components)
            .iter()
            .map(|c| c.name.clone())
            .collect();
        f.debug_struct("HealthMonitor")
            .field("components", &components)
            .field("running", &self.is_running())
            .finish_non_exhaustive()
    }
}

/// Builds a [`HealthMonitor`]: components, settings, the system probe and alert sinks.
pub struct HealthMonitorBuilder {
    components: Vec<Registered>,
    settings: MonitorSettings,
    probe: Arc<dyn SystemProbe>,
    sinks: Vec<Arc<dyn DynSink>>,
    log_sink: bool,
}

impl std::fmt::Debug for HealthMonitorBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HealthMonitorBuilder")
            .field(
                "components",
                &self.components.iter().map(|c| &c.name).collect::<Vec<_>>(),
            )
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl HealthMonitorBuilder {
    /// Adds a component.
    #[must_use]
    pub fn component(mut self, component: impl HealthCheck) -> Self {
        self.components.push(Registered::new(component));
        self
    }

    /// Uses these settings instead of the defaults.
    #[must_use]
    pub fn settings(mut self, settings: MonitorSettings) -> Self {
        self.settings = settings;
        self
    }

    /// Reads process metrics with `probe` instead of [`ProcProbe`].
    #[must_use]
    pub fn probe(mut self, probe: impl SystemProbe) -> Self {
        self.probe = Arc::new(probe);
        self
    }

    /// Also delivers alerts to `sink`.
    #[must_use]
    pub fn sink(mut self, sink: impl AlertSink) -> Self {
        self.sinks.push(Arc::new(sink));
        self
    }

    /// Does not log alerts through the default [`LogSink`].
    #[must_use]
    pub fn without_log_sink(mut self) -> Self {
        self.log_sink = false;
        self
    }

    /// Checks names and settings, and builds the monitor (not started).
    pub fn build(self) -> Result<HealthMonitor, MonitorError> {
        for (i, c) in self.components.iter().enumerate() {
            if self.components[..i].iter().any(|o| o.name == c.name) {
                return Err(MonitorError::DuplicateComponent(c.name.to_string()));
            }
        }
        let errors = self.settings.validate(
            self.components
                .iter()
                .map(|c| (&*c.name, c.component.rules())),
        );
        if !errors.is_empty() {
            return Err(SettingsRejected { errors }.into());
        }
        let mut sinks = self.sinks;
        if self.log_sink {
            sinks.insert(0, Arc::new(LogSink));
        }
        Ok(HealthMonitor::from_parts(
            self.components,
            self.settings,
            self.probe,
            sinks,
        ))
    }
}

impl Default for HealthMonitor {
    fn default() -> Self {
        Self::new()
    }
}

impl HealthMonitor {
    /// A monitor with default settings, no components, the `/proc` probe and the log sink.
    #[must_use]
    pub fn new() -> Self {
        Self::from_parts(
            Vec::new(),
            MonitorSettings::default(),
            Arc::new(ProcProbe),
            vec![Arc::new(LogSink)],
        )
    }

    /// Assembles a monitor from checked parts.
    fn from_parts(
        components: Vec<Registered>,
        settings: MonitorSettings,
        probe: Arc<dyn SystemProbe>,
        sinks: Vec<Arc<dyn DynSink>>,
    ) -> Self {
        let core = Core {
            components: Mutex::new(Arc::new(components)),
            settings: watch::Sender::new(Applied::new(settings)),
            latest: watch::Sender::new(None),
            state: Mutex::new(State::default()),
            probe,
            sinks: sinks.into(),
            dropped_events: AtomicU64::new(0),
        };
        Self {
            shared: Arc::new(Shared {
                core: Arc::new(core),
                running: Mutex::new(None),
            }),
        }
    }

    /// Starts building a monitor.
    #[must_use]
    pub fn builder() -> HealthMonitorBuilder {
        HealthMonitorBuilder {
            components: Vec::new(),
            settings: MonitorSettings::default(),
            probe: Arc::new(ProcProbe),
            sinks: Vec::new(),
            log_sink: true,
        }
    }

    fn core(&self) -> &Core {
        &self.shared.core
    }

    /// Adds a component; it is checked from the next check on. Refused when the name is taken
    /// or the settings in force do not fit its rules.
    pub fn register(&self, component: impl HealthCheck) -> Result<(), MonitorError> {
        let registered = Registered::new(component);
        let mut components = lock(&self.core().components);
        if components.iter().any(|c| c.name == registered.name) {
            return Err(MonitorError::DuplicateComponent(
                registered.name.into_owned(),
            ));
        }
        let applied = self.core().settings.borrow().clone();
        let errors = applied.settings.validate(
            components
                .iter()
                .chain([&registered])
                .map(|c| (&*c.name, c.component.rules())),
        );
        if !errors.is_empty() {
            return Err(SettingsRejected { errors }.into());
        }
        Arc::make_mut(&mut components).push(registered);
        Ok(())
    }

    /// Starts the monitor task: one check now, then one every `check_interval`. Must be called
    /// within a tokio runtime. Starting a running monitor does nothing; a stopped one starts
    /// again, keeping its history and alerts.
    pub fn start(&self) -> Result<StartOutcome, MonitorError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| MonitorError::NoRuntime)?;
        let mut running = lock(&self.shared.running);
        if running.as_ref().is_some_and(|r| !r.task.is_finished()) {
            debug!("health monitor already running");
            return Ok(StartOutcome::AlreadyRunning);
        }
        let (stop_tx, stop_rx) = oneshot::channel();
        let (events_tx, events_rx) = mpsc::channel(ALERT_QUEUE);
        let core = Arc::clone(&self.shared.core);
        runtime.spawn(deliver(
            events_rx,
            Arc::clone(&core.sinks),
            core.settings.subscribe(),
        ));
        let task = runtime.spawn(run(core, stop_rx, events_tx));
        *running = Some(Running {
            stop: stop_tx,
            task,
        });
        Ok(StartOutcome::Started)
    }

    /// Stops the task, cancelling a check in progress, and waits for it to end. Returns whether
    /// it was running. Alert events already queued are still delivered.
    pub async fn stop(&self) -> bool {
        let Some(running) = lock(&self.shared.running).take() else {
            return false;
        };
        let was_running = !running.task.is_finished();
        // The task may have ended already; then there is nobody to tell.
        let _ = running.stop.send(());
        if let Err(e) = running.task.await
            && e.is_panic()
        {
            error!(error = %e, "health monitor task panicked");
        }
        was_running
    }

    /// Whether the task is running.
    #[must_use]
    pub fn is_running(&self) -> bool {
        lock(&self.shared.running)
            .as_ref()
            .is_some_and(|r| !r.task.is_finished())
    }

    /// Checks `settings` against the registered components without applying them: every
    /// problem, or `Ok`. Config code uses this to refuse a reload before it is committed.
    pub fn validate_settings(&self, settings: &MonitorSettings) -> Result<(), SettingsRejected> {
        let components = lock(&self.core().components);
        let errors = settings.validate(components.iter().map(|c| (&*c.name, c.component.rules())));
        if errors.is_empty() {
            Ok(())
        } else {
            Err(SettingsRejected { errors })
        }
    }

    /// Replaces the settings; they take effect at the next check (a new interval reschedules the
    /// next check to one new interval after the last one began). Refused settings change
    /// nothing.
    pub fn apply_settings(&self, settings: MonitorSettings) -> Result<(), SettingsRejected> {
        self.validate_settings(&settings)?;
        let previous = self.core().settings.borrow().settings.clone();
        if *previous == settings {
            return Ok(());
        }
        info!(
            interval_ms = u64::try_from(settings.check_interval.as_millis()).unwrap_or(u64::MAX),
            timeout_ms = u64::try_from(settings.check_timeout.as_millis()).unwrap_or(u64::MAX),
            thresholds = settings.thresholds.len(),
            "health monitor settings applied"
        );
        self.core().settings.send_replace(Applied::new(settings));
        Ok(())
    }

    /// Keeps the settings in step with a hot-reloaded config file whose config flattens a
    /// [`HealthConfig`] (`section` picks it out, as for [`subscribe`](crate::config::ReloadHandle::subscribe)):
    /// applies it and the file's threshold keys now, then again after every reload that changes
    /// one of the section's keys, from the next check on. A file whose health keys the monitor
    /// would refuse (a threshold key no registered rule has, a degraded threshold as strict as
    /// its critical one) is rejected as a whole before it is applied (a veto), like any other
    /// invalid file: the previous config and settings stay, and the reload history names the
    /// reason. Bad values of the fixed keys never get that far: the loader refuses them with
    /// the file's line.
    ///
    /// The subscription holds the monitor weakly: it does not keep a dropped monitor alive.
    #[cfg(feature = "derive")]
    pub fn follow_config<T: HotConfig>(
        &self,
        reload: &HotReload<T>,
        section: fn(&T) -> &HealthConfig,
    ) -> Result<(), SettingsRejected> {
        let name = HealthConfig::SCHEMA
            .component
            .map_or(HealthConfig::SCHEMA.type_name, |component| component.name);
        let current = reload.current();
        self.apply_settings(section(current.config()).settings(current.values())?)?;
        let vetoing = Arc::downgrade(&self.shared);
        reload.veto_values(name, section, move |health, values| {
            let Some(shared) = vetoing.upgrade() else {
                return Ok(());
            };
            health
                .settings(values)
                .and_then(|settings| HealthMonitor { shared }.validate_settings(&settings))
                .map_err(|rejected| rejected.located(values))
        });
        let monitor = Arc::downgrade(&self.shared);
        reload.subscribe(name, section, move |update| {
            let result = match monitor.upgrade() {
                Some(shared) => update.settings(update.snapshot().values())
                    .and_then(|settings| HealthMonitor { shared }.apply_settings(settings))
                    .map_err(|e| {
                        warn!(version = update.version(), error = %e, "health monitor settings from config rejected");
                        e.into()
                    }),
                None => Ok(()),
            };
            std::future::ready(result)
        });
        Ok(())
    }

    /// The settings in force.
    #[must_use]
    pub fn settings(&self) -> Arc<MonitorSettings> {
        self.core().settings.borrow().settings.clone()
    }

    /// Every threshold rule of the registered components with the value in force: the keys an
    /// operator can set.
    #[must_use]
    pub fn thresholds(&self) -> Vec<ThresholdInfo> {
        let applied = self.core().settings.borrow().clone();
        let components = lock(&self.core().components);
        components
            .iter()
            .flat_map(|c| {
                let ctx = &applied.ctx;
                c.component.rules().iter().filter_map(move |rule| {
                    ctx.threshold(rule).map(|current| ThresholdInfo {
                        component: c.name.clone(),
                        rule,
                        current,
                    })
                })
            })
            .collect()
    }

    /// The threshold keys of the registered components as a commented `.env` section, in the
    /// style of [`config::template`](crate::config::template): what each key's rule does, its
    /// unit, and its compile-time default. These keys are dynamic (they exist once the
    /// components do), so a config template made from a schema alone cannot list them; an
    /// application appends this to its own.
    #[must_use]
    pub fn threshold_template(&self) -> String {
        let mut out = String::from("# --- healthMonitor thresholds ---\n");
        for info in self.thresholds() {
            let rule = info.rule;
            let (Some(key), Some(default)) = (rule.key(), rule.default_threshold()) else {
                continue;
            };
            let (status, side) = match rule.kind() {
                RuleKind::DegradedAbove => ("degraded", "above"),
                RuleKind::DegradedBelow => ("degraded", "below"),
                RuleKind::CriticalAbove => ("critical", "above"),
                RuleKind::CriticalBelow => ("critical", "below"),
                RuleKind::DegradedWhen | RuleKind::CriticalWhen => continue,
            };
            let unit = rule
                .unit()
                .map(|unit| format!(" ({unit})"))
                .unwrap_or_default();
            out.push_str(&format!(
                "# {}: {status} {} while {}{unit} is {side} this.\n# optional; {}; default {default}\n# {key}={default}\n",
                info.component,
                rule.issue(),
                rule.metric(),
                settings::threshold_expectation(rule.unit()),
            ));
        }
        out
    }

    /// The latest report, `None` before the first check.
    #[must_use]
    pub fn latest(&self) -> Option<Arc<HealthReport>> {
        self.core().latest.borrow().clone()
    }

    /// A receiver of the latest report, for readers that wait for new ones.
    #[must_use]
    pub fn subscribe(&self) -> watch::Receiver<Option<Arc<HealthReport>>> {
        self.core().latest.subscribe()
    }

    /// Waits until there is a report and returns the latest one.
    pub async fn first_report(&self) -> Arc<HealthReport> {
        let mut rx = self.subscribe();
        loop {
            if let Some(report) = rx.borrow_and_update().clone() {
                return report;
            }
            // The sender lives in `self`, so this only fails if we are being torn down; a
            // pending future is the honest answer then.
            if rx.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }

    /// Time since the latest report was published (monotonic clock), `None` before the first:
    /// a liveness probe compares it with the interval.
    #[must_use]
    pub fn since_last_report(&self) -> Option<Duration> {
        lock(&self.core().state).last_at.map(|at| at.elapsed())
    }

    /// The reports kept, oldest first.
    #[must_use]
    pub fn history(&self) -> Vec<Arc<HealthReport>> {
        lock(&self.core().state).history.to_vec()
    }

    /// The current report, the trend, active alerts and totals; `None` before the first check.
    #[must_use]
    pub fn summary(&self) -> Option<HealthSummary> {
        let window = self.core().settings.borrow().settings.trend_window;
        let state = lock(&self.core().state);
        let current = state.history.last()?.clone();
        Some(HealthSummary {
            current,
            trend: state.history.trend(window),
            active_alerts: state.alerts.active_unacknowledged(),
            total_reports: state.total,
            monitoring_duration: match (state.first_at, state.last_at) {
                (Some(first), Some(last)) => last.saturating_duration_since(first),
                _ => Duration::ZERO,
            },
        })
    }

    /// The alerts kept (firing and resolved), oldest first.
    #[must_use]
    pub fn alerts(&self) -> Vec<Alert> {
        lock(&self.core().state).alerts.alerts()
    }

    /// Silences firing alert `id` until it resolves.
    pub fn acknowledge(&self, id: u64) -> Result<Alert, AckError> {
        let alert = lock(&self.core().state)
            .alerts
            .acknowledge(id, SystemTime::now())?;
        info!(
            alert_id = id,
            alert = alert.kind.code(),
            "health alert acknowledged"
        );
        Ok(alert)
    }

    /// Alert events dropped because the sinks fell more than 256 events behind.
    #[must_use]
    pub fn dropped_alert_events(&self) -> u64 {
        self.core().dropped_events.load(Ordering::Relaxed)
    }
}

/// The monitor task.
async fn run(core: Arc<Core>, mut stop: oneshot::Receiver<()>, events: mpsc::Sender<AlertEvent>) {
    let mut settings_rx = core.settings.subscribe();
    let mut period = settings_rx.borrow_and_update().settings.check_interval;
    info!(
        interval_ms = u64::try_from(period.as_millis()).unwrap_or(u64::MAX),
        components = lock(&core.components).len(),
        "health monitoring started"
    );

    let mut last_start = Instant::now();
    let initial = tokio::select! {
        biased;
        _ = &mut stop => None,
        report = core.tick(&events) => Some(report),
    };
    let Some(initial) = initial else {
        info!("health monitoring stopped");
        return;
    };
    info!(overall = %initial.overall, sequence = initial.sequence, "initial system health");

    let mut ticker = schedule(last_start + period, period);
    loop {
        tokio::select! {
            biased;
            _ = &mut stop => break,
            changed = settings_rx.changed() => {
                if changed.is_err() {
                    break;
                }
                let new = settings_rx.borrow_and_update().settings.check_interval;
                if new != period {
                    debug!(
                        from_ms = u64::try_from(period.as_millis()).unwrap_or(u64::MAX),
                        to_ms = u64::try_from(new.as_millis()).unwrap_or(u64::MAX),
                        "health check interval changed"
                    );
                    period = new;
                    ticker = schedule(last_start + period, period);
                }
            }
            _ = ticker.tick() => {
                last_start = Instant::now();
                tokio::select! {
                    biased;
                    _ = &mut stop => break,
                    _ = core.tick(&events) => {}
                }
            }
        }
    }
    info!("health monitoring stopped");
}

/// An interval whose first tick is at `start` (immediately if that has passed) and that never
/// bursts to catch up after a stall.
fn schedule(start: Instant, period: Duration) -> tokio::time::Interval {
    // A zero period is refused by validation; keep `interval_at` from panicking regardless.
    let period = period.max(Duration::from_millis(1));
    let mut interval = tokio::time::interval_at(start, period);
    interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
    interval
}

impl Core {
    /// One check of everything, recorded and published.
    async fn tick(&self, events: &mpsc::Sender<AlertEvent>) -> Arc<HealthReport> {
        let applied = self.settings.borrow().clone();
        let components = Arc::clone(&lock(&self.components));
        let report = Arc::new(self.check(&applied, &components).await);

        let settings = &applied.settings;
        let (previous, fired) = {
            let mut state = lock(&self.state);
            let previous = state.history.last().cloned();
            state
                .history
                .push(Arc::clone(&report), settings.history_len);
            state.total += 1;
            let now = Instant::now();
            state.first_at.get_or_insert(now);
            state.last_at = Some(now);
            let fired = state
                .alerts
                .observe(&report, &settings.alerts, SystemTime::now());
            (previous, fired)
        };
        self.latest.send_replace(Some(Arc::clone(&report)));
        log_changes(previous.as_deref(), &report);

        for (transition, alert) in fired {
            let event = AlertEvent {
                transition,
                alert,
                report: Arc::clone(&report),
            };
            if let Err(mpsc::error::TrySendError::Full(event)) = events.try_send(event) {
                self.dropped_events.fetch_add(1, Ordering::Relaxed);
                warn!(
                    alert_id = event.alert.id,
                    alert = event.alert.kind.code(),
                    "alert sinks are behind; alert event dropped"
                );
            }
        }
        report
    }

    /// Runs every check under the check timeout, and the probe on the blocking pool under the
    /// same deadline.
    ///
    /// Each check is first polled here, on the monitor's task: a check whose answer is ready
    /// at once (every stats component: a read and a few comparisons) costs no task, no
    /// wake-up and no thread hop, which is most of what a task per check cost. A check that
    /// has to wait moves, as it is, to a task of its own and is given up on at the deadline. A
    /// panic is caught either way and makes only its own entry critical.
    async fn check(&self, applied: &Applied, components: &[Registered]) -> HealthReport {
        let settings = &applied.settings;
        let timeout = settings.check_timeout;
        let timestamp = SystemTime::now();
        let started = Instant::now();
        let deadline = started + timeout;
        // Finish times as wall-clock times without a clock read each: the monotonic offset
        // from the start of the cycle, added to its wall-clock start.
        let wall = |at: Instant| timestamp + (at - started);

        let probe = Arc::clone(&self.probe);
        let sample = tokio::task::spawn_blocking(move || probe.sample());

        let mut component_reports = Vec::with_capacity(components.len());
        let mut waiting = JoinSet::new();
        let mut index_of = HashMap::new();
        let mut clock = started;
        for (index, registered) in components.iter().enumerate() {
            let began = clock;
            let mut check = Arc::clone(&registered.component).check_owned(applied.ctx.clone());
            // The first poll only asks whether the answer is ready. A check that is not has
            // registered this no-op waker at most; its task polls it again at once, with its own.
            let polled = panic::catch_unwind(AssertUnwindSafe(|| {
                check.as_mut().poll(&mut Context::from_waker(Waker::noop()))
            }));
            clock = Instant::now();
            let took = clock - began;
            let health = match polled {
                // Ready, but it held the monitor's task past the timeout: a check that
                // blocks its thread delays every report, so it is reported like one that hangs.
                Ok(Poll::Ready(_)) if took > timeout => {
                    warn!(component = %registered.name, took_ms = u64::try_from(took.as_millis()).unwrap_or(u64::MAX), "health check blocked the monitor past its timeout");
                    timed_out(timeout)
                }
                Ok(Poll::Ready(result)) => result.unwrap_or_else(|e| failed(&registered.name, &e)),
                Ok(Poll::Pending) => {
                    let handle = waiting.spawn(async move {
                        let result = check.await;
                        (index, result, began.elapsed())
                    });
                    index_of.insert(handle.id(), index);
                    // What the report says unless the check answers before the deadline.
                    timed_out(timeout)
                }
                Err(payload) => panicked(&registered.name, &*payload),
            };
            component_reports.push(ComponentReport {
                name: registered.name.clone(),
                health,
                last_check: wall(clock),
                duration: took,
                affects_readiness: registered.affects_readiness,
            });
        }

        if !waiting.is_empty() {
            let expiry = tokio::time::sleep_until(deadline);
            tokio::pin!(expiry);
            loop {
                let (index, health, took) = tokio::select! {
                    biased;
                    joined = waiting.join_next_with_id() => match joined {
                        Some(Ok((id, (index, result, took)))) => {
                            index_of.remove(&id);
                            (index, result.unwrap_or_else(|e| failed(&components[index].name, &e)), took)
                        }
                        Some(Err(e)) => {
                            let Some(index) = index_of.remove(&e.id()) else {
                                continue;
                            };
                            let health = match e.try_into_panic() {
                                Ok(payload) => panicked(&components[index].name, &*payload),
                                Err(e) => failed(&components[index].name, &e.into()),
                            };
                            (index, health, started.elapsed())
                        }
                        None => break,
                    },
                    () = &mut expiry => break,
                };
                let report = &mut component_reports[index];
                report.health = health;
                report.duration = took;
                report.last_check = SystemTime::now();
            }
            // Checks still running are given up on (and cancelled at their next await); their
            // entries keep the timed-out health they were given.
            waiting.abort_all();
            for &index in index_of.values() {
                let report = &mut component_reports[index];
                warn!(component = %report.name, timeout_ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX), "health check timed out");
                report.duration = timeout;
                report.last_check = SystemTime::now();
            }
        }

        let sample = match tokio::time::timeout_at(deadline, sample).await {
            Ok(Ok(sample)) => sample,
            Ok(Err(e)) => {
                warn!(error = %e, "system probe failed");
                SystemSample::default()
            }
            Err(_) => {
                warn!("system probe timed out");
                SystemSample::default()
            }
        };
        let system = system_metrics(&sample, settings.max_memory_mb);
        let overall = component_reports
            .iter()
            .map(|c| c.health.status)
            .fold(system.status, HealthStatus::worst);

        let sequence = lock(&self.state).total + 1;
        HealthReport {
            sequence,
            timestamp,
            overall,
            components: component_reports,
            system,
        }
    }
}

fn failed(component: &str, error: &BoxError) -> ComponentHealth {
    let text = crate::error_text::chain(&**error);
    warn!(component, error = %text, "health check failed");
    ComponentHealth::failed(CHECK_FAILED, format!("check failed: {text}"), text)
}

fn panicked(component: &str, payload: &(dyn Any + Send)) -> ComponentHealth {
    let message = crate::error_text::panic_message(payload);
    error!(component, panic = %message, "health check panicked");
    ComponentHealth::failed(
        CHECK_PANICKED,
        format!("check panicked: {message}"),
        message,
    )
}

fn timed_out(timeout: Duration) -> ComponentHealth {
    let details = format!("check did not finish within {} ms", timeout.as_millis());
    ComponentHealth::failed(CHECK_TIMEOUT, details.clone(), details)
}

fn system_metrics(sample: &SystemSample, limit_mb: u64) -> SystemMetrics {
    let rss_mb = sample.rss_bytes.map(|b| (b + MIB / 2) / MIB);
    let over = sample
        .rss_bytes
        .is_some_and(|b| b > limit_mb.saturating_mul(MIB));
    SystemMetrics {
        status: if over {
            HealthStatus::Degraded
        } else {
            HealthStatus::Healthy
        },
        issue: over.then_some(Cow::Borrowed(HIGH_MEMORY)),
        details: over.then(|| {
            format!(
                "resident memory {} MB exceeds {limit_mb} MB",
                rss_mb.unwrap_or_default()
            )
        }),
        memory: MemoryMetrics {
            rss_mb,
            rss_bytes: sample.rss_bytes,
            limit_mb,
        },
        uptime: sample.uptime.map(|u| u.as_secs_f64()),
        pid: std::process::id(),
        threads: sample.threads,
        open_fds: sample.open_fds,
    }
}

/// Logs what changed since the previous report: each component whose status or issue changed,
/// at the level its new status deserves, and the overall status. Steady states log at debug
/// only, so a long incident is not an error line every interval (alerts cover that).
fn log_changes(previous: Option<&HealthReport>, report: &HealthReport) {
    for (index, c) in report.components.iter().enumerate() {
        // Components keep their order from one report to the next: look at the same place
        // first, and search only when one was added or removed (a search for each made every
        // cycle quadratic in the number of components: thorp-bench, figure 5).
        let before = previous
            .and_then(|p| {
                p.components
                    .get(index)
                    .filter(|same| same.name == c.name)
                    .or_else(|| p.component(&c.name))
            })
            .map(|p| (p.health.status, &p.health.issue));
        let now = (c.health.status, &c.health.issue);
        if before == Some(now) || (before.is_none() && c.health.status == HealthStatus::Healthy) {
            continue;
        }
        let issue = c.health.issue.as_deref().unwrap_or("");
        let details = c.health.details.as_deref().unwrap_or("");
        match c.health.status {
            HealthStatus::Critical => {
                error!(component = %c.name, issue, details, "component critical")
            }
            HealthStatus::Degraded => {
                warn!(component = %c.name, issue, details, "component degraded")
            }
            HealthStatus::Healthy => info!(component = %c.name, "component recovered"),
        }
    }
    let before = previous.map(|p| p.overall);
    if before != Some(report.overall)
        && (before.is_some() || report.overall != HealthStatus::Healthy)
    {
        let from = before.map_or("none", HealthStatus::as_str);
        match report.overall {
            HealthStatus::Critical => {
                error!(from, to = %report.overall, sequence = report.sequence, "system health changed")
            }
            HealthStatus::Degraded => {
                warn!(from, to = %report.overall, sequence = report.sequence, "system health changed")
            }
            HealthStatus::Healthy => {
                info!(from, to = %report.overall, sequence = report.sequence, "system health changed")
            }
        }
    }
    debug!(sequence = report.sequence, overall = %report.overall, components = report.components.len(), "health check complete");
}

/// The sink task: each event goes to every sink concurrently, each under the sink timeout.
/// Ends when the monitor task drops its sender, after the queue is drained.
async fn deliver(
    mut events: mpsc::Receiver<AlertEvent>,
    sinks: Arc<[Arc<dyn DynSink>]>,
    settings: watch::Receiver<Arc<Applied>>,
) {
    while let Some(event) = events.recv().await {
        let timeout = settings.borrow().settings.alerts.sink_timeout;
        let event = Arc::new(event);
        let mut deliveries = JoinSet::new();
        for sink in sinks.iter() {
            let sink = Arc::clone(sink);
            let event = Arc::clone(&event);
            deliveries.spawn(async move {
                let result = tokio::time::timeout(timeout, sink.deliver_boxed(&event)).await;
                (sink, result)
            });
        }
        while let Some(done) = deliveries.join_next().await {
            let alert = &event.alert;
            let transition = match event.transition {
                AlertTransition::Fired => "fired",
                AlertTransition::Resolved => "resolved",
            };
            match done {
                Ok((_, Ok(Ok(())))) => {}
                Ok((sink, Ok(Err(e)))) => {
                    warn!(sink = sink.sink_name(), alert_id = alert.id, transition, error = %e, "alert sink failed");
                }
                Ok((sink, Err(_))) => warn!(
                    sink = sink.sink_name(),
                    alert_id = alert.id,
                    transition,
                    timeout_ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
                    "alert sink timed out"
                ),
                Err(e) => warn!(alert_id = alert.id, transition, error = %e, "alert sink panicked"),
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test, with its message
mod tests {
    use super::*;

    fn sample(rss_bytes: u64) -> SystemSample {
        SystemSample {
            rss_bytes: Some(rss_bytes),
            ..SystemSample::default()
        }
    }

    #[test]
    fn memory_rounds_like_the_seed_and_degrades_only_over_the_limit() {
        let at_limit = system_metrics(&sample(1000 * MIB), 1000);
        assert_eq!(
            (at_limit.status, at_limit.memory.rss_mb),
            (HealthStatus::Healthy, Some(1000))
        );
        let over = system_metrics(&sample(1000 * MIB + 1), 1000);
        assert_eq!(over.status, HealthStatus::Degraded);
        assert_eq!(over.issue.as_deref(), Some(HIGH_MEMORY));
        assert_eq!(
            system_metrics(&sample(MIB / 2), 1000).memory.rss_mb,
            Some(1),
            "half rounds up"
        );
        let unknown = system_metrics(&SystemSample::default(), 1);
        assert_eq!(
            (unknown.status, unknown.memory.rss_mb),
            (HealthStatus::Healthy, None)
        );
    }

    #[test]
    fn errors_keep_their_sources() {
        let inner = std::io::Error::other("disk full");
        let outer: BoxError = Box::new(std::io::Error::other(Wrapped(inner)));
        let health = failed("c", &outer);
        assert_eq!(
            health.error.as_deref(),
            Some("wrote half a record: disk full")
        );
        assert_eq!(health.issue.as_deref(), Some(CHECK_FAILED));
    }

    #[derive(Debug)]
    struct Wrapped(std::io::Error);

    impl std::fmt::Display for Wrapped {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("wrote half a record")
        }
    }

    impl std::error::Error for Wrapped {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }
}
