//! The event bus: an ordered, bounded queue from producers (the slot poller) to a consumer.
//!
//! Ordering is by sequence number: every accepted event gets the next `seq`, and the queue
//! holds events in `seq` order even with several publishers (a slot is reserved first, then
//! numbered and filled under one short lock). A full queue either makes the publisher wait
//! ([`EventBus::publish`]: backpressure to the producer) or refuses the event
//! ([`EventBus::try_publish`]: the caller decides, and the refusal is counted).
//!
//! One consumer reads the stream; fan out after it if several stages need every event (an
//! ordered stream has one reader by nature).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use thorp_examples::node::event_bus::{EventBus, EventBusSettings};
//!
//! let (bus, mut stream) = EventBus::new(EventBusSettings { capacity: 8, ..Default::default() });
//! bus.publish("slot 1").await.unwrap();
//! bus.publish("slot 2").await.unwrap();
//! assert_eq!(bus.stats().queue_depth, 2);
//! let first = stream.recv().await.unwrap();
//! assert_eq!((first.seq, first.event), (0, "slot 1"));
//! # }
//! ```

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::mpsc;
use tokio::time::{Duration, Instant};

use super::invalid::{Checker, InvalidSettings};
use super::window::RateMeter;

/// Slices of the rate window.
const RATE_SLICES: usize = 10;
/// Largest capacity accepted (tokio's channel panics beyond its own, much larger, limit).
pub const MAX_CAPACITY: usize = 1 << 24;

/// Settings of an [`EventBus`], fixed at creation (a live queue cannot be resized without
/// reordering or dropping events).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventBusSettings {
    /// Events the queue holds before publishers wait or are refused, 1..=[`MAX_CAPACITY`].
    /// Default 1024.
    pub capacity: usize,
    /// Span over which `events_per_second` is averaged. Default 10 s.
    pub rate_window: Duration,
}

impl EventBusSettings {
    /// Check every rule; report all violations.
    pub fn validate(&self) -> Result<(), InvalidSettings> {
        let mut c = Checker::new("eventBus");
        c.check(
            (1..=MAX_CAPACITY).contains(&self.capacity),
            "capacity",
            || format!("must be between 1 and {MAX_CAPACITY}"),
        );
        c.check(!self.rate_window.is_zero(), "rate_window", || {
            "must be greater than zero".into()
        });
        c.finish()
    }
}

impl Default for EventBusSettings {
    fn default() -> Self {
        Self {
            capacity: 1024,
            rate_window: Duration::from_secs(10),
        }
    }
}

/// An event with its place in the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope<E> {
    /// Position in the stream, from 0, without gaps among accepted events.
    pub seq: u64,
    /// When it was accepted (tokio time).
    pub published_at: Instant,
    /// The event.
    pub event: E,
}

/// Figures of the bus, as the health monitor reads them.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct EventBusStats {
    /// Events waiting in the queue now.
    pub queue_depth: u64,
    /// Queue capacity.
    pub capacity: u64,
    /// `queue_depth` as a percent of `capacity`, 0..=100.
    pub utilization: f64,
    /// Events accepted per second over the rate window.
    pub events_per_second: f64,
    /// Events accepted since start.
    pub published: u64,
    /// Events taken by the consumer since start.
    pub delivered: u64,
    /// Events refused by `try_publish` because the queue was full, since start.
    pub dropped: u64,
}

/// Why an event was not accepted; the event is handed back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublishError<E> {
    /// The queue is full (only from `try_publish`).
    #[error("event bus full")]
    Full(E),
    /// The consumer is gone.
    #[error("event bus closed: the consumer has stopped")]
    Closed(E),
}

/// The publishing side and the stats handle. Clone it for each producer.
#[derive(Debug)]
pub struct EventBus<E> {
    tx: mpsc::Sender<Envelope<E>>,
    shared: Arc<Shared>,
}

/// The consuming side: events in `seq` order.
#[derive(Debug)]
pub struct EventStream<E> {
    rx: mpsc::Receiver<Envelope<E>>,
    shared: Arc<Shared>,
}

/// A read-only handle on the bus's figures; holding it does not keep the bus open.
#[derive(Debug, Clone)]
pub struct EventBusMonitor {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    capacity: usize,
    /// Events in the queue, kept by us rather than asked of a sender, so the stats work
    /// from a handle that does not keep the bus open (and after the producers are gone).
    depth: AtomicUsize,
    /// Next sequence number; the lock also makes "number, then enqueue" one step.
    next_seq: Mutex<u64>,
    rate: Mutex<RateMeter>,
    published: AtomicU64,
    delivered: AtomicU64,
    dropped: AtomicU64,
}

