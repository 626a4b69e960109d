//! Criterion benches of the config store: one read on one thread against a plain `Arc` and the
//! locks (figure 1 of `thorp-bench`), reads while another thread swaps flat out (the means of
//! figure 2), and the cost of a publish.
//!
//! `cargo bench -p thorp-ops --bench store`. Every contender holds the same snapshot and reads
//! the same field; see `thorp_bench::contenders` for what each one does.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use thorp_bench::contenders::{Contenders, read_handle};

fn read_one_thread(c: &mut Criterion) {
    let contenders = Contenders::new();
    let mut handle = contenders.handle();
    let mut group = c.benchmark_group("read_1_thread");
    group.bench_function("arc_deref_floor", |b| b.iter(|| contenders.read_floor()));
    group.bench_function("read_handle", |b| b.iter(|| read_handle(&mut handle)));
    group.bench_function("store_load", |b| b.iter(|| contenders.read_load()));
    group.bench_function("store_snapshot", |b| b.iter(|| contenders.read_snapshot()));
    group.bench_function("mutex_lock_read", |b| {
        b.iter(|| contenders.read_mutex_held())
    });
    group.bench_function("mutex_arc_clone", |b| {
        b.iter(|| contenders.read_mutex_clone())
    });
    group.bench_function("rwlock_read", |b| b.iter(|| contenders.read_rwlock_held()));
    group.bench_function("rwlock_arc_clone", |b| {
        b.iter(|| contenders.read_rwlock_clone())
    });
    group.bench_function("parking_lot_arc_clone", |b| {
        b.iter(|| contenders.read_parking_lot_clone())
    });
    group.finish();
}

/// A thread swapping one contender as fast as it can until dropped.
struct Writer {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Writer {
    fn start(contenders: &Arc<Contenders>, swap: fn(&Contenders)) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (stop, contenders) = (stop.clone(), contenders.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    swap(&contenders);
                }
            })
        };
        Self {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            // A writer that panicked has already said so on stderr.
            let _ = thread.join();
        }
    }
}

fn read_while_writer_swaps(c: &mut Criterion) {
    let contenders = Arc::new(Contenders::new());
    let mut group = c.benchmark_group("read_while_writer_swaps");
    {
        let _writer = Writer::start(&contenders, Contenders::swap_store);
        group.bench_function("store_load", |b| b.iter(|| contenders.read_load()));
        let mut handle = contenders.handle();
        group.bench_function("read_handle", |b| b.iter(|| read_handle(&mut handle)));
    }
    {
        let _writer = Writer::start(&contenders, Contenders::swap_rwlock);
        group.bench_function("rwlock_arc_clone", |b| {
            b.iter(|| contenders.read_rwlock_clone())
        });
    }
    {
        let _writer = Writer::start(&contenders, Contenders::swap_mutex);
        group.bench_function("mutex_arc_clone", |b| {
            b.iter(|| contenders.read_mutex_clone())
        });
    }
    {
        let _writer = Writer::start(&contenders, Contenders::swap_parking_lot);
        group.bench_function("parking_lot_arc_clone", |b| {
            b.iter(|| contenders.read_parking_lot_clone())
        });
    }
    group.finish();
}

fn publish(c: &mut Criterion) {
    let contenders = Contenders::new();
    let mut group = c.benchmark_group("publish");
    // Clones the 40-key config and its values, swaps, drops the old snapshot: what a reload's
    // swap costs, beside the same work under the locks.
    group.bench_function("store_publish", |b| b.iter(|| contenders.swap_store()));
    group.bench_function("rwlock_write", |b| b.iter(|| contenders.swap_rwlock()));
    group.bench_function("mutex_lock", |b| b.iter(|| contenders.swap_mutex()));
    group.finish();
    black_box(contenders);
}

criterion_group!(benches, read_one_thread, read_while_writer_swaps, publish);
criterion_main!(benches);
