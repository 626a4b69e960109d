//! The seed notes' Test 2 (hot reload of changed and new keys) and Test 4 (invalid values keep
//! the previous config), ported to the typed pipeline with the seed's own mistakes fixed.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails loudly at the first broken step"
)]

mod support;

use support::{ConfigDir, HELIUS, LogLevel, SeedConfig};
use thorp_ops::config::{HotReload, Outcome, Trigger};
use tokio::sync::mpsc;

/// The seed's Test 2 file left out the required `HELIUS_RPC_URL`, so its own code refused it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_test_2_file_without_the_required_url_does_not_start() {
    let dir = ConfigDir::new(
        "RPC_DEFAULT_TIMEOUT_MS=2000\nMIN_EDGE_SCORE=60\nLOG_LEVEL=info\nBACKPRESSURE_MAX_QUEUE_SIZE=5000\n",
    );
    let Err(errors) = HotReload::<SeedConfig>::start(&dir.path, support::options()).await else {
        panic!("a file without HELIUS_RPC_URL must not start");
    };
    let missing: Vec<_> = errors
        .errors()
        .iter()
        .filter_map(|e| e.key.as_deref())
        .collect();
    assert_eq!(missing, ["HELIUS_RPC_URL"], "{errors}");
}

/// Test 2: changed keys and a new key are reloaded and reach a component; the seed's
/// "testComponent" has no prefix mapping, so it subscribes to everything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_test_2_hot_reload_of_changed_and_new_keys() {
    let dir = ConfigDir::new(&format!(
        "HELIUS_RPC_URL={HELIUS}\nRPC_DEFAULT_TIMEOUT_MS=2000\nMIN_EDGE_SCORE=60\nLOG_LEVEL=info\nBACKPRESSURE_MAX_QUEUE_SIZE=5000\n"
    ));
    let config = dir.start(support::options()).await;
    let (seen, mut received) = mpsc::unbounded_channel();
    config.subscribe_all("testComponent", move |update| {
        let seen = seen.clone();
        async move {
            let keys: Vec<String> = update.changes().iter().map(|c| c.key.clone()).collect();
            seen.send((update.snapshot().clone(), keys)).ok();
            Ok(())
        }
    });
    // A routed component gets only its own keys.
    let (levels, mut level_changes) = mpsc::unbounded_channel();
    config.subscribe(
        "logging",
        |root: &SeedConfig| &root.logging,
        move |update| {
            let levels = levels.clone();
            async move {
                let keys: Vec<String> = update.changes().iter().map(|c| c.key.clone()).collect();
                levels.send((update.level, keys)).ok();
                Ok(())
            }
        },
    );

    let initial = config.current();
    assert_eq!(initial.rpc.default_timeout_ms, 2000);
    assert_eq!(initial.detection.min_edge_score, 60);

    let mut events = config.events();
    dir.write(format!(
        "HELIUS_RPC_URL={HELIUS}\nRPC_DEFAULT_TIMEOUT_MS=3000\nMIN_EDGE_SCORE=70\nLOG_LEVEL=debug\nBACKPRESSURE_MAX_QUEUE_SIZE=7500\nNEW_SETTING=test_value\n"
    ));
    let record = support::applied(&mut events).await;

    let (snapshot, keys) = tokio::time::timeout(support::WAIT, received.recv())
        .await
        .expect("testComponent notified in time")
        .expect("channel open");
    assert_eq!(
        keys,
        [
            "BACKPRESSURE_MAX_QUEUE_SIZE",
            "LOG_LEVEL",
            "MIN_EDGE_SCORE",
            "NEW_SETTING",
            "RPC_DEFAULT_TIMEOUT_MS"
        ]
    );
    assert_eq!(snapshot.version(), 2);
    assert_eq!(snapshot.rpc.default_timeout_ms, 3000);
    assert_eq!(snapshot.detection.min_edge_score, 70);
    assert_eq!(snapshot.logging.level, LogLevel::Debug);
    assert_eq!(snapshot.backpressure.max_queue_size, 7500);
    // The unknown key is kept with its value for code that reads it.
    let new_setting = snapshot
        .values()
        .get("NEW_SETTING")
        .expect("NEW_SETTING kept");
    assert_eq!(new_setting.expose(), Some("test_value"));
    assert!(!new_setting.is_known());

    let (level, keys) = tokio::time::timeout(support::WAIT, level_changes.recv())
        .await
        .expect("logging notified in time")
        .expect("channel open");
    assert_eq!(
        (level, keys),
        (LogLevel::Debug, vec!["LOG_LEVEL".to_owned()])
    );

    // The store, the record and the history agree.
    assert_eq!(config.store().load().version(), 2);
    let history = config.history();
    assert_eq!(history.len(), 2);
    let last = history.last().expect("history has records");
    assert_eq!(last.attempt, record.attempt);
    assert_eq!(
        (last.outcome, last.trigger, last.version),
        (Outcome::Applied, Trigger::Watch, 2)
    );
    assert!(last.errors.is_empty());
    let stats = config.stats();
    assert_eq!((stats.attempts, stats.applied, stats.rejected), (2, 2, 0));
}

