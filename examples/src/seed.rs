//! The seed notes' config keys as a typed schema, shared by the `hot_reload` example and tests.

use std::fmt;
use std::str::FromStr;
use thorp_ops::{HotConfig, Secret};
use url::Url;

/// RPC endpoints and timeouts.
#[derive(HotConfig, Debug, Clone, PartialEq)]
#[hot_config(
    component = "rpcPool",
    prefix = "RPC_",
    prefix = "HELIUS_",
    prefix = "CHAINSTACK_",
    prefix = "PUBLIC_"
)]
pub struct RpcConfig {
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
}

/// Opportunity detection thresholds.
#[derive(HotConfig, Debug, Clone, PartialEq)]
#[hot_config(
    component = "detection",
    prefix = "MIN_EDGE_",
    prefix = "MIN_LIQUIDITY_",
    prefix = "MAX_HOLDER_",
    prefix = "MIN_MARKET_",
    prefix = "MAX_MARKET_"
)]
pub struct DetectionConfig {
    /// Minimum edge score (0-100) an opportunity needs.
    #[hot_config(key = "MIN_EDGE_SCORE", range = 0..=100, default = 60)]
    pub min_edge_score: u32,
}

/// How much the service logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    /// Everything.
    Trace,
    /// Debugging detail.
    Debug,
    /// Normal operation.
    Info,
    /// Problems worth a look.
    Warn,
    /// Failures only.
    Error,
}

impl FromStr for LogLevel {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text.to_ascii_lowercase().as_str() {
            "trace" => Ok(Self::Trace),
            "debug" => Ok(Self::Debug),
            "info" => Ok(Self::Info),
            "warn" => Ok(Self::Warn),
            "error" => Ok(Self::Error),
            _ => Err("expected trace, debug, info, warn or error".to_owned()),
        }
    }
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Trace => "trace",
            Self::Debug => "debug",
            Self::Info => "info",
            Self::Warn => "warn",
            Self::Error => "error",
        })
    }
}

/// Logging settings.
#[derive(HotConfig, Debug, Clone, PartialEq)]
#[hot_config(component = "logging", prefix = "LOG_", prefix = "TRACE_")]
pub struct LoggingConfig {
    /// Log level: trace, debug, info, warn or error.
    #[hot_config(key = "LOG_LEVEL", default = "info")]
    pub level: LogLevel,
}

/// Admission control.
#[derive(HotConfig, Debug, Clone, PartialEq)]
#[hot_config(
    component = "backpressureManager",
    prefix = "BACKPRESSURE_",
    prefix = "QUEUE_MAX_SIZE"
)]
pub struct BackpressureConfig {
    /// Most requests queued before new ones are refused.
    #[hot_config(key = "BACKPRESSURE_MAX_QUEUE_SIZE", range = 1..=1_000_000, default = 5000)]
    pub max_queue_size: u32,
}

/// Graceful shutdown.
#[derive(HotConfig, Debug, Clone, PartialEq)]
#[hot_config(
    component = "shutdownManager",
    prefix = "SHUTDOWN_",
    prefix = "GRACEFUL_"
)]
pub struct ShutdownConfig {
    /// Longest a graceful stop may take, in milliseconds.
    #[hot_config(key = "SHUTDOWN_TIMEOUT_MS", default = 10000)]
    pub timeout_ms: u64,
}

/// The whole config of the seed's service.
#[derive(HotConfig, Debug, Clone, PartialEq)]
pub struct SeedConfig {
    /// RPC endpoints.
    #[hot_config(flatten)]
    pub rpc: RpcConfig,
    /// Detection thresholds.
    #[hot_config(flatten)]
    pub detection: DetectionConfig,
    /// Logging.
    #[hot_config(flatten)]
    pub logging: LoggingConfig,
    /// Backpressure.
    #[hot_config(flatten)]
    pub backpressure: BackpressureConfig,
    /// Shutdown.
    #[hot_config(flatten)]
    pub shutdown: ShutdownConfig,
}
