//! The monitor's config section (`healthMonitor`): its fixed keys as one typed `HotConfig`
//! struct, and the dynamic threshold keys under its open `HEALTH_` prefix.

use super::rules::ThresholdOverrides;
use super::settings::{AlertSettings, MonitorSettings, SettingsError, SettingsRejected};
use crate::HotConfig;
use crate::config::{Origin, Setting, Values};
use std::time::Duration;

/// The health monitor's fixed keys (`healthMonitor`: `HEALTH_`, `ALERT_`, `MONITOR_`), with
/// their defaults and bounds; `HEALTH_` is open to the threshold keys of registered rules.
///
/// An application flattens [`HealthConfig`] into its own config, so the loader types and
/// bounds these keys with the file's line, lists them in the template and the config view, and
/// routes their changes to the monitor like any other component's:
///
/// ```
/// use thorp_ops::HotConfig;
/// use thorp_ops::config::load_str;
/// use thorp_ops::health::HealthConfig;
///
/// /// The service's config.
/// #[derive(HotConfig, Debug)]
/// struct ServiceConfig {
///     /// The health monitor.
///     #[hot_config(flatten)]
///     health: HealthConfig,
/// }
///
/// let loaded = load_str::<ServiceConfig>(
///     "HEALTH_CHECK_INTERVAL_MS=5000\nHEALTH_MAX_RPC_LATENCY_MS=50\n",
/// )?;
/// assert!(loaded.warnings.is_empty(), "a threshold key is not an unknown key");
/// let settings = loaded.config.health.settings(&loaded.values)?;
/// assert_eq!(settings.check_interval.as_millis(), 5000);
/// assert_eq!(settings.thresholds.get("HEALTH_MAX_RPC_LATENCY_MS"), Some(50.0));
///
/// let errors = load_str::<ServiceConfig>("HEALTH_CHECK_INTERVAL_MS=0\n").unwrap_err();
/// assert_eq!(
///     errors.to_string(),
///     r#"1: HEALTH_CHECK_INTERVAL_MS: "0" is below the minimum (expected 1..=3600000)"#
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Every other `HEALTH_` key is a threshold override, named after a rule of some registered
/// component (see [`ThresholdOverrides`](super::ThresholdOverrides)); which ones exist is only
/// known once components register, so the loader takes them as they come and the monitor
/// checks them: [`HealthMonitor::follow_config`](super::HealthMonitor::follow_config) refuses a
/// file with a threshold key no rule has (with a did-you-mean), a value that is not a number,
/// or a degraded threshold made as strict as its critical one.
#[derive(HotConfig, Debug, Clone, PartialEq, Eq)]
#[hot_config(
    component = "healthMonitor",
    open_prefix = "HEALTH_",
    prefix = "ALERT_",
    prefix = "MONITOR_"
)]
#[non_exhaustive]
pub struct HealthConfig {
    /// Time between two health checks, in milliseconds.
    #[hot_config(key = "HEALTH_CHECK_INTERVAL_MS", range = 1..=3_600_000, default = 30_000)]
    pub check_interval_ms: u64,
    /// Time one component's check may take before it is critical CHECK_TIMEOUT, in milliseconds.
    #[hot_config(key = "HEALTH_CHECK_TIMEOUT_MS", range = 1..=600_000, default = 5000)]
    pub check_timeout_ms: u64,
    /// Resident memory above which the service is at least degraded, in MB.
    #[hot_config(key = "HEALTH_MAX_MEMORY_MB", range = 1..=1_048_576, default = 1000)]
    pub max_memory_mb: u64,
    /// Reports kept in the history.
    #[hot_config(key = "MONITOR_HISTORY_LEN", range = 1..=100_000, default = 100)]
    pub history_len: usize,
    /// Reports the trend of the summary covers.
    #[hot_config(key = "MONITOR_TREND_WINDOW", range = 1..=10_000, default = 10)]
    pub trend_window: usize,
    /// Consecutive critical reports that fire SUSTAINED_CRITICAL.
    #[hot_config(key = "ALERT_SUSTAINED_CRITICAL_REPORTS", range = 1..=10_000, default = 4)]
    pub sustained_critical_reports: usize,
    /// Memory growth across ALERT_MEMORY_GROWTH_REPORTS reports that fires MEMORY_GROWTH, in MB.
    #[hot_config(key = "ALERT_MEMORY_GROWTH_MB", range = 1..=1_048_576, default = 100)]
    pub memory_growth_mb: u64,
    /// Reports the memory growth is measured across (first to last).
    #[hot_config(key = "ALERT_MEMORY_GROWTH_REPORTS", range = 2..=10_000, default = 10)]
    pub memory_growth_reports: usize,
    /// Consecutive critical checks of one component that fire COMPONENT_CRITICAL.
    #[hot_config(key = "ALERT_COMPONENT_CRITICAL_CHECKS", range = 1..=10_000, default = 3)]
    pub component_critical_checks: usize,
    /// Consecutive clear reports before a firing alert resolves.
    #[hot_config(key = "ALERT_RESOLVE_AFTER_REPORTS", range = 1..=10_000, default = 1)]
    pub resolve_after_reports: usize,
    /// Alerts kept, firing and resolved.
    #[hot_config(key = "ALERT_HISTORY_LEN", range = 1..=100_000, default = 100)]
    pub alert_history_len: usize,
    /// Time one alert sink may take with one alert, in milliseconds.
    #[hot_config(key = "ALERT_SINK_TIMEOUT_MS", range = 1..=600_000, default = 5000)]
    pub sink_timeout_ms: u64,
}

