//! The monitor's run-time settings, plain values, and what the monitor requires of them.
//!
//! The settings are a plain value. The monitor takes a new one through
//! [`HealthMonitor::apply_settings`](super::HealthMonitor::apply_settings) and uses it from the
//! next check on, interval included, without a restart. From a config file they come from the
//! `healthMonitor` section, `HealthConfig` (with the `derive` feature), whose keys each field
//! names below.

use super::report::Unit;
use super::rules::{RuleKind, RuleSpec, ThresholdOverrides};
use std::time::Duration;

/// The monitor's settings. Every field names its config key; `Default` gives the seed's values.
///
/// ```
/// use std::time::Duration;
/// use thorp_ops::health::MonitorSettings;
///
/// let mut settings = MonitorSettings::default();
/// settings.check_interval = Duration::from_secs(5);
/// settings.thresholds.insert("HEALTH_MAX_RPC_LATENCY_MS", 50.0);
/// assert_eq!(settings.alerts.sustained_critical_reports, 4);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct MonitorSettings {
    /// `HEALTH_CHECK_INTERVAL_MS` (default 30 s): time between checks.
    pub check_interval: Duration,
    /// `HEALTH_CHECK_TIMEOUT_MS` (default 5 s): a check still running then is critical
    /// `CHECK_TIMEOUT`, and the report goes out without waiting for it.
    pub check_timeout: Duration,
    /// `HEALTH_MAX_MEMORY_MB` (default 1000): resident memory above it degrades the overall status.
    pub max_memory_mb: u64,
    /// `MONITOR_HISTORY_LEN` (default 100): reports kept.
    pub history_len: usize,
    /// `MONITOR_TREND_WINDOW` (default 10): reports the summary's trend covers.
    pub trend_window: usize,
    /// Every other `HEALTH_*` key: threshold overrides by rule key.
    pub thresholds: ThresholdOverrides,
    /// The `ALERT_*` keys.
    pub alerts: AlertSettings,
}

impl Default for MonitorSettings {
    fn default() -> Self {
        Self {
            check_interval: Duration::from_secs(30),
            check_timeout: Duration::from_secs(5),
            max_memory_mb: 1000,
            history_len: 100,
            trend_window: 10,
            thresholds: ThresholdOverrides::new(),
            alerts: AlertSettings::default(),
        }
    }
}

/// When alerts fire and resolve, and how they are delivered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlertSettings {
    /// `ALERT_SUSTAINED_CRITICAL_REPORTS` (default 4, the seed's "2 minutes at 30 s").
    pub sustained_critical_reports: usize,
    /// `ALERT_MEMORY_GROWTH_MB` (default 100): growth that fires `MEMORY_GROWTH`.
    pub memory_growth_mb: u64,
    /// `ALERT_MEMORY_GROWTH_REPORTS` (default 10): the reports growth is measured across
    /// (first to last).
    pub memory_growth_reports: usize,
    /// `ALERT_COMPONENT_CRITICAL_CHECKS` (default 3): consecutive critical checks of one
    /// component that fire `COMPONENT_CRITICAL` for it.
    pub component_critical_checks: usize,
    /// `ALERT_RESOLVE_AFTER_REPORTS` (default 1): consecutive reports without the condition
    /// before a firing alert resolves; more than 1 keeps a flapping condition from re-firing.
    pub resolve_after_reports: usize,
    /// `ALERT_HISTORY_LEN` (default 100): alerts kept, oldest resolved ones dropped first.
    pub history_len: usize,
    /// `ALERT_SINK_TIMEOUT_MS` (default 5 s): time one sink may take with one event.
    pub sink_timeout: Duration,
}

impl Default for AlertSettings {
    fn default() -> Self {
        Self {
            sustained_critical_reports: 4,
            memory_growth_mb: 100,
            memory_growth_reports: 10,
            component_critical_checks: 3,
            resolve_after_reports: 1,
            history_len: 100,
            sink_timeout: Duration::from_secs(5),
        }
    }
}

