//! A running `trading-node` under traffic: live config changes, refused reloads, vetoes, the
//! ops endpoints and a graceful stop with work in flight.
#![allow(
    clippy::unwrap_used,
    reason = "tests: a failed unwrap is a failed test"
)]

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use support::trading::{Keys, Node};
use thorp_examples::node::detection::Shortfall;
use thorp_examples::node::rpc_pool::RpcPool;
use thorp_examples::node::shutdown::ShutdownReason;
use thorp_examples::node::simulator::{RpcSimulator, SimulatorSettings};
use thorp_examples::node::solana::Commitment;
use thorp_examples::trading::config::Upstream;
use tokio::task::JoinHandle;

/// Requests that keep the pool busy until stopped, counting outcomes.
struct Load {
    stop: Arc<AtomicBool>,
    ok: Arc<AtomicU64>,
    failed: Arc<AtomicU64>,
    tasks: Vec<JoinHandle<()>>,
}

impl Load {
    fn start(pool: &RpcPool, workers: usize) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let (ok, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
        let tasks = (0..workers)
            .map(|_| {
                let (pool, stop) = (pool.clone(), Arc::clone(&stop));
                let (ok, failed) = (Arc::clone(&ok), Arc::clone(&failed));
                tokio::spawn(async move {
                    while !stop.load(Ordering::Relaxed) {
                        match pool.get_slot(Commitment::Processed).await {
                            Ok(_) => ok.fetch_add(1, Ordering::Relaxed),
                            Err(_) => failed.fetch_add(1, Ordering::Relaxed),
                        };
                    }
                })
            })
            .collect();
        Self {
            stop,
            ok,
            failed,
            tasks,
        }
    }

