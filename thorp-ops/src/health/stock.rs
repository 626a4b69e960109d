//! Stats types for the seed's four component kinds, with exactly its rules and issue codes.
//!
//! | component | rule | status, issue | override key (default) |
//! |---|---|---|---|
//! | `rpcPool` | `p95LatencyMs` > 100 | degraded `HIGH_LATENCY` | `HEALTH_MAX_RPC_LATENCY_MS` (100) |
//! | `rpcPool` | `successRate` < 0.95 | critical `HIGH_ERROR_RATE` | `HEALTH_MIN_RPC_SUCCESS_RATE` (0.95) |
//! | `eventBus` | `utilization` > 90 % | degraded `HIGH_QUEUE_UTILIZATION` | `HEALTH_MAX_QUEUE_UTIL_PCT` (90) |
//! | `backpressureManager` | `utilization` > 95 % | critical `SYSTEM_OVERLOAD` | `HEALTH_BACKPRESSURE_CRITICAL_PCT` (95) |
//! | `backpressureManager` | `utilization` > 80 % | degraded `HIGH_UTILIZATION` | `HEALTH_BACKPRESSURE_DEGRADED_PCT` (80) |
//! | `circuitBreaker` | `state` is `Open` | critical `CIRCUIT_BREAKER_OPEN` | — |
//! | `circuitBreaker` | `state` is `HalfOpen` | degraded `CIRCUIT_BREAKER_RECOVERING` | — |
//!
//! The seed's `maxErrorRate` (0.05) and `maxQueueUtil` (0.9) become the thresholds the rules
//! actually compare: a minimum success rate of 0.95, and a maximum utilization of 90 percent.
//!
//! A component fills its stats type from its own counters and registers it:
//!
//! ```
//! use thorp_ops::health::{stats_fn, HealthMonitor};
//! use thorp_ops::health::stock::{CircuitBreakerStats, CircuitState};
//!
//! let monitor = HealthMonitor::new();
//! monitor.register(stats_fn(|| CircuitBreakerStats {
//!     state: CircuitState::Closed,
//!     failures: 0,
//!     successes: 1200,
//! }))?;
//! # Ok::<(), thorp_ops::health::MonitorError>(())
//! ```

use crate::health::HealthState;
use crate::health_component;
use std::borrow::Cow;

/// An RPC connection pool: success rate, latencies and connections.
#[health_component(name = "rpcPool")]
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RpcPoolStats {
    /// Share of requests that succeeded, 0 to 1.
    #[health(
        critical_below = 0.95,
        issue = "HIGH_ERROR_RATE",
        key = "HEALTH_MIN_RPC_SUCCESS_RATE",
        unit = "ratio",
        details = "Success rate {value:.0%} below {threshold:.0%}"
    )]
    pub success_rate: f64,
    /// Mean request latency.
    pub avg_latency_ms: f64,
    /// 95th percentile request latency.
    #[health(
        degraded_above = 100,
        issue = "HIGH_LATENCY",
        key = "HEALTH_MAX_RPC_LATENCY_MS",
        details = "P95 latency {value}ms exceeds threshold {threshold}ms"
    )]
    pub p95_latency_ms: f64,
    /// Connections in use.
    #[health(unit = "count")]
    pub active_connections: u32,
}

/// An event bus: queue depth, utilization and throughput.
#[health_component(name = "eventBus")]
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EventBusStats {
    /// Events waiting.
    #[health(unit = "count")]
    pub queue_depth: u64,
    /// Queue fill, 0 to 100 percent.
    #[health(
        degraded_above = 90,
        issue = "HIGH_QUEUE_UTILIZATION",
        key = "HEALTH_MAX_QUEUE_UTIL_PCT",
        unit = "percent",
        details = "Queue utilization {value}% exceeds threshold {threshold}%"
    )]
    pub utilization: f64,
    /// Events delivered per second, reported as `throughput` like the seed.
    #[health(rename = "throughput")]
    pub events_per_second: f64,
}

/// A backpressure manager: utilization, rejections and load.
#[health_component(name = "backpressureManager")]
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BackpressureStats {
    /// Capacity in use, 0 to 100 percent.
    #[health(
        critical_above = 95,
        issue = "SYSTEM_OVERLOAD",
        key = "HEALTH_BACKPRESSURE_CRITICAL_PCT",
        unit = "percent",
        details = "System utilization at {value}%"
    )]
    #[health(
        degraded_above = 80,
        issue = "HIGH_UTILIZATION",
        key = "HEALTH_BACKPRESSURE_DEGRADED_PCT",
        details = "System utilization at {value}%"
    )]
    pub utilization: f64,
    /// Share of requests rejected, 0 to 1.
    #[health(unit = "ratio")]
    pub rejection_rate: f64,
    /// Requests in flight.
    #[health(unit = "count")]
    pub current_load: u64,
    /// The manager's own status word, e.g. `HEALTHY`.
    pub status: Cow<'static, str>,
}

