//! The config every figure works on: the seed's keys plus realistic others, 40 in all, and the
//! same schema written the way a `dotenvy` + `envy` user would, with the same checks.
//!
//! Both paths end in the very same [`BenchConfig`] value; the unit tests at the end of this file
//! hold them to that, and to refusing the same bad files, so the parse figure compares equal work.

use serde::Deserialize;
use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;
use thorp_examples::node::solana::Commitment;
use thorp_examples::seed::LogLevel;
use thorp_examples::trading::config::LogFormat;
use thorp_ops::config::Rejection;
use thorp_ops::{HotConfig, Secret};
use url::Url;

/// How many keys [`FILE`] sets and [`BenchConfig`] declares.
pub const KEYS: usize = 40;

/// A realistic `.env` file for [`BenchConfig`]: every key set, with section comments, blank
/// lines, quoted values and an `export` line, the way such files look in deployments.
pub const FILE: &str = include_str!("bench.env");

/// RPC endpoints, timeouts and retries (the seed's four keys plus six).
#[derive(HotConfig, Debug, Clone, PartialEq)]
#[hot_config(
    component = "rpcPool",
    prefix = "RPC_",
    prefix = "HELIUS_",
    prefix = "CHAINSTACK_",
    prefix = "PUBLIC_"
)]
pub struct RpcPool {
    /// Primary endpoint; its query string carries the API key.
    #[hot_config(key = "HELIUS_RPC_URL", url(scheme = "https", scheme = "http"), secret)]
    pub helius_url: Secret<Url>,
    /// Secondary endpoint.
    #[hot_config(key = "CHAINSTACK_RPC_URL", url(scheme = "https", scheme = "http"))]
    pub chainstack_url: Option<Url>,
    /// Public fallback endpoint.
    #[hot_config(key = "PUBLIC_RPC_URL", url(scheme = "https", scheme = "http"))]
    pub public_url: Option<Url>,
    /// Per-request timeout in milliseconds.
    #[hot_config(key = "RPC_DEFAULT_TIMEOUT_MS", min = 100, default = 2000)]
    pub default_timeout_ms: u64,
    /// Streaming endpoint.
    #[hot_config(key = "RPC_WS_URL", url(scheme = "wss", scheme = "ws"))]
    pub ws_url: Option<Url>,
    /// Retries of one request before it fails.
    #[hot_config(key = "RPC_MAX_RETRIES", range = 0..=10, default = 3)]
    pub max_retries: u32,
    /// First retry delay in milliseconds; doubles each retry.
    #[hot_config(key = "RPC_RETRY_BACKOFF_MS", range = 1..=10_000, default = 250)]
    pub retry_backoff_ms: u64,
    /// Connections per endpoint.
    #[hot_config(key = "RPC_POOL_SIZE", range = 1..=256, default = 8)]
    pub pool_size: u32,
    /// Requests per second allowed per endpoint.
    #[hot_config(key = "RPC_RATE_LIMIT_PER_SEC", range = 1..=100_000, default = 50)]
    pub rate_limit_per_sec: u32,
    /// Commitment level of reads.
    #[hot_config(key = "RPC_COMMITMENT", default = "confirmed")]
    pub commitment: Commitment,
}

/// Circuit breaker in front of each endpoint.
#[derive(HotConfig, Debug, Clone, PartialEq)]
#[hot_config(
    component = "circuitBreaker",
    prefix = "RPC_BREAKER_",
    prefix = "CIRCUIT_"
)]
pub struct CircuitBreaker {
    /// Failures in a row that open the breaker.
    #[hot_config(key = "RPC_BREAKER_FAILURE_THRESHOLD", range = 1..=1000, default = 5)]
    pub failure_threshold: u32,
    /// How long an open breaker waits before trying again, in milliseconds.
    #[hot_config(key = "RPC_BREAKER_RESET_TIMEOUT_MS", range = 100..=600_000, default = 30_000)]
    pub reset_timeout_ms: u64,
    /// Trial calls let through while half open.
    #[hot_config(key = "CIRCUIT_HALF_OPEN_MAX_CALLS", range = 1..=100, default = 3)]
    pub half_open_max_calls: u32,
}

