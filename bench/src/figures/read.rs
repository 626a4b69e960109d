//! Figure 1: the cost of one read on one thread, ours against a plain `Arc` and the locks.
//!
//! Each variant runs in batches sized to [`Plan::read_batch_time`]; the variants take turns
//! batch by batch (in a rotating order), so a burst of noise from another process lands on all
//! of them alike, and the median batch of each is reported.

use crate::contenders::{Contenders, read_handle};
use crate::measure::{calibrate, median, per_call_ns};
use crate::plan::Plan;
use crate::report::{Cell, Quantity, Row};
use serde::Serialize;

/// The read paths timed, in table order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
enum Variant {
    Floor,
    Handle,
    Load,
    Snapshot,
    MutexHeld,
    MutexClone,
    RwLockHeld,
    RwLockClone,
    ParkingLotClone,
}

const VARIANTS: [Variant; 9] = [
    Variant::Floor,
    Variant::Handle,
    Variant::Load,
    Variant::Snapshot,
    Variant::MutexHeld,
    Variant::MutexClone,
    Variant::RwLockHeld,
    Variant::RwLockClone,
    Variant::ParkingLotClone,
];

impl Variant {
    fn label(self) -> &'static str {
        match self {
            Self::Floor => "Arc<T> deref (floor)",
            Self::Handle => "ReadHandle::load",
            Self::Load => "Store::load",
            Self::Snapshot => "Store::snapshot",
            Self::MutexHeld => "Mutex lock+read",
            Self::MutexClone => "Mutex<Arc> clone",
            Self::RwLockHeld => "RwLock read",
            Self::RwLockClone => "RwLock<Arc> clone",
            Self::ParkingLotClone => "parking_lot<Arc> clone",
        }
    }
}

/// Measures figure 1 and returns its rows.
pub fn run(plan: &Plan) -> Vec<Row> {
    let contenders = Contenders::new();
    let mut handle = contenders.handle();
    // Each arm is its own monomorphized loop: no indirect call inside a timed batch.
    let mut time = |variant: Variant, iters: Option<u64>| -> (u64, f64) {
        let target = plan.read_batch_time;
        macro_rules! timed {
            ($op:expr) => {{
                let iters = iters.unwrap_or_else(|| calibrate(target, || $op));
                (iters, per_call_ns(iters, || $op))
            }};
        }
        match variant {
            Variant::Floor => timed!(contenders.read_floor()),
            Variant::Handle => timed!(read_handle(&mut handle)),
            Variant::Load => timed!(contenders.read_load()),
            Variant::Snapshot => timed!(contenders.read_snapshot()),
            Variant::MutexHeld => timed!(contenders.read_mutex_held()),
            Variant::MutexClone => timed!(contenders.read_mutex_clone()),
            Variant::RwLockHeld => timed!(contenders.read_rwlock_held()),
            Variant::RwLockClone => timed!(contenders.read_rwlock_clone()),
            Variant::ParkingLotClone => timed!(contenders.read_parking_lot_clone()),
        }
    };
    // Calibration doubles as warm-up.
    let iters: Vec<u64> = VARIANTS.iter().map(|&v| time(v, None).0).collect();
    let mut samples: Vec<Vec<f64>> = vec![Vec::with_capacity(plan.read_batches); VARIANTS.len()];
    for batch in 0..plan.read_batches {
        for turn in 0..VARIANTS.len() {
            let index = (batch + turn) % VARIANTS.len();
            samples[index].push(time(VARIANTS[index], Some(iters[index])).1);
        }
    }
    let ns: Vec<f64> = samples.iter_mut().map(|batch| median(batch)).collect();
    let cell = |variant: Variant| {
        let index = VARIANTS.iter().position(|&v| v == variant).unwrap_or(0);
        Cell::new(variant.label(), Quantity::Nanos(ns[index]))
    };
    let floor = cell(Variant::Floor);
    let mutex = cell(Variant::MutexHeld);
    let handle_row = Row::new(1, "read + field, 1 thread", cell(Variant::Handle))
        .alternative(floor.clone())
        .times("floor", floor.quantity);
    let handle_met = handle_row.ratio_value() <= 4.0;
    let load_row = Row::new(1, "read + field, 1 thread", cell(Variant::Load))
        .alternative(mutex.clone())
        .alternative(cell(Variant::RwLockHeld))
        .alternative(cell(Variant::MutexClone))
        .alternative(cell(Variant::RwLockClone))
        .alternative(cell(Variant::ParkingLotClone))
        .times("Mutex lock", mutex.quantity);
    let load_met = load_row.ratio_value() <= 1.2;
    let owned = cell(Variant::MutexClone);
    let snapshot_row = Row::new(1, "owned Arc + field, 1 thread", cell(Variant::Snapshot))
        .alternative(owned.clone())
        .alternative(cell(Variant::RwLockClone))
        .alternative(cell(Variant::ParkingLotClone))
        .times("Mutex<Arc> clone", owned.quantity);
    vec![
        handle_row.goal("<= 4x floor", handle_met),
        load_row.goal("<= 1.2x Mutex lock", load_met),
        snapshot_row,
    ]
}
