//! The components of the `trading-node` reference service and the RPC simulator it runs on.
//!
//! Each component is small, owns one concern, keeps its settings in a plain struct and
//! reports a plain stats struct through `stats()`:
//!
//! | module | component | stats |
//! |---|---|---|
//! | [`simulator`] | in-process Solana-like JSON-RPC server with fault injection | [`simulator::SimulatorStats`] |
//!
//! None of them depends on the `thorp-ops` config store or health monitor yet: settings are
//! applied with an `update(..)` method and the detection consumer reads its settings through a
//! [`SettingsSource`](source::SettingsSource), so both plug into the framework unchanged.

pub mod backpressure;
pub mod event_bus;
pub mod jsonrpc;
pub mod rpc_pool;
pub mod simulator;
pub mod solana;

pub(crate) mod latency;
pub(crate) mod window;