/// A circuit breaker's state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum CircuitState {
    /// Requests flow.
    #[default]
    Closed,
    /// Requests are rejected.
    Open,
    /// A few requests test whether the downstream recovered.
    HalfOpen,
}

impl HealthState for CircuitState {
    fn as_str(&self) -> &'static str {
        match self {
            Self::Closed => "CLOSED",
            Self::Open => "OPEN",
            Self::HalfOpen => "HALF_OPEN",
        }
    }
}

/// A circuit breaker: its state and counters.
// An open breaker is the service protecting itself: it should not take the node out of
// rotation on its own.
#[health_component(name = "circuitBreaker", readiness = false)]
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CircuitBreakerStats {
    /// Where the breaker is.
    #[health(
        critical_when = "Open",
        issue = "CIRCUIT_BREAKER_OPEN",
        details = "Circuit breaker is OPEN - requests being rejected"
    )]
    #[health(
        degraded_when = "HalfOpen",
        issue = "CIRCUIT_BREAKER_RECOVERING",
        details = "Circuit breaker in HALF_OPEN state - testing recovery"
    )]
    pub state: CircuitState,
    /// Failures counted in the current window.
    #[health(unit = "count")]
    pub failures: u64,
    /// Successes counted in the current window.
    #[health(unit = "count")]
    pub successes: u64,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test, with its message
mod tests {
    use super::*;
    use crate::health::{
        CheckContext, ComponentHealth, HealthStats, HealthStatus, MetricValue, Unit,
    };

    fn check<S: HealthStats>(stats: &S) -> ComponentHealth {
        stats.evaluate(&CheckContext::default())
    }

    fn verdict(health: &ComponentHealth) -> (HealthStatus, Option<&str>) {
        (health.status, health.issue.as_deref())
    }

    const HEALTHY: (HealthStatus, Option<&str>) = (HealthStatus::Healthy, None);

    fn rpc(success_rate: f64, p95: f64) -> RpcPoolStats {
        RpcPoolStats {
            success_rate,
            avg_latency_ms: 45.0,
            p95_latency_ms: p95,
            active_connections: 25,
        }
    }

    #[test]
    fn rpc_pool_latency_at_below_above() {
        assert_eq!(verdict(&check(&rpc(0.99, 99.9))), HEALTHY);
        assert_eq!(
            verdict(&check(&rpc(0.99, 100.0))),
            HEALTHY,
            "the threshold itself passes, as in the seed"
        );
        let above = check(&rpc(0.99, 100.1));
        assert_eq!(
            verdict(&above),
            (HealthStatus::Degraded, Some("HIGH_LATENCY"))
        );
        assert_eq!(
            above.details.as_deref(),
            Some("P95 latency 100.1ms exceeds threshold 100ms")
        );
    }

    #[test]
    fn rpc_pool_success_rate_at_below_above() {
        assert_eq!(verdict(&check(&rpc(0.951, 80.0))), HEALTHY);
        assert_eq!(verdict(&check(&rpc(0.95, 80.0))), HEALTHY);
        let below = check(&rpc(0.949, 80.0));
        assert_eq!(
            verdict(&below),
            (HealthStatus::Critical, Some("HIGH_ERROR_RATE"))
        );
        assert_eq!(
            below.details.as_deref(),
            Some("Success rate 95% below 95%"),
            "rounded like the seed"
        );
        let both = check(&rpc(0.80, 200.0));
        assert_eq!(
            verdict(&both),
            (HealthStatus::Critical, Some("HIGH_ERROR_RATE"))
        );
        assert_eq!(both.details.as_deref(), Some("Success rate 80% below 95%"));
        assert_eq!(
            both.violations.len(),
            2,
            "the latency violation is still listed"
        );
    }

    #[test]
    fn rpc_pool_metrics_in_the_seed_shape() {
        let health = check(&rpc(0.99, 80.0));
        let names: Vec<_> = health
            .metrics
            .iter()
            .map(|m| (m.name.as_ref(), m.unit))
            .collect();
        assert_eq!(
            names,
            [
                ("successRate", Some(Unit::Ratio)),
                ("avgLatencyMs", Some(Unit::Milliseconds)),
                ("p95LatencyMs", Some(Unit::Milliseconds)),
                ("activeConnections", Some(Unit::Count)),
            ]
        );
        assert_eq!(
            health.metric("activeConnections").map(|m| &m.value),
            Some(&MetricValue::UInt(25))
        );
    }