/// In-process event bus.
#[derive(HotConfig, Debug, Clone, PartialEq)]
#[hot_config(component = "eventBus", prefix = "EVENT_", prefix = "QUEUE_")]
pub struct EventBus {
    /// Events buffered before publishers wait.
    #[hot_config(key = "EVENT_BUS_CAPACITY", range = 1..=1_000_000, default = 10_000)]
    pub capacity: u32,
    /// Events handed to a consumer at once.
    #[hot_config(key = "EVENT_BATCH_SIZE", range = 1..=10_000, default = 100)]
    pub batch_size: u32,
    /// Longest a partial batch waits, in milliseconds.
    #[hot_config(key = "QUEUE_FLUSH_INTERVAL_MS", range = 1..=60_000, default = 50)]
    pub flush_interval_ms: u64,
}

/// Admission control (the seed's queue size plus watermarks).
#[derive(HotConfig, Debug, Clone, PartialEq)]
#[hot_config(
    component = "backpressureManager",
    prefix = "BACKPRESSURE_",
    prefix = "QUEUE_MAX_SIZE",
    validate = watermarks_in_order
)]
pub struct Backpressure {
    /// Most requests queued before new ones are refused.
    #[hot_config(key = "BACKPRESSURE_MAX_QUEUE_SIZE", range = 1..=1_000_000, default = 5000)]
    pub max_queue_size: u32,
    /// Queue fill (0..1) at which intake slows down.
    #[hot_config(key = "BACKPRESSURE_HIGH_WATERMARK", range = 0.0..=1.0, default = 0.8)]
    pub high_watermark: f64,
    /// Queue fill (0..1) at which intake resumes.
    #[hot_config(key = "BACKPRESSURE_LOW_WATERMARK", range = 0.0..=1.0, default = 0.5)]
    pub low_watermark: f64,
}

fn watermarks_in_order(config: &Backpressure) -> Result<(), Rejection> {
    if config.low_watermark > config.high_watermark {
        return Err(
            Rejection::new("must not exceed BACKPRESSURE_HIGH_WATERMARK")
                .key("BACKPRESSURE_LOW_WATERMARK"),
        );
    }
    Ok(())
}

/// Graceful shutdown (the seed's timeout plus a drain time).
#[derive(HotConfig, Debug, Clone, PartialEq)]
#[hot_config(
    component = "shutdownManager",
    prefix = "SHUTDOWN_",
    prefix = "GRACEFUL_"
)]
pub struct Shutdown {
    /// Longest a graceful stop may take, in milliseconds.
    #[hot_config(key = "SHUTDOWN_TIMEOUT_MS", default = 10000)]
    pub timeout_ms: u64,
    /// Time given to in-flight work before connections close, in milliseconds.
    #[hot_config(key = "GRACEFUL_DRAIN_TIMEOUT_MS", range = 0..=300_000, default = 5000)]
    pub drain_timeout_ms: u64,
}

/// Opportunity detection thresholds (the seed's edge score plus four).
#[derive(HotConfig, Debug, Clone, PartialEq)]
#[hot_config(
    component = "detection",
    prefix = "MIN_EDGE_",
    prefix = "MIN_LIQUIDITY_",
    prefix = "MAX_HOLDER_",
    prefix = "MIN_MARKET_",
    prefix = "MAX_MARKET_",
    validate = market_caps_in_order
)]
pub struct Detection {
    /// Minimum edge score (0-100) an opportunity needs.
    #[hot_config(key = "MIN_EDGE_SCORE", range = 0..=100, default = 60)]
    pub min_edge_score: u32,
    /// Minimum pool liquidity in USD.
    #[hot_config(key = "MIN_LIQUIDITY_USD", min = 0.0, default = 10_000.0)]
    pub min_liquidity_usd: f64,
    /// Largest share (0..1) of supply one holder may have.
    #[hot_config(key = "MAX_HOLDER_CONCENTRATION", range = 0.0..=1.0, default = 0.2)]
    pub max_holder_concentration: f64,
    /// Smallest market cap considered, in USD.
    #[hot_config(key = "MIN_MARKET_CAP_USD", default = 50_000)]
    pub min_market_cap_usd: u64,
    /// Largest market cap considered, in USD.
    #[hot_config(key = "MAX_MARKET_CAP_USD", default = 50_000_000)]
    pub max_market_cap_usd: u64,
}