/// One problem with a settings value.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SettingsError {
    /// A value that does not parse.
    #[error("{key}: `{value}` is not {expected}")]
    Invalid {
        /// The key.
        key: String,
        /// The value given.
        value: String,
        /// What the key takes.
        expected: &'static str,
    },
    /// A value outside what the key allows.
    #[error("{key}: {reason}")]
    OutOfRange {
        /// The key.
        key: &'static str,
        /// Why.
        reason: &'static str,
    },
    /// A key that is neither a setting nor the threshold key of a registered component's rule.
    #[error("{key}: not a health monitor setting nor any health rule's threshold key{}", suggestion_text(.suggestion))]
    UnknownKey {
        /// The key.
        key: String,
        /// The closest known key, if one is close.
        suggestion: Option<String>,
    },
    /// A threshold no reading of its metric can cross, given the metric's unit.
    #[error("{key}: threshold {value} is outside what the metric can read (expected {expected})")]
    OutsideUnit {
        /// The key.
        key: String,
        /// The value.
        value: f64,
        /// What the unit allows.
        expected: &'static str,
    },
    /// A threshold that is not a finite number.
    #[error("{key}: threshold must be a finite number, got {value}")]
    NotFinite {
        /// The key.
        key: String,
        /// The value.
        value: f64,
    },
    /// An override that makes a degraded threshold as strict as, or stricter than, the critical
    /// one on the same metric.
    #[error(
        "{degraded_key}: {degraded} must be {bound} {critical_key} ({critical}), the critical threshold of {component}.{metric}, or the degraded state could never show"
    )]
    Inverted {
        /// The component.
        component: String,
        /// The metric.
        metric: &'static str,
        /// The degraded rule's key.
        degraded_key: &'static str,
        /// Its threshold in force.
        degraded: f64,
        /// The critical rule's key.
        critical_key: &'static str,
        /// Its threshold in force.
        critical: f64,
        /// Where the degraded threshold must be: `below` the critical one for `_above` rules,
        /// `above` it for `_below` rules.
        bound: &'static str,
    },
}

fn suggestion_text(suggestion: &Option<String>) -> String {
    suggestion
        .as_ref()
        .map_or_else(String::new, |s| format!("; did you mean `{s}`?"))
}

/// Settings the monitor refused; the previous settings stay in force.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("health monitor settings rejected: {}", join(.errors))]
pub struct SettingsRejected {
    /// Every problem found.
    pub errors: Vec<SettingsError>,
}

impl SettingsError {
    /// The key the problem is with (for an inverted pair, the degraded rule's).
    #[must_use]
    pub fn key(&self) -> &str {
        match self {
            Self::Invalid { key, .. }
            | Self::UnknownKey { key, .. }
            | Self::OutsideUnit { key, .. }
            | Self::NotFinite { key, .. } => key,
            Self::OutOfRange { key, .. } => key,
            Self::Inverted { degraded_key, .. } => degraded_key,
        }
    }
}

