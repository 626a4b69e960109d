//! A leaf type known only through `FromStr` parses through it, default included.
#![deny(warnings)]

use std::str::FromStr;
use thorp_ops::HotConfig;

#[derive(Debug, PartialEq)]
enum Mode {
    Live,
    Paper,
}

impl FromStr for Mode {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "live" => Ok(Self::Live),
            "paper" => Ok(Self::Paper),
            _ => Err("expected live or paper".to_owned()),
        }
    }
}

#[derive(HotConfig, Debug)]
#[hot_config(rename_all = "SCREAMING_SNAKE_CASE")]
struct Trading {
    #[hot_config(default = "paper")]
    mode: Mode,
    fallback_modes: Vec<Mode>,
    next_mode: Option<Mode>,
    address: std::net::SocketAddr,
}

fn main() {
    let trading = Trading::from_env_str("FALLBACK_MODES=live,paper\nADDRESS=127.0.0.1:8899\n");
    let trading = trading.map_err(|e| e.to_string());
    assert_eq!(trading.as_ref().map(|t| &t.mode), Ok(&Mode::Paper));
    assert_eq!(trading.map(|t| t.fallback_modes), Ok(vec![Mode::Live, Mode::Paper]));
}
