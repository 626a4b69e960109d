//! The monitor end to end on paused tokio time: scheduling, isolation of bad checks, history,
//! stop/restart and run-time settings.

// A failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use support::health::{FedProbe, Settable, next_report};
use thorp_ops::health::stock::{BackpressureStats, RpcPoolStats};
use thorp_ops::health::{
    BasicCheck, BasicHealth, BoxError, CHECK_FAILED, CHECK_PANICKED, CHECK_TIMEOUT, CheckContext,
    ComponentHealth, HealthCheck, HealthMonitor, HealthMonitorBuilder, HealthStatus, MonitorError,
    MonitorSettings, StartOutcome, StatsCheck, stats_fn,
};
use tokio::time::Instant;

fn healthy_rpc() -> RpcPoolStats {
    RpcPoolStats {
        success_rate: 0.95,
        avg_latency_ms: 45.0,
        p95_latency_ms: 80.0,
        active_connections: 25,
    }
}

fn healthy_backpressure() -> BackpressureStats {
    BackpressureStats {
        utilization: 45.0,
        rejection_rate: 0.01,
        current_load: 450,
        status: "HEALTHY".into(),
    }
}

fn every(interval: Duration) -> MonitorSettings {
    MonitorSettings {
        check_interval: interval,
        ..MonitorSettings::default()
    }
}

/// The seed's Test 3: healthy, then an RPC success rate of 0.80 is critical HIGH_ERROR_RATE,
/// then backpressure at 96% is critical SYSTEM_OVERLOAD. One check at start, then one a second.
#[tokio::test(start_paused = true)]
async fn seed_test_3_alerting() {
    let rpc = Settable::new(healthy_rpc());
    let backpressure = Settable::new(healthy_backpressure());
    let monitor = HealthMonitor::builder()
        .component(StatsCheck::new(rpc.clone()))
        .component(StatsCheck::new(backpressure.clone()))
        .settings(every(Duration::from_secs(1)))
        .probe(FedProbe::with_rss_mb(50))
        .build()
        .unwrap();
    assert!(monitor.summary().is_none(), "no data yet is its own answer");
    let mut rx = monitor.subscribe();
    let t0 = Instant::now();
    assert_eq!(monitor.start().unwrap(), StartOutcome::Started);

    let first = next_report(&mut rx).await;
    assert_eq!(
        t0.elapsed(),
        Duration::ZERO,
        "the first check runs at start"
    );
    assert_eq!(first.overall, HealthStatus::Healthy);
    assert_eq!(first.sequence, 1);

    rpc.set(RpcPoolStats {
        success_rate: 0.80,
        avg_latency_ms: 150.0,
        p95_latency_ms: 200.0,
        active_connections: 25,
    });
    let second = next_report(&mut rx).await;
    assert_eq!(t0.elapsed(), Duration::from_secs(1));
    assert_eq!(second.overall, HealthStatus::Critical);
    let rpc_health = &second.component("rpcPool").unwrap().health;
    assert_eq!(rpc_health.status, HealthStatus::Critical);
    assert_eq!(rpc_health.issue.as_deref(), Some("HIGH_ERROR_RATE"));
    assert_eq!(
        rpc_health.details.as_deref(),
        Some("Success rate 80% below 95%")
    );
    assert_eq!(
        second
            .component("backpressureManager")
            .unwrap()
            .health
            .status,
        HealthStatus::Healthy
    );

    backpressure.set(BackpressureStats {
        utilization: 96.0,
        rejection_rate: 0.3,
        current_load: 9600,
        status: "CRITICAL".into(),
    });
    let third = next_report(&mut rx).await;
    assert_eq!(t0.elapsed(), Duration::from_secs(2));
    let bp = &third.component("backpressureManager").unwrap().health;
    assert_eq!(
        (bp.status, bp.issue.as_deref()),
        (HealthStatus::Critical, Some("SYSTEM_OVERLOAD"))
    );

    let summary = monitor.summary().unwrap();
    assert_eq!(summary.current.sequence, 3);
    assert_eq!(summary.total_reports, 3);
    assert_eq!(
        (summary.trend.healthy_pct(), summary.trend.critical_pct()),
        (33, 67)
    );
    assert_eq!(summary.monitoring_duration, Duration::from_secs(2));
    assert!(monitor.stop().await);
}

