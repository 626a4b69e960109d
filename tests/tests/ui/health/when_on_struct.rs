use thorp_ops::health_component;

pub struct Breaker {
    pub open: bool,
}

#[health_component]
pub struct BreakerStats {
    #[health(critical_when = "Open", issue = "CIRCUIT_BREAKER_OPEN")]
    pub state: Breaker,
}

fn main() {}
