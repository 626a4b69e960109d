use thorp_ops::HotConfig;

#[derive(HotConfig)]
#[hot_config(compnent = "rpcPool")]
struct Rpc {
    #[hot_config(key = "RPC_TIMEOUT_MS", default = 2000)]
    timeout_ms: u64,
}

fn main() {}