struct Hangs;

impl HealthCheck for Hangs {
    fn name(&self) -> Cow<'static, str> {
        "hangs".into()
    }
    async fn check(&self, _ctx: &CheckContext) -> Result<ComponentHealth, BoxError> {
        std::future::pending().await
    }
}

struct Panics;

impl HealthCheck for Panics {
    fn name(&self) -> Cow<'static, str> {
        "panics".into()
    }
    async fn check(&self, _ctx: &CheckContext) -> Result<ComponentHealth, BoxError> {
        panic!("stats lock poisoned")
    }
}

struct Fails;

impl BasicHealth for Fails {
    async fn is_healthy(&self) -> Result<bool, BoxError> {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused");
        Err(Box::new(std::io::Error::other(Wrapped(io))))
    }
}

#[derive(Debug)]
struct Wrapped(std::io::Error);
impl std::fmt::Display for Wrapped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("admin endpoint unreachable")
    }
}
impl std::error::Error for Wrapped {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

/// `components` checked every 10 s with a 2 s check timeout, on a fed probe.
fn checked_every_10s_within_2s(components: HealthMonitorBuilder) -> HealthMonitor {
    components
        .settings(MonitorSettings {
            check_timeout: Duration::from_secs(2),
            ..every(Duration::from_secs(10))
        })
        .probe(FedProbe::with_rss_mb(50))
        .build()
        .unwrap()
}

/// Answers after waiting: its first poll is pending, so it finishes on a task of its own.
struct WaitsThenAnswers;

impl HealthCheck for WaitsThenAnswers {
    fn name(&self) -> Cow<'static, str> {
        "waits".into()
    }
    async fn check(&self, _ctx: &CheckContext) -> Result<ComponentHealth, BoxError> {
        tokio::time::sleep(Duration::from_millis(500)).await;
        Ok(ComponentHealth::healthy())
    }
}

/// Panics after its first await, on the task it was moved to.
struct PanicsLater;

impl HealthCheck for PanicsLater {
    fn name(&self) -> Cow<'static, str> {
        "panicsLater".into()
    }
    async fn check(&self, _ctx: &CheckContext) -> Result<ComponentHealth, BoxError> {
        tokio::task::yield_now().await;
        panic!("panicked after waiting")
    }
}

/// Checks that wait are finished on their own tasks (one answering, one panicking), and a
/// check that is ready at once is not held up by them.
#[tokio::test(start_paused = true)]
async fn checks_that_wait_finish_on_their_own_tasks() {
    support::expect_panics(&["panicked after waiting"]);
    let monitor = checked_every_10s_within_2s(
        HealthMonitor::builder()
            .component(WaitsThenAnswers)
            .component(PanicsLater)
            .component(stats_fn(healthy_rpc)),
    );
    let mut rx = monitor.subscribe();
    let t0 = Instant::now();
    monitor.start().unwrap();

    let report = next_report(&mut rx).await;
    assert_eq!(
        t0.elapsed(),
        Duration::from_millis(500),
        "reported when the last check answered, not at the timeout"
    );
    let waited = report.component("waits").unwrap();
    assert_eq!(waited.health.status, HealthStatus::Healthy);
    assert_eq!(waited.duration, Duration::from_millis(500));
    let panicked = &report.component("panicsLater").unwrap().health;
    assert_eq!(
        (panicked.status, panicked.issue.as_deref()),
        (HealthStatus::Critical, Some(CHECK_PANICKED))
    );
    assert_eq!(panicked.error.as_deref(), Some("panicked after waiting"));
    let rpc = report.component("rpcPool").unwrap();
    assert_eq!(
        (rpc.health.status, rpc.duration),
        (HealthStatus::Healthy, Duration::ZERO)
    );
    monitor.stop().await;
}

