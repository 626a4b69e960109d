use thorp_ops::HotConfig;

#[derive(HotConfig)]
#[hot_config(rename_all = "camelCase")]
struct Rpc {
    timeout_ms: u64,
}

fn main() {}
