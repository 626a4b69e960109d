//! The RPC pool against the embedded simulator (and a few hostile servers), over real HTTP
//! on loopback: success, failover, timeouts, the retry budget, latency figures, live settings
//! changes and key redaction.
#![allow(
    clippy::unwrap_used,
    reason = "tests: a failed unwrap is a failed test"
)]

mod support;

use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::post;
use serde_json::{Value, json};
use support::logs::CapturedLogs;
use support::node::{dead_url, pool, quiet_sim, settings};
use thorp_examples::node::rpc_pool::{RetrySettings, RpcError, RpcPool, RpcPoolSettings};
use thorp_examples::node::solana::Commitment;
use url::Url;

#[tokio::test]
async fn answers_the_three_methods_and_reports_numeric_figures() {
    let sim = quiet_sim().await;
    let pool = pool(settings([sim.url()]));
    pool.get_health().await.unwrap();
    let slot = pool.get_slot(Commitment::Processed).await.unwrap();
    let finalized = pool.get_slot(Commitment::Finalized).await.unwrap();
    assert!(finalized < slot, "finalized trails processed");
    let latest = pool
        .get_latest_blockhash(Commitment::Processed)
        .await
        .unwrap();
    assert!(latest.slot >= slot);
    assert!(latest.blockhash.len() >= 32);
    assert!(latest.last_valid_block_height > 0);

    let stats = pool.stats();
    assert_eq!(
        (stats.requests, stats.failures, stats.window_requests),
        (4, 0, 4)
    );
    assert_eq!(stats.success_rate, 1.0);
    assert!(stats.avg_latency_ms > 0.0 && stats.avg_latency_ms.is_finite());
    assert!(stats.p95_latency_ms >= stats.avg_latency_ms * 0.5);
    assert_eq!(
        stats.active_connections, 0,
        "nothing in flight once the calls returned"
    );
    assert_eq!((stats.endpoints, stats.healthy_endpoints), (1, 1));
}

#[tokio::test]
async fn a_dead_endpoint_fails_over_then_gets_ejected() {
    let sim = quiet_sim().await;
    let mut s = settings([dead_url(), sim.url()]);
    s.eject_after_failures = 2;
    let pool = pool(s);
    for _ in 0..2 {
        pool.get_slot(Commitment::Processed).await.unwrap();
    }
    assert_eq!(pool.stats().retries, 2, "each request failed over once");
    let dead = &pool.endpoint_stats()[0];
    assert!(dead.ejected);
    assert_eq!((dead.attempts, dead.failures), (2, 2));
    // Ejected: requests go straight to the live endpoint, no retry needed.
    for _ in 0..5 {
        pool.get_slot(Commitment::Processed).await.unwrap();
    }
    let stats = pool.stats();
    assert_eq!(
        (stats.retries, stats.failures, stats.healthy_endpoints),
        (2, 0, 1)
    );
    assert_eq!(pool.endpoint_stats()[0].attempts, 2);
}

#[tokio::test]
async fn an_erroring_endpoint_fails_over_to_a_healthy_one() {
    let bad = quiet_sim().await;
    bad.set_error_rate(1.0);
    let good = quiet_sim().await;
    let pool = pool(settings([bad.url(), good.url()]));
    for _ in 0..3 {
        pool.get_health().await.unwrap();
    }
    assert_eq!(pool.stats().success_rate, 1.0);
    assert_eq!(bad.stats().injected_errors, 3);
    assert_eq!(good.stats().requests, 3);
    let [bad_stats, good_stats] = &pool.endpoint_stats()[..] else {
        panic!("two endpoints")
    };
    assert_eq!((bad_stats.failures, good_stats.failures), (3, 0));
}

