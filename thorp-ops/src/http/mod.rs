//! Ops endpoints over HTTP (feature `http`): health, probes, Prometheus metrics, the config
//! view and history, alerts and a dashboard.
//!
//! The router only reads what the monitor and the reload pipeline have already published: no
//! request runs a check or a reload, so a scrape storm cannot turn into a check storm. Mount
//! [`OpsRouter::router`] in your own axum server, or [`serve`] it standalone on
//! [`DEFAULT_ADDR`] (127.0.0.1).
//!
//! ```no_run
//! use thorp_ops::health::HealthMonitor;
//! use thorp_ops::http::{self, OpsRouter};
//!
//! # async fn run(monitor: HealthMonitor) -> std::io::Result<()> {
//! let router = OpsRouter::new().health(monitor).router();
//! http::serve(router, http::DEFAULT_ADDR, async { let _ = tokio::signal::ctrl_c().await; }).await
//! # }
//! ```
//!
//! # Endpoints
//!
//! | endpoint | answers |
//! |---|---|
//! | `GET /health` | the latest report (JSON, camelCase); 200 healthy or degraded, 503 critical ([`StatusCodes`] changes that); 503 `{"status":"starting"}` before the first check; `?verbose=false` gives `{"status": ...}` only |
//! | `GET /health/history[?limit=N]` | overall status of the last N (100) reports, oldest first |
//! | `GET /health/summary` | current report, trend, active alerts, totals, and the monitor's state |
//! | `GET /livez` | 200 while the monitor task runs and its last report is at most 3 check periods old (a period is the interval, or the check timeout if longer); else 503 |
//! | `GET /readyz` | 200 when the config is loaded, the monitor runs and has reported, and no component that counts for readiness is critical; else 503 with the reasons |
//! | `GET /metrics` | Prometheus text format 0.0.4; names in the table [below](#metrics) |
//! | `GET /config` | the effective config, secrets redacted, with version, load time and source |
//! | `GET /config/history` | reload totals and the recent attempts with their changes and errors |
//! | `GET /alerts` | the alerts kept, firing and resolved, oldest first |
//! | `POST /alerts/{id}/ack` | acknowledges a firing alert; needs `Authorization: Bearer <token>`: 403 when no token is configured, 401 when missing or wrong, 404 unknown id, 409 already resolved |
//! | `GET /` | the dashboard (also `/dashboard.js`, `/dashboard.css`) |
//!
//! Every error is JSON, `{"error": "...", "status": N}`: unknown paths 404, wrong methods 405,
//! bad query strings 400, bodies over 16 KiB 413. Responses carry `Cache-Control: no-store`,
//! `X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY` and `Referrer-Policy:
//! no-referrer`; the dashboard a strict content security policy.
//!
//! # Metrics
//!
//! | metric | type | what |
//! |---|---|---|
//! | `thorp_health_status` | gauge | overall status of the latest report: 0 healthy, 1 degraded, 2 critical |
//! | `thorp_health_component_status{component}` | gauge | each component's status, same scale |
//! | `thorp_health_component_check_duration_seconds{component}` | gauge | how long its last check took |
//! | `thorp_health_reports_total` | counter | reports published since the monitor was created |
//! | `thorp_health_last_report_timestamp_seconds` | gauge | when the latest report's check began (Unix time) |
//! | `thorp_health_monitor_running` | gauge | 1 while the monitor task runs |
//! | `thorp_health_ready` | gauge | 1 when the monitor's part of `/readyz` holds: running, reported, no readiness-relevant component critical |
//! | `thorp_health_memory_limit_bytes` | gauge | resident memory above which the system entry is degraded |
//! | `thorp_<component>_<metric>_<unit>` | gauge | every component metric, in base units (below) |
//! | `thorp_config_reloads_total{outcome}` | counter | reload attempts by outcome: `applied`, `rejected`, `unchanged` |
//! | `thorp_config_version` | gauge | version of the config in force |
//! | `thorp_config_last_reload_success_timestamp_seconds` | gauge | when a reload last succeeded (Unix time) |
//! | `thorp_alerts_firing{type}` | gauge | alerts firing, by type (every type, zeros included) |
//! | `thorp_alert_events_dropped_total` | counter | alert events dropped because the sinks fell behind |
//! | `thorp_webhook_events_total{sink,outcome}` | counter | webhook events `delivered`, `failed`, `dropped` (with [`OpsRouter::webhook`]) |
//! | `thorp_webhook_retries_total{sink}` | counter | webhook attempts after the first |
//! | `thorp_webhook_pending_events{sink}` | gauge | webhook events queued or in flight |
//! | `process_resident_memory_bytes` | gauge | resident memory at the latest check |
//! | `process_start_time_seconds` | gauge | when the process started (Unix time) |
//! | `process_open_fds`, `process_threads` | gauge | at the latest check |
//!
//! A component metric's name is the component's and the metric's names in snake case, with the
//! unit's suffix replaced by the base unit's: `rpcPool.p95LatencyMs` (ms) is
//! `thorp_rpc_pool_p95_latency_seconds`, `eventBus.utilization` (percent) is
//! `thorp_event_bus_utilization_ratio` (87.5 % reads 0.875), MB become `_bytes`, `per_second`
//! stays `_per_second`, a `count` has no suffix. Suffixes Prometheus reserves for other types
//! (`_total`, `_count`, `_sum`, `_bucket`) are dropped. A text metric (a state such as a
//! circuit breaker's `OPEN`) is a gauge of 1 with the value as a label named after the metric:
//! `thorp_circuit_breaker_state{state="OPEN"} 1`. When two metrics would get one name, the
//! first keeps it and the second is left out (logged once).
//!
//! Process readings come from the latest report rather than a read per scrape: a scrape never
//! touches `/proc`, and the values are at most one check interval old.

mod alerts;
mod dashboard;
mod health;
mod metrics;
mod router;

pub use router::{DEFAULT_ADDR, OpsRouter, StatusCodes, serve};
