//! `/health`, its history and summary, and the probes `/livez` and `/readyz`: all answered
//! from the report the monitor last published.

use super::router::{OpsState, error, not_served};
use crate::health::{HealthMonitor, HealthReport, HealthStatus};
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use std::time::Duration;

/// `/livez` fails once the last report is older than this many check periods.
pub(crate) const LIVENESS_PERIODS: u32 = 3;

/// Most reports `/health/history` returns.
const MAX_HISTORY: usize = 1000;
/// What `/health/history` returns without `?limit=`: the dashboard's timeline.
const DEFAULT_HISTORY: usize = 100;

#[derive(Debug, Deserialize)]
pub(crate) struct HealthQuery {
    verbose: Option<bool>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct HistoryQuery {
    limit: Option<usize>,
}

fn bad_query(rejection: &QueryRejection) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        format_args!("bad query string: {}", rejection.body_text()),
    )
}

fn starting(status: StatusCode) -> Response {
    (status, Json(json!({ "status": "starting" }))).into_response()
}

/// `GET /health[?verbose=false]`: the latest report, or only its status.
pub(crate) async fn health(
    State(ops): OpsState,
    query: Result<Query<HealthQuery>, QueryRejection>,
) -> Response {
    let verbose = match query {
        Ok(Query(query)) => query.verbose.unwrap_or(true),
        Err(rejection) => return bad_query(&rejection),
    };
    let Some(monitor) = &ops.monitor else {
        return not_served("health monitor");
    };
    let Some(report) = monitor.latest() else {
        return starting(ops.status_codes.starting);
    };
    let status = ops.status_codes.for_status(report.overall);
    if verbose {
        (status, Json(&*report)).into_response()
    } else {
        (status, Json(json!({ "status": report.overall }))).into_response()
    }
}

/// `GET /health/history[?limit=N]`: the overall status of the latest reports kept, oldest
/// first, with the components that were not healthy in each.
pub(crate) async fn history(
    State(ops): OpsState,
    query: Result<Query<HistoryQuery>, QueryRejection>,
) -> Response {
    let limit = match query {
        Ok(Query(query)) => query.limit.unwrap_or(DEFAULT_HISTORY).min(MAX_HISTORY),
        Err(rejection) => return bad_query(&rejection),
    };
    let Some(monitor) = &ops.monitor else {
        return not_served("health monitor");
    };
    let reports = monitor.history();
    let skip = reports.len().saturating_sub(limit);
    let entries: Vec<Value> = reports
        .iter()
        .skip(skip)
        .map(|r| history_entry(r))
        .collect();
    Json(json!({ "reports": entries })).into_response()
}

fn history_entry(report: &HealthReport) -> Value {
    let problems: Vec<Value> = report
        .components
        .iter()
        .filter(|c| c.health.status != HealthStatus::Healthy)
        .map(|c| json!({ "component": c.name, "status": c.health.status, "issue": c.health.issue }))
        .collect();
    json!({
        "sequence": report.sequence,
        "timestamp": crate::time::rfc3339(report.timestamp),
        "overall": report.overall,
        "problems": problems,
    })
}

/// `GET /health/summary`: the monitor's summary (current report, trend, active alerts, totals)
/// and the monitor's own state.
pub(crate) async fn summary(State(ops): OpsState) -> Response {
    let Some(monitor) = &ops.monitor else {
        return not_served("health monitor");
    };
    let Some(summary) = monitor.summary() else {
        return starting(ops.status_codes.starting);
    };
    let mut body = match serde_json::to_value(&summary) {
        Ok(body) => body,
        Err(e) => {
            tracing::error!(error = %e, "health summary did not serialize");
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "health summary did not serialize",
            );
        }
    };
    if let Some(map) = body.as_object_mut() {
        map.insert("monitor".to_owned(), monitor_state(monitor));
    }
    Json(body).into_response()
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

fn monitor_state(monitor: &HealthMonitor) -> Value {
    let settings = monitor.settings();
    json!({
        "running": monitor.is_running(),
        "checkIntervalMs": millis(settings.check_interval),
        "lastReportAgoMs": monitor.since_last_report().map(millis),
    })
}

/// How old the last report may be before the monitor counts as stuck: three check periods,
/// where a period is the interval, or the check timeout when that is longer (a tick waits
/// for a hung component up to the timeout, so a slow component must not read as a dead
/// monitor and get the process restarted).
pub(crate) fn liveness_limit(monitor: &HealthMonitor) -> Duration {
    let settings = monitor.settings();
    settings.check_interval.max(settings.check_timeout) * LIVENESS_PERIODS
}

/// Why the process is not live, or `None` when it is.
pub(crate) fn liveness_failure(monitor: &HealthMonitor) -> Option<String> {
    if !monitor.is_running() {
        return Some("the health monitor task is not running".to_owned());
    }
    // No report yet: the first check is under way, bounded by the check timeout.
    let age = monitor.since_last_report()?;
    let limit = liveness_limit(monitor);
    (age > limit).then(|| {
        format!(
            "the last health report is {} ms old, over the {} ms limit ({LIVENESS_PERIODS} check periods)",
            millis(age),
            millis(limit)
        )
    })
}

/// `GET /livez`: 200 while the monitor task runs and its last report is recent, else 503.
pub(crate) async fn livez(State(ops): OpsState) -> Response {
    let Some(monitor) = &ops.monitor else {
        // Nothing to watch: answering at all is the only sign of life there is.
        return Json(json!({ "live": true, "reasons": [] })).into_response();
    };
    let age = monitor.since_last_report().map(millis);
    match liveness_failure(monitor) {
        None => {
            Json(json!({ "live": true, "reasons": [], "lastReportAgoMs": age })).into_response()
        }
        Some(reason) => {
            tracing::warn!(reason = %reason, "liveness probe failing");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "live": false, "reasons": [reason], "lastReportAgoMs": age })),
            )
                .into_response()
        }
    }
}

/// Why the service is not ready, empty when it is: the config is loaded, the monitor runs and
/// has reported, and no component that counts for readiness is critical.
pub(crate) fn readiness_failures(ops: &super::router::Ops) -> Vec<String> {
    let mut reasons = Vec::new();
    if let Some(config) = &ops.config
        && config.version() == 0
    {
        reasons.push("the config is not loaded".to_owned());
    }
    if let Some(monitor) = &ops.monitor {
        if !monitor.is_running() {
            reasons.push("the health monitor is not running".to_owned());
        }
        match monitor.latest() {
            None => reasons.push("no health check has completed yet".to_owned()),
            Some(report) => {
                for blocker in report.readiness_blockers() {
                    let mut reason = format!("{} is critical", blocker.name);
                    if let Some(issue) = &blocker.health.issue {
                        reason.push_str(": ");
                        reason.push_str(issue);
                    }
                    reasons.push(reason);
                }
            }
        }
    }
    reasons
}

/// `GET /readyz`: 200 when ready, else 503 with the reasons.
pub(crate) async fn readyz(State(ops): OpsState) -> Response {
    let reasons = readiness_failures(&ops);
    if reasons.is_empty() {
        Json(json!({ "ready": true, "reasons": reasons })).into_response()
    } else {
        tracing::debug!(reasons = ?reasons, "readiness probe failing");
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "ready": false, "reasons": reasons })),
        )
            .into_response()
    }
}
