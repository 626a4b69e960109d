//! The ops endpoints in-process: `/health` status codes for each overall status (and a custom
//! mapping), `?verbose=false`, content types, history and summary, the config view, and JSON
//! errors for unknown paths, wrong methods and bad queries.

// A failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use axum::body::Body;
use axum::http::{Method, StatusCode};
use support::ops::{Node, Options, call, healthy_rpc};
use thorp_ops::health::stock::{CircuitState, RpcPoolStats};
use thorp_ops::http::{OpsRouter, StatusCodes};

fn slow_rpc() -> RpcPoolStats {
    RpcPoolStats {
        p95_latency_ms: 250.0,
        ..healthy_rpc()
    }
}

fn failing_rpc() -> RpcPoolStats {
    RpcPoolStats {
        success_rate: 0.80,
        ..healthy_rpc()
    }
}

#[tokio::test(start_paused = true)]
async fn health_answers_200_healthy_200_degraded_503_critical() {
    let node = Node::start().await;
    let healthy = node.get("/health").await;
    assert_eq!(healthy.status, StatusCode::OK);
    assert_eq!(healthy.content_type(), "application/json");
    let body = healthy.json();
    assert_eq!(body["overall"], "healthy");
    assert_eq!(
        body["components"]["rpcPool"]["metrics"]["p95LatencyMs"],
        80.0
    );
    assert_eq!(body["components"]["rpcPool"]["units"]["p95LatencyMs"], "ms");
    assert!(body["system"]["memory"]["rssMemoryMB"].is_u64(), "{body}");

    node.rpc.set(slow_rpc());
    node.next_report().await;
    let degraded = node.get("/health").await;
    assert_eq!(degraded.status, StatusCode::OK);
    assert_eq!(degraded.json()["overall"], "degraded");
    assert_eq!(
        degraded.json()["components"]["rpcPool"]["issue"],
        "HIGH_LATENCY"
    );

    node.rpc.set(failing_rpc());
    node.next_report().await;
    let critical = node.get("/health").await;
    assert_eq!(critical.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(critical.json()["overall"], "critical");
    assert_eq!(
        critical.json()["components"]["rpcPool"]["issue"],
        "HIGH_ERROR_RATE"
    );
}

#[tokio::test(start_paused = true)]
async fn the_status_mapping_is_configurable() {
    let node = Node::with(Options {
        customize: |ops| {
            ops.status_codes(StatusCodes {
                degraded: StatusCode::SERVICE_UNAVAILABLE,
                critical: StatusCode::INTERNAL_SERVER_ERROR,
                ..StatusCodes::default()
            })
        },
        ..Options::default()
    })
    .await;
    assert_eq!(node.get("/health").await.status, StatusCode::OK);
    node.rpc.set(slow_rpc());
    node.next_report().await;
    assert_eq!(
        node.get("/health").await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    node.rpc.set(failing_rpc());
    node.next_report().await;
    assert_eq!(
        node.get("/health").await.status,
        StatusCode::INTERNAL_SERVER_ERROR
    );
}

#[tokio::test(start_paused = true)]
async fn before_the_first_check_health_is_starting_with_503() {
    let node = Node::with(Options {
        start: false,
        ..Options::default()
    })
    .await;
    for uri in ["/health", "/health?verbose=false", "/health/summary"] {
        let reply = node.get(uri).await;
        assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE, "{uri}");
        assert_eq!(
            reply.json(),
            serde_json::json!({"status": "starting"}),
            "{uri}"
        );
    }
    let history = node.get("/health/history").await;
    assert_eq!(history.status, StatusCode::OK);
    assert_eq!(history.json()["reports"], serde_json::json!([]));
}

#[tokio::test(start_paused = true)]
async fn verbose_false_gives_the_status_only() {
    let node = Node::start().await;
    node.breaker
        .set(support::ops::breaker(CircuitState::HalfOpen));
    node.next_report().await;
    let reply = node.get("/health?verbose=false").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json(), serde_json::json!({"status": "degraded"}));
    assert_eq!(
        node.get("/health?verbose=true").await.json()["overall"],
        "degraded"
    );
    // Unknown parameters (cache busters) are ignored; a bad value is a JSON 400.
    assert_eq!(node.get("/health?_=123").await.status, StatusCode::OK);
    let bad = node.get("/health?verbose=maybe").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.content_type(), "application/json");
    assert_eq!(bad.json()["status"], 400);
}

#[tokio::test(start_paused = true)]
async fn history_and_summary_follow_the_reports() {
    let node = Node::start().await;
    node.rpc.set(failing_rpc());
    node.next_report().await;
    node.rpc.set(healthy_rpc());
    node.next_report().await;

    let history = node.get("/health/history").await.json();
    let reports = history["reports"].as_array().unwrap();
    let overall: Vec<_> = reports
        .iter()
        .map(|r| r["overall"].as_str().unwrap())
        .collect();
    assert_eq!(overall, ["healthy", "critical", "healthy"]);
    assert_eq!(
        reports[1]["problems"],
        serde_json::json!([{"component": "rpcPool", "status": "critical", "issue": "HIGH_ERROR_RATE"}])
    );
    let last_two = node.get("/health/history?limit=2").await.json();
    assert_eq!(last_two["reports"].as_array().unwrap().len(), 2);
    assert_eq!(
        node.get("/health/history?limit=-1").await.status,
        StatusCode::BAD_REQUEST
    );

    let summary = node.get("/health/summary").await;
    assert_eq!(summary.status, StatusCode::OK);
    let summary = summary.json();
    assert_eq!(summary["totalReports"], 3);
    assert_eq!(summary["recentTrend"]["reports"], 3);
    assert_eq!(summary["currentHealth"]["overall"], "healthy");
    assert_eq!(summary["monitor"]["running"], true);
    assert_eq!(summary["monitor"]["checkIntervalMs"], 1000);
    // The rpcPool alert fired at the critical report and resolved at the next.
    assert_eq!(summary["activeAlerts"], serde_json::json!([]), "{summary}");
}

