use std::time::Duration;
use thorp_ops::HotConfig;

#[derive(HotConfig)]
struct Rpc {
    #[hot_config(key = "RPC_TIMEOUT", range = 100..="1m")]
    timeout: Duration,
}

fn main() {}
