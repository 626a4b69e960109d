//! `/metrics`: names, base units and values from a known report, and `promtool check metrics`
//! on a real scrape over a loopback socket.

// A failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// The promtool skip notice is this test's output to the person running it.
#![allow(clippy::print_stderr)]

mod support;

use std::collections::HashMap;
use std::io::Write as _;
use std::process::{Command, Stdio};
use support::ops::{Node, Server, breaker, healthy_rpc};
use thorp_ops::health::stock::{CircuitState, RpcPoolStats};

/// `name{labels}` to value, from the exposition text; also checks that every line is a
/// comment or a sample.
fn samples(text: &str) -> HashMap<String, f64> {
    let mut samples = HashMap::new();
    for line in text.lines() {
        if line.starts_with("# HELP ") || line.starts_with("# TYPE ") {
            continue;
        }
        let (series, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("bad line {line:?}"));
        let value: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("bad value in {line:?}"));
        assert!(
            samples.insert(series.to_owned(), value).is_none(),
            "duplicate {series}"
        );
    }
    samples
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[tokio::test(start_paused = true)]
async fn names_units_and_values() {
    let node = Node::start().await;
    node.breaker.set(breaker(CircuitState::Open));
    node.rpc.set(RpcPoolStats {
        p95_latency_ms: 250.0,
        ..healthy_rpc()
    });
    node.next_report().await;
    let reply = node.get("/metrics").await;
    assert_eq!(
        reply.content_type(),
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = reply.body;
    let s = samples(&text);
    let at = |series: &str| {
        *s.get(series)
            .unwrap_or_else(|| panic!("no {series} in\n{text}"))
    };

    assert!(text.contains("# HELP thorp_health_component_status Health status of each component at the latest check: 0 healthy, 1 degraded, 2 critical."));
    assert_eq!(at("thorp_health_status"), 2.0);
    assert_eq!(
        at(r#"thorp_health_component_status{component="rpcPool"}"#),
        1.0
    );
    assert_eq!(
        at(r#"thorp_health_component_status{component="circuitBreaker"}"#),
        2.0
    );
    assert_eq!(
        at(r#"thorp_health_component_status{component="eventBus"}"#),
        0.0
    );
    assert_eq!(at("thorp_health_reports_total"), 2.0);
    assert_eq!(at("thorp_health_monitor_running"), 1.0);
    assert_eq!(
        at("thorp_health_ready"),
        1.0,
        "an open breaker does not count"
    );
    assert!(at("thorp_health_last_report_timestamp_seconds") > 1.6e9);
    assert_eq!(
        at("thorp_health_memory_limit_bytes"),
        1000.0 * 1024.0 * 1024.0
    );

    // Component metrics in base units.
    assert!(close(at("thorp_rpc_pool_p95_latency_seconds"), 0.25));
    assert!(close(at("thorp_rpc_pool_avg_latency_seconds"), 0.045));
    assert!(close(at("thorp_rpc_pool_success_rate_ratio"), 0.99));
    assert_eq!(at("thorp_rpc_pool_active_connections"), 25.0);
    assert!(close(at("thorp_event_bus_utilization_ratio"), 0.125));
    assert!(close(at("thorp_event_bus_throughput_per_second"), 2.5));
    assert!(close(
        at("thorp_backpressure_manager_utilization_ratio"),
        0.4
    ));
    assert_eq!(
        at(r#"thorp_backpressure_manager_status{status="HEALTHY"}"#),
        1.0
    );
    assert_eq!(at(r#"thorp_circuit_breaker_state{state="OPEN"}"#), 1.0);
    assert_eq!(at("thorp_circuit_breaker_failures"), 0.0);

    // Config and alerts.
    assert_eq!(at(r#"thorp_config_reloads_total{outcome="applied"}"#), 1.0);
    assert_eq!(at(r#"thorp_config_reloads_total{outcome="rejected"}"#), 0.0);
    assert_eq!(at("thorp_config_version"), 1.0);
    assert!(at("thorp_config_last_reload_success_timestamp_seconds") > 1.6e9);
    assert_eq!(at(r#"thorp_alerts_firing{type="COMPONENT_CRITICAL"}"#), 1.0);
    assert_eq!(at(r#"thorp_alerts_firing{type="SUSTAINED_CRITICAL"}"#), 0.0);
    assert_eq!(at(r#"thorp_alerts_firing{type="MEMORY_GROWTH"}"#), 0.0);
    assert_eq!(at("thorp_alert_events_dropped_total"), 0.0);

    // Process, from the probe (64 MB, up 60 s).
    assert_eq!(at("process_resident_memory_bytes"), 64.0 * 1024.0 * 1024.0);
    assert!(at("process_start_time_seconds") > 1.6e9);
    assert_eq!(at("process_open_fds"), 12.0);
    assert_eq!(at("process_threads"), 4.0);

    // The start time does not move between reports.
    let start = at("process_start_time_seconds");
    node.next_report().await;
    let again = samples(&node.get("/metrics").await.body);
    assert_eq!(again["process_start_time_seconds"], start);
}

/// Runs `promtool check metrics` on `text`; `None` when promtool is not installed.
fn promtool(text: &str) -> Option<(bool, String)> {
    let mut child = match Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => panic!("promtool did not start: {e}"),
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let findings = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    Some((output.status.success(), findings))
}

#[tokio::test]
async fn a_real_scrape_passes_promtool_with_no_findings() {
    let node = Node::start().await;
    // Every kind of value: a degraded and a critical component, a text state, a firing alert,
    // a rejected reload.
    node.breaker.set(breaker(CircuitState::HalfOpen));
    node.rpc.set(RpcPoolStats {
        success_rate: 0.5,
        ..healthy_rpc()
    });
    node.next_report().await;
    node.rewrite_config("NODE_NAME=broken\n").await;
    let server = Server::start(node.router.clone()).await;
    let response = support::ops::client()
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();

    match promtool(&text) {
        Some((ok, findings)) => {
            assert!(
                ok && findings.trim().is_empty(),
                "promtool findings:\n{findings}\n---\n{text}"
            );
        }
        None if std::env::var_os("CI").is_some() => {
            panic!(
                "promtool is not installed, and CI is set: install Debian's `prometheus` package (scripts/test does)"
            )
        }
        None => eprintln!(
            "SKIPPED promtool check: promtool is not installed (apt-get install prometheus); set CI=1 to make this a failure"
        ),
    }
}
