//! Threshold rules: what `#[health_component]` declares, how overrides replace thresholds, and
//! the evaluation the generated code drives.

use super::report::{ComponentHealth, Metric, MetricValue, Unit, Violation};
use super::status::HealthStatus;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

/// A stats type with health rules: implemented by `#[health_component]`, not by hand.
///
/// The constants describe the component statically (for docs, the config schema and the
/// Prometheus layer); [`evaluate`](HealthStats::evaluate) turns one reading into health.
pub trait HealthStats {
    /// The component's default name in reports, e.g. `rpcPool`.
    const NAME: &'static str;
    /// Every metric, in field order.
    const METRICS: &'static [MetricSpec];
    /// Every rule, in declaration order.
    const RULES: &'static [RuleSpec];
    /// Whether this component being critical makes the service not ready (out of rotation).
    /// `#[health_component(readiness = false)]` for components whose failure the service
    /// rides out, such as an open circuit breaker.
    const AFFECTS_READINESS: bool = true;

    /// Applies the rules, with thresholds taken from `ctx` where overridden.
    fn evaluate(&self, ctx: &CheckContext) -> ComponentHealth;
}

/// A field type a threshold rule can compare: every primitive integer and float.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a number, so it cannot carry an `_above`/`_below` health rule",
    label = "threshold rules need a numeric field (f64, f32, u64, i32, ...)",
    note = "for enum states use `degraded_when`/`critical_when`"
)]
pub trait HealthNumber {
    /// The value compared with the threshold.
    fn health_f64(&self) -> f64;

    /// The value as a metric (integers stay integers).
    fn health_metric(&self) -> MetricValue;
}

/// A field type that can be listed as a metric: numbers, `bool`, text, and enums that implement
/// [`HealthState`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a health metric",
    label = "every field of a `#[health_component]` struct becomes a metric",
    note = "implement `HealthState` for an enum, or mark the field `#[health(skip)]`"
)]
pub trait MetricField {
    /// The field's reading.
    fn metric_value(&self) -> MetricValue;
}

/// An enum state that `degraded_when`/`critical_when` rules match and reports print.
///
/// ```
/// use thorp_ops::health::HealthState;
///
/// enum Link { Up, Flapping, Down }
///
/// impl HealthState for Link {
///     fn as_str(&self) -> &'static str {
///         match self {
///             Link::Up => "UP",
///             Link::Flapping => "FLAPPING",
///             Link::Down => "DOWN",
///         }
///     }
/// }
/// assert_eq!(Link::Down.as_str(), "DOWN");
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a health state",
    label = "`degraded_when`/`critical_when` need an enum that implements `HealthState`",
    note = "implement `HealthState::as_str` to name each variant in reports"
)]
pub trait HealthState {
    /// The state's name in reports, e.g. `"HALF_OPEN"`.
    fn as_str(&self) -> &'static str;
}

macro_rules! numbers {
    ($($ty:ty),*) => {$(
        impl HealthNumber for $ty {
            // Precision loss past 2^53 is irrelevant when comparing with a threshold.
            #[allow(clippy::cast_precision_loss, clippy::cast_lossless)]
            fn health_f64(&self) -> f64 {
                *self as f64
            }
            fn health_metric(&self) -> MetricValue {
                MetricValue::from(*self)
            }
        }
        impl MetricField for $ty {
            fn metric_value(&self) -> MetricValue {
                MetricValue::from(*self)
            }
        }
    )*};
}
numbers!(f64, f32, i8, i16, i32, i64, u8, u16, u32, u64);

impl HealthNumber for usize {
    #[allow(clippy::cast_precision_loss)]
    fn health_f64(&self) -> f64 {
        *self as f64
    }
    fn health_metric(&self) -> MetricValue {
        self.metric_value()
    }
}

impl MetricField for usize {
    fn metric_value(&self) -> MetricValue {
        MetricValue::UInt(u64::try_from(*self).unwrap_or(u64::MAX))
    }
}

