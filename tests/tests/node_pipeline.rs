//! The node's pipeline end to end, offline: simulator -> pool (through the breaker) -> slot
//! poller -> backpressure -> event bus -> detection, with a live threshold change and a
//! graceful shutdown that drains it.
#![allow(
    clippy::unwrap_used,
    reason = "tests: a failed unwrap is a failed test"
)]

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use support::node::{pool, quiet_sim, settings, sim};
use thorp_examples::node::backpressure::{Backpressure, BackpressureSettings};
use thorp_examples::node::breaker::{CircuitBreaker, CircuitBreakerSettings};
use thorp_examples::node::detection::{Decision, DetectionSettings, Detector};
use thorp_examples::node::event_bus::{EventBus, EventBusSettings};
use thorp_examples::node::poller::SlotEvent;
use thorp_examples::node::poller::{SlotPoller, SlotPollerSettings};
use thorp_examples::node::shutdown::{ShutdownManager, ShutdownReason, ShutdownSettings};
use thorp_examples::node::simulator::SimulatorSettings;
use thorp_examples::node::solana::Commitment;
use thorp_examples::node::source::SharedSettings;
use thorp_ops::config::{Store, Values};
use tokio::sync::mpsc;

fn thresholds(min_edge_score: f64) -> DetectionSettings {
    DetectionSettings {
        min_edge_score,
        min_liquidity_usd: 0.0,
        max_holder_concentration_pct: 100.0,
        min_market_cap_usd: 0.0,
        max_market_cap_usd: f64::INFINITY,
    }
}

