use thorp_ops::health_component;

#[health_component]
pub struct PoolStats {
    #[health(warning_above = 100, issue = "HIGH_LATENCY")]
    pub p95_latency_ms: f64,
}

fn main() {}
