//! What a check says: component health, metrics with units, and the report that gathers them.

use super::status::HealthStatus;
use super::timestamp;
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use std::borrow::Cow;
use std::fmt;
use std::time::{Duration, SystemTime};

/// The unit of a metric, declared on a stats field (`#[health(unit = "ms")]`) or inferred from
/// its name (`p95_latency_ms`); see [`health_component`](crate::health_component) for the rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub enum Unit {
    /// Milliseconds, `"ms"`.
    #[serde(rename = "ms")]
    Milliseconds,
    /// Microseconds, `"us"`.
    #[serde(rename = "us")]
    Microseconds,
    /// Seconds, `"s"`.
    #[serde(rename = "s")]
    Seconds,
    /// Bytes, `"bytes"`.
    #[serde(rename = "bytes")]
    Bytes,
    /// Mebibytes (the seed's "MB": 1024 × 1024 bytes), `"MB"`.
    #[serde(rename = "MB")]
    Megabytes,
    /// Percent, 0 to 100, `"percent"`.
    #[serde(rename = "percent")]
    Percent,
    /// A fraction, 0 to 1, `"ratio"`.
    #[serde(rename = "ratio")]
    Ratio,
    /// Events per second, `"per_second"`.
    #[serde(rename = "per_second")]
    PerSecond,
    /// A count of things, `"count"`.
    #[serde(rename = "count")]
    Count,
}

impl Unit {
    /// The unit's short name, as accepted by `#[health(unit = "...")]`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Milliseconds => "ms",
            Self::Microseconds => "us",
            Self::Seconds => "s",
            Self::Bytes => "bytes",
            Self::Megabytes => "MB",
            Self::Percent => "percent",
            Self::Ratio => "ratio",
            Self::PerSecond => "per_second",
            Self::Count => "count",
        }
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The value of one metric. Serializes as a bare JSON number, boolean or string.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum MetricValue {
    /// A floating-point reading (`NaN` serializes as `null`).
    Float(f64),
    /// A signed integer reading.
    Int(i64),
    /// An unsigned integer reading.
    UInt(u64),
    /// A flag.
    Bool(bool),
    /// A state or label, e.g. a circuit breaker's `"OPEN"`.
    Text(Cow<'static, str>),
}

impl MetricValue {
    /// The value as a number, for gauges and thresholds: integers convert, `true` is 1, text has
    /// no number.
    #[must_use]
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Self::Float(v) => Some(v),
            // Precision loss past 2^53 is irrelevant for health thresholds and gauges.
            #[allow(clippy::cast_precision_loss)]
            Self::Int(v) => Some(v as f64),
            #[allow(clippy::cast_precision_loss)]
            Self::UInt(v) => Some(v as f64),
            Self::Bool(v) => Some(if v { 1.0 } else { 0.0 }),
            Self::Text(_) => None,
        }
    }
}

impl fmt::Display for MetricValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Float(v) => write!(f, "{v}"),
            Self::Int(v) => write!(f, "{v}"),
            Self::UInt(v) => write!(f, "{v}"),
            Self::Bool(v) => write!(f, "{v}"),
            Self::Text(v) => f.write_str(v),
        }
    }
}

/// One named reading of a component, with its unit.
#[derive(Clone, Debug, PartialEq)]
pub struct Metric {
    /// The name in reports: the field's name in lowerCamelCase unless renamed.
    pub name: Cow<'static, str>,
    /// The unit, when the value has one.
    pub unit: Option<Unit>,
    /// The reading.
    pub value: MetricValue,
}

/// One broken rule: which metric, against which threshold, and what it means.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Violation {
    /// The status this rule asks for.
    pub status: HealthStatus,
    /// The rule's issue code, e.g. `HIGH_LATENCY`.
    pub issue: Cow<'static, str>,
    /// The rule's message with its placeholders filled in.
    pub details: String,
    /// The metric the rule watches.
    pub metric: Cow<'static, str>,
    /// The threshold in force at this check (after overrides); `None` for state rules.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    /// The key that overrides the threshold; `None` for state rules.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<&'static str>,
}

