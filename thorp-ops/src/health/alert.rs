//! Alerts: the conditions watched across reports, their fire-once/resolve/acknowledge
//! lifecycle, and the sinks they are delivered to.

use super::component::BoxError;
use super::report::HealthReport;
use super::settings::AlertSettings;
use super::status::HealthStatus;
use super::timestamp;
use serde::Serialize;
use std::borrow::Cow;
use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::SystemTime;

const MIB: u64 = 1024 * 1024;

/// What an alert is about.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AlertKind {
    /// `SUSTAINED_CRITICAL`: the overall status has been critical for
    /// `ALERT_SUSTAINED_CRITICAL_REPORTS` consecutive reports.
    SustainedCritical,
    /// `MEMORY_GROWTH`: resident memory grew by more than `ALERT_MEMORY_GROWTH_MB` across the
    /// last `ALERT_MEMORY_GROWTH_REPORTS` reports.
    MemoryGrowth,
    /// `COMPONENT_CRITICAL`: one component has been critical for
    /// `ALERT_COMPONENT_CRITICAL_CHECKS` consecutive checks.
    ComponentCritical {
        /// The component.
        component: Cow<'static, str>,
    },
}

impl AlertKind {
    /// The alert type code, e.g. `SUSTAINED_CRITICAL`.
    #[must_use]
    pub const fn code(&self) -> &'static str {
        match self {
            Self::SustainedCritical => "SUSTAINED_CRITICAL",
            Self::MemoryGrowth => "MEMORY_GROWTH",
            Self::ComponentCritical { .. } => "COMPONENT_CRITICAL",
        }
    }

    /// The component, for per-component alerts.
    #[must_use]
    pub fn component(&self) -> Option<&str> {
        match self {
            Self::ComponentCritical { component } => Some(component),
            _ => None,
        }
    }
}

impl fmt::Display for AlertKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.component() {
            Some(component) => write!(f, "{}({component})", self.code()),
            None => f.write_str(self.code()),
        }
    }
}

/// One alert episode: fired once when its condition began, resolved once when it cleared.
///
/// Serializes as `{"id", "type", "component"?, "message", "state": "firing"|"resolved",
/// "firedAt", "resolvedAt", "acknowledged", "acknowledgedAt", "reportSequence"}`.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Alert {
    /// Unique within the monitor, increasing.
    pub id: u64,
    /// What it is about.
    pub kind: AlertKind,
    /// What happened, for people.
    pub message: String,
    /// When it fired.
    pub fired_at: SystemTime,
    /// When it resolved; `None` while firing.
    pub resolved_at: Option<SystemTime>,
    /// When someone acknowledged it; acknowledged alerts leave the summary's active list.
    pub acknowledged_at: Option<SystemTime>,
    /// The report that fired it.
    pub report_sequence: u64,
}

impl Alert {
    /// Whether its condition still holds.
    #[must_use]
    pub fn is_firing(&self) -> bool {
        self.resolved_at.is_none()
    }

    /// Whether someone acknowledged it.
    #[must_use]
    pub fn is_acknowledged(&self) -> bool {
        self.acknowledged_at.is_some()
    }
}

impl Serialize for Alert {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        struct Time(Option<SystemTime>);
        impl Serialize for Time {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                timestamp::serialize_opt(&self.0, s)
            }
        }
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("id", &self.id)?;
        map.serialize_entry("type", self.kind.code())?;
        if let Some(component) = self.kind.component() {
            map.serialize_entry("component", component)?;
        }
        map.serialize_entry("message", &self.message)?;
        map.serialize_entry(
            "state",
            if self.is_firing() {
                "firing"
            } else {
                "resolved"
            },
        )?;
        map.serialize_entry("firedAt", &Time(Some(self.fired_at)))?;
        map.serialize_entry("resolvedAt", &Time(self.resolved_at))?;
        map.serialize_entry("acknowledged", &self.is_acknowledged())?;
        map.serialize_entry("acknowledgedAt", &Time(self.acknowledged_at))?;
        map.serialize_entry("reportSequence", &self.report_sequence)?;
        map.end()
    }
}

