use thorp_ops::{HotConfig, Secret};

#[derive(HotConfig)]
struct Rpc {
    #[hot_config(key = "RPC_API_KEY", secret = true)]
    api_key: Secret<String>,
}

fn main() {}
