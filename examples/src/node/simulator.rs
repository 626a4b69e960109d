//! The embedded RPC simulator: an in-process HTTP JSON-RPC 2.0 server that answers like a
//! Solana node, with latency and error rate adjustable while it runs.
//!
//! It lets `trading-node` run offline and lets tests inject faults. Slots advance with tokio
//! time (one every [`SimulatorSettings::slot_duration`], 400 ms by default), computed from the
//! time elapsed since start, so tests with `tokio::time::pause` see slots move exactly.
//!
//! Randomness (latency jitter, injected errors) comes from one seeded [`fastrand::Rng`]: it is
//! already in the dependency graph, has no dependencies of its own, gives unbiased ranges and
//! floats, and a fixed seed makes a run repeatable. Nothing here needs cryptographic quality.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use thorp_examples::node::simulator::{RpcSimulator, SimulatorSettings};
//!
//! let sim = RpcSimulator::start(SimulatorSettings::default()).await?;
//! println!("simulated node at {}", sim.url());
//! sim.set_latency(Duration::from_millis(250)); // every later request now takes 250 ms
//! sim.set_error_rate(0.5); // and half of them answer HTTP 503
//! sim.shutdown().await;
//! # Ok(())
//! # }
//! ```

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response as HttpResponse};
use axum::routing::post;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;
use url::Url;

use super::invalid::{Checker, InvalidSettings};
use super::jsonrpc::{
    ErrorObject, INTERNAL_ERROR, INVALID_PARAMS, INVALID_REQUEST, METHOD_NOT_FOUND, PARSE_ERROR,
    Response, VERSION,
};
use super::solana::Commitment;

/// How far the `confirmed` commitment trails the tip, in slots.
const CONFIRMED_LAG: u64 = 2;
/// How far the `finalized` commitment trails the tip (a root is ~32 slots behind on mainnet).
const FINALIZED_LAG: u64 = 32;
/// A blockhash stays valid for this many blocks (Solana's `MAX_PROCESSING_AGE` is 150).
const BLOCKHASH_VALIDITY_BLOCKS: u64 = 150;
/// One slot in this many is "skipped", so block height trails the slot as on a real cluster.
const SKIP_ONE_SLOT_IN: u64 = 20;
/// The version the simulator reports in `context.apiVersion`.
const API_VERSION: &str = "2.2.0-sim";

/// Settings of the simulator. Latency, jitter and error rate can change while it runs; the
/// slot clock is fixed at start.
#[derive(Debug, Clone, PartialEq)]
pub struct SimulatorSettings {
    /// Delay added to every request before it is answered. Default 5 ms.
    pub latency: Duration,
    /// Extra delay drawn uniformly from `0..=latency_jitter` per request. Default 5 ms.
    pub latency_jitter: Duration,
    /// Fraction of requests (0.0..=1.0) answered with HTTP 503 and a JSON-RPC internal
    /// error instead of a result. Values outside the range are clamped. Default 0.0.
    pub error_rate: f64,
    /// How often the slot advances. Default 400 ms, like mainnet.
    pub slot_duration: Duration,
    /// The slot at start. Default 350,000,000 (a realistic mainnet height).
    pub start_slot: u64,
    /// Seed of the simulator's random number generator. Default 0x5eed.
    pub seed: u64,
}

impl SimulatorSettings {
    /// Check every rule; report all violations. (The simulator clamps out-of-range values
    /// rather than misbehave, but a config reload should be refused instead.)
    pub fn validate(&self) -> Result<(), InvalidSettings> {
        let mut c = Checker::new("simulator");
        c.check((0.0..=1.0).contains(&self.error_rate), "error_rate", || {
            "must be between 0.0 and 1.0".into()
        });
        c.check(
            self.slot_duration >= Duration::from_millis(1),
            "slot_duration",
            || "must be at least 1ms".into(),
        );
        c.finish()
    }
}

impl Default for SimulatorSettings {
    fn default() -> Self {
        Self {
            latency: Duration::from_millis(5),
            latency_jitter: Duration::from_millis(5),
            error_rate: 0.0,
            slot_duration: Duration::from_millis(400),
            start_slot: 350_000_000,
            seed: 0x5eed,
        }
    }
}

/// Counters of what the simulator has served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SimulatorStats {
    /// HTTP requests received (a batch counts once).
    pub requests: u64,
    /// Requests answered with an injected failure.
    pub injected_errors: u64,
    /// The processed (tip) slot now.
    pub slot: u64,
}

