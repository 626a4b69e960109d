//! A small node for the ops HTTP tests: the four stock components with stats a test sets, a
//! fed probe, a secret-bearing config file under hot reload, the router over all of them, and
//! helpers to call it in-process or over a loopback socket.

use super::health::{FedProbe, Settable, next_report};
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tempfile::TempDir;
use thorp_ops::config::{HotReload, ReloadOptions};
use thorp_ops::health::stock::{
    BackpressureStats, CircuitBreakerStats, CircuitState, EventBusStats, RpcPoolStats,
};
use thorp_ops::health::{HealthMonitor, HealthReport, MonitorSettings};
use thorp_ops::http::OpsRouter;
use thorp_ops::{HotConfig, Secret};
use tokio::sync::oneshot;
use tower::ServiceExt;
use url::Url;

/// The API key in the RPC URL: must never appear in a response.
pub(crate) const API_KEY: &str = "k3y-5ecret-a1b2c3d4e5f6";
/// The admin token: must never appear in a response either.
pub(crate) const ADMIN_TOKEN: &str = "t0ken-adm1n-9f8e7d6c5b4a";

/// The ops test service's config: a secret URL, the admin token, a plain key.
#[derive(HotConfig, Debug)]
#[hot_config(
    component = "ops",
    prefix = "OPS_",
    prefix = "HELIUS_",
    prefix = "NODE_"
)]
pub(crate) struct OpsConfig {
    /// Primary RPC endpoint; its query string carries the API key.
    #[hot_config(key = "HELIUS_RPC_URL", url(scheme = "https"), secret)]
    pub(crate) helius: Secret<Url>,
    /// Bearer token for acknowledging alerts.
    #[hot_config(key = "OPS_ADMIN_TOKEN", secret)]
    pub(crate) admin_token: Option<Secret<String>>,
    /// The node's name.
    #[hot_config(key = "NODE_NAME", default = "node-1")]
    pub(crate) name: String,
}

/// A config file with the secrets set.
pub(crate) fn config_text(name: &str, token: Option<&str>) -> String {
    let mut text = format!(
        "HELIUS_RPC_URL=https://mainnet.helius-rpc.com/?api-key={API_KEY}\nNODE_NAME={name}\n"
    );
    if let Some(token) = token {
        text.push_str(&format!("OPS_ADMIN_TOKEN={token}\n"));
    }
    text
}

pub(crate) fn healthy_rpc() -> RpcPoolStats {
    RpcPoolStats {
        success_rate: 0.99,
        avg_latency_ms: 45.0,
        p95_latency_ms: 80.0,
        active_connections: 25,
    }
}

pub(crate) fn healthy_bus() -> EventBusStats {
    EventBusStats {
        queue_depth: 12,
        utilization: 12.5,
        events_per_second: 2.5,
    }
}

pub(crate) fn healthy_backpressure() -> BackpressureStats {
    BackpressureStats {
        utilization: 40.0,
        rejection_rate: 0.0,
        current_load: 20,
        status: "HEALTHY".into(),
    }
}

pub(crate) fn breaker(state: CircuitState) -> CircuitBreakerStats {
    CircuitBreakerStats {
        state,
        failures: 0,
        successes: 100,
    }
}

/// Settings for tests: one check a second, a short timeout, one critical check fires an alert.
pub(crate) fn settings() -> MonitorSettings {
    let mut settings = MonitorSettings {
        check_interval: Duration::from_secs(1),
        check_timeout: Duration::from_millis(200),
        ..MonitorSettings::default()
    };
    settings.alerts.component_critical_checks = 1;
    settings
}

/// The node: components, monitor, config and router.
pub(crate) struct Node {
    pub(crate) rpc: Settable<RpcPoolStats>,
    pub(crate) bus: Settable<EventBusStats>,
    pub(crate) backpressure: Settable<BackpressureStats>,
    pub(crate) breaker: Settable<CircuitBreakerStats>,
    pub(crate) monitor: HealthMonitor,
    pub(crate) config: HotReload<OpsConfig>,
    pub(crate) router: Router,
    pub(crate) dir: TempDir,
    pub(crate) path: PathBuf,
}

