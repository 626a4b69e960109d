//! The dashboard in headless Chromium against a running node: the components, their statuses,
//! the timeline, a firing alert and the reload history are rendered by the page's own script
//! from the JSON endpoints. Keeps `target/artifacts/dashboard.png` as an artefact.

// A failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// The skip notice and the artefact path are this test's output to the person running it.
#![allow(clippy::print_stderr, clippy::print_stdout)]

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use support::ops::{Node, Server, breaker, healthy_rpc};
use thorp_ops::health::stock::{BackpressureStats, CircuitState, RpcPoolStats};

fn chromium() -> Option<&'static str> {
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|name| {
            Command::new(name)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
}

fn artifacts() -> PathBuf {
    // CARGO_MANIFEST_DIR is tests/; the workspace's target/ is beside it.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs headless Chromium on `url` with `mode` (`--dump-dom` or `--screenshot=...`).
fn run(browser: &str, url: &str, mode: &str) -> String {
    let profile = tempfile::tempdir().unwrap();
    let output = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            &format!("--user-data-dir={}", profile.path().display()),
            "--window-size=1280,900",
            "--virtual-time-budget=5000",
            mode,
            url,
        ])
        .output()
        .expect("chromium runs");
    assert!(
        output.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_renders_components_statuses_alerts_and_reloads() {
    let Some(browser) = chromium() else {
        if std::env::var_os("CI").is_some() {
            panic!(
                "chromium is not installed, and CI is set: install Debian's `chromium` package (scripts/test does)"
            );
        }
        eprintln!(
            "SKIPPED dashboard test: chromium is not installed (apt-get install chromium); set CI=1 to make this a failure"
        );
        return;
    };
    let node = Node::start().await;
    // A mixed picture: rpcPool degraded, backpressure critical (with an alert), breaker half open.
    node.rpc.set(RpcPoolStats {
        p95_latency_ms: 180.0,
        ..healthy_rpc()
    });
    node.backpressure.set(BackpressureStats {
        utilization: 97.0,
        ..support::ops::healthy_backpressure()
    });
    node.breaker.set(breaker(CircuitState::HalfOpen));
    node.next_report().await;
    node.rewrite_config(&support::ops::config_text(
        "beta",
        Some(support::ops::ADMIN_TOKEN),
    ))
    .await;
    node.rewrite_config("NODE_NAME=broken\n").await;
    node.next_report().await;

    let server = Server::start(node.router.clone()).await;
    let url = server.url("/");
    let dom = tokio::task::spawn_blocking({
        let (browser, url) = (browser.to_owned(), url.clone());
        move || run(&browser, &url, "--dump-dom")
    })
    .await
    .unwrap();

    for component in [
        "rpcPool",
        "eventBus",
        "backpressureManager",
        "circuitBreaker",
    ] {
        assert!(
            dom.contains(&format!("data-component=\"{component}\"")),
            "{component} not rendered:\n{dom}"
        );
    }
    assert!(
        dom.contains("data-status=\"critical\""),
        "overall badge:\n{dom}"
    );
    assert!(
        dom.contains("class=\"pill degraded\">degraded<"),
        "a degraded pill"
    );
    assert!(dom.contains("SYSTEM_OVERLOAD") && dom.contains("HIGH_LATENCY"));
    assert!(dom.contains("CIRCUIT_BREAKER_RECOVERING"));
    assert!(dom.contains("COMPONENT_CRITICAL"), "the firing alert");
    assert!(dom.contains("outcome-rejected"), "the rejected reload");
    assert!(dom.contains("HELIUS_RPC_URL"), "its error");
    assert!(
        dom.contains("class=\"critical\" title=\"#"),
        "timeline bars"
    );
    assert!(!dom.contains(support::ops::API_KEY) && !dom.contains(support::ops::ADMIN_TOKEN));

    let png = artifacts().join("dashboard.png");
    let _ = std::fs::remove_file(&png);
    tokio::task::spawn_blocking({
        let (browser, url, png) = (browser.to_owned(), url, png.clone());
        move || run(&browser, &url, &format!("--screenshot={}", png.display()))
    })
    .await
    .unwrap();
    let size = std::fs::metadata(&png).map(|m| m.len()).unwrap_or(0);
    assert!(
        size > 10_000,
        "screenshot at {} is {size} bytes",
        png.display()
    );
    println!("dashboard screenshot: {}", png.display());
}
