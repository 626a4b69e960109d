//! The reload pipeline: watch, debounce, read, validate, veto, swap, notify, record.
//!
//! ```text
//! file ─watch(dir)─> generation+1 ─debounce─> read (blocking pool) ─> parse+validate ─> vetoes
//!      ─> Store::publish ─> routed subscribers (own tasks) ─> history
//! ```
//! No event is lost: the watcher only bumps a generation number, and the reload loop marks the
//! generation seen *before* it reads, so a write that lands during a read or while subscribers
//! run wakes the loop again and the last valid content of the file is what ends up applied.

use super::error::{ConfigError, ConfigErrors, ErrorKind};
use super::history::{
    History, Outcome, RecordedError, ReloadRecord, ReloadStats, SubscriberRecord, SubscriberResult,
    Trigger,
};
use super::load::{ConfigWarning, Loaded, from_bytes};
use super::store::{Section, Snapshot, Store};
use super::subscribe::{self, BoxError, Handler, Route, Subscriber, Update};
use super::values::{Change, Values};
use super::watch::{self, FileWatcher, Target};
use crate::HotConfig;
use crate::envfile::{DEFAULT_MAX_SIZE, ParseOptions};
use std::collections::HashSet;
use std::fmt;
use std::future::Future;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, SystemTime};
use tokio::sync::{broadcast, watch as channel};
use tokio::time::Instant;

/// How a [`HotReload`] behaves; `Default` gives the documented defaults.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ReloadOptions {
    /// Quiet time after the last file event before reloading (default 100 ms). Zero reloads at
    /// the first event.
    pub debounce: Duration,
    /// Longest a burst of events can hold a reload back (default 1 s).
    pub max_delay: Duration,
    /// How long a subscriber may take with one update before it is cancelled (default 5 s).
    pub subscriber_timeout: Duration,
    /// Reload attempts kept in the history (default 100).
    pub history_len: usize,
    /// Largest config file accepted (default 1 MiB).
    pub max_size: usize,
    /// Whether to watch the file at all (default true); `reload()` works either way.
    pub watch: bool,
    /// Reload on SIGHUP (Unix only; default false).
    pub reload_on_sighup: bool,
}

impl Default for ReloadOptions {
    fn default() -> Self {
        Self {
            debounce: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
            subscriber_timeout: Duration::from_secs(5),
            history_len: 100,
            max_size: DEFAULT_MAX_SIZE,
            watch: true,
            reload_on_sighup: false,
        }
    }
}

impl ReloadOptions {
    /// Sets [`debounce`](Self::debounce).
    pub fn debounce(mut self, debounce: Duration) -> Self {
        self.debounce = debounce;
        self
    }

    /// Sets [`subscriber_timeout`](Self::subscriber_timeout).
    pub fn subscriber_timeout(mut self, timeout: Duration) -> Self {
        self.subscriber_timeout = timeout;
        self
    }

    /// Sets [`history_len`](Self::history_len).
    pub fn history_len(mut self, len: usize) -> Self {
        self.history_len = len;
        self
    }

    /// Sets [`watch`](Self::watch).
    pub fn watch(mut self, watch: bool) -> Self {
        self.watch = watch;
        self
    }

    /// Sets [`reload_on_sighup`](Self::reload_on_sighup).
    pub fn reload_on_sighup(mut self, on: bool) -> Self {
        self.reload_on_sighup = on;
        self
    }
}

type Check<T> = Box<dyn Fn(&T, &Values) -> Result<(), String> + Send + Sync>;

struct Veto<T> {
    name: String,
    route: Route,
    check: Check<T>,
}

struct Shared<T> {
    path: Arc<Path>,
    options: ReloadOptions,
    store: Store<T>,
    history: Arc<History>,
    subscribers: RwLock<Vec<Arc<Subscriber<T>>>>,
    vetoes: RwLock<Vec<Veto<T>>>,
    events: broadcast::Sender<ReloadRecord>,
    // One attempt at a time, whoever asks: watcher, `reload()` or SIGHUP.
    attempting: tokio::sync::Mutex<()>,
    unknown_warned: Mutex<HashSet<String>>,
    stop: channel::Receiver<()>,
    runtime: tokio::runtime::Handle,
}

