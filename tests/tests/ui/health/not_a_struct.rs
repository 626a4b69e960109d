use thorp_ops::health_component;

#[health_component]
pub enum PoolStats {
    Up,
    Down,
}

fn main() {}
