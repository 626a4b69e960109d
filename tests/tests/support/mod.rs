//! Helpers shared by the reload tests: config files in temp dirs, the seed schema, waits driven
//! by reload events, and reader threads that time every `store().load()`.
#![allow(
    dead_code,
    unused_imports,
    unreachable_pub,
    reason = "each test binary compiles this module and uses only part of it"
)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test helper fails the test loudly at the first broken step"
)]

pub mod loading;
pub use loading::*;

pub(crate) mod health;
pub mod logs;
pub(crate) mod ops;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tempfile::TempDir;
use thorp_ops::config::{
    HotReload, Outcome, ReloadHandle, ReloadOptions, ReloadRecord, Snapshot, Store,
    SubscriberResult,
};
use tokio::sync::broadcast;

/// Helpers of the trading-node component tests (`node_*.rs`).
pub mod node;

/// Helpers of the trading-node service tests (`trading_*.rs`).
pub mod trading;

pub use thorp_examples::seed::{LogLevel, SeedConfig};

/// Longest any wait in a test may take before the test fails instead of hanging.
pub const WAIT: Duration = Duration::from_secs(5);

/// The secret URL every seed file sets unless a test says otherwise.
pub const HELIUS: &str = "https://mainnet.helius-rpc.com/?api-key=test123";

/// A valid seed file: every key set, `MIN_EDGE_SCORE` as given.
pub fn seed_file(score: u32) -> String {
    seed_file_with(score, 2000, "info", 5000)
}

/// A valid seed file with the given values.
pub fn seed_file_with(score: u32, timeout_ms: u64, level: &str, queue: u32) -> String {
    format!(
        "HELIUS_RPC_URL={HELIUS}\n\
         RPC_DEFAULT_TIMEOUT_MS={timeout_ms}\n\
         MIN_EDGE_SCORE={score}\n\
         LOG_LEVEL={level}\n\
         BACKPRESSURE_MAX_QUEUE_SIZE={queue}\n"
    )
}

/// The typed config `text` stands for (the test's expectation of what gets applied).
pub fn parsed(text: &str) -> SeedConfig {
    thorp_ops::config::load_str::<SeedConfig>(text)
        .expect("expected value is valid")
        .config
}

/// Options for tests: a 10 ms debounce keeps tests fast.
pub fn options() -> ReloadOptions {
    ReloadOptions::default().debounce(Duration::from_millis(10))
}

/// A temp directory holding the config file `app.env`.
pub struct ConfigDir {
    pub dir: TempDir,
    pub path: PathBuf,
}

impl ConfigDir {
    /// A directory with `app.env` holding `text`.
    pub fn new(text: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("app.env");
        std::fs::write(&path, text).expect("write config");
        Self { dir, path }
    }

    /// A directory with nothing in it yet; `path` is where `app.env` would be.
    pub fn empty() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("app.env");
        Self { dir, path }
    }

    /// A path next to the config file.
    pub fn sibling(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Saves in place: truncate, write, close (what `echo > file` and many programs do).
    pub fn write(&self, text: impl AsRef<[u8]>) {
        std::fs::write(&self.path, text).expect("write config in place");
    }

    /// Saves the way most editors do: write a temp file beside it, then rename it over.
    pub fn replace(&self, text: impl AsRef<[u8]>) {
        let temp = self.sibling(".app.env.tmp");
        std::fs::write(&temp, text).expect("write temp file");
        std::fs::rename(&temp, &self.path).expect("rename over config");
    }

    /// Starts a seed-config reload on this file.
    pub async fn start(&self, options: ReloadOptions) -> HotReload<SeedConfig> {
        HotReload::<SeedConfig>::start(&self.path, options)
            .await
            .expect("initial config is valid")
    }
}

/// The next reload record, failing the test after [`WAIT`]. A lagging receiver skips ahead.
pub async fn next_record(events: &mut broadcast::Receiver<ReloadRecord>) -> ReloadRecord {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Ok(record)) => return record,
            Ok(Err(broadcast::error::RecvError::Lagged(_))) => continue,
            Ok(Err(broadcast::error::RecvError::Closed)) => panic!("reload events closed"),
            Err(_) => panic!("no reload attempt within {WAIT:?}"),
        }
    }
}

