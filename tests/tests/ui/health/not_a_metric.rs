use thorp_ops::health_component;

#[health_component]
pub struct PoolStats {
    pub p95_latency_ms: f64,
    pub endpoints: Vec<String>,
}

fn main() {}
