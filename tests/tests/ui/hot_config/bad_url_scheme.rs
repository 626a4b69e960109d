use thorp_ops::HotConfig;
use url::Url;

#[derive(HotConfig)]
struct Rpc {
    #[hot_config(key = "HELIUS_RPC_URL", url(scheme = "https://"))]
    helius_url: Url,
}

fn main() {}
