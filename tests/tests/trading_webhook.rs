//! trading-node's alert webhook (`OPS_ALERT_WEBHOOK_URL`): a fault injected through the config
//! file fires a component alert that is POSTed to a loopback receiver, its recovery resolves
//! it, `/metrics` counts the deliveries, and the URL's token shows nowhere.

// A failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use axum::Router;
use axum::http::HeaderMap;
use axum::routing::post;
use serde_json::Value;
use support::trading::{Keys, NODE_WAIT, Node};
use thorp_examples::node::shutdown::ShutdownReason;
use tokio::sync::mpsc;

const TOKEN: &str = "hook-token-0f1e2d3c4b5a";

/// A receiver answering 200 to every POST and handing over each body with its
/// `Idempotency-Key` header.
async fn receiver() -> (String, mpsc::UnboundedReceiver<(Option<String>, Value)>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let app = Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: String| {
            let tx = tx.clone();
            async move {
                let key = headers
                    .get("idempotency-key")
                    .and_then(|value| value.to_str().ok())
                    .map(str::to_owned);
                tx.send((key, serde_json::from_str(&body).unwrap())).ok();
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/hook?token={TOKEN}",
        listener.local_addr().unwrap()
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, rx)
}

/// The body of a GET of `url`.
async fn get(http: &reqwest::Client, url: &str) -> String {
    http.get(url).send().await.unwrap().text().await.unwrap()
}

/// The next delivered event about the RPC pool with `transition`, skipping others (the
/// breaker may alert too).
async fn rpc_pool_event(
    events: &mut mpsc::UnboundedReceiver<(Option<String>, Value)>,
    transition: &str,
) -> (Option<String>, Value) {
    let deadline = tokio::time::Instant::now() + NODE_WAIT;
    loop {
        let event = tokio::time::timeout_at(deadline, events.recv())
            .await
            .unwrap_or_else(|_| panic!("no {transition} rpcPool alert within {NODE_WAIT:?}"))
            .expect("receiver open");
        let body = &event.1;
        if body["transition"] == transition
            && body["alert"]["type"] == "COMPONENT_CRITICAL"
            && body["alert"]["component"] == "rpcPool"
        {
            return event;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_component_alert_reaches_the_webhook_and_resolves() {
    let (url, mut events) = receiver().await;
    let mut node = Node::start(Keys::fast(&[
        ("OPS_ALERT_WEBHOOK_URL", url.as_str()),
        ("ALERT_COMPONENT_CRITICAL_CHECKS", "2"),
    ]))
    .await;

    // Every RPC answer an error: the pool goes critical, and two checks later the alert fires.
    node.edit(&[("SIM_ERROR_RATE", "1")]).await;
    let (key, fired) = rpc_pool_event(&mut events, "fired").await;
    let id = fired["alert"]["id"].as_u64().expect("an alert id");
    assert_eq!(key, Some(format!("{id}-fired")), "{fired}");
    assert_eq!(fired["alert"]["state"], "firing", "{fired}");
    assert!(
        fired["alert"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("HIGH_ERROR_RATE")),
        "{fired}"
    );

    // Healthy again: the same alert resolves, and that is delivered too.
    node.edit(&[("SIM_ERROR_RATE", "0")]).await;
    let (key, resolved) = rpc_pool_event(&mut events, "resolved").await;
    assert_eq!(resolved["alert"]["id"].as_u64(), Some(id), "{resolved}");
    assert_eq!(key, Some(format!("{id}-resolved")));

    let http = support::node::http();
    let base = format!("http://{}", node.node.ops_addr());
    // Counted once the receiver's answer is in, which is after it handed the body over.
    let deadline = tokio::time::Instant::now() + NODE_WAIT;
    loop {
        let metrics = get(&http, &format!("{base}/metrics")).await;
        let delivered = metrics
            .lines()
            .find(|line| {
                line.starts_with("thorp_webhook_events_total")
                    && line.contains(r#"outcome="delivered""#)
            })
            .unwrap_or_else(|| panic!("no webhook counter in /metrics:\n{metrics}"));
        let count: f64 = delivered
            .rsplit(' ')
            .next()
            .and_then(|value| value.parse().ok())
            .unwrap();
        if count >= 2.0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "both deliveries never counted: {delivered}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }

    // The URL is secret: its token is in no ops answer.
    for path in ["/config", "/config/history", "/alerts", "/metrics"] {
        let body = get(&http, &format!("{base}{path}")).await;
        assert!(!body.contains(TOKEN), "{path} leaks the webhook token");
    }

    node.node.shutdown().trigger(ShutdownReason::Requested);
    assert_eq!(node.node.run().await.exit_code(), 0);
}
