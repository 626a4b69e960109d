//! Detection: the consumer that scores slot events against the trading thresholds.
//!
//! The settings (`MIN_EDGE_SCORE` and its siblings) are read through a
//! [`SettingsSource`] on **every** event: a lock-free load, so a changed threshold applies
//! from the next event on, with no restart and no lock on the hot path. Each [`Decision`]
//! records the threshold it was made with, so a change is visible in the output.
//!
//! The node runs offline against a simulator, so there is no market data: each event's
//! [`Candidate`] is derived deterministically from its blockhash (same hash, same figures),
//! which makes runs reproducible and gives the thresholds something real to cut.
//!
//! ```
//! use std::sync::Arc;
//! use tokio::time::Instant;
//! use thorp_examples::node::detection::{DetectionSettings, Detector};
//! use thorp_examples::node::poller::SlotEvent;
//! use thorp_examples::node::source::SharedSettings;
//!
//! let settings = SharedSettings::new(DetectionSettings::default());
//! let detector = Detector::new(settings.clone());
//! let event = SlotEvent { slot: 1, blockhash: "4sGjMW1sUnHzSxGspuhpqLDx6wiyjNtZAMdL4VZHirAn".into(),
//!                         last_valid_block_height: 151, observed_at: Instant::now() };
//! assert_eq!(detector.evaluate(&event).min_edge_score, 60.0);
//! settings.store(DetectionSettings { min_edge_score: 75.0, ..DetectionSettings::default() });
//! assert_eq!(detector.evaluate(&event).min_edge_score, 75.0); // the next event sees it
//! ```

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use super::backpressure::Admitted;
use super::event_bus::EventStream;
use super::invalid::{Checker, InvalidSettings};
use super::poller::SlotEvent;
use super::source::SettingsSource;

/// The trading thresholds (`MIN_EDGE_`, `MIN_LIQUIDITY_`, `MAX_HOLDER_`, `MIN_MARKET_`,
/// `MAX_MARKET_` keys).
#[derive(Debug, Clone, PartialEq)]
pub struct DetectionSettings {
    /// Lowest edge score (0..=100) worth a signal (`MIN_EDGE_SCORE`). Default 60.
    pub min_edge_score: f64,
    /// Lowest pool liquidity in USD (`MIN_LIQUIDITY_USD`). Default 10,000.
    pub min_liquidity_usd: f64,
    /// Highest share of supply held by the top holders, percent (`MAX_HOLDER_CONCENTRATION_PCT`).
    /// Default 30.
    pub max_holder_concentration_pct: f64,
    /// Lowest market cap in USD (`MIN_MARKET_CAP_USD`). Default 50,000.
    pub min_market_cap_usd: f64,
    /// Highest market cap in USD (`MAX_MARKET_CAP_USD`). Default 50,000,000.
    pub max_market_cap_usd: f64,
}

impl Default for DetectionSettings {
    fn default() -> Self {
        Self {
            min_edge_score: 60.0,
            min_liquidity_usd: 10_000.0,
            max_holder_concentration_pct: 30.0,
            min_market_cap_usd: 50_000.0,
            max_market_cap_usd: 50_000_000.0,
        }
    }
}

impl DetectionSettings {
    /// Check every rule (the seed's 0..=100 for the edge score, and the cross-field
    /// `min_market_cap_usd <= max_market_cap_usd`); report all violations.
    pub fn validate(&self) -> Result<(), InvalidSettings> {
        let mut c = Checker::new("detection");
        c.check(
            (0.0..=100.0).contains(&self.min_edge_score),
            "min_edge_score",
            || "must be between 0 and 100".into(),
        );
        c.check(self.min_liquidity_usd >= 0.0, "min_liquidity_usd", || {
            "must not be negative".into()
        });
        c.check(
            (0.0..=100.0).contains(&self.max_holder_concentration_pct),
            "max_holder_concentration_pct",
            || "must be between 0 and 100".into(),
        );
        c.check(self.min_market_cap_usd >= 0.0, "min_market_cap_usd", || {
            "must not be negative".into()
        });
        c.check(
            self.min_market_cap_usd <= self.max_market_cap_usd,
            "max_market_cap_usd",
            || "must not be below min_market_cap_usd".into(),
        );
        c.finish()
    }
}

/// The figures scored for one event.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    /// Edge score, 0..=100.
    pub edge_score: f64,
    /// Liquidity in USD, 1e3..1e6.
    pub liquidity_usd: f64,
    /// Top-holder concentration, percent, 5..80.
    pub holder_concentration_pct: f64,
    /// Market cap in USD, 1e4..1e9.
    pub market_cap_usd: f64,
}

