//! The ways a service can hold its current config, side by side: our store, and the locks a
//! user would otherwise reach for, all holding the very same snapshot.
//!
//! Each read gets the current config and reads one field, the way a hot path does; each swap
//! builds a new snapshot from a clone of the config and its values (the same work for every
//! contender) and puts it in place, dropping the old one outside any lock.

use crate::workload::{BenchConfig, FILE};
use std::hint::black_box;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use thorp_ops::config::{ReadHandle, Snapshot, Store, Values, load_str};

/// The current config, held every way at once.
pub struct Contenders {
    /// Ours.
    pub store: Store<BenchConfig>,
    /// A plain `Arc` that never changes: the floor of any read.
    pub floor: Arc<Snapshot<BenchConfig>>,
    /// `std::sync::RwLock<Arc<T>>`.
    pub rwlock: RwLock<Arc<Snapshot<BenchConfig>>>,
    /// `std::sync::Mutex<Arc<T>>`.
    pub mutex: Mutex<Arc<Snapshot<BenchConfig>>>,
    /// `parking_lot::RwLock<Arc<T>>`.
    pub parking_lot: parking_lot::RwLock<Arc<Snapshot<BenchConfig>>>,
    config: BenchConfig,
    values: Values,
    // Builds the alternatives' snapshots, so they hold the same type as ours.
    scratch: Store<BenchConfig>,
}

impl Default for Contenders {
    fn default() -> Self {
        Self::new()
    }
}

impl Contenders {
    /// Every contender holding the benchmark config.
    pub fn new() -> Self {
        let loaded = load_str::<BenchConfig>(FILE).unwrap_or_else(|errors| {
            // The workload's own unit tests load this file; failing here is a broken build.
            panic!("the benchmark config does not load: {errors}")
        });
        let store = Store::new(loaded.config.clone(), loaded.values.clone(), None);
        let floor = store.snapshot();
        Self {
            rwlock: RwLock::new(floor.clone()),
            mutex: Mutex::new(floor.clone()),
            parking_lot: parking_lot::RwLock::new(floor.clone()),
            floor,
            scratch: Store::new(loaded.config.clone(), loaded.values.clone(), None),
            store,
            config: loaded.config,
            values: loaded.values,
        }
    }

    /// A per-thread cached reader of our store.
    pub fn handle(&self) -> ReadHandle<BenchConfig> {
        self.store.handle()
    }

    /// The floor: deref a plain `Arc` and read the field.
    #[inline]
    pub fn read_floor(&self) -> u32 {
        field(black_box(&self.floor))
    }

    /// Ours: `Store::load()` (a guard, no refcount change in the common case).
    #[inline]
    pub fn read_load(&self) -> u32 {
        field(&black_box(&self.store).load())
    }

    /// Ours: `Store::snapshot()`, an owned `Arc` (one refcount increment and decrement).
    #[inline]
    pub fn read_snapshot(&self) -> u32 {
        field(&black_box(&self.store).snapshot())
    }

    /// `RwLock<Arc<T>>`: read lock, clone the `Arc`, unlock, read (the lock is not held while
    /// the config is used).
    #[inline]
    pub fn read_rwlock_clone(&self) -> u32 {
        let current = black_box(&self.rwlock)
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        field(&current)
    }

    /// `RwLock<Arc<T>>`: read lock, read through the guard, unlock.
    #[inline]
    pub fn read_rwlock_held(&self) -> u32 {
        field(
            &black_box(&self.rwlock)
                .read()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }

    /// `Mutex<Arc<T>>`: lock, clone the `Arc`, unlock, read.
    #[inline]
    pub fn read_mutex_clone(&self) -> u32 {
        let current = black_box(&self.mutex)
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        field(&current)
    }

    /// `Mutex<Arc<T>>`: lock, read through the guard, unlock (the bare uncontended lock).
    #[inline]
    pub fn read_mutex_held(&self) -> u32 {
        field(
            &black_box(&self.mutex)
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }

    /// `parking_lot::RwLock<Arc<T>>`: read lock, clone the `Arc`, unlock, read.
    #[inline]
    pub fn read_parking_lot_clone(&self) -> u32 {
        let current = black_box(&self.parking_lot).read().clone();
        field(&current)
    }

    /// A new snapshot for an alternative to swap in: the same clone work [`Store::publish`]
    /// does for ours.
    pub fn next_snapshot(&self) -> Arc<Snapshot<BenchConfig>> {
        self.scratch
            .publish(self.config.clone(), self.values.clone(), None)
            .1
    }

    /// Ours: publish a new snapshot.
    pub fn swap_store(&self) {
        let replaced = self
            .store
            .publish(self.config.clone(), self.values.clone(), None);
        drop(replaced);
    }

    /// `RwLock`: write lock, replace, unlock, then drop the old snapshot.
    pub fn swap_rwlock(&self) {
        let next = self.next_snapshot();
        let old = std::mem::replace(
            &mut *self.rwlock.write().unwrap_or_else(PoisonError::into_inner),
            next,
        );
        drop(old);
    }

    /// `Mutex`: lock, replace, unlock, then drop the old snapshot.
    pub fn swap_mutex(&self) {
        let next = self.next_snapshot();
        let old = std::mem::replace(
            &mut *self.mutex.lock().unwrap_or_else(PoisonError::into_inner),
            next,
        );
        drop(old);
    }

    /// `parking_lot::RwLock`: write lock, replace, unlock, then drop the old snapshot.
    pub fn swap_parking_lot(&self) {
        let next = self.next_snapshot();
        let old = std::mem::replace(&mut *self.parking_lot.write(), next);
        drop(old);
    }
}

/// Ours through the cached handle: one atomic load and a compare while nothing changed.
#[inline]
pub fn read_handle(handle: &mut ReadHandle<BenchConfig>) -> u32 {
    field(black_box(handle).load())
}

/// The field every read reads.
#[inline]
fn field(snapshot: &Snapshot<BenchConfig>) -> u32 {
    snapshot.detection.min_edge_score
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_contender_reads_the_same_field_before_and_after_a_swap() {
        let contenders = Contenders::new();
        let mut handle = contenders.handle();
        let reads = |contenders: &Contenders, handle: &mut ReadHandle<BenchConfig>| {
            [
                contenders.read_floor(),
                contenders.read_load(),
                contenders.read_snapshot(),
                read_handle(handle),
                contenders.read_rwlock_clone(),
                contenders.read_rwlock_held(),
                contenders.read_mutex_clone(),
                contenders.read_mutex_held(),
                contenders.read_parking_lot_clone(),
            ]
        };
        assert_eq!(reads(&contenders, &mut handle), [60; 9]);
        contenders.swap_store();
        contenders.swap_rwlock();
        contenders.swap_mutex();
        contenders.swap_parking_lot();
        assert_eq!(reads(&contenders, &mut handle), [60; 9]);
        assert_eq!(contenders.store.load().version(), 2);
    }
}