/// Whether an event is an alert beginning or ending.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertTransition {
    /// The condition began.
    Fired,
    /// The condition cleared.
    Resolved,
}

/// What sinks receive: an alert as it fires or resolves, with the report that caused it.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AlertEvent {
    /// Fired or resolved.
    pub transition: AlertTransition,
    /// The alert, as of this event.
    pub alert: Alert,
    /// The report that fired or resolved it.
    pub report: Arc<HealthReport>,
}

/// Where alert events go: a pager, a webhook, a chat room.
///
/// Sinks run on their own task, each event under `ALERT_SINK_TIMEOUT_MS`, so a slow or hung
/// sink delays neither checks nor other sinks. The default [`LogSink`] logs with `tracing`.
///
/// ```
/// use thorp_ops::health::{AlertEvent, AlertSink, BoxError};
///
/// struct Pager;
///
/// impl AlertSink for Pager {
///     async fn deliver(&self, event: &AlertEvent) -> Result<(), BoxError> {
///         let _page = format!("{}: {}", event.alert.kind, event.alert.message);
///         Ok(()) // send it
///     }
/// }
/// ```
pub trait AlertSink: Send + Sync + 'static {
    /// Delivers one event.
    fn deliver(&self, event: &AlertEvent) -> impl Future<Output = Result<(), BoxError>> + Send;

    /// A name for logs about this sink.
    fn name(&self) -> &str {
        std::any::type_name::<Self>()
    }
}

pub(crate) type SinkFuture<'a> = Pin<Box<dyn Future<Output = Result<(), BoxError>> + Send + 'a>>;

/// The object-safe form of [`AlertSink`] the monitor stores.
pub(crate) trait DynSink: Send + Sync + 'static {
    fn deliver_boxed<'a>(&'a self, event: &'a AlertEvent) -> SinkFuture<'a>;
    fn sink_name(&self) -> &str;
}

impl<S: AlertSink> DynSink for S {
    fn deliver_boxed<'a>(&'a self, event: &'a AlertEvent) -> SinkFuture<'a> {
        Box::pin(self.deliver(event))
    }
    fn sink_name(&self) -> &str {
        self.name()
    }
}

/// Logs alerts with `tracing`: `error` when one fires, `info` when it resolves.
#[derive(Clone, Copy, Debug, Default)]
pub struct LogSink;

impl AlertSink for LogSink {
    async fn deliver(&self, event: &AlertEvent) -> Result<(), BoxError> {
        let alert = &event.alert;
        let component = alert.kind.component().unwrap_or("");
        match event.transition {
            AlertTransition::Fired => tracing::error!(
                alert_id = alert.id,
                alert = alert.kind.code(),
                component,
                report = alert.report_sequence,
                message = %alert.message,
                "health alert fired"
            ),
            AlertTransition::Resolved => tracing::info!(
                alert_id = alert.id,
                alert = alert.kind.code(),
                component,
                report = event.report.sequence,
                "health alert resolved"
            ),
        }
        Ok(())
    }

    fn name(&self) -> &str {
        "log"
    }
}

/// Why an acknowledgement was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AckError {
    /// No alert has this id (or it was dropped from the bounded history).
    #[error("no alert with id {0}")]
    Unknown(u64),
    /// The alert already resolved; there is nothing left to silence.
    #[error("alert {0} already resolved")]
    Resolved(u64),
}

#[derive(Debug)]
struct Active {
    alert: Alert,
    clear_streak: usize,
}

