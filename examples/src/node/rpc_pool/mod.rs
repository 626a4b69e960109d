//! The RPC pool: JSON-RPC 2.0 over HTTP to several endpoints, with failover, timeouts,
//! bounded concurrency, budgeted retries and sliding-window latency figures.
//!
//! A request takes the settings snapshot current when it starts and keeps it to the end, so
//! [`RpcPool::update`] (new endpoints, new timeout) affects new requests only and never fails
//! one in flight. The snapshot is an [`ArcSwap`]: loading it is lock-free.
//!
//! Per request:
//! 1. earn retry-budget tokens; wait (at most the timeout) for a concurrency slot;
//! 2. try endpoints in preference order, healthy ones first (an endpoint with
//!    `eject_after_failures` consecutive failures is moved last for `eject_for`);
//! 3. on a retryable failure, retry while `max_retries` and the budget allow: an untried
//!    endpoint at once, an already tried one after a jittered exponential backoff.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use thorp_examples::node::rpc_pool::{RpcPool, RpcPoolSettings};
//! use thorp_examples::node::solana::Commitment;
//!
//! let pool = RpcPool::new(RpcPoolSettings::with_endpoints([
//!     "http://127.0.0.1:8899".parse()?,
//!     "http://127.0.0.1:8900".parse()?,
//! ]))?;
//! let slot = pool.get_slot(Commitment::Processed).await?;
//! let stats = pool.stats();
//! println!("slot {slot}, p95 {} ms, success {:.1}%", stats.p95_latency_ms, stats.success_rate * 100.0);
//! # Ok(())
//! # }
//! ```

mod budget;
mod endpoint;
mod error;
mod limiter;
mod settings;

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use arc_swap::ArcSwap;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tokio::time::{Duration, Instant};

pub use endpoint::{EndpointStats, endpoint_label};
pub use error::{BuildError, RpcError};
pub use settings::{MAX_CONCURRENCY, MAX_RETRIES, RetrySettings, RpcPoolSettings};

use super::invalid::InvalidSettings;
use super::jsonrpc::{self, ErrorObject};
use super::latency::LatencyWindow;
use super::solana::{Commitment, LatestBlockhash, LatestBlockhashResponse};
use budget::RetryBudget;
use endpoint::{Endpoint, attempt_order};
use limiter::Limiter;

/// Figures of the pool, as the health monitor reads them.
///
/// Rates and latencies cover the sliding window (`stats_window`); counters run since start.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct RpcPoolStats {
    /// Fraction of requests (after retries) that succeeded in the window, 0.0..=1.0; 1.0
    /// when the window is empty.
    pub success_rate: f64,
    /// Mean request latency in the window (ms): from the call to its answer, so waiting for
    /// a slot, retries and backoff included, and failures too (a caller waited for them).
    pub avg_latency_ms: f64,
    /// 95th percentile request latency in the window (ms), from the histogram.
    pub p95_latency_ms: f64,
    /// HTTP requests in flight now.
    pub active_connections: u32,
    /// Requests completed in the window.
    pub window_requests: u64,
    /// Requests since start.
    pub requests: u64,
    /// Requests since start that failed after all retries.
    pub failures: u64,
    /// Retries since start.
    pub retries: u64,
    /// Retries refused by the retry budget since start.
    pub retries_denied: u64,
    /// Endpoints configured.
    pub endpoints: u32,
    /// Endpoints not ejected now.
    pub healthy_endpoints: u32,
}

/// A pool of JSON-RPC endpoints. Cheap to clone; clones share everything.
#[derive(Debug, Clone)]
pub struct RpcPool {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    client: reqwest::Client,
    current: ArcSwap<Snapshot>,
    limiter: Limiter,
    budget: RetryBudget,
    window: LatencyWindow,
    active: AtomicU32,
    next_id: AtomicU64,
    requests: AtomicU64,
    failures: AtomicU64,
    retries: AtomicU64,
    retries_denied: AtomicU64,
    jitter: Mutex<fastrand::Rng>,
    /// Serializes updates: endpoint state reuse and limiter resizing read-modify-write.
    update_lock: Mutex<()>,
}

