//! The current config: immutable snapshots swapped atomically, read without locks.
//!
//! Readers `load()` an `Arc` of the whole snapshot through [`arc_swap`], so a reader always sees
//! one load entirely and never waits for a writer; a writer builds the next snapshot aside and
//! publishes it with one pointer swap. Writers are serialized by a mutex only they take, which
//! keeps version numbers in publish order.

use super::values::Values;
use arc_swap::ArcSwap;
use arc_swap::cache::Cache;
use std::fmt;
use std::ops::Deref;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

/// One loaded config: the typed value and what it came from. Never changes once published.
pub struct Snapshot<T> {
    config: T,
    values: Values,
    version: u64,
    loaded_at: SystemTime,
    source: Option<Arc<Path>>,
}

impl<T> Snapshot<T> {
    /// The typed config (also reachable through `Deref`).
    pub fn config(&self) -> &T {
        &self.config
    }

    /// Every key's effective value as text, unknown keys included; shown values are redacted.
    pub fn values(&self) -> &Values {
        &self.values
    }

    /// 1 for the first load, then one more for every published reload.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// When this snapshot was published.
    pub fn loaded_at(&self) -> SystemTime {
        self.loaded_at
    }

    /// The file it was loaded from, if any.
    pub fn source(&self) -> Option<&Path> {
        self.source.as_deref()
    }
}

impl<T> Deref for Snapshot<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.config
    }
}

/// Shows the effective values, redacted, rather than the config's own `Debug`: a plain `Url`
/// field would print an API key in its query string.
impl<T> fmt::Debug for Snapshot<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Snapshot")
            .field("version", &self.version)
            .field("source", &self.source)
            .field("values", &self.values)
            .finish_non_exhaustive()
    }
}

/// Holds the current [`Snapshot`]; cheap to clone, every clone sees the same config.
///
/// ```
/// use thorp_ops::config::{Store, Values};
///
/// let store = Store::new(60_u32, Values::default(), None);
/// assert_eq!(*store.load().config(), 60);
/// store.publish(70, Values::default(), None);
/// let current = store.load();
/// assert_eq!((current.version(), *current.config()), (2, 70));
/// ```
pub struct Store<T> {
    current: Arc<ArcSwap<Snapshot<T>>>,
    publishing: Arc<Mutex<()>>,
}

impl<T> Clone for Store<T> {
    fn clone(&self) -> Self {
        Self {
            current: self.current.clone(),
            publishing: self.publishing.clone(),
        }
    }
}

impl<T> Store<T> {
    /// A store whose first snapshot (version 1) holds `config`.
    pub fn new(config: T, values: Values, source: Option<Arc<Path>>) -> Self {
        let first = Snapshot {
            config,
            values,
            version: 1,
            loaded_at: SystemTime::now(),
            source,
        };
        Self {
            current: Arc::new(ArcSwap::from_pointee(first)),
            publishing: Arc::new(Mutex::new(())),
        }
    }

    /// The current snapshot, without locking or allocating. Keep the guard short: use
    /// [`Store::snapshot`] for a value that lives across an `.await`.
    pub fn load(&self) -> arc_swap::Guard<Arc<Snapshot<T>>> {
        self.current.load()
    }

    /// The current snapshot as an owned `Arc`.
    pub fn snapshot(&self) -> Arc<Snapshot<T>> {
        self.current.load_full()
    }

    /// Publishes `config` as the next version; returns the replaced snapshot and the new one.
    pub fn publish(
        &self,
        config: T,
        values: Values,
        source: Option<Arc<Path>>,
    ) -> (Arc<Snapshot<T>>, Arc<Snapshot<T>>) {
        // The lock only orders writers; a poisoned one still orders them, so carry on.
        let _writer = self
            .publishing
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let version = self.current.load().version + 1;
        let next = Arc::new(Snapshot {
            config,
            values,
            version,
            loaded_at: SystemTime::now(),
            source,
        });
        let previous = self.current.swap(next.clone());
        (previous, next)
    }

    /// A per-thread read handle for the hottest paths: it keeps the current `Arc` and only
    /// touches shared state to notice a newer one (one atomic load).
    pub fn handle(&self) -> ReadHandle<T> {
        ReadHandle {
            cache: Cache::new(self.current.clone()),
        }
    }

    /// A view of one section of the config, for a component that only needs its own part.
    pub fn section<S>(&self, project: fn(&T) -> &S) -> Section<T, S> {
        Section {
            store: self.clone(),
            project,
        }
    }
}

