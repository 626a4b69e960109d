//! The shutdown manager with real signals sent to this test process: SIGTERM starts the
//! graceful stop, a second signal (SIGINT) forces it. One test per process: signals are
//! process-wide.
#![cfg(unix)]
#![allow(
    clippy::unwrap_used,
    reason = "tests: a failed unwrap is a failed test"
)]

use std::process::Command;
use std::time::Duration;

use thorp_examples::node::shutdown::{ShutdownManager, ShutdownReason, ShutdownSettings};

fn send(signal: &str) {
    let status = Command::new("sh")
        .args(["-c", &format!("kill -{signal} {}", std::process::id())])
        .status();
    assert!(status.unwrap().success());
}

#[tokio::test]
async fn sigterm_starts_the_stop_and_a_second_signal_forces_it() {
    let shutdown = ShutdownManager::new(ShutdownSettings {
        timeout: Duration::from_secs(30),
    });
    let _listener = shutdown.listen_for_signals().unwrap();
    shutdown.spawn(tokio::time::sleep(Duration::from_secs(3_600))); // work that will not finish

    send("TERM");
    let reason = tokio::time::timeout(Duration::from_secs(5), shutdown.triggered())
        .await
        .unwrap();
    assert_eq!(reason, ShutdownReason::Terminate);
    assert!(shutdown.is_shutting_down());

    let drain = tokio::spawn({
        let shutdown = shutdown.clone();
        async move { shutdown.drain().await }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!drain.is_finished(), "the stuck task holds the drain");
    send("INT");
    let outcome = tokio::time::timeout(Duration::from_secs(5), drain)
        .await
        .unwrap()
        .unwrap();
    assert!(outcome.forced && !outcome.drained, "{outcome:?}");
    assert_eq!(
        (outcome.abandoned, outcome.reason, outcome.exit_code()),
        (1, ShutdownReason::Terminate, 1)
    );
}