/// A config file kept live: loaded, watched, re-validated on change and published to a
/// [`Store`] and to routed subscribers. Dropping it stops the watcher and every task it started.
///
/// ```no_run
/// # use thorp_ops::HotConfig;
/// # #[derive(HotConfig, Debug)]
/// # #[hot_config(component = "detection", prefix = "MIN_EDGE_")]
/// # struct Detection { #[hot_config(key = "MIN_EDGE_SCORE", default = 60)] min_edge_score: u32 }
/// use thorp_ops::config::{HotReload, ReloadOptions};
///
/// # async fn run() -> Result<(), thorp_ops::config::ConfigErrors> {
/// let config = HotReload::<Detection>::start("trading.env", ReloadOptions::default()).await?;
/// config.subscribe("detection", |root: &Detection| root, |update| async move {
///     tracing::info!(score = update.min_edge_score, "min edge score changed");
///     Ok(())
/// });
/// // Hot path: lock-free read of the current snapshot.
/// let score = config.store().load().min_edge_score;
/// # let _ = score; Ok(()) }
/// ```
pub struct HotReload<T: HotConfig> {
    handle: ReloadHandle<T>,
    _watcher: Option<FileWatcher>,
    // Dropping the sender is the stop signal every task waits on.
    _stop: channel::Sender<()>,
}

/// A cheap, cloneable view of a [`HotReload`] for code that reads, subscribes or reloads but
/// does not own the lifecycle (an HTTP handler, a component). A [`HotReload`] derefs to one.
pub struct ReloadHandle<T> {
    shared: Arc<Shared<T>>,
}

impl<T> Clone for ReloadHandle<T> {
    fn clone(&self) -> Self {
        Self {
            shared: self.shared.clone(),
        }
    }
}

impl<T: HotConfig> HotReload<T> {
    /// Loads `path` (every problem reported at once; nothing starts on error), then watches it.
    /// Must be called inside a tokio runtime.
    pub async fn start(
        path: impl AsRef<Path>,
        options: ReloadOptions,
    ) -> Result<Self, ConfigErrors> {
        let path: Arc<Path> = Arc::from(path.as_ref());
        let started = Instant::now();
        let loaded = read_and_load::<T>(path.clone(), options.max_size).await?;
        let (stop_tx, stop) = channel::channel(());
        let (events, _) = broadcast::channel(256);
        let history = Arc::new(History::new(options.history_len));
        let shared = Arc::new(Shared {
            store: Store::new(loaded.config, loaded.values, Some(path.clone())),
            path: path.clone(),
            history,
            subscribers: RwLock::new(Vec::new()),
            vetoes: RwLock::new(Vec::new()),
            events,
            attempting: tokio::sync::Mutex::new(()),
            unknown_warned: Mutex::new(HashSet::new()),
            stop,
            runtime: tokio::runtime::Handle::current(),
            options,
        });
        shared.warn_unknown(&loaded.warnings);
        let attempt = shared.history.next_attempt();
        shared.history.push(ReloadRecord {
            attempt,
            at: SystemTime::now(),
            trigger: Trigger::Initial,
            outcome: Outcome::Applied,
            version: 1,
            changes: Vec::new(),
            errors: Vec::new(),
            subscribers: Vec::new(),
            duration: started.elapsed(),
        });
        tracing::info!(path = %path.display(), keys = shared.store.load().values().len(), "config loaded");

        let watcher = if shared.options.watch {
            Some(Shared::start_watching(&shared)?)
        } else {
            None
        };
        #[cfg(unix)]
        if shared.options.reload_on_sighup {
            Shared::start_sighup(&shared)?;
        }
        Ok(Self {
            handle: ReloadHandle { shared },
            _watcher: watcher,
            _stop: stop_tx,
        })
    }

    /// A cloneable view for readers, subscribers and on-demand reloads.
    pub fn handle(&self) -> ReloadHandle<T> {
        self.handle.clone()
    }
}

impl<T: HotConfig> std::ops::Deref for HotReload<T> {
    type Target = ReloadHandle<T>;

    fn deref(&self) -> &ReloadHandle<T> {
        &self.handle
    }
}

impl<T: HotConfig> ReloadHandle<T> {
    /// The store holding the current snapshot: `store().load()` on the hot path.
    pub fn store(&self) -> &Store<T> {
        &self.shared.store
    }

    /// The current snapshot as an owned `Arc`.
    pub fn current(&self) -> Arc<Snapshot<T>> {
        self.shared.store.snapshot()
    }

    /// The file being watched.
    pub fn path(&self) -> &Path {
        &self.shared.path
    }

