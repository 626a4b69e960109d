//! The node's components as the health monitor sees them.
//!
//! The seed's four component kinds report through the library's stock stats types
//! ([`thorp_ops::health::stock`]), so their rules, issue codes and threshold keys are exactly the
//! seed's: each node stats value converts into its stock type. The node's other components have
//! no health rules of their own but their figures belong in every report (and in `/metrics`),
//! so they get small `#[health_component]` types here, metrics only.
//!
//! | component | stats | rules |
//! |---|---|---|
//! | `rpcPool` | [`stock::RpcPoolStats`] | p95 latency > 100 ms degraded `HIGH_LATENCY`; success rate < 0.95 critical `HIGH_ERROR_RATE` |
//! | `circuitBreaker` | [`stock::CircuitBreakerStats`] | OPEN critical `CIRCUIT_BREAKER_OPEN`; HALF_OPEN degraded `CIRCUIT_BREAKER_RECOVERING` |
//! | `eventBus` | [`stock::EventBusStats`] | utilization > 90 % degraded `HIGH_QUEUE_UTILIZATION` |
//! | `backpressureManager` | [`stock::BackpressureStats`] | utilization > 95 % critical `SYSTEM_OVERLOAD`, > 80 % degraded `HIGH_UTILIZATION` |
//! | `slotPoller` | [`SlotPollerHealth`] | none |
//! | `detection` | [`DetectionHealth`] | none |

use std::borrow::Cow;

use thorp_ops::health::stock::{self, CircuitState};
use thorp_ops::health::{
    HealthMonitor, HealthMonitorBuilder, MonitorError, MonitorSettings, SettingsRejected,
    WebhookSink, stats_fn,
};
use thorp_ops::health_component;

use crate::node::backpressure::BackpressureStats;
use crate::node::breaker::{BreakerState, CircuitBreakerStats};
use crate::node::detection::DetectionStats;
use crate::node::event_bus::EventBusStats;
use crate::node::poller::SlotPollerStats;
use crate::node::rpc_pool::RpcPoolStats;

impl From<RpcPoolStats> for stock::RpcPoolStats {
    fn from(stats: RpcPoolStats) -> Self {
        Self {
            success_rate: stats.success_rate,
            avg_latency_ms: stats.avg_latency_ms,
            p95_latency_ms: stats.p95_latency_ms,
            active_connections: stats.active_connections,
        }
    }
}

impl From<BreakerState> for CircuitState {
    fn from(state: BreakerState) -> Self {
        match state {
            BreakerState::Closed => Self::Closed,
            BreakerState::Open => Self::Open,
            BreakerState::HalfOpen => Self::HalfOpen,
        }
    }
}

impl From<CircuitBreakerStats> for stock::CircuitBreakerStats {
    fn from(stats: CircuitBreakerStats) -> Self {
        Self {
            state: stats.state.into(),
            failures: stats.failures,
            successes: stats.successes,
        }
    }
}

impl From<EventBusStats> for stock::EventBusStats {
    fn from(stats: EventBusStats) -> Self {
        Self {
            queue_depth: stats.queue_depth,
            utilization: stats.utilization,
            events_per_second: stats.events_per_second,
        }
    }
}

impl From<BackpressureStats> for stock::BackpressureStats {
    fn from(stats: BackpressureStats) -> Self {
        // The manager's own word for its state: whether it admits new work right now. The
        // thresholds decide health; this says what an operator would see at the door.
        let status = if stats.current_load >= stats.max_queue_size {
            "REJECTING"
        } else {
            "ACCEPTING"
        };
        Self {
            utilization: stats.utilization,
            rejection_rate: stats.rejection_rate,
            current_load: stats.current_load,
            status: Cow::Borrowed(status),
        }
    }
}

/// The slot poller's figures in a health report.
#[health_component(name = "slotPoller")]
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SlotPollerHealth {
    /// Last slot published.
    #[health(unit = "count")]
    pub last_slot: u64,
    /// Polls made since start.
    #[health(unit = "count")]
    pub polls: u64,
    /// Slots published since start.
    #[health(unit = "count")]
    pub published: u64,
    /// Polls whose RPC call failed since start.
    #[health(unit = "count")]
    pub failed: u64,
    /// Polls the circuit breaker refused since start.
    #[health(unit = "count")]
    pub breaker_refused: u64,
    /// Slots skipped between two published ones since start.
    #[health(unit = "count")]
    pub missed_slots: u64,
}

impl From<SlotPollerStats> for SlotPollerHealth {
    fn from(stats: SlotPollerStats) -> Self {
        Self {
            last_slot: stats.last_slot,
            polls: stats.polls,
            published: stats.published,
            failed: stats.failed,
            breaker_refused: stats.breaker_refused,
            missed_slots: stats.missed_slots,
        }
    }
}

/// The detector's figures in a health report.
#[health_component(name = "detection")]
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DetectionHealth {
    /// Events scored since start.
    #[health(unit = "count")]
    pub events: u64,
    /// Of which gave a signal.
    #[health(unit = "count")]
    pub signals: u64,
    /// The `MIN_EDGE_SCORE` the last event was scored with.
    pub min_edge_score: f64,
    /// The edge score of the last event.
    pub last_edge_score: f64,
}

impl From<DetectionStats> for DetectionHealth {
    fn from(stats: DetectionStats) -> Self {
        Self {
            events: stats.events,
            signals: stats.signals,
            min_edge_score: stats.min_edge_score,
            last_edge_score: stats.last_edge_score,
        }
    }
}

