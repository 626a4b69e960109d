//! Components and schemas shared by the runnable programs and the integration tests.
//!
//! [`node`] holds the real components of the `trading-node` reference service (RPC pool,
//! circuit breaker, event bus, backpressure, shutdown, detection) and the embedded RPC
//! simulator it runs against offline. [`trading`] wires them into the service: its config
//! file, start-up, hot reload routing, shutdown and command line. [`seed`] holds the seed
//! notes' config schema. [`load`] drives HTTP load at the ops endpoints, for the load test and
//! the benchmark. Nothing here is part of `thorp-ops`: the framework knows nothing about
//! Solana or trading; these modules are its first user.

#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        reason = "unit tests: a failed unwrap is a failed test; library code stays under the lints"
    )
)]

pub mod load;
pub mod node;
pub mod seed;
pub mod trading;
