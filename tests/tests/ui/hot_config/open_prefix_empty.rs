use thorp_ops::HotConfig;

#[derive(HotConfig)]
#[hot_config(component = "healthMonitor", open_prefix = "")]
struct Health {
    #[hot_config(key = "HEALTH_CHECK_INTERVAL_MS", default = 30000)]
    check_interval_ms: u64,
}

fn main() {}