/// Watches reports for alert conditions and keeps the bounded alert history.
#[derive(Debug, Default)]
pub(crate) struct AlertEngine {
    next_id: u64,
    log: VecDeque<Alert>,
    active: HashMap<AlertKind, Active>,
    critical_streak: usize,
    /// Consecutive critical checks of each component, in report order.
    component_streaks: Vec<(Cow<'static, str>, usize)>,
    memory: VecDeque<Option<u64>>,
}

impl AlertEngine {
    /// Takes in the next report; returns the alerts that fired or resolved with it.
    pub(crate) fn observe(
        &mut self,
        report: &HealthReport,
        settings: &AlertSettings,
        now: SystemTime,
    ) -> Vec<(AlertTransition, Alert)> {
        let mut conditions: Vec<(AlertKind, Option<String>)> = Vec::new();

        self.critical_streak = if report.overall == HealthStatus::Critical {
            self.critical_streak + 1
        } else {
            0
        };
        let sustained = (self.critical_streak >= settings.sustained_critical_reports).then(|| {
            format!(
                "overall status critical for {} consecutive reports",
                self.critical_streak
            )
        });
        conditions.push((AlertKind::SustainedCritical, sustained));

        self.memory.push_back(report.system.memory.rss_bytes);
        while self.memory.len() > settings.memory_growth_reports {
            self.memory.pop_front();
        }
        let growth = match (self.memory.front(), self.memory.back()) {
            (Some(Some(first)), Some(Some(last))) if self.memory.len() >= settings.memory_growth_reports => {
                last.checked_sub(*first)
                    .filter(|grown| *grown > settings.memory_growth_mb.saturating_mul(MIB))
                    .map(|grown| {
                        format!(
                            "resident memory grew by {} MB across the last {} reports ({} MB to {} MB)",
                            grown / MIB,
                            self.memory.len(),
                            first / MIB,
                            last / MIB
                        )
                    })
            }
            _ => None,
        };
        conditions.push((AlertKind::MemoryGrowth, growth));

        // Components keep their order from one report to the next, so the streaks line up
        // with the report's entries and a cycle costs no hashing. Only when the list changed
        // (a registration) are they carried over by name.
        let aligned = self.component_streaks.len() == report.components.len()
            && self
                .component_streaks
                .iter()
                .zip(&report.components)
                .all(|((name, _), component)| *name == component.name);
        if !aligned {
            let mut before: HashMap<Cow<'static, str>, usize> =
                self.component_streaks.drain(..).collect();
            self.component_streaks = report
                .components
                .iter()
                .map(|c| (c.name.clone(), before.remove(&c.name).unwrap_or(0)))
                .collect();
        }
        // Only components over the threshold make a condition: with thousands of healthy ones,
        // a condition each (a name cloned, an alert kind hashed) was most of a cycle's cost
        // (thorp-bench, figure 5). A set, not a list, for the same reason.
        let mut over_threshold: HashSet<&str> = HashSet::new();
        for (component, (_, streak)) in report.components.iter().zip(&mut self.component_streaks) {
            *streak = if component.health.status == HealthStatus::Critical {
                *streak + 1
            } else {
                0
            };
            if *streak < settings.component_critical_checks {
                continue;
            }
            let mut message = format!(
                "{} critical for {} consecutive checks",
                component.name, streak
            );
            if let Some(issue) = &component.health.issue {
                message.push_str(": ");
                message.push_str(issue);
            }
            if let Some(details) = &component.health.details {
                message.push_str(": ");
                message.push_str(details);
            }
            over_threshold.insert(&component.name);
            conditions.push((
                AlertKind::ComponentCritical {
                    component: component.name.clone(),
                },
                Some(message),
            ));
        }
        // A firing component alert whose component is back under the threshold, or no longer
        // reported, has nothing holding it.
        for kind in self.active.keys() {
            if let AlertKind::ComponentCritical { component } = kind
                && !over_threshold.contains(&**component)
            {
                conditions.push((kind.clone(), None));
            }
        }

        let mut events = Vec::new();
        for (kind, message) in conditions {
            match (message, self.active.get_mut(&kind)) {
                (Some(_), Some(active)) => active.clear_streak = 0,
                (Some(message), None) => {
                    self.next_id += 1;
                    let alert = Alert {
                        id: self.next_id,
                        kind: kind.clone(),
                        message,
                        fired_at: now,
                        resolved_at: None,
                        acknowledged_at: None,
                        report_sequence: report.sequence,
                    };
                    self.push_log(alert.clone(), settings.history_len);
                    self.active.insert(
                        kind,
                        Active {
                            alert: alert.clone(),
                            clear_streak: 0,
                        },
                    );
                    events.push((AlertTransition::Fired, alert));
                }
                (None, Some(active)) => {
                    active.clear_streak += 1;
                    if active.clear_streak >= settings.resolve_after_reports
                        && let Some(Active { mut alert, .. }) = self.active.remove(&kind)
                    {
                        alert.resolved_at = Some(now);
                        self.update_log(&alert);
                        events.push((AlertTransition::Resolved, alert));
                    }
                }
                (None, None) => {}
            }
        }
        events
    }

