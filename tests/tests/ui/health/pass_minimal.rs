// No rules, a unit struct and a struct with only field options: still a component.
#![deny(warnings)]

use thorp_ops::health::{CheckContext, HealthStats, HealthStatus};
use thorp_ops::health_component;

#[health_component(name = "empty", readiness = false)]
pub struct Nothing;

#[health_component]
pub struct QueueStats {
    #[health(unit = "count")]
    pub depth: usize,
}

/// `#[derive]` may come before the attribute as well as after it.
#[derive(Debug, Clone)]
#[health_component]
pub struct OrderedStats {
    #[health(degraded_above = 1, issue = "SOME")]
    pub value: u8,
}

fn main() {
    let ordered = OrderedStats { value: 2 }.clone();
    assert_eq!(format!("{ordered:?}"), "OrderedStats { value: 2 }");
    assert_eq!(ordered.evaluate(&CheckContext::default()).status, HealthStatus::Degraded);
    assert_eq!(Nothing.evaluate(&CheckContext::default()).status, HealthStatus::Healthy);
    assert!(!Nothing::AFFECTS_READINESS);
    assert!(QueueStats::AFFECTS_READINESS);
    assert_eq!(QueueStats::NAME, "queue");
    assert!(QueueStats::RULES.is_empty());
    assert_eq!(QueueStats { depth: 3 }.evaluate(&CheckContext::default()).metrics.len(), 1);
}