/// Test 4: an invalid number and an invalid URL are each refused, the previous config stays,
/// and the history names the line and key of the problem.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_test_4_invalid_values_keep_the_previous_config() {
    let valid = "RPC_DEFAULT_TIMEOUT_MS=2000\nMIN_EDGE_SCORE=60\nHELIUS_RPC_URL=https://mainnet.helius-rpc.com/?api-key=test123\n";
    let dir = ConfigDir::new(valid);
    let config = dir.start(support::options()).await;
    let before = config.current();
    assert_eq!(before.rpc.default_timeout_ms, 2000);
    let mut events = config.events();

    dir.write("RPC_DEFAULT_TIMEOUT_MS=not_a_number\nMIN_EDGE_SCORE=60\nHELIUS_RPC_URL=https://mainnet.helius-rpc.com/?api-key=test123\n");
    let record = support::rejected(&mut events).await;
    support::assert_kept(&config, &before);
    assert_eq!(config.store().load().rpc.default_timeout_ms, 2000);
    assert_eq!(record.errors.len(), 1, "{:#?}", record.errors);
    let error = &record.errors[0];
    assert_eq!(error.line, Some(1));
    assert_eq!(error.key.as_deref(), Some("RPC_DEFAULT_TIMEOUT_MS"));
    assert!(
        error
            .message
            .contains("app.env:1: RPC_DEFAULT_TIMEOUT_MS: \"not_a_number\""),
        "{}",
        error.message
    );
    let last = config.history().pop().expect("history has records");
    assert_eq!(
        (last.attempt, last.outcome),
        (record.attempt, Outcome::Rejected)
    );
    assert_eq!(last.version, 1);

    dir.write("RPC_DEFAULT_TIMEOUT_MS=2000\nMIN_EDGE_SCORE=60\nHELIUS_RPC_URL=not-a-valid-url\n");
    let record = support::rejected(&mut events).await;
    support::assert_kept(&config, &before);
    assert_eq!(
        config.store().load().rpc.helius_url.expose().as_str(),
        "https://mainnet.helius-rpc.com/?api-key=test123"
    );
    assert_eq!(record.errors.len(), 1, "{:#?}", record.errors);
    let error = &record.errors[0];
    assert_eq!(error.line, Some(3));
    assert_eq!(error.key.as_deref(), Some("HELIUS_RPC_URL"));
    // The key is secret: even its bad value is not shown.
    assert!(
        error
            .message
            .contains("app.env:3: HELIUS_RPC_URL: [redacted]"),
        "{}",
        error.message
    );
    assert!(
        !error.message.contains("not-a-valid-url"),
        "{}",
        error.message
    );

    let stats = config.stats();
    assert_eq!((stats.applied, stats.rejected), (1, 2));
    assert!(
        stats
            .last_error
            .is_some_and(|e| e.contains("HELIUS_RPC_URL"))
    );

    // And a fixed file is applied again.
    dir.write(valid.replace("2000", "2500"));
    let record = support::applied(&mut events).await;
    assert_eq!(support::changed_keys(&record), ["RPC_DEFAULT_TIMEOUT_MS"]);
    assert_eq!(config.store().load().rpc.default_timeout_ms, 2500);
}
