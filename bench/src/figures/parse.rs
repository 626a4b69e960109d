//! Figure 4: parsing and validating the 40-key file, ours against `dotenvy` + `envy` with the
//! same checks, and a whole reload, ours against the same alternative done by hand.
//!
//! Parses are timed one by one (tens of microseconds each, so the timer's ~20 ns is noise),
//! the two parsers alternating call by call. A whole reload is `ReloadHandle::reload()`: read
//! the file on the blocking pool, parse, validate, diff against the current snapshot, check
//! vetoes, swap, route the changes to nine subscribers and record the attempt; beside it, the
//! same reload of a second file with no subscriber. Its alternative reads the file, runs the
//! `dotenvy` + `envy` path and swaps an `RwLock<Arc<T>>`. Each path reads a file saved just
//! before its clock starts (on tmpfs where there is one, as figure 3).

use crate::measure::{Distribution, RunQueueClock, nanos_u32};
use crate::plan::Plan;
use crate::report::{Cell, Quantity, Row};
use crate::workload::{BenchConfig, FILE, changed_file, dotenvy_envy};
use std::hint::black_box;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};
use thorp_ops::config::{HotReload, Outcome, ReloadOptions, from_bytes};
use thorp_ops::envfile::{self, ParseOptions};

/// Measures figure 4 and returns its rows and notes.
pub fn run(plan: &Plan) -> (Vec<Row>, Vec<String>) {
    let mut notes = Vec::new();
    let mut rows = parse_rows(plan);
    match reload_rows(plan) {
        Ok(reload) => rows.extend(reload),
        Err(error) => notes.push(format!("figure 4, whole reload: not measured: {error}")),
    }
    (rows, notes)
}

fn ours(bytes: &[u8]) -> bool {
    from_bytes::<BenchConfig>(bytes, None, &ParseOptions::new()).is_ok()
}

fn theirs(bytes: &[u8]) -> bool {
    dotenvy_envy(bytes).is_ok()
}

fn tokenize_ours(bytes: &[u8]) -> bool {
    envfile::parse_bytes(bytes, &ParseOptions::new()).is_ok()
}

fn tokenize_theirs(bytes: &[u8]) -> bool {
    dotenvy::from_read_iter(bytes).all(|entry| entry.is_ok())
}

/// Both timings of one parser: by the clock, and less the time its thread sat off CPU.
struct Timed {
    wall: Distribution,
    on_cpu: Distribution,
}

/// Times `a` and `b` on the workload file, alternating call by call.
fn alternating(iters: usize, a: fn(&[u8]) -> bool, b: fn(&[u8]) -> bool) -> [Timed; 2] {
    let bytes = FILE.as_bytes();
    for _ in 0..(iters / 10).max(10) {
        black_box(a(black_box(bytes)));
        black_box(b(black_box(bytes)));
    }
    let clock = RunQueueClock::of_this_thread();
    let mut wall = [Vec::with_capacity(iters), Vec::with_capacity(iters)];
    let mut on_cpu = [Vec::with_capacity(iters), Vec::with_capacity(iters)];
    for _ in 0..iters {
        for (index, parse) in [a, b].into_iter().enumerate() {
            let waited = clock.waited_ns();
            let started = Instant::now();
            let ok = parse(black_box(bytes));
            let took = started.elapsed();
            let off_cpu = Duration::from_nanos(clock.waited_ns().saturating_sub(waited));
            black_box(ok);
            wall[index].push(nanos_u32(took));
            on_cpu[index].push(nanos_u32(took.saturating_sub(off_cpu)));
        }
    }
    let [mut wall_a, mut wall_b] = wall;
    let [mut cpu_a, mut cpu_b] = on_cpu;
    [
        Timed {
            wall: Distribution::of(&mut wall_a),
            on_cpu: Distribution::of(&mut cpu_a),
        },
        Timed {
            wall: Distribution::of(&mut wall_b),
            on_cpu: Distribution::of(&mut cpu_b),
        },
    ]
}

