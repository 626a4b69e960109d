//! The `thorp-bench` program's workings: thorp-ops measured side by side with what a user would
//! otherwise pick, every figure in one run, so ratios are taken under the same noise.
//!
//! | figure | what | alternatives |
//! |---|---|---|
//! | 1 | one read on one thread | `Arc<T>` deref (floor), `Mutex`, `RwLock`, `parking_lot::RwLock` |
//! | 2 | reads while a writer swaps, tight and once per ms | the same locks, and the timer alone |
//! | 3 | a file save to every subscriber notified | a bare `notify` watcher (the floor) |
//! | 4 | parse and validate a 40-key file; a whole reload | `dotenvy` + `envy` + the same checks |
//! | 5 | one health cycle, 1 to 10,000 components; history memory | the same checks in a plain loop |
//! | 6 | `/health` and `/metrics`, 50 connections, 20,000 requests | a bare axum route, same bytes |
//!
//! `cargo run --release -p thorp-bench` runs the full plan and prints one table; `--json`
//! prints the same as one JSON document, `--quick` a shorter run. The criterion benches of
//! `thorp-ops` use [`contenders`] and [`workload`] too.

pub mod contenders;
pub mod figures;
pub mod measure;
pub mod plan;
pub mod report;
pub mod workload;

use plan::Plan;
use report::{Machine, Report};
use std::time::Instant;

/// Runs every figure of `plan`, telling `progress` which one starts.
pub fn run(plan: &Plan, mut progress: impl FnMut(&str)) -> Report {
    let started = Instant::now();
    let mut machine = Machine::describe();
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    progress("figure 1: read cost, one thread");
    rows.extend(figures::read::run(plan));
    progress("figure 2: reads while a writer swaps");
    let (contended, contended_notes) = figures::contended::run(plan);
    rows.extend(contended);
    notes.extend(contended_notes);
    progress("figure 3: file save to every subscriber notified");
    let (reload, reload_notes) = figures::reload::run(plan);
    rows.extend(reload);
    notes.extend(reload_notes);
    progress("figure 4: parse and validate 40 keys; whole reload");
    let (parse, parse_notes) = figures::parse::run(plan);
    rows.extend(parse);
    notes.extend(parse_notes);
    progress("figure 5: health cycle and history memory");
    let (health, health_notes) = figures::health::run(plan);
    rows.extend(health);
    notes.extend(health_notes);
    progress("figure 6: /health and /metrics under load");
    let (endpoints, endpoint_notes) = figures::endpoints::run(plan);
    rows.extend(endpoints);
    notes.extend(endpoint_notes);
    machine.finish();
    Report {
        plan: plan.name.to_owned(),
        machine,
        seconds: started.elapsed().as_secs_f64(),
        rows,
        notes,
    }
}
