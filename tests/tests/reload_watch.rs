//! The watch survives every common way of saving a file: each test saves twice, the second
//! save proving the first did not lose the watch.
#![cfg(unix)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails loudly at the first broken step"
)]

mod support;

use std::os::unix::fs::symlink;
use std::process::Command;
use std::time::Duration;
use support::ConfigDir;
use thorp_ops::config::{HotReload, Outcome, ReloadRecord, Trigger};
use tokio::sync::broadcast;

/// Waits until the store holds `score`, and checks the reload that got it there.
async fn applies_score(
    config: &HotReload<support::SeedConfig>,
    events: &mut broadcast::Receiver<ReloadRecord>,
    score: u32,
) {
    support::until(events, || {
        config.store().load().detection.min_edge_score == score
    })
    .await;
    let last = config.history().pop().expect("history has records");
    assert_eq!(last.outcome, Outcome::Applied);
    assert_eq!(last.trigger, Trigger::Watch);
    assert_eq!(support::changed_keys(&last), ["MIN_EDGE_SCORE"]);
    assert_eq!(
        *config.store().load().config(),
        support::parsed(&support::seed_file(score))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_place_writes() {
    let dir = ConfigDir::new(&support::seed_file(60));
    let config = dir.start(support::options()).await;
    let mut events = config.events();
    dir.write(support::seed_file(61));
    applies_score(&config, &mut events, 61).await;
    dir.write(support::seed_file(62));
    applies_score(&config, &mut events, 62).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_temp_then_rename() {
    let dir = ConfigDir::new(&support::seed_file(60));
    let config = dir.start(support::options()).await;
    let mut events = config.events();
    dir.replace(support::seed_file(61));
    applies_score(&config, &mut events, 61).await;
    dir.replace(support::seed_file(62));
    applies_score(&config, &mut events, 62).await;
}

/// Vim's default: rename the file to a backup, write a new file, delete the backup.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_rename_then_new_file() {
    let dir = ConfigDir::new(&support::seed_file(60));
    let config = dir.start(support::options()).await;
    let mut events = config.events();
    for score in [61, 62] {
        let backup = dir.sibling("app.env~");
        std::fs::rename(&dir.path, &backup).unwrap();
        dir.write(support::seed_file(score));
        std::fs::remove_file(&backup).unwrap();
        applies_score(&config, &mut events, score).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_then_recreate() {
    let dir = ConfigDir::new(&support::seed_file(60));
    let config = dir.start(support::options()).await;
    let mut events = config.events();
    for score in [61, 62] {
        std::fs::remove_file(&dir.path).unwrap();
        dir.write(support::seed_file(score));
        applies_score(&config, &mut events, score).await;
    }
}

/// The real `sed -i`: it writes a temp file in the same directory and renames it over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sed_in_place() {
    let dir = ConfigDir::new(&support::seed_file(60));
    let config = dir.start(support::options()).await;
    let mut events = config.events();
    for score in [61, 62] {
        let status = Command::new("sed")
            .arg("-i")
            .arg(format!("s/^MIN_EDGE_SCORE=.*/MIN_EDGE_SCORE={score}/"))
            .arg(&dir.path)
            .status()
            .expect("sed runs");
        assert!(status.success());
        applies_score(&config, &mut events, score).await;
    }
}

/// A Kubernetes ConfigMap volume: `app.env -> ..data/app.env`, `..data -> ..<timestamp>`; an
/// update writes a new timestamped directory, points `..data_tmp` at it and renames it over
/// `..data`, then removes the old directory. No event names `app.env` itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubernetes_configmap_update() {
    let dir = ConfigDir::empty();
    let root = dir.dir.path();
    let first = root.join("..2026_01_01_00_00_00.000000001");
    std::fs::create_dir(&first).unwrap();
    std::fs::write(first.join("app.env"), support::seed_file(60)).unwrap();
    symlink("..2026_01_01_00_00_00.000000001", root.join("..data")).unwrap();
    symlink("..data/app.env", &dir.path).unwrap();

    let config = dir.start(support::options()).await;
    assert_eq!(config.store().load().detection.min_edge_score, 60);
    let mut events = config.events();
    let mut previous = first;
    for (n, score) in [(2, 61), (3, 62)] {
        let name = format!("..2026_01_01_00_00_0{n}.00000000{n}");
        let next = root.join(&name);
        std::fs::create_dir(&next).unwrap();
        std::fs::write(next.join("app.env"), support::seed_file(score)).unwrap();
        symlink(&name, root.join("..data_tmp")).unwrap();
        // The new directory and link are events in the watched directory too; let the reloads
        // they cause (the file still reads the old content) pass, so that what applies the new
        // content below is the swap of `..data` alone.
        let preparing = support::settle(&mut events, Duration::from_millis(100)).await;
        assert!(
            preparing.iter().all(|r| r.outcome == Outcome::Unchanged),
            "{preparing:#?}"
        );
        assert_eq!(config.store().load().detection.min_edge_score, score - 1);
        std::fs::rename(root.join("..data_tmp"), root.join("..data")).unwrap();
        std::fs::remove_dir_all(&previous).unwrap();
        previous = next;
        applies_score(&config, &mut events, score).await;
    }
}

/// The file is gone for a while (a deploy tool removed it): nothing is applied and the config
/// stays; when it comes back, it is applied, and the watch still works after.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_for_a_while_then_back() {
    let dir = ConfigDir::new(&support::seed_file(60));
    let config = dir.start(support::options()).await;
    let before = config.current();
    let mut events = config.events();

    std::fs::remove_file(&dir.path).unwrap();
    support::assert_quiet(&mut events, Duration::from_millis(150)).await;
    support::assert_kept(&config, &before);
    // Asked to reload while it is missing: refused, config kept.
    let record = config.reload().await;
    assert_eq!(record.outcome, Outcome::Rejected);
    assert!(
        record.errors[0]
            .message
            .contains("cannot read the config file"),
        "{:#?}",
        record.errors
    );
    support::assert_kept(&config, &before);

    dir.write(support::seed_file(61));
    applies_score(&config, &mut events, 61).await;
    dir.write(support::seed_file(62));
    applies_score(&config, &mut events, 62).await;
}