fn market_caps_in_order(config: &Detection) -> Result<(), Rejection> {
    if config.min_market_cap_usd > config.max_market_cap_usd {
        return Err(Rejection::new("must not exceed MAX_MARKET_CAP_USD").key("MIN_MARKET_CAP_USD"));
    }
    Ok(())
}

/// Logging and tracing (the seed's level plus four).
#[derive(HotConfig, Debug, Clone, PartialEq)]
#[hot_config(component = "logging", prefix = "LOG_", prefix = "TRACE_")]
pub struct Logging {
    /// Log level: trace, debug, info, warn or error.
    #[hot_config(key = "LOG_LEVEL", default = "info")]
    pub level: LogLevel,
    /// Line format.
    #[hot_config(key = "LOG_FORMAT", default = "json")]
    pub format: LogFormat,
    /// Targets logged at `level`; others at warn.
    #[hot_config(key = "LOG_TARGETS", non_empty, default = "thorp_ops")]
    pub targets: Vec<String>,
    /// Share (0..1) of requests traced.
    #[hot_config(key = "TRACE_SAMPLE_RATIO", range = 0.0..=1.0, default = 0.01)]
    pub sample_ratio: f64,
    /// Where traces are exported.
    #[hot_config(key = "TRACE_EXPORT_URL", url(scheme = "https", scheme = "http"))]
    pub export_url: Option<Url>,
}

/// Health monitor and alerting.
#[derive(HotConfig, Debug, Clone, PartialEq)]
#[hot_config(
    component = "healthMonitor",
    prefix = "HEALTH_",
    prefix = "ALERT_",
    prefix = "MONITOR_"
)]
pub struct HealthMonitor {
    /// Time between health cycles, in milliseconds.
    #[hot_config(key = "HEALTH_CHECK_INTERVAL_MS", range = 100..=3_600_000, default = 5000)]
    pub check_interval_ms: u64,
    /// Longest one check may take, in milliseconds.
    #[hot_config(key = "HEALTH_CHECK_TIMEOUT_MS", range = 10..=60_000, default = 1000)]
    pub check_timeout_ms: u64,
    /// Where alerts are posted; its path carries a token.
    #[hot_config(key = "ALERT_WEBHOOK_URL", url(scheme = "https"), secret)]
    pub webhook_url: Option<Secret<Url>>,
    /// Least time between two alerts of one kind, in milliseconds.
    #[hot_config(key = "ALERT_COOLDOWN_MS", default = 60_000)]
    pub cooldown_ms: u64,
    /// CPU use (percent) that degrades health.
    #[hot_config(key = "MONITOR_CPU_THRESHOLD", range = 0.0..=100.0, default = 85.0)]
    pub cpu_threshold: f64,
    /// Memory use (percent) that degrades health.
    #[hot_config(key = "MONITOR_MEMORY_THRESHOLD", range = 0.0..=100.0, default = 90.0)]
    pub memory_threshold: f64,
}

/// What the service is and where it runs.
#[derive(HotConfig, Debug, Clone, PartialEq)]
#[hot_config(component = "service", prefix = "SERVICE_", prefix = "METRICS_")]
pub struct Service {
    /// Name in logs, metrics and alerts.
    #[hot_config(key = "SERVICE_NAME", non_empty)]
    pub name: String,
    /// Deployment region.
    #[hot_config(key = "SERVICE_REGION", non_empty, default = "us-east-1")]
    pub region: String,
    /// Whether `/metrics` is served.
    #[hot_config(key = "METRICS_ENABLED", default = true)]
    pub metrics_enabled: bool,
}

/// The whole 40-key config.
#[derive(HotConfig, Debug, Clone, PartialEq)]
pub struct BenchConfig {
    /// RPC pool.
    #[hot_config(flatten)]
    pub rpc: RpcPool,
    /// Circuit breaker.
    #[hot_config(flatten)]
    pub breaker: CircuitBreaker,
    /// Event bus.
    #[hot_config(flatten)]
    pub event_bus: EventBus,
    /// Backpressure.
    #[hot_config(flatten)]
    pub backpressure: Backpressure,
    /// Shutdown.
    #[hot_config(flatten)]
    pub shutdown: Shutdown,
    /// Detection.
    #[hot_config(flatten)]
    pub detection: Detection,
    /// Logging.
    #[hot_config(flatten)]
    pub logging: Logging,
    /// Health monitor.
    #[hot_config(flatten)]
    pub health: HealthMonitor,
    /// Service identity.
    #[hot_config(flatten)]
    pub service: Service,
}

