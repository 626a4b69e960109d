//! The monitor's run-time settings (the `healthMonitor` config section), their keys, defaults
//! and validation.
//!
//! The settings are a plain value. The monitor takes a new one through
//! [`HealthMonitor::apply_settings`](super::HealthMonitor::apply_settings) and uses it from the
//! next check on, interval included, without a restart. Config code routes the section's keys
//! (`HEALTH_`, `ALERT_`, `MONITOR_` prefixes) here; [`MonitorSettings::from_entries`] is that
//! mapping for flat key/value pairs.

use super::rules::{RuleKind, RuleSpec, ThresholdOverrides};
use crate::config::Values;
use std::fmt;
use std::time::Duration;

/// The keys of the `healthMonitor` config section that are not thresholds. Every other
/// `HEALTH_` key is a threshold override (see [`ThresholdOverrides`]).
pub mod keys {
    /// Time between checks, in ms. Default 30000.
    pub const HEALTH_CHECK_INTERVAL_MS: &str = "HEALTH_CHECK_INTERVAL_MS";
    /// Time a component's check may take before it is critical `CHECK_TIMEOUT`, in ms. Default 5000.
    pub const HEALTH_CHECK_TIMEOUT_MS: &str = "HEALTH_CHECK_TIMEOUT_MS";
    /// Resident memory above which the overall status is at least degraded, in MB. Default 1000.
    pub const HEALTH_MAX_MEMORY_MB: &str = "HEALTH_MAX_MEMORY_MB";
    /// Reports kept in the history ring. Default 100.
    pub const MONITOR_HISTORY_LEN: &str = "MONITOR_HISTORY_LEN";
    /// Reports the summary's trend covers. Default 10.
    pub const MONITOR_TREND_WINDOW: &str = "MONITOR_TREND_WINDOW";
    /// Consecutive critical reports that fire `SUSTAINED_CRITICAL`. Default 4.
    pub const ALERT_SUSTAINED_CRITICAL_REPORTS: &str = "ALERT_SUSTAINED_CRITICAL_REPORTS";
    /// Growth of resident memory, in MB, across the window that fires `MEMORY_GROWTH`. Default 100.
    pub const ALERT_MEMORY_GROWTH_MB: &str = "ALERT_MEMORY_GROWTH_MB";
    /// Reports the memory growth is measured across. Default 10.
    pub const ALERT_MEMORY_GROWTH_REPORTS: &str = "ALERT_MEMORY_GROWTH_REPORTS";
    /// Consecutive critical checks of one component that fire `COMPONENT_CRITICAL`. Default 3.
    pub const ALERT_COMPONENT_CRITICAL_CHECKS: &str = "ALERT_COMPONENT_CRITICAL_CHECKS";
    /// Consecutive clear reports before a firing alert resolves (hysteresis). Default 1.
    pub const ALERT_RESOLVE_AFTER_REPORTS: &str = "ALERT_RESOLVE_AFTER_REPORTS";
    /// Alerts kept, firing and resolved. Default 100.
    pub const ALERT_HISTORY_LEN: &str = "ALERT_HISTORY_LEN";
    /// Time one sink may take to deliver one alert event, in ms. Default 5000.
    pub const ALERT_SINK_TIMEOUT_MS: &str = "ALERT_SINK_TIMEOUT_MS";

    /// Every key above.
    pub const ALL: &[&str] = &[
        HEALTH_CHECK_INTERVAL_MS,
        HEALTH_CHECK_TIMEOUT_MS,
        HEALTH_MAX_MEMORY_MB,
        MONITOR_HISTORY_LEN,
        MONITOR_TREND_WINDOW,
        ALERT_SUSTAINED_CRITICAL_REPORTS,
        ALERT_MEMORY_GROWTH_MB,
        ALERT_MEMORY_GROWTH_REPORTS,
        ALERT_COMPONENT_CRITICAL_CHECKS,
        ALERT_RESOLVE_AFTER_REPORTS,
        ALERT_HISTORY_LEN,
        ALERT_SINK_TIMEOUT_MS,
    ];
}

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
        "{component}.{metric}: degraded threshold {degraded} ({degraded_key}) must be less strict than critical {critical} ({critical_key})"
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