impl HealthNumber for isize {
    #[allow(clippy::cast_precision_loss)]
    fn health_f64(&self) -> f64 {
        *self as f64
    }
    fn health_metric(&self) -> MetricValue {
        self.metric_value()
    }
}

impl MetricField for isize {
    fn metric_value(&self) -> MetricValue {
        MetricValue::Int(i64::try_from(*self).unwrap_or(i64::MAX))
    }
}

impl MetricField for bool {
    fn metric_value(&self) -> MetricValue {
        MetricValue::Bool(*self)
    }
}

impl MetricField for String {
    fn metric_value(&self) -> MetricValue {
        MetricValue::Text(Cow::Owned(self.clone()))
    }
}

impl MetricField for &'static str {
    fn metric_value(&self) -> MetricValue {
        MetricValue::Text(Cow::Borrowed(self))
    }
}

impl MetricField for Cow<'static, str> {
    fn metric_value(&self) -> MetricValue {
        MetricValue::Text(self.clone())
    }
}

impl<T: HealthState> MetricField for T {
    fn metric_value(&self) -> MetricValue {
        MetricValue::Text(Cow::Borrowed(self.as_str()))
    }
}

/// The kind of a rule: the attribute name in `#[health(...)]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RuleKind {
    /// `degraded_above = N`: degraded while the value is greater than N.
    DegradedAbove,
    /// `degraded_below = N`: degraded while the value is less than N.
    DegradedBelow,
    /// `critical_above = N`: critical while the value is greater than N.
    CriticalAbove,
    /// `critical_below = N`: critical while the value is less than N.
    CriticalBelow,
    /// `degraded_when = "Variant"`: degraded while the state is one of the variants.
    DegradedWhen,
    /// `critical_when = "Variant"`: critical while the state is one of the variants.
    CriticalWhen,
}

impl RuleKind {
    /// The status a violation of this rule gives.
    #[must_use]
    pub const fn status(self) -> HealthStatus {
        match self {
            Self::DegradedAbove | Self::DegradedBelow | Self::DegradedWhen => {
                HealthStatus::Degraded
            }
            Self::CriticalAbove | Self::CriticalBelow | Self::CriticalWhen => {
                HealthStatus::Critical
            }
        }
    }

    /// The attribute name, e.g. `degraded_above`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::DegradedAbove => "degraded_above",
            Self::DegradedBelow => "degraded_below",
            Self::CriticalAbove => "critical_above",
            Self::CriticalBelow => "critical_below",
            Self::DegradedWhen => "degraded_when",
            Self::CriticalWhen => "critical_when",
        }
    }

    /// Whether the rule compares a number with a threshold (as opposed to matching a state).
    #[must_use]
    pub const fn is_threshold(self) -> bool {
        matches!(
            self,
            Self::DegradedAbove | Self::DegradedBelow | Self::CriticalAbove | Self::CriticalBelow
        )
    }

    /// Whether the rule is violated by values greater than its threshold.
    #[must_use]
    pub const fn is_above(self) -> bool {
        matches!(self, Self::DegradedAbove | Self::CriticalAbove)
    }
}

/// One metric of a [`HealthStats`] type.
#[derive(Debug)]
pub struct MetricSpec {
    pub(crate) field: &'static str,
    pub(crate) name: &'static str,
    pub(crate) unit: Option<Unit>,
}

impl MetricSpec {
    /// The Rust field name, e.g. `p95_latency_ms`.
    #[must_use]
    pub const fn field(&self) -> &'static str {
        self.field
    }
    /// The metric name in reports, e.g. `p95LatencyMs`.
    #[must_use]
    pub const fn name(&self) -> &'static str {
        self.name
    }
    /// The unit, declared or inferred.
    #[must_use]
    pub const fn unit(&self) -> Option<Unit> {
        self.unit
    }
}

