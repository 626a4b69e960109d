//! Checks a parsed config struct as a whole and settles what codegen needs.
//!
//! Every rule is checked and every failure recorded with the span of the token at fault; the
//! result is a model that codegen can turn into code without any failure path of its own.

use super::attr::{Literal, SCREAMING_SNAKE_CASE};
use super::model::{Field, LeafKind, Model};
use crate::errors::Errors;
use crate::spanned::Sp;
use proc_macro2::Span;
use std::collections::HashMap;

/// A field ready for codegen.
pub(crate) struct Checked<'a> {
    pub(crate) field: &'a Field,
    pub(crate) role: Role,
}

pub(crate) enum Role {
    Flatten,
    Key(KeyField),
}

pub(crate) struct KeyField {
    pub(crate) key: String,
    /// The default as it would be written in the file.
    pub(crate) default: Option<String>,
    pub(crate) min: Option<Bound>,
    pub(crate) max: Option<Bound>,
    pub(crate) url: Option<Vec<String>>,
    pub(crate) secret: bool,
    pub(crate) non_empty: bool,
}

/// A bound in the field's own terms, with its text for the schema.
pub(crate) struct Bound {
    pub(crate) value: BoundValue,
    pub(crate) text: String,
}

#[derive(Clone, Copy, PartialEq, PartialOrd)]
pub(crate) enum BoundValue {
    Int(i128),
    Float(f64),
    Nanos(u128),
}

pub(crate) fn check<'a>(model: &'a Model, errors: &mut Errors) -> Vec<Checked<'a>> {
    check_struct(model, errors);
    let mut seen: HashMap<String, Span> = HashMap::new();
    let mut out = Vec::new();
    for field in &model.fields {
        if let Some(role) = check_field(model, field, errors) {
            if let Role::Key(key_field) = &role {
                let span = field
                    .attrs
                    .key
                    .as_ref()
                    .map_or(field.ident.span(), |key| key.span);
                if seen.insert(key_field.key.clone(), span).is_some() {
                    errors.at(
                        span,
                        format!("key `{}` is declared twice in this struct", key_field.key),
                    );
                }
            }
            out.push(Checked { field, role });
        }
    }
    out
}

fn check_struct(model: &Model, errors: &mut Errors) {
    let attrs = &model.attrs;
    if let Some(rule) = &attrs.rename_all {
        if rule.value != SCREAMING_SNAKE_CASE {
            errors.at(
                rule.span,
                format!("unknown `rename_all` rule; the only one is \"{SCREAMING_SNAKE_CASE}\""),
            );
        }
    }
    if attrs.component.is_none() {
        if let Some(prefix) = attrs.prefixes.first() {
            errors.at(
                prefix.span,
                "`prefix` routes changes to a component: add `component = \"name\"`",
            );
        }
    }
    for prefix in &attrs.prefixes {
        if prefix.value.is_empty() {
            errors.at(
                prefix.span,
                "an empty `prefix` would route every key here; remove it",
            );
        }
    }
    if let Some(component) = &attrs.component {
        if component.value.trim().is_empty() {
            errors.at(component.span, "`component` needs a name");
        }
    }
}

