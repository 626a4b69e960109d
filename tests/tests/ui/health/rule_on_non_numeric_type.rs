use thorp_ops::health_component;

pub struct Latency(pub f64);

#[health_component]
pub struct NodeStats {
    #[health(degraded_above = 100, issue = "HIGH_LATENCY")]
    pub latency: Latency,
}

fn main() {}