fn parse_rows(plan: &Plan) -> Vec<Row> {
    let [ours, theirs] = alternating(plan.parse_iters, ours, theirs);
    let [ours_tokens, theirs_tokens] =
        alternating(plan.parse_iters, tokenize_ours, tokenize_theirs);
    type Pick = fn(&Timed) -> f64;
    let measures: [(&str, Pick); 3] = [
        ("p50", |t| t.wall.p50),
        ("p99", |t| t.wall.p99),
        ("p99 less time off CPU", |t| t.on_cpu.p99),
    ];
    let mut rows = Vec::new();
    for (name, pick) in measures {
        let (mine, alternative) = (Quantity::Nanos(pick(&ours)), Quantity::Nanos(pick(&theirs)));
        let row = Row::new(
            4,
            format!("parse + validate 40 keys: {name}"),
            Cell::new("from_bytes", mine),
        )
        .alternative(Cell::new("dotenvy+envy+checks", alternative))
        .times("dotenvy+envy", alternative);
        rows.push(if name == "p50" {
            row.goal(
                "faster than dotenvy+envy",
                mine.value() < alternative.value(),
            )
        } else {
            row
        });
    }
    let (mine, alternative) = (
        Quantity::Nanos(ours_tokens.wall.p50),
        Quantity::Nanos(theirs_tokens.wall.p50),
    );
    rows.push(
        Row::new(
            4,
            "tokenize only (.env reader): p50",
            Cell::new("envfile::parse", mine),
        )
        .alternative(Cell::new("dotenvy iter", alternative))
        .times("dotenvy", alternative),
    );
    rows
}

fn reload_rows(plan: &Plan) -> Result<Vec<Row>, String> {
    let runtime = crate::measure::runtime()?;
    let dir = super::reload::Storage::fastest().dir()?;
    let path = dir.path().join("app.env");
    let alone_path = dir.path().join("alone.env");
    for path in [&path, &alone_path] {
        std::fs::write(path, changed_file(0)).map_err(|error| error.to_string())?;
    }
    let iters = plan.reload_iters;
    let (ours, alone, theirs) = runtime.block_on(async {
        let start =
            |path| HotReload::<BenchConfig>::start(path, ReloadOptions::default().watch(false));
        let config = start(&path).await.map_err(|errors| errors.to_string())?;
        super::reload::subscribe_quietly(&config);
        // The same reload with no one to notify: what routing and waking nine costs.
        let lonely = start(&alone_path)
            .await
            .map_err(|errors| errors.to_string())?;
        let current = dotenvy_envy(FILE.as_bytes()).map_err(|errors| errors.join("; "))?;
        let swapped = RwLock::new(Arc::new(current));
        let (mut ours, mut theirs) = (Vec::with_capacity(iters), Vec::with_capacity(iters));
        let mut alone = Vec::with_capacity(iters);
        let warm_up = (iters / 10).max(2);
        for trial in 1..=iters + warm_up {
            // A changed file each time, saved before the clock starts, so every reload applies
            // and each of the two reads a file just written, as a real reload does.
            let save = |path: &std::path::Path, generation: u64| {
                std::fs::write(path, changed_file(generation)).map_err(|error| error.to_string())
            };
            save(&path, trial as u64)?;
            let started = Instant::now();
            let record = config.reload().await;
            let took = started.elapsed();
            save(&alone_path, trial as u64)?;
            let started = Instant::now();
            let lonely_record = lonely.reload().await;
            let took_alone = started.elapsed();
            for record in [&record, &lonely_record] {
                if record.outcome != Outcome::Applied {
                    return Err(format!("reload {trial} was {:?}", record.outcome));
                }
            }
            save(&path, trial as u64 + 1)?;
            let started = Instant::now();
            let bytes = std::fs::read(&path).map_err(|error| error.to_string())?;
            let next = dotenvy_envy(&bytes).map_err(|errors| errors.join("; "))?;
            let old = std::mem::replace(
                &mut *swapped.write().unwrap_or_else(PoisonError::into_inner),
                Arc::new(next),
            );
            drop(old);
            let took_theirs = started.elapsed();
            if trial > warm_up {
                ours.push(nanos_u32(took));
                alone.push(nanos_u32(took_alone));
                theirs.push(nanos_u32(took_theirs));
            }
        }
        Ok::<_, String>((
            Distribution::of(&mut ours),
            Distribution::of(&mut alone),
            Distribution::of(&mut theirs),
        ))
    })?;
    let mut rows = Vec::new();
    for (name, pick) in [
        ("p50", (|d| d.p50) as fn(&Distribution) -> f64),
        ("p99", |d| d.p99),
    ] {
        let (mine, alternative) = (Quantity::Nanos(pick(&ours)), Quantity::Nanos(pick(&theirs)));
        let row = Row::new(
            4,
            format!("whole reload, 40 keys: {name}"),
            Cell::new("reload()", mine),
        )
        .alternative(Cell::new(
            "reload(), no subscribers",
            Quantity::Nanos(pick(&alone)),
        ))
        .alternative(Cell::new("read+dotenvy+envy+swap", alternative))
        .times("by hand", alternative);
        rows.push(if name == "p99" {
            row.goal("<= 30 us", mine.value() <= 30_000.0)
        } else {
            row
        });
    }
    Ok(rows)
}