/// Blocks its thread for longer than the check timeout, then answers healthy.
struct Blocks;

impl HealthCheck for Blocks {
    fn name(&self) -> Cow<'static, str> {
        "blocks".into()
    }
    async fn check(&self, _ctx: &CheckContext) -> Result<ComponentHealth, BoxError> {
        std::thread::sleep(Duration::from_millis(600));
        Ok(ComponentHealth::healthy())
    }
}

/// A check that blocks its thread past the timeout (it runs on the monitor's task until its
/// first wait, so it delays the report) is reported as timed out, not as healthy. Real time:
/// a blocked thread does not move paused time. The timeout is long enough that the other,
/// instant check cannot pass it even on a starved machine.
#[tokio::test]
async fn a_check_that_blocks_past_the_timeout_is_reported_as_timed_out() {
    let monitor = HealthMonitor::builder()
        .component(Blocks)
        .component(stats_fn(healthy_rpc))
        .settings(MonitorSettings {
            check_timeout: Duration::from_millis(300),
            ..every(Duration::from_secs(3600))
        })
        .probe(FedProbe::with_rss_mb(50))
        .build()
        .unwrap();
    let mut rx = monitor.subscribe();
    monitor.start().unwrap();
    let report = next_report(&mut rx).await;
    let blocked = report.component("blocks").unwrap();
    assert_eq!(
        (blocked.health.status, blocked.health.issue.as_deref()),
        (HealthStatus::Critical, Some(CHECK_TIMEOUT))
    );
    assert!(
        blocked.duration >= Duration::from_millis(600),
        "{blocked:?}"
    );
    assert_eq!(
        report.component("rpcPool").unwrap().health.status,
        HealthStatus::Healthy
    );
    monitor.stop().await;
}

/// A hung, a panicking and a failing check each make only their own entry critical; the
/// report goes out when the timeout expires, and the monitor keeps going.
#[tokio::test(start_paused = true)]
async fn hung_panicking_and_failing_checks_are_isolated() {
    let monitor = checked_every_10s_within_2s(
        HealthMonitor::builder()
            .component(Hangs)
            .component(Panics)
            .component(BasicCheck::new("fails", Fails))
            .component(stats_fn(healthy_rpc)),
    );
    let mut rx = monitor.subscribe();
    let t0 = Instant::now();
    monitor.start().unwrap();

    for round in 0..2 {
        let report = next_report(&mut rx).await;
        assert_eq!(
            t0.elapsed(),
            Duration::from_secs(2 + 10 * round),
            "reported when the timeout expired"
        );
        assert_eq!(report.overall, HealthStatus::Critical);

        let hung = report.component("hangs").unwrap();
        assert_eq!(hung.health.issue.as_deref(), Some(CHECK_TIMEOUT));
        assert_eq!(
            hung.health.details.as_deref(),
            Some("check did not finish within 2000 ms")
        );
        assert_eq!(hung.duration, Duration::from_secs(2));

        let panicked = &report.component("panics").unwrap().health;
        assert_eq!(
            (panicked.status, panicked.issue.as_deref()),
            (HealthStatus::Critical, Some(CHECK_PANICKED))
        );
        assert_eq!(panicked.error.as_deref(), Some("stats lock poisoned"));

        let failed = &report.component("fails").unwrap().health;
        assert_eq!(
            (failed.status, failed.issue.as_deref()),
            (HealthStatus::Critical, Some(CHECK_FAILED))
        );
        assert_eq!(
            failed.error.as_deref(),
            Some("admin endpoint unreachable: connection refused"),
            "the whole source chain"
        );

        let rpc = report.component("rpcPool").unwrap();
        assert_eq!(
            rpc.health.status,
            HealthStatus::Healthy,
            "good components are unaffected"
        );
        assert_eq!(rpc.duration, Duration::ZERO, "and are timed on their own");
    }
    monitor.stop().await;
}

