//! The seed's schema in full, flattened into one config, loaded and checked.
#![deny(warnings)]

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
    #[hot_config(key = "PUBLIC_RPC_URL", url)]
    pub public_url: Option<Url>,
    /// Per-request timeout in milliseconds.
    #[hot_config(key = "RPC_DEFAULT_TIMEOUT_MS", min = 100, max = 60_000, default = 2000)]
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
    /// Normal operation.
    Info,
    /// Debugging detail.
    Debug,
}

impl FromStr for LogLevel {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "info" => Ok(Self::Info),
            "debug" => Ok(Self::Debug),
            _ => Err("expected info or debug".to_owned()),
        }
    }
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Info => "info",
            Self::Debug => "debug",
        })
    }
}

/// Logging settings.
#[derive(HotConfig, Debug, Clone, PartialEq)]
#[hot_config(component = "logging", prefix = "LOG_", prefix = "TRACE_")]
pub struct LoggingConfig {
    /// Log level.
    #[hot_config(key = "LOG_LEVEL", default = "info")]
    pub level: LogLevel,
}

/// Admission control.
#[derive(HotConfig, Debug, Clone, PartialEq)]
#[hot_config(component = "backpressureManager", prefix = "BACKPRESSURE_", prefix = "QUEUE_MAX_SIZE")]
pub struct BackpressureConfig {
    /// Most requests queued before new ones are refused.
    #[hot_config(key = "BACKPRESSURE_MAX_QUEUE_SIZE", range = 1..=1_000_000, default = 5000)]
    pub max_queue_size: u32,
}

/// Graceful shutdown.
#[derive(HotConfig, Debug, Clone, PartialEq)]
#[hot_config(component = "shutdownManager", prefix = "SHUTDOWN_", prefix = "GRACEFUL_")]
pub struct ShutdownConfig {
    /// Longest a graceful stop may take, in milliseconds.
    #[hot_config(key = "SHUTDOWN_TIMEOUT_MS", default = 10000)]
    pub timeout_ms: u64,
}

/// The whole config.
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

fn main() {
    let config = SeedConfig::from_env_str("HELIUS_RPC_URL=https://rpc.example.com/?api-key=k\n");
    let config = config.map_err(|errors| errors.to_string());
    assert_eq!(config.map(|c| c.detection.min_edge_score), Ok(60));
    assert_eq!(SeedConfig::SCHEMA.all_keys().len(), 8);
}