/// The file with one key of every component changed (odd `generation`) or [`FILE`] itself
/// (even), so a save of the next generation concerns every component: what the reload figures
/// save, alternately.
pub fn changed_file(generation: u64) -> &'static str {
    static CHANGED: LazyLock<String> = LazyLock::new(|| {
        let changes = [
            ("RPC_DEFAULT_TIMEOUT_MS", "2500"),
            ("RPC_BREAKER_FAILURE_THRESHOLD", "6"),
            ("EVENT_BUS_CAPACITY", "20000"),
            ("BACKPRESSURE_MAX_QUEUE_SIZE", "6000"),
            ("SHUTDOWN_TIMEOUT_MS", "12000"),
            ("MIN_EDGE_SCORE", "65"),
            ("LOG_LEVEL", "debug"),
            ("HEALTH_CHECK_INTERVAL_MS", "4000"),
            ("SERVICE_REGION", "eu-west-1"),
        ];
        FILE.lines()
            .map(|line| {
                let changed = changes.iter().find_map(|(key, value)| {
                    let set = line.strip_prefix(key)?.starts_with('=');
                    set.then(|| format!("{key}={value}\n"))
                });
                changed.unwrap_or_else(|| format!("{line}\n"))
            })
            .collect()
    });
    if generation % 2 == 1 { &CHANGED } else { FILE }
}

// ---------------------------------------------------------------------------------------------
// The same schema the `dotenvy` + `envy` way.
// ---------------------------------------------------------------------------------------------

/// What `envy` deserializes into: one flat struct (envy cannot `#[serde(flatten)]` numbers, it
/// hands flattened fields over as text), with serde defaults for the keys that have one.
#[derive(Debug, Deserialize)]
struct EnvyConfig {
    helius_rpc_url: Url,
    chainstack_rpc_url: Option<Url>,
    public_rpc_url: Option<Url>,
    #[serde(default = "defaults::rpc_default_timeout_ms")]
    rpc_default_timeout_ms: u64,
    rpc_ws_url: Option<Url>,
    #[serde(default = "defaults::rpc_max_retries")]
    rpc_max_retries: u32,
    #[serde(default = "defaults::rpc_retry_backoff_ms")]
    rpc_retry_backoff_ms: u64,
    #[serde(default = "defaults::rpc_pool_size")]
    rpc_pool_size: u32,
    #[serde(default = "defaults::rpc_rate_limit_per_sec")]
    rpc_rate_limit_per_sec: u32,
    #[serde(default = "defaults::rpc_commitment", deserialize_with = "from_str")]
    rpc_commitment: Commitment,
    #[serde(default = "defaults::rpc_breaker_failure_threshold")]
    rpc_breaker_failure_threshold: u32,
    #[serde(default = "defaults::rpc_breaker_reset_timeout_ms")]
    rpc_breaker_reset_timeout_ms: u64,
    #[serde(default = "defaults::circuit_half_open_max_calls")]
    circuit_half_open_max_calls: u32,
    #[serde(default = "defaults::event_bus_capacity")]
    event_bus_capacity: u32,
    #[serde(default = "defaults::event_batch_size")]
    event_batch_size: u32,
    #[serde(default = "defaults::queue_flush_interval_ms")]
    queue_flush_interval_ms: u64,
    #[serde(default = "defaults::backpressure_max_queue_size")]
    backpressure_max_queue_size: u32,
    #[serde(default = "defaults::backpressure_high_watermark")]
    backpressure_high_watermark: f64,
    #[serde(default = "defaults::backpressure_low_watermark")]
    backpressure_low_watermark: f64,
    #[serde(default = "defaults::shutdown_timeout_ms")]
    shutdown_timeout_ms: u64,
    #[serde(default = "defaults::graceful_drain_timeout_ms")]
    graceful_drain_timeout_ms: u64,
    #[serde(default = "defaults::min_edge_score")]
    min_edge_score: u32,
    #[serde(default = "defaults::min_liquidity_usd")]
    min_liquidity_usd: f64,
    #[serde(default = "defaults::max_holder_concentration")]
    max_holder_concentration: f64,
    #[serde(default = "defaults::min_market_cap_usd")]
    min_market_cap_usd: u64,
    #[serde(default = "defaults::max_market_cap_usd")]
    max_market_cap_usd: u64,
    #[serde(default = "defaults::log_level", deserialize_with = "from_str")]
    log_level: LogLevel,
    #[serde(default = "defaults::log_format", deserialize_with = "from_str")]
    log_format: LogFormat,
    #[serde(default = "defaults::log_targets")]
    log_targets: Vec<String>,
    #[serde(default = "defaults::trace_sample_ratio")]
    trace_sample_ratio: f64,
    trace_export_url: Option<Url>,
    #[serde(default = "defaults::health_check_interval_ms")]
    health_check_interval_ms: u64,
    #[serde(default = "defaults::health_check_timeout_ms")]
    health_check_timeout_ms: u64,
    alert_webhook_url: Option<Url>,
    #[serde(default = "defaults::alert_cooldown_ms")]
    alert_cooldown_ms: u64,
    #[serde(default = "defaults::monitor_cpu_threshold")]
    monitor_cpu_threshold: f64,
    #[serde(default = "defaults::monitor_memory_threshold")]
    monitor_memory_threshold: f64,
    service_name: String,
    #[serde(default = "defaults::service_region")]
    service_region: String,
    #[serde(default = "defaults::metrics_enabled")]
    metrics_enabled: bool,
}