/// Errors starting the simulator.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimulatorError {
    /// The listening socket could not be opened.
    #[error("rpc simulator cannot listen on {addr}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// A running simulator. Dropping it stops the server at once; [`RpcSimulator::shutdown`]
/// lets requests in flight finish first.
#[derive(Debug)]
pub struct RpcSimulator {
    addr: SocketAddr,
    url: Url,
    shared: Arc<Shared>,
    stop: CancellationToken,
    server: Option<JoinHandle<()>>,
}

/// The fault knobs, read once per request.
#[derive(Debug, Clone, Copy)]
struct Faults {
    latency: Duration,
    latency_jitter: Duration,
    error_rate: f64,
}

/// State shared between the handle and the request handlers.
#[derive(Debug)]
struct Shared {
    faults: Mutex<Faults>,
    rng: Mutex<fastrand::Rng>,
    genesis: Instant,
    slot_duration: Duration,
    start_slot: u64,
    seed: u64,
    requests: AtomicU64,
    injected_errors: AtomicU64,
}

/// What one request will suffer, drawn before it is handled.
struct Draw {
    delay: Duration,
    fail: bool,
}

impl RpcSimulator {
    /// Start on an ephemeral loopback port (`127.0.0.1:0`).
    pub async fn start(settings: SimulatorSettings) -> Result<Self, SimulatorError> {
        Self::start_on(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), settings).await
    }

    /// Start on `addr`.
    pub async fn start_on(
        addr: SocketAddr,
        settings: SimulatorSettings,
    ) -> Result<Self, SimulatorError> {
        let bind_error = |source| SimulatorError::Bind { addr, source };
        let listener = TcpListener::bind(addr).await.map_err(bind_error)?;
        let addr = listener.local_addr().map_err(bind_error)?;
        // A socket address always makes a valid http URL.
        let url = Url::parse(&format!("http://{addr}/"))
            .map_err(|e| bind_error(std::io::Error::other(e)))?;
        let shared = Arc::new(Shared {
            faults: Mutex::new(Faults::from(&settings)),
            rng: Mutex::new(fastrand::Rng::with_seed(settings.seed)),
            genesis: Instant::now(),
            slot_duration: settings.slot_duration.max(Duration::from_millis(1)),
            start_slot: settings.start_slot,
            seed: settings.seed,
            requests: AtomicU64::new(0),
            injected_errors: AtomicU64::new(0),
        });
        let router = Router::new()
            .route("/", post(handle))
            // Providers put API keys in the path (`/<key>`); accept any path like they do.
            .route("/{*path}", post(handle))
            .with_state(Arc::clone(&shared));
        let stop = CancellationToken::new();
        let server = tokio::spawn({
            let stop = stop.clone();
            async move {
                let serve =
                    axum::serve(listener, router).with_graceful_shutdown(stop.cancelled_owned());
                if let Err(error) = serve.await {
                    tracing::error!(%addr, %error, "rpc simulator stopped with an error");
                }
            }
        });
        tracing::info!(%addr, "rpc simulator listening");
        Ok(Self {
            addr,
            url,
            shared,
            stop,
            server: Some(server),
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The endpoint URL to give an RPC client (`http://127.0.0.1:PORT/`).
    pub fn url(&self) -> Url {
        self.url.clone()
    }

    /// Set the base latency of later requests.
    pub fn set_latency(&self, latency: Duration) {
        self.shared.with_faults(|f| f.latency = latency);
        tracing::info!(
            latency_ms = latency.as_millis() as u64,
            "rpc simulator latency changed"
        );
    }

    /// Set the jitter added on top of the base latency.
    pub fn set_latency_jitter(&self, jitter: Duration) {
        self.shared.with_faults(|f| f.latency_jitter = jitter);
        tracing::info!(
            jitter_ms = jitter.as_millis() as u64,
            "rpc simulator jitter changed"
        );
    }

    /// Set the fraction of later requests that fail (clamped to 0.0..=1.0; NaN means 0).
    pub fn set_error_rate(&self, error_rate: f64) {
        let error_rate = clamp_rate(error_rate);
        self.shared.with_faults(|f| f.error_rate = error_rate);
        tracing::info!(error_rate, "rpc simulator error rate changed");
    }

    /// Apply the run-time adjustable part of `settings` (latency, jitter, error rate).
    pub fn update(&self, settings: &SimulatorSettings) {
        self.shared.with_faults(|f| *f = Faults::from(settings));
        tracing::info!(
            latency_ms = settings.latency.as_millis() as u64,
            jitter_ms = settings.latency_jitter.as_millis() as u64,
            error_rate = clamp_rate(settings.error_rate),
            "rpc simulator faults changed"
        );
    }

    /// The processed (tip) slot now.
    pub fn slot(&self) -> u64 {
        self.shared.tip_slot()
    }

    /// What it has served so far.
    pub fn stats(&self) -> SimulatorStats {
        SimulatorStats {
            requests: self.shared.requests.load(Ordering::Relaxed),
            injected_errors: self.shared.injected_errors.load(Ordering::Relaxed),
            slot: self.shared.tip_slot(),
        }
    }

    /// Stop accepting, let requests in flight finish, and close the port.
    pub async fn shutdown(mut self) {
        self.stop.cancel();
        if let Some(server) = self.server.take() {
            // The task only ends by itself; a JoinError means it panicked, already reported.
            let _ = server.await;
        }
        tracing::info!(addr = %self.addr, "rpc simulator stopped");
    }
}

impl Drop for RpcSimulator {
    fn drop(&mut self) {
        self.stop.cancel();
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}

impl From<&SimulatorSettings> for Faults {
    fn from(s: &SimulatorSettings) -> Self {
        Self {
            latency: s.latency,
            latency_jitter: s.latency_jitter,
            error_rate: clamp_rate(s.error_rate),
        }
    }
}

fn clamp_rate(rate: f64) -> f64 {
    if rate.is_nan() {
        0.0
    } else {
        rate.clamp(0.0, 1.0)
    }
}

impl Shared {
    fn with_faults(&self, change: impl FnOnce(&mut Faults)) {
        change(&mut self.faults.lock().unwrap_or_else(PoisonError::into_inner));
    }

    fn draw(&self) -> Draw {
        let faults = *self.faults.lock().unwrap_or_else(PoisonError::into_inner);
        let mut rng = self.rng.lock().unwrap_or_else(PoisonError::into_inner);
        let jitter_micros = u64::try_from(faults.latency_jitter.as_micros()).unwrap_or(u64::MAX);
        let jitter = Duration::from_micros(rng.u64(0..=jitter_micros));
        // Draw the failure even at rate 0 so the jitter sequence does not depend on the rate.
        let fail = rng.f64() < faults.error_rate;
        Draw {
            delay: faults.latency.saturating_add(jitter),
            fail,
        }
    }

    fn tip_slot(&self) -> u64 {
        let elapsed = self.genesis.elapsed().as_nanos();
        let advanced = elapsed / self.slot_duration.as_nanos();
        self.start_slot
            .saturating_add(u64::try_from(advanced).unwrap_or(u64::MAX))
    }

    fn slot_at(&self, commitment: Commitment) -> u64 {
        let lag = match commitment {
            Commitment::Processed => 0,
            Commitment::Confirmed => CONFIRMED_LAG,
            Commitment::Finalized => FINALIZED_LAG,
        };
        self.tip_slot().saturating_sub(lag)
    }

    /// The 32-byte hash of `slot`, derived from the seed so every slot has its own.
    fn blockhash(&self, slot: u64) -> String {
        let mut state = self.seed ^ slot.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let mut bytes = [0u8; 32];
        for chunk in bytes.chunks_exact_mut(8) {
            chunk.copy_from_slice(&splitmix64(&mut state).to_le_bytes());
        }
        base58(&bytes)
    }
}

/// The SplitMix64 step: a fast, well-mixed hash of a counter (used to make blockhash bytes).
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Bitcoin/Solana base58 (no checksum), enough for 32-byte hashes.
fn base58(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    // Little-endian base-58 digits of the big-endian number `bytes`.
    let mut digits: Vec<u8> = Vec::with_capacity(bytes.len() * 138 / 100 + 1);
    for &byte in bytes {
        let mut carry = u32::from(byte);
        for digit in &mut digits {
            carry += u32::from(*digit) << 8;
            *digit = (carry % 58) as u8;
            carry /= 58;
        }
        while carry > 0 {
            digits.push((carry % 58) as u8);
            carry /= 58;
        }
    }
    let zeros = bytes.iter().take_while(|&&b| b == 0).count();
    std::iter::repeat_n('1', zeros)
        .chain(
            digits
                .iter()
                .rev()
                .map(|&d| char::from(ALPHABET[usize::from(d)])),
        )
        .collect()
}

/// The HTTP handler: one JSON-RPC request or a batch per POST.
async fn handle(State(shared): State<Arc<Shared>>, body: Bytes) -> HttpResponse {
    shared.requests.fetch_add(1, Ordering::Relaxed);
    let draw = shared.draw();
    tokio::time::sleep(draw.delay).await;
    if draw.fail {
        shared.injected_errors.fetch_add(1, Ordering::Relaxed);
        tracing::debug!("rpc simulator injected a failure");
        let error = ErrorObject::new(INTERNAL_ERROR, "simulated upstream failure");
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            json_body(&Response::error(Value::Null, error)),
        )
            .into_response();
    }
    let parsed: Value = match serde_json::from_slice(&body) {
        Ok(value) => value,
        Err(_) => {
            let error = ErrorObject::new(PARSE_ERROR, "Parse error");
            return json_body(&Response::error(Value::Null, error)).into_response();
        }
    };
    match parsed {
        Value::Array(items) if items.is_empty() => {
            let error = ErrorObject::new(INVALID_REQUEST, "Invalid request");
            json_body(&Response::error(Value::Null, error)).into_response()
        }
        Value::Array(items) => {
            let answers: Vec<Response> = items
                .into_iter()
                .filter_map(|item| answer(&shared, item))
                .collect();
            if answers.is_empty() {
                StatusCode::NO_CONTENT.into_response()
            } else {
                json_body(&answers).into_response()
            }
        }
        single => match answer(&shared, single) {
            Some(response) => json_body(&response).into_response(),
            None => StatusCode::NO_CONTENT.into_response(),
        },
    }
}

/// Serialize a response body; our own types always serialize, but never panic over it.
fn json_body(value: &impl serde::Serialize) -> HttpResponse {
    match serde_json::to_vec(value) {
        Ok(bytes) => (
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            bytes,
        )
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// Answer one request object; `None` for a notification (a request without `id`).
fn answer(shared: &Shared, request: Value) -> Option<Response> {
    let invalid = |id: Value| {
        Some(Response::error(
            id,
            ErrorObject::new(INVALID_REQUEST, "Invalid request"),
        ))
    };
    let Value::Object(mut request) = request else {
        return invalid(Value::Null);
    };
    let id = match request.remove("id") {
        None => None,
        Some(id @ (Value::Null | Value::Number(_) | Value::String(_))) => Some(id),
        Some(_) => return invalid(Value::Null),
    };
    let well_formed = request.get("jsonrpc").and_then(Value::as_str) == Some(VERSION)
        && matches!(
            request.get("params"),
            None | Some(Value::Array(_) | Value::Object(_))
        );
    let method = request.get("method").and_then(Value::as_str);
    let (true, Some(method)) = (well_formed, method) else {
        return invalid(id.unwrap_or(Value::Null));
    };
    let outcome = dispatch(shared, method, request.get("params"));
    // A notification gets no answer, whatever happened (JSON-RPC 2.0, section 4.1).
    let id = id?;
    Some(match outcome {
        Ok(result) => Response::result(id, result),
        Err(error) => Response::error(id, error),
    })
}

fn dispatch(shared: &Shared, method: &str, params: Option<&Value>) -> Result<Value, ErrorObject> {
    match method {
        "getHealth" => Ok(json!("ok")),
        "getSlot" => {
            let commitment = commitment(params)?;
            Ok(json!(shared.slot_at(commitment)))
        }
        "getLatestBlockhash" => {
            let commitment = commitment(params)?;
            let slot = shared.slot_at(commitment);
            let block_height = slot - slot / SKIP_ONE_SLOT_IN;
            Ok(json!({
                "context": { "slot": slot, "apiVersion": API_VERSION },
                "value": {
                    "blockhash": shared.blockhash(slot),
                    "lastValidBlockHeight": block_height.saturating_add(BLOCKHASH_VALIDITY_BLOCKS),
                },
            }))
        }
        _ => Err(ErrorObject::new(METHOD_NOT_FOUND, "Method not found")),
    }
}

/// Read `[{"commitment": "..."}]`; Solana's default is `finalized`.
fn commitment(params: Option<&Value>) -> Result<Commitment, ErrorObject> {
    let bad = |why: &str| ErrorObject::new(INVALID_PARAMS, format!("Invalid params: {why}"));
    let config = match params {
        None | Some(Value::Null) => return Ok(Commitment::Finalized),
        Some(Value::Array(items)) => match items.as_slice() {
            [] => return Ok(Commitment::Finalized),
            [config] => config,
            _ => return Err(bad("expected at most one config object")),
        },
        Some(_) => return Err(bad("expected an array")),
    };
    let Value::Object(config) = config else {
        return Err(bad("expected a config object"));
    };
    match config.get("commitment") {
        None => Ok(Commitment::Finalized),
        Some(Value::String(level)) => level.parse().map_err(|_| bad("unknown commitment")),
        Some(_) => Err(bad("commitment must be a string")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared(start_slot: u64) -> Shared {
        let settings = SimulatorSettings {
            start_slot,
            ..SimulatorSettings::default()
        };
        Shared {
            faults: Mutex::new(Faults::from(&settings)),
            rng: Mutex::new(fastrand::Rng::with_seed(settings.seed)),
            genesis: Instant::now(),
            slot_duration: settings.slot_duration,
            start_slot,
            seed: settings.seed,
            requests: AtomicU64::new(0),
            injected_errors: AtomicU64::new(0),
        }
    }

    fn call(shared: &Shared, request: Value) -> Value {
        serde_json::to_value(answer(shared, request)).unwrap()
    }

    #[test]
    fn base58_matches_known_vectors() {
        assert_eq!(base58(b""), "");
        assert_eq!(base58(&[0]), "1");
        assert_eq!(base58(&[0, 0, 1]), "112");
        assert_eq!(base58(b"hello world"), "StV1DL6CwTryKyV");
        // The all-zero hash is Solana's default blockhash.
        assert_eq!(base58(&[0; 32]), "11111111111111111111111111111111");
    }

    #[tokio::test(start_paused = true)]
    async fn slot_advances_every_400ms_of_tokio_time() {
        let s = shared(1_000);
        assert_eq!(s.tip_slot(), 1_000);
        tokio::time::advance(Duration::from_millis(399)).await;
        assert_eq!(s.tip_slot(), 1_000);
        tokio::time::advance(Duration::from_millis(1)).await;
        assert_eq!(s.tip_slot(), 1_001);
        tokio::time::advance(Duration::from_secs(4)).await;
        assert_eq!(s.tip_slot(), 1_011);
        assert_eq!(s.slot_at(Commitment::Confirmed), 1_009);
        assert_eq!(s.slot_at(Commitment::Finalized), 979);
    }

    #[tokio::test(start_paused = true)]
    async fn blockhash_is_base58_of_32_bytes_and_changes_with_the_slot() {
        let s = shared(5_000);
        let request = json!({"jsonrpc": "2.0", "id": 1, "method": "getLatestBlockhash",
                             "params": [{"commitment": "processed"}]});
        let first = call(&s, request.clone());
        let hash = first["result"]["value"]["blockhash"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!((32..=44).contains(&hash.len()), "{hash}");
        assert!(
            hash.chars()
                .all(|c| c.is_ascii_alphanumeric() && !"0OIl".contains(c))
        );
        assert_eq!(first["result"]["context"]["slot"], 5_000);
        assert_eq!(
            call(&s, request.clone())["result"]["value"]["blockhash"],
            hash.as_str()
        );
        tokio::time::advance(Duration::from_millis(400)).await;
        let second = call(&s, request);
        assert_eq!(second["result"]["context"]["slot"], 5_001);
        assert_ne!(second["result"]["value"]["blockhash"], hash.as_str());
        let height = second["result"]["value"]["lastValidBlockHeight"]
            .as_u64()
            .unwrap();
        assert_eq!(
            height,
            5_001 - 5_001 / SKIP_ONE_SLOT_IN + BLOCKHASH_VALIDITY_BLOCKS
        );
    }

    #[test]
    fn methods_answer_like_a_solana_node() {
        let s = shared(100);
        assert_eq!(
            call(
                &s,
                json!({"jsonrpc": "2.0", "id": "a", "method": "getHealth"})
            ),
            json!({"jsonrpc": "2.0", "result": "ok", "id": "a"})
        );
        assert_eq!(
            call(&s, json!({"jsonrpc": "2.0", "id": 2, "method": "getSlot"}))["result"],
            68
        );
        assert_eq!(
            call(
                &s,
                json!({"jsonrpc": "2.0", "id": 3, "method": "getSlot", "params": []})
            )["result"],
            68
        );
    }

    #[test]
    fn malformed_requests_get_the_protocol_error_codes() {
        let s = shared(100);
        let code = |request: Value| call(&s, request)["error"]["code"].as_i64().unwrap();
        assert_eq!(
            code(json!({"jsonrpc": "2.0", "id": 1, "method": "sendBitcoin"})),
            METHOD_NOT_FOUND
        );
        assert_eq!(
            code(json!({"jsonrpc": "1.0", "id": 1, "method": "getSlot"})),
            INVALID_REQUEST
        );
        assert_eq!(code(json!({"jsonrpc": "2.0", "id": 1})), INVALID_REQUEST);
        assert_eq!(
            code(json!({"jsonrpc": "2.0", "id": [1], "method": "getSlot"})),
            INVALID_REQUEST
        );
        assert_eq!(
            code(json!({"jsonrpc": "2.0", "id": 1, "method": 7})),
            INVALID_REQUEST
        );
        assert_eq!(
            code(json!({"jsonrpc": "2.0", "id": 1, "method": "getSlot", "params": 3})),
            INVALID_REQUEST
        );
        assert_eq!(code(json!(42)), INVALID_REQUEST);
        assert_eq!(
            code(json!({"jsonrpc": "2.0", "id": 1, "method": "getSlot",
                        "params": [{"commitment": "eventually"}]})),
            INVALID_PARAMS
        );
        assert_eq!(
            code(json!({"jsonrpc": "2.0", "id": 1, "method": "getSlot", "params": [1, 2]})),
            INVALID_PARAMS
        );
        // The id is echoed on errors where it could be read.
        assert_eq!(
            call(&s, json!({"jsonrpc": "1.0", "id": 9, "method": "getSlot"}))["id"],
            9
        );
    }

    #[test]
    fn extreme_settings_neither_panic_nor_validate() {
        let s = shared(u64::MAX);
        let answer = call(
            &s,
            json!({"jsonrpc": "2.0", "id": 1, "method": "getLatestBlockhash"}),
        );
        assert!(answer["result"]["value"]["lastValidBlockHeight"].is_u64());
        let bad = SimulatorSettings {
            error_rate: 2.0,
            slot_duration: Duration::ZERO,
            ..SimulatorSettings::default()
        };
        assert_eq!(bad.validate().unwrap_err().problems.len(), 2);
        assert_eq!(SimulatorSettings::default().validate(), Ok(()));
    }

    #[test]
    fn notifications_get_no_answer() {
        let s = shared(100);
        assert!(answer(&s, json!({"jsonrpc": "2.0", "method": "getSlot"})).is_none());
        assert!(answer(&s, json!({"jsonrpc": "2.0", "method": "nope"})).is_none());
    }

    #[test]
    fn error_rate_draws_are_deterministic_for_a_seed_and_clamped() {
        let draws = |rate: f64| {
            let s = shared(1);
            s.with_faults(|f| f.error_rate = clamp_rate(rate));
            (0..1_000).filter(|_| s.draw().fail).count()
        };
        assert_eq!(draws(0.0), 0);
        assert_eq!(draws(1.0), 1_000);
        assert_eq!(draws(7.0), 1_000);
        assert_eq!(draws(f64::NAN), 0);
        let half = draws(0.5);
        assert!((400..=600).contains(&half), "{half}");
        assert_eq!(draws(0.5), half, "same seed, same sequence");
    }

    #[test]
    fn jitter_stays_within_its_bound() {
        let s = shared(1);
        s.with_faults(|f| {
            f.latency = Duration::from_millis(10);
            f.latency_jitter = Duration::from_millis(4);
        });
        let delays: Vec<Duration> = (0..200).map(|_| s.draw().delay).collect();
        assert!(
            delays
                .iter()
                .all(|d| (Duration::from_millis(10)..=Duration::from_millis(14)).contains(d))
        );
        assert!(
            delays.iter().any(|d| *d > Duration::from_millis(12)),
            "jitter is drawn"
        );
    }
}
