use thorp_ops::HotConfig;

#[derive(HotConfig)]
struct Rpc {
    #[hot_config(key = "HELIUS_RPC_URL", url(scheme = "https"))]
    helius_url: String,
}

fn main() {}