/// One rule of a [`HealthStats`] type, as declared in its attribute.
#[derive(Debug)]
pub struct RuleSpec {
    pub(crate) kind: RuleKind,
    pub(crate) metric: usize,
    pub(crate) metric_name: &'static str,
    pub(crate) unit: Option<Unit>,
    pub(crate) issue: &'static str,
    pub(crate) key: Option<&'static str>,
    pub(crate) default: Option<f64>,
    pub(crate) variants: &'static [&'static str],
    pub(crate) details: Option<&'static [Segment]>,
}

impl RuleSpec {
    /// The rule's kind.
    #[must_use]
    pub const fn kind(&self) -> RuleKind {
        self.kind
    }
    /// The name of the metric the rule watches, e.g. `p95LatencyMs`.
    #[must_use]
    pub const fn metric(&self) -> &'static str {
        self.metric_name
    }
    /// The index, in [`HealthStats::METRICS`], of the metric the rule watches.
    #[must_use]
    pub const fn metric_index(&self) -> usize {
        self.metric
    }
    /// The issue code a violation reports.
    #[must_use]
    pub const fn issue(&self) -> &'static str {
        self.issue
    }
    /// The override key of a threshold rule (`None` for state rules).
    #[must_use]
    pub const fn key(&self) -> Option<&'static str> {
        self.key
    }
    /// The compile-time threshold of a threshold rule (`None` for state rules).
    #[must_use]
    pub const fn default_threshold(&self) -> Option<f64> {
        self.default
    }
    /// The Rust variant names a state rule matches (empty for threshold rules).
    #[must_use]
    pub const fn variants(&self) -> &'static [&'static str] {
        self.variants
    }
    /// The unit of the metric the rule watches, which bounds the thresholds that make sense.
    #[must_use]
    pub const fn unit(&self) -> Option<Unit> {
        self.unit
    }
}

/// A piece of a compiled `details` template. Generated code only.
#[doc(hidden)]
#[derive(Debug)]
pub enum Segment {
    /// Literal text.
    Text(&'static str),
    /// `{value}`: the rule's metric.
    Value(Fmt),
    /// `{threshold}`: the threshold in force.
    Threshold(Fmt),
    /// `{other_field}`: another metric, by index.
    Metric(usize, Fmt),
}

/// A placeholder's format: `{x}`, `{x:.2}`, `{x:%}`, `{x:.1%}`. Generated code only.
#[doc(hidden)]
#[derive(Clone, Copy, Debug)]
pub struct Fmt {
    /// Digits after the point; `None` prints the value as `Display` does.
    pub decimals: Option<u8>,
    /// Multiply by 100 and append `%` (zero decimals unless given).
    pub percent: bool,
}

impl Fmt {
    fn write_number(self, out: &mut String, value: f64) {
        let (value, suffix) = if self.percent {
            (value * 100.0, "%")
        } else {
            (value, "")
        };
        let decimals = self.decimals.or(if self.percent { Some(0) } else { None });
        // Writing into a String cannot fail.
        let _ = match decimals {
            Some(d) => write!(out, "{value:.prec$}{suffix}", prec = usize::from(d)),
            None => write!(out, "{value}{suffix}"),
        };
    }

    fn write_value(self, out: &mut String, value: &MetricValue) {
        match (value, self.decimals.is_some() || self.percent) {
            (MetricValue::Text(_) | MetricValue::Bool(_), _) | (_, false) => {
                let _ = write!(out, "{value}");
            }
            (value, true) => match value.as_f64() {
                Some(number) => self.write_number(out, number),
                None => {
                    let _ = write!(out, "{value}");
                }
            },
        }
    }
}

/// Threshold values that replace the compile-time defaults, by rule key.
///
/// Keys are the ones listed by [`RuleSpec::key`]: either the explicit `key = "HEALTH_..."` of a
/// rule, or the derived `HEALTH_<COMPONENT>_<FIELD>_<RULE>`.
///
/// ```
/// use thorp_ops::health::ThresholdOverrides;
///
/// let overrides: ThresholdOverrides = [("HEALTH_MAX_RPC_LATENCY_MS", 50.0)].into_iter().collect();
/// assert_eq!(overrides.get("HEALTH_MAX_RPC_LATENCY_MS"), Some(50.0));
/// assert_eq!(overrides.get("HEALTH_MAX_QUEUE_UTIL_PCT"), None);
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ThresholdOverrides {
    values: BTreeMap<String, f64>,
}

impl ThresholdOverrides {
    /// No overrides: every rule uses its default.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `key` to `value`, returning the previous override.
    pub fn insert(&mut self, key: impl Into<String>, value: f64) -> Option<f64> {
        self.values.insert(key.into(), value)
    }

