//! Macros for `thorp-ops`. Use them through the `thorp-ops` crate, which re-exports them.

mod errors;
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
