use thorp_ops::health_component;

#[health_component]
pub struct PoolStats {
    #[health(degraded_above = 100, issue = "HIGH_LATENCY")]
    #[health(degraded_above = 150, issue = "HIGHER_LATENCY")]
    pub p95_latency_ms: f64,
}

fn main() {}