    /// The recorded reload attempts, oldest first (bounded by `history_len`).
    pub fn history(&self) -> Vec<ReloadRecord> {
        self.shared.history.records()
    }

    /// Totals since start.
    pub fn stats(&self) -> ReloadStats {
        self.shared.history.stats()
    }

    /// Each reload attempt as it ends (before its subscribers finish).
    pub fn events(&self) -> broadcast::Receiver<ReloadRecord> {
        self.shared.events.subscribe()
    }

    /// Reloads now, whatever the watcher saw, and returns the attempt's record.
    pub async fn reload(&self) -> ReloadRecord {
        self.shared.attempt(Trigger::Manual).await
    }

    /// Calls `handler` with every applied change that concerns section `S` (keys it declares or
    /// under its component's prefixes), in its own task, under the subscriber timeout. Returns a
    /// live view of the section; a subscriber added now sees later changes only.
    pub fn subscribe<S, F, Fut>(
        &self,
        name: impl Into<String>,
        project: fn(&T) -> &S,
        handler: F,
    ) -> Section<T, S>
    where
        S: HotConfig,
        F: Fn(Update<T, S>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), BoxError>> + Send + 'static,
    {
        self.add_subscriber(name.into(), Route::Schema(S::SCHEMA), project, handler);
        self.shared.store.section(project)
    }

    /// Calls `handler` with every applied change, whatever its key (unknown keys included).
    pub fn subscribe_all<F, Fut>(&self, name: impl Into<String>, handler: F)
    where
        F: Fn(Update<T, T>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), BoxError>> + Send + 'static,
    {
        self.add_subscriber(name.into(), Route::All, identity, handler);
    }

    fn add_subscriber<S, F, Fut>(
        &self,
        name: String,
        route: Route,
        project: fn(&T) -> &S,
        handler: F,
    ) where
        S: ?Sized + 'static,
        F: Fn(Update<T, S>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), BoxError>> + Send + 'static,
    {
        let subscriber = Arc::new(Subscriber::new(Arc::from(name), route));
        let handler: Handler<T> = Arc::new(move |snapshot, changes| {
            Box::pin(handler(Update::new(snapshot, project, changes)))
        });
        let shared = &self.shared;
        shared.runtime.spawn(subscribe::run(
            subscriber.clone(),
            handler,
            shared.options.subscriber_timeout,
            shared.history.clone(),
            shared.stop.clone(),
        ));
        shared
            .subscribers
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .push(subscriber);
    }

    /// Lets a component refuse a new config before it is applied: `check` sees the new section
    /// when a change concerns it, and an `Err` rejects the whole reload with its reason.
    pub fn veto<S, F>(&self, name: impl Into<String>, project: fn(&T) -> &S, check: F)
    where
        S: HotConfig,
        F: Fn(&S) -> Result<(), String> + Send + Sync + 'static,
    {
        let veto = Veto {
            name: name.into(),
            route: Route::Schema(S::SCHEMA),
            check: Box::new(move |config: &T, _: &Values| check(project(config))),
        };
        self.add_veto(veto);
    }

    /// Like [`veto`](Self::veto), for a section with dynamic keys (an
    /// [`open_prefix`](crate::HotConfig)): `check` also sees every effective value of the new
    /// config, the keys no field declares included, as the health monitor's threshold keys are.
    pub fn veto_values<S, F>(&self, name: impl Into<String>, project: fn(&T) -> &S, check: F)
    where
        S: HotConfig,
        F: Fn(&S, &Values) -> Result<(), String> + Send + Sync + 'static,
    {
        let veto = Veto {
            name: name.into(),
            route: Route::Schema(S::SCHEMA),
            check: Box::new(move |config: &T, values: &Values| check(project(config), values)),
        };
        self.add_veto(veto);
    }

    fn add_veto(&self, veto: Veto<T>) {
        self.shared
            .vetoes
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .push(veto);
    }
}

/// The changes of an applied reload as its log line shows them: `KEY=value`, `KEY (unset)`,
/// or `KEY (secret)` for a redacted one. Written only if the line is logged, not on every
/// reload.
struct ChangeSummary<'a>(&'a [Change]);

impl fmt::Display for ChangeSummary<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (position, change) in self.0.iter().enumerate() {
            if position > 0 {
                f.write_str(", ")?;
            }
            match (&change.new, change.secret) {
                (_, true) => write!(f, "{} (secret)", change.key)?,
                (Some(value), false) => write!(f, "{}={value}", change.key)?,
                (None, false) => write!(f, "{} (unset)", change.key)?,
            }
        }
        Ok(())
    }
}