#[tokio::test(start_paused = true)]
async fn content_types_and_headers() {
    let node = Node::start().await;
    let cases = [
        ("/health", "application/json"),
        ("/health/history", "application/json"),
        ("/health/summary", "application/json"),
        ("/livez", "application/json"),
        ("/readyz", "application/json"),
        ("/metrics", "text/plain; version=0.0.4; charset=utf-8"),
        ("/config", "application/json"),
        ("/config/history", "application/json"),
        ("/alerts", "application/json"),
        ("/", "text/html; charset=utf-8"),
        ("/dashboard.js", "text/javascript; charset=utf-8"),
        ("/dashboard.css", "text/css; charset=utf-8"),
        ("/nope", "application/json"),
    ];
    for (uri, content_type) in cases {
        let reply = node.get(uri).await;
        assert_eq!(reply.content_type(), content_type, "{uri}");
        assert_eq!(reply.headers["cache-control"], "no-store", "{uri}");
        assert_eq!(reply.headers["x-content-type-options"], "nosniff", "{uri}");
        assert_eq!(reply.headers["x-frame-options"], "DENY", "{uri}");
    }
    let page = node.get("/").await;
    let policy = page.headers["content-security-policy"].to_str().unwrap();
    assert!(policy.contains("default-src 'none'") && policy.contains("connect-src 'self'"));
    assert!(
        !page.body.contains("http://") && !page.body.contains("https://"),
        "no external resource"
    );
}

#[tokio::test(start_paused = true)]
async fn config_view_and_history() {
    let node = Node::start().await;
    let view = node.get("/config").await.json();
    assert_eq!(view["version"], 1);
    assert_eq!(view["values"]["NODE_NAME"]["value"], "alpha");
    assert_eq!(view["values"]["OPS_ADMIN_TOKEN"]["secret"], true);
    assert!(view["source"].as_str().unwrap().ends_with("ops.env"));

    let record = node
        .rewrite_config(&support::ops::config_text(
            "beta",
            Some(support::ops::ADMIN_TOKEN),
        ))
        .await;
    assert_eq!(record.version, 2);
    node.rewrite_config("NODE_NAME=gamma\n").await; // missing the required URL: rejected
    let history = node.get("/config/history").await.json();
    assert_eq!(history["stats"]["applied"], 2);
    assert_eq!(history["stats"]["rejected"], 1);
    let records = history["history"].as_array().unwrap();
    let outcomes: Vec<_> = records
        .iter()
        .map(|r| r["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["applied", "applied", "rejected"]);
    assert_eq!(records[1]["changes"][0]["key"], "NODE_NAME");
    assert!(
        records[2]["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("HELIUS_RPC_URL")
    );
    assert_eq!(
        node.get("/config").await.json()["values"]["NODE_NAME"]["value"],
        "beta"
    );
}

#[tokio::test]
async fn parts_not_given_are_404_with_json() {
    let router = OpsRouter::new().router();
    for uri in [
        "/health",
        "/health/summary",
        "/alerts",
        "/config",
        "/config/history",
    ] {
        let reply = call(&router, Method::GET, uri, &[], Body::empty()).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{uri}");
        assert!(
            reply.json()["error"].as_str().unwrap().starts_with("no "),
            "{uri}"
        );
    }
    // With nothing to watch, the probes answer 200: the process serves HTTP.
    for uri in ["/livez", "/readyz"] {
        let reply = call(&router, Method::GET, uri, &[], Body::empty()).await;
        assert_eq!(reply.status, StatusCode::OK, "{uri}");
    }
    let without = OpsRouter::new().without_dashboard().router();
    let reply = call(&without, Method::GET, "/", &[], Body::empty()).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}

#[tokio::test(start_paused = true)]
async fn unknown_paths_and_wrong_methods_are_json_errors() {
    let node = Node::start().await;
    let missing = node.get("/does/not/exist").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(
        missing.json(),
        serde_json::json!({"error": "no such endpoint", "status": 404})
    );
    for (method, uri) in [
        (Method::POST, "/health"),
        (Method::DELETE, "/config"),
        (Method::PUT, "/metrics"),
        (Method::GET, "/alerts/1/ack"),
    ] {
        let reply = call(&node.router, method.clone(), uri, &[], Body::empty()).await;
        assert_eq!(
            reply.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {uri}"
        );
        assert_eq!(reply.json()["status"], 405, "{method} {uri}");
        assert!(
            reply.headers.contains_key("allow"),
            "{method} {uri}: no Allow header"
        );
    }
    // HEAD works wherever GET does.
    let head = call(&node.router, Method::HEAD, "/health", &[], Body::empty()).await;
    assert_eq!(head.status, StatusCode::OK);
    assert!(head.body.is_empty());
}
