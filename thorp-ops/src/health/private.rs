//! What `#[health_component]` generated code calls, and nothing else. Not a public API: it
//! changes with the macro, which is pinned to this crate's exact version.

pub use super::report::{ComponentHealth, MetricValue, Unit};
pub use super::rules::{
    CheckContext, Evaluator, Fmt, HealthNumber, HealthState, HealthStats, MetricField, MetricSpec,
    RuleKind, RuleSpec, Segment,
};

/// A metric of a stats type.
#[must_use]
pub const fn metric(field: &'static str, name: &'static str, unit: Option<Unit>) -> MetricSpec {
    MetricSpec { field, name, unit }
}

/// A threshold rule: `kind` on metric `metric` (index, name and unit), overridable by `key`.
#[must_use]
#[allow(clippy::too_many_arguments)] // mirrors the attribute one to one; called by generated code only
pub const fn threshold_rule(
    kind: RuleKind,
    metric: usize,
    metric_name: &'static str,
    unit: Option<Unit>,
    issue: &'static str,
    key: &'static str,
    default: f64,
    details: Option<&'static [Segment]>,
) -> RuleSpec {
    RuleSpec {
        kind,
        metric,
        metric_name,
        unit,
        issue,
        key: Some(key),
        default: Some(default),
        variants: &[],
        details,
    }
}

/// A state rule: `kind` matching `variants` of metric `metric`.
#[must_use]
pub const fn state_rule(
    kind: RuleKind,
    metric: usize,
    metric_name: &'static str,
    issue: &'static str,
    variants: &'static [&'static str],
    details: Option<&'static [Segment]>,
) -> RuleSpec {
    RuleSpec {
        kind,
        metric,
        metric_name,
        unit: None,
        issue,
        key: None,
        default: None,
        variants,
        details,
    }
}

/// The body of the placeholder impl emitted when the attribute has errors; compilation fails
/// anyway, this only keeps the errors from cascading.
#[must_use]
pub fn fallback() -> ComponentHealth {
    ComponentHealth::healthy()
}
