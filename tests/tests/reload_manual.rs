//! Reloads asked for rather than watched: `reload()` and SIGHUP; a file that changes nothing is
//! `Unchanged` and notifies no one.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails loudly at the first broken step"
)]

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use support::{ConfigDir, SeedConfig};
use thorp_ops::config::{Outcome, Trigger};
use tokio::sync::mpsc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_on_demand_without_a_watcher() {
    let dir = ConfigDir::new(&support::seed_file(60));
    let config = dir.start(support::options().watch(false)).await;
    let calls = Arc::new(AtomicU64::new(0));
    let (versions, mut seen) = mpsc::unbounded_channel();
    let counted = calls.clone();
    config.subscribe(
        "detection",
        |root: &SeedConfig| &root.detection,
        move |update| {
            counted.fetch_add(1, Ordering::SeqCst);
            let versions = versions.clone();
            async move {
                versions.send(update.version()).ok();
                Ok(())
            }
        },
    );
    let before = config.current();

    // Nothing changed on disk.
    let record = config.reload().await;
    assert_eq!(
        (record.outcome, record.trigger, record.version),
        (Outcome::Unchanged, Trigger::Manual, 1)
    );
    assert!(record.changes.is_empty() && record.subscribers.is_empty());
    support::assert_kept(&config, &before);

    // Comments, blank lines, reordering, quoting and a default written out change no value.
    dir.write(format!(
        "# edited by hand\n\nMIN_EDGE_SCORE=\"60\"\nLOG_LEVEL=info\n{}BACKPRESSURE_MAX_QUEUE_SIZE=5000\nRPC_DEFAULT_TIMEOUT_MS=2000\nSHUTDOWN_TIMEOUT_MS=10000\n",
        format_args!("HELIUS_RPC_URL={}\n", support::HELIUS)
    ));
    let record = config.reload().await;
    assert_eq!(record.outcome, Outcome::Unchanged, "{record:#?}");
    support::assert_kept(&config, &before);
    let stats = config.stats();
    assert_eq!((stats.unchanged, stats.applied), (2, 1));

    // Without a watcher, a save waits for `reload()`.
    dir.write(support::seed_file(75));
    assert_eq!(config.store().load().detection.min_edge_score, 60);
    let record = config.reload().await;
    assert_eq!(
        (record.outcome, record.trigger, record.version),
        (Outcome::Applied, Trigger::Manual, 2)
    );
    assert_eq!(support::changed_keys(&record), ["MIN_EDGE_SCORE"]);
    assert_eq!(config.store().load().detection.min_edge_score, 75);
    // The subscriber's first call is for the applied reload: the unchanged ones called nobody.
    let first = tokio::time::timeout(support::WAIT, seen.recv())
        .await
        .expect("subscriber notified")
        .expect("channel open");
    assert_eq!(first, 2);
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    // A manual reload of a bad file is refused like a watched one.
    dir.write("MIN_EDGE_SCORE=101\n");
    let before = config.current();
    let record = config.reload().await;
    assert_eq!(record.outcome, Outcome::Rejected);
    support::assert_kept(&config, &before);
    let history = config.history();
    let outcomes: Vec<_> = history.iter().map(|r| (r.trigger, r.outcome)).collect();
    assert_eq!(
        outcomes,
        [
            (Trigger::Initial, Outcome::Applied),
            (Trigger::Manual, Outcome::Unchanged),
            (Trigger::Manual, Outcome::Unchanged),
            (Trigger::Manual, Outcome::Applied),
            (Trigger::Manual, Outcome::Rejected),
        ]
    );
}

/// `reload()` while the watcher is also reloading: attempts never overlap and the result is
/// the file's content either way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_on_demand_alongside_the_watcher() {
    let dir = ConfigDir::new(&support::seed_file(60));
    let config = dir.start(support::options()).await;
    let mut events = config.events();
    dir.write(support::seed_file(61));
    let record = config.reload().await;
    // Either this call or the watcher applied it; whichever came second found nothing new.
    assert!(matches!(
        record.outcome,
        Outcome::Applied | Outcome::Unchanged
    ));
    assert_eq!(config.store().load().detection.min_edge_score, 61);
    support::until(&mut events, || config.stats().attempts >= 3).await;
    let history = config.history();
    assert_eq!(
        history
            .iter()
            .filter(|r| r.outcome == Outcome::Applied)
            .count(),
        2,
        "{history:#?}"
    );
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_when_switched_on() {
    let dir = ConfigDir::new(&support::seed_file(60));
    let config = dir
        .start(support::options().watch(false).reload_on_sighup(true))
        .await;
    let mut events = config.events();
    dir.write(support::seed_file(66));
    let status = std::process::Command::new("kill")
        .args(["-HUP", &std::process::id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let record = support::applied(&mut events).await;
    assert_eq!(record.trigger, Trigger::Signal);
    assert_eq!(config.store().load().detection.min_edge_score, 66);
}

/// A token rotated inside a URL that is shown redacted is still a change, and is applied.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_token_in_a_redacted_url_is_applied() {
    let with_token = |token: &str| {
        format!(
            "{}PUBLIC_RPC_URL=https://api.example.com/?token={token}\n",
            support::seed_file(60)
        )
    };
    let dir = ConfigDir::new(&with_token("one"));
    let config = dir.start(support::options().watch(false)).await;
    dir.write(with_token("two"));
    let record = config.reload().await;
    assert_eq!(record.outcome, Outcome::Applied, "{record:#?}");
    assert_eq!(support::changed_keys(&record), ["PUBLIC_RPC_URL"]);
    assert!(record.changes[0].secret);
    let public = config.store().load().rpc.public_url.clone();
    assert_eq!(
        public.map(String::from).as_deref(),
        Some("https://api.example.com/?token=two")
    );
}
