//! The bounded history of reports, the trend over its most recent part, and the summary.

use super::alert::Alert;
use super::report::HealthReport;
use super::status::HealthStatus;
use serde::Serialize;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

/// The last `capacity` reports, oldest first.
#[derive(Debug, Default)]
pub(crate) struct History {
    reports: VecDeque<Arc<HealthReport>>,
}

impl History {
    pub(crate) fn push(&mut self, report: Arc<HealthReport>, capacity: usize) {
        self.reports.push_back(report);
        while self.reports.len() > capacity.max(1) {
            self.reports.pop_front();
        }
    }

    pub(crate) fn last(&self) -> Option<&Arc<HealthReport>> {
        self.reports.back()
    }

    pub(crate) fn to_vec(&self) -> Vec<Arc<HealthReport>> {
        self.reports.iter().cloned().collect()
    }

    pub(crate) fn trend(&self, window: usize) -> Trend {
        let skip = self.reports.len().saturating_sub(window.max(1));
        let mut trend = Trend::default();
        for report in self.reports.iter().skip(skip) {
            trend.reports += 1;
            match report.overall {
                HealthStatus::Healthy => trend.healthy += 1,
                HealthStatus::Degraded => trend.degraded += 1,
                HealthStatus::Critical => trend.critical += 1,
            }
        }
        trend
    }
}

/// How the overall status was distributed over the most recent reports.
///
/// Serializes as `{"reports", "healthyPct", "degradedPct", "criticalPct"}`, percentages rounded
/// as the seed does (so they may not add up to exactly 100).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Trend {
    /// Reports counted (up to `MONITOR_TREND_WINDOW`).
    pub reports: usize,
    /// Of which healthy.
    pub healthy: usize,
    /// Of which degraded.
    pub degraded: usize,
    /// Of which critical.
    pub critical: usize,
}

impl Trend {
    fn pct(&self, n: usize) -> u8 {
        if self.reports == 0 {
            return 0;
        }
        // n <= reports, so the result is in 0..=100.
        u8::try_from((n * 200 + self.reports) / (2 * self.reports)).unwrap_or(100)
    }

    /// Healthy share, rounded percent.
    #[must_use]
    pub fn healthy_pct(&self) -> u8 {
        self.pct(self.healthy)
    }
    /// Degraded share, rounded percent.
    #[must_use]
    pub fn degraded_pct(&self) -> u8 {
        self.pct(self.degraded)
    }
    /// Critical share, rounded percent.
    #[must_use]
    pub fn critical_pct(&self) -> u8 {
        self.pct(self.critical)
    }
}

impl Serialize for Trend {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(4))?;
        map.serialize_entry("reports", &self.reports)?;
        map.serialize_entry("healthyPct", &self.healthy_pct())?;
        map.serialize_entry("degradedPct", &self.degraded_pct())?;
        map.serialize_entry("criticalPct", &self.critical_pct())?;
        map.end()
    }
}

/// Where things stand: what [`HealthMonitor::summary`](super::HealthMonitor::summary) answers
/// once there is at least one report (before that it answers `None`).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct HealthSummary {
    /// The latest report.
    #[serde(rename = "currentHealth")]
    pub current: Arc<HealthReport>,
    /// The overall status over the last `MONITOR_TREND_WINDOW` reports.
    #[serde(rename = "recentTrend")]
    pub trend: Trend,
    /// Firing alerts nobody acknowledged, oldest first.
    pub active_alerts: Vec<Alert>,
    /// Reports made since the monitor was created (not only those still in the history).
    pub total_reports: u64,
    /// Time from the first report to the latest.
    #[serde(rename = "monitoringDurationMs", serialize_with = "as_millis")]
    pub monitoring_duration: Duration,
}

fn as_millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test, with its message
mod tests {
    use super::*;

    #[test]
    fn trend_percentages_round_like_the_seed() {
        let t = Trend {
            reports: 3,
            healthy: 1,
            degraded: 1,
            critical: 1,
        };
        assert_eq!(
            (t.healthy_pct(), t.degraded_pct(), t.critical_pct()),
            (33, 33, 33)
        );
        let t = Trend {
            reports: 8,
            healthy: 5,
            degraded: 3,
            critical: 0,
        };
        // 62.5 rounds up, 37.5 rounds up: Math.round.
        assert_eq!(
            (t.healthy_pct(), t.degraded_pct(), t.critical_pct()),
            (63, 38, 0)
        );
        assert_eq!(Trend::default().healthy_pct(), 0);
        assert_eq!(
            serde_json::to_value(Trend {
                reports: 2,
                healthy: 2,
                degraded: 0,
                critical: 0
            })
            .unwrap(),
            serde_json::json!({"reports": 2, "healthyPct": 100, "degradedPct": 0, "criticalPct": 0})
        );
    }
}
