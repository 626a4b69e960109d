use thorp_ops::health_component;

#[health_component]
pub struct BreakerStats {
    #[health(critical_when = "Open", issue = "CIRCUIT_BREAKER_OPEN")]
    pub state: u8,
}

fn main() {}
