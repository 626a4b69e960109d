//! The RPC simulator over HTTP, as any JSON-RPC client sees it: methods, protocol errors,
//! batches, fault injection and shutdown.
#![allow(
    clippy::unwrap_used,
    reason = "tests: a failed unwrap is a failed test"
)]

mod support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::node::{http, quiet_sim, sim};
use thorp_examples::node::simulator::SimulatorSettings;
use url::Url;

/// POST `body` to `url`; the status and the parsed body (`Null` when empty).
async fn post(url: &Url, body: impl Into<reqwest::Body>) -> (u16, Value) {
    let response = http()
        .post(url.clone())
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let bytes = response.bytes().await.unwrap();
    let value = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap()
    };
    (status, value)
}

#[tokio::test]
async fn answers_solana_methods_on_any_path() {
    let sim = quiet_sim().await;
    let health = json!({"jsonrpc": "2.0", "id": 1, "method": "getHealth"}).to_string();
    assert_eq!(
        post(&sim.url(), health.clone()).await,
        (200, json!({"jsonrpc": "2.0", "result": "ok", "id": 1}))
    );
    // Providers put the API key in the path; the simulator answers there too.
    let keyed = sim.url().join("/sk-123/rpc?api-key=x").unwrap();
    assert_eq!(post(&keyed, health).await.1["result"], "ok");

    let slot = json!({"jsonrpc": "2.0", "id": 2, "method": "getSlot", "params": [{"commitment": "processed"}]});
    let (_, answer) = post(&sim.url(), slot.to_string()).await;
    assert_eq!(answer["result"].as_u64(), Some(sim.slot()));
}

#[tokio::test]
async fn protocol_errors_carry_the_standard_codes() {
    let sim = quiet_sim().await;
    let code = |v: &Value| v["error"]["code"].as_i64();
    let (status, parse) = post(&sim.url(), "{not json").await;
    assert_eq!(
        (status, code(&parse), &parse["id"]),
        (200, Some(-32700), &Value::Null)
    );
    let (_, unknown) = post(
        &sim.url(),
        json!({"jsonrpc": "2.0", "id": 5, "method": "getMoney"}).to_string(),
    )
    .await;
    assert_eq!((code(&unknown), &unknown["id"]), (Some(-32601), &json!(5)));
    let (_, invalid) = post(&sim.url(), json!({"jsonrpc": "2.0", "id": 6}).to_string()).await;
    assert_eq!(code(&invalid), Some(-32600));
    let (_, empty_batch) = post(&sim.url(), "[]").await;
    assert_eq!(code(&empty_batch), Some(-32600));
    let (status, _) = post(
        &sim.url(),
        json!({"jsonrpc": "2.0", "method": "getSlot"}).to_string(),
    )
    .await;
    assert_eq!(status, 204, "a notification gets no answer");
    let get = http()
        .get(sim.url())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16();
    assert_eq!(get, 405, "JSON-RPC is POST only");
}

#[tokio::test]
async fn batches_answer_each_request_in_order_and_skip_notifications() {
    let sim = quiet_sim().await;
    let batch = json!([
        {"jsonrpc": "2.0", "id": "a", "method": "getHealth"},
        {"jsonrpc": "2.0", "method": "getHealth"},
        {"jsonrpc": "2.0", "id": "b", "method": "nope"},
        7,
    ]);
    let (status, answers) = post(&sim.url(), batch.to_string()).await;
    assert_eq!(status, 200);
    let answers = answers.as_array().unwrap();
    assert_eq!(answers.len(), 3);
    assert_eq!(
        (&answers[0]["id"], &answers[0]["result"]),
        (&json!("a"), &json!("ok"))
    );
    assert_eq!(
        (&answers[1]["id"], &answers[1]["error"]["code"]),
        (&json!("b"), &json!(-32601))
    );
    assert_eq!(answers[2]["error"]["code"], -32600);
}

#[tokio::test]
async fn latency_and_error_rate_change_while_running() {
    let sim = quiet_sim().await;
    let health = json!({"jsonrpc": "2.0", "id": 1, "method": "getHealth"}).to_string();
    sim.set_latency(Duration::from_millis(150));
    let started = Instant::now();
    assert_eq!(post(&sim.url(), health.clone()).await.0, 200);
    assert!(started.elapsed() >= Duration::from_millis(150));
    sim.set_latency(Duration::ZERO);
    sim.set_error_rate(1.0);
    let (status, body) = post(&sim.url(), health.clone()).await;
    assert_eq!(
        (status, body["error"]["code"].as_i64()),
        (503, Some(-32603))
    );
    sim.update(&SimulatorSettings {
        latency: Duration::ZERO,
        error_rate: 0.0,
        ..SimulatorSettings::default()
    });
    assert_eq!(post(&sim.url(), health).await.0, 200);
    let stats = sim.stats();
    assert_eq!((stats.requests, stats.injected_errors), (3, 1));
}

#[tokio::test]
async fn slots_advance_with_time_and_blockhashes_follow() {
    let sim = sim(SimulatorSettings {
        slot_duration: Duration::from_millis(20),
        latency: Duration::ZERO,
        latency_jitter: Duration::ZERO,
        ..SimulatorSettings::default()
    })
    .await;
    let request =
        json!({"jsonrpc": "2.0", "id": 1, "method": "getLatestBlockhash", "params": [{"commitment": "processed"}]})
            .to_string();
    let (_, first) = post(&sim.url(), request.clone()).await;
    tokio::time::sleep(Duration::from_millis(70)).await;
    let (_, second) = post(&sim.url(), request).await;
    let slot = |v: &Value| v["result"]["context"]["slot"].as_u64().unwrap();
    assert!(slot(&second) >= slot(&first) + 3, "{first} -> {second}");
    assert_ne!(
        first["result"]["value"]["blockhash"],
        second["result"]["value"]["blockhash"]
    );
}

#[tokio::test]
async fn shutdown_closes_the_port() {
    let sim = quiet_sim().await;
    let url = sim.url();
    sim.shutdown().await;
    let refused = http().post(url).body("{}").send().await;
    assert!(refused.is_err_and(|e| e.is_connect()));
}
