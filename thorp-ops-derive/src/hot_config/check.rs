//! Checks a parsed config struct as a whole and settles what codegen needs.
//!
//! Every rule is checked and every failure recorded with the span of the token at fault; the
//! result is a model that codegen can turn into code without any failure path of its own.

use super::attr::{FieldAttrs, Literal, SCREAMING_SNAKE_CASE};
use super::model::{Field, LeafKind, Model, type_name};
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
    Key(Box<KeyField>),
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
    check_duplicate_keys(model, errors);
    let mut out = Vec::new();
    for field in &model.fields {
        if let Some(role) = check_field(model, field, errors) {
            out.push(Checked { field, role });
        }
    }
    out
}

/// Each key once per struct, whatever else is wrong with the fields that declare it.
fn check_duplicate_keys(model: &Model, errors: &mut Errors) {
    let mut seen: HashMap<String, &Field> = HashMap::new();
    for field in model
        .fields
        .iter()
        .filter(|field| field.attrs.flatten.is_none())
    {
        let Some(key) = field.key(&model.attrs) else {
            continue;
        };
        match seen.get(&key.value) {
            Some(first) => errors.at(
                key.span,
                format!(
                    "key `{}` is already the key of field `{}`: give each field its own key",
                    key.value, first.ident
                ),
            ),
            None => {
                seen.insert(key.value, field);
            }
        }
    }
}

fn check_struct(model: &Model, errors: &mut Errors) {
    let attrs = &model.attrs;
    if let Some(rule) = &attrs.rename_all
        && rule.value != SCREAMING_SNAKE_CASE
    {
        let field = model
            .fields
            .first()
            .map_or_else(|| "timeout_ms".to_owned(), |field| field.ident.to_string());
        let field = field.trim_start_matches("r#");
        errors.at(
            rule.span,
            format!(
                "unknown `rename_all` rule: the only one is \"{SCREAMING_SNAKE_CASE}\", which \
                     makes field `{field}` key `{}`",
                field.to_ascii_uppercase()
            ),
        );
    }
    if attrs.component.is_none()
        && let Some(prefix) = attrs.prefixes.first()
    {
        errors.at(
            prefix.span,
            "`prefix` routes changes to a component: add `component = \"name\"` next to it",
        );
    }
    for prefix in &attrs.prefixes {
        if prefix.value.is_empty() {
            errors.at(
                prefix.span,
                "an empty `prefix` would route every key here; remove it",
            );
        }
    }
    if attrs.component.is_none()
        && let Some(open) = attrs.open_prefixes.first()
    {
        errors.at(
            open.span,
            "`open_prefix` gives the keys under it to a component, which reads and checks \
             them: add `component = \"name\"` next to it",
        );
    }
    for open in &attrs.open_prefixes {
        if open.value.is_empty() {
            errors.at(
                open.span,
                "an empty `open_prefix` would accept every key, typos included; name the \
                 prefix of the dynamic keys, like `open_prefix = \"HEALTH_\"`",
            );
        }
    }
    if let Some(component) = &attrs.component
        && component.value.trim().is_empty()
    {
        errors.at(
            component.span,
            "`component` needs a name, like `component = \"rpcPool\"`",
        );
    }
}

