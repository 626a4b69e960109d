//! Duration fields take bounds and defaults as strings with units.
#![deny(warnings)]

use std::time::Duration;
use thorp_ops::HotConfig;

#[derive(HotConfig, Debug)]
#[hot_config(key_prefix = "HEALTH_")]
struct Health {
    #[hot_config(range = "100ms"..="1m", default = "2s")]
    interval: Duration,
    #[hot_config(range = "1s"..)]
    timeout: Option<Duration>,
    #[hot_config(range = ..="1h", default = "1h")]
    grace: Duration,
    #[hot_config(min = "1ms", max = "1s", default = "1ms")]
    jitter: Duration,
}

fn main() {
    let health = Health::from_env_str("HEALTH_TIMEOUT=1m30s\n").map_err(|e| e.to_string());
    let health = match health {
        Ok(health) => health,
        Err(errors) => panic!("{errors}"),
    };
    assert_eq!(health.interval, Duration::from_secs(2));
    assert_eq!(health.timeout, Some(Duration::from_secs(90)));
    let errors = Health::from_env_str("HEALTH_INTERVAL=50ms\nHEALTH_TIMEOUT=999ms\n");
    assert_eq!(errors.map_err(|e| e.errors().len()).map(|_| ()), Err(2));
}
