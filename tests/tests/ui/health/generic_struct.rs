use thorp_ops::health_component;

#[health_component]
pub struct PoolStats<T> {
    #[health(degraded_above = 100, issue = "HIGH_LATENCY")]
    pub p95_latency_ms: T,
}

fn main() {}
