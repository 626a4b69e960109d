//! The `trading-node` config file: one `HotConfig` section per component, the root that
//! flattens them, and the conversions into each component's own settings.
//!
//! The split of responsibilities:
//! - **key attributes** carry the rules of one value (bounds, URL schemes, secrecy), so the
//!   loader reports them with file, line and key;
//! - **`validate` hooks** carry the rules across keys of one section (minimum below maximum,
//!   no endpoint listed twice), reported the same way;
//! - **conversions** (`From<&XConfig> for XSettings`) turn a section into the plain settings
//!   struct the component already knows, so the components stay free of the framework; the
//!   health monitor's section is the library's own [`HealthConfig`], flattened as it is, which
//!   the monitor follows itself ([`thorp_ops::health::HealthMonitor::follow_config`]);
//! - **vetoes** (registered by [`crate::trading::node`]) run each settings' own `validate()`
//!   on a reload, so a component refuses what it could not apply even if a rule were missing
//!   here. [`NodeConfig::settings_problems`] runs the same checks at start and for `--check`.
//!
//! Keys marked "at restart" are read once when the node starts: a live event queue cannot be
//! resized, the ops socket is bound once, the simulator's slot clock is fixed. Changing them in
//! a running node is applied to the config view and logged as needing a restart.

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;

use thorp_ops::config::{Rejection, Values};
use thorp_ops::health::HealthConfig;
use thorp_ops::{HotConfig, Secret};
use tokio::time::Duration;
use url::Url;

use crate::node::backpressure::BackpressureSettings;
use crate::node::breaker::CircuitBreakerSettings;
use crate::node::detection::DetectionSettings;
use crate::node::event_bus::EventBusSettings;
use crate::node::invalid::InvalidSettings;
use crate::node::poller::SlotPollerSettings;
use crate::node::rpc_pool::{RetrySettings, RpcPoolSettings};
use crate::node::shutdown::ShutdownSettings;
use crate::node::simulator::SimulatorSettings;
use crate::node::solana::Commitment;
pub use crate::seed::LogLevel;

fn millis(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

// ---------------------------------------------------------------------------------------------
// rpcPool

/// RPC endpoints, timeouts, concurrency and retries (`rpcPool`).
///
/// With no URL set the node runs against the embedded simulator (see [`SimulatorConfig`]).
#[derive(HotConfig, Debug, Clone, PartialEq)]
#[hot_config(
    component = "rpcPool",
    prefix = "RPC_",
    prefix = "HELIUS_",
    prefix = "CHAINSTACK_",
    prefix = "PUBLIC_",
    validate = RpcPoolConfig::check
)]
pub struct RpcPoolConfig {
    /// Primary endpoint, tried first; Helius puts the API key in the query string.
    #[hot_config(key = "HELIUS_RPC_URL", url(scheme = "https", scheme = "http"), secret)]
    pub helius_url: Option<Secret<Url>>,
    /// Secondary endpoint; Chainstack puts the API key in the path.
    #[hot_config(
        key = "CHAINSTACK_RPC_URL",
        url(scheme = "https", scheme = "http"),
        secret
    )]
    pub chainstack_url: Option<Secret<Url>>,
    /// Public fallback endpoint, tried last (no key; rate limited).
    #[hot_config(key = "PUBLIC_RPC_URL", url(scheme = "https", scheme = "http"))]
    pub public_url: Option<Url>,
    /// Time allowed for one attempt and for waiting on a free slot, in milliseconds.
    #[hot_config(key = "RPC_DEFAULT_TIMEOUT_MS", range = 100..=60_000, default = 2000)]
    pub default_timeout_ms: u64,
    /// Requests in flight at once; further callers wait up to the timeout.
    #[hot_config(key = "RPC_MAX_CONCURRENCY", range = 1..=100_000, default = 64)]
    pub max_concurrency: usize,
    /// Retries after the first attempt of a request.
    #[hot_config(key = "RPC_MAX_RETRIES", range = 0..=10, default = 2)]
    pub max_retries: u32,
    /// First backoff before retrying an endpoint already tried, in milliseconds (doubles per retry, jittered).
    #[hot_config(key = "RPC_RETRY_BACKOFF_BASE_MS", range = 0..=10_000, default = 20)]
    pub retry_backoff_base_ms: u64,
    /// Longest backoff between retries, in milliseconds.
    #[hot_config(key = "RPC_RETRY_BACKOFF_MAX_MS", range = 0..=60_000, default = 200)]
    pub retry_backoff_max_ms: u64,
    /// Retry tokens earned per request: retries stay under this fraction of requests.
    #[hot_config(key = "RPC_RETRY_BUDGET_RATIO", range = 0..=1, default = 0.2)]
    pub retry_budget_ratio: f64,
    /// Retry tokens the budget holds (and starts with); 0 disables retries.
    #[hot_config(key = "RPC_RETRY_BUDGET_BURST", range = 0..=10_000, default = 10)]
    pub retry_budget_burst: u32,
    /// Consecutive failures after which an endpoint is tried only as a last resort.
    #[hot_config(key = "RPC_EJECT_AFTER_FAILURES", range = 1..=1_000, default = 3)]
    pub eject_after_failures: u32,
    /// How long an ejected endpoint stays last in line, in milliseconds.
    #[hot_config(key = "RPC_EJECT_FOR_MS", range = 100..=3_600_000, default = 5000)]
    pub eject_for_ms: u64,
    /// Span of the sliding window behind success rate and latency figures, in milliseconds.
    #[hot_config(key = "RPC_STATS_WINDOW_MS", range = 1_000..=3_600_000, default = 60_000)]
    pub stats_window_ms: u64,
    /// Largest response body accepted, in bytes.
    #[hot_config(
        key = "RPC_MAX_RESPONSE_BYTES",
        range = 1_024..=268_435_456,
        default = 8_388_608
    )]
    pub max_response_bytes: usize,
}