impl<T> fmt::Debug for Store<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Store").field(&**self.load()).finish()
    }
}

/// A cached reader of a [`Store`], owned by one thread or task (it is `Send`, not `Sync`).
pub struct ReadHandle<T> {
    cache: Cache<Arc<ArcSwap<Snapshot<T>>>, Arc<Snapshot<T>>>,
}

impl<T> ReadHandle<T> {
    /// The current snapshot; as cheap as a pointer compare when nothing changed.
    pub fn load(&mut self) -> &Arc<Snapshot<T>> {
        self.cache.load()
    }
}

/// A component's view of its own section of a config: see [`Store::section`].
pub struct Section<T, S> {
    store: Store<T>,
    project: fn(&T) -> &S,
}

impl<T, S> Clone for Section<T, S> {
    fn clone(&self) -> Self {
        Self {
            store: self.store.clone(),
            project: self.project,
        }
    }
}

impl<T, S> Section<T, S> {
    /// The section in the current snapshot, without locking.
    pub fn load(&self) -> SectionGuard<T, S> {
        SectionGuard {
            snapshot: self.store.load(),
            project: self.project,
        }
    }

    /// The whole current snapshot the section is part of.
    pub fn snapshot(&self) -> Arc<Snapshot<T>> {
        self.store.snapshot()
    }
}

/// The section of one snapshot; derefs to the section.
pub struct SectionGuard<T, S> {
    snapshot: arc_swap::Guard<Arc<Snapshot<T>>>,
    project: fn(&T) -> &S,
}

impl<T, S> Deref for SectionGuard<T, S> {
    type Target = S;

    fn deref(&self) -> &S {
        (self.project)(&self.snapshot.config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    struct Pair {
        low: u64,
        high: u64,
    }

    #[test]
    fn versions_count_publishes() {
        let store = Store::new(Pair { low: 0, high: 0 }, Values::default(), None);
        for n in 1..=5 {
            let (previous, next) = store.publish(Pair { low: n, high: n }, Values::default(), None);
            assert_eq!(next.version(), previous.version() + 1);
        }
        assert_eq!(store.load().version(), 6);
    }

    #[test]
    fn handles_and_sections_follow_publishes() {
        let store = Store::new(Pair { low: 1, high: 2 }, Values::default(), None);
        let mut handle = store.handle();
        let high = store.section(|pair: &Pair| &pair.high);
        assert_eq!(handle.load().low, 1);
        store.publish(Pair { low: 3, high: 4 }, Values::default(), None);
        assert_eq!(handle.load().low, 3);
        assert_eq!(*high.load(), 4);
    }

    #[derive(Debug)]
    struct Spread {
        low: u64,
        high: u64,
        sum: u64,
    }

    #[test]
    fn readers_never_see_a_torn_snapshot_while_a_writer_publishes() {
        use std::sync::atomic::{AtomicBool, Ordering};
        const PUBLISHES: u64 = 100_000;
        let store = Store::new(
            Spread {
                low: 0,
                high: 1,
                sum: 1,
            },
            Values::default(),
            None,
        );
        let done = Arc::new(AtomicBool::new(false));
        let readers: Vec<_> = (0..3)
            .map(|reader| {
                let store = store.clone();
                let done = done.clone();
                std::thread::spawn(move || {
                    let mut handle = store.handle();
                    let (mut reads, mut last_version) = (0_u64, 0);
                    while !done.load(Ordering::Acquire) {
                        // Alternate plain loads and the cached handle: both must be whole.
                        let snapshot = if reads % 2 == 0 {
                            store.snapshot()
                        } else {
                            handle.load().clone()
                        };
                        assert_eq!(
                            snapshot.high,
                            snapshot.low + 1,
                            "reader {reader} saw a torn snapshot"
                        );
                        assert_eq!(snapshot.sum, snapshot.low + snapshot.high);
                        assert_eq!(snapshot.version(), snapshot.low + 1);
                        assert!(
                            snapshot.version() >= last_version,
                            "versions went backwards"
                        );
                        last_version = snapshot.version();
                        reads += 1;
                    }
                    reads
                })
            })
            .collect();
        for low in 1..=PUBLISHES {
            store.publish(
                Spread {
                    low,
                    high: low + 1,
                    sum: 2 * low + 1,
                },
                Values::default(),
                None,
            );
        }
        done.store(true, Ordering::Release);
        for reader in readers {
            let reads = reader
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            assert!(reads > 0);
        }
        assert_eq!(store.load().version(), PUBLISHES + 1);
    }
}