/// The serde defaults, one function each, as serde wants them.
mod defaults {
    use super::{Commitment, LogFormat, LogLevel};

    pub(super) fn rpc_default_timeout_ms() -> u64 {
        2000
    }
    pub(super) fn rpc_max_retries() -> u32 {
        3
    }
    pub(super) fn rpc_retry_backoff_ms() -> u64 {
        250
    }
    pub(super) fn rpc_pool_size() -> u32 {
        8
    }
    pub(super) fn rpc_rate_limit_per_sec() -> u32 {
        50
    }
    pub(super) fn rpc_commitment() -> Commitment {
        Commitment::Confirmed
    }
    pub(super) fn rpc_breaker_failure_threshold() -> u32 {
        5
    }
    pub(super) fn rpc_breaker_reset_timeout_ms() -> u64 {
        30_000
    }
    pub(super) fn circuit_half_open_max_calls() -> u32 {
        3
    }
    pub(super) fn event_bus_capacity() -> u32 {
        10_000
    }
    pub(super) fn event_batch_size() -> u32 {
        100
    }
    pub(super) fn queue_flush_interval_ms() -> u64 {
        50
    }
    pub(super) fn backpressure_max_queue_size() -> u32 {
        5000
    }
    pub(super) fn backpressure_high_watermark() -> f64 {
        0.8
    }
    pub(super) fn backpressure_low_watermark() -> f64 {
        0.5
    }
    pub(super) fn shutdown_timeout_ms() -> u64 {
        10_000
    }
    pub(super) fn graceful_drain_timeout_ms() -> u64 {
        5000
    }
    pub(super) fn min_edge_score() -> u32 {
        60
    }
    pub(super) fn min_liquidity_usd() -> f64 {
        10_000.0
    }
    pub(super) fn max_holder_concentration() -> f64 {
        0.2
    }
    pub(super) fn min_market_cap_usd() -> u64 {
        50_000
    }
    pub(super) fn max_market_cap_usd() -> u64 {
        50_000_000
    }
    pub(super) fn log_level() -> LogLevel {
        LogLevel::Info
    }
    pub(super) fn log_format() -> LogFormat {
        LogFormat::Json
    }
    pub(super) fn log_targets() -> Vec<String> {
        vec!["thorp_ops".to_owned()]
    }
    pub(super) fn trace_sample_ratio() -> f64 {
        0.01
    }
    pub(super) fn health_check_interval_ms() -> u64 {
        5000
    }
    pub(super) fn health_check_timeout_ms() -> u64 {
        1000
    }
    pub(super) fn alert_cooldown_ms() -> u64 {
        60_000
    }
    pub(super) fn monitor_cpu_threshold() -> f64 {
        85.0
    }
    pub(super) fn monitor_memory_threshold() -> f64 {
        90.0
    }
    pub(super) fn service_region() -> String {
        "us-east-1".to_owned()
    }
    pub(super) fn metrics_enabled() -> bool {
        true
    }
}

