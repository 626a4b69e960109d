//! A storm of saves: 1,000 writes as fast as the disk takes them, valid and invalid mixed,
//! in place and by rename, racing the reloads. When it stops, the last valid file is applied.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails loudly at the first broken step"
)]

mod support;

use std::sync::Arc;
use std::time::Duration;
use support::{ConfigDir, Readers};
use thorp_ops::config::Outcome;
use tokio::sync::watch;

const WRITES: u32 = 1000;
const HISTORY: usize = 16;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storm_of_writes_ends_on_the_last_valid_file() {
    let dir = Arc::new(ConfigDir::new(&support::seed_file(60)));
    // No debounce: a reload starts at the first event, so reads race the writes as hard as
    // they can (half-written files included).
    let config = dir
        .start(
            support::options()
                .debounce(Duration::ZERO)
                .history_len(HISTORY),
        )
        .await;
    let seen = Arc::new(watch::Sender::new(0_u64));
    let audit = seen.clone();
    config.subscribe_all("audit", move |update| {
        let audit = audit.clone();
        async move {
            audit.send_replace(update.version());
            Ok(())
        }
    });
    let readers = Readers::start(config.store(), 1);
    let mut events = config.events();

    let last = support::seed_file_with(42, 4242, "warn", 424_242);
    let writer = {
        let dir = dir.clone();
        let last = last.clone();
        tokio::task::spawn_blocking(move || {
            for n in 1..WRITES {
                let valid = support::seed_file_with(n % 101, 2000, "info", n);
                match n % 5 {
                    0 => dir.write(valid),
                    1 => dir.replace(valid),
                    2 => dir.write(valid.replace("MIN_EDGE_SCORE", "MIN_EDGE_SCORE=x\nX")),
                    3 => dir.write(""),
                    _ => dir.replace(&valid[..valid.len() / 2]),
                }
            }
            dir.write(&last);
        })
    };
    writer.await.unwrap();

    let expected = support::parsed(&last);
    support::until(&mut events, || *config.store().load().config() == expected).await;
    let current = config.current();
    let version = current.version();
    // Reloads still under way read the same file: after the one that applied it, nothing else
    // is applied or rejected. (Records of the storm may still be queued ahead of those.)
    let queued = support::settle(&mut events, Duration::from_millis(100)).await;
    let late: Vec<_> = queued.iter().filter(|r| r.version >= version).collect();
    assert!(
        late.iter().all(|r| r.version == version
            && (r.outcome == Outcome::Unchanged || r.outcome == Outcome::Applied)),
        "{late:#?}"
    );
    assert!(
        late.iter()
            .filter(|r| r.outcome == Outcome::Applied)
            .count()
            <= 1
    );
    assert_eq!(*config.current().config(), expected);
    assert_eq!(config.current().version(), version);

    // Bounded history, consistent totals.
    let history = config.history();
    let stats = config.stats();
    assert!(history.len() <= HISTORY, "{} records kept", history.len());
    assert_eq!(
        history.len(),
        usize::try_from(stats.attempts).unwrap().min(HISTORY)
    );
    assert_eq!(
        stats.attempts,
        stats.applied + stats.rejected + stats.unchanged
    );
    assert!(stats.applied >= 2, "{stats:?}");

    // The subscriber ends on the latest version, however many it was spared.
    let mut audit = seen.subscribe();
    tokio::time::timeout(
        support::WAIT,
        audit.wait_for(|version| *version == current.version()),
    )
    .await
    .expect("subscriber reaches the latest version")
    .unwrap();

    // Nothing died in the storm: the watch loop still applies the next save.
    dir.write(support::seed_file(7));
    support::until(&mut events, || {
        config.store().load().detection.min_edge_score == 7
    })
    .await;
    let reads = readers.stop();
    assert!(reads.reads > 0);
    assert!(reads.last_version >= current.version());
}
