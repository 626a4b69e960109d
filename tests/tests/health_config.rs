//! Health thresholds and the check interval changed through the config file, picked up from a
//! hot reload without restarting the monitor.

// A failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;
use std::time::Duration;
use support::health::FedProbe;
use thorp_ops::HotConfig;
use thorp_ops::config::{HotReload, Outcome, ReloadOptions};
use thorp_ops::health::HealthReport;
use thorp_ops::health::stock::RpcPoolStats;
use thorp_ops::health::{HealthMonitor, HealthStatus, MonitorSettings, stats_fn};
use tokio::sync::watch;

/// The rest of the service's config; the health keys are the monitor's, not this struct's.
#[derive(HotConfig, Debug)]
#[hot_config(component = "node", prefix = "NODE_")]
struct NodeConfig {
    /// The node's name.
    #[hot_config(key = "NODE_NAME", default = "node-1")]
    name: String,
}

/// The next report, failing the test (not hanging it) if none comes: this test runs on the
/// real clock, as the config watcher does.
async fn next_report(rx: &mut watch::Receiver<Option<Arc<HealthReport>>>) -> Arc<HealthReport> {
    tokio::time::timeout(Duration::from_secs(10), support::health::next_report(rx))
        .await
        .expect("a report within 10 s")
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
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("node.env");
    // An hour between checks: a second check only happens if the new interval is applied.
    std::fs::write(&path, "NODE_NAME=alpha\nHEALTH_CHECK_INTERVAL_MS=3600000\n").unwrap();
    let config = HotReload::<NodeConfig>::start(&path, ReloadOptions::default().watch(false))
        .await
        .unwrap();
    assert_eq!(config.current().config().name, "alpha");

    let monitor = HealthMonitor::builder()
        .component(stats_fn(rpc))
        .probe(FedProbe::with_rss_mb(50))
        .build()
        .unwrap();
    monitor.follow_config(&config).unwrap();
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
    assert_eq!(
        monitor
            .settings()
            .thresholds
            .get("HEALTH_MAX_RPC_LATENCY_MS"),
        Some(50.0)
    );

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
    let expected = MonitorSettings::from_entries([
        ("HEALTH_CHECK_INTERVAL_MS", "10"),
        ("HEALTH_MAX_RPC_LATENCY_MS", "50"),
    ])
    .unwrap();
    assert_eq!(
        *monitor.settings(),
        expected,
        "neither the interval nor the threshold moved"
    );
    monitor.stop().await;
}