fn join(errors: &[SettingsError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl MonitorSettings {
    /// Builds settings from flat config entries: the keys in [`keys`] set their field, every
    /// other `HEALTH_*` key is a threshold override, and keys of other sections are ignored.
    /// Every bad value is reported, not just the first.
    ///
    /// ```
    /// use std::time::Duration;
    /// use thorp_ops::health::MonitorSettings;
    ///
    /// let settings = MonitorSettings::from_entries([
    ///     ("HEALTH_CHECK_INTERVAL_MS", "2000"),
    ///     ("HEALTH_MAX_RPC_LATENCY_MS", "50"),
    ///     ("RPC_DEFAULT_TIMEOUT_MS", "2000"),
    /// ])
    /// .unwrap();
    /// assert_eq!(settings.check_interval, Duration::from_secs(2));
    /// assert_eq!(settings.thresholds.get("HEALTH_MAX_RPC_LATENCY_MS"), Some(50.0));
    ///
    /// let err = MonitorSettings::from_entries([("ALERT_SUSTAINED_CRITICAL_REPORTS", "four")]);
    /// assert!(err.unwrap_err().to_string().contains("is not a whole number"));
    /// ```
    pub fn from_entries<'a>(
        entries: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, SettingsRejected> {
        use keys::*;
        let mut settings = Self::default();
        let mut errors = Vec::new();
        for (key, value) in entries {
            let value = value.trim();
            let mut ms = |target: &mut Duration| match value.parse::<u64>() {
                Ok(v) => *target = Duration::from_millis(v),
                Err(_) => errors.push(invalid(key, value, "a whole number of milliseconds")),
            };
            match key {
                HEALTH_CHECK_INTERVAL_MS => ms(&mut settings.check_interval),
                HEALTH_CHECK_TIMEOUT_MS => ms(&mut settings.check_timeout),
                ALERT_SINK_TIMEOUT_MS => ms(&mut settings.alerts.sink_timeout),
                HEALTH_MAX_MEMORY_MB => whole(key, value, &mut settings.max_memory_mb, &mut errors),
                ALERT_MEMORY_GROWTH_MB => whole(
                    key,
                    value,
                    &mut settings.alerts.memory_growth_mb,
                    &mut errors,
                ),
                MONITOR_HISTORY_LEN => whole(key, value, &mut settings.history_len, &mut errors),
                MONITOR_TREND_WINDOW => whole(key, value, &mut settings.trend_window, &mut errors),
                ALERT_SUSTAINED_CRITICAL_REPORTS => {
                    whole(
                        key,
                        value,
                        &mut settings.alerts.sustained_critical_reports,
                        &mut errors,
                    );
                }
                ALERT_MEMORY_GROWTH_REPORTS => whole(
                    key,
                    value,
                    &mut settings.alerts.memory_growth_reports,
                    &mut errors,
                ),
                ALERT_COMPONENT_CRITICAL_CHECKS => {
                    whole(
                        key,
                        value,
                        &mut settings.alerts.component_critical_checks,
                        &mut errors,
                    );
                }
                ALERT_RESOLVE_AFTER_REPORTS => whole(
                    key,
                    value,
                    &mut settings.alerts.resolve_after_reports,
                    &mut errors,
                ),
                ALERT_HISTORY_LEN => {
                    whole(key, value, &mut settings.alerts.history_len, &mut errors)
                }
                _ if key.starts_with("HEALTH_") => match value.parse::<f64>() {
                    Ok(v) => {
                        settings.thresholds.insert(key, v);
                    }
                    Err(_) => errors.push(invalid(key, value, "a number")),
                },
                _ if key.starts_with("ALERT_") || key.starts_with("MONITOR_") => {
                    errors.push(SettingsError::UnknownKey {
                        key: key.to_owned(),
                        suggestion: closest(key, keys::ALL.iter().copied()),
                    });
                }
                _ => {}
            }
        }
        if errors.is_empty() {
            Ok(settings)
        } else {
            Err(SettingsRejected { errors })
        }
    }

    /// Builds settings from a config snapshot's values (unknown keys included, as thresholds
    /// are not part of any schema); see [`from_entries`](Self::from_entries). A key removed from
    /// the file goes back to its default.
    pub fn from_values(values: &Values) -> Result<Self, SettingsRejected> {
        Self::from_entries(
            values
                .iter()
                .filter(|(key, _)| is_section_key(key))
                .filter_map(|(key, setting)| setting.expose().map(|value| (key, value))),
        )
    }

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
            keys::HEALTH_CHECK_INTERVAL_MS,
            "must be at least 1 ms",
        );
        positive(
            !self.check_timeout.is_zero(),
            keys::HEALTH_CHECK_TIMEOUT_MS,
            "must be at least 1 ms",
        );
        positive(
            self.history_len >= 1,
            keys::MONITOR_HISTORY_LEN,
            "must keep at least 1 report",
        );
        positive(
            self.trend_window >= 1,
            keys::MONITOR_TREND_WINDOW,
            "must cover at least 1 report",
        );
        let a = &self.alerts;
        positive(
            a.sustained_critical_reports >= 1,
            keys::ALERT_SUSTAINED_CRITICAL_REPORTS,
            "must be at least 1",
        );
        positive(
            a.memory_growth_reports >= 2,
            keys::ALERT_MEMORY_GROWTH_REPORTS,
            "growth needs at least 2 reports",
        );
        positive(
            a.component_critical_checks >= 1,
            keys::ALERT_COMPONENT_CRITICAL_CHECKS,
            "must be at least 1",
        );
        positive(
            a.resolve_after_reports >= 1,
            keys::ALERT_RESOLVE_AFTER_REPORTS,
            "must be at least 1",
        );
        positive(
            a.history_len >= 1,
            keys::ALERT_HISTORY_LEN,
            "must keep at least 1 alert",
        );
        positive(
            !a.sink_timeout.is_zero(),
            keys::ALERT_SINK_TIMEOUT_MS,
            "must be at least 1 ms",
        );

        let components: Vec<_> = components.into_iter().collect();
        let known = || {
            components
                .iter()
                .flat_map(|(_, rules)| rules.iter().filter_map(RuleSpec::key))
        };
        for (key, value) in self.thresholds.iter() {
            if !known().any(|k| k == key) {
                errors.push(SettingsError::UnknownKey {
                    key: key.to_owned(),
                    suggestion: closest(key, known().chain(keys::ALL.iter().copied())),
                });
            } else if !value.is_finite() {
                errors.push(SettingsError::NotFinite {
                    key: key.to_owned(),
                    value,
                });
            }
        }
        for (component, rules) in &components {
            inverted(component, rules, &self.thresholds, &mut errors);
        }
        errors
    }
}