/// What one request runs with, from start to finish.
#[derive(Debug)]
struct Snapshot {
    settings: RpcPoolSettings,
    endpoints: Vec<Arc<Endpoint>>,
}

/// Counts an HTTP request in flight for as long as it lives.
struct InFlight<'a>(&'a AtomicU32);

impl<'a> InFlight<'a> {
    fn enter(counter: &'a AtomicU32) -> Self {
        counter.fetch_add(1, Ordering::Relaxed);
        Self(counter)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl RpcPool {
    /// A pool with `settings`, after validating them.
    pub fn new(settings: RpcPoolSettings) -> Result<Self, BuildError> {
        settings.validate()?;
        let now = Instant::now();
        let window =
            LatencyWindow::new(settings.stats_window, now).map_err(BuildError::Histogram)?;
        let endpoints = settings
            .endpoints
            .iter()
            .cloned()
            .map(|url| Arc::new(Endpoint::new(url)))
            .collect();
        let inner = Inner {
            client: build_client().map_err(BuildError::Client)?,
            limiter: Limiter::new(settings.max_concurrency),
            budget: RetryBudget::new(settings.retry.budget_burst),
            window,
            active: AtomicU32::new(0),
            next_id: AtomicU64::new(1),
            requests: AtomicU64::new(0),
            failures: AtomicU64::new(0),
            retries: AtomicU64::new(0),
            retries_denied: AtomicU64::new(0),
            jitter: Mutex::new(fastrand::Rng::new()),
            update_lock: Mutex::new(()),
            current: ArcSwap::from_pointee(Snapshot {
                settings,
                endpoints,
            }),
        };
        let pool = Self {
            inner: Arc::new(inner),
        };
        pool.log_settings("rpc pool started");
        Ok(pool)
    }

    /// Replace the settings for requests that start from now on.
    ///
    /// Requests in flight finish with the settings they started with. Endpoints kept by URL
    /// keep their failure streak and counters. A smaller `max_concurrency` takes effect as
    /// slots in use are returned. Invalid settings are refused and nothing changes.
    pub fn update(&self, settings: RpcPoolSettings) -> Result<(), InvalidSettings> {
        settings.validate()?;
        let _serial = self
            .inner
            .update_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let old = self.inner.current.load_full();
        let endpoints = settings
            .endpoints
            .iter()
            .map(|url| match old.endpoints.iter().find(|e| e.url == *url) {
                Some(kept) => Arc::clone(kept),
                None => Arc::new(Endpoint::new(url.clone())),
            })
            .collect();
        if settings.max_concurrency != old.settings.max_concurrency {
            self.inner.limiter.resize(settings.max_concurrency);
        }
        if settings.stats_window != old.settings.stats_window {
            self.inner
                .window
                .set_span(settings.stats_window, Instant::now());
        }
        self.inner.current.store(Arc::new(Snapshot {
            settings,
            endpoints,
        }));
        self.log_settings("rpc pool settings applied");
        Ok(())
    }

    /// The settings new requests use.
    pub fn settings(&self) -> RpcPoolSettings {
        self.inner.current.load().settings.clone()
    }

    /// Call `method` with `params` (`Value::Null` for none) and decode the `result` as `T`.
    pub async fn call<T: DeserializeOwned>(
        &self,
        method: &str,
        params: Value,
    ) -> Result<T, RpcError> {
        let snapshot = self.inner.current.load_full();
        let started = Instant::now();
        self.inner.requests.fetch_add(1, Ordering::Relaxed);
        let outcome = self
            .execute(&snapshot, method, &params)
            .await
            .and_then(|result| {
                serde_json::from_value(result).map_err(|e| RpcError::UnexpectedResult {
                    method: method.to_owned(),
                    reason: e.to_string(),
                })
            });
        let now = Instant::now();
        self.inner
            .window
            .record(now, now - started, outcome.is_ok());
        if let Err(error) = &outcome {
            self.inner.failures.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(method, %error, "rpc request failed");
        }
        outcome
    }

    /// `getHealth`: `Ok` when the node reports `"ok"`.
    pub async fn get_health(&self) -> Result<(), RpcError> {
        let status: String = self.call("getHealth", Value::Null).await?;
        if status == "ok" {
            Ok(())
        } else {
            Err(RpcError::UnexpectedResult {
                method: "getHealth".into(),
                reason: format!("status {status:?}"),
            })
        }
    }

    /// `getSlot` at `commitment`.
    pub async fn get_slot(&self, commitment: Commitment) -> Result<u64, RpcError> {
        self.call("getSlot", json!([{ "commitment": commitment }]))
            .await
    }

    /// `getLatestBlockhash` at `commitment`.
    pub async fn get_latest_blockhash(
        &self,
        commitment: Commitment,
    ) -> Result<LatestBlockhash, RpcError> {
        let response: LatestBlockhashResponse = self
            .call("getLatestBlockhash", json!([{ "commitment": commitment }]))
            .await?;
        Ok(response.into())
    }

    /// Figures for the health monitor.
    pub fn stats(&self) -> RpcPoolStats {
        let now = Instant::now();
        let summary = self.inner.window.summary(now);
        let snapshot = self.inner.current.load();
        let healthy = snapshot
            .endpoints
            .iter()
            .filter(|e| e.ejected_until(now).is_none())
            .count();
        RpcPoolStats {
            success_rate: summary.success_rate(),
            avg_latency_ms: summary.mean_ms,
            p95_latency_ms: summary.p95_ms,
            active_connections: self.inner.active.load(Ordering::Relaxed),
            window_requests: summary.count,
            requests: self.inner.requests.load(Ordering::Relaxed),
            failures: self.inner.failures.load(Ordering::Relaxed),
            retries: self.inner.retries.load(Ordering::Relaxed),
            retries_denied: self.inner.retries_denied.load(Ordering::Relaxed),
            endpoints: u32::try_from(snapshot.endpoints.len()).unwrap_or(u32::MAX),
            healthy_endpoints: u32::try_from(healthy).unwrap_or(u32::MAX),
        }
    }

    /// Figures per configured endpoint, in configured order.
    pub fn endpoint_stats(&self) -> Vec<EndpointStats> {
        let now = Instant::now();
        self.inner
            .current
            .load()
            .endpoints
            .iter()
            .map(|e| e.stats(now))
            .collect()
    }

    fn log_settings(&self, message: &'static str) {
        let snapshot = self.inner.current.load();
        let s = &snapshot.settings;
        let endpoints: Vec<&str> = snapshot
            .endpoints
            .iter()
            .map(|e| e.label.as_str())
            .collect();
        tracing::info!(
            endpoints = ?endpoints,
            timeout_ms = s.default_timeout.as_millis() as u64,
            max_concurrency = s.max_concurrency,
            max_retries = s.retry.max_retries,
            "{message}"
        );
    }

    /// Run one request to the end: slot, attempts, retries.
    async fn execute(
        &self,
        snapshot: &Snapshot,
        method: &str,
        params: &Value,
    ) -> Result<Value, RpcError> {
        let inner = &*self.inner;
        let settings = &snapshot.settings;
        inner
            .budget
            .deposit(settings.retry.budget_ratio, settings.retry.budget_burst);
        let wait_started = Instant::now();
        let Some(_slot) = inner.limiter.acquire(settings.default_timeout).await else {
            return Err(RpcError::Saturated {
                waited_ms: millis(wait_started.elapsed()),
            });
        };
        let id = inner.next_id.fetch_add(1, Ordering::Relaxed);
        let request = jsonrpc::Request {
            jsonrpc: jsonrpc::VERSION,
            id,
            method,
            params,
        };
        let body = serde_json::to_vec(&request).map_err(|_| RpcError::Encode {
            method: method.to_owned(),
        })?;
        let order = attempt_order(&snapshot.endpoints, Instant::now());
        let mut attempt: u32 = 0;
        loop {
            // `order` is never empty (validated settings), but never index by modulo zero.
            let Some(endpoint) = order.get(attempt as usize % order.len().max(1)).copied() else {
                return Err(RpcError::NoEndpoint);
            };
            let error = match self.attempt(settings, endpoint, id, body.clone()).await {
                Ok(result) => {
                    endpoint.record_success();
                    return Ok(result);
                }
                Err(error) => error,
            };
            if error.is_upstream_failure() {
                endpoint.record_failure(
                    Instant::now(),
                    settings.eject_after_failures,
                    settings.eject_for,
                );
            }
            tracing::debug!(endpoint = %endpoint.label, method, attempt, %error, "rpc attempt failed");
            if !error.is_retryable() || attempt >= settings.retry.max_retries {
                return Err(error);
            }
            if !inner.budget.try_withdraw() {
                inner.retries_denied.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(method, "rpc retry refused: retry budget exhausted");
                return Err(error);
            }
            attempt += 1;
            inner.retries.fetch_add(1, Ordering::Relaxed);
            // Every endpoint has had its turn: wait before hitting one again.
            let round = attempt as usize / order.len().max(1);
            if round > 0 {
                tokio::time::sleep(self.backoff(&settings.retry, round)).await;
            }
        }
    }

    /// One HTTP exchange with one endpoint, bounded by the timeout.
    async fn attempt(
        &self,
        settings: &RpcPoolSettings,
        endpoint: &Endpoint,
        id: u64,
        body: Vec<u8>,
    ) -> Result<Value, RpcError> {
        let _in_flight = InFlight::enter(&self.inner.active);
        endpoint.record_attempt();
        let label = endpoint.label.as_str();
        let exchange = async {
            let response = self
                .inner
                .client
                .post(endpoint.url.clone())
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body)
                .send()
                .await
                .map_err(|e| RpcError::transport(label, e))?;
            let status = response.status();
            if !status.is_success() {
                return Err(RpcError::HttpStatus {
                    endpoint: label.to_owned(),
                    status: status.as_u16(),
                });
            }
            let bytes = read_capped(response, settings.max_response_bytes, label).await?;
            parse_response(&bytes, id, label)
        };
        match tokio::time::timeout(settings.default_timeout, exchange).await {
            Ok(outcome) => outcome,
            Err(_) => Err(RpcError::Timeout {
                endpoint: label.to_owned(),
                timeout_ms: millis(settings.default_timeout),
            }),
        }
    }

    /// Full-jitter exponential backoff for the `round`-th pass over the endpoints.
    fn backoff(&self, retry: &RetrySettings, round: usize) -> Duration {
        let exponent = u32::try_from(round.saturating_sub(1))
            .unwrap_or(u32::MAX)
            .min(20);
        let ceiling = retry
            .backoff_base
            .saturating_mul(1 << exponent)
            .min(retry.backoff_max);
        let ceiling_micros = u64::try_from(ceiling.as_micros()).unwrap_or(u64::MAX);
        let mut rng = self
            .inner
            .jitter
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        Duration::from_micros(rng.u64(0..=ceiling_micros))
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The HTTP client every request shares (one connection pool per host).
fn build_client() -> Result<reqwest::Client, reqwest::Error> {
    install_crypto_provider();
    reqwest::Client::builder()
        // A trading node talks to its RPC directly; an env proxy would add a hop silently.
        .no_proxy()
        // A redirect could carry the API key to another host; JSON-RPC never needs one.
        .redirect(reqwest::redirect::Policy::none())
        .tcp_nodelay(true)
        .pool_idle_timeout(Duration::from_secs(30))
        .user_agent(concat!("thorp-trading-node/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// Install ring as the process-wide rustls crypto provider, unless one is installed already.
///
/// reqwest (with the `rustls-no-provider` feature this crate uses, to keep aws-lc-sys and its
/// cmake build out) panics when building any client before a provider is installed. The pool
/// calls this itself; call it before building other reqwest clients. A no-op without the
/// `tls` feature.
pub fn install_crypto_provider() {
    #[cfg(feature = "tls")]
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Losing a race to another installer is fine: a provider is installed either way.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

/// Read the body, refusing more than `limit` bytes (checked before and while reading).
async fn read_capped(
    mut response: reqwest::Response,
    limit: usize,
    label: &str,
) -> Result<Vec<u8>, RpcError> {
    let too_large = || RpcError::ResponseTooLarge {
        endpoint: label.to_owned(),
        limit,
    };
    if response
        .content_length()
        .is_some_and(|len| len > limit as u64)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| RpcError::transport(label, e))?
    {
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Check that `body` is the response to request `id` and take out its result or error.
fn parse_response(body: &[u8], id: u64, label: &str) -> Result<Value, RpcError> {
    let invalid = |reason| RpcError::InvalidResponse {
        endpoint: label.to_owned(),
        reason,
    };
    let Ok(Value::Object(mut response)) = serde_json::from_slice::<Value>(body) else {
        return Err(invalid("body is not a json object"));
    };
    if response.get("id").and_then(Value::as_u64) != Some(id) {
        return Err(invalid("id does not match the request"));
    }
    if let Some(error) = response.remove("error").filter(|e| !e.is_null()) {
        let error: ErrorObject =
            serde_json::from_value(error).map_err(|_| invalid("malformed error object"))?;
        return Err(RpcError::rpc(label, error.code, &error.message));
    }
    response
        .remove("result")
        .ok_or_else(|| invalid("neither result nor error"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: Value) -> Result<Value, RpcError> {
        parse_response(&serde_json::to_vec(&body).unwrap(), 7, "http://a")
    }

    #[test]
    fn responses_are_matched_by_id_and_split_into_result_or_error() {
        assert_eq!(
            parse(json!({"jsonrpc": "2.0", "id": 7, "result": 42})).unwrap(),
            42
        );
        assert_eq!(
            parse(json!({"jsonrpc": "2.0", "id": 7, "result": null})).unwrap(),
            Value::Null
        );
        let error =
            parse(json!({"jsonrpc": "2.0", "id": 7, "error": {"code": -32601, "message": "nope"}}));
        assert!(
            matches!(error, Err(RpcError::Rpc { code: -32601, .. })),
            "{error:?}"
        );
        let reason = |body| match parse(body) {
            Err(RpcError::InvalidResponse { reason, .. }) => reason,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            reason(json!({"jsonrpc": "2.0", "id": 8, "result": 1})),
            "id does not match the request"
        );
        assert_eq!(
            reason(json!({"jsonrpc": "2.0", "id": 7})),
            "neither result nor error"
        );
        assert_eq!(reason(json!([1])), "body is not a json object");
        assert_eq!(
            reason(json!({"id": 7, "error": "boom"})),
            "malformed error object"
        );
        assert!(matches!(
            parse_response(b"<html>502</html>", 7, "http://a"),
            Err(RpcError::InvalidResponse { .. })
        ));
    }

    #[tokio::test]
    async fn backoff_is_jittered_and_capped() {
        let settings = RpcPoolSettings::with_endpoints(["http://127.0.0.1:1".parse().unwrap()]);
        let pool = RpcPool::new(settings).unwrap();
        let retry = RetrySettings {
            backoff_base: Duration::from_millis(10),
            backoff_max: Duration::from_millis(35),
            ..RetrySettings::default()
        };
        for round in 1..=6 {
            let ceiling = Duration::from_millis([10, 20, 35, 35, 35, 35][round - 1]);
            let draws: Vec<Duration> = (0..200).map(|_| pool.backoff(&retry, round)).collect();
            assert!(draws.iter().all(|d| *d <= ceiling), "round {round}");
            assert!(
                draws.iter().any(|d| *d > ceiling / 2),
                "round {round} is spread out"
            );
        }
    }

    #[tokio::test]
    async fn invalid_updates_are_refused_and_change_nothing() {
        let settings = RpcPoolSettings::with_endpoints(["http://127.0.0.1:1".parse().unwrap()]);
        let pool = RpcPool::new(settings.clone()).unwrap();
        let bad = RpcPoolSettings {
            max_concurrency: 0,
            ..settings.clone()
        };
        assert!(pool.update(bad).is_err());
        assert_eq!(pool.settings(), settings);
    }
}
