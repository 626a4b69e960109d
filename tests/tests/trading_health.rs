//! The health monitor over the real `trading-node` components, with real traffic against the
//! simulator: the seed's Test 1, and faults injected by editing the config file.
#![allow(
    clippy::unwrap_used,
    reason = "tests: a failed unwrap is a failed test"
)]

mod support;

use support::trading::{Keys, Node, component, is};
use thorp_examples::node::shutdown::ShutdownReason;
use thorp_ops::health::{HealthStatus, MetricValue};

fn number(value: Option<&MetricValue>) -> f64 {
    match value {
        Some(MetricValue::Float(v)) => *v,
        other => panic!("expected a float metric, got {other:?}"),
    }
}

/// The seed's Test 1: the monitor produces reports, and the RPC pool's success rate and
/// latencies in them are numbers measured from real requests.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_carry_rpc_pool_figures_from_real_traffic() {
    let node = Node::start(Keys::fast(&[])).await;
    let third = node
        .report_where("three reports with requests behind them", |report| {
            report.sequence >= 3 && node.node.pool().stats().requests > 0
        })
        .await;
    let history = node.node.health().history();
    assert!(history.len() >= 3, "{} reports", history.len());

    let rpc = component(&third, "rpcPool");
    let metric = |name| rpc.health.metric(name).map(|m| &m.value);
    let success = number(metric("successRate"));
    let avg = number(metric("avgLatencyMs"));
    let p95 = number(metric("p95LatencyMs"));
    assert!((0.0..=1.0).contains(&success), "{success}");
    assert!(
        avg > 0.0 && avg.is_finite() && p95 >= avg,
        "avg {avg} p95 {p95}"
    );
    assert!(matches!(
        metric("activeConnections"),
        Some(MetricValue::UInt(_))
    ));

    // Every component the node runs is in the report, and all is well.
    for name in [
        "rpcPool",
        "circuitBreaker",
        "eventBus",
        "backpressureManager",
        "slotPoller",
        "detection",
    ] {
        assert_eq!(
            component(&third, name).health.status,
            HealthStatus::Healthy,
            "{name}"
        );
    }
    assert_eq!(third.overall, HealthStatus::Healthy);

    // The JSON shape the ops endpoints serve: numbers, in camelCase.
    let json = serde_json::to_value(&*third).unwrap();
    let rpc = &json["components"]["rpcPool"];
    assert_eq!(rpc["status"], "healthy");
    assert!(rpc["metrics"]["successRate"].is_number(), "{rpc}");
    assert!(rpc["metrics"]["p95LatencyMs"].is_number(), "{rpc}");
    assert!(json["system"].is_object(), "{json}");

    node.node.shutdown().trigger(ShutdownReason::Requested);
    assert_eq!(node.node.run().await.exit_code(), 0);
}

/// Faults injected through the file: slow upstream, failing upstream, then recovery.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_injected_in_the_file_show_in_health_and_recover() {
    let mut node = Node::start(Keys::fast(&[])).await;
    node.report_where("a healthy rpcPool", |r| {
        is(r, "rpcPool", HealthStatus::Healthy, None) && r.sequence >= 2
    })
    .await;

    // Slow: every request now takes 250 ms, p95 > 100 ms.
    node.edit(&[("SIM_LATENCY_MS", "250")]).await;
    let slow = node
        .report_where("rpcPool degraded HIGH_LATENCY", |r| {
            is(r, "rpcPool", HealthStatus::Degraded, Some("HIGH_LATENCY"))
        })
        .await;
    let details = component(&slow, "rpcPool")
        .health
        .details
        .clone()
        .unwrap_or_default();
    assert!(details.contains("exceeds threshold 100ms"), "{details}");
    assert!(
        is(&slow, "circuitBreaker", HealthStatus::Healthy, None),
        "slow is not failing"
    );

    // Failing: every request answers 503; the pool's success rate collapses and the breaker
    // opens after three failed polls.
    node.edit(&[("SIM_LATENCY_MS", "1"), ("SIM_ERROR_RATE", "1")])
        .await;
    node.report_where("rpcPool critical HIGH_ERROR_RATE", |r| {
        is(
            r,
            "rpcPool",
            HealthStatus::Critical,
            Some("HIGH_ERROR_RATE"),
        )
    })
    .await;
    let open = node
        .report_where("circuitBreaker critical CIRCUIT_BREAKER_OPEN", |r| {
            is(
                r,
                "circuitBreaker",
                HealthStatus::Critical,
                Some("CIRCUIT_BREAKER_OPEN"),
            )
        })
        .await;
    assert_eq!(open.overall, HealthStatus::Critical);
    assert!(node.node.breaker().stats().opened >= 1);
    assert!(node.node.simulator().unwrap().stats().injected_errors > 0);

    // Restored: the breaker probes, closes, the failures leave the 1 s window.
    node.edit(&[("SIM_ERROR_RATE", "0")]).await;
    let recovered = node
        .report_where("every component healthy again", |r| {
            r.overall == HealthStatus::Healthy
        })
        .await;
    assert!(is(&recovered, "rpcPool", HealthStatus::Healthy, None));
    assert!(is(
        &recovered,
        "circuitBreaker",
        HealthStatus::Healthy,
        None
    ));

    node.node.shutdown().trigger(ShutdownReason::Requested);
    assert_eq!(node.node.run().await.exit_code(), 0);
}

/// A health threshold changed in the file applies from the next check on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_thresholds_follow_the_file() {
    let mut node = Node::start(Keys::fast(&[("SIM_LATENCY_MS", "30")])).await;
    node.report_where("rpcPool healthy at 30 ms", |r| {
        is(r, "rpcPool", HealthStatus::Healthy, None)
    })
    .await;
    node.edit(&[("HEALTH_MAX_RPC_LATENCY_MS", "10")]).await;
    let strict = node
        .report_where("rpcPool degraded under a 10 ms threshold", |r| {
            is(r, "rpcPool", HealthStatus::Degraded, Some("HIGH_LATENCY"))
        })
        .await;
    let details = component(&strict, "rpcPool")
        .health
        .details
        .clone()
        .unwrap_or_default();
    assert!(details.contains("threshold 10ms"), "{details}");

    // Thresholds that cannot work together (degraded above critical) reject the whole reload.
    node.keys.set(&[("HEALTH_BACKPRESSURE_DEGRADED_PCT", "99")]);
    node.dir.replace(node.keys.text());
    let record = support::rejected(&mut node.events).await;
    let errors: Vec<String> = record.errors.iter().map(|e| e.message.clone()).collect();
    assert!(
        errors
            .iter()
            .any(|e| e.contains("must be below HEALTH_BACKPRESSURE_CRITICAL_PCT")),
        "{errors:?}"
    );
    assert_eq!(
        node.node
            .health()
            .settings()
            .thresholds
            .get("HEALTH_MAX_RPC_LATENCY_MS"),
        Some(10.0),
        "the refused reload changed nothing"
    );

    node.node.shutdown().trigger(ShutdownReason::Requested);
    assert_eq!(node.node.run().await.exit_code(), 0);
}