/// Waits for the first record matching `wanted`, failing the test after [`WAIT`].
pub async fn record_where(
    events: &mut broadcast::Receiver<ReloadRecord>,
    wanted: impl Fn(&ReloadRecord) -> bool,
) -> ReloadRecord {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let record = tokio::time::timeout_at(deadline, next_record(events))
            .await
            .unwrap_or_else(|_| panic!("no matching reload record within {WAIT:?}"));
        if wanted(&record) {
            return record;
        }
    }
}

/// Waits, one reload record at a time, until `done` holds; checks it before each wait so a
/// reload that already happened counts. Fails the test after [`WAIT`].
pub async fn until(events: &mut broadcast::Receiver<ReloadRecord>, done: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !done() {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Ok(_) | Err(broadcast::error::RecvError::Lagged(_))) => {}
            Ok(Err(broadcast::error::RecvError::Closed)) => panic!("reload events closed"),
            Err(_) => panic!("condition not reached within {WAIT:?}"),
        }
    }
}

/// Waits for the next applied reload, failing on a rejected one.
pub async fn applied(events: &mut broadcast::Receiver<ReloadRecord>) -> ReloadRecord {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let record = tokio::time::timeout_at(deadline, next_record(events))
            .await
            .unwrap_or_else(|_| panic!("no applied reload within {WAIT:?}"));
        match record.outcome {
            Outcome::Applied => return record,
            Outcome::Unchanged => continue,
            _ => panic!("expected an applied reload, got {record:#?}"),
        }
    }
}

/// Waits for the next rejected reload, failing on an applied one.
pub async fn rejected(events: &mut broadcast::Receiver<ReloadRecord>) -> ReloadRecord {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let record = tokio::time::timeout_at(deadline, next_record(events))
            .await
            .unwrap_or_else(|_| panic!("no rejected reload within {WAIT:?}"));
        match record.outcome {
            Outcome::Rejected => return record,
            Outcome::Unchanged => continue,
            _ => panic!("expected a rejected reload, got {record:#?}"),
        }
    }
}

/// Asserts that no reload attempt happens for `window`. This is the one place a test waits a
/// fixed time: proving that nothing happens needs a bounded wait.
pub async fn assert_quiet(events: &mut broadcast::Receiver<ReloadRecord>, window: Duration) {
    if let Ok(received) = tokio::time::timeout(window, events.recv()).await {
        panic!("expected no reload attempt, got {received:#?}");
    }
}

/// Takes the reload records that arrive until none has for `window` (a bounded wait, to let
/// reloads caused by a preparation step finish before the step under test).
pub async fn settle(
    events: &mut broadcast::Receiver<ReloadRecord>,
    window: Duration,
) -> Vec<ReloadRecord> {
    let mut records = Vec::new();
    while let Ok(received) = tokio::time::timeout(window, events.recv()).await {
        match received {
            Ok(record) => records.push(record),
            Err(broadcast::error::RecvError::Lagged(_)) => {}
            Err(broadcast::error::RecvError::Closed) => panic!("reload events closed"),
        }
    }
    records
}

