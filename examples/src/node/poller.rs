//! The slot poller: asks the RPC pool (through the breaker) for the latest blockhash and
//! publishes each new slot on the event bus, under backpressure admission.
//!
//! This is the producer side of the node's pipeline:
//! `poller -> backpressure admission -> event bus -> detection`. An event holds its admission
//! until the consumer drops it, so `BACKPRESSURE_MAX_QUEUE_SIZE` bounds events in the system,
//! not just in the queue. The poller never waits on a full bus: a slot not published now is
//! stale by the next poll, so it is dropped and counted.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::time::{Duration, Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use super::backpressure::{Admitted, Backpressure};
use super::breaker::{BreakerError, CircuitBreaker};
use super::event_bus::{EventBus, PublishError};
use super::rpc_pool::{RpcError, RpcPool};
use super::solana::Commitment;

/// Settings of the [`SlotPoller`], fixed when it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotPollerSettings {
    /// Time between polls. Default 400 ms (one slot).
    pub interval: Duration,
    /// Commitment asked for. Default `processed` (the freshest view, what a trader wants).
    pub commitment: Commitment,
}

impl Default for SlotPollerSettings {
    fn default() -> Self {
        Self {
            interval: Duration::from_millis(400),
            commitment: Commitment::Processed,
        }
    }
}

/// A new slot seen by the poller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotEvent {
    /// The slot the answer was read at.
    pub slot: u64,
    /// Its blockhash (base58).
    pub blockhash: String,
    /// Last block height at which the blockhash is accepted.
    pub last_valid_block_height: u64,
    /// When the poller received it (tokio time).
    pub observed_at: Instant,
}

/// What the bus carries: slot events holding their backpressure admission.
pub type SlotEventBus = EventBus<Admitted<SlotEvent>>;

/// What one poll did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollOutcome {
    /// A new slot was published with this bus sequence number.
    Published {
        /// The slot.
        slot: u64,
        /// Its place on the bus.
        seq: u64,
    },
    /// The slot had not moved since the last poll.
    Unchanged,
    /// The breaker refused the call.
    BreakerOpen,
    /// The call failed.
    Failed,
    /// Backpressure refused the event.
    Rejected,
    /// The bus was full (or closed).
    Dropped,
}

/// Figures of the poller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SlotPollerStats {
    /// Polls made.
    pub polls: u64,
    /// Slots published.
    pub published: u64,
    /// Polls that saw no new slot.
    pub unchanged: u64,
    /// Slots that advanced by more than one between two published events.
    pub missed_slots: u64,
    /// Polls the breaker refused.
    pub breaker_refused: u64,
    /// Polls whose call failed.
    pub failed: u64,
    /// Events refused by backpressure.
    pub rejected: u64,
    /// Events dropped because the bus was full.
    pub dropped: u64,
    /// Last slot published (0 before the first).
    pub last_slot: u64,
}

/// The poller. Run it with [`SlotPoller::run`]; it stops when the token is cancelled and
/// then drops its bus handle, so the consumer drains the queue and ends.
#[derive(Debug)]
pub struct SlotPoller {
    pool: RpcPool,
    breaker: CircuitBreaker,
    bus: SlotEventBus,
    backpressure: Backpressure,
    settings: SlotPollerSettings,
    counters: Arc<Counters>,
}

/// A stats handle on a poller that may be running in another task.
#[derive(Debug, Clone)]
pub struct SlotPollerMonitor {
    counters: Arc<Counters>,
}

#[derive(Debug, Default)]
struct Counters {
    polls: AtomicU64,
    published: AtomicU64,
    unchanged: AtomicU64,
    missed_slots: AtomicU64,
    breaker_refused: AtomicU64,
    failed: AtomicU64,
    rejected: AtomicU64,
    dropped: AtomicU64,
    last_slot: AtomicU64,
}

