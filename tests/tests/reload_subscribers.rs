//! Subscribers that misbehave (sleep past their timeout, panic, veto) never hold up the others
//! or the next reload; a write landing while a subscriber is busy is not lost; and readers on
//! other threads never wait through any of it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails loudly at the first broken step"
)]

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use support::{ConfigDir, LogLevel, Readers, SeedConfig};
use thorp_ops::config::{Outcome, SubscriberResult};
use tokio::sync::{mpsc, watch};

const TIMEOUT: Duration = Duration::from_millis(500);

async fn recv<T>(channel: &mut mpsc::UnboundedReceiver<T>, what: &str) -> T {
    tokio::time::timeout(support::WAIT, channel.recv())
        .await
        .unwrap_or_else(|_| panic!("{what}: nothing within {:?}", support::WAIT))
        .expect("channel open")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_panicking_and_vetoing_components_do_not_hold_up_the_others() {
    support::expect_panics(&["detection exploded"]);
    let dir = ConfigDir::new(&support::seed_file(60));
    let config = dir
        .start(support::options().subscriber_timeout(TIMEOUT))
        .await;
    let readers = Readers::start(config.store(), 1);

    // Sleeps far past its timeout on every update.
    let (slow_started, mut slow) = mpsc::unbounded_channel();
    config.subscribe(
        "slow",
        |root: &SeedConfig| &root.rpc,
        move |update| {
            let started = slow_started.clone();
            async move {
                started.send(update.version()).ok();
                tokio::time::sleep(Duration::from_secs(30)).await;
                Ok(())
            }
        },
    );
    // Panics on its first update, works after.
    let calls = Arc::new(AtomicUsize::new(0));
    let (scores, mut detection) = mpsc::unbounded_channel();
    config.subscribe(
        "panicky",
        |root: &SeedConfig| &root.detection,
        move |update| {
            let first = calls.fetch_add(1, Ordering::SeqCst) == 0;
            let scores = scores.clone();
            async move {
                assert!(!first, "detection exploded");
                scores.send(update.min_edge_score).ok();
                Ok(())
            }
        },
    );
    // Well-behaved ones.
    let (levels, mut logging) = mpsc::unbounded_channel();
    config.subscribe(
        "logger",
        |root: &SeedConfig| &root.logging,
        move |update| {
            let levels = levels.clone();
            async move {
                levels.send(update.level).ok();
                Ok(())
            }
        },
    );
    let (versions, mut audit) = mpsc::unbounded_channel();
    config.subscribe_all("audit", move |update| {
        let versions = versions.clone();
        async move {
            versions.send(update.version()).ok();
            Ok(())
        }
    });
    // Refuses queues it cannot hold.
    config.veto(
        "backpressureManager",
        |root: &SeedConfig| &root.backpressure,
        |section| match section.max_queue_size {
            size if size > 100_000 => Err(format!("a queue of {size} does not fit in memory")),
            _ => Ok(()),
        },
    );
    let mut events = config.events();

    // 1. A change for the slow, the panicking and the good subscribers.
    dir.write(support::seed_file_with(70, 3000, "debug", 5000));
    let first = support::applied(&mut events).await;
    let mut notified: Vec<&str> = first.subscribers.iter().map(|s| s.name.as_str()).collect();
    notified.sort_unstable();
    assert_eq!(notified, ["audit", "logger", "panicky", "slow"]);
    assert_eq!(recv(&mut logging, "logger").await, LogLevel::Debug);
    assert_eq!(recv(&mut audit, "audit").await, 2);
    assert_eq!(recv(&mut slow, "slow").await, 2);

    // 2. The next reload while the slow one sleeps: applied at once, not after its timeout.
    let asked = Instant::now();
    dir.write(support::seed_file_with(71, 3000, "warn", 5000));
    support::until(&mut events, || {
        config.store().load().logging.level == LogLevel::Warn
    })
    .await;
    let took = asked.elapsed();
    assert_eq!(
        support::subscriber_result(&config, first.attempt, "slow"),
        Some(SubscriberResult::Pending),
        "the second reload waited {took:?}, past the slow subscriber's timeout"
    );
    // The subscriber that panicked is still subscribed and takes the next change.
    assert_eq!(recv(&mut detection, "panicky, second update").await, 71);
    assert_eq!(recv(&mut logging, "logger").await, LogLevel::Warn);
    assert_eq!(recv(&mut audit, "audit").await, 3);

    // Every outcome is recorded on the first reload. Each lands when its task ends: the
    // panicking one only after the panic hook has run, which with RUST_BACKTRACE set can take
    // longer than the slow one's timeout on a loaded machine.
    support::eventually("every subscriber's outcome is recorded", || {
        support::subscriber_result(&config, first.attempt, "slow")
            == Some(SubscriberResult::TimedOut)
            && ["panicky", "logger", "audit"].iter().all(|name| {
                support::subscriber_result(&config, first.attempt, name)
                    .is_some_and(|result| result != SubscriberResult::Pending)
            })
    })
    .await;
    let first = support::history_record(&config, first.attempt);
    let result = |name: &str| {
        first
            .subscribers
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("{name} recorded"))
    };
    assert!(
        matches!(&result("panicky").result, SubscriberResult::Panicked(m) if m == "detection exploded"),
        "{first:#?}"
    );
    assert_eq!(result("logger").result, SubscriberResult::Ok);
    assert_eq!(result("audit").result, SubscriberResult::Ok);
    let slow_took = result("slow").duration;
    assert!(slow_took >= TIMEOUT, "{first:#?}");

    // A timed-out subscriber still gets the next change that concerns it.
    dir.write(support::seed_file_with(71, 3500, "warn", 5000));
    let third = support::applied(&mut events).await;
    assert_eq!(
        recv(&mut slow, "slow, after its timeout").await,
        third.version
    );

    // 3. A veto refuses the whole reload, with the component's reason; no one is notified.
    let before = config.current();
    dir.write(support::seed_file_with(72, 3500, "error", 200_000));
    let vetoed = support::rejected(&mut events).await;
    support::assert_kept(&config, &before);
    assert!(vetoed.subscribers.is_empty() && vetoed.changes.is_empty());
    let messages: Vec<&str> = vetoed.errors.iter().map(|e| e.message.as_str()).collect();
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(
        messages[0].ends_with(
            "rejected by component backpressureManager: a queue of 200000 does not fit in memory"
        ),
        "{messages:?}"
    );
    // An acceptable queue size passes the same veto.
    dir.write(support::seed_file_with(72, 3500, "error", 90_000));
    let accepted = support::applied(&mut events).await;
    assert_eq!(
        support::changed_keys(&accepted),
        ["BACKPRESSURE_MAX_QUEUE_SIZE", "LOG_LEVEL", "MIN_EDGE_SCORE"]
    );
    // The audit log shows no version for the vetoed attempt.
    assert_eq!(recv(&mut audit, "audit").await, third.version);
    assert_eq!(recv(&mut audit, "audit").await, accepted.version);

    let reads = readers.stop();
    assert!(reads.reads > 0);
    assert!(
        reads.longest < slow_took / 10,
        "a read took {:?} ({:?} by the clock), the slow subscriber {slow_took:?}",
        reads.longest,
        reads.longest_wall
    );
}

