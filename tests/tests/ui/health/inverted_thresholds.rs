use thorp_ops::health_component;

#[health_component]
pub struct BackpressureStats {
    #[health(degraded_above = 95, issue = "HIGH_UTILIZATION")]
    #[health(critical_above = 80, issue = "SYSTEM_OVERLOAD")]
    pub utilization: f64,
    #[health(degraded_below = 0.9, issue = "LOW_SUCCESS")]
    #[health(critical_below = 0.95, issue = "FAILING")]
    pub success_rate: f64,
}

fn main() {}