impl Violation {
    /// A violation of a hand-written rule (generated rules build their own).
    #[must_use]
    pub fn new(
        status: HealthStatus,
        issue: impl Into<Cow<'static, str>>,
        details: impl Into<String>,
        metric: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self {
            status,
            issue: issue.into(),
            details: details.into(),
            metric: metric.into(),
            threshold: None,
            key: None,
        }
    }

    pub(crate) fn with_threshold(
        mut self,
        threshold: Option<f64>,
        key: Option<&'static str>,
    ) -> Self {
        self.threshold = threshold;
        self.key = key;
        self
    }
}

/// What one check of one component found.
///
/// Built by the code `#[health_component]` generates, or by hand in a
/// [`HealthCheck`](super::HealthCheck):
///
/// ```
/// use thorp_ops::health::{ComponentHealth, HealthStatus, Unit};
///
/// let health = ComponentHealth::degraded("SLOW_DISK", "fsync took 250 ms")
///     .with_metric("fsyncMs", Some(Unit::Milliseconds), 250.0);
/// assert_eq!(health.status, HealthStatus::Degraded);
/// assert_eq!(health.metric("fsyncMs").and_then(|m| m.value.as_f64()), Some(250.0));
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ComponentHealth {
    /// The worst status among the violated rules, or healthy.
    pub status: HealthStatus,
    /// The issue code of the first declared rule of the worst severity.
    pub issue: Option<Cow<'static, str>>,
    /// That rule's message.
    pub details: Option<String>,
    /// Why the check itself failed (error, panic or timeout), when it did.
    pub error: Option<String>,
    /// Every violated rule, in declaration order.
    pub violations: Vec<Violation>,
    /// Every reading, in declaration order.
    pub metrics: Vec<Metric>,
}

/// Issue code of a check that did not finish within the check timeout.
pub const CHECK_TIMEOUT: &str = "CHECK_TIMEOUT";
/// Issue code of a check that panicked.
pub const CHECK_PANICKED: &str = "CHECK_PANICKED";
/// Issue code of a check that returned an error.
pub const CHECK_FAILED: &str = "CHECK_FAILED";

impl ComponentHealth {
    fn with_status(status: HealthStatus) -> Self {
        Self {
            status,
            issue: None,
            details: None,
            error: None,
            violations: Vec::new(),
            metrics: Vec::new(),
        }
    }

    /// Healthy, with no metrics yet.
    #[must_use]
    pub fn healthy() -> Self {
        Self::with_status(HealthStatus::Healthy)
    }

    /// Degraded with an issue code and message.
    #[must_use]
    pub fn degraded(issue: impl Into<Cow<'static, str>>, details: impl Into<String>) -> Self {
        Self::with_issue(HealthStatus::Degraded, issue.into(), details.into())
    }

    /// Critical with an issue code and message.
    #[must_use]
    pub fn critical(issue: impl Into<Cow<'static, str>>, details: impl Into<String>) -> Self {
        Self::with_issue(HealthStatus::Critical, issue.into(), details.into())
    }

    fn with_issue(status: HealthStatus, issue: Cow<'static, str>, details: String) -> Self {
        Self {
            issue: Some(issue),
            details: Some(details),
            ..Self::with_status(status)
        }
    }

    /// A check that could not produce health: critical with `issue` and the error text.
    pub(crate) fn failed(issue: &'static str, details: String, error: String) -> Self {
        Self {
            error: Some(error),
            ..Self::with_issue(HealthStatus::Critical, Cow::Borrowed(issue), details)
        }
    }

    /// Adds a reading.
    #[must_use]
    pub fn with_metric(
        mut self,
        name: impl Into<Cow<'static, str>>,
        unit: Option<Unit>,
        value: impl Into<MetricValue>,
    ) -> Self {
        self.metrics.push(Metric {
            name: name.into(),
            unit,
            value: value.into(),
        });
        self
    }

    /// The reading called `name`, if any.
    #[must_use]
    pub fn metric(&self, name: &str) -> Option<&Metric> {
        self.metrics.iter().find(|m| m.name == name)
    }
}

