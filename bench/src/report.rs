//! What a run produces: one row per measure with ours, each alternative, the ratio and the
//! goal, printed as one table or written as one JSON document.

use serde::Serialize;
use std::fmt::Write as _;

/// A measured quantity, in its base unit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "unit", content = "value", rename_all = "snake_case")]
pub enum Quantity {
    /// A time in nanoseconds.
    Nanos(f64),
    /// A share from 0 to 1.
    Share(f64),
    /// A size in bytes.
    Bytes(f64),
    /// Events per second.
    PerSecond(f64),
}

impl Quantity {
    /// The number, in the base unit.
    pub fn value(self) -> f64 {
        match self {
            Self::Nanos(value) | Self::Share(value) | Self::Bytes(value) => value,
            Self::PerSecond(value) => value,
        }
    }
}

impl std::fmt::Display for Quantity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Self::Nanos(ns) => f.write_str(&time(ns)),
            Self::Share(share) => write!(f, "{}%", significant(share * 100.0)),
            Self::Bytes(bytes) if bytes >= 1024.0 * 1024.0 => {
                write!(f, "{} MiB", significant(bytes / (1024.0 * 1024.0)))
            }
            Self::Bytes(bytes) if bytes >= 1024.0 => {
                write!(f, "{} KiB", significant(bytes / 1024.0))
            }
            Self::Bytes(bytes) => write!(f, "{} B", significant(bytes)),
            Self::PerSecond(rate) if rate >= 1e6 => write!(f, "{}M/s", significant(rate / 1e6)),
            Self::PerSecond(rate) if rate >= 1e3 => write!(f, "{}k/s", significant(rate / 1e3)),
            Self::PerSecond(rate) => write!(f, "{}/s", significant(rate)),
        }
    }
}

/// A time in the unit that reads best: `0.93 ns`, `41 ns`, `12.5 us`, `1.02 ms`, `2.1 s`.
fn time(ns: f64) -> String {
    let (value, unit) = if ns < 1e3 {
        (ns, "ns")
    } else if ns < 1e6 {
        (ns / 1e3, "us")
    } else if ns < 1e9 {
        (ns / 1e6, "ms")
    } else {
        (ns / 1e9, "s")
    };
    format!("{} {unit}", significant(value))
}

/// Three significant digits, without trailing noise: `0.934`, `41.2`, `412`, `4120`.
fn significant(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude == 0.0 {
        "0".to_owned()
    } else if magnitude < 0.01 {
        format!("{value:.4}")
    } else if magnitude < 1.0 {
        format!("{value:.3}")
    } else if magnitude < 10.0 {
        format!("{value:.2}")
    } else if magnitude < 100.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.0}")
    }
}

/// One value in a row, with what it is.
#[derive(Debug, Clone, Serialize)]
pub struct Cell {
    /// What was measured: `Store::load()`, `RwLock<Arc<T>> read + clone`.
    pub label: String,
    /// The figure.
    #[serde(flatten)]
    pub quantity: Quantity,
}

impl Cell {
    /// A cell.
    pub fn new(label: impl Into<String>, quantity: Quantity) -> Self {
        Self {
            label: label.into(),
            quantity,
        }
    }
}

/// How ours compares with a reference in the same row.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Ratio {
    /// Ours divided by the reference: `0.52x Mutex lock`.
    Times {
        /// The quotient.
        value: f64,
        /// The reference's label.
        of: String,
    },
    /// Ours less the reference, in nanoseconds: `+3.0 ns vs no writer`.
    DeltaNanos {
        /// The difference.
        value: f64,
        /// The reference's label.
        of: String,
    },
}

impl std::fmt::Display for Ratio {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Times { value, of } => write!(f, "{}x {of}", significant(*value)),
            Self::DeltaNanos { value, of } => {
                let sign = if *value >= 0.0 { "+" } else { "-" };
                write!(f, "{sign}{} vs {of}", time(value.abs()))
            }
        }
    }
}