/// After a check that stalls for 5.5 intervals, one check runs at once and then the cadence
/// resumes: no burst of catch-up checks for the five ticks that were missed.
#[tokio::test(start_paused = true)]
async fn a_stalled_check_never_causes_a_burst() {
    /// Records when each check began; the second one stalls.
    struct StallsOnce(Instant, std::sync::Mutex<Vec<u128>>);
    impl HealthCheck for StallsOnce {
        fn name(&self) -> Cow<'static, str> {
            "stallsOnce".into()
        }
        async fn check(&self, _ctx: &CheckContext) -> Result<ComponentHealth, BoxError> {
            let calls = {
                let mut calls = self.1.lock().unwrap();
                calls.push(self.0.elapsed().as_millis());
                calls.len()
            };
            if calls == 2 {
                tokio::time::sleep(Duration::from_millis(5500)).await;
            }
            Ok(ComponentHealth::healthy())
        }
    }
    let stalls = Arc::new(StallsOnce(Instant::now(), std::sync::Mutex::default()));
    let monitor = HealthMonitor::builder()
        .component(Shared(Arc::clone(&stalls)))
        .settings(MonitorSettings {
            check_timeout: Duration::from_secs(10),
            ..every(Duration::from_secs(1))
        })
        .probe(FedProbe::with_rss_mb(50))
        .build()
        .unwrap();
    monitor.start().unwrap();
    tokio::time::sleep(Duration::from_millis(9600)).await;
    monitor.stop().await;
    assert_eq!(*stalls.1.lock().unwrap(), [0, 1000, 6500, 7500, 8500, 9500]);
}

/// Registers a component the test keeps a handle to.
struct Shared<C>(Arc<C>);

impl<C: HealthCheck> HealthCheck for Shared<C> {
    fn name(&self) -> Cow<'static, str> {
        self.0.name()
    }
    async fn check(&self, ctx: &CheckContext) -> Result<ComponentHealth, BoxError> {
        self.0.check(ctx).await
    }
}

/// History keeps the last 100 of 1,000 reports; totals count them all.
#[tokio::test(start_paused = true)]
async fn history_is_bounded_after_a_thousand_checks() {
    let monitor = HealthMonitor::builder()
        .component(stats_fn(healthy_rpc))
        .settings(every(Duration::from_secs(1)))
        .probe(FedProbe::with_rss_mb(50))
        .build()
        .unwrap();
    let mut rx = monitor.subscribe();
    monitor.start().unwrap();
    let mut last = 0;
    for _ in 0..1000 {
        last = next_report(&mut rx).await.sequence;
    }
    monitor.stop().await;
    assert_eq!(last, 1000);
    let history = monitor.history();
    assert_eq!(history.len(), 100);
    let sequences: Vec<_> = history.iter().map(|r| r.sequence).collect();
    assert_eq!(
        sequences,
        (901..=1000).collect::<Vec<_>>(),
        "oldest first, the newest kept"
    );
    let summary = monitor.summary().unwrap();
    assert_eq!(summary.total_reports, 1000);
    assert_eq!(summary.trend.reports, 10);
    assert_eq!(summary.monitoring_duration, Duration::from_secs(999));
}

/// Stop cancels promptly (even mid-check), start twice is a no-op, restart continues.
#[tokio::test(start_paused = true)]
async fn stop_start_and_restart() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&calls);
    let monitor = HealthMonitor::builder()
        .component(stats_fn(move || {
            counted.fetch_add(1, Ordering::SeqCst);
            healthy_rpc()
        }))
        .settings(every(Duration::from_secs(1)))
        .probe(FedProbe::with_rss_mb(50))
        .build()
        .unwrap();
    let mut rx = monitor.subscribe();
    assert!(
        !monitor.stop().await,
        "stopping a monitor that never started"
    );
    assert_eq!(monitor.start().unwrap(), StartOutcome::Started);
    assert_eq!(monitor.start().unwrap(), StartOutcome::AlreadyRunning);
    assert_eq!(next_report(&mut rx).await.sequence, 1);
    assert_eq!(next_report(&mut rx).await.sequence, 2);

    let before = Instant::now();
    assert!(monitor.stop().await);
    assert_eq!(
        before.elapsed(),
        Duration::ZERO,
        "stop does not wait for the next tick"
    );
    assert!(!monitor.is_running());
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert_eq!(calls.load(Ordering::SeqCst), 2, "no checks while stopped");
    assert!(!rx.has_changed().unwrap());

    assert_eq!(monitor.start().unwrap(), StartOutcome::Started);
    let resumed = next_report(&mut rx).await;
    assert_eq!(resumed.sequence, 3, "history and numbering continue");
    assert_eq!(
        before.elapsed(),
        Duration::from_secs(10),
        "a restart checks at once"
    );
    assert_eq!(monitor.history().len(), 3);
    monitor.stop().await;
}

