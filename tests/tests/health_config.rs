//! Health thresholds and the check interval changed through the config file, picked up from a
//! hot reload without restarting the monitor.

// A failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;
use std::time::Duration;
use support::health::FedProbe;
use support::logs::CapturedLogs;
use thorp_ops::HotConfig;
use thorp_ops::config::{HotReload, Outcome, ReloadOptions};
use thorp_ops::health::stock::RpcPoolStats;
use thorp_ops::health::{HealthConfig, HealthReport};
use thorp_ops::health::{HealthMonitor, HealthStatus, MonitorSettings, stats_fn};
use tokio::sync::watch;

/// The service's config: its own keys, and the monitor's section as the library defines it.
#[derive(HotConfig, Debug)]
#[hot_config(component = "node", prefix = "NODE_")]
struct NodeConfig {
    /// The node's name.
    #[hot_config(key = "NODE_NAME", default = "node-1")]
    name: String,
    /// The health monitor.
    #[hot_config(flatten)]
    health: HealthConfig,
}

fn health(config: &NodeConfig) -> &HealthConfig {
    &config.health
}

async fn follow(text: &str) -> (tempfile::TempDir, std::path::PathBuf, HotReload<NodeConfig>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("node.env");
    std::fs::write(&path, text).unwrap();
    let config = HotReload::<NodeConfig>::start(&path, ReloadOptions::default().watch(false))
        .await
        .unwrap();
    (dir, path, config)
}

/// The next report, failing the test (not hanging it) if none comes: this test runs on the
/// real clock, as the config watcher does.
async fn next_report(rx: &mut watch::Receiver<Option<Arc<HealthReport>>>) -> Arc<HealthReport> {
    tokio::time::timeout(Duration::from_secs(10), support::health::next_report(rx))
        .await
        .expect("a report within 10 s")
}

/// A monitor (not started) over one healthy RPC pool.
fn rpc_monitor() -> HealthMonitor {
    HealthMonitor::builder()
        .component(stats_fn(rpc))
        .probe(FedProbe::with_rss_mb(50))
        .build()
        .unwrap()
}

/// The RPC pool's latency threshold override in force, if any.
fn latency_threshold(monitor: &HealthMonitor) -> Option<f64> {
    monitor
        .settings()
        .thresholds
        .get("HEALTH_MAX_RPC_LATENCY_MS")
}

fn rpc() -> RpcPoolStats {
    RpcPoolStats {
        success_rate: 0.99,
        avg_latency_ms: 45.0,
        p95_latency_ms: 80.0,
        active_connections: 25,
    }
}

#[tokio::test]
async fn a_threshold_changed_in_the_config_file_applies_at_the_next_check() {
    // An hour between checks: a second check only happens if the new interval is applied.
    let (_dir, path, config) = follow("NODE_NAME=alpha\nHEALTH_CHECK_INTERVAL_MS=3600000\n").await;
    assert_eq!(config.current().config().name, "alpha");

    let monitor = rpc_monitor();
    monitor.follow_config(&config, health).unwrap();
    assert_eq!(monitor.settings().check_interval, Duration::from_secs(3600));
    let mut rx = monitor.subscribe();
    monitor.start().unwrap();
    let first = next_report(&mut rx).await;
    assert_eq!(
        first.overall,
        HealthStatus::Healthy,
        "p95 80 ms is under the default 100 ms"
    );

    std::fs::write(
        &path,
        "NODE_NAME=alpha\nHEALTH_CHECK_INTERVAL_MS=10\nHEALTH_MAX_RPC_LATENCY_MS=50\n",
    )
    .unwrap();
    assert_eq!(config.reload().await.outcome, Outcome::Applied);
    let next = next_report(&mut rx).await;
    assert_eq!(next.sequence, 2);
    let rpc = &next.component("rpcPool").unwrap().health;
    assert_eq!(
        (rpc.status, rpc.issue.as_deref()),
        (HealthStatus::Degraded, Some("HIGH_LATENCY"))
    );
    assert_eq!(
        rpc.details.as_deref(),
        Some("P95 latency 80ms exceeds threshold 50ms")
    );
    assert_eq!(latency_threshold(&monitor), Some(50.0));

    // A refused health key rejects the whole file before anything applies: the monitor's
    // settings and the rest of the config stay as they were, and the history says why.
    std::fs::write(
        &path,
        "NODE_NAME=beta\nHEALTH_CHECK_INTERVAL_MS=20\nHEALTH_MAX_RPC_LATENCY=20\n",
    )
    .unwrap();
    let record = config.reload().await;
    assert_eq!(record.outcome, Outcome::Rejected);
    assert_eq!(config.current().config().name, "alpha");
    let reason = record
        .errors
        .iter()
        .map(|e| e.message.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        reason.contains("rejected by component healthMonitor")
            && reason.contains("did you mean `HEALTH_MAX_RPC_LATENCY_MS`?"),
        "{reason}"
    );
    let expected = MonitorSettings {
        check_interval: Duration::from_millis(10),
        thresholds: [("HEALTH_MAX_RPC_LATENCY_MS", 50.0)].into_iter().collect(),
        ..MonitorSettings::default()
    };
    assert_eq!(
        *monitor.settings(),
        expected,
        "neither the interval nor the threshold moved"
    );
    monitor.stop().await;
}