/// A target a row is held to.
#[derive(Debug, Clone, Serialize)]
pub struct Goal {
    /// The goal as the issue states it: `<= 4x floor`.
    pub text: String,
    /// Whether this run met it.
    pub met: bool,
}

/// One measure: ours, the alternatives beside it, and the goal.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// The figure number (1-6).
    pub figure: u8,
    /// The measure: `read, 1 thread`, `tight writer: p99.9`.
    pub measure: String,
    /// Our figure.
    pub ours: Cell,
    /// The same measure for each alternative, in the same run.
    pub alternatives: Vec<Cell>,
    /// Ours against the reference the goal (or, without a goal, the first alternative) uses.
    pub ratio: Option<Ratio>,
    /// The goal, if the issue sets one for this measure.
    pub goal: Option<Goal>,
}

impl Row {
    /// A row without alternatives, ratio or goal yet.
    pub fn new(figure: u8, measure: impl Into<String>, ours: Cell) -> Self {
        Self {
            figure,
            measure: measure.into(),
            ours,
            alternatives: Vec::new(),
            ratio: None,
            goal: None,
        }
    }

    /// Adds an alternative.
    pub fn alternative(mut self, cell: Cell) -> Self {
        self.alternatives.push(cell);
        self
    }

    /// Sets the ratio of ours to the alternative labelled `of`.
    pub fn times(mut self, of: &str, reference: Quantity) -> Self {
        self.ratio = Some(Ratio::Times {
            value: self.ours.quantity.value() / reference.value(),
            of: of.to_owned(),
        });
        self
    }

    /// Sets the difference of ours from `reference` (both times).
    pub fn delta(mut self, of: &str, reference: Quantity) -> Self {
        self.ratio = Some(Ratio::DeltaNanos {
            value: self.ours.quantity.value() - reference.value(),
            of: of.to_owned(),
        });
        self
    }

    /// The ratio's number (a quotient, or a difference in nanoseconds); NaN without a ratio.
    pub fn ratio_value(&self) -> f64 {
        match &self.ratio {
            Some(Ratio::Times { value, .. } | Ratio::DeltaNanos { value, .. }) => *value,
            None => f64::NAN,
        }
    }

    /// Sets the goal and whether it was met.
    pub fn goal(mut self, text: impl Into<String>, met: bool) -> Self {
        self.goal = Some(Goal {
            text: text.into(),
            met,
        });
        self
    }
}

/// The machine a run was taken on.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    /// CPUs the process may use.
    pub cpus: usize,
    /// The CPU model (`/proc/cpuinfo`).
    pub cpu_model: String,
    /// The compiler that built this program.
    pub rustc: String,
    /// The 1-minute load average when the run started and when it ended.
    pub load_before: f64,
    /// See `load_before`.
    pub load_after: f64,
}

impl Machine {
    /// Describes this machine now; `load_after` is filled in by [`Machine::finish`].
    pub fn describe() -> Self {
        let cpus = std::thread::available_parallelism().map_or(1, usize::from);
        let cpu_model = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|info| {
                info.lines()
                    .find_map(|line| line.strip_prefix("model name"))
                    .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_owned())
            })
            .unwrap_or_else(|| "unknown".to_owned());
        let load = load_average();
        Self {
            cpus,
            cpu_model,
            rustc: env!("THORP_BENCH_RUSTC").to_owned(),
            load_before: load,
            load_after: load,
        }
    }

    /// Records the load at the end of the run.
    pub fn finish(&mut self) {
        self.load_after = load_average();
    }
}

/// The 1-minute load average (`/proc/loadavg`); 0 where unknown.
pub fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0)
}

/// Everything one run measured.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Which plan ran: `full`, `quick` or `smoke`.
    pub plan: String,
    /// Where.
    pub machine: Machine,
    /// How long the run took, in seconds.
    pub seconds: f64,
    /// The figures.
    pub rows: Vec<Row>,
    /// Conditions worth knowing when reading the figures (preemption, swap rates, misses).
    pub notes: Vec<String>,
}

