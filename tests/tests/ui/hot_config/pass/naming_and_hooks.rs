//! Naming rules, raw identifiers, a user `ConfigValue` type and a `validate` hook.
#![deny(warnings)]

use thorp_ops::HotConfig;
use thorp_ops::config::{ConfigValue, Rejection, ValueError};

#[derive(Debug, PartialEq)]
struct Lamports(u64);

impl ConfigValue for Lamports {
    fn parse_value(raw: &str) -> Result<Self, ValueError> {
        match raw.strip_suffix("lamports") {
            Some(number) => u64::parse_value(number.trim()).map(Lamports),
            None => Err(ValueError::new("needs the unit `lamports`")),
        }
    }
}

#[derive(HotConfig, Debug)]
#[hot_config(rename_all = "SCREAMING_SNAKE_CASE", validate = checks::market_cap)]
struct Detection {
    min_market_cap: u64,
    max_market_cap: u64,
    #[hot_config(default = "5000lamports")]
    priority_fee: Lamports,
    r#type: String,
    #[hot_config(key = "DETECTION_ENABLED", default = "yes")]
    enabled: bool,
}

mod checks {
    use super::{Detection, Rejection};

    pub(crate) fn market_cap(detection: &Detection) -> Result<(), Rejection> {
        if detection.min_market_cap > detection.max_market_cap {
            return Err(Rejection::new("must not exceed MAX_MARKET_CAP").key("MIN_MARKET_CAP"));
        }
        Ok(())
    }
}

fn main() {
    let ok = Detection::from_env_str("MIN_MARKET_CAP=1\nMAX_MARKET_CAP=2\nTYPE=x\n");
    let ok = ok.map_err(|e| e.to_string());
    assert_eq!(ok.as_ref().map(|d| &d.priority_fee), Ok(&Lamports(5000)));
    assert_eq!(ok.map(|d| d.enabled), Ok(true));
    let bad = Detection::from_env_str("MIN_MARKET_CAP=3\nMAX_MARKET_CAP=2\nTYPE=x\n");
    assert_eq!(
        bad.map(|_| ()).map_err(|e| e.to_string()),
        Err("1: MIN_MARKET_CAP: must not exceed MAX_MARKET_CAP".to_owned())
    );
}