impl SlotPoller {
    /// A poller over these components.
    pub fn new(
        pool: RpcPool,
        breaker: CircuitBreaker,
        bus: SlotEventBus,
        backpressure: Backpressure,
        settings: SlotPollerSettings,
    ) -> Self {
        Self {
            pool,
            breaker,
            bus,
            backpressure,
            settings,
            counters: Arc::default(),
        }
    }

    /// A stats handle that stays valid while the poller runs.
    pub fn monitor(&self) -> SlotPollerMonitor {
        SlotPollerMonitor {
            counters: Arc::clone(&self.counters),
        }
    }

    /// Poll every `interval` until `stop` is cancelled.
    pub async fn run(self, stop: CancellationToken) {
        let mut ticks = tokio::time::interval(self.settings.interval.max(Duration::from_millis(1)));
        // After a stall, poll once and carry on; a burst of catch-up polls would only see
        // the same slot.
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        tracing::info!(interval_ms = self.settings.interval.as_millis() as u64,
                       commitment = %self.settings.commitment, "slot poller started");
        loop {
            tokio::select! {
                biased;
                () = stop.cancelled() => break,
                _ = ticks.tick() => {}
            }
            // A poll in progress when the stop comes is finished, not cut: it is bounded by
            // the pool's timeout and its event may already be admitted.
            self.poll_once().await;
        }
        tracing::info!(
            published = self.counters.published.load(Ordering::Relaxed),
            "slot poller stopped"
        );
    }

    /// One poll: call, compare, admit, publish.
    pub async fn poll_once(&self) -> PollOutcome {
        let c = &*self.counters;
        c.polls.fetch_add(1, Ordering::Relaxed);
        let commitment = self.settings.commitment;
        let answer = self
            .breaker
            .call_classified(
                || self.pool.get_latest_blockhash(commitment),
                RpcError::is_upstream_failure,
            )
            .await;
        let latest = match answer {
            Ok(latest) => latest,
            Err(BreakerError::Open(_)) => {
                c.breaker_refused.fetch_add(1, Ordering::Relaxed);
                return PollOutcome::BreakerOpen;
            }
            Err(BreakerError::Inner(error)) => {
                c.failed.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(%error, "slot poll failed");
                return PollOutcome::Failed;
            }
        };
        let last = c.last_slot.load(Ordering::Relaxed);
        if latest.slot <= last {
            c.unchanged.fetch_add(1, Ordering::Relaxed);
            return PollOutcome::Unchanged;
        }
        let Ok(admission) = self.backpressure.try_admit() else {
            c.rejected.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(slot = latest.slot, "slot event refused by backpressure");
            return PollOutcome::Rejected;
        };
        let event = SlotEvent {
            slot: latest.slot,
            blockhash: latest.blockhash,
            last_valid_block_height: latest.last_valid_block_height,
            observed_at: Instant::now(),
        };
        match self.bus.try_publish(admission.attach(event)) {
            Ok(seq) => {
                if last != 0 && latest.slot > last.saturating_add(1) {
                    c.missed_slots
                        .fetch_add(latest.slot - last - 1, Ordering::Relaxed);
                }
                c.last_slot.store(latest.slot, Ordering::Relaxed);
                c.published.fetch_add(1, Ordering::Relaxed);
                PollOutcome::Published {
                    slot: latest.slot,
                    seq,
                }
            }
            Err(PublishError::Full(_) | PublishError::Closed(_)) => {
                c.dropped.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(slot = latest.slot, "slot event dropped: bus full or closed");
                PollOutcome::Dropped
            }
        }
    }
}

impl SlotPollerMonitor {
    /// Figures of the poller.
    pub fn stats(&self) -> SlotPollerStats {
        let c = &*self.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        SlotPollerStats {
            polls: get(&c.polls),
            published: get(&c.published),
            unchanged: get(&c.unchanged),
            missed_slots: get(&c.missed_slots),
            breaker_refused: get(&c.breaker_refused),
            failed: get(&c.failed),
            rejected: get(&c.rejected),
            dropped: get(&c.dropped),
            last_slot: get(&c.last_slot),
        }
    }
}
