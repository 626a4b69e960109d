//! `GET /alerts` and `POST /alerts/{id}/ack`: the bearer token from the live config (none,
//! wrong, right, rotated by a reload), and every way an acknowledgement can be malformed.

// A failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use axum::body::Body;
use axum::http::{Method, StatusCode};
use support::ops::{ADMIN_TOKEN, Node, Options, Reply, call, config_text, healthy_rpc};
use thorp_ops::health::stock::RpcPoolStats;

/// A node whose rpcPool is critical, with its COMPONENT_CRITICAL alert firing; its id.
async fn firing(options: Options) -> (Node, u64) {
    let node = Node::with(options).await;
    node.rpc.set(RpcPoolStats {
        success_rate: 0.5,
        ..healthy_rpc()
    });
    node.next_report().await;
    let alerts = node.get("/alerts").await.json();
    assert_eq!(alerts["firing"], 1, "{alerts}");
    let alert = &alerts["alerts"][0];
    assert_eq!(alert["type"], "COMPONENT_CRITICAL");
    assert_eq!(alert["component"], "rpcPool");
    assert_eq!(alert["state"], "firing");
    (node, alert["id"].as_u64().unwrap())
}

async fn ack(node: &Node, id: &str, authorization: Option<&str>) -> Reply {
    ack_with(node, id, authorization, &[], Body::empty()).await
}

async fn ack_with(
    node: &Node,
    id: &str,
    authorization: Option<&str>,
    headers: &[(&str, &str)],
    body: Body,
) -> Reply {
    let mut all: Vec<(&str, &str)> = headers.to_vec();
    if let Some(value) = authorization {
        all.push(("authorization", value));
    }
    call(
        &node.router,
        Method::POST,
        &format!("/alerts/{id}/ack"),
        &all,
        body,
    )
    .await
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

#[tokio::test(start_paused = true)]
async fn no_token_configured_refuses_with_403() {
    let (node, id) = firing(Options {
        token: None,
        ..Options::default()
    })
    .await;
    for authorization in [None, Some(bearer(ADMIN_TOKEN)), Some("Bearer ".to_owned())] {
        let reply = ack(&node, &id.to_string(), authorization.as_deref()).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{authorization:?}");
        assert_eq!(
            reply.json()["error"],
            "alert acknowledgement is disabled: no admin token is configured"
        );
    }
    assert_eq!(
        node.get("/alerts").await.json()["alerts"][0]["acknowledged"],
        false
    );
}

#[tokio::test(start_paused = true)]
async fn a_missing_or_wrong_token_is_401_with_a_challenge() {
    let (node, id) = firing(Options::default()).await;
    let id = id.to_string();
    let missing = ack(&node, &id, None).await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
    assert_eq!(missing.headers["www-authenticate"], "Bearer realm=\"ops\"");

    let near_misses = [
        bearer("wrong"),
        bearer(&ADMIN_TOKEN[..ADMIN_TOKEN.len() - 1]),
        bearer(&format!("{ADMIN_TOKEN}x")),
        format!("Basic {ADMIN_TOKEN}"),
        ADMIN_TOKEN.to_owned(),
    ];
    for authorization in &near_misses {
        let reply = ack(&node, &id, Some(authorization)).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{authorization}");
        assert_eq!(reply.json()["status"], 401);
    }
    let wrong = ack(&node, &id, Some(&bearer("wrong"))).await;
    assert_eq!(
        wrong.headers["www-authenticate"],
        "Bearer realm=\"ops\", error=\"invalid_token\""
    );
    // Unauthenticated requests learn nothing about ids.
    assert_eq!(
        ack(&node, "999", None).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        ack(&node, "not-a-number", None).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        node.get("/alerts").await.json()["alerts"][0]["acknowledged"],
        false
    );
}

#[tokio::test(start_paused = true)]
async fn the_right_token_acknowledges() {
    let (node, id) = firing(Options::default()).await;
    let reply = ack(
        &node,
        &id.to_string(),
        Some(&format!("bearer {ADMIN_TOKEN}")),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let body = reply.json();
    assert_eq!(body["acknowledged"], true);
    assert_eq!(body["alert"]["acknowledged"], true);
    assert!(body["alert"]["acknowledgedAt"].is_string());
    assert_eq!(
        node.get("/alerts").await.json()["alerts"][0]["acknowledged"],
        true
    );
    assert_eq!(
        node.get("/health/summary").await.json()["activeAlerts"],
        serde_json::json!([]),
        "acknowledged alerts leave the active list"
    );
    // Twice is fine.
    let again = ack(&node, &id.to_string(), Some(&bearer(ADMIN_TOKEN))).await;
    assert_eq!(again.status, StatusCode::OK);
}

#[tokio::test(start_paused = true)]
async fn unknown_resolved_and_malformed_ids() {
    let (node, id) = firing(Options::default()).await;
    let token = bearer(ADMIN_TOKEN);
    let unknown = ack(&node, "4242", Some(&token)).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.json()["error"], "no alert with id 4242");
    for bad in ["abc", "-1", "1.5", "99999999999999999999999"] {
        let reply = ack(&node, bad, Some(&token)).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}");
    }
    node.rpc.set(healthy_rpc());
    node.next_report().await;
    let resolved = ack(&node, &id.to_string(), Some(&token)).await;
    assert_eq!(resolved.status, StatusCode::CONFLICT);
    assert_eq!(
        resolved.json()["error"],
        format!("alert {id} already resolved")
    );
}

