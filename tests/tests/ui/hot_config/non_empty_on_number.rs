use thorp_ops::HotConfig;

#[derive(HotConfig)]
struct Rpc {
    #[hot_config(key = "RPC_MAX_RETRIES", non_empty)]
    max_retries: u8,
}

fn main() {}
