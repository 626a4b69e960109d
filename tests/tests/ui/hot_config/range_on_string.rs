use thorp_ops::HotConfig;

#[derive(HotConfig)]
struct Logging {
    #[hot_config(key = "LOG_LEVEL", range = 1..=5)]
    level: String,
}

fn main() {}
