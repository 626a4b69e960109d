use thorp_ops::health::stock::CircuitState;
use thorp_ops::health_component;

#[health_component]
pub struct BreakerStats {
    #[health(critical_when = "Opne", issue = "CIRCUIT_BREAKER_OPEN")]
    pub state: CircuitState,
}

fn main() {}
