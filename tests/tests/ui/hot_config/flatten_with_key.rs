use thorp_ops::HotConfig;

#[derive(HotConfig)]
#[hot_config(rename_all = "SCREAMING_SNAKE_CASE")]
struct Rpc {
    timeout_ms: u64,
}

#[derive(HotConfig)]
struct App {
    #[hot_config(flatten, key = "RPC")]
    rpc: Rpc,
}

fn main() {}
