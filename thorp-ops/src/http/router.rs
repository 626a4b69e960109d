//! The ops router: what it is built from, its routes, the limits and headers every response
//! gets, the JSON error shape, and serving it.

use super::{alerts, dashboard, health, metrics};
use crate::Secret;
use crate::config::ConfigSource;
use crate::health::{HealthMonitor, HealthStatus};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use prometheus_client::registry::Registry;
use serde_json::json;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

/// Largest request body accepted: the only endpoint that reads one (the acknowledgement) takes
/// a few bytes.
pub(crate) const MAX_BODY: usize = 16 * 1024;

/// Where the ops endpoints listen unless told otherwise: loopback only, so nothing outside the
/// host reaches them without a deliberate choice (a proxy, or another address).
pub const DEFAULT_ADDR: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 8787);

/// The HTTP status `GET /health` answers with, per overall status.
///
/// The default suits a load balancer that should keep a degraded node in rotation: 200 for
/// healthy and degraded, 503 for critical and before the first check. To take degraded nodes
/// out too:
///
/// ```
/// use axum::http::StatusCode;
/// use thorp_ops::http::{OpsRouter, StatusCodes};
///
/// let router = OpsRouter::new().status_codes(StatusCodes {
///     degraded: StatusCode::SERVICE_UNAVAILABLE,
///     ..StatusCodes::default()
/// });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatusCodes {
    /// For a healthy report. Default 200.
    pub healthy: StatusCode,
    /// For a degraded report. Default 200.
    pub degraded: StatusCode,
    /// For a critical report. Default 503.
    pub critical: StatusCode,
    /// Before the first report. Default 503.
    pub starting: StatusCode,
}

impl Default for StatusCodes {
    fn default() -> Self {
        Self {
            healthy: StatusCode::OK,
            degraded: StatusCode::OK,
            critical: StatusCode::SERVICE_UNAVAILABLE,
            starting: StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

impl StatusCodes {
    /// The code for a report whose overall status is `status`.
    #[must_use]
    pub fn for_status(&self, status: HealthStatus) -> StatusCode {
        match status {
            HealthStatus::Healthy => self.healthy,
            HealthStatus::Degraded => self.degraded,
            HealthStatus::Critical => self.critical,
        }
    }
}

/// Reads the admin token in force; called on every acknowledgement, so a reload that changes
/// the token takes effect at the next request.
pub(crate) type TokenProvider = Arc<dyn Fn() -> Option<Secret<String>> + Send + Sync>;

/// Builds the ops endpoints from what the service has: a live config, a health monitor, an
/// admin token, extra metrics.
///
/// Every part is optional; an endpoint whose source was not given answers 404 with a JSON
/// reason, and a probe skips the rules about it. The router only reads what the monitor and
/// the reload pipeline have published: no request runs a check or a reload.
///
/// ```
/// use thorp_ops::health::HealthMonitor;
/// use thorp_ops::http::OpsRouter;
///
/// # fn wire(monitor: HealthMonitor) {
/// let router: axum::Router = OpsRouter::new()
///     .health(monitor)
///     // .config(reload.handle())
///     // .admin_token(move || store.load().ops.admin_token.clone())
///     .router();
/// # }
/// ```
#[derive(Clone, Default)]
pub struct OpsRouter {
    config: Option<Arc<dyn ConfigSource>>,
    monitor: Option<HealthMonitor>,
    admin_token: Option<TokenProvider>,
    status_codes: StatusCodes,
    registries: Vec<Arc<Registry>>,
    #[cfg(feature = "webhook")]
    webhooks: Vec<crate::health::WebhookSink>,
    without_dashboard: bool,
}

impl fmt::Debug for OpsRouter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpsRouter")
            .field("config", &self.config.is_some())
            .field("monitor", &self.monitor)
            .field("admin_token", &self.admin_token.is_some())
            .field("status_codes", &self.status_codes)
            .field("registries", &self.registries.len())
            .field("dashboard", &!self.without_dashboard)
            .finish()
    }
}

impl OpsRouter {
    /// A router with nothing to show yet.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Serves `/config` and `/config/history` from `config`, and its reload metrics; readiness
    /// requires it to be loaded.
    #[must_use]
    pub fn config(mut self, config: impl ConfigSource) -> Self {
        self.config = Some(Arc::new(config));
        self
    }

    /// Serves `/health`, the probes, `/alerts`, the health metrics and the dashboard from
    /// `monitor`'s published reports.
    #[must_use]
    pub fn health(mut self, monitor: HealthMonitor) -> Self {
        self.monitor = Some(monitor);
        self
    }

    /// Where `POST /alerts/{id}/ack` finds the bearer token it requires. `token` is called on
    /// every acknowledgement, so reading a field of a live config store makes a reload change
    /// it; `None` (or an empty token) refuses every acknowledgement with 403.
    ///
    /// ```
    /// use thorp_ops::Secret;
    /// use thorp_ops::http::OpsRouter;
    ///
    /// let router = OpsRouter::new().admin_token(|| std::env::var("OPS_ADMIN_TOKEN").ok().map(Secret::new));
    /// ```
    #[must_use]
    pub fn admin_token(
        mut self,
        token: impl Fn() -> Option<Secret<String>> + Send + Sync + 'static,
    ) -> Self {
        self.admin_token = Some(Arc::new(token));
        self
    }

