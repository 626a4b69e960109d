//! Figure 5: one health cycle with 1, 100, 1,000 and 10,000 components, and the memory a full
//! history of 100 reports holds.
//!
//! Every component is a `#[health_component]` stats type with four rules (what a queue or a
//! pool reports), checked the way the monitor checks: polled once on the monitor's task under
//! the cycle's check timeout (a stats check is ready then; one that waits would move to a task
//! of its own), the process probe on the blocking pool, then the report recorded in the
//! history, published and run through the alert rules. A cycle is timed from
//! `HealthMonitor::start` (which checks at once) to the report's arrival on the monitor's watch
//! channel; the monitor is stopped between cycles, which keeps its history. The alternative is
//! the floor any monitor has: the same stats evaluated in a plain loop, no tasks, no timeout,
//! no history.
//!
//! History memory is the heap the history's reports hold, counted from their fields'
//! capacities (what the allocator was asked for; its own per-allocation overhead is not
//! included), scaled to a full history where a short plan recorded fewer reports.

use crate::measure::{Distribution, nanos_u32};
use crate::plan::Plan;
use crate::report::{Cell, Quantity, Row};
use std::borrow::Cow;
use std::hint::black_box;
use std::mem::size_of;
use std::time::{Duration, Instant};
use thorp_ops::health::{
    CheckContext, ComponentReport, HealthMonitor, HealthReport, HealthStats, Metric, MetricValue,
    MonitorSettings, Violation, stats_fn,
};
use thorp_ops::health_component;

/// What each benchmark component reports: a queue with its latency and errors.
#[health_component(name = "queue")]
#[derive(Clone, Copy)]
pub struct QueueStats {
    /// Items waiting.
    #[health(degraded_above = 1000, issue = "QUEUE_DEEP")]
    #[health(critical_above = 10000, issue = "QUEUE_FULL")]
    pub depth: u64,
    /// 99th percentile of handling time.
    #[health(degraded_above = 250.0, issue = "QUEUE_SLOW")]
    pub p99_latency_ms: f64,
    /// Share of items that failed.
    #[health(degraded_above = 0.05, issue = "QUEUE_ERRORS")]
    pub error_ratio: f64,
}

/// A healthy reading, varied a little by component so no two are the same value.
fn stats(index: usize) -> QueueStats {
    QueueStats {
        depth: (index % 97) as u64,
        p99_latency_ms: 12.5 + (index % 13) as f64,
        error_ratio: 0.001,
    }
}

/// The reports' history length the figure fills (the monitor's default).
const HISTORY: usize = 100;

/// Measures figure 5 and returns its rows and notes.
pub fn run(plan: &Plan) -> (Vec<Row>, Vec<String>) {
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    let runtime = match crate::measure::runtime() {
        Ok(runtime) => runtime,
        Err(error) => {
            notes.push(format!("figure 5 not measured: no tokio runtime: {error}"));
            return (rows, notes);
        }
    };
    for components in [1, 100, 1_000, 10_000] {
        // Enough cycles to fill the history in the full plan; fewer where a cycle is long.
        let cycles = plan.health_cycles.max(1);
        match runtime.block_on(measure(components, cycles)) {
            Ok(measured) => {
                rows.extend(rows_for(components, &measured));
                if measured.history_len < HISTORY {
                    notes.push(format!(
                        "figure 5, {components} components: history memory scaled from {} \
                         reports to {HISTORY}",
                        measured.history_len
                    ));
                }
            }
            Err(error) => notes.push(format!(
                "figure 5, {components} components: not measured: {error}"
            )),
        }
    }
    (rows, notes)
}

struct Measured {
    cycle: Distribution,
    floor: Distribution,
    history_bytes: f64,
    history_len: usize,
}

fn rows_for(components: usize, measured: &Measured) -> Vec<Row> {
    let label = |count: usize| match count {
        1 => "1 component".to_owned(),
        count => format!("{} components", thousands(count)),
    };
    let mut rows = Vec::new();
    for (name, pick) in [
        ("p50", (|d| d.p50) as fn(&Distribution) -> f64),
        ("p99", |d| d.p99),
    ] {
        let ours = Quantity::Nanos(pick(&measured.cycle));
        let floor = Quantity::Nanos(pick(&measured.floor));
        let mut row = Row::new(
            5,
            format!("health cycle, {}: {name}", label(components)),
            Cell::new("HealthMonitor", ours),
        )
        .alternative(Cell::new("evaluate in a loop", floor))
        .times("loop", floor);
        if components == 1_000 && name == "p50" {
            row = row.goal("< 250 us", ours.value() < 250_000.0);
        }
        rows.push(row);
    }
    let per_component = measured.history_bytes / components as f64;
    rows.push(
        Row::new(
            5,
            format!("history of {HISTORY} reports, {}", label(components)),
            Cell::new("heap held", Quantity::Bytes(measured.history_bytes)),
        )
        .alternative(Cell::new("per component", Quantity::Bytes(per_component)))
        .alternative(Cell::new(
            "per component and report",
            Quantity::Bytes(per_component / HISTORY as f64),
        )),
    );
    rows
}

