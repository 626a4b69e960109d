use thorp_ops::HotConfig;

#[derive(HotConfig)]
struct Rpc {
    #[hot_config(default = 2000)]
    timeout_ms: u64,
}

fn main() {}
