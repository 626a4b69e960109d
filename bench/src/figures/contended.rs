//! Figure 2: single reads timed one by one while a writer on the other core swaps the config,
//! flat out and once per millisecond, for ours and the locks, with a timer-only row.
//!
//! Each read is timed with a pair of `Instant::now()` calls; the timer-only variant times an
//! empty pair under the same conditions, so its row is the cost and the noise of the timer
//! itself. A writer thread swaps the variant under test (the timer-only variant's writer swaps
//! our store). Every (writer, variant) pair takes one short turn per round, so a noisy stretch
//! of the machine lands on all of them alike, and the reader's preemptions (time runnable but
//! off CPU) are counted: on a shared 2-core machine they, not the read, make the largest
//! timings.

use crate::contenders::{Contenders, read_handle};
use crate::measure::{Distribution, Preemption, nanos_u32};
use crate::plan::Plan;
use crate::report::{Cell, Quantity, Row};
use std::hint::black_box;
use std::sync::Barrier;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// What the writer does while the reader reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Writer {
    None,
    EveryMillisecond,
    Tight,
}

impl Writer {
    fn label(self) -> &'static str {
        match self {
            Self::None => "no writer",
            Self::EveryMillisecond => "1 swap/ms",
            Self::Tight => "tight writer",
        }
    }
}

/// The read paths timed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Variant {
    Load,
    Handle,
    RwLock,
    Mutex,
    ParkingLot,
    TimerOnly,
}

const VARIANTS: [Variant; 6] = [
    Variant::Load,
    Variant::Handle,
    Variant::RwLock,
    Variant::Mutex,
    Variant::ParkingLot,
    Variant::TimerOnly,
];

impl Variant {
    fn label(self) -> &'static str {
        match self {
            Self::Load => "Store::load",
            Self::Handle => "ReadHandle",
            Self::RwLock => "RwLock<Arc>",
            Self::Mutex => "Mutex<Arc>",
            Self::ParkingLot => "parking_lot<Arc>",
            Self::TimerOnly => "timer only",
        }
    }
}

/// One variant under one writer: the reads' distribution and the conditions.
struct Measured {
    reads: Distribution,
    swaps_per_second: f64,
    preemption: Preemption,
}

/// Measures figure 2 and returns its rows and notes.
pub fn run(plan: &Plan) -> (Vec<Row>, Vec<String>) {
    let contenders = Contenders::new();
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    let mut baseline: Option<Vec<Measured>> = None;
    for (writer, measured) in WRITERS.into_iter().zip(measure(&contenders, plan)) {
        let preempted: Vec<String> = VARIANTS
            .iter()
            .zip(&measured)
            .map(|(variant, measured)| {
                let waited = Quantity::Nanos(measured.preemption.waited_ns as f64);
                let swaps = Quantity::PerSecond(measured.swaps_per_second);
                match writer {
                    Writer::None => format!(
                        "{} {}x/{waited}",
                        variant.label(),
                        measured.preemption.switches
                    ),
                    _ => format!(
                        "{} {}x/{waited}, {swaps}",
                        variant.label(),
                        measured.preemption.switches
                    ),
                }
            })
            .collect();
        notes.push(format!(
            "figure 2, {}: reader preempted (times/time off CPU){}: {}",
            writer.label(),
            if writer == Writer::None {
                ""
            } else {
                ", writer swaps"
            },
            preempted.join("; ")
        ));
        rows.extend(rows_for(writer, &measured, baseline.as_deref()));
        if writer == Writer::None {
            baseline = Some(measured);
        }
    }
    (rows, notes)
}

fn rows_for(writer: Writer, measured: &[Measured], baseline: Option<&[Measured]>) -> Vec<Row> {
    type Pick = fn(&Distribution) -> Quantity;
    let metrics: [(&str, Pick); 6] = [
        ("mean", |d| Quantity::Nanos(d.mean)),
        ("p50", |d| Quantity::Nanos(d.p50)),
        ("p99", |d| Quantity::Nanos(d.p99)),
        ("p99.9", |d| Quantity::Nanos(d.p999)),
        ("max", |d| Quantity::Nanos(d.max)),
        ("share > 1 us", |d| Quantity::Share(d.over_1us)),
    ];
    let mut rows = Vec::new();
    for (name, pick) in metrics {
        let ours = pick(&measured[0].reads);
        let mut row = Row::new(
            2,
            format!("{}: {name}", writer.label()),
            Cell::new(Variant::Load.label(), ours),
        );
        let alone = baseline.map(|baseline| pick(&baseline[0].reads));
        if let Some(alone) = alone {
            row = row.alternative(Cell::new("ours, no writer", alone));
        }
        for (variant, measured) in VARIANTS.iter().zip(measured).skip(1) {
            row = row.alternative(Cell::new(variant.label(), pick(&measured.reads)));
        }
        let rwlock = pick(&measured[2].reads);
        row = match (writer, alone, ours) {
            (Writer::EveryMillisecond, Some(alone), Quantity::Nanos(_)) => {
                row.delta("no writer", alone)
            }
            _ if rwlock.value() > 0.0 => row.times("RwLock", rwlock),
            _ => row,
        };
        row = match (writer, name) {
            (Writer::Tight, "mean") => row.goal("< 300 ns", ours.value() < 300.0),
            (Writer::Tight, "p99.9") => row.goal("< 1.5 us", ours.value() < 1500.0),
            (Writer::EveryMillisecond, "p50" | "p99" | "p99.9") => {
                let delta = alone.map_or(f64::INFINITY, |alone| ours.value() - alone.value());
                row.goal("within 10 ns of no writer", delta.abs() <= 10.0)
            }
            _ => row,
        };
        rows.push(row);
    }
    rows
}

