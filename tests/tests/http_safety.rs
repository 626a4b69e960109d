//! Safety of the ops endpoints: no secret in any response, loopback by default, and
//! malformed requests (bad queries, bad JSON, huge headers and bodies, wrong methods, bytes
//! that are not HTTP) answered with 4xx while the server keeps serving.

// A failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use axum::body::Body;
use axum::http::{Method, StatusCode};
use std::time::Duration;
use support::ops::{ADMIN_TOKEN, API_KEY, Node, Server, call, config_text, healthy_rpc};
use thorp_ops::health::stock::RpcPoolStats;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test(start_paused = true)]
async fn no_secret_appears_in_any_response() {
    let node = Node::start().await;
    // History with secrets in play: a rotated key and token (applied), and a bad URL (rejected).
    let rotated_key = "r0tated-k3y-zyxwvut";
    let rotated_token = "r0tated-t0ken-0123456789";
    let text = config_text("alpha", Some(rotated_token)).replace(API_KEY, rotated_key);
    node.rewrite_config(&text).await;
    node.rewrite_config(&format!(
        "HELIUS_RPC_URL=ftp://x.example.com/?api-key={API_KEY}\nOPS_ADMIN_TOKEN={ADMIN_TOKEN}\n"
    ))
    .await;
    // A firing alert, so /alerts and the summary have content.
    node.rpc.set(RpcPoolStats {
        success_rate: 0.5,
        ..healthy_rpc()
    });
    node.next_report().await;

    let secrets = [API_KEY, ADMIN_TOKEN, rotated_key, rotated_token];
    let gets = [
        "/",
        "/dashboard.js",
        "/dashboard.css",
        "/health",
        "/health?verbose=false",
        "/health/history",
        "/health/summary",
        "/livez",
        "/readyz",
        "/metrics",
        "/config",
        "/config/history",
        "/alerts",
        "/nope",
    ];
    let mut replies = Vec::new();
    for uri in gets {
        replies.push((uri.to_owned(), node.get(uri).await));
    }
    for authorization in [
        None,
        Some("Bearer wrong".to_owned()),
        Some(format!("Bearer {rotated_token}")),
    ] {
        let headers: Vec<(&str, &str)> = authorization
            .iter()
            .map(|a| ("authorization", a.as_str()))
            .collect();
        let reply = call(
            &node.router,
            Method::POST,
            "/alerts/1/ack",
            &headers,
            Body::empty(),
        )
        .await;
        replies.push((format!("POST ack {authorization:?}"), reply));
    }
    assert_eq!(
        replies.last().unwrap().1.status,
        StatusCode::OK,
        "the right token works"
    );
    for (what, reply) in &replies {
        let headers = format!("{:?}", reply.headers);
        for secret in secrets {
            assert!(
                !reply.body.contains(secret),
                "{what} leaks {secret}:\n{}",
                reply.body
            );
            assert!(
                !headers.contains(secret),
                "{what} leaks {secret} in its headers"
            );
        }
    }
    // The values are there, redacted.
    let config = node.get("/config").await.json();
    assert_eq!(config["values"]["OPS_ADMIN_TOKEN"]["value"], "[redacted]");
    let history = node.get("/config/history").await.body;
    assert!(
        history.contains("OPS_ADMIN_TOKEN"),
        "the change is listed by key"
    );
}

#[test]
fn the_default_address_is_loopback() {
    assert!(thorp_ops::http::DEFAULT_ADDR.ip().is_loopback());
}

/// Sends raw bytes, returns what came back before the server closed or went quiet.
async fn raw(addr: std::net::SocketAddr, bytes: &[u8]) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    // The server may answer and close before it has read everything; that is fine.
    let _ = stream.write_all(bytes).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

fn status_of(answer: &str) -> u16 {
    answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP status in {answer:?}"))
}

#[tokio::test]
async fn malformed_requests_get_4xx_and_the_server_keeps_serving() {
    let node = Node::start().await;
    let server = Server::start(node.router.clone()).await;
    let addr = server.addr;

    let huge_header = format!(
        "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(1024 * 1024)
    );
    let many_headers = format!(
        "GET /health HTTP/1.1\r\nHost: x\r\n{}\r\n",
        (0..200)
            .map(|i| format!("X-{i}: v\r\n"))
            .collect::<String>()
    );
    let huge_body = format!(
        "POST /alerts/1/ack HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {ADMIN_TOKEN}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
        1024 * 1024,
        " ".repeat(1024 * 1024)
    );
    let cases: Vec<(&str, Vec<u8>, std::ops::RangeInclusive<u16>)> = vec![
        ("huge header", huge_header.into_bytes(), 400..=499),
        ("too many headers", many_headers.into_bytes(), 400..=499),
        ("huge body", huge_body.into_bytes(), 413..=413),
        ("not HTTP", b"\x16\x03\x01\x02\x00hello\r\n\r\n".to_vec(), 400..=499),
        ("bad request line", b"GET\r\n\r\n".to_vec(), 400..=499),
        (
            "bad JSON",
            format!("POST /alerts/1/ack HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {ADMIN_TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 5\r\nConnection: close\r\n\r\n{{oops").into_bytes(),
            400..=400,
        ),
        (
            "bad percent-encoding",
            b"GET /alerts/%FF%FE/ack HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(),
            400..=499,
        ),
        (
            "wrong method",
            b"DELETE /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(),
            405..=405,
        ),
        (
            "bad query",
            b"GET /health?verbose=%%% HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(),
            400..=400,
        ),
    ];
    for (what, bytes, expected) in cases {
        let answer = raw(addr, &bytes).await;
        let status = status_of(&answer);
        assert!(
            expected.contains(&status),
            "{what}: got {status}: {answer:.300}"
        );
    }
    // Still serving.
    let response = support::ops::client()
        .get(server.url("/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}
