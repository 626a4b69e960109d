//! Figure 3: from a file save to the last of every subscriber being called, for in-place and
//! rename saves, with no debounce and with the default, beside a bare `notify` watcher (the
//! floor: when the kernel's event reaches user space).
//!
//! One subscriber per component (nine), each save changing one key of every component, so
//! every save must reach all nine. A trial's clock starts before the save's first system call
//! (the save's own cost is included) and stops when the ninth subscriber is called; each trial
//! first saves to the bare watcher's directory, then to ours, and trials are spaced so each
//! save is its own reload. The file lives on tmpfs (`/dev/shm`, as a Kubernetes ConfigMap
//! does), where the goals are judged, and on disk with no debounce: there an in-place save
//! makes ext4 allocate the previous content when it truncates, and that shows in the floor.

use crate::measure::{Distribution, nanos};
use crate::plan::Plan;
use crate::report::{Cell, Quantity, Row};
use crate::workload::{BenchConfig, changed_file};
use notify::event::{AccessKind, AccessMode, ModifyKind, RenameMode};
use notify::{EventKind, RecursiveMode, Watcher};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use thorp_ops::HotConfig;
use thorp_ops::config::{BoxError, HotReload, ReloadOptions, Update};

/// How a save writes the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Save {
    /// Truncate and write the file itself (`echo > file`, many programs).
    InPlace,
    /// Write a temp file beside it and rename it over (vim, JetBrains, most tools).
    Rename,
}

impl Save {
    fn label(self) -> &'static str {
        match self {
            Self::InPlace => "in-place",
            Self::Rename => "rename",
        }
    }

    fn save(self, path: &Path, text: &str) -> std::io::Result<()> {
        match self {
            Self::InPlace => std::fs::write(path, text),
            Self::Rename => {
                let temp = path.with_extension("env.tmp");
                std::fs::write(&temp, text)?;
                std::fs::rename(&temp, path)
            }
        }
    }
}

/// Longest a trial may wait for its subscribers before it counts as missed.
const TRIAL_TIMEOUT: Duration = Duration::from_secs(5);

/// Measures figure 3 and returns its rows and notes.
pub fn run(plan: &Plan) -> (Vec<Row>, Vec<String>) {
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    let runtime = match crate::measure::runtime() {
        Ok(runtime) => runtime,
        Err(error) => {
            notes.push(format!("figure 3 not measured: no tokio runtime: {error}"));
            return (rows, notes);
        }
    };
    let default = ReloadOptions::default().debounce;
    // Goals are judged where the file system adds least: in memory when the machine has it.
    let judged = if Storage::Memory.available() {
        Storage::Memory
    } else {
        Storage::Disk
    };
    let passes = [
        (Storage::Memory, Duration::ZERO),
        (Storage::Memory, default),
        // On disk, a save's own cost (ext4 allocating the previous content on truncate) shows
        // in the floor as much as in ours; the default debounce adds nothing to learn there.
        (Storage::Disk, Duration::ZERO),
    ];
    for (storage, debounce) in passes {
        if !storage.available() {
            notes.push(format!("figure 3: no {} directory here", storage.label()));
            continue;
        }
        for save in [Save::InPlace, Save::Rename] {
            let pass = Pass {
                storage,
                save,
                debounce,
                judged: storage == judged,
            };
            let measured = match measure(&runtime, &pass, plan.reload_trials) {
                Ok(measured) => measured,
                Err(error) => {
                    notes.push(format!("figure 3, {}: not measured: {error}", pass.label()));
                    continue;
                }
            };
            if measured.missed > 0 {
                notes.push(format!(
                    "figure 3, {}: {} of {} saves reached not every subscriber (or the bare \
                     watcher) within {TRIAL_TIMEOUT:?}",
                    pass.label(),
                    measured.missed,
                    plan.reload_trials
                ));
            }
            rows.extend(rows_for(&pass, &measured.ours, &measured.floor));
        }
    }
    (rows, notes)
}

/// Where the config file lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Storage {
    /// tmpfs (`/dev/shm`): how Kubernetes mounts a ConfigMap.
    Memory,
    /// The system's temp directory on disk.
    Disk,
}

impl Storage {
    fn label(self) -> &'static str {
        match self {
            Self::Memory => "tmpfs",
            Self::Disk => "disk",
        }
    }

    fn available(self) -> bool {
        match self {
            Self::Memory => Path::new(MEMORY_DIR).is_dir(),
            Self::Disk => true,
        }
    }

    /// A fresh directory here, removed when dropped.
    pub(crate) fn dir(self) -> Result<tempfile::TempDir, String> {
        match self {
            Self::Memory => tempfile::tempdir_in(MEMORY_DIR),
            Self::Disk => tempfile::tempdir(),
        }
        .map_err(|error| error.to_string())
    }

    /// Memory where the machine has it, else disk.
    pub(crate) fn fastest() -> Self {
        if Self::Memory.available() {
            Self::Memory
        } else {
            Self::Disk
        }
    }
}

