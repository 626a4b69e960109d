use thorp_ops::HotConfig;

#[derive(HotConfig)]
struct Rpc {
    #[hot_config(key = "RPC_TIMEOUT_MS", default = "abc")]
    timeout_ms: u64,
}

fn main() {}