    /// Removes the override of `key`.
    pub fn remove(&mut self, key: &str) -> Option<f64> {
        self.values.remove(key)
    }

    /// The override of `key`, if any.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<f64> {
        self.values.get(key).copied()
    }

    /// Every override, sorted by key.
    pub fn iter(&self) -> impl Iterator<Item = (&str, f64)> {
        self.values.iter().map(|(k, v)| (k.as_str(), *v))
    }

    /// Number of overrides.
    #[must_use]
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

impl<K: Into<String>> FromIterator<(K, f64)> for ThresholdOverrides {
    fn from_iter<I: IntoIterator<Item = (K, f64)>>(iter: I) -> Self {
        Self {
            values: iter.into_iter().map(|(k, v)| (k.into(), v)).collect(),
        }
    }
}

/// What a check is given: the threshold overrides in force for this tick.
#[derive(Clone, Debug, Default)]
pub struct CheckContext {
    thresholds: Arc<ThresholdOverrides>,
}

impl CheckContext {
    /// A context with these overrides.
    #[must_use]
    pub fn new(thresholds: Arc<ThresholdOverrides>) -> Self {
        Self { thresholds }
    }

    /// The overrides in force.
    #[must_use]
    pub fn thresholds(&self) -> &ThresholdOverrides {
        &self.thresholds
    }

    /// The threshold a rule uses now: its override, else its default (`None` for state rules).
    #[must_use]
    pub fn threshold(&self, rule: &RuleSpec) -> Option<f64> {
        let default = rule.default?;
        Some(
            rule.key
                .and_then(|key| self.thresholds.get(key))
                .unwrap_or(default),
        )
    }
}

/// Drives one evaluation: generated code lists every metric, then feeds every rule. Generated
/// code only.
#[doc(hidden)]
#[derive(Debug)]
pub struct Evaluator<'a> {
    ctx: &'a CheckContext,
    specs: &'static [MetricSpec],
    rules: &'static [RuleSpec],
    metrics: Vec<Metric>,
    violations: Vec<Violation>,
}

impl<'a> Evaluator<'a> {
    /// Starts an evaluation of a type with these metrics and rules.
    #[must_use]
    pub fn new(
        ctx: &'a CheckContext,
        specs: &'static [MetricSpec],
        rules: &'static [RuleSpec],
    ) -> Self {
        Self {
            ctx,
            specs,
            rules,
            metrics: Vec::with_capacity(specs.len()),
            violations: Vec::new(),
        }
    }

    /// Records the next metric (in `specs` order).
    pub fn metric(&mut self, value: MetricValue) {
        if let Some(spec) = self.specs.get(self.metrics.len()) {
            self.metrics.push(Metric {
                name: Cow::Borrowed(spec.name),
                unit: spec.unit,
                value,
            });
        }
    }

    /// Applies threshold rule `rule` to `value`. `NaN` never passes a rule: broken statistics
    /// must not read as healthy.
    pub fn number(&mut self, rule: usize, value: f64) {
        let Some(spec) = self.rules.get(rule) else {
            return;
        };
        let Some(threshold) = self.ctx.threshold(spec) else {
            return;
        };
        let passes = if spec.kind.is_above() {
            value <= threshold
        } else {
            value >= threshold
        };
        if !passes {
            self.violate(spec, Some(threshold));
        }
    }