fn join(errors: &[SettingsError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl MonitorSettings {
    /// Checks these settings on their own and against the rules of the registered components
    /// (`(component name, its rules)`), collecting every problem.
    pub(crate) fn validate<'a>(
        &self,
        components: impl IntoIterator<Item = (&'a str, &'static [RuleSpec])>,
    ) -> Vec<SettingsError> {
        let mut errors = Vec::new();
        let mut positive = |ok: bool, key, reason| {
            if !ok {
                errors.push(SettingsError::OutOfRange { key, reason });
            }
        };
        positive(
            !self.check_interval.is_zero(),
            "HEALTH_CHECK_INTERVAL_MS",
            "must be at least 1 ms",
        );
        positive(
            !self.check_timeout.is_zero(),
            "HEALTH_CHECK_TIMEOUT_MS",
            "must be at least 1 ms",
        );
        positive(
            self.history_len >= 1,
            "MONITOR_HISTORY_LEN",
            "must keep at least 1 report",
        );
        positive(
            self.trend_window >= 1,
            "MONITOR_TREND_WINDOW",
            "must cover at least 1 report",
        );
        let a = &self.alerts;
        positive(
            a.sustained_critical_reports >= 1,
            "ALERT_SUSTAINED_CRITICAL_REPORTS",
            "must be at least 1",
        );
        positive(
            a.memory_growth_reports >= 2,
            "ALERT_MEMORY_GROWTH_REPORTS",
            "growth needs at least 2 reports",
        );
        positive(
            a.component_critical_checks >= 1,
            "ALERT_COMPONENT_CRITICAL_CHECKS",
            "must be at least 1",
        );
        positive(
            a.resolve_after_reports >= 1,
            "ALERT_RESOLVE_AFTER_REPORTS",
            "must be at least 1",
        );
        positive(
            a.history_len >= 1,
            "ALERT_HISTORY_LEN",
            "must keep at least 1 alert",
        );
        positive(
            !a.sink_timeout.is_zero(),
            "ALERT_SINK_TIMEOUT_MS",
            "must be at least 1 ms",
        );

        let components: Vec<_> = components.into_iter().collect();
        let known = || {
            components
                .iter()
                .flat_map(|(_, rules)| rules.iter().filter_map(RuleSpec::key))
        };
        for (key, value) in self.thresholds.iter() {
            let rule = components
                .iter()
                .flat_map(|(_, rules)| rules.iter())
                .find(|rule| rule.key == Some(key));
            let Some(rule) = rule else {
                errors.push(SettingsError::UnknownKey {
                    key: key.to_owned(),
                    suggestion: closest(key, known().chain(fixed_keys())),
                });
                continue;
            };
            if !value.is_finite() {
                errors.push(SettingsError::NotFinite {
                    key: key.to_owned(),
                    value,
                });
            } else if let Some(expected) = outside_unit(rule.unit(), value) {
                errors.push(SettingsError::OutsideUnit {
                    key: key.to_owned(),
                    value,
                    expected,
                });
            }
        }
        for (component, rules) in &components {
            inverted(component, rules, &self.thresholds, &mut errors);
        }
        errors
    }
}

/// What a threshold on a metric of `unit` must be, when `value` is not: a metric with a unit
/// never goes below zero, a ratio never above 1, a percentage never above 100, so a threshold
/// past those bounds is a mistake (a percentage written for a ratio, most often) that would
/// leave the rule always or never firing.
fn outside_unit(unit: Option<Unit>, value: f64) -> Option<&'static str> {
    let inside = match unit {
        None => true,
        Some(Unit::Ratio) => (0.0..=1.0).contains(&value),
        Some(Unit::Percent) => (0.0..=100.0).contains(&value),
        Some(_) => value >= 0.0,
    };
    (!inside).then(|| threshold_expectation(unit))
}

/// What a threshold on a metric of `unit` may be, as a template or an error says it.
pub(crate) fn threshold_expectation(unit: Option<Unit>) -> &'static str {
    match unit {
        None => "a number",
        Some(Unit::Ratio) => "a ratio from 0 to 1",
        Some(Unit::Percent) => "a percentage from 0 to 100",
        Some(_) => "a number, not negative",
    }
}

/// The section's own keys, which a misspelt threshold key may be close to.
fn fixed_keys() -> impl Iterator<Item = &'static str> {
    #[cfg(feature = "derive")]
    let keys = <super::HealthConfig as crate::HotConfig>::SCHEMA.keys;
    #[cfg(not(feature = "derive"))]
    let keys: &[crate::config::KeySpec] = &[];
    keys.iter().map(|spec| spec.key)
}

/// Degraded thresholds must stay less strict than critical ones on the same metric after
/// overrides, or the degraded state could never show.
fn inverted(
    component: &str,
    rules: &'static [RuleSpec],
    overrides: &ThresholdOverrides,
    errors: &mut Vec<SettingsError>,
) {
    let effective = |rule: &RuleSpec| {
        rule.default
            .map(|default| rule.key.and_then(|k| overrides.get(k)).unwrap_or(default))
    };
    for degraded in rules {
        let critical_kind = match degraded.kind {
            RuleKind::DegradedAbove => RuleKind::CriticalAbove,
            RuleKind::DegradedBelow => RuleKind::CriticalBelow,
            _ => continue,
        };
        for critical in rules
            .iter()
            .filter(|r| r.kind == critical_kind && r.metric == degraded.metric)
        {
            let (Some(d), Some(c)) = (effective(degraded), effective(critical)) else {
                continue;
            };
            let (bad, bound) = if critical_kind == RuleKind::CriticalAbove {
                (d >= c, "below")
            } else {
                (d <= c, "above")
            };
            if bad {
                errors.push(SettingsError::Inverted {
                    component: component.to_owned(),
                    metric: degraded.metric_name,
                    degraded_key: degraded.key.unwrap_or_default(),
                    degraded: d,
                    critical_key: critical.key.unwrap_or_default(),
                    critical: c,
                    bound,
                });
            }
        }
    }
}