const MEMORY_DIR: &str = "/dev/shm";

/// One set of trials: where, how the file is saved, and the debounce.
struct Pass {
    storage: Storage,
    save: Save,
    debounce: Duration,
    /// Whether the goals are judged on this pass.
    judged: bool,
}

impl Pass {
    fn label(&self) -> String {
        let debounce = if self.debounce.is_zero() {
            "debounce 0".to_owned()
        } else {
            format!("debounce {}", Quantity::Nanos(nanos(self.debounce)))
        };
        format!(
            "{} save, {debounce}, {}",
            self.save.label(),
            self.storage.label()
        )
    }
}

fn rows_for(pass: &Pass, ours: &Distribution, floor: &Distribution) -> Vec<Row> {
    type Pick = fn(&Distribution) -> f64;
    let metrics: [(&str, Pick); 3] = [("p50", |d| d.p50), ("p90", |d| d.p90), ("max", |d| d.max)];
    let (save, debounce) = (pass.save, pass.debounce);
    metrics
        .into_iter()
        .map(|(name, pick)| {
            let value = Quantity::Nanos(pick(ours));
            let mut row = Row::new(
                3,
                format!("save -> 9 subscribers, {}: {name}", pass.label()),
                Cell::new("HotReload", value),
            );
            let floor = Quantity::Nanos(pick(floor));
            row = row.alternative(Cell::new("bare notify event", floor));
            row = if debounce.is_zero() {
                row.times("notify event", floor)
            } else {
                row.delta("debounce", Quantity::Nanos(nanos(debounce)))
            };
            if name != "p90" || !pass.judged {
                return row;
            }
            let millis = value.value() / 1e6;
            match (debounce.is_zero(), save) {
                (true, Save::Rename) => row.goal("< 0.5 ms", millis < 0.5),
                (true, Save::InPlace) => row.goal("< 1 ms", millis < 1.0),
                (false, _) => {
                    let limit = debounce.as_secs_f64() * 1e3 + 2.0;
                    row.goal(format!("< {limit} ms (D + 2 ms)"), millis < limit)
                }
            }
        })
        .collect()
}

struct Measured {
    ours: Distribution,
    floor: Distribution,
    missed: usize,
}

/// Times `trials` saves of `save` style to a live [`HotReload`] with nine subscribers, each
/// right after a save to the bare watcher, so both see the same conditions.
fn measure(
    runtime: &tokio::runtime::Runtime,
    pass: &Pass,
    trials: usize,
) -> Result<Measured, String> {
    let (save, debounce) = (pass.save, pass.debounce);
    let dir = pass.storage.dir()?;
    let path = dir.path().join("app.env");
    std::fs::write(&path, changed_file(0)).map_err(|error| error.to_string())?;
    let options = ReloadOptions::default().debounce(debounce);
    let config = runtime
        .block_on(HotReload::<BenchConfig>::start(&path, options))
        .map_err(|errors| errors.to_string())?;
    let (called, calls) = mpsc::channel::<(u64, Instant)>();
    subscribe_all_components(&config, &called);
    let floor = Floor::new(pass.storage)?;
    let (mut ours, mut floors) = (Vec::with_capacity(trials), Vec::with_capacity(trials));
    let mut missed = 0;
    for trial in 1..=trials {
        // Alternating content: every save changes one key of every component.
        let text = changed_file(trial as u64);
        let bare = floor.time(save, text)?;
        let version = config.current().version() + 1;
        let started = Instant::now();
        save.save(&path, text).map_err(|error| error.to_string())?;
        let deadline = started + TRIAL_TIMEOUT;
        let mut reached = 0;
        let mut last = started;
        while reached < SUBSCRIBERS {
            let wait = deadline.saturating_duration_since(Instant::now());
            match calls.recv_timeout(wait) {
                Ok((seen, at)) if seen == version => {
                    reached += 1;
                    last = last.max(at);
                }
                // A late call for an earlier version (a missed trial's stragglers).
                Ok(_) => {}
                Err(_) => break,
            }
        }
        match bare {
            Some(bare) if reached == SUBSCRIBERS => {
                ours.push(last - started);
                floors.push(bare);
            }
            _ => missed += 1,
        }
        // Let the attempt finish its record and the watcher go idle before the next save.
        std::thread::sleep(SPACING);
    }
    drop(config);
    Ok(Measured {
        ours: Distribution::of_durations(&ours),
        floor: Distribution::of_durations(&floors),
        missed,
    })
}

