use thorp_ops::HotConfig;

#[derive(HotConfig)]
struct Rpc {
    #[hot_config(key = "RPC_TIMEOUT_MS", min = 60_000, max = 100)]
    timeout_ms: u64,
}

fn main() {}
