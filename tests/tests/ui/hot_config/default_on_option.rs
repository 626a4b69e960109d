use thorp_ops::HotConfig;

#[derive(HotConfig)]
struct Rpc {
    #[hot_config(key = "RPC_MAX_RETRIES", default = 3)]
    max_retries: Option<u8>,
}

fn main() {}
