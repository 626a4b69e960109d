//! The webhook sink against loopback receivers: one that accepts, one that answers 500, one
//! that fails once, one that hangs, one that refuses for good; the bounded queue dropping the
//! oldest; and an alert fired by the monitor arriving end to end.

// A failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// The hanging receiver prints its timings for the person running the test.
#![allow(clippy::print_stdout)]

mod support;

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::ops::{Server, healthy_rpc};
use thorp_ops::health::stock::RpcPoolStats;
use thorp_ops::health::{AlertSink, WebhookSink, WebhookStats};
use tokio::sync::Semaphore;

/// What a receiver saw: each request's idempotency key and body.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<(String, serde_json::Value)>>>);

impl Seen {
    fn push(&self, headers: &HeaderMap, body: &[u8]) {
        let key = headers
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let body = serde_json::from_slice(body).unwrap_or(serde_json::Value::Null);
        self.0.lock().unwrap().push((key, body));
    }

    fn keys(&self) -> Vec<String> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .map(|(k, _)| k.clone())
            .collect()
    }

    fn len(&self) -> usize {
        self.0.lock().unwrap().len()
    }
}

/// A receiver answering each request with the next of `answers` (the last one repeats), after
/// waiting for a permit of `gate` when one is given.
async fn receiver(answers: Vec<StatusCode>, gate: Option<Arc<Semaphore>>) -> (Server, Seen) {
    let seen = Seen::default();
    let count = Arc::new(Mutex::new(0usize));
    let router = Router::new().route(
        "/hook",
        post({
            let seen = seen.clone();
            move |headers: HeaderMap, body: axum::body::Bytes| {
                let (seen, count, answers, gate) = (
                    seen.clone(),
                    Arc::clone(&count),
                    answers.clone(),
                    gate.clone(),
                );
                async move {
                    seen.push(&headers, &body);
                    if let Some(gate) = gate {
                        gate.acquire().await.unwrap().forget();
                    }
                    let mut n = count.lock().unwrap();
                    let answer = answers[(*n).min(answers.len() - 1)];
                    *n += 1;
                    answer
                }
            }
        }),
    );
    (Server::start(router).await, seen)
}

fn sink(server: &Server) -> thorp_ops::health::WebhookBuilder {
    WebhookSink::builder(server.url("/hook").parse().unwrap())
        .timeout(Duration::from_millis(300))
        .retries(2)
        .backoff(Duration::from_millis(10), Duration::from_millis(40))
}

/// An alert event from a node whose rpcPool went critical.
async fn events(count: usize) -> Vec<thorp_ops::health::AlertEvent> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let sink = support::health::ChannelSink(tx);
    // A small monitor of its own, flipping rpcPool every check: one event per check.
    let rpc = support::health::Settable::new(healthy_rpc());
    let mut s = support::ops::settings();
    s.check_interval = Duration::from_millis(10);
    let monitor = thorp_ops::health::HealthMonitor::builder()
        .component(thorp_ops::health::StatsCheck::new(rpc.clone()))
        .settings(s)
        .probe(support::health::FedProbe::with_rss_mb(10))
        .without_log_sink()
        .sink(sink)
        .build()
        .unwrap();
    monitor.start().unwrap();
    let mut out = Vec::new();
    let mut critical = false;
    while out.len() < count {
        critical = !critical;
        rpc.set(RpcPoolStats {
            success_rate: if critical { 0.5 } else { 0.99 },
            ..healthy_rpc()
        });
        let event = tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .expect("an alert event")
            .unwrap();
        out.push(event);
    }
    monitor.stop().await;
    out
}

async fn idle(sink: &WebhookSink) -> WebhookStats {
    tokio::time::timeout(Duration::from_secs(10), sink.idle())
        .await
        .expect("the sink goes idle");
    sink.stats()
}

#[tokio::test]
async fn a_2xx_receiver_gets_the_event_as_json_with_an_idempotency_key() {
    let (server, seen) = receiver(vec![StatusCode::NO_CONTENT], None).await;
    let webhook = sink(&server).build().unwrap();
    let event = events(1).await.remove(0);
    webhook.deliver(&event).await.unwrap();
    let stats = idle(&webhook).await;
    assert_eq!(
        (stats.delivered, stats.failed, stats.retries, stats.pending),
        (1, 0, 0, 0)
    );
    let (key, body) = seen.0.lock().unwrap()[0].clone();
    assert_eq!(key, format!("{}-fired", event.alert.id));
    assert_eq!(body["transition"], "fired");
    assert_eq!(body["alert"]["type"], "COMPONENT_CRITICAL");
    assert_eq!(body["alert"]["component"], "rpcPool");
    assert_eq!(
        body["report"]["components"]["rpcPool"]["issue"],
        "HIGH_ERROR_RATE"
    );
}

#[tokio::test]
async fn a_500_is_retried_with_backoff_then_given_up() {
    let (server, seen) = receiver(vec![StatusCode::INTERNAL_SERVER_ERROR], None).await;
    let webhook = sink(&server).build().unwrap();
    let event = events(1).await.remove(0);
    webhook.deliver(&event).await.unwrap();
    let stats = idle(&webhook).await;
    assert_eq!((stats.delivered, stats.failed, stats.retries), (0, 1, 2));
    let keys = seen.keys();
    assert_eq!(keys.len(), 3, "one attempt and two retries");
    assert!(
        keys.iter().all(|k| *k == keys[0]),
        "every attempt has the same key: {keys:?}"
    );
}

#[tokio::test]
async fn a_500_then_200_is_delivered_on_the_retry() {
    let (server, seen) =
        receiver(vec![StatusCode::SERVICE_UNAVAILABLE, StatusCode::OK], None).await;
    let webhook = sink(&server).build().unwrap();
    webhook.deliver(&events(1).await[0]).await.unwrap();
    let stats = idle(&webhook).await;
    assert_eq!((stats.delivered, stats.failed, stats.retries), (1, 0, 1));
    assert_eq!(seen.len(), 2);
}

