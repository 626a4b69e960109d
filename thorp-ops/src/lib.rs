//! Production operations for latency-sensitive services.

#[allow(
    unused_extern_crates,
    reason = "lets code generated inside this crate name `::thorp_ops`"
)]
extern crate self as thorp_ops;

pub mod config;
pub mod envfile;
pub mod secret;
pub mod time;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

#[doc(inline)]
pub use config::HotConfig;
#[doc(inline)]
pub use secret::Secret;
#[cfg(feature = "derive")]
pub use thorp_ops_derive::HotConfig;