#[tokio::test]
async fn a_slow_endpoint_times_out_at_the_configured_timeout() {
    let sim = quiet_sim().await;
    sim.set_latency(Duration::from_secs(2));
    let pool = pool(RpcPoolSettings {
        default_timeout: Duration::from_millis(60),
        retry: RetrySettings {
            max_retries: 0,
            ..RetrySettings::default()
        },
        ..settings([sim.url()])
    });
    let started = Instant::now();
    let error = pool.get_slot(Commitment::Processed).await.unwrap_err();
    let elapsed = started.elapsed();
    assert!(
        matches!(error, RpcError::Timeout { timeout_ms: 60, .. }),
        "{error:?}"
    );
    assert!(
        elapsed >= Duration::from_millis(60) && elapsed < Duration::from_millis(1_500),
        "{elapsed:?}"
    );
    assert_eq!(pool.stats().success_rate, 0.0);
}

#[tokio::test]
async fn the_retry_budget_stops_retries_when_everything_fails() {
    let sim = quiet_sim().await;
    sim.set_error_rate(1.0);
    let pool = pool(RpcPoolSettings {
        retry: RetrySettings {
            max_retries: 3,
            budget_ratio: 0.0,
            budget_burst: 2,
            backoff_base: Duration::ZERO,
            backoff_max: Duration::ZERO,
        },
        ..settings([sim.url()])
    });
    for _ in 0..5 {
        let error = pool.get_slot(Commitment::Processed).await.unwrap_err();
        assert!(
            matches!(error, RpcError::HttpStatus { status: 503, .. }),
            "{error:?}"
        );
    }
    let stats = pool.stats();
    // First request: 1 attempt + the 2 budgeted retries, then refused. The next four: one
    // attempt each, their retries refused.
    assert_eq!(
        (stats.retries, stats.retries_denied, stats.failures),
        (2, 5, 5)
    );
    assert_eq!(
        sim.stats().requests,
        3 + 4,
        "the upstream saw no retry storm"
    );
}

#[tokio::test]
async fn non_retryable_errors_are_not_retried() {
    let sim = quiet_sim().await;
    let pool = pool(settings([sim.url(), sim.url().join("/other").unwrap()]));
    let error = pool
        .call::<Value>("getBalanceOfEverything", Value::Null)
        .await
        .unwrap_err();
    assert!(
        matches!(error, RpcError::Rpc { code: -32601, .. }),
        "{error:?}"
    );
    assert!(!error.is_retryable());
    assert_eq!((pool.stats().retries, sim.stats().requests), (0, 1));
    // The endpoint answered correctly: it is not counted as failing.
    assert_eq!(pool.endpoint_stats()[0].failures, 0);
}

#[tokio::test]
async fn p95_sits_above_the_mean_for_skewed_latencies() {
    let sim = quiet_sim().await;
    let pool = pool(settings([sim.url()]));
    for _ in 0..18 {
        pool.get_health().await.unwrap();
    }
    sim.set_latency(Duration::from_millis(120));
    for _ in 0..2 {
        pool.get_health().await.unwrap();
    }
    let stats = pool.stats();
    assert_eq!(stats.window_requests, 20);
    assert!(stats.p95_latency_ms >= 120.0, "{stats:?}");
    assert!(stats.avg_latency_ms < 40.0, "{stats:?}");
    assert!(stats.p95_latency_ms >= stats.avg_latency_ms);
}

#[tokio::test]
async fn raising_the_simulator_latency_raises_p95() {
    let sim = quiet_sim().await;
    let pool = pool(RpcPoolSettings {
        stats_window: Duration::from_secs(1),
        ..settings([sim.url()])
    });
    for _ in 0..10 {
        pool.get_health().await.unwrap();
    }
    let before = pool.stats().p95_latency_ms;
    assert!(before < 100.0, "baseline p95 {before}");
    sim.set_latency(Duration::from_millis(110));
    let slow: Vec<_> = (0..10)
        .map(|_| {
            let pool = pool.clone();
            tokio::spawn(async move { pool.get_health().await })
        })
        .collect();
    for call in slow {
        call.await.unwrap().unwrap();
    }
    let after = pool.stats().p95_latency_ms;
    assert!(after >= 110.0, "p95 after the fault {after}");
}