macro_rules! metric_value_from {
    ($($ty:ty => $variant:ident as $as:ty),* $(,)?) => {$(
        impl From<$ty> for MetricValue {
            fn from(value: $ty) -> Self {
                Self::$variant(<$as>::from(value))
            }
        }
    )*};
}
metric_value_from!(
    f64 => Float as f64, f32 => Float as f64,
    i8 => Int as i64, i16 => Int as i64, i32 => Int as i64, i64 => Int as i64,
    u8 => UInt as u64, u16 => UInt as u64, u32 => UInt as u64, u64 => UInt as u64,
    bool => Bool as bool,
);

impl From<&'static str> for MetricValue {
    fn from(value: &'static str) -> Self {
        Self::Text(Cow::Borrowed(value))
    }
}

impl From<String> for MetricValue {
    fn from(value: String) -> Self {
        Self::Text(Cow::Owned(value))
    }
}

/// Serializes as the seed's component object: `status`, `issue`, `details`, `error`, `metrics`
/// (name to value) plus `units` (name to unit, only metrics that have one) and `violations`.
impl Serialize for ComponentHealth {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        serialize_health_fields(self, &mut map)?;
        map.end()
    }
}

fn serialize_health_fields<M: SerializeMap>(
    health: &ComponentHealth,
    map: &mut M,
) -> Result<(), M::Error> {
    struct Metrics<'a>(&'a [Metric]);
    impl Serialize for Metrics<'_> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.collect_map(self.0.iter().map(|m| (&m.name, &m.value)))
        }
    }
    struct Units<'a>(&'a [Metric]);
    impl Serialize for Units<'_> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.collect_map(
                self.0
                    .iter()
                    .filter_map(|m| m.unit.map(|unit| (&m.name, unit.as_str()))),
            )
        }
    }

    map.serialize_entry("status", &health.status)?;
    if let Some(issue) = &health.issue {
        map.serialize_entry("issue", issue)?;
    }
    if let Some(details) = &health.details {
        map.serialize_entry("details", details)?;
    }
    if let Some(error) = &health.error {
        map.serialize_entry("error", error)?;
    }
    map.serialize_entry("metrics", &Metrics(&health.metrics))?;
    if health.metrics.iter().any(|m| m.unit.is_some()) {
        map.serialize_entry("units", &Units(&health.metrics))?;
    }
    if !health.violations.is_empty() {
        map.serialize_entry("violations", &health.violations)?;
    }
    Ok(())
}

/// One component's entry in a [`HealthReport`].
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ComponentReport {
    /// The component's registered name, e.g. `rpcPool`.
    pub name: Cow<'static, str>,
    /// What the check found.
    pub health: ComponentHealth,
    /// When the check finished (or was given up on).
    pub last_check: SystemTime,
    /// How long the check took.
    pub duration: Duration,
    /// Whether this component being critical makes the service not ready.
    pub affects_readiness: bool,
}

impl Serialize for ComponentReport {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        serialize_health_fields(&self.health, &mut map)?;
        map.serialize_entry("lastCheck", &crate::time::rfc3339(self.last_check))?;
        map.serialize_entry("durationMs", &(self.duration.as_secs_f64() * 1000.0))?;
        map.serialize_entry("affectsReadiness", &self.affects_readiness)?;
        map.end()
    }
}

/// Process memory in a report.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct MemoryMetrics {
    /// Resident set size, rounded to whole MB (MiB) as the seed does; `None` when unreadable.
    #[serde(rename = "rssMemoryMB")]
    pub rss_mb: Option<u64>,
    /// Resident set size in bytes.
    #[serde(rename = "rssBytes")]
    pub rss_bytes: Option<u64>,
    /// The `HEALTH_MAX_MEMORY_MB` in force: above it the overall status is at least degraded.
    #[serde(rename = "limitMB")]
    pub limit_mb: u64,
}

/// Process-level readings taken with every check.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SystemMetrics {
    /// Degraded when memory is over its limit, else healthy.
    pub status: HealthStatus,
    /// `HIGH_MEMORY` when memory is over its limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issue: Option<Cow<'static, str>>,
    /// What is wrong, when something is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    /// Resident memory.
    pub memory: MemoryMetrics,
    /// Process uptime in seconds, when known.
    pub uptime: Option<f64>,
    /// Process id.
    pub pid: u32,
    /// Number of threads, when known.
    pub threads: Option<u64>,
    /// Number of open file descriptors, when known.
    pub open_fds: Option<u64>,
}