fn check_field(model: &Model, field: &Field, errors: &mut Errors) -> Option<Role> {
    let attrs = &field.attrs;
    if attrs.flatten.is_some() {
        let others = [
            attrs.key.as_ref().map(|a| a.span),
            attrs.default.as_ref().map(|a| a.span),
            attrs.min.as_ref().map(|a| a.span),
            attrs.max.as_ref().map(|a| a.span),
            attrs.url.as_ref().map(|a| a.span),
            attrs.secret.as_ref().map(|a| a.span),
            attrs.non_empty.as_ref().map(|a| a.span),
        ];
        for span in others.into_iter().flatten() {
            errors.at(span, "`flatten` takes no other attribute: put them on the fields of the flattened struct");
        }
        return Some(Role::Flatten);
    }

    let shape = &field.shape;
    let kind = shape.kind;
    let mut ok = true;

    let key = match field.key(&model.attrs) {
        Some(key) => {
            if !valid_key(&key.value) {
                errors.at(key.span, format!(
                    "`{}` is not a valid key: use letters, digits and `_`, not starting with a digit",
                    key.value
                ));
                ok = false;
            }
            key.value
        }
        None => {
            errors.at(field.ident.span(), "missing `key`: add `#[hot_config(key = \"NAME\")]`, or a struct-level `key_prefix = \"...\"` or `rename_all = \"SCREAMING_SNAKE_CASE\"`");
            ok = false;
            String::new()
        }
    };

    let min = attrs
        .min
        .as_ref()
        .and_then(|min| bound(min, kind, "min", errors));
    let max = attrs
        .max
        .as_ref()
        .and_then(|max| bound(max, kind, "max", errors));
    if let (Some(low), Some(high), Some(max_attr)) = (&min, &max, &attrs.max) {
        if low.value > high.value {
            errors.at(
                max_attr.span,
                format!("`min` ({}) is greater than `max` ({})", low.text, high.text),
            );
            ok = false;
        }
    }
    if (attrs.min.is_some() && min.is_none()) || (attrs.max.is_some() && max.is_none()) {
        ok = false;
    }

    let url = match &attrs.url {
        Some(url) if kind != LeafKind::Url => {
            errors.at(
                url.span,
                "`url` needs a field of type `url::Url` (or Option/Vec/Secret of it)",
            );
            ok = false;
            None
        }
        Some(url) => {
            for scheme in &url.value {
                if !valid_scheme(&scheme.value) {
                    errors.at(
                        scheme.span,
                        format!("`{}` is not a URL scheme", scheme.value),
                    );
                    ok = false;
                }
            }
            Some(
                url.value
                    .iter()
                    .map(|scheme| scheme.value.clone())
                    .collect(),
            )
        }
        None => None,
    };

    if let Some(secret) = &attrs.secret {
        if !shape.secret {
            errors.at(secret.span, "a `secret` field must have type `Secret<T>` (from thorp_ops) so that Debug cannot print it");
            ok = false;
        }
    }

    if let Some(non_empty) = &attrs.non_empty {
        if !(shape.list || kind == LeafKind::Str) {
            errors.at(
                non_empty.span,
                "`non_empty` applies to `String` and `Vec` fields",
            );
            ok = false;
        }
    }

    let default = match &attrs.default {
        Some(default) if shape.optional => {
            errors.at(
                default.span,
                "an `Option` field has no default: remove `default` or the `Option`",
            );
            ok = false;
            None
        }
        Some(default) => match default_text(default, field, errors) {
            Some(text) => {
                if !shape.list {
                    check_default_in_bounds(
                        &text,
                        default.span,
                        kind,
                        min.as_ref(),
                        max.as_ref(),
                        errors,
                    );
                }
                Some(text)
            }
            None => {
                ok = false;
                None
            }
        },
        None => None,
    };

    ok.then_some(Role::Key(KeyField {
        key,
        default,
        min,
        max,
        url,
        secret: shape.secret,
        non_empty: attrs.non_empty.is_some(),
    }))
}

fn valid_key(key: &str) -> bool {
    let mut chars = key.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
}

fn valid_scheme(scheme: &str) -> bool {
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// A `min` or `max` literal in the terms of the field's type.
fn bound(literal: &Sp<Literal>, kind: LeafKind, name: &str, errors: &mut Errors) -> Option<Bound> {
    if !kind.is_numeric() {
        errors.at(
            literal.span,
            format!("`{name}` needs a numeric or `Duration` field"),
        );
        return None;
    }
    match parse_literal_as(&literal.value, kind) {
        Ok((value, text)) => Some(Bound { value, text }),
        Err(message) => {
            errors.at(literal.span, format!("`{name}`: {message}"));
            None
        }
    }
}

/// A literal as a value of `kind`, with its display text; `Err` says why it does not fit.
fn parse_literal_as(literal: &Literal, kind: LeafKind) -> Result<(BoundValue, String), String> {
    match (kind, literal) {
        (LeafKind::Int { signed, bits }, Literal::Int(value)) => {
            let (low, high) = int_range(signed, bits);
            if *value < low || *value > high {
                return Err(format!(
                    "{value} does not fit the field's {}{bits} type",
                    if signed { "i" } else { "u" }
                ));
            }
            Ok((BoundValue::Int(*value), value.to_string()))
        }
        (LeafKind::Int { .. }, Literal::Str(text)) => match text.parse::<i128>() {
            Ok(value) => parse_literal_as(&Literal::Int(value), kind),
            Err(_) => Err(format!("\"{text}\" is not an integer")),
        },
        (LeafKind::Float, Literal::Float(value)) if value.is_finite() => {
            Ok((BoundValue::Float(*value), value.to_string()))
        }
        #[allow(
            clippy::cast_precision_loss,
            reason = "bounds are small integers written as literals"
        )]
        (LeafKind::Float, Literal::Int(value)) => {
            Ok((BoundValue::Float(*value as f64), value.to_string()))
        }
        (LeafKind::Float, Literal::Str(text)) => match text.parse::<f64>() {
            Ok(value) if value.is_finite() => Ok((BoundValue::Float(value), text.clone())),
            _ => Err(format!("\"{text}\" is not a finite number")),
        },
        (LeafKind::Duration, Literal::Str(text)) => match parse_duration_nanos(text) {
            Some(nanos) => Ok((BoundValue::Nanos(nanos), text.clone())),
            None => Err(format!(
                "\"{text}\" is not a duration like \"250ms\", \"2s\" or \"1m\""
            )),
        },
        (LeafKind::Duration, _) => {
            Err("a duration is written as a string with a unit, like \"250ms\"".to_owned())
        }
        (LeafKind::Int { .. }, _) => Err("expected an integer".to_owned()),
        (LeafKind::Float, _) => Err("expected a finite number".to_owned()),
        _ => Err("expected a number".to_owned()),
    }
}

