use thorp_ops::HotConfig;

// Every mistake in one struct is reported in one compile: none hides another.
#[derive(HotConfig)]
#[hot_config(prefix = "RPC_", rename_all = "kebab-case")]
struct Rpc {
    #[hot_config(key = "RPC_TIMEOUT_MS", min = 500, max = 100)]
    timeout_ms: u64,
    #[hot_config(key = "RPC_TIMEOUT_MS")]
    slow_timeout_ms: u64,
    #[hot_config(key = "RPC_NAME", min = 1, url)]
    name: String,
    #[hot_config(key = "RPC_RETRIES", default = 300, non_empty)]
    retries: u8,
    #[hot_config(key = "RPC_TOKEN", secret, sekret)]
    token: String,
    #[hot_config(key = "RPC SIZE")]
    size: u32,
}

fn main() {}
