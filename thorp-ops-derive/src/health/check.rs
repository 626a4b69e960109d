//! Checks a whole model and reports every mistake, each at the token that causes it.

use super::attr::{RawValue, RuleKind};
use super::model::{Component, Field, Rule, Segment, UNITS, Unit};
use crate::errors::Errors;
use quote::ToTokens;
use syn::{PathArguments, Type};

/// What can be told about a field's type from its tokens alone.
enum TypeClass {
    /// A primitive integer or float.
    Number,
    /// Certainly not a number and not an enum, with a word for the message.
    Neither(&'static str),
    /// A plain path (`CircuitState`, `crate::Mode`, an alias): only the compiler knows.
    Path,
    /// A path with generic arguments.
    GenericPath,
}

fn classify(ty: &Type) -> TypeClass {
    match ty {
        Type::Path(path) if path.qself.is_none() => {
            let Some(last) = path.path.segments.last() else {
                return TypeClass::Path;
            };
            if !matches!(last.arguments, PathArguments::None) {
                return match last.ident.to_string().as_str() {
                    "Option" | "Vec" | "Box" | "Arc" | "Rc" | "Cow" | "HashMap" | "BTreeMap" => {
                        TypeClass::Neither("a container")
                    }
                    _ => TypeClass::GenericPath,
                };
            }
            if path.path.segments.len() > 1 {
                return TypeClass::Path;
            }
            match last.ident.to_string().as_str() {
                "f32" | "f64" | "i8" | "i16" | "i32" | "i64" | "i128" | "isize" | "u8" | "u16"
                | "u32" | "u64" | "u128" | "usize" => TypeClass::Number,
                "bool" => TypeClass::Neither("a bool"),
                "char" => TypeClass::Neither("a char"),
                "str" | "String" => TypeClass::Neither("text"),
                "Duration" => TypeClass::Neither("a Duration (store milliseconds as a number)"),
                _ => TypeClass::Path,
            }
        }
        Type::Group(group) => classify(&group.elem),
        Type::Paren(paren) => classify(&paren.elem),
        Type::Reference(_) => TypeClass::Neither("a reference"),
        Type::Tuple(_) => TypeClass::Neither("a tuple"),
        Type::Array(_) | Type::Slice(_) => TypeClass::Neither("an array"),
        _ => TypeClass::Neither("not a plain type"),
    }
}

fn type_text(ty: &Type) -> String {
    ty.to_token_stream()
        .to_string()
        .replace(" < ", "<")
        .replace(" >", ">")
        .replace("& ", "&")
}

pub(crate) fn check(component: &Component, errors: &mut Errors) {
    if component.name.is_empty() || component.name.chars().any(char::is_whitespace) {
        errors.at(
            component.name_span,
            "component `name` must be non-empty and without spaces, e.g. `name = \"rpcPool\"`",
        );
    }
    let indices = component.metric_indices();
    let metric_fields: Vec<String> = component
        .fields
        .iter()
        .zip(&indices)
        .filter(|(_, index)| index.is_some())
        .map(|(f, _)| f.ident.to_string())
        .collect();

    let mut metrics: Vec<&str> = Vec::new();
    let mut keys: Vec<String> = Vec::new();
    for field in &component.fields {
        if field.skip.is_none() {
            if metrics.contains(&field.metric.as_str()) {
                let span = field
                    .rename
                    .as_ref()
                    .map_or(field.ident.span(), syn::LitStr::span);
                errors.at(
                    span,
                    format!(
                        "two fields report the metric `{}`; `rename` one of them",
                        field.metric
                    ),
                );
            }
            metrics.push(&field.metric);
        }
        check_field(component, field, &metric_fields, &mut keys, errors);
    }
}

fn check_field(
    component: &Component,
    field: &Field,
    metric_fields: &[String],
    keys: &mut Vec<String>,
    errors: &mut Errors,
) {
    let name = field.ident.to_string();
    if let (Some(skip), false) = (field.skip, field.rules.is_empty()) {
        errors.at(
            skip,
            format!(
                "field `{name}` is skipped, so it cannot have rules; remove `skip` or the rules"
            ),
        );
    }
    if let Some(lit) = &field.unit_lit
        && Unit::parse(&lit.value()).is_none()
    {
        errors.spanned(
            lit,
            format!("unknown unit `{}`; expected one of: {UNITS}", lit.value()),
        );
    }
    if let Some(lit) = &field.rename
        && lit.value().trim().is_empty()
    {
        errors.spanned(
            lit,
            "`rename` needs a metric name, e.g. `rename = \"throughput\"`",
        );
    }

    let class = classify(&field.ty);
    for (i, rule) in field.rules.iter().enumerate() {
        let kind = rule.kind.name();
        let duplicate = field.rules[..i].iter().any(|r| r.kind == rule.kind);
        if duplicate {
            errors.at(
                rule.kind_span,
                format!("duplicate `{kind}` on field `{name}`; a field takes each rule once"),
            );
        }
        match &rule.issue {
            None => errors.at(
                rule.kind_span,
                format!("rule `{kind}` needs an issue code: add `issue = \"SOME_CODE\"` to this attribute"),
            ),
            Some(issue) if !is_code(&issue.value()) => errors.spanned(
                issue,
                "`issue` codes are SCREAMING_SNAKE_CASE, e.g. `issue = \"HIGH_LATENCY\"`",
            ),
            Some(_) => {}
        }
        if rule.kind.is_state() {
            check_state_rule(field, rule, i, &class, errors);
        } else {
            if let TypeClass::Neither(what) = class {
                errors.spanned(
                    &field.ty,
                    format!(
                        "`{kind}` needs a numeric field, but `{}` is {what}",
                        type_text(&field.ty)
                    ),
                );
            }
            let key = component.key(field, rule);
            if let Some(lit) = &rule.key
                && !is_key(&key)
            {
                errors.spanned(
                    lit,
                    "threshold keys are `HEALTH_` followed by SCREAMING_SNAKE_CASE, so the config routes them to the health monitor, e.g. `key = \"HEALTH_MAX_RPC_LATENCY_MS\"`",
                );
            }
            // A duplicate rule's derived key clashes too; that is the same mistake, said once.
            if keys.contains(&key) && !(duplicate && rule.key.is_none()) {
                let span = rule.key.as_ref().map_or(rule.kind_span, syn::LitStr::span);
                errors.at(span, format!("threshold key `{key}` is used by two rules; give one an explicit `key = \"...\"`"));
            }
            keys.push(key);
        }
        if let Some(details) = &rule.details
            && let Some(segments) = &details.segments
        {
            for segment in segments {
                let Segment::Placeholder {
                    name: placeholder, ..
                } = segment
                else {
                    continue;
                };
                let known = placeholder == "value"
                    || (placeholder == "threshold" && !rule.kind.is_state())
                    || metric_fields.iter().any(|f| f == placeholder);
                if placeholder == "threshold" && rule.kind.is_state() {
                    errors.spanned(&details.lit, format!("`{{threshold}}` has no value in a `{kind}` rule; use `{{value}}` for the state"));
                } else if !known {
                    let mut available = vec!["value"];
                    if !rule.kind.is_state() {
                        available.push("threshold");
                    }
                    available.extend(metric_fields.iter().map(String::as_str));
                    errors.spanned(
                        &details.lit,
                        format!(
                            "unknown placeholder `{{{placeholder}}}` in `details`; available: {}",
                            available
                                .iter()
                                .map(|a| format!("{{{a}}}"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    );
                }
            }
        }
    }
    check_order(
        field,
        RuleKind::DegradedAbove,
        RuleKind::CriticalAbove,
        errors,
    );
    check_order(
        field,
        RuleKind::DegradedBelow,
        RuleKind::CriticalBelow,
        errors,
    );
}

fn check_state_rule(
    field: &Field,
    rule: &Rule,
    index: usize,
    class: &TypeClass,
    errors: &mut Errors,
) {
    let kind = rule.kind.name();
    match class {
        TypeClass::Number | TypeClass::Neither(_) => errors.spanned(
            &field.ty,
            format!("`{kind}` needs an enum field, but `{}` is not an enum; compare numbers with `_above`/`_below`", type_text(&field.ty)),
        ),
        TypeClass::GenericPath => errors.spanned(
            &field.ty,
            format!("`{kind}` needs a plain enum type such as `CircuitState`, not `{}`", type_text(&field.ty)),
        ),
        TypeClass::Path => {}
    }
    if let Some(key) = &rule.key {
        errors.spanned(
            key,
            format!("`key` overrides a threshold, and `{kind}` has none; remove it"),
        );
    }
    let RawValue::Variants { lit, variants } = &rule.value else {
        return;
    };
    for (i, variant) in variants.iter().enumerate() {
        if variants[..i].iter().any(|v| v == variant) {
            errors.spanned(lit, format!("variant `{variant}` is listed twice"));
        }
        let earlier = field.rules[..index].iter().find(|r| match &r.value {
            RawValue::Variants { variants, .. } => variants.contains(variant),
            RawValue::Number { .. } => false,
        });
        if let Some(earlier) = earlier {
            errors.spanned(
                lit,
                format!(
                    "variant `{variant}` is already matched by `{}` on this field",
                    earlier.kind.name()
                ),
            );
        }
    }
}

/// A degraded threshold must be reached before the critical one.
fn check_order(field: &Field, degraded: RuleKind, critical: RuleKind, errors: &mut Errors) {
    let find = |kind| {
        field.rules.iter().find_map(|r| match r.value {
            RawValue::Number { value, span } if r.kind == kind => Some((value, span)),
            _ => None,
        })
    };
    let (Some((d, d_span)), Some((c, _))) = (find(degraded), find(critical)) else {
        return;
    };
    let above = degraded == RuleKind::DegradedAbove;
    if (above && d >= c) || (!above && d <= c) {
        errors.at(
            d_span,
            format!(
                "`{} = {d}` must be {} than `{} = {c}`: a value turns degraded before it turns critical",
                degraded.name(),
                if above { "lower" } else { "higher" },
                critical.name(),
            ),
        );
    }
}

fn is_code(code: &str) -> bool {
    code.starts_with(|c: char| c.is_ascii_uppercase())
        && code
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

fn is_key(key: &str) -> bool {
    key.strip_prefix("HEALTH_").is_some_and(is_code)
}
