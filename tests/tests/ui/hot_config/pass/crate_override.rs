//! `crate = "..."` makes generated code name the runtime through another path.
#![deny(warnings)]

mod reexports {
    pub use thorp_ops as ops;
}

use reexports::ops::HotConfig;

/// Retries.
#[derive(HotConfig, Debug)]
#[hot_config(crate = "reexports::ops", component = "retry", prefix = "RETRY_")]
struct Retry {
    /// How often to retry.
    #[hot_config(key = "RETRY_COUNT", range = 0..=10, default = 3)]
    count: u8,
    /// How long to wait between retries.
    #[hot_config(key = "RETRY_DELAY", range = "10ms"..="10s", default = "250ms")]
    delay: std::time::Duration,
}

/// The whole config.
#[derive(HotConfig, Debug)]
#[hot_config(crate = "crate::reexports::ops")]
struct App {
    #[hot_config(flatten)]
    retry: Retry,
}

fn main() {
    let app = App::from_env_str("RETRY_COUNT=4\n").map_err(|e| e.to_string());
    assert_eq!(app.as_ref().map(|app| app.retry.count), Ok(4));
    assert_eq!(app.map(|app| app.retry.delay.as_millis()), Ok(250));
}