/// The known key closest to `key`, when it is close enough to be a typo.
pub(crate) fn closest<'a>(key: &str, known: impl Iterator<Item = &'a str>) -> Option<String> {
    known
        .map(|k| (strsim::jaro_winkler(key, k), k))
        .filter(|(score, _)| *score > 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k.to_owned())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test, with its message
mod tests {
    use super::*;
    use crate::health::rules::RuleKind;

    static RULES: [RuleSpec; 2] = [
        RuleSpec {
            kind: RuleKind::DegradedAbove,
            metric: 0,
            metric_name: "utilization",
            unit: Some(Unit::Percent),
            issue: "HIGH",
            key: Some("HEALTH_T_DEGRADED"),
            default: Some(80.0),
            variants: &[],
            details: None,
        },
        RuleSpec {
            kind: RuleKind::CriticalAbove,
            metric: 0,
            metric_name: "utilization",
            unit: Some(Unit::Percent),
            issue: "OVER",
            key: Some("HEALTH_T_CRITICAL"),
            default: Some(95.0),
            variants: &[],
            details: None,
        },
    ];

    #[test]
    fn thresholds_stay_inside_what_their_unit_can_read() {
        assert_eq!(outside_unit(Some(Unit::Ratio), 1.0), None);
        assert!(outside_unit(Some(Unit::Ratio), 1.01).is_some());
        assert_eq!(outside_unit(Some(Unit::Percent), 100.0), None);
        assert!(outside_unit(Some(Unit::Percent), 101.0).is_some());
        assert!(outside_unit(Some(Unit::Percent), -1.0).is_some());
        assert_eq!(outside_unit(Some(Unit::Milliseconds), 1e9), None);
        assert!(outside_unit(Some(Unit::Count), -0.5).is_some());
        assert_eq!(outside_unit(None, -40.0), None, "no unit, no bound");
    }

    #[test]
    fn validation_knows_the_rules() {
        let rules = [("bp", &RULES[..])];
        assert_eq!(MonitorSettings::default().validate(rules), []);

        let mut settings = MonitorSettings {
            check_interval: Duration::ZERO,
            ..MonitorSettings::default()
        };
        settings.thresholds.insert("HEALTH_T_DEGRADE", 50.0);
        settings.thresholds.insert("HEALTH_T_CRITICAL", 60.0);
        settings.thresholds.insert("HEALTH_T_DEGRADED", 60.0);
        let errors = settings.validate(rules);
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(matches!(
            errors[0],
            SettingsError::OutOfRange {
                key: "HEALTH_CHECK_INTERVAL_MS",
                ..
            }
        ));
        assert_eq!(
            errors[1],
            SettingsError::UnknownKey {
                key: "HEALTH_T_DEGRADE".into(),
                suggestion: Some("HEALTH_T_DEGRADED".into())
            }
        );
        assert!(
            matches!(errors[2], SettingsError::Inverted { degraded, critical, .. } if degraded == 60.0 && critical == 60.0)
        );
        assert_eq!(
            errors[2].to_string(),
            "HEALTH_T_DEGRADED: 60 must be below HEALTH_T_CRITICAL (60), the critical threshold \
             of bp.utilization, or the degraded state could never show"
        );

        settings.thresholds = [("HEALTH_T_CRITICAL", f64::NAN)].into_iter().collect();
        settings.check_interval = Duration::from_secs(1);
        assert!(matches!(
            settings.validate(rules)[..],
            [SettingsError::NotFinite { .. }]
        ));
    }

    /// A fixed key written without its unit reads as a threshold key; the monitor points at
    /// the key that was meant.
    #[cfg(feature = "derive")]
    #[test]
    fn a_misspelt_fixed_key_is_suggested() {
        let settings = MonitorSettings {
            thresholds: [("HEALTH_CHECK_INTERVAL", 5.0)].into_iter().collect(),
            ..MonitorSettings::default()
        };
        assert_eq!(
            settings.validate([("bp", &RULES[..])]),
            [SettingsError::UnknownKey {
                key: "HEALTH_CHECK_INTERVAL".into(),
                suggestion: Some("HEALTH_CHECK_INTERVAL_MS".into())
            }]
        );
    }
}