async fn next(decisions: &mut mpsc::UnboundedReceiver<Decision>) -> Decision {
    tokio::time::timeout(Duration::from_secs(5), decisions.recv())
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn slots_flow_in_order_a_threshold_change_shows_and_shutdown_drains() {
    let sim = sim(SimulatorSettings {
        slot_duration: Duration::from_millis(20),
        latency: Duration::from_millis(1),
        latency_jitter: Duration::from_millis(2),
        ..SimulatorSettings::default()
    })
    .await;
    let pool = pool(settings([sim.url()]));
    let breaker = CircuitBreaker::new(CircuitBreakerSettings::default());
    let (bus, stream) = EventBus::new(EventBusSettings {
        capacity: 64,
        ..EventBusSettings::default()
    });
    let backpressure = Backpressure::new(BackpressureSettings {
        max_queue_size: 32,
        ..Default::default()
    });
    let bus_monitor = bus.monitor();
    let poller = SlotPoller::new(
        pool.clone(),
        breaker.clone(),
        bus,
        backpressure.clone(),
        SlotPollerSettings {
            interval: Duration::from_millis(10),
            commitment: Commitment::Processed,
        },
    );
    let poller_monitor = poller.monitor();
    let detection = SharedSettings::new(thresholds(0.0));
    let detector = Arc::new(Detector::new(detection.clone()));
    let shutdown = ShutdownManager::new(ShutdownSettings {
        timeout: Duration::from_secs(2),
    });

    shutdown.spawn(poller.run(shutdown.token()));
    let (decided, mut decisions) = mpsc::unbounded_channel();
    shutdown.spawn({
        let detector = Arc::clone(&detector);
        async move {
            detector
                .run(stream, |d| {
                    let _ = decided.send(d);
                })
                .await;
        }
    });

    let mut seen = Vec::new();
    for _ in 0..5 {
        let d = next(&mut decisions).await;
        assert!(d.signal, "every candidate meets a zero threshold");
        seen.push(d);
    }
    // Raise the bar above any score: from the next event on, nothing signals.
    detection.store(thresholds(100.5));
    let mut after = Vec::new();
    while after.len() < 3 {
        let d = next(&mut decisions).await;
        if d.min_edge_score == 100.5 {
            after.push(d);
        } else {
            seen.push(d); // decided before the store was visible
        }
    }
    assert!(after.iter().all(|d| !d.signal && d.min_edge_score == 100.5));

    shutdown.trigger(ShutdownReason::Requested);
    let outcome = shutdown.drain().await;
    assert!(outcome.drained, "{outcome:?}");
    while let Ok(d) = decisions.try_recv() {
        after.push(d);
    }
    let all: Vec<u64> = seen.iter().chain(&after).map(|d| d.slot).collect();
    assert!(
        all.windows(2).all(|w| w[0] < w[1]),
        "slots in order: {all:?}"
    );
    let polled = poller_monitor.stats();
    assert_eq!(
        polled.published as usize,
        all.len(),
        "every published event was decided"
    );
    assert_eq!(polled.failed + polled.breaker_refused, 0);
    assert_eq!(
        backpressure.stats().current_load,
        0,
        "every admission was released"
    );
    let bus_stats = bus_monitor.stats();
    assert_eq!(
        (bus_stats.queue_depth, bus_stats.delivered),
        (0, polled.published)
    );
    assert!(bus_stats.events_per_second > 0.0);
    assert_eq!(detector.stats().events, polled.published);
}

#[tokio::test]
async fn backpressure_refuses_events_when_detection_falls_behind() {
    let sim = sim(SimulatorSettings {
        slot_duration: Duration::from_millis(5),
        latency: Duration::ZERO,
        latency_jitter: Duration::ZERO,
        ..SimulatorSettings::default()
    })
    .await;
    let (bus, mut stream) = EventBus::new(EventBusSettings {
        capacity: 100,
        ..EventBusSettings::default()
    });
    let backpressure = Backpressure::new(BackpressureSettings {
        max_queue_size: 3,
        ..Default::default()
    });
    let poller = SlotPoller::new(
        pool(settings([sim.url()])),
        CircuitBreaker::new(CircuitBreakerSettings::default()),
        bus,
        backpressure.clone(),
        SlotPollerSettings::default(),
    );
    // Nobody consumes: three events fill the system, the rest are refused.
    for _ in 0..6 {
        poller.poll_once().await;
        tokio::time::sleep(Duration::from_millis(6)).await;
    }
    let stats = poller.monitor().stats();
    assert_eq!((stats.published, stats.rejected), (3, 3));
    assert!((backpressure.stats().utilization - 100.0).abs() < 1e-9);
    assert!(backpressure.stats().rejection_rate > 0.4);
    // Consuming one event frees one place.
    drop(stream.recv().await.unwrap());
    tokio::time::sleep(Duration::from_millis(6)).await;
    assert!(matches!(
        poller.poll_once().await,
        thorp_examples::node::poller::PollOutcome::Published { .. }
    ));
}

#[tokio::test]
async fn graceful_shutdown_under_load_finishes_requests_in_flight() {
    let sim = quiet_sim().await;
    sim.set_latency(Duration::from_millis(60));
    let pool = pool(settings([sim.url()]));
    let shutdown = ShutdownManager::new(ShutdownSettings {
        timeout: Duration::from_secs(1),
    });
    let started = Arc::new(AtomicU64::new(0));
    for _ in 0..20 {
        let (pool, stop, started) = (pool.clone(), shutdown.token(), Arc::clone(&started));
        shutdown.spawn(async move {
            while !stop.is_cancelled() {
                started.fetch_add(1, Ordering::Relaxed);
                pool.get_slot(Commitment::Processed).await.unwrap();
            }
        });
    }
    // Stop once every task has a request in flight (nothing else uses this pool).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while pool.stats().active_connections < 20 {
        assert!(tokio::time::Instant::now() < deadline, "20 never in flight");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    shutdown.trigger(ShutdownReason::Terminate);
    let outcome = shutdown.drain().await;
    assert!(outcome.drained && outcome.exit_code() == 0, "{outcome:?}");
    // Drained (not timed out) proves it finished within the 1 s timeout.
    let stats = pool.stats();
    assert_eq!(
        (stats.failures, stats.active_connections),
        (0, 0),
        "no request was cut"
    );
    assert_eq!(stats.requests, started.load(Ordering::Relaxed));
    assert!(stats.requests >= 20);
}

#[test]
fn detection_reads_a_thorp_ops_store_section_on_every_event() {
    struct NodeConfig {
        detection: DetectionSettings,
    }
    let store = Store::new(
        NodeConfig {
            detection: thresholds(0.0),
        },
        Values::default(),
        None,
    );
    let section = store.section(|c: &NodeConfig| &c.detection);
    let detector = Detector::new(move || section.load());
    let event = SlotEvent {
        slot: 42,
        blockhash: "4sGjMW1sUnHzSxGspuhpqLDx6wiyjNtZAMdL4VZHirAn".into(),
        last_valid_block_height: 192,
        observed_at: tokio::time::Instant::now(),
    };
    assert!(detector.evaluate(&event).signal);
    store.publish(
        NodeConfig {
            detection: thresholds(100.5),
        },
        Values::default(),
        None,
    );
    let decision = detector.evaluate(&event);
    assert!(!decision.signal);
    assert_eq!(decision.min_edge_score, 100.5);
}
