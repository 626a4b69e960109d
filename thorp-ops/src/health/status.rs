//! The three-state health status and how statuses combine.

use serde::Serialize;
use std::fmt;

/// How well a component, or the whole service, is doing.
///
/// The order is the severity: `Healthy < Degraded < Critical`, so the worst of several statuses
/// is their maximum.
///
/// ```
/// use thorp_ops::health::HealthStatus;
///
/// let overall = [HealthStatus::Healthy, HealthStatus::Critical, HealthStatus::Degraded]
///     .into_iter()
///     .fold(HealthStatus::Healthy, HealthStatus::worst);
/// assert_eq!(overall, HealthStatus::Critical);
/// assert_eq!(serde_json::to_string(&overall).unwrap(), "\"critical\"");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    /// Working as intended.
    #[default]
    Healthy,
    /// Working, but outside its comfortable range; worth a look.
    Degraded,
    /// Not working, or about to stop working; needs someone now.
    Critical,
}

impl HealthStatus {
    /// The more severe of `self` and `other`.
    #[must_use]
    pub fn worst(self, other: Self) -> Self {
        self.max(other)
    }

    /// The lowercase name used in reports: `healthy`, `degraded` or `critical`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Healthy => "healthy",
            Self::Degraded => "degraded",
            Self::Critical => "critical",
        }
    }

    /// A small number for gauges: 0 healthy, 1 degraded, 2 critical.
    #[must_use]
    pub const fn as_gauge(self) -> u8 {
        match self {
            Self::Healthy => 0,
            Self::Degraded => 1,
            Self::Critical => 2,
        }
    }
}

impl fmt::Display for HealthStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test, with its message
mod tests {
    use super::HealthStatus::{Critical, Degraded, Healthy};

    #[test]
    fn worst_is_the_most_severe() {
        assert_eq!(Healthy.worst(Degraded), Degraded);
        assert_eq!(Critical.worst(Degraded), Critical);
        assert_eq!(Healthy.worst(Healthy), Healthy);
    }

    #[test]
    fn names_and_gauges() {
        assert_eq!(Degraded.to_string(), "degraded");
        assert_eq!(
            [Healthy, Degraded, Critical].map(|s| s.as_gauge()),
            [0, 1, 2]
        );
    }
}