    fn push_log(&mut self, alert: Alert, capacity: usize) {
        self.log.push_back(alert);
        while self.log.len() > capacity.max(1) {
            // Drop the oldest resolved alert; only when every kept alert is firing, the oldest.
            let index = self.log.iter().position(|a| !a.is_firing()).unwrap_or(0);
            self.log.remove(index);
        }
    }

    fn update_log(&mut self, alert: &Alert) {
        if let Some(entry) = self.log.iter_mut().find(|a| a.id == alert.id) {
            *entry = alert.clone();
        }
    }

    /// Silences a firing alert until it resolves. Acknowledging twice is fine.
    pub(crate) fn acknowledge(&mut self, id: u64, now: SystemTime) -> Result<Alert, AckError> {
        if let Some(active) = self.active.values_mut().find(|a| a.alert.id == id) {
            active.alert.acknowledged_at.get_or_insert(now);
            let alert = active.alert.clone();
            self.update_log(&alert);
            return Ok(alert);
        }
        if self.log.iter().any(|a| a.id == id) {
            Err(AckError::Resolved(id))
        } else {
            Err(AckError::Unknown(id))
        }
    }

    /// The kept alerts, oldest first.
    pub(crate) fn alerts(&self) -> Vec<Alert> {
        self.log.iter().cloned().collect()
    }

