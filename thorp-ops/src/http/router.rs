//! The ops router: routes, limits and error shapes shared by every endpoint.

use crate::config::ConfigSource;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use std::net::SocketAddr;
use std::sync::Arc;

/// Largest request body accepted: the endpoints take none beyond a few bytes.
const MAX_BODY: usize = 16 * 1024;

/// Builds the ops endpoints from what the service has: a live config, a health monitor.
#[derive(Clone, Default)]
pub struct OpsRouter {
    config: Option<Arc<dyn ConfigSource>>,
}

impl OpsRouter {
    /// A router with nothing to show yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Serves `/config` and `/config/history` from `config`.
    pub fn config(mut self, config: impl ConfigSource) -> Self {
        self.config = Some(Arc::new(config));
        self
    }

    /// The axum router, to mount or serve.
    pub fn router(self) -> Router {
        let state = Arc::new(self);
        Router::new()
            .route("/config", get(config_view))
            .route("/config/history", get(config_history))
            .fallback(not_found)
            .method_not_allowed_fallback(method_not_allowed)
            .layer(DefaultBodyLimit::max(MAX_BODY))
            .with_state(state)
    }
}

/// Serves `router` on `addr` until `shutdown` resolves.
pub async fn serve(
    router: Router,
    addr: SocketAddr,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(%addr, "ops endpoints listening");
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}

type Ops = State<Arc<OpsRouter>>;

fn error(status: StatusCode, message: &str) -> Response {
    (
        status,
        Json(json!({ "error": message, "status": status.as_u16() })),
    )
        .into_response()
}

async fn config_view(State(ops): Ops) -> Response {
    match &ops.config {
        Some(config) => Json(config.view()).into_response(),
        None => error(StatusCode::NOT_FOUND, "no config is served here"),
    }
}

async fn config_history(State(ops): Ops) -> Response {
    match &ops.config {
        Some(config) => {
            Json(json!({ "stats": config.stats(), "history": config.history() })).into_response()
        }
        None => error(StatusCode::NOT_FOUND, "no config is served here"),
    }
}

async fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "no such endpoint")
}

async fn method_not_allowed() -> Response {
    error(StatusCode::METHOD_NOT_ALLOWED, "method not allowed")
}