/// Threshold keys are the monitor's dynamic keys, not unknown ones: the loader neither warns
/// about them at start nor on a reload, while a misspelt key of a closed prefix still is.
/// The test runs on one thread, so a thread-local subscriber sees every line.
#[tokio::test(flavor = "current_thread")]
async fn threshold_keys_are_not_unknown_keys() {
    let (logs, _logging) = CapturedLogs::start();
    let (_dir, path, config) =
        follow("HEALTH_MAX_RPC_LATENCY_MS=50\nALERT_HISTORY_LENN=10\n").await;
    let monitor = rpc_monitor();
    monitor.follow_config(&config, health).unwrap();
    assert_eq!(latency_threshold(&monitor), Some(50.0));
    std::fs::write(
        &path,
        "HEALTH_MAX_RPC_LATENCY_MS=60\nHEALTH_MIN_RPC_SUCCESS_RATE=0.9\nALERT_HISTORY_LENN=10\n",
    )
    .unwrap();
    assert_eq!(config.reload().await.outcome, Outcome::Applied);

    let text = logs.text();
    let unknown: Vec<&str> = text
        .lines()
        .filter(|line| line.contains("unknown config key"))
        .collect();
    assert_eq!(unknown.len(), 1, "{text}");
    assert!(
        unknown[0].contains("key=ALERT_HISTORY_LENN")
            && unknown[0].contains("suggestion=\"ALERT_HISTORY_LEN\""),
        "{text}"
    );
}

/// A bad value of a fixed health key is the loader's to refuse, like any typed key: the whole
/// file, with its path, line and key, and the monitor keeps what it had.
#[tokio::test]
async fn a_bad_fixed_health_key_is_refused_with_file_line_and_key() {
    let (_dir, path, config) = follow("NODE_NAME=alpha\nHEALTH_CHECK_INTERVAL_MS=2000\n").await;
    let monitor = rpc_monitor();
    monitor.follow_config(&config, health).unwrap();
    assert_eq!(monitor.settings().check_interval, Duration::from_secs(2));

    std::fs::write(
        &path,
        "NODE_NAME=beta\n# tighter checks\nHEALTH_CHECK_INTERVAL_MS=soon\nALERT_MEMORY_GROWTH_REPORTS=1\n",
    )
    .unwrap();
    let record = config.reload().await;
    assert_eq!(record.outcome, Outcome::Rejected);
    let places: Vec<_> = record
        .errors
        .iter()
        .map(|e| (e.line, e.key.as_deref()))
        .collect();
    assert_eq!(
        places,
        [
            (Some(3), Some("HEALTH_CHECK_INTERVAL_MS")),
            (Some(4), Some("ALERT_MEMORY_GROWTH_REPORTS"))
        ]
    );
    let errors: Vec<&str> = record.errors.iter().map(|e| e.message.as_str()).collect();
    let shown = path.display();
    assert_eq!(
        errors,
        [
            format!(
                "{shown}:3: HEALTH_CHECK_INTERVAL_MS: \"soon\" is not an integer (expected 1..=3600000)"
            ),
            format!(
                "{shown}:4: ALERT_MEMORY_GROWTH_REPORTS: \"1\" is below the minimum (expected 2..=10000)"
            ),
        ]
    );
    assert_eq!(config.current().config().name, "alpha");
    assert_eq!(monitor.settings().check_interval, Duration::from_secs(2));
}