    /// Applies state rule `rule`: `matched` is whether the field is one of its variants.
    pub fn state(&mut self, rule: usize, matched: bool) {
        if let Some(spec) = self.rules.get(rule)
            && matched
        {
            self.violate(spec, None);
        }
    }

    fn violate(&mut self, spec: &'static RuleSpec, threshold: Option<f64>) {
        let metric = spec.metric_name;
        let value = self.metrics.get(spec.metric).map(|m| &m.value);
        let details = match spec.details {
            Some(segments) => render(segments, value, threshold, &self.metrics),
            None => default_details(spec.kind, metric, value, threshold),
        };
        self.violations.push(
            Violation::new(spec.kind.status(), spec.issue, details, metric)
                .with_threshold(threshold, spec.key.filter(|_| threshold.is_some())),
        );
    }

    /// The health: worst status wins; among the worst, the first declared rule gives the issue.
    #[must_use]
    pub fn finish(self) -> ComponentHealth {
        let mut health = ComponentHealth::healthy();
        let worst = self.violations.iter().map(|v| v.status).max();
        if let Some(first) = worst.and_then(|w| self.violations.iter().find(|v| v.status == w)) {
            health.status = first.status;
            health.issue = Some(first.issue.clone());
            health.details = Some(first.details.clone());
        }
        health.violations = self.violations;
        health.metrics = self.metrics;
        health
    }
}

fn render(
    segments: &[Segment],
    value: Option<&MetricValue>,
    threshold: Option<f64>,
    metrics: &[Metric],
) -> String {
    let mut out = String::new();
    for segment in segments {
        match *segment {
            Segment::Text(text) => out.push_str(text),
            Segment::Value(fmt) => {
                if let Some(value) = value {
                    fmt.write_value(&mut out, value);
                }
            }
            Segment::Threshold(fmt) => {
                if let Some(threshold) = threshold {
                    fmt.write_number(&mut out, threshold);
                }
            }
            Segment::Metric(index, fmt) => {
                if let Some(metric) = metrics.get(index) {
                    fmt.write_value(&mut out, &metric.value);
                }
            }
        }
    }
    out
}

