use std::time::Duration;
use thorp_ops::HotConfig;

#[derive(HotConfig)]
struct Shutdown {
    #[hot_config(key = "SHUTDOWN_TIMEOUT", default = 10)]
    timeout: Duration,
}

fn main() {}
