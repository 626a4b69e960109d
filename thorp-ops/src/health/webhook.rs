//! The webhook alert sink (feature `webhook`): every alert event POSTed as JSON to a URL, from
//! a bounded queue, each attempt under a timeout, failures retried with backoff.
//!
//! # Why here and not in `http`
//! Delivering alerts is the health monitor's business: a [`WebhookSink`] is an [`AlertSink`]
//! next to [`LogSink`](super::LogSink), registered on the monitor's builder, and a service may
//! want it without serving any ops endpoint (or serve them without it). So it lives in
//! `health`, behind its own feature, and brings an HTTP *client* only; the `http` module is
//! the server side and only reads the sink's counters for `/metrics`.

use super::alert::{AlertEvent, AlertSink, AlertTransition};
use super::component::BoxError;
use crate::Secret;
use http_body_util::Full;
use hyper::body::Bytes;
use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::sync::{Notify, watch};
use url::Url;

/// Why a [`WebhookSink`] could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// The URL is neither `http` nor `https`.
    #[error("webhook URL must be http or https, not `{0}`")]
    Scheme(String),
    /// An `https` URL without the `webhook-tls` feature.
    #[error("webhook URL is https but thorp-ops was built without the `webhook-tls` feature")]
    TlsUnavailable,
    /// The URL is not one an HTTP request can be sent to.
    #[error("webhook URL is not a valid request target")]
    Url,
    /// The authorization value is not a valid header value.
    #[error("webhook authorization is not a valid header value")]
    Authorization,
    /// The TLS client could not be set up (no usable root certificates, for one).
    #[cfg(feature = "webhook-tls")]
    #[error("webhook TLS could not be set up")]
    Tls(#[source] std::io::Error),
}

/// Counters of a [`WebhookSink`] since it was built.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WebhookStats {
    /// Events the receiver accepted (a 2xx answer).
    pub delivered: u64,
    /// Events given up on: retries exhausted, or refused with a 4xx other than 408/429.
    pub failed: u64,
    /// Events dropped from a full queue (the oldest go first).
    pub dropped: u64,
    /// Attempts after the first, over all events.
    pub retries: u64,
    /// Events waiting or being sent now.
    pub pending: u64,
}

/// Sends alert events to a URL as JSON, off the monitor's path.
///
/// [`deliver`](AlertSink::deliver) only queues the event, so neither the monitor nor its sink
/// timeout waits for the network; a worker task sends the queue in order, one event at a time.
/// Each attempt has a timeout; a connection error, a timeout, a 5xx, 408 or 429 is retried with
/// exponential backoff and jitter; any other answer but 2xx fails the event at once. When the
/// queue is full the oldest waiting event is dropped and counted: during a long outage the
/// newest state matters most.
///
/// The body is the [`AlertEvent`] JSON (`{"transition", "alert", "report"}`). Every attempt of
/// one event carries the same `Idempotency-Key: <alert id>-<fired|resolved>` header, so a
/// receiver can ignore a retry of a delivery that did arrive. The URL is never logged (webhook
/// URLs often carry a token): logs name only its host.
///
/// ```no_run
/// use std::time::Duration;
/// use thorp_ops::health::{HealthMonitor, WebhookSink};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let webhook = WebhookSink::builder("http://127.0.0.1:9093/alerts".parse()?)
///     .timeout(Duration::from_secs(2))
///     .retries(3)
///     .build()?;
/// let monitor = HealthMonitor::builder().sink(webhook.clone()).build()?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct WebhookSink {
    inner: Arc<Inner>,
}

/// Options of a [`WebhookSink`]; from [`WebhookSink::builder`].
#[derive(Clone)]
pub struct WebhookBuilder {
    url: Url,
    name: String,
    timeout: Duration,
    retries: u32,
    backoff: Duration,
    max_backoff: Duration,
    queue: usize,
    authorization: Option<Secret<String>>,
}

impl fmt::Debug for WebhookBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookBuilder")
            .field("host", &self.url.host_str())
            .field("name", &self.name)
            .field("timeout", &self.timeout)
            .field("retries", &self.retries)
            .field("backoff", &self.backoff)
            .field("max_backoff", &self.max_backoff)
            .field("queue", &self.queue)
            .finish_non_exhaustive()
    }
}

impl WebhookBuilder {
    /// The sink's name in logs and metrics. Default `webhook`.
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// How long one attempt may take, connecting included. Default 5 s.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Attempts after the first before an event is given up on. Default 3.
    #[must_use]
    pub fn retries(mut self, retries: u32) -> Self {
        self.retries = retries;
        self
    }