#[tokio::test(start_paused = true)]
async fn stop_cancels_a_check_in_progress() {
    let monitor = HealthMonitor::builder()
        .component(Hangs)
        .settings(MonitorSettings {
            check_timeout: Duration::from_secs(30),
            ..every(Duration::from_secs(60))
        })
        .probe(FedProbe::with_rss_mb(50))
        .build()
        .unwrap();
    monitor.start().unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = Instant::now();
    assert!(monitor.stop().await);
    assert_eq!(before.elapsed(), Duration::ZERO);
    assert!(
        monitor.latest().is_none(),
        "the cancelled check published nothing"
    );
}

/// A threshold override applies at the next check, without a restart; refused settings
/// change nothing.
#[tokio::test(start_paused = true)]
async fn threshold_override_applies_at_the_next_check() {
    let monitor = HealthMonitor::builder()
        .component(stats_fn(healthy_rpc))
        .settings(every(Duration::from_secs(30)))
        .probe(FedProbe::with_rss_mb(50))
        .build()
        .unwrap();
    let mut rx = monitor.subscribe();
    monitor.start().unwrap();
    assert_eq!(next_report(&mut rx).await.overall, HealthStatus::Healthy);

    let typo = MonitorSettings {
        thresholds: [("HEALTH_MAX_RPC_LATENCY", 50.0)].into_iter().collect(),
        ..MonitorSettings::default()
    };
    let refused = monitor.apply_settings(typo).unwrap_err();
    assert_eq!(
        refused.to_string(),
        "health monitor settings rejected: HEALTH_MAX_RPC_LATENCY: not a health monitor setting nor any health \
         rule's threshold key; did you mean `HEALTH_MAX_RPC_LATENCY_MS`?"
    );

    let tuned = MonitorSettings {
        check_interval: Duration::from_secs(30),
        thresholds: [("HEALTH_MAX_RPC_LATENCY_MS", 50.0)].into_iter().collect(),
        ..MonitorSettings::default()
    };
    monitor.apply_settings(tuned).unwrap();
    let next = next_report(&mut rx).await;
    let rpc = &next.component("rpcPool").unwrap().health;
    assert_eq!(
        (rpc.status, rpc.issue.as_deref()),
        (HealthStatus::Degraded, Some("HIGH_LATENCY"))
    );
    assert_eq!(
        rpc.details.as_deref(),
        Some("P95 latency 80ms exceeds threshold 50ms")
    );
    assert_eq!(rpc.violations[0].threshold, Some(50.0));
    assert_eq!(rpc.violations[0].key, Some("HEALTH_MAX_RPC_LATENCY_MS"));

    let current: Vec<_> = monitor
        .thresholds()
        .iter()
        .map(|t| (t.rule.key().unwrap(), t.current))
        .collect();
    assert_eq!(
        current,
        [
            ("HEALTH_MIN_RPC_SUCCESS_RATE", 0.95),
            ("HEALTH_MAX_RPC_LATENCY_MS", 50.0)
        ]
    );

    let inverted = MonitorSettings {
        thresholds: [("HEALTH_MIN_RPC_SUCCESS_RATE", f64::NAN)]
            .into_iter()
            .collect(),
        ..MonitorSettings::default()
    };
    assert!(monitor.apply_settings(inverted).is_err());
    assert_eq!(
        monitor
            .settings()
            .thresholds
            .get("HEALTH_MAX_RPC_LATENCY_MS"),
        Some(50.0),
        "unchanged"
    );
    monitor.stop().await;
}

