//! Controllable components, probes and sinks for the health tests.

// Each test binary uses its own subset of these helpers.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;
use thorp_ops::health::{
    AlertEvent, AlertSink, AlertTransition, BoxError, HealthReport, HealthStats, StatsSource,
    SystemProbe, SystemSample,
};
use tokio::sync::{mpsc, watch};

const MIB: u64 = 1024 * 1024;

/// Stats a test changes between checks, like the seed's reassigned `getStats`.
#[derive(Debug)]
pub(crate) struct Settable<S>(Arc<Mutex<S>>);

impl<S> Clone for Settable<S> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<S: Clone> Settable<S> {
    pub(crate) fn new(stats: S) -> Self {
        Self(Arc::new(Mutex::new(stats)))
    }

    pub(crate) fn set(&self, stats: S) {
        *self.0.lock().unwrap() = stats;
    }
}

impl<S: HealthStats + Clone + Send + 'static> StatsSource for Settable<S> {
    type Stats = S;

    async fn stats(&self) -> Result<S, BoxError> {
        Ok(self.0.lock().unwrap().clone())
    }
}

/// A probe that reports whatever resident memory the test sets.
#[derive(Clone, Debug, Default)]
pub(crate) struct FedProbe(Arc<Mutex<Option<u64>>>);

impl FedProbe {
    pub(crate) fn with_rss_mb(mb: u64) -> Self {
        let probe = Self::default();
        probe.set_rss_mb(mb);
        probe
    }

    pub(crate) fn set_rss_mb(&self, mb: u64) {
        *self.0.lock().unwrap() = Some(mb * MIB);
    }
}

impl SystemProbe for FedProbe {
    fn sample(&self) -> SystemSample {
        let mut sample = SystemSample::default();
        sample.rss_bytes = *self.0.lock().unwrap();
        sample.threads = Some(4);
        sample.open_fds = Some(12);
        sample.uptime = Some(Duration::from_secs(60));
        sample
    }
}

/// Forwards every alert event to the test.
#[derive(Clone, Debug)]
pub(crate) struct ChannelSink(pub(crate) mpsc::UnboundedSender<AlertEvent>);

impl ChannelSink {
    pub(crate) fn new() -> (Self, mpsc::UnboundedReceiver<AlertEvent>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Self(tx), rx)
    }
}

impl AlertSink for ChannelSink {
    async fn deliver(&self, event: &AlertEvent) -> Result<(), BoxError> {
        self.0
            .send(event.clone())
            .map_err(|_| "test receiver gone".into())
    }
}

/// Waits for the next published report.
pub(crate) async fn next_report(
    rx: &mut watch::Receiver<Option<Arc<HealthReport>>>,
) -> Arc<HealthReport> {
    loop {
        rx.changed().await.expect("monitor dropped");
        if let Some(report) = rx.borrow_and_update().clone() {
            return report;
        }
    }
}

/// Lets every ready task (the alert dispatcher, sinks) run, advancing paused time by 1 ms only:
/// much less than any interval in these tests, so no check happens meanwhile.
pub(crate) async fn settle() {
    tokio::time::sleep(Duration::from_millis(1)).await;
}

/// The events delivered so far, as `(transition, type, report sequence)`.
pub(crate) fn drain(
    rx: &mut mpsc::UnboundedReceiver<AlertEvent>,
) -> Vec<(AlertTransition, String, u64)> {
    let mut events = Vec::new();
    while let Ok(event) = rx.try_recv() {
        events.push((
            event.transition,
            event.alert.kind.to_string(),
            event.report.sequence,
        ));
    }
    events
}
