//! Where a component reads its settings: a cheap call on every use, so a reload shows at once.
//!
//! [`SettingsSource`] is implemented for any `Fn() -> G` where `G` derefs to the settings, so
//! the `thorp-ops` config store plugs in directly: `move || section.load()` with
//! `section = store.section(|c: &NodeConfig| &c.detection)` (a lock-free load and a field
//! access per event, no copy, no allocation). For other snapshot cells, [`project`] does the
//! same narrowing:
//!
//! ```
//! use thorp_examples::node::detection::{DetectionSettings, Detector};
//! use thorp_examples::node::source::{SharedSettings, project};
//!
//! struct AppConfig { detection: DetectionSettings /* , rpc: ..., ... */ }
//!
//! let store = SharedSettings::new(AppConfig { detection: DetectionSettings::default() });
//! let reader = store.clone();
//! // Each event: one lock-free load of the snapshot, then a field access.
//! let detector = Detector::new(project(move || reader.load(), |c: &AppConfig| &c.detection));
//! # let _ = detector;
//! ```
//!
//! [`SharedSettings`] is a standalone lock-free cell for tests and programs without the store.

use std::ops::Deref;
use std::sync::Arc;

use arc_swap::ArcSwap;

/// A source of the current settings of type `T`. Called on the hot path: implementations
/// must be cheap and must not block (a lock-free load, an `Arc` clone, a field access).
pub trait SettingsSource<T: ?Sized>: Send + Sync {
    /// What `current` hands out: keeps the settings alive while they are read.
    type Guard: Deref<Target = T>;

    /// The settings in force now.
    fn current(&self) -> Self::Guard;
}

impl<T, F, G> SettingsSource<T> for F
where
    T: ?Sized,
    F: Fn() -> G + Send + Sync,
    G: Deref<Target = T>,
{
    type Guard = G;

    fn current(&self) -> G {
        self()
    }
}

/// One section of a loaded snapshot: keeps the snapshot alive and derefs to the section.
pub struct Projected<O: Deref, T: ?Sized> {
    owner: O,
    project: fn(&O::Target) -> &T,
}

impl<O: Deref, T: ?Sized> Deref for Projected<O, T> {
    type Target = T;

    fn deref(&self) -> &T {
        (self.project)(&self.owner)
    }
}

/// A source that loads a snapshot with `load` and reads the section `project` picks out of it.
pub fn project<O, T, L>(
    load: L,
    project: fn(&O::Target) -> &T,
) -> impl Fn() -> Projected<O, T> + Send + Sync
where
    O: Deref,
    T: ?Sized,
    L: Fn() -> O + Send + Sync,
{
    move || Projected {
        owner: load(),
        project,
    }
}

/// A lock-free settings cell: readers `load`, a writer `store`s a whole new value.
#[derive(Debug)]
pub struct SharedSettings<T> {
    cell: Arc<ArcSwap<T>>,
}

impl<T> Clone for SharedSettings<T> {
    fn clone(&self) -> Self {
        Self {
            cell: Arc::clone(&self.cell),
        }
    }
}

impl<T> SharedSettings<T> {
    /// A cell holding `value`.
    pub fn new(value: T) -> Self {
        Self {
            cell: Arc::new(ArcSwap::from_pointee(value)),
        }
    }

    /// Replace the value; readers see it on their next load.
    pub fn store(&self, value: T) {
        self.cell.store(Arc::new(value));
    }

    /// The value now.
    pub fn load(&self) -> Arc<T> {
        self.cell.load_full()
    }
}

impl<T: Send + Sync> SettingsSource<T> for SharedSettings<T> {
    type Guard = Arc<T>;

    fn current(&self) -> Arc<T> {
        self.load()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read<S: SettingsSource<u32>>(source: &S) -> u32 {
        *source.current()
    }

    #[test]
    fn closures_and_shared_cells_are_sources() {
        let fixed = Arc::new(7);
        assert_eq!(read(&move || Arc::clone(&fixed)), 7);
        let shared = SharedSettings::new(1);
        let reader = shared.clone();
        assert_eq!(read(&reader), 1);
        shared.store(2);
        assert_eq!(read(&reader), 2, "a store is visible to every clone");
    }

    #[test]
    fn a_projection_reads_one_section_of_the_latest_snapshot() {
        struct Whole {
            a: u32,
            b: u32,
        }
        let store = SharedSettings::new(Whole { a: 1, b: 10 });
        let reader = store.clone();
        let b = project(move || reader.load(), |w: &Whole| &w.b);
        assert_eq!(read(&b), 10);
        store.store(Whole { a: 2, b: 20 });
        assert_eq!(read(&b), 20);
        assert_eq!(store.load().a, 2);
    }
}