impl HealthConfig {
    /// The monitor's settings: this section's values, and the threshold overrides among
    /// `values` (the loaded config's effective values: the keys under the section's open
    /// prefixes that no field of the config declares). Every threshold that is not a number is
    /// reported; whether each names a rule is for the monitor to check, against its components.
    pub fn settings(&self, values: &Values) -> Result<MonitorSettings, SettingsRejected> {
        let mut thresholds = ThresholdOverrides::new();
        let mut errors = Vec::new();
        for (key, setting) in values.iter() {
            if setting.is_known() || !Self::SCHEMA.is_open(key) {
                continue;
            }
            let raw = setting.expose().unwrap_or_default();
            match raw.trim().parse::<f64>() {
                Ok(value) => {
                    thresholds.insert(key, value);
                }
                Err(_) => errors.push(SettingsError::Invalid {
                    key: key.to_owned(),
                    value: setting.shown().unwrap_or_default().into_owned(),
                    expected: "a number",
                }),
            }
        }
        if !errors.is_empty() {
            return Err(SettingsRejected { errors });
        }
        let millis = Duration::from_millis;
        Ok(MonitorSettings {
            check_interval: millis(self.check_interval_ms),
            check_timeout: millis(self.check_timeout_ms),
            max_memory_mb: self.max_memory_mb,
            history_len: self.history_len,
            trend_window: self.trend_window,
            thresholds,
            alerts: AlertSettings {
                sustained_critical_reports: self.sustained_critical_reports,
                memory_growth_mb: self.memory_growth_mb,
                memory_growth_reports: self.memory_growth_reports,
                component_critical_checks: self.component_critical_checks,
                resolve_after_reports: self.resolve_after_reports,
                history_len: self.alert_history_len,
                sink_timeout: millis(self.sink_timeout_ms),
            },
        })
    }
}

impl SettingsRejected {
    /// The problems as one line, each led by the line of the file its key is set on: what a
    /// reload record says of a file the monitor refused.
    pub(crate) fn located(&self, values: &Values) -> String {
        let problems: Vec<String> = self
            .errors
            .iter()
            .map(|error| match values.get(error.key()).map(Setting::origin) {
                Some(Origin::Line(line)) => format!("line {line}: {error}"),
                _ => error.to_string(),
            })
            .collect();
        format!("health monitor settings rejected: {}", problems.join("; "))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test, with its message
mod tests {
    use super::*;
    use crate::config::{ConfigWarning, load_str};

    fn settings(text: &str) -> Result<MonitorSettings, SettingsRejected> {
        let loaded = load_str::<HealthConfig>(text).unwrap();
        loaded.config.settings(&loaded.values)
    }

    #[test]
    fn the_section_defaults_are_the_monitor_defaults() {
        assert_eq!(
            settings("# nothing set\n").unwrap(),
            MonitorSettings::default()
        );
    }

    /// The bounds in the attributes are what the monitor accepts at the least: every key at its
    /// lower bound gives settings the monitor takes, so the file can never let through what
    /// `apply_settings` would refuse.
    #[test]
    fn every_lower_bound_is_a_setting_the_monitor_takes() {
        let text: String = HealthConfig::SCHEMA
            .keys
            .iter()
            .map(|spec| format!("{}={}\n", spec.key, spec.min.unwrap()))
            .collect();
        let at_minimum = settings(&text).unwrap();
        assert_eq!(at_minimum.check_interval, Duration::from_millis(1));
        assert_eq!(at_minimum.validate([]), []);
    }

    #[test]
    fn thresholds_are_the_undeclared_health_keys() {
        let loaded = load_str::<HealthConfig>(
            "HEALTH_CHECK_TIMEOUT_MS=100\nHEALTH_MAX_RPC_LATENCY_MS= 50 \nALERT_TYPO=1\n",
        )
        .unwrap();
        assert!(
            matches!(&loaded.warnings[..], [ConfigWarning::UnknownKey { key, .. }] if key == "ALERT_TYPO"),
            "only a key under a closed prefix is unknown: {:?}",
            loaded.warnings
        );
        let settings = loaded.config.settings(&loaded.values).unwrap();
        let thresholds: Vec<_> = settings.thresholds.iter().collect();
        assert_eq!(thresholds, [("HEALTH_MAX_RPC_LATENCY_MS", 50.0)]);
        assert_eq!(settings.check_timeout, Duration::from_millis(100));
    }

    #[test]
    fn every_threshold_that_is_not_a_number_is_reported() {
        let err = settings("HEALTH_A=high\nHEALTH_B=1\nHEALTH_C_TOKEN=s3cret\n").unwrap_err();
        let text: Vec<_> = err.errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            [
                "HEALTH_A: `high` is not a number",
                "HEALTH_C_TOKEN: `[redacted]` is not a number",
            ]
        );
    }
}
