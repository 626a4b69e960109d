use thorp_ops::health_component;

#[health_component]
pub struct PoolStats {
    #[health(degraded_above = 100, issue = "HIGH_LATENCY", details = "P95 {latency}ms over {threshold}ms")]
    pub p95_latency_ms: f64,
    pub active_connections: u32,
}

fn main() {}
