use thorp_ops::health_component;

#[health_component]
pub struct NodeStats {
    #[health(degraded_above = 100, issue = "HIGH_LATENCY")]
    pub latency: String,
}

fn main() {}