    /// The wait before the first retry, doubled for each next one up to `max` (each wait is
    /// then drawn between half of it and all of it). Default 500 ms up to 10 s.
    #[must_use]
    pub fn backoff(mut self, first: Duration, max: Duration) -> Self {
        self.backoff = first;
        self.max_backoff = max.max(first);
        self
    }

    /// Events that may wait; past this the oldest is dropped. Default 64, at least 1.
    #[must_use]
    pub fn queue(mut self, capacity: usize) -> Self {
        self.queue = capacity.max(1);
        self
    }

    /// The `Authorization` header value to send, e.g. `Bearer <token>`.
    #[must_use]
    pub fn authorization(mut self, value: Secret<String>) -> Self {
        self.authorization = Some(value);
        self
    }

    /// Builds the sink. Needs no runtime; the worker starts with the first event.
    pub fn build(self) -> Result<WebhookSink, WebhookError> {
        match self.url.scheme() {
            "http" => {}
            "https" if cfg!(feature = "webhook-tls") => {}
            "https" => return Err(WebhookError::TlsUnavailable),
            other => return Err(WebhookError::Scheme(other.to_owned())),
        }
        let uri: hyper::Uri = self.url.as_str().parse().map_err(|_| WebhookError::Url)?;
        let authorization = self
            .authorization
            .as_ref()
            .map(|value| {
                let mut value = hyper::header::HeaderValue::from_str(value.expose())
                    .map_err(|_| WebhookError::Authorization)?;
                value.set_sensitive(true);
                Ok(value)
            })
            .transpose()?;
        let client = client(self.timeout)?;
        let (pending, _) = watch::channel(0);
        let host = self.url.host_str().unwrap_or("").to_owned();
        Ok(WebhookSink {
            inner: Arc::new(Inner {
                shared: Arc::new(Shared {
                    queue: Mutex::new(Queue::default()),
                    wake: Notify::new(),
                    pending,
                    counters: Counters::default(),
                    delivery: Delivery {
                        client,
                        uri,
                        timeout: self.timeout,
                        host,
                        name: self.name,
                        retries: self.retries,
                        backoff: self.backoff,
                        max_backoff: self.max_backoff,
                        authorization,
                    },
                    capacity: self.queue,
                }),
            }),
        })
    }
}

#[cfg(not(feature = "webhook-tls"))]
type Connector = hyper_util::client::legacy::connect::HttpConnector;
#[cfg(feature = "webhook-tls")]
type Connector = hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>;

type Client = hyper_util::client::legacy::Client<Connector, Full<Bytes>>;

fn http_connector(timeout: Duration) -> hyper_util::client::legacy::connect::HttpConnector {
    let mut http = hyper_util::client::legacy::connect::HttpConnector::new();
    http.set_connect_timeout(Some(timeout));
    http.set_nodelay(true);
    // The https connector below takes `https://` URLs; this one must let them through.
    http.enforce_http(false);
    http
}

/// The sink's own client. With TLS, rustls gets the `ring` provider on this client's config
/// rather than as the process default, so the sink changes nothing for the rest of the
/// service.
fn client(timeout: Duration) -> Result<Client, WebhookError> {
    let http = http_connector(timeout);
    #[cfg(feature = "webhook-tls")]
    let connector = {
        use hyper_rustls::ConfigBuilderExt as _;
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| WebhookError::Tls(std::io::Error::other(e)))?
            .with_native_roots()
            .map_err(WebhookError::Tls)?
            .with_no_client_auth();
        hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(config)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http)
    };
    #[cfg(not(feature = "webhook-tls"))]
    let connector = http;
    Ok(
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build(connector),
    )
}

/// What the handles own: dropping the last one closes the queue and lets the worker end.
struct Inner {
    shared: Arc<Shared>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.wake.notify_one();
    }
}

struct Shared {
    queue: Mutex<Queue>,
    /// Wakes the worker: one consumer, so `notify_one` keeps a permit if it is not waiting.
    wake: Notify,
    /// Events queued or in flight, for [`WebhookSink::idle`].
    pending: watch::Sender<u64>,
    counters: Counters,
    delivery: Delivery,
    capacity: usize,
}

#[derive(Default)]
struct Queue {
    events: VecDeque<Arc<AlertEvent>>,
    in_flight: bool,
    worker: bool,
    closed: bool,
}

impl Queue {
    fn pending(&self) -> u64 {
        self.events.len() as u64 + u64::from(self.in_flight)
    }
}

#[derive(Default)]
struct Counters {
    delivered: AtomicU64,
    failed: AtomicU64,
    dropped: AtomicU64,
    retries: AtomicU64,
}

