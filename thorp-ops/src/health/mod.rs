//! Health monitoring: component checks generated from `#[health_component]` stats types, the
//! monitor task, history, trends and alerts.
//!
//! Health flows one way, from components to operators:
//!
//! ```text
//! component stats ──generated evaluate (thresholds from attributes, overridable)──> ComponentHealth
//! monitor tick ──> every check concurrently, each under a timeout ──> HealthReport (+ system)
//!     ──> watch channel (latest) · history ring · alert rules ──> sinks
//! ```
//!
//! # Declaring a component
//!
//! Put `#[health_component]` on the struct a component already returns from its `stats()`.
//! Each `#[health(...)]` attribute on a field is one rule; every field is a metric.
//!
//! ```
//! use thorp_ops::health::{stats_fn, CheckContext, HealthStats, HealthStatus, HealthState};
//! use thorp_ops::health_component;
//!
//! #[derive(Clone, Copy)]
//! pub enum Feed { Live, Lagging, Down }
//!
//! impl HealthState for Feed {
//!     fn as_str(&self) -> &'static str {
//!         match self { Feed::Live => "LIVE", Feed::Lagging => "LAGGING", Feed::Down => "DOWN" }
//!     }
//! }
//!
//! #[health_component(name = "priceFeed")]
//! pub struct PriceFeedStats {
//!     #[health(degraded_above = 250, issue = "FEED_SLOW", key = "HEALTH_MAX_FEED_AGE_MS",
//!              details = "last tick {value}ms ago, over {threshold}ms")]
//!     #[health(critical_above = 2000, issue = "FEED_STALE")]
//!     pub tick_age_ms: u64,
//!     #[health(critical_when = "Down", issue = "FEED_DOWN", details = "feed is {value}")]
//!     #[health(degraded_when = "Lagging", issue = "FEED_LAGGING")]
//!     pub state: Feed,
//!     #[health(unit = "per_second", rename = "ticks")]
//!     pub ticks_per_second: f64,
//! }
//!
//! let stats = PriceFeedStats { tick_age_ms: 300, state: Feed::Live, ticks_per_second: 40.0 };
//! let health = stats.evaluate(&CheckContext::default());
//! assert_eq!(health.status, HealthStatus::Degraded);
//! assert_eq!(health.details.as_deref(), Some("last tick 300ms ago, over 250ms"));
//! assert_eq!(PriceFeedStats::RULES[1].key(), Some("HEALTH_PRICE_FEED_TICK_AGE_MS_CRITICAL_ABOVE"));
//!
//! let component = stats_fn(|| PriceFeedStats { tick_age_ms: 5, state: Feed::Live, ticks_per_second: 40.0 });
//! ```
//!
//! ## Attribute reference
//!
//! `#[health_component]` on a struct with named fields, no generics:
//! - `name = "rpcPool"`: the component's name in reports. Default: the struct's name in
//!   lowerCamelCase without a trailing `Stats` (`RpcPoolStats` → `rpcPool`).
//! - `readiness = false`: the component being critical does not make the service not ready
//!   (see [`HealthReport::readiness_blockers`]); for failures the service rides out, like an
//!   open circuit breaker. Default `true`.
//!
//! `#[health(...)]` on a field, any number of times; each attribute holds at most one rule:
//! - `degraded_above = N`, `critical_above = N`: violated while the value is greater than N
//!   (strictly: the value N itself passes). `degraded_below`, `critical_below`: less than N.
//!   Numeric fields only; N is an integer or float literal. `NaN` never passes.
//! - `degraded_when = "Variant"`, `critical_when = "A | B"`: violated while the field (an enum
//!   implementing [`HealthState`]) is one of the variants. A misspelt variant is a compile error
//!   pointing at the string.
//! - `issue = "CODE"` (required with a rule): the issue code, SCREAMING_SNAKE_CASE.
//! - `details = "..."` (optional): the message, with placeholders `{value}`, `{threshold}`
//!   (threshold rules) and the name of any other field; each may carry a format: `{value:.2}`
//!   (decimals), `{value:%}` / `{value:.1%}` (times 100, with `%`). `{{`/`}}` are braces.
//!   Without it the message is `"<metric> <value> is above <threshold>"`.
//! - `key = "HEALTH_..."` (threshold rules): the override key. Default:
//!   `HEALTH_<COMPONENT>_<FIELD>_<RULE>`, e.g. `HEALTH_RPC_POOL_P95_LATENCY_MS_DEGRADED_ABOVE`.
//!
//! Field options, once per field, alone or in a rule's attribute:
//! - `unit = "ms"`: one of `ms`, `us`, `s`, `bytes`, `MB`, `percent`, `ratio`, `per_second`,
//!   `count`. Default: inferred from the name's suffix (`_ms`, `_us`, `_secs`/`_seconds`,
//!   `_bytes`, `_mb`, `_pct`/`_percent`, `_ratio`, `_per_sec`/`_per_second`), else none. A
//!   `_rate` suffix is deliberately not inferred: it may be a ratio or a frequency.
//! - `rename = "throughput"`: the metric's name (default: the field in lowerCamelCase).
//! - `skip`: not a metric, no rules (for fields that are not readings).
//!
//! Among violated rules the worst status wins; among rules of that status the first declared
//! gives `issue` and `details`; all violations are listed in `violations`.
//!
//! ### Why an attribute on the struct
//! Thresholds are facts about a field (its unit, its healthy range), so they sit on the field,
//! next to its type, where a reviewer sees them; the generated `evaluate` is a pure function of
//! the stats value and the overrides, testable without a monitor. An attribute macro (rather
//! than a derive) lets the helper attributes be removed from the item it emits.
//!
//! # Overriding thresholds at run time
//!
//! Every threshold rule has a stable key. Explicit `key = "..."` is for the thresholds
//! operators tune (the stock components' keys are explicit and documented in [`stock`]); the
//! derived key keeps every other threshold reachable without ceremony. A key sets exactly the
//! number the rule compares against, in the field's unit, with no hidden arithmetic: the seed's
//! `maxErrorRate = 0.05` is `HEALTH_MIN_RPC_SUCCESS_RATE=0.95` here, and `maxQueueUtil = 0.9`
//! is `HEALTH_MAX_QUEUE_UTIL_PCT=90`.
//!
//! Overrides travel in [`MonitorSettings::thresholds`]; [`HealthMonitor::apply_settings`]
//! validates them against the registered components (unknown keys with a did-you-mean, non-finite
//! values, a degraded threshold made stricter than its critical one) and applies them from the
//! next check on. [`HealthMonitor::thresholds`] lists every key with its value in force.
//!
//! # From the config file
//!
//! The monitor's keys have one definition, [`HealthConfig`] (with the `derive` feature): the
//! fixed keys (`HEALTH_CHECK_INTERVAL_MS`, `ALERT_*`, `MONITOR_*`) as typed, bounded fields,
//! and `HEALTH_` as an open prefix for the threshold keys, whose names depend on the components
//! registered. Flatten it into the application's config and let the monitor follow it:
//!
//! ```
//! use thorp_ops::HotConfig;
//! use thorp_ops::config::{HotReload, ReloadOptions};
//! use thorp_ops::health::{HealthConfig, HealthMonitor};
//!
//! /// The service's config.
//! #[derive(HotConfig)]
//! struct ServiceConfig {
//!     /// The health monitor's keys.
//!     #[hot_config(flatten)]
//!     health: HealthConfig,
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let dir = std::env::temp_dir().join(format!("thorp-health-doc-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir)?;
//! # let path = dir.join("service.env");
//! # std::fs::write(&path, "HEALTH_CHECK_INTERVAL_MS=5000\n")?;
//! let config = HotReload::<ServiceConfig>::start(&path, ReloadOptions::default()).await?;
//! let monitor = HealthMonitor::new();
//! monitor.follow_config(&config, |c: &ServiceConfig| &c.health)?;
//! assert_eq!(monitor.settings().check_interval.as_millis(), 5000);
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok(()) }
//! ```
//!
//! A bad fixed value is refused by the loader with its file, line and key; a threshold key no
//! registered rule has, or thresholds that contradict each other, by the monitor's veto. Either
//! way the whole file is refused and what runs stays as it was.
//!
//! # Components that are not stats
//!
//! [`BasicHealth`] is the seed's `isHealthy`/`getStatus` fallback; [`HealthCheck`] is the full
//! hand-written check. Both may be async.
//!
//! # Delivering alerts
//!
//! Alerts go to every [`AlertSink`] on the builder, off the monitor's path; [`LogSink`] is on
//! by default. With the `webhook` feature (default), `WebhookSink` POSTs each event as JSON to
//! a URL from a bounded queue, with a timeout and retries with backoff; `webhook-tls` adds
//! `https`.

mod alert;
mod component;
#[cfg(feature = "derive")]
mod config;
mod history;
mod monitor;
#[doc(hidden)]
pub mod private;
mod report;
mod rules;
mod settings;
mod status;
#[cfg(feature = "derive")]
pub mod stock;
mod system;
mod timestamp;
#[cfg(feature = "webhook")]
mod webhook;

pub use alert::{AckError, Alert, AlertEvent, AlertKind, AlertSink, AlertTransition, LogSink};
pub use component::{
    BasicCheck, BasicHealth, BoxError, FnStats, HealthCheck, StatsCheck, StatsSource, UNHEALTHY,
    stats_fn,
};
#[cfg(feature = "derive")]
pub use config::HealthConfig;
pub use history::{HealthSummary, Trend};
pub use monitor::{HealthMonitor, HealthMonitorBuilder, MonitorError, StartOutcome, ThresholdInfo};
pub use report::{
    CHECK_FAILED, CHECK_PANICKED, CHECK_TIMEOUT, ComponentHealth, ComponentReport, HIGH_MEMORY,
    HealthReport, MemoryMetrics, Metric, MetricValue, SystemMetrics, Unit, Violation,
};
pub use rules::{
    CheckContext, HealthNumber, HealthState, HealthStats, MetricField, MetricSpec, RuleKind,
    RuleSpec, ThresholdOverrides,
};
pub use settings::{AlertSettings, MonitorSettings, SettingsError, SettingsRejected};
pub use status::HealthStatus;
pub use system::{ProcProbe, SystemProbe, SystemSample};
#[cfg(feature = "webhook")]
pub use webhook::{WebhookBuilder, WebhookError, WebhookSink, WebhookStats};
