//! `/livez` and `/readyz`: the rules, one at a time.

// A failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use axum::http::StatusCode;
use std::time::Duration;
use support::ops::{Node, Options, breaker, healthy_rpc};
use thorp_ops::health::stock::{CircuitState, RpcPoolStats};

#[tokio::test(start_paused = true)]
async fn livez_while_the_monitor_runs_and_reports() {
    let node = Node::start().await;
    let live = node.get("/livez").await;
    assert_eq!(live.status, StatusCode::OK);
    assert_eq!(live.json()["live"], true);
    assert!(live.json()["lastReportAgoMs"].is_u64());

    // A critical component is not a dead process.
    node.rpc.set(RpcPoolStats {
        success_rate: 0.5,
        ..healthy_rpc()
    });
    node.next_report().await;
    assert_eq!(node.get("/livez").await.status, StatusCode::OK);

    node.monitor.stop().await;
    let dead = node.get("/livez").await;
    assert_eq!(dead.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        dead.json()["reasons"][0],
        "the health monitor task is not running"
    );
}

#[tokio::test(start_paused = true)]
async fn livez_fails_once_the_last_report_is_older_than_three_periods() {
    let mut settings = support::ops::settings();
    settings.check_interval = Duration::from_secs(3600);
    let node = Node::with(Options {
        settings,
        ..Options::default()
    })
    .await;
    tokio::time::advance(Duration::from_secs(59 * 60)).await;
    assert_eq!(node.get("/livez").await.status, StatusCode::OK);

    // The same age against a one-second interval is a stuck monitor. Asked before the
    // monitor task runs again (nothing here yields to it), so the report is still 59 min old.
    let mut short = support::ops::settings();
    short.check_interval = Duration::from_secs(1);
    node.monitor.apply_settings(short).unwrap();
    let stuck = node.get("/livez").await;
    assert_eq!(stuck.status, StatusCode::SERVICE_UNAVAILABLE);
    let reason = stuck.json()["reasons"][0].as_str().unwrap().to_owned();
    assert!(
        reason.contains("over the 3000 ms limit (3 check periods)"),
        "{reason}"
    );

    // Once the monitor catches up, it is live again.
    node.next_report().await;
    assert_eq!(node.get("/livez").await.status, StatusCode::OK);
}

#[tokio::test(start_paused = true)]
async fn the_liveness_period_is_the_timeout_when_that_is_longer() {
    let mut settings = support::ops::settings();
    settings.check_interval = Duration::from_secs(3600);
    settings.check_timeout = Duration::from_secs(20);
    let node = Node::with(Options {
        settings,
        ..Options::default()
    })
    .await;
    tokio::time::advance(Duration::from_secs(50)).await;
    let mut short = support::ops::settings();
    short.check_interval = Duration::from_secs(1);
    short.check_timeout = Duration::from_secs(20);
    node.monitor.apply_settings(short).unwrap();
    // 50 s is past 3 intervals but within 3 timeouts: a tick may wait that long for a hung check.
    assert_eq!(node.get("/livez").await.status, StatusCode::OK);
}

#[tokio::test(start_paused = true)]
async fn livez_before_the_first_report_is_live_while_running() {
    let node = Node::with(Options {
        start: false,
        ..Options::default()
    })
    .await;
    let reply = node.get("/livez").await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE, "not started");
    node.monitor.start().unwrap();
    // The first check is under way (bounded by the check timeout): live, but not ready.
    let reply = node.get("/livez").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let ready = node.get("/readyz").await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        ready.json()["reasons"],
        serde_json::json!(["no health check has completed yet"])
    );
}

#[tokio::test(start_paused = true)]
async fn readyz_ignores_components_that_do_not_count_for_readiness() {
    let node = Node::start().await;
    let ready = node.get("/readyz").await;
    assert_eq!(ready.status, StatusCode::OK);
    assert_eq!(
        ready.json(),
        serde_json::json!({"ready": true, "reasons": []})
    );

    // An open breaker is critical, so /health says 503, but the node stays in rotation.
    node.breaker.set(breaker(CircuitState::Open));
    let report = node.next_report().await;
    assert_eq!(report.overall, thorp_ops::health::HealthStatus::Critical);
    assert_eq!(
        node.get("/health").await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(node.get("/readyz").await.status, StatusCode::OK);

    // A critical RPC pool does count.
    node.rpc.set(RpcPoolStats {
        success_rate: 0.5,
        ..healthy_rpc()
    });
    node.next_report().await;
    let not_ready = node.get("/readyz").await;
    assert_eq!(not_ready.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        not_ready.json()["reasons"],
        serde_json::json!(["rpcPool is critical: HIGH_ERROR_RATE"])
    );

    node.rpc.set(healthy_rpc());
    node.next_report().await;
    assert_eq!(node.get("/readyz").await.status, StatusCode::OK);
}

#[tokio::test(start_paused = true)]
async fn readyz_fails_when_the_monitor_stops() {
    // A service shutting down stops its monitor first: the load balancer drains it.
    let node = Node::start().await;
    node.monitor.stop().await;
    let reply = node.get("/readyz").await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        reply.json()["reasons"],
        serde_json::json!(["the health monitor is not running"])
    );
}
