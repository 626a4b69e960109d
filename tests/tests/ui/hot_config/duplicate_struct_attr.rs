use thorp_ops::HotConfig;

#[derive(HotConfig)]
#[hot_config(component = "rpcPool")]
#[hot_config(component = "eventBus")]
struct Rpc {
    #[hot_config(key = "RPC_TIMEOUT_MS", default = 2000)]
    timeout_ms: u64,
}

fn main() {}
