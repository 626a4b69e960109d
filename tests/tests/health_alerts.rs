//! Alerts through a running monitor: fire once per episode, resolve, acknowledge, memory
//! growth from a fed probe, and sinks that cannot slow the checks down.

// A failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use support::health::{ChannelSink, FedProbe, Settable, drain, next_report, settle};
use thorp_ops::health::stock::{CircuitBreakerStats, CircuitState};
use thorp_ops::health::{
    AckError, AlertEvent, AlertSettings, AlertSink,
    AlertTransition::{Fired, Resolved},
    BoxError, HealthMonitor, HealthStatus, MonitorSettings, StatsCheck,
};
use tokio::time::Instant;

fn breaker(state: CircuitState) -> CircuitBreakerStats {
    CircuitBreakerStats {
        state,
        failures: 0,
        successes: 10,
    }
}

fn every_second() -> MonitorSettings {
    MonitorSettings {
        check_interval: Duration::from_secs(1),
        ..MonitorSettings::default()
    }
}

fn fired(kind: &str, sequence: u64) -> (thorp_ops::health::AlertTransition, String, u64) {
    (Fired, kind.to_owned(), sequence)
}

fn resolved(kind: &str, sequence: u64) -> (thorp_ops::health::AlertTransition, String, u64) {
    (Resolved, kind.to_owned(), sequence)
}

/// Six critical reports raise COMPONENT_CRITICAL at the 3rd and SUSTAINED_CRITICAL at the 4th,
/// once each; acknowledging silences; recovery resolves both; a new episode is a new alert.
#[tokio::test(start_paused = true)]
async fn alerts_fire_once_resolve_and_acknowledge() {
    let cb = Settable::new(breaker(CircuitState::Open));
    let (sink, mut events) = ChannelSink::new();
    let monitor = HealthMonitor::builder()
        .component(StatsCheck::new(cb.clone()))
        .settings(every_second())
        .probe(FedProbe::with_rss_mb(50))
        .sink(sink)
        .build()
        .unwrap();
    let mut rx = monitor.subscribe();
    monitor.start().unwrap();

    let mut delivered = Vec::new();
    for _ in 0..6 {
        assert_eq!(next_report(&mut rx).await.overall, HealthStatus::Critical);
        settle().await;
        delivered.extend(drain(&mut events));
    }
    assert_eq!(
        delivered,
        [
            fired("COMPONENT_CRITICAL(circuitBreaker)", 3),
            fired("SUSTAINED_CRITICAL", 4)
        ]
    );

    let summary = monitor.summary().unwrap();
    let active: Vec<_> = summary
        .active_alerts
        .iter()
        .map(|a| a.kind.code())
        .collect();
    assert_eq!(active, ["COMPONENT_CRITICAL", "SUSTAINED_CRITICAL"]);
    assert!(
        summary.active_alerts[0]
            .message
            .contains("CIRCUIT_BREAKER_OPEN"),
        "{}",
        summary.active_alerts[0].message
    );

    let sustained = summary.active_alerts[1].id;
    let acked = monitor.acknowledge(sustained).unwrap();
    assert!(acked.is_firing() && acked.is_acknowledged());
    let active: Vec<_> = monitor
        .summary()
        .unwrap()
        .active_alerts
        .iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(
        active,
        [summary.active_alerts[0].id],
        "acknowledged alerts leave the active list"
    );
    assert_eq!(monitor.acknowledge(9999), Err(AckError::Unknown(9999)));

    cb.set(breaker(CircuitState::Closed));
    assert_eq!(next_report(&mut rx).await.overall, HealthStatus::Healthy);
    settle().await;
    assert_eq!(
        drain(&mut events),
        [
            resolved("SUSTAINED_CRITICAL", 7),
            resolved("COMPONENT_CRITICAL(circuitBreaker)", 7)
        ]
    );
    assert!(monitor.summary().unwrap().active_alerts.is_empty());
    assert_eq!(
        monitor.acknowledge(sustained),
        Err(AckError::Resolved(sustained))
    );
    assert!(monitor.alerts().iter().all(|a| !a.is_firing()));

    cb.set(breaker(CircuitState::Open));
    for _ in 0..4 {
        next_report(&mut rx).await;
    }
    settle().await;
    assert_eq!(
        drain(&mut events),
        [
            fired("COMPONENT_CRITICAL(circuitBreaker)", 10),
            fired("SUSTAINED_CRITICAL", 11)
        ]
    );
    let again = monitor.summary().unwrap().active_alerts;
    assert_eq!(
        again.len(),
        2,
        "a new episode is a new, unacknowledged alert"
    );
    assert!(again.iter().all(|a| a.id > sustained));
    assert_eq!(monitor.alerts().len(), 4);
    monitor.stop().await;
}

