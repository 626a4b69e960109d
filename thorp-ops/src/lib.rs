//! Production operations for latency-sensitive services: typed, validated, hot-reloaded
//! configuration and component health, with nothing on the hot path but an atomic load.
//!
//! # Configuration
//!
//! Declare each component's settings as a struct and derive [`HotConfig`]; the attributes give
//! each field its key, default, bounds and rules, and mark secrets. Loading a `.env` file types
//! every value and reports every problem at once, with file, line, key and value (redacted when
//! secret). [`HotReload`](config::HotReload) then keeps the file live: it watches the file's
//! directory, re-validates on every finished write, keeps the last good config when a new one is
//! bad, swaps snapshots atomically and notifies only the components whose keys changed.
//!
//! ```
//! use std::time::Duration;
//! use thorp_ops::{HotConfig, Secret};
//! use url::Url;
//!
//! /// RPC pool settings.
//! #[derive(HotConfig, Debug)]
//! #[hot_config(component = "rpcPool", prefix = "RPC_", prefix = "HELIUS_")]
//! struct RpcConfig {
//!     /// Primary endpoint; its query string carries the API key.
//!     #[hot_config(key = "HELIUS_RPC_URL", url(scheme = "https"), secret)]
//!     helius_url: Secret<Url>,
//!     /// Per-request timeout.
//!     #[hot_config(key = "RPC_TIMEOUT", range = "100ms"..="1m", default = "2s")]
//!     timeout: Duration,
//! }
//!
//! let config = RpcConfig::from_env_str("HELIUS_RPC_URL=https://rpc.example.com/?api-key=k\n")?;
//! assert_eq!(config.timeout, Duration::from_secs(2));
//! assert_eq!(format!("{config:?}"), "RpcConfig { helius_url: [redacted], timeout: 2s }");
//!
//! let errors = RpcConfig::from_env_str("HELIUS_RPC_URL=ftp://rpc.example.com\nRPC_TIMEOUT=5\n")
//!     .unwrap_err();
//! assert_eq!(
//!     errors.to_string(),
//!     "1: HELIUS_RPC_URL: [redacted] has scheme ftp (expected an absolute URL with scheme https)\n\
//!      2: RPC_TIMEOUT: \"5\" is not a duration (expected 100ms..=1m)"
//! );
//! # Ok::<(), thorp_ops::config::ConfigErrors>(())
//! ```
//!
//! Readers call [`Store::load`](config::Store::load) (or keep a per-thread
//! [`ReadHandle`](config::ReadHandle)) and never wait for a reload.
//!
//! # Health
//!
//! Put [`health_component`] on the stats struct a component already has; each field becomes a
//! metric with its unit and each `#[health(...)]` attribute a rule with an issue code, a message
//! and a threshold that config can override at run time. A
//! [`HealthMonitor`](health::HealthMonitor) checks every component concurrently on an interval,
//! each under a timeout, publishes the latest report, keeps the history and raises alerts.
//!
//! ```
//! use thorp_ops::health::{stats_fn, HealthMonitor, HealthStatus};
//! use thorp_ops::health_component;
//!
//! /// What the order router counts.
//! #[health_component(name = "orderRouter")]
//! pub struct RouterStats {
//!     /// Orders waiting to be sent.
//!     #[health(degraded_above = 100, issue = "ROUTER_BACKLOG",
//!              details = "{value} orders queued (limit {threshold})")]
//!     #[health(critical_above = 1000, issue = "ROUTER_STUCK")]
//!     pub queued: u32,
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let monitor = HealthMonitor::builder()
//!     .component(stats_fn(|| RouterStats { queued: 250 }))
//!     .build()?;
//! monitor.start()?;
//! let report = monitor.first_report().await;
//! let router = &report.component("orderRouter").unwrap().health;
//! assert_eq!(router.status, HealthStatus::Degraded);
//! assert_eq!(router.details.as_deref(), Some("250 orders queued (limit 100)"));
//! monitor.stop().await;
//! # Ok(()) }
//! ```
//!
//! Attributes, rules and override keys: [`health`]. The seed's four components ship ready made
//! in [`health::stock`].
//!
//! # Ops endpoints
//!
//! With the `http` feature (default), [`http::OpsRouter`] serves the monitor's reports, the
//! probes (`/livez`, `/readyz`), Prometheus metrics, the config view and history, alerts with
//! an authenticated acknowledgement, and a self-contained dashboard, as one axum router to
//! mount or serve on 127.0.0.1. It only reads what was published: no request runs a check.
//!
//! # What is written here rather than taken from a crate
//!
//! Dependencies are chosen for the job: `notify` watches files, `arc-swap` swaps snapshots,
//! `thiserror` derives errors, `url` parses URLs, `strsim` suggests keys. Four small pieces are
//! our own, each because no crate gives what is needed:
//! - [`envfile`]: `dotenvy` reports no line numbers for values, keeps the first of duplicate
//!   keys and echoes whole lines (secrets included) in its errors.
//! - [`time`]: formatting a UTC timestamp is the only date arithmetic needed; `chrono` or `time`
//!   would be a large dependency for one function.
//! - [`secret`]: `secrecy` zeroizes and forbids `Clone` by default, which a config that is
//!   cloned into snapshots cannot use; what is needed is only redacting `Debug`/`Serialize`.
//! - [`health::ProcProbe`]: four numbers from `/proc/self` per check; `sysinfo` would scan the
//!   whole system and `procfs` brings a large API (and `rustix`) for four small reads.

#![forbid(unsafe_code)]

#[allow(
    unused_extern_crates,
    reason = "lets code generated inside this crate name `::thorp_ops`"
)]
extern crate self as thorp_ops;

pub mod config;
pub mod envfile;
mod error_text;
pub mod health;
#[cfg(feature = "http")]
pub mod http;
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
#[cfg(feature = "derive")]
#[doc(inline)]
pub use thorp_ops_derive::health_component;