#[tokio::test]
async fn raising_the_simulator_error_rate_lowers_the_success_rate() {
    let sim = quiet_sim().await;
    let pool = pool(RpcPoolSettings {
        retry: RetrySettings {
            max_retries: 0,
            ..RetrySettings::default()
        },
        ..settings([sim.url()])
    });
    for _ in 0..20 {
        pool.get_health().await.unwrap();
    }
    assert_eq!(pool.stats().success_rate, 1.0);
    sim.set_error_rate(0.5);
    for _ in 0..80 {
        let _ = pool.get_health().await;
    }
    let rate = pool.stats().success_rate;
    // 20 + ~40 of 100 succeed; the simulator's seeded draw keeps this far from the bounds.
    assert!((0.45..=0.75).contains(&rate), "success rate {rate}");
    assert!(rate < 0.95, "below the seed's critical threshold");
}

#[tokio::test]
async fn concurrency_is_bounded_and_waiting_is_bounded_too() {
    let sim = quiet_sim().await;
    sim.set_latency(Duration::from_millis(80));
    let pool = pool(RpcPoolSettings {
        max_concurrency: 2,
        ..settings([sim.url()])
    });
    let started = Instant::now();
    let calls: Vec<_> = (0..6)
        .map(|_| {
            let pool = pool.clone();
            tokio::spawn(async move { pool.get_health().await })
        })
        .collect();
    let mut peak = 0;
    while !calls.iter().all(|c| c.is_finished()) {
        peak = peak.max(pool.stats().active_connections);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    for call in calls {
        call.await.unwrap().unwrap();
    }
    assert!(peak <= 2 && peak > 0, "peak {peak}");
    assert!(
        started.elapsed() >= Duration::from_millis(240),
        "three waves of two"
    );

    // One slot, a long call holding it: the next caller gives up after the timeout.
    let pool = support::node::pool(RpcPoolSettings {
        max_concurrency: 1,
        default_timeout: Duration::from_millis(2_000),
        retry: RetrySettings {
            max_retries: 0,
            ..RetrySettings::default()
        },
        ..settings([sim.url()])
    });
    sim.set_latency(Duration::from_millis(300));
    let holder = tokio::spawn({
        let pool = pool.clone();
        async move { pool.get_health().await }
    });
    wait_for_active(&pool, 1).await;
    let shorter = RpcPoolSettings {
        default_timeout: Duration::from_millis(30),
        ..pool.settings()
    };
    pool.update(shorter).unwrap();
    let error = pool.get_health().await.unwrap_err();
    assert!(matches!(error, RpcError::Saturated { .. }), "{error:?}");
    holder.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_settings_swap_does_not_fail_requests_in_flight() {
    let old = quiet_sim().await;
    old.set_latency(Duration::from_millis(200));
    let new = quiet_sim().await;
    let pool = pool(RpcPoolSettings {
        default_timeout: Duration::from_millis(1_000),
        ..settings([old.url()])
    });
    let in_flight: Vec<_> = (0..8)
        .map(|_| {
            let pool = pool.clone();
            tokio::spawn(async move { pool.get_slot(Commitment::Processed).await })
        })
        .collect();
    wait_for_active(&pool, 8).await;
    // A timeout that would kill every request in flight, and a different endpoint.
    let swapped = RpcPoolSettings {
        default_timeout: Duration::from_millis(100),
        ..settings([new.url()])
    };
    pool.update(swapped).unwrap();
    for _ in 0..4 {
        pool.get_slot(Commitment::Processed).await.unwrap();
    }
    for call in in_flight {
        call.await.unwrap().unwrap();
    }
    assert_eq!((old.stats().requests, new.stats().requests), (8, 4));
    assert_eq!(pool.stats().failures, 0);
    assert_eq!(pool.settings().default_timeout, Duration::from_millis(100));
}

/// Wait (at most 5 s) until `n` HTTP requests are in flight.
async fn wait_for_active(pool: &RpcPool, n: u32) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while pool.stats().active_connections < n {
        assert!(
            Instant::now() < deadline,
            "{n} requests never got in flight"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// A server answering every POST with `body` (and `status`).
async fn fixed_server(status: u16, body: String) -> Url {
    let status = axum::http::StatusCode::from_u16(status).unwrap();
    let app = Router::new().route("/", post(move || async move { (status, body) }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

#[tokio::test]
async fn hostile_answers_are_errors_not_panics_or_allocations() {
    let one_shot = |url| {
        pool(RpcPoolSettings {
            max_response_bytes: 64 * 1024,
            retry: RetrySettings {
                max_retries: 0,
                ..RetrySettings::default()
            },
            ..settings([url])
        })
    };
    let huge = json!({"jsonrpc": "2.0", "id": 1, "result": "x".repeat(1 << 20)}).to_string();
    let error = one_shot(fixed_server(200, huge).await)
        .get_health()
        .await
        .unwrap_err();
    assert!(
        matches!(error, RpcError::ResponseTooLarge { limit: 65_536, .. }),
        "{error:?}"
    );

    let html = "<html><body>502 Bad Gateway</body></html>".to_owned();
    let error = one_shot(fixed_server(200, html).await)
        .get_health()
        .await
        .unwrap_err();
    assert!(
        matches!(error, RpcError::InvalidResponse { .. }),
        "{error:?}"
    );

    let wrong_id = json!({"jsonrpc": "2.0", "id": 999, "result": "ok"}).to_string();
    let error = one_shot(fixed_server(200, wrong_id).await)
        .get_health()
        .await
        .unwrap_err();
    assert!(matches!(
        error,
        RpcError::InvalidResponse {
            reason: "id does not match the request",
            ..
        }
    ));

    let wrong_shape = json!({"jsonrpc": "2.0", "id": 1, "result": {"slot": "soon"}}).to_string();
    let error = one_shot(fixed_server(200, wrong_shape).await)
        .get_slot(Commitment::Processed)
        .await
        .unwrap_err();
    assert!(
        matches!(error, RpcError::UnexpectedResult { .. }),
        "{error:?}"
    );

    let error = one_shot(fixed_server(429, String::new()).await)
        .get_health()
        .await
        .unwrap_err();
    assert!(matches!(error, RpcError::HttpStatus { status: 429, .. }) && error.is_retryable());
}

#[tokio::test(flavor = "current_thread")]
async fn api_keys_never_reach_logs_errors_or_stats() {
    const KEY: &str = "k3y-9f8e7d6c5b4a";
    let (logs, _guard) = CapturedLogs::start();
    let sim = quiet_sim().await;
    sim.set_error_rate(1.0);
    let mut dead = dead_url();
    dead.set_query(Some(&format!("api-key={KEY}")));
    let mut erroring = sim.url().join(&format!("/{KEY}")).unwrap();
    erroring.set_query(Some(&format!("token={KEY}")));
    let pool = pool(RpcPoolSettings {
        eject_after_failures: 1,
        ..settings([dead.clone(), erroring.clone()])
    });
    let mut texts = Vec::new();
    for _ in 0..3 {
        let error = pool.get_slot(Commitment::Processed).await.unwrap_err();
        texts.push(format!("{error} / {error:?}"));
        let mut source = std::error::Error::source(&error);
        while let Some(inner) = source {
            texts.push(format!("{inner} / {inner:?}"));
            source = inner.source();
        }
    }
    pool.update(settings([erroring.clone()])).unwrap();
    texts.push(format!(
        "{:?} {:?} {:?} {pool:?}",
        pool.settings(),
        pool.stats(),
        pool.endpoint_stats()
    ));
    let logged = logs.text();
    assert!(
        logged.contains("rpc endpoint ejected"),
        "the failures were logged:\n{logged}"
    );
    assert!(logged.contains("127.0.0.1"), "endpoints appear by host");
    for text in texts.iter().chain([&logged]) {
        assert!(!text.contains(KEY), "key leaked: {text}");
    }
}