/// Hysteresis and a custom threshold through the alert settings.
#[tokio::test(start_paused = true)]
async fn resolution_waits_for_consecutive_clear_reports() {
    let cb = Settable::new(breaker(CircuitState::Open));
    let (sink, mut events) = ChannelSink::new();
    let settings = MonitorSettings {
        alerts: AlertSettings {
            sustained_critical_reports: 2,
            resolve_after_reports: 3,
            ..AlertSettings::default()
        },
        ..every_second()
    };
    let monitor = HealthMonitor::builder()
        .component(StatsCheck::new(cb.clone()))
        .settings(settings)
        .probe(FedProbe::with_rss_mb(50))
        .sink(sink)
        .without_log_sink()
        .build()
        .unwrap();
    let mut rx = monitor.subscribe();
    monitor.start().unwrap();
    // Reports 1..=8: the alert fires at 2; the flap at 3..=5 neither resolves nor re-fires it
    // (4 and 5 are critical again, 5 makes the condition hold again); 6, 7, 8 are clear.
    use CircuitState::{Closed, Open};
    let mut delivered = Vec::new();
    for state in [Open, Open, Closed, Open, Open, Closed, Closed, Closed] {
        cb.set(breaker(state));
        next_report(&mut rx).await;
        settle().await;
        delivered.extend(
            drain(&mut events)
                .into_iter()
                .filter(|e| e.1 == "SUSTAINED_CRITICAL"),
        );
    }
    assert_eq!(
        delivered,
        [
            fired("SUSTAINED_CRITICAL", 2),
            resolved("SUSTAINED_CRITICAL", 8)
        ]
    );
    monitor.stop().await;
}

/// Resident memory growing 15 MB a report fires MEMORY_GROWTH once the 10-report window spans
/// more than 100 MB, and resolves once it no longer does.
#[tokio::test(start_paused = true)]
async fn memory_growth_alert_from_a_fed_probe() {
    let probe = FedProbe::with_rss_mb(100);
    let (sink, mut events) = ChannelSink::new();
    let monitor = HealthMonitor::builder()
        .settings(every_second())
        .probe(probe.clone())
        .sink(sink)
        .build()
        .unwrap();
    let mut rx = monitor.subscribe();
    monitor.start().unwrap();
    let mut delivered = Vec::new();
    for report in 1..=14u64 {
        let seen = next_report(&mut rx).await;
        assert_eq!(seen.sequence, report);
        // Reports 1..=10 read 100..=235 MB; from then on memory stays at 235 MB.
        probe.set_rss_mb(100 + 15 * report.min(9));
        settle().await;
        delivered.extend(drain(&mut events));
    }
    // At 10 the window is 100..=235 (135 MB); at 13 it is 145..=235 (90 MB).
    assert_eq!(
        delivered,
        [fired("MEMORY_GROWTH", 10), resolved("MEMORY_GROWTH", 13)]
    );
    let message = &monitor.alerts()[0].message;
    assert_eq!(
        message,
        "resident memory grew by 135 MB across the last 10 reports (100 MB to 235 MB)"
    );
    monitor.stop().await;
}

struct Stuck(Arc<AtomicUsize>);

impl AlertSink for Stuck {
    async fn deliver(&self, _event: &AlertEvent) -> Result<(), BoxError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        std::future::pending().await
    }
}

/// A sink that never returns delays neither the checks nor the other sinks.
#[tokio::test(start_paused = true)]
async fn a_hung_sink_delays_nothing() {
    let cb = Settable::new(breaker(CircuitState::Open));
    let (sink, mut events) = ChannelSink::new();
    let stuck = Arc::new(AtomicUsize::new(0));
    let settings = MonitorSettings {
        alerts: AlertSettings {
            component_critical_checks: 1,
            sink_timeout: Duration::from_secs(30),
            ..AlertSettings::default()
        },
        ..every_second()
    };
    let monitor = HealthMonitor::builder()
        .component(StatsCheck::new(cb.clone()))
        .settings(settings)
        .probe(FedProbe::with_rss_mb(50))
        .sink(Stuck(Arc::clone(&stuck)))
        .sink(sink)
        .build()
        .unwrap();
    let mut rx = monitor.subscribe();
    let t0 = Instant::now();
    monitor.start().unwrap();
    next_report(&mut rx).await;
    settle().await;
    assert_eq!(
        drain(&mut events),
        [fired("COMPONENT_CRITICAL(circuitBreaker)", 1)],
        "the other sink got it"
    );
    assert_eq!(stuck.load(Ordering::SeqCst), 1);

    for second in 1..=5 {
        next_report(&mut rx).await;
        assert_eq!(
            t0.elapsed(),
            Duration::from_secs(second),
            "checks stay on schedule"
        );
    }
    monitor.stop().await;
}