/// Node options.
pub(crate) struct Options {
    pub(crate) settings: MonitorSettings,
    pub(crate) token: Option<&'static str>,
    pub(crate) start: bool,
    pub(crate) customize: fn(OpsRouter) -> OpsRouter,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            settings: settings(),
            token: Some(ADMIN_TOKEN),
            start: true,
            customize: |router| router,
        }
    }
}

impl Node {
    /// A started node with healthy components and its first report published.
    pub(crate) async fn start() -> Self {
        Self::with(Options::default()).await
    }

    pub(crate) async fn with(options: Options) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("ops.env");
        std::fs::write(&path, config_text("alpha", options.token)).expect("write config");
        let config = HotReload::<OpsConfig>::start(
            &path,
            ReloadOptions::default()
                .watch(false)
                .reload_on_sighup(false),
        )
        .await
        .expect("config loads");

        let rpc = Settable::new(healthy_rpc());
        let bus = Settable::new(healthy_bus());
        let backpressure = Settable::new(healthy_backpressure());
        let breaker_stats = Settable::new(breaker(CircuitState::Closed));
        let monitor = HealthMonitor::builder()
            .component(thorp_ops::health::StatsCheck::new(rpc.clone()))
            .component(thorp_ops::health::StatsCheck::new(bus.clone()))
            .component(thorp_ops::health::StatsCheck::new(backpressure.clone()))
            .component(thorp_ops::health::StatsCheck::new(breaker_stats.clone()))
            .settings(options.settings)
            .probe(FedProbe::with_rss_mb(64))
            .without_log_sink()
            .build()
            .expect("monitor builds");

        let handle = config.handle();
        let ops = OpsRouter::new()
            .config(config.handle())
            .health(monitor.clone())
            .admin_token(move || handle.current().config().admin_token.clone());
        let router = (options.customize)(ops).router();
        if options.start {
            monitor.start().expect("monitor starts");
            monitor.first_report().await;
        }
        Self {
            rpc,
            bus,
            backpressure,
            breaker: breaker_stats,
            monitor,
            config,
            router,
            dir,
            path,
        }
    }

    /// Waits for the next report (the monitor's next tick).
    pub(crate) async fn next_report(&self) -> Arc<HealthReport> {
        let mut rx = self.monitor.subscribe();
        rx.borrow_and_update();
        tokio::time::timeout(Duration::from_secs(60), next_report(&mut rx))
            .await
            .expect("a report within a minute")
    }

    /// Rewrites the config file and reloads it.
    pub(crate) async fn rewrite_config(&self, text: &str) -> thorp_ops::config::ReloadRecord {
        std::fs::write(&self.path, text).expect("rewrite config");
        self.config.reload().await
    }

    /// `GET uri` in-process.
    pub(crate) async fn get(&self, uri: &str) -> Reply {
        call(&self.router, Method::GET, uri, &[], Body::empty()).await
    }
}

/// A response, read whole.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: String,
}

impl Reply {
    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub(crate) fn content_type(&self) -> &str {
        self.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

/// One request through the router, in-process.
pub(crate) async fn call(
    router: &Router,
    method: Method,
    uri: &str,
    headers: &[(&str, &str)],
    body: Body,
) -> Reply {
    let mut request = Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request.body(body).expect("valid request");
    let response = router.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), 16 * 1024 * 1024)
        .await
        .expect("body reads");
    Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

/// The router served on a loopback port until dropped.
pub(crate) struct Server {
    pub(crate) addr: SocketAddr,
    stop: Mutex<Option<oneshot::Sender<()>>>,
}

impl Server {
    pub(crate) async fn start(router: Router) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Self {
            addr,
            stop: Mutex::new(Some(stop)),
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.lock().expect("not poisoned").take() {
            let _ = stop.send(());
        }
    }
}

/// A reqwest client for loopback tests (the workspace's reqwest needs a crypto provider).
pub(crate) fn client() -> reqwest::Client {
    thorp_examples::node::rpc_pool::install_crypto_provider();
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client builds")
}