/// The interval is hot: shortening it reschedules the next check from the last one.
#[tokio::test(start_paused = true)]
async fn interval_changes_take_effect_without_restart() {
    let monitor = HealthMonitor::builder()
        .component(stats_fn(healthy_rpc))
        .settings(every(Duration::from_secs(30)))
        .probe(FedProbe::with_rss_mb(50))
        .build()
        .unwrap();
    let mut rx = monitor.subscribe();
    let t0 = Instant::now();
    monitor.start().unwrap();
    next_report(&mut rx).await;

    tokio::time::sleep(Duration::from_secs(5)).await;
    monitor
        .apply_settings(every(Duration::from_secs(2)))
        .unwrap();
    next_report(&mut rx).await;
    assert_eq!(
        t0.elapsed(),
        Duration::from_secs(5),
        "already more than 2 s since the last check"
    );
    next_report(&mut rx).await;
    assert_eq!(t0.elapsed(), Duration::from_secs(7));

    monitor
        .apply_settings(every(Duration::from_secs(10)))
        .unwrap();
    next_report(&mut rx).await;
    assert_eq!(
        t0.elapsed(),
        Duration::from_secs(17),
        "10 s after the check that began at 7 s"
    );
    monitor.stop().await;
}

#[tokio::test(start_paused = true)]
async fn components_register_while_running_and_names_are_unique() {
    let monitor = HealthMonitor::builder()
        .component(stats_fn(healthy_rpc))
        .settings(every(Duration::from_secs(1)))
        .probe(FedProbe::with_rss_mb(50))
        .build()
        .unwrap();
    let mut rx = monitor.subscribe();
    monitor.start().unwrap();
    assert_eq!(next_report(&mut rx).await.components.len(), 1);

    let duplicate = monitor.register(stats_fn(healthy_rpc)).unwrap_err();
    assert!(matches!(duplicate, MonitorError::DuplicateComponent(ref name) if name == "rpcPool"));
    monitor
        .register(stats_fn(healthy_rpc).named("rpcPoolBackup"))
        .unwrap();
    monitor.register(stats_fn(healthy_backpressure)).unwrap();

    let report = next_report(&mut rx).await;
    let names: Vec<_> = report.components.iter().map(|c| c.name.as_ref()).collect();
    assert_eq!(names, ["rpcPool", "rpcPoolBackup", "backpressureManager"]);
    monitor.stop().await;
}

#[tokio::test(start_paused = true)]
async fn memory_over_the_limit_degrades_the_overall_status() {
    let probe = FedProbe::with_rss_mb(1000);
    let monitor = HealthMonitor::builder()
        .component(stats_fn(healthy_rpc))
        .settings(every(Duration::from_secs(1)))
        .probe(probe.clone())
        .build()
        .unwrap();
    let mut rx = monitor.subscribe();
    monitor.start().unwrap();
    let at_limit = next_report(&mut rx).await;
    assert_eq!(
        at_limit.overall,
        HealthStatus::Healthy,
        "1000 MB is not over 1000 MB"
    );
    probe.set_rss_mb(1001);
    let over = next_report(&mut rx).await;
    assert_eq!(over.overall, HealthStatus::Degraded);
    assert_eq!(over.system.issue.as_deref(), Some("HIGH_MEMORY"));
    assert_eq!(
        over.system.details.as_deref(),
        Some("resident memory 1001 MB exceeds 1000 MB")
    );
    monitor.stop().await;
}