    /// Firing, unacknowledged alerts, oldest first.
    pub(crate) fn active_unacknowledged(&self) -> Vec<Alert> {
        let mut alerts: Vec<_> = self
            .active
            .values()
            .filter(|a| !a.alert.is_acknowledged())
            .map(|a| a.alert.clone())
            .collect();
        alerts.sort_by_key(|a| a.id);
        alerts
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test, with its message
mod tests {
    use super::*;
    use crate::health::report::{ComponentHealth, ComponentReport, MemoryMetrics, SystemMetrics};
    use std::time::{Duration, UNIX_EPOCH};

    fn report(
        sequence: u64,
        overall: HealthStatus,
        rss_mb: u64,
        components: &[(&'static str, HealthStatus)],
    ) -> HealthReport {
        HealthReport {
            sequence,
            timestamp: UNIX_EPOCH,
            overall,
            components: components
                .iter()
                .map(|&(name, status)| ComponentReport {
                    name: name.into(),
                    health: match status {
                        HealthStatus::Critical => ComponentHealth::critical("BROKEN", "it broke"),
                        HealthStatus::Degraded => ComponentHealth::degraded("MEH", "meh"),
                        HealthStatus::Healthy => ComponentHealth::healthy(),
                    },
                    last_check: UNIX_EPOCH,
                    duration: Duration::ZERO,
                    affects_readiness: true,
                })
                .collect(),
            system: SystemMetrics {
                status: HealthStatus::Healthy,
                issue: None,
                details: None,
                memory: MemoryMetrics {
                    rss_mb: Some(rss_mb),
                    rss_bytes: Some(rss_mb * MIB),
                    limit_mb: 1000,
                },
                uptime: None,
                pid: 1,
                threads: None,
                open_fds: None,
            },
        }
    }

    fn codes(events: &[(AlertTransition, Alert)]) -> Vec<(AlertTransition, String)> {
        events
            .iter()
            .map(|(t, a)| (*t, a.kind.to_string()))
            .collect()
    }

    use AlertTransition::{Fired, Resolved};
    use HealthStatus::{Critical, Healthy};

    #[test]
    fn sustained_critical_fires_once_per_episode_and_resolves() {
        let settings = AlertSettings::default();
        let mut engine = AlertEngine::default();
        let mut fired = Vec::new();
        for seq in 1..=6 {
            fired.push(codes(&engine.observe(
                &report(seq, Critical, 10, &[]),
                &settings,
                UNIX_EPOCH,
            )));
        }
        assert_eq!(fired[..3], [vec![], vec![], vec![]]);
        assert_eq!(
            fired[3],
            [(Fired, "SUSTAINED_CRITICAL".to_owned())],
            "fires on the 4th"
        );
        assert_eq!(fired[4..], [vec![], vec![]], "and only once");
        let events = engine.observe(&report(7, Healthy, 10, &[]), &settings, UNIX_EPOCH);
        assert_eq!(
            codes(&events),
            [(Resolved, "SUSTAINED_CRITICAL".to_owned())]
        );
        assert!(events[0].1.resolved_at.is_some());
        assert_eq!(engine.alerts().len(), 1);
        assert!(!engine.alerts()[0].is_firing());
    }

    #[test]
    fn hysteresis_needs_consecutive_clear_reports() {
        let settings = AlertSettings {
            sustained_critical_reports: 1,
            resolve_after_reports: 2,
            ..AlertSettings::default()
        };
        let mut engine = AlertEngine::default();
        let mut step = |seq, status| {
            codes(&engine.observe(&report(seq, status, 10, &[]), &settings, UNIX_EPOCH))
        };
        assert_eq!(
            step(1, Critical),
            [(Fired, "SUSTAINED_CRITICAL".to_owned())]
        );
        assert_eq!(step(2, Healthy), []);
        assert_eq!(
            step(3, Critical),
            [],
            "one clear report does not resolve, nor does the flap re-fire"
        );
        assert_eq!(step(4, Healthy), []);
        assert_eq!(
            step(5, Healthy),
            [(Resolved, "SUSTAINED_CRITICAL".to_owned())]
        );
    }

    #[test]
    fn memory_growth_over_the_window() {
        let settings = AlertSettings::default();
        let mut engine = AlertEngine::default();
        // 10 reports from 200 MB to 300 MB: growth of exactly 100 MB is not more than 100.
        for (i, mb) in [200, 210, 220, 230, 240, 250, 260, 270, 280, 300]
            .into_iter()
            .enumerate()
        {
            let events = engine.observe(&report(i as u64, Healthy, mb, &[]), &settings, UNIX_EPOCH);
            assert_eq!(codes(&events), [], "report {i} at {mb} MB");
        }
        // The window slides to 210..=312: 102 MB.
        let events = engine.observe(&report(20, Healthy, 312, &[]), &settings, UNIX_EPOCH);
        assert_eq!(codes(&events), [(Fired, "MEMORY_GROWTH".to_owned())]);
        assert!(
            events[0].1.message.contains("grew by 102 MB"),
            "{}",
            events[0].1.message
        );
        assert_eq!(
            codes(&engine.observe(&report(21, Healthy, 312, &[]), &settings, UNIX_EPOCH)),
            [(Resolved, "MEMORY_GROWTH".to_owned())],
            "220..=312 is 92 MB"
        );
    }

    #[test]
    fn component_critical_per_component_and_acknowledgement() {
        let settings = AlertSettings::default();
        let mut engine = AlertEngine::default();
        let mut last = Vec::new();
        for seq in 1..=3 {
            last = engine.observe(
                &report(
                    seq,
                    HealthStatus::Degraded,
                    10,
                    &[("a", Critical), ("b", Healthy)],
                ),
                &settings,
                UNIX_EPOCH,
            );
        }
        assert_eq!(codes(&last), [(Fired, "COMPONENT_CRITICAL(a)".to_owned())]);
        assert!(
            last[0]
                .1
                .message
                .ends_with("a critical for 3 consecutive checks: BROKEN: it broke")
        );
        let id = last[0].1.id;
        assert_eq!(engine.active_unacknowledged().len(), 1);

        let acked = engine
            .acknowledge(id, UNIX_EPOCH + Duration::from_secs(1))
            .unwrap();
        assert!(acked.is_acknowledged());
        assert_eq!(engine.active_unacknowledged(), []);
        assert_eq!(
            engine.acknowledge(id, UNIX_EPOCH).unwrap().acknowledged_at,
            acked.acknowledged_at
        );
        assert_eq!(
            engine.acknowledge(99, UNIX_EPOCH),
            Err(AckError::Unknown(99))
        );

        let events = engine.observe(
            &report(4, Healthy, 10, &[("a", Healthy)]),
            &settings,
            UNIX_EPOCH,
        );
        assert_eq!(
            codes(&events),
            [(Resolved, "COMPONENT_CRITICAL(a)".to_owned())]
        );
        assert!(
            events[0].1.is_acknowledged(),
            "the resolution still carries the ack"
        );
        assert_eq!(
            engine.acknowledge(id, UNIX_EPOCH),
            Err(AckError::Resolved(id))
        );
    }

    #[test]
    fn history_is_bounded_and_drops_resolved_first() {
        let settings = AlertSettings {
            component_critical_checks: 1,
            history_len: 3,
            ..AlertSettings::default()
        };
        let mut engine = AlertEngine::default();
        // "keep" stays critical throughout; the others fire and resolve in turn.
        for (seq, name) in ["x", "y", "z", "w"].into_iter().enumerate() {
            let seq = seq as u64 * 2;
            engine.observe(
                &report(
                    seq,
                    HealthStatus::Degraded,
                    10,
                    &[("keep", Critical), (name, Critical)],
                ),
                &settings,
                UNIX_EPOCH,
            );
            engine.observe(
                &report(
                    seq + 1,
                    HealthStatus::Degraded,
                    10,
                    &[("keep", Critical), (name, Healthy)],
                ),
                &settings,
                UNIX_EPOCH,
            );
        }
        let kept: Vec<_> = engine.alerts().iter().map(|a| a.kind.to_string()).collect();
        assert_eq!(
            kept,
            [
                "COMPONENT_CRITICAL(keep)",
                "COMPONENT_CRITICAL(z)",
                "COMPONENT_CRITICAL(w)"
            ]
        );
        assert!(engine.alerts()[0].is_firing());
    }

    #[test]
    fn alerts_serialize() {
        let alert = Alert {
            id: 3,
            kind: AlertKind::ComponentCritical {
                component: "rpcPool".into(),
            },
            message: "m".into(),
            fired_at: UNIX_EPOCH,
            resolved_at: None,
            acknowledged_at: None,
            report_sequence: 9,
        };
        assert_eq!(
            serde_json::to_value(&alert).unwrap(),
            serde_json::json!({"id": 3, "type": "COMPONENT_CRITICAL", "component": "rpcPool", "message": "m",
                "state": "firing", "firedAt": "1970-01-01T00:00:00.000Z", "resolvedAt": null,
                "acknowledged": false, "acknowledgedAt": null, "reportSequence": 9})
        );
    }
}