/// Polls `done` every few milliseconds until it holds, failing the test after [`WAIT`]. For
/// state with no event of its own (a subscriber's result filled into the history).
pub async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !done() {
        assert!(Instant::now() < deadline, "not within {WAIT:?}: {what}");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Asserts that nothing was published since `before`: the very same snapshot is current.
pub fn assert_kept(handle: &ReloadHandle<SeedConfig>, before: &Arc<Snapshot<SeedConfig>>) {
    let now = handle.current();
    assert!(
        Arc::ptr_eq(&now, before),
        "a new snapshot was published: version {} -> {}, config {:#?}",
        before.version(),
        now.version(),
        now.config()
    );
}

/// The result `name` has in the history record of `attempt`.
pub fn subscriber_result(
    handle: &ReloadHandle<SeedConfig>,
    attempt: u64,
    name: &str,
) -> Option<SubscriberResult> {
    handle
        .history()
        .into_iter()
        .find(|record| record.attempt == attempt)?
        .subscribers
        .into_iter()
        .find(|entry| entry.name == name)
        .map(|entry| entry.result)
}

/// The record of `attempt` as the history holds it now.
pub fn history_record(handle: &ReloadHandle<SeedConfig>, attempt: u64) -> ReloadRecord {
    handle
        .history()
        .into_iter()
        .find(|record| record.attempt == attempt)
        .unwrap_or_else(|| panic!("attempt {attempt} is not in the history"))
}

/// Reader threads calling `store.load()` in a loop, timing each call.
pub struct Readers {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<ReadStats>>,
}

/// What the reader threads saw.
#[derive(Debug, Default, Clone, Copy)]
pub struct ReadStats {
    /// Loads done, all threads together.
    pub reads: u64,
    /// The longest single load, less the time its thread sat waiting for a CPU: what a lock
    /// or a wait inside `load()` would cost. On a busy 2-core machine a reader is often
    /// preempted for tens of milliseconds, which says nothing about `load()`.
    pub longest: Duration,
    /// The longest single load by the clock, preemption included (for messages).
    pub longest_wall: Duration,
    /// The highest version seen.
    pub last_version: u64,
}

/// The calling thread's time spent runnable but not running, from `/proc/thread-self/schedstat`
/// (`None` where the kernel does not provide it).
struct RunQueueClock(Option<std::fs::File>);

impl RunQueueClock {
    fn new() -> Self {
        Self(std::fs::File::open("/proc/thread-self/schedstat").ok())
    }

    fn waited(&mut self) -> Duration {
        use std::io::{Read, Seek};
        let Some(file) = &mut self.0 else {
            return Duration::ZERO;
        };
        let mut text = String::new();
        let read = file.rewind().and_then(|()| file.read_to_string(&mut text));
        let nanos = read
            .ok()
            .and_then(|_| text.split_whitespace().nth(1)?.parse().ok())
            .unwrap_or(0);
        Duration::from_nanos(nanos)
    }
}

impl Readers {
    /// Starts `count` reader threads on `store`.
    pub fn start(store: &Store<SeedConfig>, count: usize) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let threads = (0..count)
            .map(|_| {
                let store = store.clone();
                let stop = stop.clone();
                std::thread::spawn(move || {
                    let mut stats = ReadStats::default();
                    let mut run_queue = RunQueueClock::new();
                    // Reads once more after `stop` is set: the last read comes after
                    // everything the test did, however little CPU this thread was given.
                    loop {
                        let stopping = stop.load(Ordering::Relaxed);
                        let waited_before = run_queue.waited();
                        let started = Instant::now();
                        let snapshot = store.load();
                        let took = started.elapsed();
                        let preempted = run_queue.waited().saturating_sub(waited_before);
                        // A reader never goes back in time.
                        assert!(snapshot.version() >= stats.last_version);
                        stats.last_version = snapshot.version();
                        stats.longest = stats.longest.max(took.saturating_sub(preempted));
                        stats.longest_wall = stats.longest_wall.max(took);
                        stats.reads += 1;
                        drop(snapshot);
                        if stopping {
                            break stats;
                        }
                        // Leave the runtime's workers most of the cores (2-core machines): a
                        // reader spinning flat out starves the pipeline it is meant to watch.
                        if stats.reads % 32 == 0 {
                            std::thread::sleep(Duration::from_micros(200));
                        }
                    }
                })
            })
            .collect();
        Self { stop, threads }
    }

    /// Stops the readers and sums up what they saw.
    pub fn stop(self) -> ReadStats {
        self.stop.store(true, Ordering::Relaxed);
        self.threads
            .into_iter()
            .map(|thread| thread.join().expect("reader thread panicked"))
            .fold(ReadStats::default(), |all, one| ReadStats {
                reads: all.reads + one.reads,
                longest: all.longest.max(one.longest),
                longest_wall: all.longest_wall.max(one.longest_wall),
                last_version: all.last_version.max(one.last_version),
            })
    }
}

/// The changed keys of a record, in order.
pub fn changed_keys(record: &ReloadRecord) -> Vec<&str> {
    record
        .changes
        .iter()
        .map(|change| change.key.as_str())
        .collect()
}

/// Keeps the panic hook quiet for panics a test provokes on purpose, named by their message:
/// they are neither printed nor given a backtrace. With `RUST_BACKTRACE` set, the first
/// backtrace of a debug test binary can take longer to symbolize than a subscriber's timeout
/// on a loaded machine, which turns the panic the test expects into a timeout it does not.
/// Every other panic goes to the hook that was installed before.
pub fn expect_panics(messages: &[&'static str]) {
    static EXPECTED: std::sync::Mutex<Vec<&'static str>> = std::sync::Mutex::new(Vec::new());
    static HOOK: std::sync::Once = std::sync::Once::new();
    EXPECTED.lock().unwrap().extend_from_slice(messages);
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let payload = info.payload();
            let message = payload
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| payload.downcast_ref::<String>().map(String::as_str));
            let expected = message.is_some_and(|message| {
                EXPECTED
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .contains(&message)
            });
            if !expected {
                previous(info);
            }
        }));
    });
}