impl RpcPoolConfig {
    /// The configured endpoints in order of preference: Helius, Chainstack, public.
    pub fn configured_endpoints(&self) -> Vec<Url> {
        let secret = |url: &Option<Secret<Url>>| url.as_ref().map(|url| url.expose().clone());
        [
            secret(&self.helius_url),
            secret(&self.chainstack_url),
            self.public_url.clone(),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    /// The pool's settings, sending requests to `upstream`.
    pub fn settings(&self, upstream: &Upstream) -> RpcPoolSettings {
        let endpoints = match upstream {
            Upstream::Simulator(url) => vec![url.clone()],
            Upstream::Configured => self.configured_endpoints(),
        };
        RpcPoolSettings {
            endpoints,
            default_timeout: millis(self.default_timeout_ms),
            max_concurrency: self.max_concurrency,
            retry: RetrySettings {
                max_retries: self.max_retries,
                backoff_base: millis(self.retry_backoff_base_ms),
                backoff_max: millis(self.retry_backoff_max_ms),
                budget_ratio: self.retry_budget_ratio,
                budget_burst: self.retry_budget_burst,
            },
            eject_after_failures: self.eject_after_failures,
            eject_for: millis(self.eject_for_ms),
            stats_window: millis(self.stats_window_ms),
            max_response_bytes: self.max_response_bytes,
        }
    }

    fn check(&self) -> Result<(), Rejection> {
        let mut problems = Problems::default();
        if self.retry_backoff_base_ms > self.retry_backoff_max_ms {
            problems.add(
                &["RPC_RETRY_BACKOFF_BASE_MS", "RPC_RETRY_BACKOFF_MAX_MS"],
                "must not exceed RPC_RETRY_BACKOFF_MAX_MS",
            );
        }
        let named = [
            (
                "HELIUS_RPC_URL",
                self.helius_url.as_ref().map(Secret::expose),
            ),
            (
                "CHAINSTACK_RPC_URL",
                self.chainstack_url.as_ref().map(Secret::expose),
            ),
            ("PUBLIC_RPC_URL", self.public_url.as_ref()),
        ];
        for (i, (key, url)) in named.iter().enumerate() {
            let Some(url) = url else { continue };
            // Compared, never printed: two of these URLs carry API keys.
            if let Some((first, _)) = named[..i].iter().find(|(_, other)| *other == Some(*url)) {
                problems.add(&[first, key], "the same URL is set twice");
            }
            if url.scheme() == "https" && !cfg!(feature = "tls") {
                problems.add(
                    &[key],
                    "is https, but this build has no TLS (build with the `tls` feature)",
                );
            }
        }
        problems.finish()
    }
}

/// Where the RPC pool sends its requests, decided once when the node starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Upstream {
    /// The embedded simulator at this URL; configured URLs are not used.
    Simulator(Url),
    /// The endpoints the config file names.
    Configured,
}

// ---------------------------------------------------------------------------------------------
// circuitBreaker

/// The circuit breaker around the RPC pool (`circuitBreaker`).
#[derive(HotConfig, Debug, Clone, PartialEq)]
#[hot_config(
    component = "circuitBreaker",
    prefix = "RPC_BREAKER_",
    prefix = "CIRCUIT_"
)]
pub struct CircuitBreakerConfig {
    /// Consecutive failed calls that open a closed breaker.
    #[hot_config(key = "RPC_BREAKER_FAILURE_THRESHOLD", range = 1..=1_000, default = 5)]
    pub failure_threshold: u32,
    /// How long an open breaker refuses calls before probing, in milliseconds.
    #[hot_config(key = "RPC_BREAKER_OPEN_MS", range = 100..=3_600_000, default = 10_000)]
    pub open_ms: u64,
    /// Probe calls let through when half open; this many successes close the breaker.
    #[hot_config(key = "RPC_BREAKER_HALF_OPEN_PROBES", range = 1..=100, default = 3)]
    pub half_open_probes: u32,
}