/// Where the monitor reads each component's stats; every reader is a cheap, non-blocking call.
pub struct Sources<R, C, B, P, S, D> {
    /// `rpcPool`.
    pub rpc_pool: R,
    /// `circuitBreaker`.
    pub circuit_breaker: C,
    /// `eventBus`.
    pub event_bus: B,
    /// `backpressureManager`.
    pub backpressure: P,
    /// `slotPoller`.
    pub slot_poller: S,
    /// `detection`.
    pub detection: D,
}

impl<R, C, B, P, S, D> Sources<R, C, B, P, S, D>
where
    R: Fn() -> RpcPoolStats + Send + Sync + 'static,
    C: Fn() -> CircuitBreakerStats + Send + Sync + 'static,
    B: Fn() -> EventBusStats + Send + Sync + 'static,
    P: Fn() -> BackpressureStats + Send + Sync + 'static,
    S: Fn() -> SlotPollerStats + Send + Sync + 'static,
    D: Fn() -> DetectionStats + Send + Sync + 'static,
{
    /// A monitor over these components with `settings` (not started). Alerts go to the log,
    /// and to `webhook` when there is one.
    pub fn monitor(
        self,
        settings: MonitorSettings,
        webhook: Option<WebhookSink>,
    ) -> Result<HealthMonitor, MonitorError> {
        let builder = self.builder().settings(settings);
        match webhook {
            Some(webhook) => builder.sink(webhook),
            None => builder,
        }
        .build()
    }

    fn builder(self) -> HealthMonitorBuilder {
        let Self {
            rpc_pool,
            circuit_breaker,
            event_bus,
            backpressure,
            slot_poller,
            detection,
        } = self;
        HealthMonitor::builder()
            .component(stats_fn(move || stock::RpcPoolStats::from(rpc_pool())))
            .component(stats_fn(move || {
                stock::CircuitBreakerStats::from(circuit_breaker())
            }))
            .component(stats_fn(move || stock::EventBusStats::from(event_bus())))
            .component(stats_fn(move || {
                stock::BackpressureStats::from(backpressure())
            }))
            .component(stats_fn(move || SlotPollerHealth::from(slot_poller())))
            .component(stats_fn(move || DetectionHealth::from(detection())))
    }
}

/// Checks `settings` against the node's components' rules (unknown threshold keys, a degraded
/// threshold as strict as its critical one), without a running node: for `--check` and start-up.
pub fn validate(settings: &MonitorSettings) -> Result<(), SettingsRejected> {
    match offline_monitor(MonitorSettings::clone(settings)) {
        Ok(_) => Ok(()),
        Err(MonitorError::Settings(rejected)) => Err(rejected),
        // The names are fixed and distinct; any other refusal says nothing about the settings.
        Err(_) => Ok(()),
    }
}

/// A monitor (not started) over the node's component kinds, reading idle stats: what the
/// node's monitor makes of `settings`, without a node.
pub fn offline_monitor(settings: MonitorSettings) -> Result<HealthMonitor, MonitorError> {
    Sources {
        rpc_pool: RpcPoolStats::default,
        circuit_breaker: || CircuitBreakerStats {
            state: BreakerState::Closed,
            failures: 0,
            successes: 0,
            consecutive_failures: 0,
            rejected: 0,
            opened: 0,
        },
        event_bus: EventBusStats::default,
        backpressure: BackpressureStats::default,
        slot_poller: SlotPollerStats::default,
        detection: DetectionStats::default,
    }
    .monitor(settings, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use thorp_ops::health::{CheckContext, HealthStats, HealthStatus};

    #[test]
    fn node_stats_keep_the_stock_rules() {
        let slow = RpcPoolStats {
            success_rate: 1.0,
            p95_latency_ms: 250.0,
            ..RpcPoolStats::default()
        };
        let health = stock::RpcPoolStats::from(slow).evaluate(&CheckContext::default());
        assert_eq!(health.status, HealthStatus::Degraded);
        assert_eq!(health.issue.as_deref(), Some("HIGH_LATENCY"));
        let open = CircuitBreakerStats {
            state: BreakerState::Open,
            failures: 5,
            successes: 0,
            consecutive_failures: 5,
            rejected: 1,
            opened: 1,
        };
        let health = stock::CircuitBreakerStats::from(open).evaluate(&CheckContext::default());
        assert_eq!(health.issue.as_deref(), Some("CIRCUIT_BREAKER_OPEN"));
        let full = BackpressureStats {
            utilization: 100.0,
            current_load: 10,
            max_queue_size: 10,
            ..BackpressureStats::default()
        };
        let stats = stock::BackpressureStats::from(full);
        assert_eq!(stats.status, "REJECTING");
        assert_eq!(
            stats.evaluate(&CheckContext::default()).issue.as_deref(),
            Some("SYSTEM_OVERLOAD")
        );
    }

    #[test]
    fn settings_are_checked_against_the_node_components() {
        assert_eq!(validate(&MonitorSettings::default()), Ok(()));
        let mut inverted = MonitorSettings::default();
        inverted
            .thresholds
            .insert("HEALTH_BACKPRESSURE_DEGRADED_PCT", 97.0);
        assert!(validate(&inverted).is_err());
        let mut unknown = MonitorSettings::default();
        unknown.thresholds.insert("HEALTH_MAX_RPC_LATENCY", 50.0);
        let rejected = validate(&unknown).unwrap_err().to_string();
        assert!(rejected.contains("HEALTH_MAX_RPC_LATENCY_MS"), "{rejected}");
    }
}
