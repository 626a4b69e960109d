//! Readers never wait for a writer: while a reload is held inside the schema's validation hook,
//! inside a component's veto, or inside a subscriber that blocks its thread, a reader on
//! another thread still completes every kind of read, and sees the old config before the swap
//! and the new one after it. Not a timing: each read must simply finish while the writer is
//! provably stuck.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails loudly at the first broken step"
)]

mod support;

use std::sync::mpsc;
use std::sync::{Condvar, Mutex};
use std::time::Duration;
use support::{ConfigDir, SeedConfig};
use thorp_ops::HotConfig;
use thorp_ops::config::{Outcome, Rejection, ReloadOptions, Store};

/// How long a read on another thread may take before the test calls it blocked: far beyond
/// any read, even on a loaded machine, and still short.
const READ_LIMIT: Duration = Duration::from_secs(2);

/// Every kind of read on a fresh thread: `load()`, `snapshot()`, a cached handle and a
/// section. Returns the version all of them saw, or `None` if they did not finish in time.
fn read_elsewhere<T: HotConfig>(store: &Store<T>) -> Option<u64> {
    let store = store.clone();
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || {
        let loaded = store.load().version();
        let owned = store.snapshot().version();
        let cached = store.handle().load().version();
        let section = store.section(|config: &T| config).snapshot().version();
        assert!(
            loaded == owned && owned == cached && cached == section,
            "reads disagree"
        );
        done.send(loaded).ok();
    });
    finished.recv_timeout(READ_LIMIT).ok()
}

/// A latch a blocked writer waits at until the test opens it.
struct Gate {
    state: Mutex<GateState>,
    changed: Condvar,
}

#[derive(Clone, Copy)]
struct GateState {
    armed: bool,
    inside: bool,
    open: bool,
}

impl Gate {
    const fn new() -> Self {
        Self {
            state: Mutex::new(GateState {
                armed: false,
                inside: false,
                open: false,
            }),
            changed: Condvar::new(),
        }
    }

    fn arm(&self) {
        *self.state.lock().unwrap() = GateState {
            armed: true,
            inside: false,
            open: false,
        };
    }

    /// Called by the writer: when armed, says it is inside and blocks until opened.
    fn pass(&self) {
        let mut state = self.state.lock().unwrap();
        if !state.armed {
            return;
        }
        state.inside = true;
        self.changed.notify_all();
        let (state, timeout) = self
            .changed
            .wait_timeout_while(state, support::WAIT, |state| !state.open)
            .unwrap();
        assert!(!timeout.timed_out(), "the test never opened the gate");
        drop(state);
    }

    /// Called by the test: waits until the writer is blocked inside.
    fn wait_inside(&self) {
        let state = self.state.lock().unwrap();
        let (state, timeout) = self
            .changed
            .wait_timeout_while(state, support::WAIT, |state| !state.inside)
            .unwrap();
        assert!(!timeout.timed_out(), "the writer never reached the gate");
        assert!(!state.open);
    }

    fn is_holding(&self) -> bool {
        let state = self.state.lock().unwrap();
        state.inside && !state.open
    }

    fn open(&self) {
        let mut state = self.state.lock().unwrap();
        state.open = true;
        state.armed = false;
        self.changed.notify_all();
    }
}

static VALIDATION_GATE: Gate = Gate::new();

/// A config whose cross-field hook blocks at [`VALIDATION_GATE`] while it is armed.
#[derive(HotConfig, Debug, Clone, PartialEq)]
#[hot_config(component = "detection", prefix = "MIN_EDGE_", validate = held_at_the_gate)]
struct Gated {
    #[hot_config(key = "MIN_EDGE_SCORE", range = 0..=100, default = 60)]
    min_edge_score: u32,
}

fn held_at_the_gate(_: &Gated) -> Result<(), Rejection> {
    VALIDATION_GATE.pass();
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readers_complete_while_the_writer_is_blocked_in_validation() {
    let dir = ConfigDir::new("MIN_EDGE_SCORE=60\n");
    let options = ReloadOptions::default().watch(false);
    let config = thorp_ops::config::HotReload::<Gated>::start(&dir.path, options)
        .await
        .expect("initial config is valid");
    dir.write("MIN_EDGE_SCORE=70\n");
    VALIDATION_GATE.arm();
    let reloading = tokio::spawn({
        let handle = config.handle();
        async move { handle.reload().await }
    });
    VALIDATION_GATE.wait_inside();

    assert_eq!(read_elsewhere(config.store()), Some(1), "a read waited");
    assert!(
        VALIDATION_GATE.is_holding(),
        "the read was not under the hook"
    );

    VALIDATION_GATE.open();
    let record = reloading.await.unwrap();
    assert_eq!((record.outcome, record.version), (Outcome::Applied, 2));
    assert_eq!(read_elsewhere(config.store()), Some(2));
    assert_eq!(config.current().min_edge_score, 70);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readers_complete_while_the_writer_is_blocked_in_a_veto() {
    let dir = ConfigDir::new(&support::seed_file(60));
    let config = dir.start(support::options().watch(false)).await;
    let (inside, entered) = mpsc::channel();
    let (release, released) = mpsc::channel::<()>();
    let released = Mutex::new(released);
    // Blocks the reload's own thread, the worst a veto can do.
    config.veto(
        "detection",
        |root: &SeedConfig| &root.detection,
        move |_| {
            inside.send(()).ok();
            released
                .lock()
                .unwrap()
                .recv_timeout(support::WAIT)
                .map_err(|_| "the test never released the veto".to_owned())
        },
    );
    dir.write(support::seed_file(70));
    let reloading = tokio::spawn({
        let handle = config.handle();
        async move { handle.reload().await }
    });
    entered.recv_timeout(support::WAIT).expect("veto reached");

    assert_eq!(read_elsewhere(config.store()), Some(1), "a read waited");
    assert!(!reloading.is_finished(), "the read was not under the veto");

    release.send(()).unwrap();
    let record = reloading.await.unwrap();
    assert_eq!((record.outcome, record.version), (Outcome::Applied, 2));
    assert_eq!(read_elsewhere(config.store()), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readers_complete_while_a_subscriber_blocks_its_thread() {
    let dir = ConfigDir::new(&support::seed_file(60));
    let config = dir.start(support::options().watch(false)).await;
    let (inside, entered) = mpsc::channel();
    let (release, released) = mpsc::channel::<()>();
    let released = Mutex::new(released);
    config.subscribe(
        "detection",
        |root: &SeedConfig| &root.detection,
        move |update| {
            // Blocks the worker thread it runs on, not only its task.
            inside.send(update.version()).ok();
            let _ = released.lock().unwrap().recv_timeout(support::WAIT);
            async { Ok(()) }
        },
    );
    dir.write(support::seed_file(70));
    let record = config.reload().await;
    assert_eq!((record.outcome, record.version), (Outcome::Applied, 2));
    let notified = entered
        .recv_timeout(support::WAIT)
        .expect("subscriber called");
    assert_eq!(notified, 2);

    // The subscriber holds its thread; the swap it was told about is what readers see.
    assert_eq!(read_elsewhere(config.store()), Some(2), "a read waited");

    release.send(()).unwrap();
}