impl Candidate {
    /// The figures of `event`, derived from its blockhash.
    pub fn of(event: &SlotEvent) -> Self {
        // FNV-1a over the hash text, then SplitMix64 steps for independent uniforms.
        let mut state = event
            .blockhash
            .bytes()
            .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
            });
        let mut uniform = || {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            // The top 53 bits as a float in [0, 1).
            ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
        };
        Self {
            edge_score: (uniform() * 1_000.0).round() / 10.0,
            liquidity_usd: 10f64.powf(3.0 + 3.0 * uniform()),
            holder_concentration_pct: 5.0 + 75.0 * uniform(),
            market_cap_usd: 10f64.powf(4.0 + 5.0 * uniform()),
        }
    }
}

/// A threshold a candidate missed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Shortfall {
    /// `edge_score < min_edge_score`.
    EdgeScore,
    /// `liquidity_usd < min_liquidity_usd`.
    Liquidity,
    /// `holder_concentration_pct > max_holder_concentration_pct`.
    HolderConcentration,
    /// Market cap outside `min_market_cap_usd..=max_market_cap_usd`.
    MarketCap,
}

/// The verdict on one event.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// The event's slot.
    pub slot: u64,
    /// Its figures.
    pub candidate: Candidate,
    /// Every threshold met.
    pub signal: bool,
    /// The thresholds missed (empty for a signal).
    pub shortfalls: Vec<Shortfall>,
    /// The `min_edge_score` in force for this decision.
    pub min_edge_score: f64,
}

/// Figures of the detector.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct DetectionStats {
    /// Events scored.
    pub events: u64,
    /// Of which gave a signal.
    pub signals: u64,
    /// Slot of the last event (0 before the first).
    pub last_slot: u64,
    /// Edge score of the last event.
    pub last_edge_score: f64,
    /// `min_edge_score` used for the last event.
    pub min_edge_score: f64,
}

/// The detector, reading its settings from `S` on every event.
#[derive(Debug)]
pub struct Detector<S> {
    source: S,
    events: AtomicU64,
    signals: AtomicU64,
    last: Mutex<(u64, f64, f64)>,
}

impl<S: SettingsSource<DetectionSettings>> Detector<S> {
    /// A detector over `source` (a closure over the config store, or [`SharedSettings`]).
    ///
    /// [`SharedSettings`]: super::source::SharedSettings
    pub fn new(source: S) -> Self {
        Self {
            source,
            events: AtomicU64::new(0),
            signals: AtomicU64::new(0),
            last: Mutex::new((0, 0.0, 0.0)),
        }
    }

    /// Score one event with the settings in force now.
    pub fn evaluate(&self, event: &SlotEvent) -> Decision {
        let settings = self.source.current();
        let candidate = Candidate::of(event);
        let mut shortfalls = Vec::new();
        if candidate.edge_score < settings.min_edge_score {
            shortfalls.push(Shortfall::EdgeScore);
        }
        if candidate.liquidity_usd < settings.min_liquidity_usd {
            shortfalls.push(Shortfall::Liquidity);
        }
        if candidate.holder_concentration_pct > settings.max_holder_concentration_pct {
            shortfalls.push(Shortfall::HolderConcentration);
        }
        if !(settings.min_market_cap_usd..=settings.max_market_cap_usd)
            .contains(&candidate.market_cap_usd)
        {
            shortfalls.push(Shortfall::MarketCap);
        }
        let signal = shortfalls.is_empty();
        self.events.fetch_add(1, Ordering::Relaxed);
        if signal {
            self.signals.fetch_add(1, Ordering::Relaxed);
        }
        *self.last.lock().unwrap_or_else(PoisonError::into_inner) =
            (event.slot, candidate.edge_score, settings.min_edge_score);
        Decision {
            slot: event.slot,
            candidate,
            signal,
            shortfalls,
            min_edge_score: settings.min_edge_score,
        }
    }

    /// Consume `stream` until every producer is gone and the queue is drained, handing each
    /// decision to `on_decision`. Each event's backpressure place is released once decided.
    pub async fn run(
        &self,
        mut stream: EventStream<Admitted<SlotEvent>>,
        mut on_decision: impl FnMut(Decision),
    ) {
        while let Some(envelope) = stream.recv().await {
            let decision = self.evaluate(&envelope.event.item);
            if decision.signal {
                tracing::info!(
                    slot = decision.slot,
                    seq = envelope.seq,
                    edge_score = decision.candidate.edge_score,
                    min_edge_score = decision.min_edge_score,
                    "detection signal"
                );
            } else {
                tracing::debug!(slot = decision.slot, seq = envelope.seq, edge_score = decision.candidate.edge_score,
                                min_edge_score = decision.min_edge_score, shortfalls = ?decision.shortfalls,
                                "detection skip");
            }
            on_decision(decision);
        }
        tracing::info!(
            events = self.events.load(Ordering::Relaxed),
            "detection stopped: stream drained"
        );
    }

