//! Generated code adds no warning, even with every rustc lint group denied.
#![deny(warnings, missing_docs, unused, nonstandard_style, rust_2018_idioms, future_incompatible)]
#![deny(unreachable_pub, unused_qualifications, unused_results, trivial_casts, trivial_numeric_casts)]
#![deny(clippy::all, clippy::pedantic)]
#![forbid(unsafe_code)]

use std::time::Duration;
use thorp_ops::{HotConfig, Secret};
use url::Url;

/// Every shape the derive knows, in one struct.
#[derive(HotConfig, Debug)]
#[hot_config(component = "everything", prefix = "ALL_", key_prefix = "ALL_")]
pub struct Everything {
    /// An integer with bounds and a default.
    #[hot_config(range = 1..=10, default = 5)]
    pub small: u8,
    /// A signed integer below zero.
    #[hot_config(min = -5, default = -1)]
    pub signed: i64,
    /// A float.
    #[hot_config(range = 0.0..=1.0, default = 0.5)]
    pub ratio: f64,
    /// A flag.
    #[hot_config(default = true)]
    pub enabled: bool,
    /// Text that must be set.
    #[hot_config(non_empty)]
    pub name: String,
    /// A secret URL.
    #[hot_config(url(scheme = "https"), secret)]
    pub endpoint: Secret<Url>,
    /// A list.
    #[hot_config(non_empty, default = "a,b")]
    pub tags: Vec<String>,
    /// An optional duration with bounds.
    #[hot_config(range = "1ms"..="1h")]
    pub delay: Option<Duration>,
}

fn main() {
    let errors = Everything::from_env_str("").map(|_| ()).map_err(|e| e.errors().len());
    assert_eq!(errors, Err(2));
}