/// A subscriber whose closure panics before it even returns its future is contained the same
/// way, and still gets later changes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_panicking_outside_its_future_is_contained() {
    let dir = ConfigDir::new(&support::seed_file(60));
    let config = dir.start(support::options()).await;
    let (scores, mut seen) = mpsc::unbounded_channel();
    config.subscribe(
        "eager",
        |root: &SeedConfig| &root.detection,
        move |update| {
            assert!(update.min_edge_score != 61, "no future for 61");
            let scores = scores.clone();
            let score = update.min_edge_score;
            async move {
                scores.send(score).ok();
                Ok(())
            }
        },
    );
    let mut events = config.events();
    dir.write(support::seed_file(61));
    let first = support::applied(&mut events).await;
    support::eventually("the panic is recorded", || {
        matches!(
            support::subscriber_result(&config, first.attempt, "eager"),
            Some(SubscriberResult::Panicked(_))
        )
    })
    .await;
    dir.write(support::seed_file(62));
    support::applied(&mut events).await;
    assert_eq!(recv(&mut seen, "eager, after its panic").await, 62);
}

/// A second (and third) write lands while a slow subscriber is still busy with the first: both
/// are applied at once, and when the subscriber is free it gets the latest, changes merged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_during_a_slow_subscriber_is_not_lost() {
    const WORK: Duration = Duration::from_millis(300);
    let dir = ConfigDir::new(&support::seed_file(60));
    let config = dir.start(support::options()).await;
    let readers = Readers::start(config.store(), 1);
    let (gate, gate_rx) = watch::channel(false);
    let (entered, mut calls) = mpsc::unbounded_channel();
    let first_call = Arc::new(AtomicUsize::new(0));
    config.subscribe(
        "detector",
        |root: &SeedConfig| &root.detection,
        move |update| {
            let entered = entered.clone();
            let mut gate = gate_rx.clone();
            let slow = first_call.fetch_add(1, Ordering::SeqCst) == 0;
            async move {
                let started = tokio::time::Instant::now();
                let changes: Vec<_> = update
                    .changes()
                    .iter()
                    .map(|c| (c.key.clone(), c.old.clone(), c.new.clone()))
                    .collect();
                entered
                    .send((update.version(), update.min_edge_score, changes))
                    .ok();
                if slow {
                    // Held until the test has written again, and busy for at least WORK.
                    gate.wait_for(|open| *open).await.ok();
                    tokio::time::sleep_until(started + WORK).await;
                }
                Ok(())
            }
        },
    );
    let mut events = config.events();

    dir.write(support::seed_file(70));
    let first = support::applied(&mut events).await;
    assert_eq!(recv(&mut calls, "detector").await.0, first.version);

    // The subscriber is now busy; write twice more.
    dir.write(support::seed_file(80));
    let second = support::applied(&mut events).await;
    assert_eq!(config.store().load().detection.min_edge_score, 80);
    dir.write(support::seed_file(90));
    let third = support::applied(&mut events).await;
    assert_eq!(config.store().load().detection.min_edge_score, 90);
    assert_eq!(
        support::subscriber_result(&config, first.attempt, "detector"),
        Some(SubscriberResult::Pending)
    );
    // The second change waited in the subscriber's slot and was replaced by the third.
    assert_eq!(
        support::subscriber_result(&config, second.attempt, "detector"),
        Some(SubscriberResult::Superseded)
    );

    gate.send_replace(true);
    let (version, score, changes) = recv(&mut calls, "detector, latest").await;
    assert_eq!((version, score), (third.version, 90));
    assert_eq!(
        changes,
        [(
            "MIN_EDGE_SCORE".to_owned(),
            Some("70".to_owned()),
            Some("90".to_owned())
        )]
    );
    support::eventually("the latest update is recorded", || {
        support::subscriber_result(&config, third.attempt, "detector") == Some(SubscriberResult::Ok)
    })
    .await;
    assert!(calls.try_recv().is_err(), "called once more than needed");
    let slow = support::history_record(&config, first.attempt).subscribers[0].clone();
    assert_eq!(slow.result, SubscriberResult::Ok);
    assert!(slow.duration >= WORK);
    let history = config.history();
    assert!(history.iter().all(|r| r.outcome == Outcome::Applied));

    let reads = readers.stop();
    assert!(reads.last_version >= third.version);
    assert!(
        reads.longest < slow.duration / 10,
        "a read took {:?} ({:?} by the clock), the slow subscriber {:?}",
        reads.longest,
        reads.longest_wall,
        slow.duration
    );
}