/// Threshold keys are checked by the monitor against the rules it has: a key of a component
/// that is not registered, or of a field without a rule, is refused at start and on a reload,
/// and a value that is not a number is too.
#[tokio::test]
async fn a_threshold_key_no_rule_has_is_refused_by_the_monitor() {
    let monitor = || rpc_monitor();
    // eventBus is not registered here, and rpcPool's avg latency has no rule.
    let (_dir, _, config) =
        follow("HEALTH_MAX_QUEUE_UTIL_PCT=80\nHEALTH_RPC_POOL_AVG_LATENCY_MS_DEGRADED_ABOVE=5\n")
            .await;
    let refused = monitor().follow_config(&config, health).unwrap_err();
    let text = refused.to_string();
    assert!(
        text.contains("HEALTH_MAX_QUEUE_UTIL_PCT: not a health monitor setting nor any health rule's threshold key")
            && text.contains("HEALTH_RPC_POOL_AVG_LATENCY_MS_DEGRADED_ABOVE: not a health monitor setting"),
        "{text}"
    );

    let (_dir, path, config) = follow("HEALTH_MAX_RPC_LATENCY_MS=50\n").await;
    let monitor = monitor();
    monitor.follow_config(&config, health).unwrap();
    std::fs::write(&path, "HEALTH_MAX_RPC_LATENCY_MS=fast\n").unwrap();
    let record = config.reload().await;
    assert_eq!(record.outcome, Outcome::Rejected);
    assert!(
        record.errors[0]
            .message
            .contains("HEALTH_MAX_RPC_LATENCY_MS: `fast` is not a number"),
        "{:?}",
        record.errors
    );
    assert_eq!(latency_threshold(&monitor), Some(50.0));
}

/// A threshold no reading of its metric can reach (a percentage written for a ratio, a
/// negative latency) is refused with the line it is on, and the thresholds in force stay.
#[tokio::test]
async fn a_threshold_outside_its_metrics_unit_is_refused_with_its_line() {
    let (_dir, path, config) = follow("HEALTH_MAX_RPC_LATENCY_MS=50\n").await;
    let monitor = rpc_monitor();
    monitor.follow_config(&config, health).unwrap();

    std::fs::write(
        &path,
        "# rates are ratios\nHEALTH_MIN_RPC_SUCCESS_RATE=95\nHEALTH_MAX_RPC_LATENCY_MS=-1\n",
    )
    .unwrap();
    let record = config.reload().await;
    assert_eq!(record.outcome, Outcome::Rejected);
    let message = &record.errors[0].message;
    assert!(
        message.contains(
            "line 2: HEALTH_MIN_RPC_SUCCESS_RATE: threshold 95 is outside what the metric can \
             read (expected a ratio from 0 to 1)"
        ) && message.contains(
            "line 3: HEALTH_MAX_RPC_LATENCY_MS: threshold -1 is outside what the metric can \
             read (expected a number, not negative)"
        ),
        "{message}"
    );
    let thresholds = &monitor.settings().thresholds;
    assert_eq!(thresholds.get("HEALTH_MAX_RPC_LATENCY_MS"), Some(50.0));
    assert_eq!(thresholds.get("HEALTH_MIN_RPC_SUCCESS_RATE"), None);
}