    /// Figures of the detector.
    pub fn stats(&self) -> DetectionStats {
        let (last_slot, last_edge_score, min_edge_score) =
            *self.last.lock().unwrap_or_else(PoisonError::into_inner);
        DetectionStats {
            events: self.events.load(Ordering::Relaxed),
            signals: self.signals.load(Ordering::Relaxed),
            last_slot,
            last_edge_score,
            min_edge_score,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::AtomicUsize;

    use tokio::time::Instant;

    use super::*;
    use crate::node::backpressure::{Backpressure, BackpressureSettings};
    use crate::node::event_bus::{EventBus, EventBusSettings};
    use crate::node::source::SharedSettings;

    fn event(slot: u64) -> SlotEvent {
        SlotEvent {
            slot,
            blockhash: format!("hash-of-slot-{slot}"),
            last_valid_block_height: slot + 150,
            observed_at: Instant::now(),
        }
    }

    /// Thresholds every candidate meets, so only the edge score decides.
    fn permissive(min_edge_score: f64) -> DetectionSettings {
        DetectionSettings {
            min_edge_score,
            min_liquidity_usd: 0.0,
            max_holder_concentration_pct: 100.0,
            min_market_cap_usd: 0.0,
            max_market_cap_usd: f64::INFINITY,
        }
    }

    #[test]
    fn candidates_are_deterministic_and_within_their_ranges() {
        for slot in 0..500 {
            let c = Candidate::of(&event(slot));
            assert_eq!(c, Candidate::of(&event(slot)));
            assert!((0.0..=100.0).contains(&c.edge_score));
            assert!((1e3..1e6).contains(&c.liquidity_usd));
            assert!((5.0..80.0).contains(&c.holder_concentration_pct));
            assert!((1e4..1e9).contains(&c.market_cap_usd));
        }
        assert_ne!(Candidate::of(&event(1)), Candidate::of(&event(2)));
    }

    #[test]
    fn the_threshold_is_read_on_every_event() {
        let settings = SharedSettings::new(permissive(0.0));
        let detector = Detector::new(settings.clone());
        let e = event(7);
        let score = Candidate::of(&e).edge_score;
        assert!(detector.evaluate(&e).signal);
        settings.store(permissive(score + 0.1));
        let decision = detector.evaluate(&e);
        assert!(!decision.signal);
        assert_eq!(decision.shortfalls, [Shortfall::EdgeScore]);
        assert_eq!(decision.min_edge_score, score + 0.1);
        let stats = detector.stats();
        assert_eq!((stats.events, stats.signals, stats.last_slot), (2, 1, 7));
        assert_eq!(stats.min_edge_score, score + 0.1);
    }

    #[test]
    fn a_closure_over_any_store_is_a_source() {
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&calls);
        let fixed = Arc::new(permissive(50.0));
        let detector = Detector::new(move || {
            counted.fetch_add(1, Ordering::Relaxed);
            Arc::clone(&fixed)
        });
        for slot in 0..3 {
            detector.evaluate(&event(slot));
        }
        assert_eq!(calls.load(Ordering::Relaxed), 3, "one read per event");
    }

    #[test]
    fn every_missed_threshold_is_listed() {
        let strict = DetectionSettings {
            min_edge_score: 100.1,
            min_liquidity_usd: 1e7,
            max_holder_concentration_pct: 0.0,
            min_market_cap_usd: 1e10,
            max_market_cap_usd: 1e11,
        };
        let decision = Detector::new(SharedSettings::new(strict)).evaluate(&event(3));
        assert_eq!(
            decision.shortfalls,
            [
                Shortfall::EdgeScore,
                Shortfall::Liquidity,
                Shortfall::HolderConcentration,
                Shortfall::MarketCap
            ]
        );
    }

    #[test]
    fn validation_reports_ranges_and_the_cross_field_rule() {
        assert_eq!(DetectionSettings::default().validate(), Ok(()));
        let bad = DetectionSettings {
            min_edge_score: 101.0,
            min_market_cap_usd: 10.0,
            max_market_cap_usd: 1.0,
            ..DetectionSettings::default()
        };
        let fields: Vec<&str> = bad
            .validate()
            .unwrap_err()
            .problems
            .iter()
            .map(|p| p.field)
            .collect();
        assert_eq!(fields, ["min_edge_score", "max_market_cap_usd"]);
        let nan = DetectionSettings {
            min_edge_score: f64::NAN,
            ..DetectionSettings::default()
        };
        assert!(nan.validate().is_err());
    }

    #[tokio::test]
    async fn run_decides_in_order_and_releases_each_place() {
        let (bus, stream) = EventBus::new(EventBusSettings::default());
        let backpressure = Backpressure::new(BackpressureSettings {
            max_queue_size: 3,
            ..Default::default()
        });
        for slot in 10..13 {
            bus.publish(backpressure.try_admit().unwrap().attach(event(slot)))
                .await
                .unwrap();
        }
        assert!(
            backpressure.try_admit().is_err(),
            "three events hold the three places"
        );
        drop(bus);
        let detector = Detector::new(SharedSettings::new(permissive(50.0)));
        let mut slots = Vec::new();
        detector.run(stream, |d| slots.push(d.slot)).await;
        assert_eq!(slots, [10, 11, 12]);
        assert_eq!(backpressure.stats().current_load, 0);
    }
}