struct Delivery {
    client: Client,
    uri: hyper::Uri,
    timeout: Duration,
    host: String,
    name: String,
    retries: u32,
    backoff: Duration,
    max_backoff: Duration,
    authorization: Option<hyper::header::HeaderValue>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        // Every critical section is a few field writes; a panic cannot leave it half-done.
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl fmt::Debug for WebhookSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let delivery = &self.inner.shared.delivery;
        f.debug_struct("WebhookSink")
            .field("name", &delivery.name)
            .field("host", &delivery.host)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl WebhookSink {
    /// Options for a sink that POSTs to `url`.
    #[must_use]
    pub fn builder(url: Url) -> WebhookBuilder {
        WebhookBuilder {
            url,
            name: "webhook".to_owned(),
            timeout: Duration::from_secs(5),
            retries: 3,
            backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(10),
            queue: 64,
            authorization: None,
        }
    }

    /// The sink's name in logs and metrics.
    #[must_use]
    pub fn sink_name(&self) -> &str {
        &self.inner.shared.delivery.name
    }

    /// The counters so far.
    #[must_use]
    pub fn stats(&self) -> WebhookStats {
        let shared = &self.inner.shared;
        let counters = &shared.counters;
        WebhookStats {
            delivered: counters.delivered.load(Ordering::Relaxed),
            failed: counters.failed.load(Ordering::Relaxed),
            dropped: counters.dropped.load(Ordering::Relaxed),
            retries: counters.retries.load(Ordering::Relaxed),
            pending: *shared.pending.borrow(),
        }
    }

    /// Waits until no event is queued or being sent (delivered or given up on): for a graceful
    /// shutdown, bounded by the caller's timeout, and for tests.
    pub async fn idle(&self) {
        let mut pending = self.inner.shared.pending.subscribe();
        // The sender lives in `self`, so the channel cannot close while we wait.
        let _ = pending.wait_for(|n| *n == 0).await;
    }

    fn enqueue(&self, event: AlertEvent) -> Result<(), BoxError> {
        let shared = &self.inner.shared;
        let start_worker = {
            let mut queue = shared.lock();
            queue.events.push_back(Arc::new(event));
            while queue.events.len() > shared.capacity {
                if let Some(dropped) = queue.events.pop_front() {
                    shared.counters.dropped.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(
                        sink = %shared.delivery.name,
                        alert_id = dropped.alert.id,
                        alert = dropped.alert.kind.code(),
                        capacity = shared.capacity,
                        "webhook queue full; oldest alert event dropped"
                    );
                }
            }
            shared.pending.send_replace(queue.pending());
            !std::mem::replace(&mut queue.worker, true)
        };
        if start_worker {
            let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
                shared.lock().worker = false;
                BoxError::from("the webhook sink needs a tokio runtime")
            })?;
            runtime.spawn(work(Arc::clone(shared)));
        }
        shared.wake.notify_one();
        Ok(())
    }
}

impl AlertSink for WebhookSink {
    async fn deliver(&self, event: &AlertEvent) -> Result<(), BoxError> {
        self.enqueue(event.clone())
    }

    fn name(&self) -> &str {
        self.sink_name()
    }
}

/// The worker: sends queued events in order until the last handle is gone and the queue is
/// empty.
async fn work(shared: Arc<Shared>) {
    /// Lets the next event start a new worker if this one is dropped unfinished (its runtime
    /// shut down).
    struct Running<'a>(&'a Shared);
    impl Drop for Running<'_> {
        fn drop(&mut self) {
            let mut queue = self.0.lock();
            queue.worker = false;
            queue.in_flight = false;
            self.0.pending.send_replace(queue.pending());
        }
    }
    let _running = Running(&shared);
    loop {
        let next = {
            let mut queue = shared.lock();
            let next = queue.events.pop_front();
            queue.in_flight = next.is_some();
            shared.pending.send_replace(queue.pending());
            if next.is_none() && queue.closed {
                return;
            }
            next
        };
        match next {
            Some(event) => shared.send(&event).await,
            None => shared.wake.notified().await,
        }
    }
}