impl From<&CircuitBreakerConfig> for CircuitBreakerSettings {
    fn from(config: &CircuitBreakerConfig) -> Self {
        Self {
            failure_threshold: config.failure_threshold,
            open_duration: millis(config.open_ms),
            half_open_probes: config.half_open_probes,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// eventBus

/// The ordered queue from the slot poller to detection (`eventBus`). Read at restart: a live
/// queue cannot be resized without dropping or reordering events.
#[derive(HotConfig, Debug, Clone, PartialEq)]
#[hot_config(component = "eventBus", prefix = "EVENT_", prefix = "QUEUE_")]
pub struct EventBusConfig {
    /// Events the queue holds before the poller drops new ones (at restart).
    #[hot_config(key = "EVENT_BUS_CAPACITY", range = 1..=16_777_216, default = 1024)]
    pub capacity: usize,
    /// Span over which events per second are averaged, in milliseconds (at restart).
    #[hot_config(key = "EVENT_BUS_RATE_WINDOW_MS", range = 100..=3_600_000, default = 10_000)]
    pub rate_window_ms: u64,
}

impl From<&EventBusConfig> for EventBusSettings {
    fn from(config: &EventBusConfig) -> Self {
        Self {
            capacity: config.capacity,
            rate_window: millis(config.rate_window_ms),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// slotPoller

/// The slot poller, the pipeline's producer (`slotPoller`). Read at restart.
#[derive(HotConfig, Debug, Clone, PartialEq)]
#[hot_config(component = "slotPoller", prefix = "SLOT_POLL_")]
pub struct SlotPollerConfig {
    /// Time between two `getLatestBlockhash` polls, in milliseconds (at restart).
    #[hot_config(key = "SLOT_POLL_INTERVAL_MS", range = 10..=60_000, default = 400)]
    pub interval_ms: u64,
    /// Commitment asked for: processed, confirmed or finalized (at restart).
    #[hot_config(key = "SLOT_POLL_COMMITMENT", default = "processed")]
    pub commitment: Commitment,
}

impl From<&SlotPollerConfig> for SlotPollerSettings {
    fn from(config: &SlotPollerConfig) -> Self {
        Self {
            interval: millis(config.interval_ms),
            commitment: config.commitment,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// backpressureManager

/// Admission control in front of the event bus (`backpressureManager`).
#[derive(HotConfig, Debug, Clone, PartialEq)]
#[hot_config(
    component = "backpressureManager",
    prefix = "BACKPRESSURE_",
    prefix = "QUEUE_MAX_SIZE"
)]
pub struct BackpressureConfig {
    /// Most events in the system (queued or being scored) before new ones are refused.
    #[hot_config(key = "BACKPRESSURE_MAX_QUEUE_SIZE", range = 1..=1_000_000, default = 5000)]
    pub max_queue_size: usize,
    /// Span over which the rejection rate is computed, in milliseconds (at restart).
    #[hot_config(
        key = "BACKPRESSURE_STATS_WINDOW_MS",
        range = 1_000..=3_600_000,
        default = 60_000
    )]
    pub stats_window_ms: u64,
}

impl From<&BackpressureConfig> for BackpressureSettings {
    fn from(config: &BackpressureConfig) -> Self {
        Self {
            max_queue_size: config.max_queue_size,
            stats_window: millis(config.stats_window_ms),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// shutdownManager

/// Graceful shutdown (`shutdownManager`).
#[derive(HotConfig, Debug, Clone, PartialEq)]
#[hot_config(
    component = "shutdownManager",
    prefix = "SHUTDOWN_",
    prefix = "GRACEFUL_"
)]
pub struct ShutdownConfig {
    /// Longest a graceful stop may take, in milliseconds; work still running then is abandoned.
    #[hot_config(key = "SHUTDOWN_TIMEOUT_MS", range = 100..=3_600_000, default = 10_000)]
    pub timeout_ms: u64,
}

impl From<&ShutdownConfig> for ShutdownSettings {
    fn from(config: &ShutdownConfig) -> Self {
        Self {
            timeout: millis(config.timeout_ms),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// detection

/// The trading thresholds detection scores every event against (`detection`). Read from the
/// store on every event.
#[derive(HotConfig, Debug, Clone, PartialEq)]
#[hot_config(
    component = "detection",
    prefix = "MIN_EDGE_",
    prefix = "MIN_LIQUIDITY_",
    prefix = "MAX_HOLDER_",
    prefix = "MIN_MARKET_",
    prefix = "MAX_MARKET_",
    validate = DetectionConfig::check
)]
pub struct DetectionConfig {
    /// Lowest edge score (0 to 100) worth a signal.
    #[hot_config(key = "MIN_EDGE_SCORE", range = 0..=100, default = 60)]
    pub min_edge_score: f64,
    /// Lowest pool liquidity, in USD.
    #[hot_config(key = "MIN_LIQUIDITY_USD", min = 0, default = 10_000)]
    pub min_liquidity_usd: f64,
    /// Highest share of supply held by the top holders, in percent.
    #[hot_config(key = "MAX_HOLDER_CONCENTRATION_PCT", range = 0..=100, default = 30)]
    pub max_holder_concentration_pct: f64,
    /// Lowest market cap, in USD.
    #[hot_config(key = "MIN_MARKET_CAP_USD", min = 0, default = 50_000)]
    pub min_market_cap_usd: f64,
    /// Highest market cap, in USD; at least MIN_MARKET_CAP_USD.
    #[hot_config(key = "MAX_MARKET_CAP_USD", min = 0, default = 50_000_000)]
    pub max_market_cap_usd: f64,
}

impl DetectionConfig {
    fn check(&self) -> Result<(), Rejection> {
        let mut problems = Problems::default();
        if self.min_market_cap_usd > self.max_market_cap_usd {
            problems.add(
                &["MIN_MARKET_CAP_USD", "MAX_MARKET_CAP_USD"],
                "must not exceed MAX_MARKET_CAP_USD",
            );
        }
        problems.finish()
    }
}

impl From<&DetectionConfig> for DetectionSettings {
    fn from(config: &DetectionConfig) -> Self {
        Self {
            min_edge_score: config.min_edge_score,
            min_liquidity_usd: config.min_liquidity_usd,
            max_holder_concentration_pct: config.max_holder_concentration_pct,
            min_market_cap_usd: config.min_market_cap_usd,
            max_market_cap_usd: config.max_market_cap_usd,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// logging

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

impl FromStr for LogFormat {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text.to_ascii_lowercase().as_str() {
            "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            _ => Err("expected text or json".to_owned()),
        }
    }
}

impl fmt::Display for LogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Text => "text",
            Self::Json => "json",
        })
    }
}

/// Logging (`logging`). `RUST_LOG`, when set, takes precedence over `LOG_LEVEL`.
#[derive(HotConfig, Debug, Clone, PartialEq)]
#[hot_config(component = "logging", prefix = "LOG_")]
pub struct LoggingConfig {
    /// Least severe level logged: trace, debug, info, warn or error.
    #[hot_config(key = "LOG_LEVEL", default = "info")]
    pub level: LogLevel,
    /// Line format: text or json (at restart).
    #[hot_config(key = "LOG_FORMAT", default = "text")]
    pub format: LogFormat,
    /// Time between two status lines (slot, RPC figures, queue, detection), in milliseconds; 0 for none.
    #[hot_config(key = "LOG_STATUS_INTERVAL_MS", range = 0..=3_600_000, default = 10_000)]
    pub status_interval_ms: u64,
}

// ---------------------------------------------------------------------------------------------
// simulator

/// The embedded RPC simulator (`simulator`). Latency, jitter and error rate apply to the next
/// request when the file changes, so faults can be injected by editing it.
#[derive(HotConfig, Debug, Clone, PartialEq)]
#[hot_config(component = "simulator", prefix = "SIM_")]
pub struct SimulatorConfig {
    /// Run against the simulator: true, false, or unset for "when no RPC URL is set" (at restart).
    #[hot_config(key = "SIM_ENABLED")]
    pub enabled: Option<bool>,
    /// Address (IP:PORT) the simulator listens on; port 0 picks a free one (at restart).
    #[hot_config(key = "SIM_LISTEN", default = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// Delay added to every request, in milliseconds.
    #[hot_config(key = "SIM_LATENCY_MS", range = 0..=60_000, default = 5)]
    pub latency_ms: u64,
    /// Extra delay drawn per request from 0 to this many milliseconds.
    #[hot_config(key = "SIM_LATENCY_JITTER_MS", range = 0..=60_000, default = 5)]
    pub latency_jitter_ms: u64,
    /// Fraction of requests (0 to 1) answered with HTTP 503.
    #[hot_config(key = "SIM_ERROR_RATE", range = 0..=1, default = 0)]
    pub error_rate: f64,
    /// How often the simulated slot advances, in milliseconds (at restart).
    #[hot_config(key = "SIM_SLOT_MS", range = 1..=60_000, default = 400)]
    pub slot_ms: u64,
    /// The simulated slot at start (at restart).
    #[hot_config(key = "SIM_START_SLOT", default = 350_000_000)]
    pub start_slot: u64,
    /// Seed of the simulator's random numbers; the same seed repeats a run (at restart).
    #[hot_config(key = "SIM_SEED", default = 24_301)]
    pub seed: u64,
}

impl SimulatorConfig {
    /// Whether the node runs against the simulator, given the RPC section.
    pub fn runs(&self, rpc: &RpcPoolConfig) -> bool {
        self.enabled
            .unwrap_or_else(|| rpc.configured_endpoints().is_empty())
    }
}

impl From<&SimulatorConfig> for SimulatorSettings {
    fn from(config: &SimulatorConfig) -> Self {
        Self {
            latency: millis(config.latency_ms),
            latency_jitter: millis(config.latency_jitter_ms),
            error_rate: config.error_rate,
            slot_duration: millis(config.slot_ms),
            start_slot: config.start_slot,
            seed: config.seed,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// ops

/// Shortest admin token accepted: a guessable token on an ops port is an open door.
pub const MIN_ADMIN_TOKEN_LEN: usize = 16;

/// The ops HTTP endpoints (`ops`).
#[derive(HotConfig, Debug, Clone, PartialEq)]
#[hot_config(component = "ops", prefix = "OPS_", validate = OpsConfig::check)]
pub struct OpsConfig {
    /// Address (IP:PORT) of the ops endpoints; keep it on loopback unless a proxy guards it (at restart).
    #[hot_config(key = "OPS_LISTEN", default = "127.0.0.1:8787")]
    pub listen: SocketAddr,
    /// Bearer token for acknowledging alerts, at least 16 characters; unset refuses every ack.
    #[hot_config(key = "OPS_ADMIN_TOKEN", secret)]
    pub admin_token: Option<Secret<String>>,
    /// URL every alert is POSTed to as JSON (fired and resolved), retried with backoff; its
    /// query may carry a token, so it is secret. Unset sends alerts to the log only (at restart).
    #[hot_config(
        key = "OPS_ALERT_WEBHOOK_URL",
        url(scheme = "http", scheme = "https"),
        secret
    )]
    pub alert_webhook: Option<Secret<Url>>,
}

impl OpsConfig {
    fn check(&self) -> Result<(), Rejection> {
        let mut problems = Problems::default();
        if let Some(token) = &self.admin_token
            && token.expose().chars().count() < MIN_ADMIN_TOKEN_LEN
        {
            problems.add(
                &["OPS_ADMIN_TOKEN"],
                format!("must be at least {MIN_ADMIN_TOKEN_LEN} characters"),
            );
        }
        problems.finish()
    }
}

// ---------------------------------------------------------------------------------------------
// The root

/// Keys read once when the node starts; a running node logs a change of them as needing a
/// restart.
pub const RESTART_KEYS: &[&str] = &[
    "EVENT_BUS_CAPACITY",
    "EVENT_BUS_RATE_WINDOW_MS",
    "SLOT_POLL_INTERVAL_MS",
    "SLOT_POLL_COMMITMENT",
    "BACKPRESSURE_STATS_WINDOW_MS",
    "LOG_FORMAT",
    "SIM_ENABLED",
    "SIM_LISTEN",
    "SIM_SLOT_MS",
    "SIM_START_SLOT",
    "SIM_SEED",
    "OPS_LISTEN",
    "OPS_ALERT_WEBHOOK_URL",
];

/// The keys naming RPC endpoints. While the node runs on the simulator they are read at restart.
pub const ENDPOINT_KEYS: &[&str] = &["HELIUS_RPC_URL", "CHAINSTACK_RPC_URL", "PUBLIC_RPC_URL"];

/// The whole config of `trading-node`: every section flattened into one file.
#[derive(HotConfig, Debug, Clone, PartialEq)]
#[hot_config(validate = NodeConfig::check)]
pub struct NodeConfig {
    /// RPC endpoints and request policy.
    #[hot_config(flatten)]
    pub rpc_pool: RpcPoolConfig,
    /// The breaker around the pool.
    #[hot_config(flatten)]
    pub circuit_breaker: CircuitBreakerConfig,
    /// The event queue.
    #[hot_config(flatten)]
    pub event_bus: EventBusConfig,
    /// The slot poller.
    #[hot_config(flatten)]
    pub slot_poller: SlotPollerConfig,
    /// Admission control.
    #[hot_config(flatten)]
    pub backpressure: BackpressureConfig,
    /// Graceful shutdown.
    #[hot_config(flatten)]
    pub shutdown: ShutdownConfig,
    /// Detection thresholds.
    #[hot_config(flatten)]
    pub detection: DetectionConfig,
    /// Logging.
    #[hot_config(flatten)]
    pub logging: LoggingConfig,
    /// The RPC simulator.
    #[hot_config(flatten)]
    pub simulator: SimulatorConfig,
    /// The health monitor: the library's own section, thresholds of the stock rules included
    /// (they are the `HEALTH_` keys it leaves open; see [`thorp_ops::health::stock`]).
    #[hot_config(flatten)]
    pub health: HealthConfig,
    /// The ops endpoints.
    #[hot_config(flatten)]
    pub ops: OpsConfig,
}

/// One settings rule broken after the file itself loaded: the component's own `validate()`
/// refused what the config converts to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsProblem {
    /// The component, e.g. `rpcPool`.
    pub component: &'static str,
    /// What the component said (endpoints by host only, never a secret).
    pub message: String,
}

impl fmt::Display for SettingsProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.component, self.message)
    }
}

impl NodeConfig {
    /// Where the pool's requests will go when the node starts with this config. The
    /// simulator's URL is only known once it listens, so a loopback URL stands for it.
    pub fn planned_upstream(&self) -> Upstream {
        if !self.simulator.runs(&self.rpc_pool) {
            return Upstream::Configured;
        }
        match Url::parse("http://127.0.0.1/") {
            Ok(url) => Upstream::Simulator(url),
            // A literal that parses; were it ever refused, checking the configured endpoints
            // instead only reports too much, never too little.
            Err(_) => Upstream::Configured,
        }
    }

    /// Every rule a component's own `validate()` finds broken in what this config converts
    /// to, for `upstream`. Empty for any config the file rules accepted, unless a rule is
    /// missing from them: then this is the net that catches it before a component sees it.
    /// `values` are the config's effective values, which carry the health monitor's threshold
    /// keys (no field declares them); the monitor checks those against the node's components.
    pub fn settings_problems(&self, values: &Values, upstream: &Upstream) -> Vec<SettingsProblem> {
        let results: [Result<(), InvalidSettings>; 6] = [
            self.rpc_pool.settings(upstream).validate(),
            CircuitBreakerSettings::from(&self.circuit_breaker).validate(),
            EventBusSettings::from(&self.event_bus).validate(),
            BackpressureSettings::from(&self.backpressure).validate(),
            DetectionSettings::from(&self.detection).validate(),
            SimulatorSettings::from(&self.simulator).validate(),
        ];
        let mut problems: Vec<SettingsProblem> = results
            .into_iter()
            .filter_map(Result::err)
            .flat_map(|invalid| {
                let component = invalid.component;
                invalid
                    .problems
                    .into_iter()
                    .map(move |problem| SettingsProblem {
                        component,
                        message: format!("{}: {}", problem.field, problem.reason),
                    })
            })
            .collect();
        let health = self
            .health
            .settings(values)
            .and_then(|settings| super::health::validate(&settings));
        if let Err(rejected) = health {
            problems.extend(rejected.errors.iter().map(|error| SettingsProblem {
                component: "healthMonitor",
                message: error.to_string(),
            }));
        }
        problems
    }

    fn check(&self) -> Result<(), Rejection> {
        let mut problems = Problems::default();
        if self.simulator.enabled == Some(false) && self.rpc_pool.configured_endpoints().is_empty()
        {
            problems.add(
                &["SIM_ENABLED"],
                "is false but no RPC endpoint is set: set HELIUS_RPC_URL, CHAINSTACK_RPC_URL \
                 or PUBLIC_RPC_URL, or unset SIM_ENABLED",
            );
        }
        problems.finish()
    }
}

/// The cross-key problems of one section, as the single rejection a hook returns: the first
/// problem gives the keys (and so the line) of the error, later ones follow in its message with
/// their own keys, so each still names what to fix. Messages are worded to follow their first
/// key, as the loader prints it first.
#[derive(Default)]
struct Problems {
    problems: Vec<(Vec<&'static str>, String)>,
}

impl Problems {
    fn add(&mut self, keys: &[&'static str], message: impl Into<String>) {
        self.problems.push((keys.to_vec(), message.into()));
    }

    fn finish(self) -> Result<(), Rejection> {
        let mut problems = self.problems.into_iter();
        let Some((keys, first)) = problems.next() else {
            return Ok(());
        };
        let message = problems.fold(first, |message, (keys, next)| {
            format!("{message}; {}: {next}", keys.join(", "))
        });
        Err(keys
            .into_iter()
            .fold(Rejection::new(message), Rejection::key))
    }
}
