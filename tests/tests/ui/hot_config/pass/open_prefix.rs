//! `open_prefix` hands the keys under it that no field declares to the section's component:
//! kept in the values, routed to it, never an unknown-key warning; and it survives flatten.
#![deny(warnings)]

use thorp_ops::HotConfig;
use thorp_ops::config::{ConfigWarning, load_str};

/// Per-feature switches, named after features only known at run time.
#[derive(HotConfig, Debug)]
#[hot_config(component = "features", open_prefix = "FEATURE_", open_prefix = "FLAG_", prefix = "FEATURES_")]
struct Features {
    /// Whether unlisted features default to on.
    #[hot_config(key = "FEATURES_DEFAULT_ON", default = false)]
    default_on: bool,
}

/// The whole config.
#[derive(HotConfig, Debug)]
struct App {
    #[hot_config(flatten)]
    features: Features,
}

fn main() {
    let component = App::SCHEMA.components()[0];
    assert_eq!(component.prefixes, ["FEATURES_", "FEATURE_", "FLAG_"]);
    assert_eq!(Features::SCHEMA.open_prefixes, ["FEATURE_", "FLAG_"]);

    let loaded =
        load_str::<App>("FEATURE_DARK_MODE=on\nFLAG_X=1\nFEATURES_DEFAULT_ONN=true\n").unwrap();
    assert!(!loaded.config.features.default_on);
    assert_eq!(
        loaded.values.get("FEATURE_DARK_MODE").and_then(|s| s.expose()),
        Some("on")
    );
    assert!(matches!(
        &loaded.warnings[..],
        [ConfigWarning::UnknownKey { key, .. }] if key == "FEATURES_DEFAULT_ONN"
    ));
}