#[tokio::test]
async fn a_4xx_is_not_retried() {
    let (server, seen) = receiver(vec![StatusCode::BAD_REQUEST], None).await;
    let webhook = sink(&server).build().unwrap();
    webhook.deliver(&events(1).await[0]).await.unwrap();
    let stats = idle(&webhook).await;
    assert_eq!((stats.delivered, stats.failed, stats.retries), (0, 1, 0));
    assert_eq!(seen.len(), 1);
}

#[tokio::test]
async fn a_hanging_receiver_times_out_without_holding_up_the_caller() {
    // Never answers: no permit is ever added.
    let gate = Arc::new(Semaphore::new(0));
    let (server, seen) = receiver(vec![StatusCode::OK], Some(gate)).await;
    let webhook = sink(&server).build().unwrap();
    let event = events(1).await.remove(0);

    let began = Instant::now();
    webhook.deliver(&event).await.unwrap();
    let queued_in = began.elapsed();
    assert!(
        queued_in < Duration::from_millis(250),
        "deliver only queues: {queued_in:?}"
    );

    let stats = idle(&webhook).await;
    let took = began.elapsed();
    assert_eq!((stats.delivered, stats.failed, stats.retries), (0, 1, 2));
    assert_eq!(seen.len(), 3);
    // Three attempts of 300 ms each plus backoff: bounded, not forever.
    assert!(took >= Duration::from_millis(900), "{took:?}");
    println!("hanging receiver: queued in {queued_in:?}, given up after {took:?}");
}

#[tokio::test]
async fn nobody_listening_is_retried_then_failed() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let webhook = WebhookSink::builder(format!("http://{addr}/hook").parse().unwrap())
        .timeout(Duration::from_millis(200))
        .retries(1)
        .backoff(Duration::from_millis(5), Duration::from_millis(5))
        .build()
        .unwrap();
    webhook.deliver(&events(1).await[0]).await.unwrap();
    let stats = idle(&webhook).await;
    assert_eq!((stats.failed, stats.retries), (1, 1));
}

#[tokio::test]
async fn a_full_queue_drops_the_oldest_and_counts_it() {
    let gate = Arc::new(Semaphore::new(0));
    let (server, seen) = receiver(vec![StatusCode::OK], Some(Arc::clone(&gate))).await;
    let webhook = sink(&server)
        .timeout(Duration::from_secs(10))
        .queue(2)
        .build()
        .unwrap();
    let events = events(6).await;
    webhook.deliver(&events[0]).await.unwrap();
    // Wait until the first is in flight (held at the gate), then queue five more.
    support::eventually("first event at the receiver", || seen.len() == 1).await;
    for event in &events[1..] {
        webhook.deliver(event).await.unwrap();
    }
    let stats = webhook.stats();
    assert_eq!(stats.dropped, 3, "{stats:?}");
    assert_eq!(stats.pending, 3, "one in flight, two queued");

    gate.add_permits(10);
    let stats = idle(&webhook).await;
    assert_eq!((stats.delivered, stats.dropped, stats.failed), (3, 3, 0));
    let key = |e: &thorp_ops::health::AlertEvent| {
        let t = match e.transition {
            thorp_ops::health::AlertTransition::Fired => "fired",
            thorp_ops::health::AlertTransition::Resolved => "resolved",
        };
        format!("{}-{t}", e.alert.id)
    };
    assert_eq!(
        seen.keys(),
        [key(&events[0]), key(&events[4]), key(&events[5])],
        "the oldest waiting were dropped, the newest kept"
    );
}

#[tokio::test]
async fn end_to_end_from_the_monitor_with_metrics() {
    let (server, seen) = receiver(vec![StatusCode::OK], None).await;
    let webhook = sink(&server).name("pager").build().unwrap();
    let rpc = support::health::Settable::new(healthy_rpc());
    let mut settings = support::ops::settings();
    settings.check_interval = Duration::from_millis(20);
    let monitor = thorp_ops::health::HealthMonitor::builder()
        .component(thorp_ops::health::StatsCheck::new(rpc.clone()))
        .settings(settings)
        .probe(support::health::FedProbe::with_rss_mb(10))
        .without_log_sink()
        .sink(webhook.clone())
        .build()
        .unwrap();
    let router = thorp_ops::http::OpsRouter::new()
        .health(monitor.clone())
        .webhook(webhook.clone())
        .router();
    monitor.start().unwrap();
    rpc.set(RpcPoolStats {
        success_rate: 0.5,
        ..healthy_rpc()
    });
    support::eventually("the alert reaches the receiver", || seen.len() == 1).await;
    rpc.set(healthy_rpc());
    support::eventually("the resolution reaches the receiver", || seen.len() == 2).await;
    let bodies: Vec<_> = seen
        .0
        .lock()
        .unwrap()
        .iter()
        .map(|(_, b)| b["transition"].clone())
        .collect();
    assert_eq!(bodies, ["fired", "resolved"]);
    idle(&webhook).await;

    let metrics = support::ops::call(
        &router,
        axum::http::Method::GET,
        "/metrics",
        &[],
        axum::body::Body::empty(),
    )
    .await
    .body;
    assert!(
        metrics.contains("thorp_webhook_events_total{sink=\"pager\",outcome=\"delivered\"} 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("thorp_webhook_retries_total{sink=\"pager\"} 0"),
        "{metrics}"
    );
    assert!(
        metrics.contains("thorp_webhook_pending_events{sink=\"pager\"} 0"),
        "{metrics}"
    );
    monitor.stop().await;
}
