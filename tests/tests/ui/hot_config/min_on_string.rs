use thorp_ops::HotConfig;

#[derive(HotConfig)]
struct Logging {
    #[hot_config(key = "LOG_FORMAT", min = 1)]
    format: String,
}

fn main() {}
