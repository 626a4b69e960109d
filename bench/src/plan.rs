//! How much a run measures: the full plan for recorded figures, a quick one for a look, and a
//! smoke plan of a few milliseconds per figure that keeps the program from rotting in CI.

use serde::Serialize;
use std::time::Duration;

/// Sizes of every figure's measurement.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// `full`, `quick` or `smoke`.
    pub name: &'static str,
    /// Figure 1: batches per variant (the median batch is reported).
    pub read_batches: usize,
    /// Figure 1: how long one batch runs.
    pub read_batch_time: Duration,
    /// Figure 2: rounds (variants interleaved, so noise spreads over all of them alike).
    pub contended_rounds: usize,
    /// Figure 2: timed reads per variant per round.
    pub contended_reads: usize,
    /// Figure 3: saves per save style and debounce setting.
    pub reload_trials: usize,
    /// Figure 4: parses per parser.
    pub parse_iters: usize,
    /// Figure 4: whole reloads timed.
    pub reload_iters: usize,
    /// Figure 5: health cycles per component count (100 fill the history).
    pub health_cycles: usize,
    /// Figure 6: requests per endpoint.
    pub endpoint_requests: usize,
}

impl Plan {
    /// The recorded figures: about two minutes on 2 cores.
    pub fn full() -> Self {
        Self {
            name: "full",
            read_batches: 400,
            read_batch_time: Duration::from_micros(50),
            contended_rounds: 16,
            contended_reads: 250_000,
            reload_trials: 200,
            parse_iters: 20_000,
            reload_iters: 2_000,
            health_cycles: 120,
            endpoint_requests: 20_000,
        }
    }

    /// A look in about fifteen seconds; tails are less stable.
    pub fn quick() -> Self {
        Self {
            name: "quick",
            read_batches: 60,
            read_batch_time: Duration::from_micros(50),
            contended_rounds: 4,
            contended_reads: 50_000,
            reload_trials: 20,
            parse_iters: 2_000,
            reload_iters: 200,
            health_cycles: 30,
            endpoint_requests: 5_000,
        }
    }

    /// Every code path, a few milliseconds per figure (figure 3 waits out two debounces); the
    /// figures mean nothing.
    pub fn smoke() -> Self {
        Self {
            name: "smoke",
            read_batches: 3,
            read_batch_time: Duration::from_micros(20),
            contended_rounds: 1,
            contended_reads: 500,
            reload_trials: 2,
            parse_iters: 5,
            reload_iters: 3,
            health_cycles: 2,
            endpoint_requests: 200,
        }
    }
}