fn identity<T>(value: &T) -> &T {
    value
}

async fn read_and_load<T: HotConfig>(
    path: Arc<Path>,
    max_size: usize,
) -> Result<Loaded<T>, ConfigErrors> {
    let reading = path.clone();
    let joined = tokio::task::spawn_blocking(move || {
        let bytes = super::read_file(&reading, max_size)?;
        from_bytes::<T>(&bytes, Some(&reading), &ParseOptions::new())
    })
    .await;
    joined.unwrap_or_else(|join_error| {
        // The loader has no panic path on input; if one is ever found, refuse the file rather
        // than take the service down.
        tracing::error!(path = %path.display(), error = %join_error, "config loader panicked");
        Err(ConfigErrors::one(
            ConfigError::new(ErrorKind::Rejected("the config loader failed".to_owned()))
                .in_file(path),
        ))
    })
}

impl<T: HotConfig> Shared<T> {
    fn start_watching(this: &Arc<Self>) -> Result<FileWatcher, ConfigErrors> {
        let io_error = |error: std::io::Error| {
            ConfigErrors::one(ConfigError::new(ErrorKind::Io(error)).in_file(this.path.clone()))
        };
        let target = Target::of(&this.path).map_err(io_error)?;
        let (generation, changed) = channel::channel(0_u64);
        let watcher = watch::watch(target, move || generation.send_modify(|count| *count += 1))
            .map_err(|error| io_error(std::io::Error::other(error)))?;
        this.runtime.spawn(Self::watch_loop(this.clone(), changed));
        Ok(watcher)
    }

    async fn watch_loop(this: Arc<Self>, mut changed: channel::Receiver<u64>) {
        let mut stop = this.stop.clone();
        loop {
            tokio::select! {
                biased;
                _ = stop.changed() => return,
                result = changed.changed() => if result.is_err() { return },
            }
            // Debounce: wait for a quiet `debounce`, but never longer than `max_delay` in all.
            // A zero debounce reloads at once: even a sleep until now waits for the timer
            // wheel's next millisecond tick, which thorp-bench measured as most of the latency.
            let first = Instant::now();
            let mut deadline = first + this.options.debounce;
            while !this.options.debounce.is_zero() {
                tokio::select! {
                    biased;
                    _ = stop.changed() => return,
                    () = tokio::time::sleep_until(deadline) => break,
                    result = changed.changed() => {
                        if result.is_err() {
                            return;
                        }
                        deadline = (Instant::now() + this.options.debounce).min(first + this.options.max_delay);
                    }
                }
            }
            // Seen before reading: a write from now on wakes the loop again.
            changed.borrow_and_update();
            this.attempt(Trigger::Watch).await;
        }
    }

    #[cfg(unix)]
    fn start_sighup(this: &Arc<Self>) -> Result<(), ConfigErrors> {
        use tokio::signal::unix::{SignalKind, signal};
        let mut hangups = signal(SignalKind::hangup()).map_err(|error| {
            ConfigErrors::one(ConfigError::new(ErrorKind::Io(error)).in_file(this.path.clone()))
        })?;
        let shared = this.clone();
        this.runtime.spawn(async move {
            let mut stop = shared.stop.clone();
            loop {
                tokio::select! {
                    biased;
                    _ = stop.changed() => return,
                    received = hangups.recv() => match received {
                        Some(()) => { shared.attempt(Trigger::Signal).await; }
                        None => return,
                    },
                }
            }
        });
        Ok(())
    }

    fn warn_unknown(&self, warnings: &[ConfigWarning]) {
        let mut warned = self
            .unknown_warned
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        for warning in warnings {
            match warning {
                ConfigWarning::UnknownKey {
                    key,
                    line,
                    suggestion,
                } => {
                    if warned.insert(key.clone()) {
                        tracing::warn!(path = %self.path.display(), line, key = %key, suggestion = suggestion.unwrap_or(""), "unknown config key kept");
                    }
                }
                other => {
                    tracing::warn!(path = %self.path.display(), warning = %other, "config file warning")
                }
            }
        }
    }