fn default_details(
    kind: RuleKind,
    metric: &str,
    value: Option<&MetricValue>,
    threshold: Option<f64>,
) -> String {
    let value = value.map_or_else(String::new, ToString::to_string);
    match threshold {
        Some(threshold) if kind.is_above() => format!("{metric} {value} is above {threshold}"),
        Some(threshold) => format!("{metric} {value} is below {threshold}"),
        None => format!("{metric} is {value}"),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test, with its message
mod tests {
    use super::*;

    const PLAIN: Fmt = Fmt {
        decimals: None,
        percent: false,
    };
    const PCT: Fmt = Fmt {
        decimals: None,
        percent: true,
    };
    const TWO: Fmt = Fmt {
        decimals: Some(2),
        percent: false,
    };

    static SPECS: [MetricSpec; 2] = [
        MetricSpec {
            field: "latency_ms",
            name: "latencyMs",
            unit: Some(Unit::Milliseconds),
        },
        MetricSpec {
            field: "rate",
            name: "rate",
            unit: Some(Unit::Ratio),
        },
    ];
    static RULES: [RuleSpec; 3] = [
        RuleSpec {
            kind: RuleKind::DegradedAbove,
            metric: 0,
            metric_name: "latencyMs",
            unit: Some(Unit::Milliseconds),
            issue: "SLOW",
            key: Some("HEALTH_T_LATENCY"),
            default: Some(100.0),
            variants: &[],
            details: Some(&[
                Segment::Text("latency "),
                Segment::Value(PLAIN),
                Segment::Text(" > "),
                Segment::Threshold(PLAIN),
            ]),
        },
        RuleSpec {
            kind: RuleKind::CriticalBelow,
            metric: 1,
            metric_name: "rate",
            unit: Some(Unit::Ratio),
            issue: "FAILING",
            key: Some("HEALTH_T_RATE"),
            default: Some(0.95),
            variants: &[],
            details: Some(&[
                Segment::Value(PCT),
                Segment::Text(" < "),
                Segment::Threshold(PCT),
                Segment::Text(" at "),
                Segment::Metric(0, TWO),
            ]),
        },
        RuleSpec {
            kind: RuleKind::CriticalAbove,
            metric: 0,
            metric_name: "latencyMs",
            unit: Some(Unit::Milliseconds),
            issue: "VERY_SLOW",
            key: Some("HEALTH_T_LATENCY_CRIT"),
            default: Some(1000.0),
            variants: &[],
            details: None,
        },
    ];

    fn eval(ctx: &CheckContext, latency: f64, rate: f64) -> ComponentHealth {
        let mut e = Evaluator::new(ctx, &SPECS, &RULES);
        e.metric(latency.into());
        e.metric(rate.into());
        e.number(0, latency);
        e.number(1, rate);
        e.number(2, latency);
        e.finish()
    }

    #[test]
    fn thresholds_are_strict_and_nan_never_passes() {
        let ctx = CheckContext::default();
        assert_eq!(eval(&ctx, 100.0, 0.95).status, HealthStatus::Healthy);
        assert_eq!(eval(&ctx, 100.5, 0.95).status, HealthStatus::Degraded);
        assert_eq!(eval(&ctx, 100.0, 0.949).status, HealthStatus::Critical);
        let nan = eval(&ctx, f64::NAN, 0.99);
        assert_eq!(
            nan.status,
            HealthStatus::Critical,
            "NaN breaks both latency rules"
        );
        assert_eq!(nan.violations.len(), 2);
    }

    #[test]
    fn worst_wins_and_first_declared_of_the_worst_gives_the_issue() {
        let ctx = CheckContext::default();
        let health = eval(&ctx, 2000.0, 0.5);
        assert_eq!(health.status, HealthStatus::Critical);
        assert_eq!(health.issue.as_deref(), Some("FAILING"));
        assert_eq!(health.details.as_deref(), Some("50% < 95% at 2000.00"));
        let issues: Vec<_> = health.violations.iter().map(|v| v.issue.as_ref()).collect();
        assert_eq!(issues, ["SLOW", "FAILING", "VERY_SLOW"]);
        assert_eq!(health.violations[2].details, "latencyMs 2000 is above 1000");
        assert_eq!(health.violations[0].details, "latency 2000 > 100");
        assert_eq!(health.violations[0].key, Some("HEALTH_T_LATENCY"));
    }

    #[test]
    fn overrides_replace_defaults_by_key() {
        let ctx = CheckContext::new(Arc::new([("HEALTH_T_LATENCY", 10.0)].into_iter().collect()));
        let health = eval(&ctx, 50.0, 1.0);
        assert_eq!(health.status, HealthStatus::Degraded);
        assert_eq!(health.details.as_deref(), Some("latency 50 > 10"));
        assert_eq!(health.violations[0].threshold, Some(10.0));
    }

    #[test]
    fn formats() {
        let mut out = String::new();
        Fmt {
            decimals: Some(1),
            percent: true,
        }
        .write_number(&mut out, 0.8123);
        out.push(' ');
        PCT.write_value(&mut out, &MetricValue::Text("OPEN".into()));
        out.push(' ');
        TWO.write_value(&mut out, &MetricValue::UInt(3));
        assert_eq!(out, "81.2% OPEN 3.00");
    }

    #[test]
    fn metric_fields() {
        struct On;
        impl HealthState for On {
            fn as_str(&self) -> &'static str {
                "ON"
            }
        }
        assert_eq!(On.metric_value(), MetricValue::Text("ON".into()));
        assert_eq!(7usize.metric_value(), MetricValue::UInt(7));
        assert!((7u16.health_f64() - 7.0).abs() < f64::EPSILON);
        assert_eq!(
            String::from("x").metric_value(),
            MetricValue::Text("x".into())
        );
    }
}
