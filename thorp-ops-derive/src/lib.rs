//! Macros for `thorp-ops`. Use them through the `thorp-ops` crate, which re-exports them.

mod errors;
mod health;
mod hot_config;
mod spanned;

use proc_macro::TokenStream;
use syn::{DeriveInput, parse_macro_input};

/// Derives `thorp_ops::HotConfig`: typed loading, validation, defaults, secret redaction and
/// change routing for a config struct. See the `thorp_ops::HotConfig` docs for the attributes.
#[proc_macro_derive(HotConfig, attributes(hot_config))]
pub fn derive_hot_config(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    hot_config::derive(&input).into()
}

/// Generates health rules and a metric listing for a component's stats struct: an
/// implementation of `thorp_ops::health::HealthStats`.
///
/// ```ignore
/// #[health_component(name = "rpcPool")]
/// pub struct RpcPoolStats {
///     #[health(critical_below = 0.95, issue = "HIGH_ERROR_RATE", unit = "ratio",
///              details = "Success rate {value:.0%} below {threshold:.0%}")]
///     pub success_rate: f64,
///     #[health(degraded_above = 100, issue = "HIGH_LATENCY", key = "HEALTH_MAX_RPC_LATENCY_MS")]
///     pub p95_latency_ms: f64,
/// }
/// ```
///
/// The attribute reference, with tested examples, is the `thorp_ops::health` module's
/// documentation.
#[proc_macro_attribute]
pub fn health_component(args: TokenStream, input: TokenStream) -> TokenStream {
    health::health_component(args.into(), input.into()).into()
}
