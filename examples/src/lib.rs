//! Components and helpers shared by the runnable programs.
//!
//! [`node`] holds the real components of the `trading-node` reference service (RPC pool,
//! circuit breaker, event bus, backpressure, shutdown, detection) and the embedded RPC
//! simulator it runs against offline. Nothing here is part of `thorp-ops`: the framework knows
//! nothing about Solana or trading; these modules are its first user.

// Unit tests state their preconditions with `unwrap`: a broken one is a failed test, which is
// what we want; the library code itself stays under the workspace's unwrap/expect lints.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod node;