/// The config component the monitor's settings are: its name, and the key prefixes it owns.
pub const CONFIG_SECTION: crate::config::Component =
    crate::config::Component::new("healthMonitor", &["HEALTH_", "ALERT_", "MONITOR_"]);

/// Whether `key` belongs to the `healthMonitor` section.
pub(crate) fn is_section_key(key: &str) -> bool {
    CONFIG_SECTION
        .prefixes
        .iter()
        .any(|prefix| key.starts_with(prefix))
}

fn invalid(key: &str, value: &str, expected: &'static str) -> SettingsError {
    SettingsError::Invalid {
        key: key.to_owned(),
        value: value.to_owned(),
        expected,
    }
}

fn whole<T: std::str::FromStr>(
    key: &str,
    value: &str,
    target: &mut T,
    errors: &mut Vec<SettingsError>,
) {
    match value.parse() {
        Ok(v) => *target = v,
        Err(_) => errors.push(invalid(key, value, "a whole number")),
    }
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
            let bad = if critical_kind == RuleKind::CriticalAbove {
                d >= c
            } else {
                d <= c
            };
            if bad {
                errors.push(SettingsError::Inverted {
                    component: component.to_owned(),
                    metric: degraded.metric_name,
                    degraded_key: degraded.key.unwrap_or_default(),
                    degraded: d,
                    critical_key: critical.key.unwrap_or_default(),
                    critical: c,
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

impl fmt::Display for MonitorSettings {
    /// The settings as config entries, thresholds included: what an operator would write.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let a = &self.alerts;
        writeln!(
            f,
            "{}={}",
            keys::HEALTH_CHECK_INTERVAL_MS,
            self.check_interval.as_millis()
        )?;
        writeln!(
            f,
            "{}={}",
            keys::HEALTH_CHECK_TIMEOUT_MS,
            self.check_timeout.as_millis()
        )?;
        writeln!(f, "{}={}", keys::HEALTH_MAX_MEMORY_MB, self.max_memory_mb)?;
        writeln!(f, "{}={}", keys::MONITOR_HISTORY_LEN, self.history_len)?;
        writeln!(f, "{}={}", keys::MONITOR_TREND_WINDOW, self.trend_window)?;
        writeln!(
            f,
            "{}={}",
            keys::ALERT_SUSTAINED_CRITICAL_REPORTS,
            a.sustained_critical_reports
        )?;
        writeln!(f, "{}={}", keys::ALERT_MEMORY_GROWTH_MB, a.memory_growth_mb)?;
        writeln!(
            f,
            "{}={}",
            keys::ALERT_MEMORY_GROWTH_REPORTS,
            a.memory_growth_reports
        )?;
        writeln!(
            f,
            "{}={}",
            keys::ALERT_COMPONENT_CRITICAL_CHECKS,
            a.component_critical_checks
        )?;
        writeln!(
            f,
            "{}={}",
            keys::ALERT_RESOLVE_AFTER_REPORTS,
            a.resolve_after_reports
        )?;
        writeln!(f, "{}={}", keys::ALERT_HISTORY_LEN, a.history_len)?;
        writeln!(
            f,
            "{}={}",
            keys::ALERT_SINK_TIMEOUT_MS,
            a.sink_timeout.as_millis()
        )?;
        for (key, value) in self.thresholds.iter() {
            writeln!(f, "{key}={value}")?;
        }
        Ok(())
    }
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
            issue: "OVER",
            key: Some("HEALTH_T_CRITICAL"),
            default: Some(95.0),
            variants: &[],
            details: None,
        },
    ];

    #[test]
    fn every_value_round_trips_through_entries() {
        let mut settings = MonitorSettings {
            check_interval: Duration::from_millis(1234),
            ..MonitorSettings::default()
        };
        settings.alerts.resolve_after_reports = 3;
        settings.thresholds.insert("HEALTH_T_DEGRADED", 70.5);
        let text = settings.to_string();
        let entries = text.lines().filter_map(|l| l.split_once('='));
        assert_eq!(MonitorSettings::from_entries(entries).unwrap(), settings);
    }

    #[test]
    fn every_bad_entry_is_reported() {
        let err = MonitorSettings::from_entries([
            ("HEALTH_CHECK_INTERVAL_MS", "soon"),
            ("HEALTH_T_DEGRADED", "high"),
            ("ALERT_SUSTAINED_CRITICAL_REPORT", "4"),
            ("LOG_LEVEL", "debug"),
        ])
        .unwrap_err();
        let text: Vec<_> = err.errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            [
                "HEALTH_CHECK_INTERVAL_MS: `soon` is not a whole number of milliseconds",
                "HEALTH_T_DEGRADED: `high` is not a number",
                "ALERT_SUSTAINED_CRITICAL_REPORT: not a health monitor setting nor any health rule's threshold key; did you mean `ALERT_SUSTAINED_CRITICAL_REPORTS`?",
            ]
        );
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
                key: keys::HEALTH_CHECK_INTERVAL_MS,
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

        settings.thresholds = [("HEALTH_T_CRITICAL", f64::NAN)].into_iter().collect();
        settings.check_interval = Duration::from_secs(1);
        assert!(matches!(
            settings.validate(rules)[..],
            [SettingsError::NotFinite { .. }]
        ));
    }
}