/// `FromStr` types through serde, as `serde_with::DisplayFromStr` would do it.
fn from_str<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: FromStr,
    T::Err: fmt::Display,
{
    let text = String::deserialize(deserializer)?;
    text.parse().map_err(serde::de::Error::custom)
}

/// Loads [`BenchConfig`] from `.env` bytes with `dotenvy` (tokenizing, quotes, `${VAR}`), `envy`
/// (typing, defaults) and hand-written checks of every rule the derive checks (bounds, URL
/// schemes and hosts, non-empty text, the cross-field rules). Every failed check is reported,
/// as ours does, not only the first.
pub fn dotenvy_envy(bytes: &[u8]) -> Result<BenchConfig, Vec<String>> {
    let pairs = dotenvy::from_read_iter(bytes)
        .collect::<Result<Vec<(String, String)>, _>>()
        .map_err(|error| vec![error.to_string()])?;
    let flat: EnvyConfig = envy::from_iter(pairs).map_err(|error| vec![error.to_string()])?;
    let config = flat.into_config();
    check(&config)?;
    Ok(config)
}

impl EnvyConfig {
    fn into_config(self) -> BenchConfig {
        BenchConfig {
            rpc: RpcPool {
                helius_url: Secret::new(self.helius_rpc_url),
                chainstack_url: self.chainstack_rpc_url,
                public_url: self.public_rpc_url,
                default_timeout_ms: self.rpc_default_timeout_ms,
                ws_url: self.rpc_ws_url,
                max_retries: self.rpc_max_retries,
                retry_backoff_ms: self.rpc_retry_backoff_ms,
                pool_size: self.rpc_pool_size,
                rate_limit_per_sec: self.rpc_rate_limit_per_sec,
                commitment: self.rpc_commitment,
            },
            breaker: CircuitBreaker {
                failure_threshold: self.rpc_breaker_failure_threshold,
                reset_timeout_ms: self.rpc_breaker_reset_timeout_ms,
                half_open_max_calls: self.circuit_half_open_max_calls,
            },
            event_bus: EventBus {
                capacity: self.event_bus_capacity,
                batch_size: self.event_batch_size,
                flush_interval_ms: self.queue_flush_interval_ms,
            },
            backpressure: Backpressure {
                max_queue_size: self.backpressure_max_queue_size,
                high_watermark: self.backpressure_high_watermark,
                low_watermark: self.backpressure_low_watermark,
            },
            shutdown: Shutdown {
                timeout_ms: self.shutdown_timeout_ms,
                drain_timeout_ms: self.graceful_drain_timeout_ms,
            },
            detection: Detection {
                min_edge_score: self.min_edge_score,
                min_liquidity_usd: self.min_liquidity_usd,
                max_holder_concentration: self.max_holder_concentration,
                min_market_cap_usd: self.min_market_cap_usd,
                max_market_cap_usd: self.max_market_cap_usd,
            },
            logging: Logging {
                level: self.log_level,
                format: self.log_format,
                targets: self.log_targets,
                sample_ratio: self.trace_sample_ratio,
                export_url: self.trace_export_url,
            },
            health: HealthMonitor {
                check_interval_ms: self.health_check_interval_ms,
                check_timeout_ms: self.health_check_timeout_ms,
                webhook_url: self.alert_webhook_url.map(Secret::new),
                cooldown_ms: self.alert_cooldown_ms,
                cpu_threshold: self.monitor_cpu_threshold,
                memory_threshold: self.monitor_memory_threshold,
            },
            service: Service {
                name: self.service_name,
                region: self.service_region,
                metrics_enabled: self.metrics_enabled,
            },
        }
    }
}