impl<E> Clone for EventBus<E> {
    fn clone(&self) -> Self {
        Self {
            tx: self.tx.clone(),
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<E> EventBus<E> {
    /// A bus and its single consumer stream. A capacity outside 1..=[`MAX_CAPACITY`] is
    /// clamped into it (use [`EventBusSettings::validate`] to refuse it instead).
    pub fn new(settings: EventBusSettings) -> (Self, EventStream<E>) {
        let capacity = settings.capacity.clamp(1, MAX_CAPACITY);
        let (tx, rx) = mpsc::channel(capacity);
        let shared = Arc::new(Shared {
            capacity,
            depth: AtomicUsize::new(0),
            next_seq: Mutex::new(0),
            rate: Mutex::new(RateMeter::new(
                settings.rate_window,
                RATE_SLICES,
                Instant::now(),
            )),
            published: AtomicU64::new(0),
            delivered: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
        });
        (
            Self {
                tx,
                shared: Arc::clone(&shared),
            },
            EventStream { rx, shared },
        )
    }

    /// Enqueue `event`, waiting for room; returns its `seq`.
    pub async fn publish(&self, event: E) -> Result<u64, PublishError<E>> {
        match self.tx.reserve().await {
            Ok(permit) => Ok(self.fill(permit, event)),
            Err(_) => Err(PublishError::Closed(event)),
        }
    }

    /// Enqueue `event` if there is room now; returns its `seq`.
    pub fn try_publish(&self, event: E) -> Result<u64, PublishError<E>> {
        match self.tx.try_reserve() {
            Ok(permit) => Ok(self.fill(permit, event)),
            Err(mpsc::error::TrySendError::Full(())) => {
                self.shared.dropped.fetch_add(1, Ordering::Relaxed);
                Err(PublishError::Full(event))
            }
            Err(mpsc::error::TrySendError::Closed(())) => Err(PublishError::Closed(event)),
        }
    }

    fn fill(&self, permit: mpsc::Permit<'_, Envelope<E>>, event: E) -> u64 {
        let now = Instant::now();
        let seq = {
            let mut next = self
                .shared
                .next_seq
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let seq = *next;
            *next += 1;
            // Counted before it is visible, so the consumer never decrements below zero.
            self.shared.depth.fetch_add(1, Ordering::AcqRel);
            permit.send(Envelope {
                seq,
                published_at: now,
                event,
            });
            seq
        };
        self.shared.published.fetch_add(1, Ordering::Relaxed);
        self.shared
            .rate
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .record(now, 1);
        seq
    }

    /// Figures for the health monitor.
    pub fn stats(&self) -> EventBusStats {
        self.shared.stats()
    }

    /// A stats handle that does not keep the bus open.
    pub fn monitor(&self) -> EventBusMonitor {
        EventBusMonitor {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl EventBusMonitor {
    /// Figures for the health monitor.
    pub fn stats(&self) -> EventBusStats {
        self.shared.stats()
    }
}

impl Shared {
    fn stats(&self) -> EventBusStats {
        let queue_depth = self.depth.load(Ordering::Acquire).min(self.capacity);
        let events_per_second = self
            .rate
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .per_second(Instant::now());
        EventBusStats {
            queue_depth: queue_depth as u64,
            capacity: self.capacity as u64,
            utilization: queue_depth as f64 * 100.0 / self.capacity as f64,
            events_per_second,
            published: self.published.load(Ordering::Relaxed),
            delivered: self.delivered.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
        }
    }
}

impl<E> EventStream<E> {
    /// The next event; `None` once every publisher is dropped and the queue is empty.
    pub async fn recv(&mut self) -> Option<Envelope<E>> {
        let envelope = self.rx.recv().await?;
        self.shared.depth.fetch_sub(1, Ordering::AcqRel);
        self.shared.delivered.fetch_add(1, Ordering::Relaxed);
        Some(envelope)
    }

    /// Events waiting now.
    pub fn len(&self) -> usize {
        self.rx.len()
    }

    /// Whether no event is waiting.
    pub fn is_empty(&self) -> bool {
        self.rx.is_empty()
    }

    /// A stats handle on this stream's bus.
    pub fn monitor(&self) -> EventBusMonitor {
        EventBusMonitor {
            shared: Arc::clone(&self.shared),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bus(capacity: usize) -> (EventBus<u32>, EventStream<u32>) {
        EventBus::new(EventBusSettings {
            capacity,
            rate_window: Duration::from_secs(10),
        })
    }

    #[tokio::test]
    async fn concurrent_publishers_keep_seq_order_without_gaps() {
        let (bus, mut stream) = bus(16);
        let producers: Vec<_> = (0..4u32)
            .map(|p| {
                let bus = bus.clone();
                tokio::spawn(async move {
                    for i in 0..250 {
                        bus.publish(p * 1_000 + i).await.unwrap();
                    }
                })
            })
            .collect();
        drop(bus);
        let mut seen = Vec::new();
        while let Some(envelope) = stream.recv().await {
            seen.push(envelope);
        }
        for producer in producers {
            producer.await.unwrap();
        }
        assert_eq!(seen.len(), 1_000);
        assert!(
            seen.iter().enumerate().all(|(i, e)| e.seq == i as u64),
            "seq is the queue order"
        );
        // Each producer's own events stay in its order.
        for p in 0..4 {
            let mine: Vec<u32> = seen
                .iter()
                .map(|e| e.event)
                .filter(|v| v / 1_000 == p)
                .collect();
            assert!(mine.windows(2).all(|w| w[0] < w[1]));
        }
    }

    #[tokio::test]
    async fn a_full_queue_refuses_try_publish_and_reports_utilization() {
        let (bus, mut stream) = bus(4);
        for i in 0..3 {
            bus.try_publish(i).unwrap();
        }
        let stats = bus.stats();
        assert_eq!((stats.queue_depth, stats.capacity), (3, 4));
        assert!((stats.utilization - 75.0).abs() < 1e-9);
        bus.try_publish(3).unwrap();
        assert_eq!(bus.try_publish(4), Err(PublishError::Full(4)));
        let stats = bus.stats();
        assert_eq!(
            (stats.utilization, stats.dropped, stats.published),
            (100.0, 1, 4)
        );
        assert_eq!(stream.recv().await.map(|e| e.event), Some(0));
        assert_eq!(bus.stats().queue_depth, 3);
        assert_eq!(bus.stats().delivered, 1);
    }

    #[tokio::test(start_paused = true)]
    async fn publish_waits_for_room_instead_of_dropping() {
        let (bus, mut stream) = bus(1);
        bus.publish(1).await.unwrap();
        let waiting = tokio::spawn({
            let bus = bus.clone();
            async move { bus.publish(2).await }
        });
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert!(
            !waiting.is_finished(),
            "publisher waits while the queue is full"
        );
        assert_eq!(stream.recv().await.map(|e| e.event), Some(1));
        assert_eq!(waiting.await.unwrap(), Ok(1));
        assert_eq!(stream.recv().await.map(|e| (e.seq, e.event)), Some((1, 2)));
    }

    #[tokio::test]
    async fn the_monitor_reports_without_keeping_the_bus_open() {
        let (bus, mut stream) = bus(4);
        let monitor = bus.monitor();
        bus.publish(1).await.unwrap();
        drop(bus);
        assert_eq!(monitor.stats().queue_depth, 1);
        assert_eq!(stream.recv().await.map(|e| e.event), Some(1));
        assert_eq!(
            stream.recv().await,
            None,
            "no producer left: the stream ends"
        );
        assert_eq!(
            (monitor.stats().queue_depth, monitor.stats().delivered),
            (0, 1)
        );
    }

    #[test]
    fn out_of_range_capacities_are_refused_by_validate_and_clamped_by_new() {
        let huge = EventBusSettings {
            capacity: usize::MAX,
            ..EventBusSettings::default()
        };
        assert!(huge.validate().is_err());
        assert!(
            EventBusSettings {
                capacity: 0,
                ..huge.clone()
            }
            .validate()
            .is_err()
        );
        let (bus, _stream) = EventBus::<u8>::new(huge);
        assert_eq!(bus.stats().capacity, MAX_CAPACITY as u64);
        let (bus, _stream) = EventBus::<u8>::new(EventBusSettings {
            capacity: 0,
            ..EventBusSettings::default()
        });
        assert_eq!(bus.stats().capacity, 1);
    }

    #[tokio::test]
    async fn a_dropped_consumer_closes_the_bus() {
        let (bus, stream) = bus(4);
        drop(stream);
        assert_eq!(bus.publish(9).await, Err(PublishError::Closed(9)));
        assert_eq!(bus.try_publish(9), Err(PublishError::Closed(9)));
    }

    #[tokio::test(start_paused = true)]
    async fn events_per_second_follows_the_publish_rate() {
        let (bus, mut stream) = bus(1_000);
        let consumer = tokio::spawn(async move { while stream.recv().await.is_some() {} });
        for _ in 0..100 {
            bus.publish(0).await.unwrap();
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // 100 events over 5 s.
        let rate = bus.stats().events_per_second;
        assert!((rate - 20.0).abs() < 0.5, "rate {rate}");
        // Ten quiet seconds later the window is empty.
        tokio::time::sleep(Duration::from_secs(10)).await;
        assert_eq!(bus.stats().events_per_second, 0.0);
        drop(bus);
        consumer.await.unwrap();
    }
}
