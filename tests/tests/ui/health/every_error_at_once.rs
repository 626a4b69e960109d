// One pass reports every mistake, each at its own token, and nothing cascades.
use thorp_ops::health::{HealthStats, stats_fn};
use thorp_ops::health_component;

#[health_component(name = "pool")]
pub struct PoolStats {
    #[health(degraded_above = 100, critical_above = 200, issue = "HIGH_LATENCY")]
    pub p95_latency_ms: f64,
    #[health(unit = "millis")]
    pub avg_latency_ms: f64,
    #[health(critical_below = 0.95, issue = "high error rate", key = "MAX_ERROR_RATE")]
    pub success_rate: f64,
    #[health(critical_when = "Open", issue = "OPEN", details = "{threshold}")]
    pub state: thorp_ops::health::stock::CircuitState,
    #[health(issue = "ORPHAN")]
    pub connections: u32,
}

fn main() {
    // The fallback impl keeps uses of the type compiling.
    let _ = PoolStats::NAME;
    let _ = stats_fn(|| -> PoolStats { unimplemented!() });
}