    /// How `/health` maps the overall status to an HTTP status.
    #[must_use]
    pub fn status_codes(mut self, codes: StatusCodes) -> Self {
        self.status_codes = codes;
        self
    }

    /// Also serves the service's own metrics from `registry` on `/metrics`, after the ops
    /// metrics. Keep its names apart from the `thorp_` and `process_` ones.
    #[must_use]
    pub fn registry(mut self, registry: Arc<Registry>) -> Self {
        self.registries.push(registry);
        self
    }

    /// Adds `webhook`'s counters to `/metrics` (`thorp_webhook_*`, labelled with its name).
    #[cfg(feature = "webhook")]
    #[must_use]
    pub fn webhook(mut self, webhook: crate::health::WebhookSink) -> Self {
        self.webhooks.push(webhook);
        self
    }

    /// Leaves out the dashboard (`GET /` then answers 404), for services that mount only the
    /// machine-facing endpoints.
    #[must_use]
    pub fn without_dashboard(mut self) -> Self {
        self.without_dashboard = true;
        self
    }

    /// The axum router, to mount (`Router::nest("/ops/", ...)`, or merged at the root) or
    /// [`serve`].
    pub fn router(self) -> Router {
        let metrics = metrics::Metrics::new(metrics::Sources {
            monitor: self.monitor.clone(),
            config: self.config.clone(),
            #[cfg(feature = "webhook")]
            webhooks: self.webhooks,
            extra: self.registries,
        });
        let state = Arc::new(Ops {
            config: self.config,
            monitor: self.monitor,
            admin_token: self.admin_token,
            status_codes: self.status_codes,
            metrics,
        });
        let mut router = Router::new()
            .route("/health", get(health::health))
            .route("/health/history", get(health::history))
            .route("/health/summary", get(health::summary))
            .route("/livez", get(health::livez))
            .route("/readyz", get(health::readyz))
            .route("/metrics", get(metrics::scrape))
            .route("/config", get(config_view))
            .route("/config/history", get(config_history))
            .route("/alerts", get(alerts::list))
            .route("/alerts/{id}/ack", post(alerts::acknowledge));
        if !self.without_dashboard {
            router = router
                .route("/", get(dashboard::page))
                .route("/dashboard.js", get(dashboard::script))
                .route("/dashboard.css", get(dashboard::style));
        }
        router
            .fallback(not_found)
            .method_not_allowed_fallback(method_not_allowed)
            .layer(axum::middleware::map_response(common_headers))
            .layer(DefaultBodyLimit::max(MAX_BODY))
            .with_state(state)
    }
}

/// What every handler reads: the parts the router was built from.
pub(crate) struct Ops {
    pub(crate) config: Option<Arc<dyn ConfigSource>>,
    pub(crate) monitor: Option<HealthMonitor>,
    pub(crate) admin_token: Option<TokenProvider>,
    pub(crate) status_codes: StatusCodes,
    pub(crate) metrics: metrics::Metrics,
}

/// The handlers' state extractor.
pub(crate) type OpsState = State<Arc<Ops>>;

/// Serves `router` on `addr` until `shutdown` resolves, then lets requests in flight finish.
///
/// Pass [`DEFAULT_ADDR`] (127.0.0.1:8787) unless a proxy or firewall guards another address;
/// an address beyond loopback is logged as a warning.
pub async fn serve(
    router: Router,
    addr: SocketAddr,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    if local.ip().is_loopback() {
        tracing::info!(addr = %local, "ops endpoints listening");
    } else {
        tracing::warn!(addr = %local, "ops endpoints listening beyond loopback; keep them behind a proxy or firewall");
    }
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}

/// The JSON error every endpoint answers with: `{"error": "...", "status": 404}`.
pub(crate) fn error(status: StatusCode, message: impl fmt::Display) -> Response {
    (
        status,
        Json(json!({ "error": message.to_string(), "status": status.as_u16() })),
    )
        .into_response()
}

/// 404 for an endpoint whose source was not given to the router.
pub(crate) fn not_served(what: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        format_args!("no {what} is served here"),
    )
}

/// Headers for every response: nothing here may be cached (it is all live state), sniffed
/// into another type, framed by another site, or leak the URL as a referrer.
async fn common_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

async fn config_view(State(ops): OpsState) -> Response {
    match &ops.config {
        Some(config) => Json(config.view()).into_response(),
        None => not_served("config"),
    }
}

async fn config_history(State(ops): OpsState) -> Response {
    match &ops.config {
        Some(config) => {
            Json(json!({ "stats": config.stats(), "history": config.history() })).into_response()
        }
        None => not_served("config"),
    }
}

async fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "no such endpoint")
}

async fn method_not_allowed() -> Response {
    error(StatusCode::METHOD_NOT_ALLOWED, "method not allowed")
}