    /// One reload attempt, start to record. Attempts never overlap.
    async fn attempt(self: &Arc<Self>, trigger: Trigger) -> ReloadRecord {
        let _one_at_a_time = self.attempting.lock().await;
        let started = Instant::now();
        let at = SystemTime::now();
        let attempt = self.history.next_attempt();
        let current = self.store.snapshot();
        let mut record = ReloadRecord {
            attempt,
            at,
            trigger,
            outcome: Outcome::Rejected,
            version: current.version(),
            changes: Vec::new(),
            errors: Vec::new(),
            subscribers: Vec::new(),
            duration: Duration::ZERO,
        };
        match read_and_load::<T>(self.path.clone(), self.options.max_size).await {
            Err(errors) => self.reject(&mut record, &errors),
            Ok(loaded) => {
                self.warn_unknown(&loaded.warnings);
                let changes = loaded.values.changes_since(current.values());
                if changes.is_empty() {
                    record.outcome = Outcome::Unchanged;
                    tracing::debug!(path = %self.path.display(), "config file changed nothing");
                } else if let Err(errors) =
                    self.check_vetoes(&loaded.config, &loaded.values, &changes)
                {
                    self.reject(&mut record, &errors);
                } else {
                    self.apply(&mut record, loaded, changes);
                }
            }
        }
        record.duration = started.elapsed();
        self.history.finish(&record);
        // Nobody listening is fine: events are a convenience, the history is the record. With
        // no receiver the send would fail anyway, so the record is not copied for it.
        if self.events.receiver_count() > 0 {
            let _ = self.events.send(record.clone());
        }
        record
    }

    fn reject(&self, record: &mut ReloadRecord, errors: &ConfigErrors) {
        record.outcome = Outcome::Rejected;
        record.errors = RecordedError::from_errors(errors);
        tracing::warn!(path = %self.path.display(), errors = %errors, count = errors.errors().len(), "config reload rejected; previous config kept");
    }

    fn check_vetoes(
        &self,
        config: &T,
        values: &Values,
        changes: &[Change],
    ) -> Result<(), ConfigErrors> {
        let vetoes = self.vetoes.read().unwrap_or_else(PoisonError::into_inner);
        let refusals: Vec<ConfigError> = vetoes
            .iter()
            .filter(|veto| !veto.route.select(changes).is_empty())
            .filter_map(|veto| {
                (veto.check)(config, values).err().map(|reason| {
                    ConfigError::new(ErrorKind::Vetoed {
                        component: veto.name.clone(),
                        reason,
                    })
                    .in_file(self.path.clone())
                })
            })
            .collect();
        if refusals.is_empty() {
            Ok(())
        } else {
            Err(ConfigErrors::new(refusals))
        }
    }

    fn apply(&self, record: &mut ReloadRecord, loaded: Loaded<T>, changes: Vec<Change>) {
        let (_, next) = self
            .store
            .publish(loaded.config, loaded.values, Some(self.path.clone()));
        record.outcome = Outcome::Applied;
        record.version = next.version();
        let subscribers = self
            .subscribers
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        let routed: Vec<(&Arc<Subscriber<T>>, Vec<Change>)> = subscribers
            .iter()
            .map(|subscriber| (subscriber, subscriber.route.select(&changes)))
            .filter(|(_, changes)| !changes.is_empty())
            .collect();
        record.subscribers = routed
            .iter()
            .map(|(subscriber, _)| SubscriberRecord {
                name: subscriber.name.to_string(),
                result: SubscriberResult::Pending,
                duration: Duration::ZERO,
            })
            .collect();
        tracing::info!(path = %self.path.display(), version = next.version(), changed = %ChangeSummary(&changes), subscribers = routed.len(), "config reload applied");
        record.changes = changes;
        // The record must be in the history before a fast subscriber reports back into it.
        self.history.push(record.clone());
        for (subscriber, changes) in routed {
            subscriber.offer(next.clone(), changes, record.attempt, &self.history);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_change_summary_shows_values_unset_keys_and_secrets_by_key_only() {
        let change = |key: &str, new: Option<&str>, secret| Change {
            key: key.to_owned(),
            old: Some("before".to_owned()),
            new: new.map(str::to_owned),
            secret,
        };
        let changes = [
            change("MIN_EDGE_SCORE", Some("65"), false),
            change("PUBLIC_RPC_URL", None, false),
            change("HELIUS_RPC_URL", Some("[redacted]"), true),
        ];
        assert_eq!(
            ChangeSummary(&changes).to_string(),
            "MIN_EDGE_SCORE=65, PUBLIC_RPC_URL (unset), HELIUS_RPC_URL (secret)"
        );
        assert_eq!(ChangeSummary(&[]).to_string(), "");
    }
}