/// The derive's rules for [`BenchConfig`], by hand.
fn check(config: &BenchConfig) -> Result<(), Vec<String>> {
    let mut errors = Vec::new();
    let mut within = |key: &str, value: f64, low: f64, high: f64| {
        if !(value.is_finite() && low <= value && value <= high) {
            errors.push(format!("{key}: {value} is out of range ({low}..={high})"));
        }
    };
    let (rpc, breaker, bus) = (&config.rpc, &config.breaker, &config.event_bus);
    let (flow, detection, logging) = (&config.backpressure, &config.detection, &config.logging);
    let (health, shutdown) = (&config.health, &config.shutdown);
    // Integers widen to f64 exactly at these magnitudes (all below 2^53).
    let float = |value: u64| value as f64;
    within(
        "RPC_DEFAULT_TIMEOUT_MS",
        float(rpc.default_timeout_ms),
        100.0,
        f64::MAX,
    );
    within("RPC_MAX_RETRIES", rpc.max_retries.into(), 0.0, 10.0);
    within(
        "RPC_RETRY_BACKOFF_MS",
        float(rpc.retry_backoff_ms),
        1.0,
        10_000.0,
    );
    within("RPC_POOL_SIZE", rpc.pool_size.into(), 1.0, 256.0);
    within(
        "RPC_RATE_LIMIT_PER_SEC",
        rpc.rate_limit_per_sec.into(),
        1.0,
        100_000.0,
    );
    within(
        "RPC_BREAKER_FAILURE_THRESHOLD",
        breaker.failure_threshold.into(),
        1.0,
        1000.0,
    );
    within(
        "RPC_BREAKER_RESET_TIMEOUT_MS",
        float(breaker.reset_timeout_ms),
        100.0,
        600_000.0,
    );
    within(
        "CIRCUIT_HALF_OPEN_MAX_CALLS",
        breaker.half_open_max_calls.into(),
        1.0,
        100.0,
    );
    within("EVENT_BUS_CAPACITY", bus.capacity.into(), 1.0, 1_000_000.0);
    within("EVENT_BATCH_SIZE", bus.batch_size.into(), 1.0, 10_000.0);
    within(
        "QUEUE_FLUSH_INTERVAL_MS",
        float(bus.flush_interval_ms),
        1.0,
        60_000.0,
    );
    within(
        "BACKPRESSURE_MAX_QUEUE_SIZE",
        flow.max_queue_size.into(),
        1.0,
        1_000_000.0,
    );
    within("BACKPRESSURE_HIGH_WATERMARK", flow.high_watermark, 0.0, 1.0);
    within("BACKPRESSURE_LOW_WATERMARK", flow.low_watermark, 0.0, 1.0);
    within(
        "GRACEFUL_DRAIN_TIMEOUT_MS",
        float(shutdown.drain_timeout_ms),
        0.0,
        300_000.0,
    );
    within(
        "MIN_EDGE_SCORE",
        detection.min_edge_score.into(),
        0.0,
        100.0,
    );
    within(
        "MIN_LIQUIDITY_USD",
        detection.min_liquidity_usd,
        0.0,
        f64::MAX,
    );
    within(
        "MAX_HOLDER_CONCENTRATION",
        detection.max_holder_concentration,
        0.0,
        1.0,
    );
    within("TRACE_SAMPLE_RATIO", logging.sample_ratio, 0.0, 1.0);
    within(
        "HEALTH_CHECK_INTERVAL_MS",
        float(health.check_interval_ms),
        100.0,
        3_600_000.0,
    );
    within(
        "HEALTH_CHECK_TIMEOUT_MS",
        float(health.check_timeout_ms),
        10.0,
        60_000.0,
    );
    within("MONITOR_CPU_THRESHOLD", health.cpu_threshold, 0.0, 100.0);
    within(
        "MONITOR_MEMORY_THRESHOLD",
        health.memory_threshold,
        0.0,
        100.0,
    );
    let mut url = |key: &str, url: Option<&Url>, schemes: &[&str]| {
        if let Some(url) = url
            && (!schemes.contains(&url.scheme()) || url.host().is_none())
        {
            errors.push(format!(
                "{key}: expected an absolute URL with scheme {schemes:?}"
            ));
        }
    };
    let web = ["https", "http"];
    url("HELIUS_RPC_URL", Some(rpc.helius_url.expose()), &web);
    url("CHAINSTACK_RPC_URL", rpc.chainstack_url.as_ref(), &web);
    url("PUBLIC_RPC_URL", rpc.public_url.as_ref(), &web);
    url("RPC_WS_URL", rpc.ws_url.as_ref(), &["wss", "ws"]);
    url("TRACE_EXPORT_URL", logging.export_url.as_ref(), &web);
    url(
        "ALERT_WEBHOOK_URL",
        health.webhook_url.as_ref().map(Secret::expose),
        &["https"],
    );
    let mut filled = |key: &str, empty: bool| {
        if empty {
            errors.push(format!("{key}: is empty"));
        }
    };
    filled(
        "LOG_TARGETS",
        logging
            .targets
            .iter()
            .all(|target| target.trim().is_empty()),
    );
    filled("SERVICE_NAME", config.service.name.trim().is_empty());
    filled("SERVICE_REGION", config.service.region.trim().is_empty());
    if flow.low_watermark > flow.high_watermark {
        errors.push("BACKPRESSURE_LOW_WATERMARK: must not exceed the high watermark".to_owned());
    }
    if detection.min_market_cap_usd > detection.max_market_cap_usd {
        errors.push("MIN_MARKET_CAP_USD: must not exceed MAX_MARKET_CAP_USD".to_owned());
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        reason = "a test fails loudly at the first broken step"
    )]

    use super::*;
    use thorp_ops::config::load_str;

    fn ours(text: &str) -> Result<BenchConfig, String> {
        load_str::<BenchConfig>(text)
            .map(|loaded| loaded.config)
            .map_err(|errors| errors.to_string())
    }

    #[test]
    fn the_schema_and_the_file_have_forty_keys() {
        assert_eq!(BenchConfig::SCHEMA.all_keys().len(), KEYS);
        let loaded = load_str::<BenchConfig>(FILE).unwrap();
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
        let set = loaded
            .values
            .iter()
            .filter(|(_, setting)| matches!(setting.origin(), thorp_ops::config::Origin::Line(_)))
            .count();
        assert_eq!(set, KEYS);
    }

    #[test]
    fn both_paths_load_the_same_config() {
        let ours = ours(FILE).unwrap();
        assert_eq!(dotenvy_envy(FILE.as_bytes()).unwrap(), ours);
        let changed = changed_file(1);
        assert_eq!(
            dotenvy_envy(changed.as_bytes()).unwrap(),
            self::ours(changed).unwrap()
        );
        assert_ne!(self::ours(changed).unwrap(), ours);
    }

    #[test]
    fn the_changed_file_changes_every_section() {
        let (before, after) = (ours(FILE).unwrap(), ours(changed_file(1)).unwrap());
        assert_ne!(before.rpc, after.rpc);
        assert_ne!(before.breaker, after.breaker);
        assert_ne!(before.event_bus, after.event_bus);
        assert_ne!(before.backpressure, after.backpressure);
        assert_ne!(before.shutdown, after.shutdown);
        assert_ne!(before.detection, after.detection);
        assert_ne!(before.logging, after.logging);
        assert_ne!(before.health, after.health);
        assert_ne!(before.service, after.service);
        assert_eq!(changed_file(2), FILE);
    }

    #[test]
    fn both_paths_refuse_the_same_mistakes() {
        let mistakes = [
            ("MIN_EDGE_SCORE=60", "MIN_EDGE_SCORE=101"),
            ("RPC_POOL_SIZE=16", "RPC_POOL_SIZE=0"),
            ("TRACE_SAMPLE_RATIO=0.05", "TRACE_SAMPLE_RATIO=1.5"),
            ("RPC_WS_URL=wss://", "RPC_WS_URL=https://"),
            ("SERVICE_NAME=", "SERVICE_NAME= \n#"),
            (
                "BACKPRESSURE_LOW_WATERMARK=0.5",
                "BACKPRESSURE_LOW_WATERMARK=0.9",
            ),
            ("MIN_MARKET_CAP_USD=50000", "MIN_MARKET_CAP_USD=99000000"),
            ("RPC_MAX_RETRIES=3", "RPC_MAX_RETRIES=three"),
        ];
        for (from, to) in mistakes {
            assert!(FILE.contains(from), "{from}");
            let bad = FILE.replacen(from, to, 1);
            assert!(ours(&bad).is_err(), "ours took {to}");
            assert!(
                dotenvy_envy(bad.as_bytes()).is_err(),
                "dotenvy+envy took {to}"
            );
        }
    }
}