impl Report {
    /// The report as one JSON document.
    pub fn to_json(&self) -> String {
        // Every field is a plain number, string or list: serializing cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The report as one table, then the notes.
    pub fn to_table(&self) -> String {
        let header = [
            "#",
            "measure",
            "ours",
            "alternatives",
            "ratio",
            "goal",
            "met",
        ];
        let rows: Vec<[String; 7]> = self
            .rows
            .iter()
            .map(|row| {
                let alternatives: Vec<String> = row
                    .alternatives
                    .iter()
                    .map(|cell| format!("{} {}", cell.label, cell.quantity))
                    .collect();
                [
                    row.figure.to_string(),
                    format!("{} [{}]", row.measure, row.ours.label),
                    row.ours.quantity.to_string(),
                    alternatives.join(" | "),
                    row.ratio
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default(),
                    row.goal
                        .as_ref()
                        .map(|goal| goal.text.clone())
                        .unwrap_or_default(),
                    match &row.goal {
                        Some(goal) if goal.met => "met".to_owned(),
                        Some(_) => "NOT MET".to_owned(),
                        None => String::new(),
                    },
                ]
            })
            .collect();
        let mut widths = header.map(str::len);
        for row in &rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let mut out = String::new();
        let m = &self.machine;
        let _ = writeln!(
            out,
            "thorp-bench ({} plan): {} CPUs, {}, {}; load {:.2} -> {:.2}; {:.0} s",
            self.plan, m.cpus, m.cpu_model, m.rustc, m.load_before, m.load_after, self.seconds
        );
        let line = |out: &mut String, cells: &[String]| {
            let mut text = String::new();
            for (index, (cell, width)) in cells.iter().zip(widths).enumerate() {
                let pad = width - cell.chars().count();
                // Numbers read best right-aligned; text left-aligned.
                if matches!(index, 2) {
                    let _ = write!(text, "{}{cell}  ", " ".repeat(pad));
                } else {
                    let _ = write!(text, "{cell}{}  ", " ".repeat(pad));
                }
            }
            let _ = writeln!(out, "{}", text.trim_end());
        };
        line(&mut out, &header.map(str::to_owned));
        line(&mut out, &widths.map(|width| "-".repeat(width)));
        let mut figure = None;
        for (row, cells) in self.rows.iter().zip(&rows) {
            if figure.is_some_and(|figure| figure != row.figure) {
                out.push('\n');
            }
            figure = Some(row.figure);
            line(&mut out, cells);
        }
        let goals: Vec<&Goal> = self
            .rows
            .iter()
            .filter_map(|row| row.goal.as_ref())
            .collect();
        let met = goals.iter().filter(|goal| goal.met).count();
        let _ = writeln!(out, "\ngoals met: {met} of {}", goals.len());
        for note in &self.notes {
            let _ = writeln!(out, "note: {note}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_read_in_their_best_unit() {
        assert_eq!(Quantity::Nanos(0.934).to_string(), "0.934 ns");
        assert_eq!(Quantity::Nanos(41.23).to_string(), "41.2 ns");
        assert_eq!(Quantity::Nanos(12_500.0).to_string(), "12.5 us");
        assert_eq!(Quantity::Nanos(1_020_000.0).to_string(), "1.02 ms");
        assert_eq!(Quantity::Share(0.000_12).to_string(), "0.012%");
        assert_eq!(Quantity::Bytes(2048.0).to_string(), "2.00 KiB");
        assert_eq!(Quantity::PerSecond(41_000.0).to_string(), "41.0k/s");
    }

    #[test]
    fn ratios_say_what_they_compare() {
        let row = Row::new(1, "read", Cell::new("ours", Quantity::Nanos(2.0)))
            .times("floor", Quantity::Nanos(0.5));
        assert_eq!(
            row.ratio.map(|ratio| ratio.to_string()).as_deref(),
            Some("4.00x floor")
        );
        let row = Row::new(2, "p50", Cell::new("ours", Quantity::Nanos(40.0)))
            .delta("no writer", Quantity::Nanos(43.0));
        assert_eq!(
            row.ratio.map(|ratio| ratio.to_string()).as_deref(),
            Some("-3.00 ns vs no writer")
        );
    }
}