impl Shared {
    async fn send(&self, event: &AlertEvent) {
        let d = &self.delivery;
        let alert = &event.alert;
        let transition = match event.transition {
            AlertTransition::Fired => "fired",
            AlertTransition::Resolved => "resolved",
        };
        let body = match serde_json::to_vec(event) {
            Ok(body) => Bytes::from(body),
            Err(e) => {
                self.counters.failed.fetch_add(1, Ordering::Relaxed);
                tracing::error!(sink = %d.name, alert_id = alert.id, error = %e, "alert event did not serialize");
                return;
            }
        };
        let key = format!("{}-{transition}", alert.id);
        let mut attempt = 0;
        loop {
            let outcome = match self.attempt(&body, &key).await {
                Ok(status) if status.is_success() => {
                    self.counters.delivered.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(sink = %d.name, host = %d.host, alert_id = alert.id, transition, attempt, "alert event delivered");
                    return;
                }
                Ok(status) => {
                    let retry = status.is_server_error()
                        || status == hyper::StatusCode::REQUEST_TIMEOUT
                        || status == hyper::StatusCode::TOO_MANY_REQUESTS;
                    (retry, format!("answered {status}"))
                }
                Err(reason) => (true, reason),
            };
            let (retry, reason) = outcome;
            if !retry || attempt >= d.retries {
                self.counters.failed.fetch_add(1, Ordering::Relaxed);
                tracing::error!(sink = %d.name, host = %d.host, alert_id = alert.id, transition, attempts = attempt + 1, reason = %reason, "alert event not delivered");
                return;
            }
            attempt += 1;
            self.counters.retries.fetch_add(1, Ordering::Relaxed);
            let wait = backoff(d.backoff, d.max_backoff, attempt);
            tracing::warn!(sink = %d.name, host = %d.host, alert_id = alert.id, transition, attempt, reason = %reason, wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX), "alert webhook failed; retrying");
            tokio::time::sleep(wait).await;
        }
    }
}

impl Shared {
    /// One POST under the timeout: the answer's status, or why there is none. The reason
    /// never holds the URL (it may carry a token).
    async fn attempt(&self, body: &Bytes, key: &str) -> Result<hyper::StatusCode, String> {
        let d = &self.delivery;
        let mut request = hyper::Request::post(d.uri.clone())
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .header(hyper::header::USER_AGENT, USER_AGENT)
            .header("idempotency-key", key);
        if let Some(authorization) = &d.authorization {
            request = request.header(hyper::header::AUTHORIZATION, authorization.clone());
        }
        let request = request
            .body(Full::new(body.clone()))
            .map_err(|e| format!("request not built: {e}"))?;
        match tokio::time::timeout(d.timeout, d.client.request(request)).await {
            // The answer's body is not read: the status says all, and dropping it closes the
            // connection, which is fine at the rate alerts go.
            Ok(Ok(response)) => Ok(response.status()),
            Ok(Err(e)) => Err(crate::error_text::chain(&e)),
            Err(_) => Err(format!(
                "no answer within {} ms",
                u64::try_from(d.timeout.as_millis()).unwrap_or(u64::MAX)
            )),
        }
    }
}

const USER_AGENT: &str = concat!("thorp-ops/", env!("CARGO_PKG_VERSION"));

/// The wait before retry number `attempt` (from 1): `first × 2^(attempt-1)` capped at `max`,
/// then drawn between half of that and all of it, so many nodes retrying after one outage do
/// not arrive in step.
fn backoff(first: Duration, max: Duration, attempt: u32) -> Duration {
    let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
    let ceiling = first.saturating_mul(factor).min(max);
    ceiling / 2 + ceiling.mul_f64(fastrand::f64() / 2.0)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test, with its message
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_with_jitter_in_the_upper_half() {
        let first = Duration::from_millis(100);
        let max = Duration::from_millis(1000);
        for _ in 0..100 {
            let one = backoff(first, max, 1);
            assert!(
                (Duration::from_millis(50)..=first).contains(&one),
                "{one:?}"
            );
            let three = backoff(first, max, 3);
            assert!((Duration::from_millis(200)..=Duration::from_millis(400)).contains(&three));
            let many = backoff(first, max, 40);
            assert!(
                (Duration::from_millis(500)..=max).contains(&many),
                "{many:?}"
            );
        }
    }

    #[test]
    fn only_http_urls_without_the_tls_feature() {
        let build = |url: &str| WebhookSink::builder(url.parse().unwrap()).build();
        assert!(build("http://127.0.0.1:1/hook").is_ok());
        assert!(matches!(build("ftp://example.com/"), Err(WebhookError::Scheme(s)) if s == "ftp"));
        if !cfg!(feature = "webhook-tls") {
            assert!(matches!(
                build("https://example.com/"),
                Err(WebhookError::TlsUnavailable)
            ));
        }
    }

    #[test]
    fn debug_shows_the_host_only() {
        let sink =
            WebhookSink::builder("http://hooks.example.com/T000/B000/s3cr3t".parse().unwrap())
                .build()
                .unwrap();
        let shown = format!("{sink:?}");
        assert!(shown.contains("hooks.example.com"), "{shown}");
        assert!(!shown.contains("s3cr3t"), "{shown}");
    }
}