fn check_field(model: &Model, field: &Field, errors: &mut Errors) -> Option<Role> {
    let attrs = &field.attrs;
    if attrs.flatten.is_some() {
        for other in attrs
            .written
            .iter()
            .filter(|written| written.value != "flatten")
        {
            errors.at(
                other.span,
                format!(
                    "`flatten` takes no other attribute: remove `{}`, or put it on the fields of \
                     the flattened struct",
                    other.value
                ),
            );
        }
        return Some(Role::Flatten);
    }

    let shape = &field.shape;
    let kind = shape.kind;
    let type_text = type_name(&field.ty);
    let mut ok = true;

    let key = match field.key(&model.attrs) {
        Some(key) => {
            if !valid_key(&key.value) {
                errors.at(key.span, invalid_key_message(&key.value));
                ok = false;
            }
            key.value
        }
        None => {
            if !attrs.key_unreadable {
                errors.at(
                    field.ident.span(),
                    format!(
                        "missing `key` for field `{}`: add `#[hot_config(key = \"{}\")]`, or name \
                         every field's key with `#[hot_config(rename_all = \"{SCREAMING_SNAKE_CASE}\")]` \
                         or `#[hot_config(key_prefix = \"...\")]` on the struct",
                        field.ident,
                        field.ident.to_string().trim_start_matches("r#").to_ascii_uppercase()
                    ),
                );
            }
            ok = false;
            String::new()
        }
    };

    let (min, max) = if kind.is_numeric() {
        let leaf = type_name(&shape.leaf);
        let (min_label, max_label) = if attrs.range.is_some() {
            ("`range` start", "`range` end")
        } else {
            ("`min`", "`max`")
        };
        let min = attrs
            .min
            .as_ref()
            .and_then(|min| bound(min, kind, &leaf, min_label, errors));
        let max = attrs
            .max
            .as_ref()
            .and_then(|max| bound(max, kind, &leaf, max_label, errors));
        if (attrs.min.is_some() && min.is_none()) || (attrs.max.is_some() && max.is_none()) {
            ok = false;
        }
        if let (Some(low), Some(high), Some(max_attr)) = (&min, &max, &attrs.max)
            && low.value > high.value
        {
            errors.at(
                max_attr.span,
                format!(
                    "`min` ({}) is greater than `max` ({}): no value could pass; swap them",
                    low.text, high.text
                ),
            );
            ok = false;
        }
        (min, max)
    } else {
        // One error per attribute written: `range = 1..=5` is one mistake, not two.
        for name in ["min", "max", "range"] {
            if let Some(span) = attrs.span_of(name) {
                errors.at(
                    span,
                    format!(
                        "`{name}` needs an integer, float or `Duration` field, and this one is \
                         `{type_text}`: remove `{name}`{}",
                        if kind == LeafKind::Str {
                            ", or use `non_empty` or a `validate` hook for text"
                        } else {
                            ", or check the value in a `validate` hook"
                        }
                    ),
                );
                ok = false;
            }
        }
        (None, None)
    };

    let url = match &attrs.url {
        Some(url) if kind != LeafKind::Url => {
            errors.at(
                url.span,
                format!(
                    "`url` needs a field of type `Url` (or an Option/Secret/Vec of it), and this \
                     one is `{type_text}`: change the type to `url::Url`, or remove `url`"
                ),
            );
            ok = false;
            None
        }
        Some(url) => {
            for scheme in &url.value {
                if !valid_scheme(&scheme.value) {
                    errors.at(scheme.span, invalid_scheme_message(&scheme.value));
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

    if let Some(secret) = &attrs.secret
        && !shape.secret
    {
        errors.at(
            secret.span,
            format!(
                "a `secret` field needs the type `thorp_ops::Secret<...>`, which never prints \
                     its value: change `{type_text}` to `{}`",
                secret_type_suggestion(field)
            ),
        );
        ok = false;
    }

    if let Some(non_empty) = &attrs.non_empty
        && !(shape.list || kind == LeafKind::Str)
    {
        errors.at(
            non_empty.span,
            format!(
                "`non_empty` applies to `String` and `Vec` fields, and this one is \
                     `{type_text}`: remove it{}",
                if kind.is_numeric() {
                    ", or use `min` to bound the value"
                } else {
                    ""
                }
            ),
        );
        ok = false;
    }

    let default = match &attrs.default {
        Some(default) if shape.optional => {
            errors.at(
                default.span,
                "an `Option` field has no default (unset means `None`): remove `default`, or \
                 the `Option` to make the default apply",
            );
            ok = false;
            None
        }
        Some(default) => match default_text(default, field, errors) {
            Some(text) => {
                let in_bounds = check_default_in_bounds(
                    &text,
                    default.span,
                    kind,
                    min.as_ref(),
                    max.as_ref(),
                    errors,
                );
                let schemes = url.as_deref().unwrap_or_default();
                let allowed = check_default_schemes(&text, default.span, schemes, errors);
                let filled =
                    check_default_not_empty(&text, default.span, shape.list, attrs, errors);
                ok &= in_bounds && allowed && filled;
                Some(text)
            }
            None => {
                ok = false;
                None
            }
        },
        None => None,
    };

    ok.then(|| {
        Role::Key(Box::new(KeyField {
            key,
            default,
            min,
            max,
            url,
            secret: shape.secret,
            non_empty: attrs.non_empty.is_some(),
        }))
    })
}

/// The field's type with `Secret` put where the derive looks for it.
fn secret_type_suggestion(field: &Field) -> String {
    let shape = &field.shape;
    let mut inner = type_name(&shape.leaf);
    if shape.list {
        inner = format!("Vec<{inner}>");
    }
    inner = format!("Secret<{inner}>");
    if shape.optional {
        inner = format!("Option<{inner}>");
    }
    inner
}

/// Keys are what the `.env` reader accepts: `[A-Za-z_][A-Za-z0-9_]*`.
fn valid_key(key: &str) -> bool {
    let mut chars = key.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn invalid_key_message(key: &str) -> String {
    let mut message = format!(
        "`{key}` is not a valid key: a key is letters, digits and `_`, and does not start with \
         a digit"
    );
    let mut fixed: String = key
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    if fixed.starts_with(|c: char| c.is_ascii_digit()) {
        fixed.insert(0, '_');
    }
    if !key.is_empty() && valid_key(&fixed) {
        message.push_str(&format!(", like `{fixed}`"));
    }
    message
}

fn invalid_scheme_message(scheme: &str) -> String {
    match scheme.split_once(':') {
        Some((bare, _)) if valid_scheme(bare) => {
            format!(
                "`{scheme}` is not a URL scheme: write it without `:` and `//`, like `scheme = \"{bare}\"`"
            )
        }
        _ => format!(
            "`{scheme}` is not a URL scheme: a scheme is a letter followed by letters, digits, \
             `+`, `-` or `.`, like `scheme = \"https\"`"
        ),
    }
}

fn valid_scheme(scheme: &str) -> bool {
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// A `min` or `max` literal in the terms of the field's (numeric) type; `label` names it in
/// messages (`` `min` ``, `` `range` start ``).
fn bound(
    literal: &Sp<Literal>,
    kind: LeafKind,
    ty: &str,
    label: &str,
    errors: &mut Errors,
) -> Option<Bound> {
    match parse_literal_as(&literal.value, kind, ty) {
        Ok((value, text)) => Some(Bound { value, text }),
        Err(message) => {
            errors.at(literal.span, format!("{label}: {message}"));
            None
        }
    }
}

/// A literal as a value of `kind` (a field of type `ty`), with its display text; `Err` says
/// why it does not fit and how to write one that does.
fn parse_literal_as(
    literal: &Literal,
    kind: LeafKind,
    ty: &str,
) -> Result<(BoundValue, String), String> {
    match (kind, literal) {
        (LeafKind::Int { signed, bits }, Literal::Int(value)) => {
            let (low, high) = int_range(signed, bits);
            if *value < low || *value > high {
                return Err(format!(
                    "{value} does not fit in `{ty}`, which holds {low}..={high}"
                ));
            }
            Ok((BoundValue::Int(*value), value.to_string()))
        }
        (LeafKind::Int { .. }, Literal::Str(text)) => match text.trim().parse::<i128>() {
            Ok(value) => parse_literal_as(&Literal::Int(value), kind, ty),
            Err(_) => Err(format!(
                "\"{text}\" is not an integer, and the field is `{ty}`: write a whole number, \
                 like `2000`"
            )),
        },
        (LeafKind::Int { .. }, _) => Err(format!(
            "the field is `{ty}`: write a whole number, like `2000`"
        )),
        (LeafKind::Float, Literal::Float(value)) if value.is_finite() => {
            Ok((BoundValue::Float(*value), value.to_string()))
        }
        #[allow(
            clippy::cast_precision_loss,
            reason = "bounds are integers written as literals; a rounded one is still a bound"
        )]
        (LeafKind::Float, Literal::Int(value)) => {
            Ok((BoundValue::Float(*value as f64), value.to_string()))
        }
        (LeafKind::Float, Literal::Str(text)) => match text.trim().parse::<f64>() {
            Ok(value) if value.is_finite() => Ok((BoundValue::Float(value), text.clone())),
            _ => Err(format!(
                "\"{text}\" is not a finite number, and the field is `{ty}`: write a number, \
                 like `0.5`"
            )),
        },
        (LeafKind::Float, _) => Err(format!(
            "the field is `{ty}`: write a finite number, like `0.5`"
        )),
        (LeafKind::Duration, Literal::Str(text)) => match parse_duration_nanos(text) {
            Some(nanos) => Ok((BoundValue::Nanos(nanos), text.clone())),
            None => Err(format!(
                "\"{text}\" is not a duration: write whole numbers with units (ns, us, ms, s, m, \
                 h), like \"250ms\" or \"1m30s\""
            )),
        },
        (LeafKind::Duration, Literal::Int(value)) => Err(format!(
            "the field is a `Duration`: write a string with a unit, like \"{value}ms\" or \
             \"{value}s\""
        )),
        (LeafKind::Duration, _) => Err(
            "the field is a `Duration`: write a string with a unit, like \"250ms\" or \"2s\""
                .to_owned(),
        ),
        // Bounds are only parsed for numeric kinds; `check_field` reports the others.
        (_, _) => Err(format!("the field is `{ty}`, which has no bounds")),
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

/// The default as file text, checked against the field's type where the macro knows it (a
/// list default item by item).
fn default_text(default: &Sp<Literal>, field: &Field, errors: &mut Errors) -> Option<String> {
    let shape = &field.shape;
    let leaf = type_name(&shape.leaf);
    let result = if shape.list {
        match &default.value {
            Literal::Str(text) => text
                .split(',')
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .try_for_each(|item| {
                    leaf_default(&Literal::Str(item.to_owned()), shape.kind, &leaf).map(|_| ())
                })
                .map(|()| text.clone()),
            other => Err(format!(
                "a list default is one string of comma-separated items: write `default = \"{}\"`",
                literal_text(other)
            )),
        }
    } else {
        leaf_default(&default.value, shape.kind, &leaf)
    };
    match result {
        Ok(text) => Some(text),
        Err(message) => {
            errors.at(default.span, format!("`default`: {message}"));
            None
        }
    }
}

/// One default value of a field whose innermost type is `ty`, as file text.
fn leaf_default(literal: &Literal, kind: LeafKind, ty: &str) -> Result<String, String> {
    match (literal, kind) {
        (literal, LeafKind::Int { .. } | LeafKind::Float | LeafKind::Duration) => {
            parse_literal_as(literal, kind, ty).map(|(_, text)| text)
        }
        (Literal::Bool(flag), LeafKind::Bool) => Ok(flag.to_string()),
        (Literal::Str(text), LeafKind::Bool)
            if ["true", "false", "yes", "no", "on", "off", "1", "0"]
                .contains(&text.to_ascii_lowercase().as_str()) =>
        {
            Ok(text.clone())
        }
        (_, LeafKind::Bool) => {
            Err("the field is `bool`: write `default = true` or `default = false`".to_owned())
        }
        (Literal::Str(text), LeafKind::Url) => {
            let host = text.split_once("://").map(|(_, rest)| rest);
            if host.is_some_and(|host| !host.is_empty() && !host.starts_with('/')) {
                Ok(text.clone())
            } else {
                Err(format!(
                    "\"{text}\" is not an absolute URL with a host: write one like \
                     \"https://api.example.com\""
                ))
            }
        }
        (Literal::Str(text), LeafKind::Str | LeafKind::Other) => Ok(text.clone()),
        // A `FromStr` type reads the number's text; the load reports it if it does not parse.
        (other, LeafKind::Other) => Ok(literal_text(other)),
        (other, _) => Err(format!(
            "the field is `{ty}`: write a string, like `default = \"{}\"`",
            literal_text(other)
        )),
    }
}

fn literal_text(literal: &Literal) -> String {
    match literal {
        Literal::Int(value) => value.to_string(),
        Literal::Float(value) => value.to_string(),
        Literal::Str(text) => text.clone(),
        Literal::Bool(flag) => flag.to_string(),
    }
}

/// Whether each URL of the default has a scheme `url(scheme = ...)` allows; reports it if not.
fn check_default_schemes(text: &str, span: Span, schemes: &[String], errors: &mut Errors) -> bool {
    if schemes.is_empty() {
        return true;
    }
    for item in text
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
    {
        let scheme = item.split_once("://").map_or(item, |(scheme, _)| scheme);
        if !schemes
            .iter()
            .any(|allowed| allowed.eq_ignore_ascii_case(scheme))
        {
            errors.at(
                span,
                format!(
                    "`default` has scheme `{scheme}`, which `url` does not allow (only {}): \
                     change the default or add `scheme = \"{scheme}\"`",
                    schemes.join(", ")
                ),
            );
            return false;
        }
    }
    true
}

/// Whether a `non_empty` field's default has something in it; reports it if not.
fn check_default_not_empty(
    text: &str,
    span: Span,
    list: bool,
    attrs: &FieldAttrs,
    errors: &mut Errors,
) -> bool {
    let filled = if list {
        text.split(',').any(|item| !item.trim().is_empty())
    } else {
        !text.trim().is_empty()
    };
    if attrs.non_empty.is_none() || filled {
        return true;
    }
    errors.at(
        span,
        "`default` is empty, but the field is `non_empty`: give a default value, or remove \
         `default` to make the key required",
    );
    false
}

/// Whether the default (each item of a list default) is within the bounds; reports it if not.
fn check_default_in_bounds(
    text: &str,
    span: Span,
    kind: LeafKind,
    min: Option<&Bound>,
    max: Option<&Bound>,
    errors: &mut Errors,
) -> bool {
    if min.is_none() && max.is_none() {
        return true;
    }
    let bounds = format!(
        "{}..{}{}",
        min.map_or("", |min| min.text.as_str()),
        if max.is_some() { "=" } else { "" },
        max.map_or("", |max| max.text.as_str())
    );
    for item in text
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
    {
        let Ok((value, _)) = parse_literal_as(&Literal::Str(item.to_owned()), kind, "") else {
            continue;
        };
        let below = min.is_some_and(|min| value < min.value);
        let above = max.is_some_and(|max| value > max.value);
        if below || above {
            errors.at(
                span,
                format!(
                    "`default` {item} is outside the bounds {bounds}: pick a default within \
                     them, or widen the bounds"
                ),
            );
            return false;
        }
    }
    true
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_the_env_reader() {
        for key in ["RPC_URL", "_X", "a1", "MIN_EDGE_SCORE"] {
            assert!(valid_key(key), "{key}");
        }
        for key in ["", "1X", "RPC-URL", "RPC.URL", "RPC URL", "É"] {
            assert!(!valid_key(key), "{key}");
        }
    }

    #[test]
    fn invalid_keys_get_a_suggestion_when_one_exists() {
        assert!(invalid_key_message("rpc-url").ends_with("like `RPC_URL`"));
        assert!(invalid_key_message("1X").ends_with("like `_1X`"));
        assert!(!invalid_key_message("").contains("like"));
    }

    #[test]
    fn scheme_messages_strip_the_separator() {
        assert!(invalid_scheme_message("https://").contains("`scheme = \"https\"`"));
        assert!(invalid_scheme_message("1x").contains("a letter followed by"));
    }

    #[test]
    fn durations_match_the_runtime_grammar() {
        assert_eq!(parse_duration_nanos("250ms"), Some(250_000_000));
        assert_eq!(parse_duration_nanos("1m30s"), Some(90_000_000_000));
        assert_eq!(parse_duration_nanos("10us"), Some(10_000));
        for bad in [
            "",
            "500",
            "ms",
            "1x",
            "-1s",
            "1.5s",
            "99999999999999999999h",
        ] {
            assert_eq!(parse_duration_nanos(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn literals_are_read_in_the_fields_terms() {
        let u8_kind = LeafKind::Int {
            signed: false,
            bits: 8,
        };
        assert!(parse_literal_as(&Literal::Int(255), u8_kind, "u8").is_ok());
        let error = parse_literal_as(&Literal::Int(256), u8_kind, "u8").err();
        assert_eq!(
            error.as_deref(),
            Some("256 does not fit in `u8`, which holds 0..=255")
        );
        let i128_kind = LeafKind::Int {
            signed: true,
            bits: 128,
        };
        assert!(parse_literal_as(&Literal::Int(i128::MIN), i128_kind, "i128").is_ok());
        let seconds = parse_literal_as(&Literal::Str("2s".into()), LeafKind::Duration, "Duration");
        assert!(matches!(seconds, Ok((BoundValue::Nanos(2_000_000_000), _))));
        assert!(parse_literal_as(&Literal::Int(5), LeafKind::Duration, "Duration").is_err());
    }
}