const WRITERS: [Writer; 3] = [Writer::None, Writer::EveryMillisecond, Writer::Tight];

/// Every variant under every writer; results by writer, in [`WRITERS`] order, then by variant,
/// in [`VARIANTS`] order. Each round runs every (writer, variant) pair once, in a rotating
/// order, so a noisy stretch of the machine lands on all of them alike: the comparison with
/// "no writer" is only fair if both were measured through the same noise.
fn measure(contenders: &Contenders, plan: &Plan) -> Vec<Vec<Measured>> {
    let pairs: Vec<(Writer, Variant)> = WRITERS
        .iter()
        .flat_map(|&writer| VARIANTS.iter().map(move |&variant| (writer, variant)))
        .collect();
    let capacity = plan.contended_reads * plan.contended_rounds;
    let mut samples: Vec<Vec<u32>> = pairs.iter().map(|_| Vec::with_capacity(capacity)).collect();
    let mut swaps = vec![(0_u64, Duration::ZERO); pairs.len()];
    let mut preemption = vec![Preemption::default(); pairs.len()];
    for round in 0..plan.contended_rounds {
        for turn in 0..pairs.len() {
            let index = (round * 7 + turn) % pairs.len();
            let (writer, variant) = pairs[index];
            let phase = phase(
                contenders,
                variant,
                writer,
                plan.contended_reads,
                &mut samples[index],
            );
            swaps[index].0 += phase.0;
            swaps[index].1 += phase.1;
            preemption[index] = preemption[index] + phase.2;
        }
    }
    let mut measured: Vec<Measured> = samples
        .iter_mut()
        .zip(swaps)
        .zip(preemption)
        .map(|((samples, (count, time)), preemption)| Measured {
            reads: Distribution::of(samples),
            swaps_per_second: if time.is_zero() {
                0.0
            } else {
                count as f64 / time.as_secs_f64()
            },
            preemption,
        })
        .collect();
    let mut by_writer = Vec::new();
    for _ in WRITERS {
        let rest = measured.split_off(VARIANTS.len().min(measured.len()));
        by_writer.push(std::mem::replace(&mut measured, rest));
    }
    by_writer
}

/// One stretch of `reads` timed reads of `variant` while `writer` runs on another thread;
/// returns the writer's swaps, how long it ran and the reader's preemption.
fn phase(
    contenders: &Contenders,
    variant: Variant,
    writer: Writer,
    reads: usize,
    samples: &mut Vec<u32>,
) -> (u64, Duration, Preemption) {
    let stop = AtomicBool::new(false);
    let swapped = AtomicU64::new(0);
    let started = Barrier::new(2);
    std::thread::scope(|scope| {
        let writing = (writer != Writer::None).then(|| {
            scope.spawn(|| {
                let swap = || match variant {
                    Variant::Load | Variant::Handle | Variant::TimerOnly => {
                        contenders.swap_store();
                    }
                    Variant::RwLock => contenders.swap_rwlock(),
                    Variant::Mutex => contenders.swap_mutex(),
                    Variant::ParkingLot => contenders.swap_parking_lot(),
                };
                swap();
                started.wait();
                let began = Instant::now();
                let mut next = began;
                let mut count = 1;
                while !stop.load(Ordering::Relaxed) {
                    if writer == Writer::EveryMillisecond {
                        next += Duration::from_millis(1);
                        let now = Instant::now();
                        match next.checked_duration_since(now) {
                            Some(wait) => std::thread::sleep(wait),
                            // Fell behind (preempted): keep the pace from now on.
                            None => next = now,
                        }
                    }
                    swap();
                    count += 1;
                }
                swapped.store(count, Ordering::Relaxed);
                began.elapsed()
            })
        });
        if writing.is_some() {
            started.wait();
        }
        let preemption = read(contenders, variant, reads, samples);
        stop.store(true, Ordering::Relaxed);
        let ran = writing
            .and_then(|writing| writing.join().ok())
            .unwrap_or_default();
        (swapped.load(Ordering::Relaxed), ran, preemption)
    })
}

/// Warms up, then times `reads` single reads of `variant` into `samples`.
fn read(
    contenders: &Contenders,
    variant: Variant,
    reads: usize,
    samples: &mut Vec<u32>,
) -> Preemption {
    let mut handle = contenders.handle();
    macro_rules! timed {
        ($op:expr) => {{
            for _ in 0..(reads / 10).max(100) {
                black_box($op);
            }
            let before = Preemption::now();
            for _ in 0..reads {
                let started = Instant::now();
                black_box($op);
                let took = started.elapsed();
                samples.push(nanos_u32(took));
            }
            Preemption::now().since(before)
        }};
    }
    match variant {
        Variant::Load => timed!(contenders.read_load()),
        Variant::Handle => timed!(read_handle(&mut handle)),
        Variant::RwLock => timed!(contenders.read_rwlock_clone()),
        Variant::Mutex => timed!(contenders.read_mutex_clone()),
        Variant::ParkingLot => timed!(contenders.read_parking_lot_clone()),
        Variant::TimerOnly => timed!(()),
    }
}
