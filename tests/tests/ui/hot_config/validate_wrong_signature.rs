use thorp_ops::HotConfig;

#[derive(HotConfig)]
#[hot_config(validate = check_market_cap)]
struct Detection {
    #[hot_config(key = "MIN_MARKET_CAP", default = 0)]
    min_market_cap: u64,
    #[hot_config(key = "MAX_MARKET_CAP", default = 1000)]
    max_market_cap: u64,
}

fn check_market_cap(detection: &Detection) -> bool {
    detection.min_market_cap <= detection.max_market_cap
}

fn main() {}