/// Issue code of the system entry when resident memory is over `HEALTH_MAX_MEMORY_MB`.
pub const HIGH_MEMORY: &str = "HIGH_MEMORY";

/// Everything one monitor tick found, in the seed's JSON shape:
///
/// ```json
/// { "sequence": 7, "timestamp": "2024-05-01T12:34:56.789Z", "overall": "degraded",
///   "components": { "rpcPool": { "status": "degraded", "issue": "HIGH_LATENCY",
///       "details": "P95 latency 200ms exceeds threshold 100ms",
///       "metrics": { "p95LatencyMs": 200.0 }, "units": { "p95LatencyMs": "ms" },
///       "lastCheck": "2024-05-01T12:34:56.790Z", "durationMs": 0.05 } },
///   "system": { "status": "healthy", "memory": { "rssMemoryMB": 41, "rssBytes": 43122688,
///       "limitMB": 1000 }, "uptime": 12.5, "pid": 4242, "threads": 9, "openFds": 17 } }
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct HealthReport {
    /// 1 for the monitor's first report, then one more per report.
    pub sequence: u64,
    /// When the check began (wall clock).
    #[serde(serialize_with = "timestamp::serialize")]
    pub timestamp: SystemTime,
    /// The worst of the components' and the system's statuses.
    pub overall: HealthStatus,
    /// One entry per registered component, in registration order (a JSON object by name).
    #[serde(serialize_with = "serialize_components")]
    pub components: Vec<ComponentReport>,
    /// Process readings.
    pub system: SystemMetrics,
}

fn serialize_components<S: Serializer>(
    components: &[ComponentReport],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_map(components.iter().map(|c| (&c.name, c)))
}

impl HealthReport {
    /// The entry of the component called `name`.
    #[must_use]
    pub fn component(&self, name: &str) -> Option<&ComponentReport> {
        self.components.iter().find(|c| c.name == name)
    }

    /// Critical components that count for readiness: while there is one, the service should be
    /// taken out of rotation.
    pub fn readiness_blockers(&self) -> impl Iterator<Item = &ComponentReport> {
        self.components
            .iter()
            .filter(|c| c.affects_readiness && c.health.status == HealthStatus::Critical)
    }

    /// Components whose status is `status`, in registration order.
    pub fn components_with(&self, status: HealthStatus) -> impl Iterator<Item = &ComponentReport> {
        self.components
            .iter()
            .filter(move |c| c.health.status == status)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test, with its message
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn component_health_serializes_in_the_seed_shape() {
        let health = ComponentHealth::critical("HIGH_ERROR_RATE", "Success rate 80% below 95%")
            .with_metric("successRate", Some(Unit::Ratio), 0.8)
            .with_metric("activeConnections", None, 25u32)
            .with_metric("state", None, "OPEN");
        let report = ComponentReport {
            name: "rpcPool".into(),
            health,
            last_check: std::time::UNIX_EPOCH + Duration::from_millis(1500),
            duration: Duration::from_micros(250),
            affects_readiness: true,
        };
        assert_eq!(
            serde_json::to_value(&report).unwrap(),
            json!({
                "status": "critical",
                "issue": "HIGH_ERROR_RATE",
                "details": "Success rate 80% below 95%",
                "metrics": { "successRate": 0.8, "activeConnections": 25, "state": "OPEN" },
                "units": { "successRate": "ratio" },
                "lastCheck": "1970-01-01T00:00:01.500Z",
                "durationMs": 0.25,
                "affectsReadiness": true,
            })
        );
    }

    #[test]
    fn metric_values_convert_to_numbers() {
        assert_eq!(MetricValue::from(3u8).as_f64(), Some(3.0));
        assert_eq!(MetricValue::from(-3i32).as_f64(), Some(-3.0));
        assert_eq!(MetricValue::from(true).as_f64(), Some(1.0));
        assert_eq!(MetricValue::from("OPEN").as_f64(), None);
        assert_eq!(MetricValue::from(0.5f32).to_string(), "0.5");
    }
}
