use thorp_ops::HotConfig;
use url::Url;

#[derive(HotConfig)]
struct Rpc {
    #[hot_config(key = "PUBLIC_RPC_URL", url(scheme = "https"), default = "http://api.example.com")]
    public_url: Url,
}

fn main() {}