fn thousands(count: usize) -> String {
    match count {
        10_000 => "10,000".to_owned(),
        1_000 => "1,000".to_owned(),
        count => count.to_string(),
    }
}

async fn measure(components: usize, cycles: usize) -> Result<Measured, String> {
    let mut builder = HealthMonitor::builder()
        .settings(MonitorSettings {
            // Cycles are started by hand; the interval never comes round.
            check_interval: Duration::from_secs(3600),
            history_len: HISTORY,
            ..MonitorSettings::default()
        })
        .without_log_sink();
    for index in 0..components {
        let reading = stats(index);
        builder = builder.component(stats_fn(move || reading).named(format!("queue{index}")));
    }
    let monitor = builder.build().map_err(|error| error.to_string())?;
    let mut latest = monitor.subscribe();
    let mut cycle = Vec::with_capacity(cycles);
    // One untimed cycle first: the runtime's blocking pool and task slabs warm up.
    for trial in 0..=cycles {
        latest.borrow_and_update();
        let started = Instant::now();
        monitor.start().map_err(|error| error.to_string())?;
        latest.changed().await.map_err(|error| error.to_string())?;
        let took = started.elapsed();
        monitor.stop().await;
        if trial > 0 {
            cycle.push(nanos_u32(took));
        }
    }
    let history = monitor.history();
    let history_len = history.len().max(1);
    let held: usize = history.iter().map(|report| report_bytes(report)).sum();
    let history_bytes = held as f64 * HISTORY as f64 / history_len as f64;

    let readings: Vec<QueueStats> = (0..components).map(stats).collect();
    let ctx = CheckContext::default();
    let mut floor = Vec::with_capacity(cycles);
    for _ in 0..cycles {
        let started = Instant::now();
        let evaluated: Vec<_> = readings
            .iter()
            .map(|reading| reading.evaluate(&ctx))
            .collect();
        black_box(evaluated);
        floor.push(nanos_u32(started.elapsed()));
    }
    Ok(Measured {
        cycle: Distribution::of(&mut cycle),
        floor: Distribution::of(&mut floor),
        history_bytes,
        history_len,
    })
}

/// Heap bytes one report holds (its `Arc` allocation included), from its fields' capacities.
fn report_bytes(report: &HealthReport) -> usize {
    // The `Arc`'s two counts and the report itself.
    let mut bytes = 2 * size_of::<usize>() + size_of::<HealthReport>();
    bytes += report.components.capacity() * size_of::<ComponentReport>();
    for component in &report.components {
        bytes += cow(&component.name);
        let health = &component.health;
        bytes += health.issue.as_ref().map_or(0, cow);
        bytes += health.details.as_ref().map_or(0, String::capacity);
        bytes += health.error.as_ref().map_or(0, String::capacity);
        bytes += health.violations.capacity() * size_of::<Violation>();
        for violation in &health.violations {
            bytes += cow(&violation.issue) + violation.details.capacity() + cow(&violation.metric);
        }
        bytes += health.metrics.capacity() * size_of::<Metric>();
        for metric in &health.metrics {
            bytes += cow(&metric.name);
            if let MetricValue::Text(text) = &metric.value {
                bytes += cow(text);
            }
        }
    }
    let system = &report.system;
    bytes +=
        system.issue.as_ref().map_or(0, cow) + system.details.as_ref().map_or(0, String::capacity);
    bytes
}

/// Heap bytes of a `Cow<str>`: none when it borrows a `'static` string.
#[allow(
    clippy::ptr_arg,
    reason = "whether the Cow owns its text is what is counted"
)]
fn cow(text: &Cow<'static, str>) -> usize {
    match text {
        Cow::Borrowed(_) => 0,
        Cow::Owned(owned) => owned.capacity(),
    }
}
