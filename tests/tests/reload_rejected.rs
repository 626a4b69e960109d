//! Files that must never be applied: empty, truncated, mid-write, not UTF-8, a directory, not
//! readable. Each is a rejected reload that keeps the previous snapshot, with nothing of the
//! bad file applied, and the next good save is applied as usual.
#![cfg(unix)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails loudly at the first broken step"
)]

mod support;

use std::io::Write;
use std::time::Duration;
use support::{ConfigDir, HELIUS, SeedConfig};
use thorp_ops::config::{HotReload, Outcome, ReloadRecord};
use tokio::sync::broadcast;

/// Runs `save`, expects the reload to be refused with an error containing `expected` and the
/// previous snapshot kept, then proves the watch lives: a good in-place save is applied.
async fn refused(
    dir: &ConfigDir,
    config: &HotReload<SeedConfig>,
    events: &mut broadcast::Receiver<ReloadRecord>,
    save: impl FnOnce(),
    expected: &str,
) -> ReloadRecord {
    refused_then(dir, config, events, save, expected, || ()).await
}

/// As [`refused`], running `clear` (to remove what `save` left in the way) before the good save.
async fn refused_then(
    dir: &ConfigDir,
    config: &HotReload<SeedConfig>,
    events: &mut broadcast::Receiver<ReloadRecord>,
    save: impl FnOnce(),
    expected: &str,
    clear: impl FnOnce(),
) -> ReloadRecord {
    let before = config.current();
    save();
    let record = support::rejected(events).await;
    support::assert_kept(config, &before);
    assert!(
        record.errors.iter().any(|e| e.message.contains(expected)),
        "expected an error containing {expected:?}, got {:#?}",
        record.errors
    );
    assert!(record.changes.is_empty() && record.subscribers.is_empty());
    assert_eq!(record.version, before.version());

    clear();
    let next = before.detection.min_edge_score + 1;
    dir.write(support::seed_file(next));
    support::until(events, || {
        config.store().load().detection.min_edge_score == next
    })
    .await;
    assert_eq!(
        *config.store().load().config(),
        support::parsed(&support::seed_file(next))
    );
    record
}

/// A valid line that changes a value, then one cut off mid-way: the valid part must not apply.
const CHANGED_THEN_CUT: &str = "MIN_EDGE_SCORE=99\nBACKPRESSURE_MAX_QUEUE_SIZE=1\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_files_are_rejected() {
    let dir = ConfigDir::new(&support::seed_file(60));
    let config = dir.start(support::options()).await;
    let mut events = config.events();
    refused(&dir, &config, &mut events, || dir.write(""), "is empty").await;
    refused(
        &dir,
        &config,
        &mut events,
        || dir.write(" \n\n \t\n"),
        "is empty",
    )
    .await;
    // Emptied by a rename, too.
    refused(&dir, &config, &mut events, || dir.replace(""), "is empty").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_files_are_rejected_whole() {
    let dir = ConfigDir::new(&support::seed_file(60));
    let config = dir.start(support::options()).await;
    let mut events = config.events();
    // Cut inside a quoted value.
    let cut_in_quotes = format!("HELIUS_RPC_URL={HELIUS}\n{CHANGED_THEN_CUT}LOG_LEVEL=\"deb");
    let record = refused(
        &dir,
        &config,
        &mut events,
        || dir.write(&cut_in_quotes),
        "LOG_LEVEL: quoted value is never closed",
    )
    .await;
    assert_eq!(record.errors[0].line, Some(4));
    // Position and key once each (the reader's message carries both, the record shows them).
    assert!(
        record.errors[0]
            .message
            .ends_with("app.env:4:11: LOG_LEVEL: quoted value is never closed"),
        "{}",
        record.errors[0].message
    );
    // Cut inside a key.
    let cut_in_key = format!("HELIUS_RPC_URL={HELIUS}\n{CHANGED_THEN_CUT}LOG_LEV");
    let record = refused(
        &dir,
        &config,
        &mut events,
        || dir.write(&cut_in_key),
        "expected `KEY=VALUE`",
    )
    .await;
    assert_eq!(record.errors[0].line, Some(4));
    // Cut before the required key.
    refused(
        &dir,
        &config,
        &mut events,
        || dir.write(CHANGED_THEN_CUT),
        "HELIUS_RPC_URL: is required but not set",
    )
    .await;
}

