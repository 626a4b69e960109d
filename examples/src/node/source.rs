//! Where a component reads its settings: a cheap call on every use, so a reload shows at once.
//!
//! [`SettingsSource`] is implemented for any `Fn() -> Arc<T>`, which is how the `thorp-ops`
//! config store plugs in (`move || store.load().detection.clone()` or a projection), and for
//! [`SharedSettings`], a standalone lock-free cell for tests and programs without the store.

use std::sync::Arc;

use arc_swap::ArcSwap;

/// A source of the current settings of type `T`. Called on the hot path: implementations
/// must be cheap and must not block (a lock-free load and an `Arc` clone).
pub trait SettingsSource<T>: Send + Sync {
    /// The settings in force now.
    fn current(&self) -> Arc<T>;
}

impl<T, F> SettingsSource<T> for F
where
    F: Fn() -> Arc<T> + Send + Sync,
{
    fn current(&self) -> Arc<T> {
        self()
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
}
