//! The `trading-node` reference service: its config file, its wiring and its command line.
//!
//! | module | owns |
//! |---|---|
//! | [`config`] | one `HotConfig` section per component, the [`NodeConfig`](config::NodeConfig) root, conversions to settings |
//! | [`node`] | [`TradingNode`](node::TradingNode): starts the components, routes config changes, runs the pipeline, shuts down |
//! | [`health`] | the components as the health monitor sees them: stock stats types and conversions |
//! | [`check`] | `--check`: every problem of a config file as `PATH:LINE: KEY: message` |
//! | [`cli`] | the command line, parsed by hand |
//! | [`logging`] | the tracing subscriber the binary installs, with a live `LOG_LEVEL` |
//!
//! The binary (`src/bin/trading-node.rs`) only parses arguments, installs logging and calls
//! into these modules, so everything it does is reachable from the integration tests.

pub mod check;
pub mod cli;
pub mod config;
pub mod health;
pub mod logging;
pub mod node;
