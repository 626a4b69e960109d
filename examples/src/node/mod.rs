//! The components of the `trading-node` reference service and the RPC simulator it runs on.
//!
//! Each component is small, owns one concern, keeps its settings in a plain struct and
//! reports a plain stats struct through `stats()`:
//!
//! | module | component | settings | stats |
//! |---|---|---|---|
//! | [`rpc_pool`] | JSON-RPC over HTTP: failover, timeouts, concurrency, budgeted retries | [`RpcPoolSettings`](rpc_pool::RpcPoolSettings) | [`RpcPoolStats`](rpc_pool::RpcPoolStats) |
//! | [`breaker`] | circuit breaker CLOSED / OPEN / HALF_OPEN around the pool | [`CircuitBreakerSettings`](breaker::CircuitBreakerSettings) | [`CircuitBreakerStats`](breaker::CircuitBreakerStats) |
//! | [`event_bus`] | ordered bounded queue from the poller to detection | [`EventBusSettings`](event_bus::EventBusSettings) | [`EventBusStats`](event_bus::EventBusStats) |
//! | [`backpressure`] | admission control with a live limit | [`BackpressureSettings`](backpressure::BackpressureSettings) | [`BackpressureStats`](backpressure::BackpressureStats) |
//! | [`shutdown`] | SIGINT/SIGTERM, graceful drain bounded by a timeout | [`ShutdownSettings`](shutdown::ShutdownSettings) | [`ShutdownStats`](shutdown::ShutdownStats) |
//! | [`detection`] | scores events against thresholds read on every event | [`DetectionSettings`](detection::DetectionSettings) | [`DetectionStats`](detection::DetectionStats) |
//! | [`poller`] | polls the latest blockhash, publishes new slots | [`SlotPollerSettings`](poller::SlotPollerSettings) | [`SlotPollerStats`](poller::SlotPollerStats) |
//! | [`simulator`] | in-process Solana-like JSON-RPC server with fault injection | [`SimulatorSettings`](simulator::SimulatorSettings) | [`SimulatorStats`](simulator::SimulatorStats) |
//!
//! The pipeline: `poller -> breaker -> rpc_pool -> (simulator | real RPC)`, then
//! `poller -> backpressure -> event_bus -> detection`; `shutdown` stops the poller, the
//! queue drains through detection, and the process exits.
//!
//! Time is tokio time everywhere ([`tokio::time::Instant`]), so every time-driven behaviour
//! (windows, breaker periods, slot clock, drains) is tested with `tokio::time::pause`.
//!
//! None of them depends on the `thorp-ops` config store or health monitor yet: settings are
//! applied with an `update(..)` method and the detection consumer reads its settings through a
//! [`SettingsSource`](source::SettingsSource), so both plug into the framework unchanged.

pub mod backpressure;
pub mod breaker;
pub mod detection;
pub mod event_bus;
pub mod invalid;
pub mod jsonrpc;
pub mod poller;
pub mod rpc_pool;
pub mod shutdown;
pub mod simulator;
pub mod solana;
pub mod source;

pub(crate) mod latency;
pub(crate) mod window;