/// The report serializes in the seed's camelCase shape.
#[tokio::test(start_paused = true)]
async fn report_json_has_the_seed_shape() {
    let monitor = HealthMonitor::builder()
        .component(stats_fn(healthy_rpc))
        .settings(every(Duration::from_secs(1)))
        .probe(FedProbe::with_rss_mb(42))
        .build()
        .unwrap();
    monitor.start().unwrap();
    let report = monitor.first_report().await;
    monitor.stop().await;
    let json = serde_json::to_value(&*report).unwrap();

    let timestamp = json["timestamp"].as_str().unwrap();
    assert_eq!(
        timestamp.len(),
        "2024-05-01T12:34:56.789Z".len(),
        "{timestamp}"
    );
    assert!(
        timestamp.ends_with('Z') && timestamp.as_bytes()[10] == b'T',
        "{timestamp}"
    );
    assert_eq!(json["overall"], "healthy");
    let rpc = &json["components"]["rpcPool"];
    assert_eq!(rpc["status"], "healthy");
    assert_eq!(
        rpc["metrics"],
        serde_json::json!({"successRate": 0.95, "avgLatencyMs": 45.0, "p95LatencyMs": 80.0, "activeConnections": 25})
    );
    assert_eq!(rpc["units"]["p95LatencyMs"], "ms");
    assert!(rpc["lastCheck"].is_string());
    assert!(rpc["durationMs"].is_number());
    assert!(rpc.get("issue").is_none(), "absent, not null, when healthy");
    let system = &json["system"];
    assert_eq!(system["memory"]["rssMemoryMB"], 42);
    assert_eq!(system["memory"]["limitMB"], 1000);
    assert_eq!(system["pid"], std::process::id());
    assert_eq!(
        (system["threads"].as_u64(), system["openFds"].as_u64()),
        (Some(4), Some(12))
    );
    assert_eq!(system["uptime"], 60.0);

    let summary = serde_json::to_value(monitor.summary().unwrap()).unwrap();
    assert_eq!(summary["currentHealth"]["sequence"], 1);
    assert_eq!(summary["recentTrend"]["healthyPct"], 100);
    assert_eq!(summary["totalReports"], 1);
    assert_eq!(summary["activeAlerts"], serde_json::json!([]));
}

#[test]
fn start_outside_a_runtime_is_an_error() {
    let monitor = HealthMonitor::new();
    assert!(matches!(monitor.start(), Err(MonitorError::NoRuntime)));
}

/// What the HTTP probes read: which critical components count for readiness, and how long ago
/// the last report was made.
#[tokio::test(start_paused = true)]
async fn readiness_and_liveness_inputs() {
    use thorp_ops::health::stock::{CircuitBreakerStats, CircuitState};
    let rpc = Settable::new(healthy_rpc());
    let monitor = HealthMonitor::builder()
        .component(StatsCheck::new(rpc.clone()))
        .component(stats_fn(|| CircuitBreakerStats {
            state: CircuitState::Open,
            failures: 9,
            successes: 0,
        }))
        .component(BasicCheck::new("fails", Fails).affects_readiness(false))
        .settings(every(Duration::from_secs(5)))
        .probe(FedProbe::with_rss_mb(50))
        .build()
        .unwrap();
    assert_eq!(monitor.since_last_report(), None);
    let mut rx = monitor.subscribe();
    monitor.start().unwrap();

    let report = next_report(&mut rx).await;
    assert_eq!(report.overall, HealthStatus::Critical);
    assert_eq!(
        report.readiness_blockers().count(),
        0,
        "an open breaker and an opted-out check do not block"
    );
    let json = serde_json::to_value(&*report).unwrap();
    assert_eq!(
        json["components"]["circuitBreaker"]["affectsReadiness"],
        false
    );
    assert_eq!(json["components"]["rpcPool"]["affectsReadiness"], true);

    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(monitor.since_last_report(), Some(Duration::from_secs(3)));

    rpc.set(RpcPoolStats {
        success_rate: 0.5,
        ..healthy_rpc()
    });
    let report = next_report(&mut rx).await;
    let blockers: Vec<_> = report
        .readiness_blockers()
        .map(|c| c.name.as_ref())
        .collect();
    assert_eq!(blockers, ["rpcPool"]);
    assert_eq!(monitor.since_last_report(), Some(Duration::ZERO));
    monitor.stop().await;
}