#[tokio::test(start_paused = true)]
async fn bodies_are_optional_json_and_bounded() {
    let (node, id) = firing(Options::default()).await;
    let id = id.to_string();
    let token = bearer(ADMIN_TOKEN);
    let json = [("content-type", "application/json")];

    let bad_json = ack_with(&node, &id, Some(&token), &json, Body::from("{not json")).await;
    assert_eq!(bad_json.status, StatusCode::BAD_REQUEST);
    assert!(
        bad_json.json()["error"]
            .as_str()
            .unwrap()
            .starts_with("bad JSON body")
    );

    let unknown_field = ack_with(
        &node,
        &id,
        Some(&token),
        &json,
        Body::from(r#"{"who":"x"}"#),
    )
    .await;
    assert_eq!(unknown_field.status, StatusCode::BAD_REQUEST);

    let not_json = ack_with(
        &node,
        &id,
        Some(&token),
        &[("content-type", "text/plain")],
        Body::from("alice"),
    )
    .await;
    assert_eq!(not_json.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let huge = ack_with(
        &node,
        &id,
        Some(&token),
        &json,
        Body::from(vec![b' '; 64 * 1024]),
    )
    .await;
    assert_eq!(huge.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(huge.content_type(), "application/json");

    let long_by = format!(r#"{{"by":"{}"}}"#, "a".repeat(200));
    let too_long = ack_with(&node, &id, Some(&token), &json, Body::from(long_by)).await;
    assert_eq!(too_long.status, StatusCode::BAD_REQUEST);

    let with_by = ack_with(
        &node,
        &id,
        Some(&token),
        &json,
        Body::from(r#"{"by":"alice"}"#),
    )
    .await;
    assert_eq!(with_by.status, StatusCode::OK, "{}", with_by.body);
}

#[tokio::test(start_paused = true)]
async fn a_reload_rotates_the_token() {
    let (node, id) = firing(Options::default()).await;
    let id = id.to_string();
    let rotated = "r0tated-t0ken-0123456789";
    let record = node
        .rewrite_config(&config_text("alpha", Some(rotated)))
        .await;
    assert_eq!(record.outcome, thorp_ops::config::Outcome::Applied);
    assert_eq!(
        ack(&node, &id, Some(&bearer(ADMIN_TOKEN))).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        ack(&node, &id, Some(&bearer(rotated))).await.status,
        StatusCode::OK
    );

    // Removing the token switches acknowledgement off.
    node.rewrite_config(&config_text("alpha", None)).await;
    assert_eq!(
        ack(&node, &id, Some(&bearer(rotated))).await.status,
        StatusCode::FORBIDDEN
    );
}
