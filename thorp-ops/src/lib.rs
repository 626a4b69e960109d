//! Production operations for latency-sensitive services.

// Generated code names `::thorp_ops::...`; this lets the crate use its own macros too.
extern crate self as thorp_ops;

pub mod envfile;
pub mod health;

#[cfg(feature = "derive")]
#[doc(inline)]
pub use thorp_ops_derive::health_component;

#[doc(hidden)]
pub mod __private {
    pub use crate::health::private as health;
}