fn int_range(signed: bool, bits: u32) -> (i128, i128) {
    match (signed, bits) {
        (true, 128) => (i128::MIN, i128::MAX),
        (false, 128) => (0, i128::MAX),
        (true, bits) => (-(1 << (bits - 1)), (1 << (bits - 1)) - 1),
        (false, bits) => (0, (1 << bits) - 1),
    }
}

/// The default as file text, checked against the field's type where the macro knows it.
fn default_text(default: &Sp<Literal>, field: &Field, errors: &mut Errors) -> Option<String> {
    let kind = field.shape.kind;
    let text = match (&default.value, kind) {
        (Literal::Str(text), _) if field.shape.list => text.clone(),
        (_, _) if field.shape.list => {
            errors.at(
                default.span,
                "a list default is written as a string: `default = \"a,b\"`",
            );
            return None;
        }
        (literal, LeafKind::Int { .. } | LeafKind::Float | LeafKind::Duration) => {
            match parse_literal_as(literal, kind) {
                Ok((_, text)) => text,
                Err(message) => {
                    errors.at(default.span, format!("`default`: {message}"));
                    return None;
                }
            }
        }
        (Literal::Bool(flag), LeafKind::Bool) => flag.to_string(),
        (Literal::Str(text), LeafKind::Bool)
            if ["true", "false", "yes", "no", "on", "off", "1", "0"]
                .contains(&text.to_ascii_lowercase().as_str()) =>
        {
            text.clone()
        }
        (_, LeafKind::Bool) => {
            errors.at(default.span, "`default`: expected `true` or `false`");
            return None;
        }
        (Literal::Str(text), LeafKind::Url) => {
            if !text.contains("://") {
                errors.at(
                    default.span,
                    format!("`default`: \"{text}\" is not an absolute URL"),
                );
                return None;
            }
            text.clone()
        }
        (Literal::Str(text), LeafKind::Str | LeafKind::Other) => text.clone(),
        (Literal::Int(value), LeafKind::Other) => value.to_string(),
        (Literal::Float(value), LeafKind::Other) => value.to_string(),
        (Literal::Bool(value), LeafKind::Other) => value.to_string(),
        (_, _) => {
            errors.at(
                default.span,
                "`default`: expected a string literal for this field",
            );
            return None;
        }
    };
    Some(text)
}

fn check_default_in_bounds(
    text: &str,
    span: Span,
    kind: LeafKind,
    min: Option<&Bound>,
    max: Option<&Bound>,
    errors: &mut Errors,
) {
    let Ok((value, _)) = parse_literal_as(&Literal::Str(text.to_owned()), kind) else {
        return;
    };
    if let Some(min) = min {
        if value < min.value {
            errors.at(
                span,
                format!("`default` ({text}) is below `min` ({})", min.text),
            );
        }
    }
    if let Some(max) = max {
        if value > max.value {
            errors.at(
                span,
                format!("`default` ({text}) is above `max` ({})", max.text),
            );
        }
    }
}

/// The macro's copy of the runtime's duration grammar (`thorp_ops::config::parse_duration`):
/// the macro crate cannot depend on the runtime, and defaults must be checked at compile time.
pub(crate) fn parse_duration_nanos(text: &str) -> Option<u128> {
    let mut rest = text.trim();
    if rest.is_empty() {
        return None;
    }
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let number: u128 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let scale: u128 = match &rest[..unit_len] {
            "ns" => 1,
            "us" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total = total.checked_add(number.checked_mul(scale)?)?;
    }
    u64::try_from(total / 1_000_000_000).ok().map(|_| total)
}