/// Pause after each save, so the next is a reload of its own.
const SPACING: Duration = Duration::from_millis(3);

const SUBSCRIBERS: usize = 9;

/// One subscriber per component, each reporting its update's version and when it was called.
fn subscribe_all_components(
    config: &HotReload<BenchConfig>,
    called: &mpsc::Sender<(u64, Instant)>,
) {
    let called = called.clone();
    subscribe_components(config, move |version, at| {
        // The receiver is gone only once the figure is done.
        let _ = called.send((version, at));
    });
}

/// One subscriber per component that does nothing: what a whole reload has to route to.
pub(super) fn subscribe_quietly(config: &HotReload<BenchConfig>) {
    subscribe_components(config, |_, _| {});
}

/// Subscribes the nine components of [`BenchConfig`]; each calls `on_call` with the update's
/// version and the instant it was called, then returns at once.
fn subscribe_components(
    config: &HotReload<BenchConfig>,
    on_call: impl Fn(u64, Instant) + Clone + Send + Sync + 'static,
) {
    fn on<S: HotConfig>(
        config: &HotReload<BenchConfig>,
        name: &str,
        project: fn(&BenchConfig) -> &S,
        on_call: impl Fn(u64, Instant) + Send + Sync + 'static,
    ) {
        config.subscribe(name, project, move |update: Update<BenchConfig, S>| {
            on_call(update.version(), Instant::now());
            ready()
        });
    }
    on(config, "rpcPool", |root| &root.rpc, on_call.clone());
    on(
        config,
        "circuitBreaker",
        |root| &root.breaker,
        on_call.clone(),
    );
    on(config, "eventBus", |root| &root.event_bus, on_call.clone());
    on(
        config,
        "backpressureManager",
        |root| &root.backpressure,
        on_call.clone(),
    );
    on(
        config,
        "shutdownManager",
        |root| &root.shutdown,
        on_call.clone(),
    );
    on(config, "detection", |root| &root.detection, on_call.clone());
    on(config, "logging", |root| &root.logging, on_call.clone());
    on(
        config,
        "healthMonitor",
        |root| &root.health,
        on_call.clone(),
    );
    on(config, "service", |root| &root.service, on_call);
}

fn ready() -> impl Future<Output = Result<(), BoxError>> + Send + 'static {
    std::future::ready(Ok(()))
}

/// A bare `notify` watcher on a directory of its own: the floor of any watcher-based reload.
struct Floor {
    dir: tempfile::TempDir,
    events: mpsc::Receiver<Instant>,
    _watcher: notify::RecommendedWatcher,
}

impl Floor {
    fn new(storage: Storage) -> Result<Self, String> {
        let dir = storage.dir()?;
        let path: PathBuf = dir.path().join("app.env");
        std::fs::write(&path, changed_file(0)).map_err(|error| error.to_string())?;
        let (seen, events) = mpsc::channel::<Instant>();
        let name = path.file_name().map(ToOwned::to_owned);
        let mut watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
                let Ok(event) = event else { return };
                // The events that say a write is finished, as ours picks them.
                let finished = matches!(
                    event.kind,
                    EventKind::Access(AccessKind::Close(AccessMode::Write))
                        | EventKind::Modify(ModifyKind::Name(RenameMode::To | RenameMode::Both))
                );
                let about_it = event
                    .paths
                    .iter()
                    .any(|path| path.file_name() == name.as_deref());
                if finished && about_it {
                    let _ = seen.send(Instant::now());
                }
            })
            .map_err(|error| error.to_string())?;
        watcher
            .watch(dir.path(), RecursiveMode::NonRecursive)
            .map_err(|error| error.to_string())?;
        Ok(Self {
            dir,
            events,
            _watcher: watcher,
        })
    }

    /// Saves `text` and times it to the event; `None` if none came.
    fn time(&self, save: Save, text: &str) -> Result<Option<Duration>, String> {
        let path = self.dir.path().join("app.env");
        let started = Instant::now();
        save.save(&path, text).map_err(|error| error.to_string())?;
        let seen = self.events.recv_timeout(TRIAL_TIMEOUT).ok();
        std::thread::sleep(SPACING);
        // A rename may report both of its ends; only the first counts.
        while self.events.try_recv().is_ok() {}
        Ok(seen.map(|at| at - started))
    }
}
