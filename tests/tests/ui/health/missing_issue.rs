use thorp_ops::health_component;

#[health_component]
pub struct PoolStats {
    #[health(degraded_above = 100, details = "P95 latency {value}ms")]
    pub p95_latency_ms: f64,
}

fn main() {}