    /// Stops the workers; returns (succeeded, failed).
    async fn finish(self) -> (u64, u64) {
        self.stop.store(true, Ordering::Relaxed);
        for task in self.tasks {
            task.await.unwrap();
        }
        (
            self.ok.load(Ordering::Relaxed),
            self.failed.load(Ordering::Relaxed),
        )
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn min_edge_score_and_rpc_timeout_change_under_traffic_without_a_failure() {
    let mut node = Node::start(Keys::fast(&[("SIM_LATENCY_MS", "5")])).await;
    let load = Load::start(node.node.pool(), 4);
    let mut decisions = node.node.decisions();
    Node::decision_where(&mut decisions, "the default score 60", |d| {
        d.min_edge_score == 60.0
    })
    .await;

    let record = node
        .edit(&[("MIN_EDGE_SCORE", "85"), ("RPC_DEFAULT_TIMEOUT_MS", "1500")])
        .await;
    let changed: Vec<&str> = record.changes.iter().map(|c| c.key.as_str()).collect();
    assert_eq!(changed, ["MIN_EDGE_SCORE", "RPC_DEFAULT_TIMEOUT_MS"]);
    Node::decision_where(&mut decisions, "score 85", |d| d.min_edge_score == 85.0).await;
    // From then on every decision is made with the new score, and the score decides.
    for _ in 0..5 {
        let decision = Node::decision_where(&mut decisions, "any", |_| true).await;
        assert_eq!(decision.min_edge_score, 85.0);
        assert_eq!(
            decision.shortfalls.contains(&Shortfall::EdgeScore),
            decision.candidate.edge_score < 85.0,
            "{decision:?}"
        );
    }
    assert_eq!(
        node.node.pool().settings().default_timeout,
        Duration::from_millis(1500)
    );
    assert_eq!(node.node.detection().min_edge_score, 85.0);

    // And back down, the timeout shorter than before: requests in flight keep theirs.
    node.edit(&[("MIN_EDGE_SCORE", "0"), ("RPC_DEFAULT_TIMEOUT_MS", "1000")])
        .await;
    let decision =
        Node::decision_where(&mut decisions, "score 0", |d| d.min_edge_score == 0.0).await;
    assert!(
        !decision.shortfalls.contains(&Shortfall::EdgeScore),
        "{decision:?}"
    );
    assert_eq!(
        node.node.pool().settings().default_timeout,
        Duration::from_millis(1000)
    );

    let (ok, failed) = load.finish().await;
    assert!(ok > 50, "traffic flowed: {ok} requests");
    assert_eq!(failed, 0, "no request failed because of a change");
    assert_eq!(
        node.node.pool().stats().failures,
        0,
        "nor any of the poller's"
    );

    node.node.shutdown().trigger(ShutdownReason::Requested);
    assert_eq!(node.node.run().await.exit_code(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_reload_keeps_the_node_on_its_config() {
    let mut node = Node::start(Keys::fast(&[("MIN_EDGE_SCORE", "70")])).await;
    let mut decisions = node.node.decisions();
    node.keys.set(&[
        ("MIN_EDGE_SCORE", "150"),
        ("BACKPRESSURE_MAX_QUEUE_SIZE", "9"),
    ]);
    node.dir.replace(node.keys.text());
    let record = support::rejected(&mut node.events).await;
    assert_eq!(record.errors.len(), 1, "{:?}", record.errors);
    assert_eq!(record.errors[0].key.as_deref(), Some("MIN_EDGE_SCORE"));
    // Nothing of the refused file applies, not even its valid keys.
    Node::decision_where(&mut decisions, "score 70", |d| d.min_edge_score == 70.0).await;
    assert_eq!(node.node.backpressure().stats().max_queue_size, 5000);

    // Keys read at start are applied to the config view but not to the running bus.
    node.edit(&[
        ("MIN_EDGE_SCORE", "70"),
        ("BACKPRESSURE_MAX_QUEUE_SIZE", "9"),
        ("EVENT_BUS_CAPACITY", "8"),
    ])
    .await;
    assert_eq!(node.node.backpressure().stats().max_queue_size, 9);
    assert_eq!(
        node.node.bus().stats().capacity,
        1024,
        "the bus is sized at start"
    );

    node.node.shutdown().trigger(ShutdownReason::Requested);
    assert_eq!(node.node.run().await.exit_code(), 0);
}

/// With a URL configured the node talks to it (here: a simulator the test runs, standing for a
/// real endpoint), and the pool vetoes a reload that leaves it without any endpoint.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configured_endpoints_are_used_and_the_pool_vetoes_losing_them() {
    let upstream = RpcSimulator::start(SimulatorSettings {
        slot_duration: Duration::from_millis(20),
        ..SimulatorSettings::default()
    })
    .await
    .unwrap();
    let mut keys = Keys::fast(&[("PUBLIC_RPC_URL", upstream.url().as_str())]);
    keys.remove("SIM_ENABLED");
    let mut node = Node::start(keys).await;
    assert_eq!(node.node.upstream(), &Upstream::Configured);
    assert!(node.node.simulator().is_none());
    let mut decisions = node.node.decisions();
    Node::decision_where(&mut decisions, "an event", |_| true).await;
    assert!(
        upstream.stats().requests > 0,
        "requests went to the configured URL"
    );

    node.keys.remove("PUBLIC_RPC_URL");
    node.dir.replace(node.keys.text());
    let record = support::rejected(&mut node.events).await;
    let message = &record.errors[0].message;
    assert!(
        message.contains("rejected by component rpcPool"),
        "{message}"
    );
    assert!(
        message.contains("at least one endpoint is required"),
        "{message}"
    );
    assert_eq!(node.node.pool().settings().endpoints, [upstream.url()]);

    node.node.shutdown().trigger(ShutdownReason::Requested);
    assert_eq!(node.node.run().await.exit_code(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ops_endpoints_serve_the_config_with_secrets_redacted() {
    const KEY: &str = "sk-live-5f0e1d2c3b4a";
    const TOKEN: &str = "admin-token-9a8b7c6d5e4f";
    let helius = format!("https://mainnet.helius-rpc.com/?api-key={KEY}");
    let node = Node::start(Keys::fast(&[
        ("HELIUS_RPC_URL", helius.as_str()),
        ("OPS_ADMIN_TOKEN", TOKEN),
    ]))
    .await;
    assert!(node.node.ops_addr().ip().is_loopback());
    let http = support::node::http();
    let base = format!("http://{}", node.node.ops_addr());
    for path in ["/config", "/config/history", "/no-such-endpoint"] {
        let response = http.get(format!("{base}{path}")).send().await.unwrap();
        let status = response.status().as_u16();
        let body = response.text().await.unwrap();
        assert!(
            !body.contains(KEY) && !body.contains(TOKEN),
            "{path} leaks a secret: {body}"
        );
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        match path {
            "/config" => {
                assert_eq!(status, 200);
                assert_eq!(json["values"]["HELIUS_RPC_URL"]["secret"], true, "{json}");
                assert_eq!(json["values"]["MIN_EDGE_SCORE"]["value"], "60", "{json}");
            }
            "/config/history" => assert_eq!(status, 200),
            _ => assert_eq!(status, 404),
        }
    }
    node.node.shutdown().trigger(ShutdownReason::Requested);
    assert_eq!(node.node.run().await.exit_code(), 0);
}

/// A stop with requests in flight: they finish, the node drains within the timeout, exit 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_under_load_drains_within_the_timeout() {
    let node = Node::start(Keys::fast(&[
        ("SIM_LATENCY_MS", "150"),
        ("SHUTDOWN_TIMEOUT_MS", "2000"),
    ]))
    .await;
    let started = Arc::new(AtomicU64::new(0));
    let finished = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    for _ in 0..16 {
        let (pool, token) = (node.node.pool().clone(), node.node.shutdown().token());
        let (started, finished, failed) = (
            Arc::clone(&started),
            Arc::clone(&finished),
            Arc::clone(&failed),
        );
        // Tracked by the shutdown manager: the drain waits for the request in hand.
        node.node.shutdown().spawn(async move {
            while !token.is_cancelled() {
                started.fetch_add(1, Ordering::Relaxed);
                match pool.get_slot(Commitment::Processed).await {
                    Ok(_) => finished.fetch_add(1, Ordering::Relaxed),
                    Err(_) => failed.fetch_add(1, Ordering::Relaxed),
                };
            }
        });
    }
    // Stop while all 16 tasks have a 150 ms request in the air. The pool's own count
    // also includes the node's poller and health probes, so it alone cannot say that
    // every one of ours is in flight.
    let pool = node.node.pool().clone();
    let deadline = tokio::time::Instant::now() + support::trading::NODE_WAIT;
    let ours_in_flight = || started.load(Ordering::Relaxed) - finished.load(Ordering::Relaxed);
    while ours_in_flight() < 16 || pool.stats().active_connections < 16 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the load never reached 16 in flight"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    node.node.shutdown().trigger(ShutdownReason::Terminate);
    let stopped_at = tokio::time::Instant::now();
    let outcome = node.node.run().await;
    assert!(outcome.drained, "{outcome:?}");
    assert_eq!(outcome.exit_code(), 0);
    assert!(
        stopped_at.elapsed() < Duration::from_millis(2000),
        "{:?}",
        stopped_at.elapsed()
    );
    assert_eq!(failed.load(Ordering::Relaxed), 0, "no request was cut");
    assert_eq!(
        finished.load(Ordering::Relaxed),
        started.load(Ordering::Relaxed),
        "every request started finished"
    );
    assert!(finished.load(Ordering::Relaxed) >= 16);
    assert_eq!(pool.stats().active_connections, 0);
}
