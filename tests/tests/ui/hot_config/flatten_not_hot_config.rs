use thorp_ops::HotConfig;

struct Plain {
    timeout_ms: u64,
}

#[derive(HotConfig)]
struct App {
    #[hot_config(flatten)]
    rpc: Plain,
}

fn main() {}