    fn bus(utilization: f64) -> EventBusStats {
        EventBusStats {
            queue_depth: 10,
            utilization,
            events_per_second: 500.0,
        }
    }

    #[test]
    fn event_bus_utilization_at_below_above() {
        assert_eq!(verdict(&check(&bus(89.9))), HEALTHY);
        assert_eq!(verdict(&check(&bus(90.0))), HEALTHY);
        let above = check(&bus(90.1));
        assert_eq!(
            verdict(&above),
            (HealthStatus::Degraded, Some("HIGH_QUEUE_UTILIZATION"))
        );
        assert_eq!(
            above.details.as_deref(),
            Some("Queue utilization 90.1% exceeds threshold 90%")
        );
        assert!(check(&bus(1.0)).metric("throughput").is_some());
    }

    fn backpressure(utilization: f64) -> BackpressureStats {
        BackpressureStats {
            utilization,
            rejection_rate: 0.01,
            current_load: 450,
            status: "HEALTHY".into(),
        }
    }

    #[test]
    fn backpressure_utilization_at_below_above_both_thresholds() {
        assert_eq!(verdict(&check(&backpressure(79.9))), HEALTHY);
        assert_eq!(verdict(&check(&backpressure(80.0))), HEALTHY);
        assert_eq!(
            verdict(&check(&backpressure(80.1))),
            (HealthStatus::Degraded, Some("HIGH_UTILIZATION"))
        );
        assert_eq!(
            verdict(&check(&backpressure(94.9))),
            (HealthStatus::Degraded, Some("HIGH_UTILIZATION"))
        );
        assert_eq!(
            verdict(&check(&backpressure(95.0))),
            (HealthStatus::Degraded, Some("HIGH_UTILIZATION"))
        );
        let over = check(&backpressure(95.1));
        assert_eq!(
            verdict(&over),
            (HealthStatus::Critical, Some("SYSTEM_OVERLOAD"))
        );
        assert_eq!(over.details.as_deref(), Some("System utilization at 95.1%"));
        assert_eq!(
            check(&backpressure(1.0)).metric("status").map(|m| &m.value),
            Some(&MetricValue::Text("HEALTHY".into()))
        );
    }

    #[test]
    fn circuit_breaker_states() {
        let cb = |state| CircuitBreakerStats {
            state,
            failures: 3,
            successes: 9,
        };
        assert_eq!(verdict(&check(&cb(CircuitState::Closed))), HEALTHY);
        let open = check(&cb(CircuitState::Open));
        assert_eq!(
            verdict(&open),
            (HealthStatus::Critical, Some("CIRCUIT_BREAKER_OPEN"))
        );
        assert_eq!(
            open.details.as_deref(),
            Some("Circuit breaker is OPEN - requests being rejected")
        );
        assert_eq!(
            verdict(&check(&cb(CircuitState::HalfOpen))),
            (HealthStatus::Degraded, Some("CIRCUIT_BREAKER_RECOVERING"))
        );
        assert_eq!(
            open.metric("state").map(|m| &m.value),
            Some(&MetricValue::Text("OPEN".into()))
        );
    }

    #[test]
    fn keys_and_overrides() {
        let keys: Vec<_> = RpcPoolStats::RULES
            .iter()
            .map(|r| (r.key(), r.default_threshold()))
            .collect();
        assert_eq!(
            keys,
            [
                (Some("HEALTH_MIN_RPC_SUCCESS_RATE"), Some(0.95)),
                (Some("HEALTH_MAX_RPC_LATENCY_MS"), Some(100.0))
            ]
        );
        let ctx = CheckContext::new(std::sync::Arc::new(
            [("HEALTH_BACKPRESSURE_CRITICAL_PCT", 85.0)]
                .into_iter()
                .collect(),
        ));
        assert_eq!(
            backpressure(86.0).evaluate(&ctx).issue.as_deref(),
            Some("SYSTEM_OVERLOAD")
        );
        assert_eq!(CircuitBreakerStats::RULES[0].variants(), ["Open"]);
        assert_eq!(CircuitBreakerStats::RULES[0].key(), None);
        const { assert!(!CircuitBreakerStats::AFFECTS_READINESS) };
        const { assert!(RpcPoolStats::AFFECTS_READINESS) };
    }
}
