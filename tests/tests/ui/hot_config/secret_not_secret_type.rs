use thorp_ops::HotConfig;

#[derive(HotConfig)]
struct Rpc {
    #[hot_config(key = "RPC_API_KEY", secret)]
    api_key: String,
}

fn main() {}