/// A writer that has not closed the file yet: the watcher waits for the close; a reload asked
/// for in the middle reads the half file and refuses it; the close then applies the whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_mid_write_is_not_applied() {
    let dir = ConfigDir::new(&support::seed_file(60));
    let config = dir.start(support::options()).await;
    let before = config.current();
    let mut events = config.events();

    let mut file = std::fs::File::create(&dir.path).unwrap();
    write!(
        file,
        "HELIUS_RPC_URL={HELIUS}\n{CHANGED_THEN_CUT}LOG_LEVEL=\"de"
    )
    .unwrap();
    file.flush().unwrap();
    // The data is in the file but the writer has not closed it: the watcher must not react.
    support::assert_quiet(&mut events, Duration::from_millis(150)).await;
    support::assert_kept(&config, &before);

    let record = config.reload().await;
    assert_eq!(record.outcome, Outcome::Rejected, "{record:#?}");
    assert!(
        record.errors[0]
            .message
            .contains("quoted value is never closed")
    );
    support::assert_kept(&config, &before);
    // The manual attempt is an event too.
    assert_eq!(
        support::next_record(&mut events).await.attempt,
        record.attempt
    );

    writeln!(file, "bug\"").unwrap();
    drop(file);
    let record = support::applied(&mut events).await;
    // RPC_DEFAULT_TIMEOUT_MS went from 2000 to its default, 2000: not a change.
    assert_eq!(
        support::changed_keys(&record),
        ["BACKPRESSURE_MAX_QUEUE_SIZE", "LOG_LEVEL", "MIN_EDGE_SCORE"]
    );
    let now = config.current();
    assert_eq!(now.detection.min_edge_score, 99);
    assert_eq!(now.logging.level, support::LogLevel::Debug);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_utf8_is_rejected() {
    let dir = ConfigDir::new(&support::seed_file(60));
    let config = dir.start(support::options()).await;
    let mut events = config.events();
    let mut bytes = format!("HELIUS_RPC_URL={HELIUS}\n{CHANGED_THEN_CUT}").into_bytes();
    bytes.extend_from_slice(b"LOG_LEVEL=d\xffbug\n");
    let record = refused(
        &dir,
        &config,
        &mut events,
        || dir.write(&bytes),
        "invalid UTF-8",
    )
    .await;
    assert_eq!(record.errors[0].line, Some(4));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_directory_in_the_files_place_is_rejected() {
    let dir = ConfigDir::new(&support::seed_file(60));
    let config = dir.start(support::options()).await;
    let mut events = config.events();
    refused_then(
        &dir,
        &config,
        &mut events,
        || {
            std::fs::remove_file(&dir.path).unwrap();
            std::fs::create_dir(&dir.path).unwrap();
            std::fs::write(dir.path.join("app.env"), support::seed_file(99)).unwrap();
        },
        "is not a regular file",
        || std::fs::remove_dir_all(&dir.path).unwrap(),
    )
    .await;
}

/// Runs the permission test body in this process if file permissions bind it (not root, or
/// root without `CAP_DAC_OVERRIDE`); as plain root, re-runs just this test under `setpriv`
/// with those capabilities dropped, since root reads a mode-000 file anyway.
#[test]
fn an_unreadable_file_is_rejected() {
    const CHILD: &str = "THORP_TESTS_WITHOUT_DAC";
    if permissions_bind() {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
            .block_on(unreadable_file_body());
        return;
    }
    assert!(
        std::env::var_os(CHILD).is_none(),
        "setpriv ran the test but mode-000 files are still readable"
    );
    let exe = std::env::current_exe().unwrap();
    let ran = std::process::Command::new("setpriv")
        .args([
            "--bounding-set=-dac_override,-dac_read_search",
            "--inh-caps=-dac_override,-dac_read_search",
            "--",
        ])
        .arg(exe)
        .args([
            "--exact",
            "an_unreadable_file_is_rejected",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .output();
    match ran {
        Ok(output) if output.status.success() => {
            let stdout = String::from_utf8_lossy(&output.stdout);
            assert!(stdout.contains("1 passed"), "child ran no test: {stdout}");
        }
        Ok(output) => panic!(
            "the test failed under setpriv:\n{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
        Err(error) => {
            #[allow(clippy::print_stderr, reason = "a skipped test says why")]
            {
                eprintln!(
                    "skipped: running as root, where mode 000 does not stop reads, and setpriv is not available to drop CAP_DAC_OVERRIDE ({error})"
                );
            }
        }
    }
}

/// Whether a mode-000 file is unreadable for this process.
fn permissions_bind() -> bool {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let probe = dir.path().join("probe");
    std::fs::write(&probe, "x").unwrap();
    std::fs::set_permissions(&probe, std::fs::Permissions::from_mode(0o000)).unwrap();
    std::fs::File::open(&probe).is_err()
}

async fn unreadable_file_body() {
    use std::os::unix::fs::OpenOptionsExt;
    let dir = ConfigDir::new(&support::seed_file(60));
    let config = dir.start(support::options()).await;
    let mut events = config.events();
    let record = refused_then(
        &dir,
        &config,
        &mut events,
        || {
            // A new file without read permission, renamed over the config.
            let temp = dir.sibling("locked.tmp");
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o000)
                .open(&temp)
                .unwrap();
            file.write_all(support::seed_file(99).as_bytes()).unwrap();
            drop(file);
            std::fs::rename(&temp, &dir.path).unwrap();
        },
        "cannot read the config file",
        // Mode 000 forbids writing it in place too: remove it first.
        || std::fs::remove_file(&dir.path).unwrap(),
    )
    .await;
    assert!(
        record.errors[0].message.contains("Permission denied"),
        "{:#?}",
        record.errors
    );
}
