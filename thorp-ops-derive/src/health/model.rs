//! The checked-to-be shape of a `#[health_component]` struct: fields, their metrics and rules,
//! every value with its span. Built from the parsed attributes; structural mistakes (options
//! repeated across attributes, rule options without a rule) are reported while building.

use super::attr::{self, ComponentArgs, HealthAttr, RawValue, RuleKind};
use crate::errors::Errors;
use proc_macro2::Span;
use syn::{Ident, ItemStruct, LitStr, Type};

pub(crate) struct Component {
    pub(crate) ident: Ident,
    pub(crate) name: String,
    pub(crate) name_span: Span,
    /// `readiness = ...` when given.
    pub(crate) readiness: Option<bool>,
    pub(crate) fields: Vec<Field>,
}

pub(crate) struct Field {
    pub(crate) ident: Ident,
    pub(crate) ty: Type,
    /// The metric name (renamed or camelCased) and the span to blame for it.
    pub(crate) metric: String,
    pub(crate) rename: Option<LitStr>,
    pub(crate) unit: Option<Unit>,
    /// `unit = "..."` as written, when it was.
    pub(crate) unit_lit: Option<LitStr>,
    pub(crate) skip: Option<Span>,
    pub(crate) rules: Vec<Rule>,
}

pub(crate) struct Rule {
    pub(crate) kind: RuleKind,
    pub(crate) kind_span: Span,
    pub(crate) value: RawValue,
    pub(crate) issue: Option<LitStr>,
    pub(crate) details: Option<Details>,
    pub(crate) key: Option<LitStr>,
}

pub(crate) struct Details {
    pub(crate) lit: LitStr,
    /// `None` when the template does not parse (already reported).
    pub(crate) segments: Option<Vec<Segment>>,
}

pub(crate) enum Segment {
    Text(String),
    Placeholder { name: String, fmt: Fmt },
}

#[derive(Clone, Copy)]
pub(crate) struct Fmt {
    pub(crate) decimals: Option<u8>,
    pub(crate) percent: bool,
}

/// Mirrors `thorp_ops::health::Unit`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unit {
    Milliseconds,
    Microseconds,
    Seconds,
    Bytes,
    Megabytes,
    Percent,
    Ratio,
    PerSecond,
    Count,
}

pub(crate) const UNITS: &str = "ms, us, s, bytes, MB, percent, ratio, per_second, count";

impl Unit {
    pub(crate) fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "ms" => Self::Milliseconds,
            "us" => Self::Microseconds,
            "s" => Self::Seconds,
            "bytes" => Self::Bytes,
            "MB" => Self::Megabytes,
            "percent" => Self::Percent,
            "ratio" => Self::Ratio,
            "per_second" => Self::PerSecond,
            "count" => Self::Count,
            _ => return None,
        })
    }

    /// The unit a field's name implies, if its suffix is unambiguous.
    pub(crate) fn infer(field: &str) -> Option<Self> {
        const SUFFIXES: &[(&str, Unit)] = &[
            ("_ms", Unit::Milliseconds),
            ("_us", Unit::Microseconds),
            ("_secs", Unit::Seconds),
            ("_seconds", Unit::Seconds),
            ("_bytes", Unit::Bytes),
            ("_mb", Unit::Megabytes),
            ("_pct", Unit::Percent),
            ("_percent", Unit::Percent),
            ("_ratio", Unit::Ratio),
            ("_per_sec", Unit::PerSecond),
            ("_per_second", Unit::PerSecond),
        ];
        SUFFIXES
            .iter()
            .find(|(suffix, _)| field.ends_with(suffix))
            .map(|&(_, unit)| unit)
    }

    pub(crate) fn variant(self) -> &'static str {
        match self {
            Self::Milliseconds => "Milliseconds",
            Self::Microseconds => "Microseconds",
            Self::Seconds => "Seconds",
            Self::Bytes => "Bytes",
            Self::Megabytes => "Megabytes",
            Self::Percent => "Percent",
            Self::Ratio => "Ratio",
            Self::PerSecond => "PerSecond",
            Self::Count => "Count",
        }
    }
}

pub(crate) fn build(item: &ItemStruct, args: ComponentArgs, errors: &mut Errors) -> Component {
    let (name, name_span) = match &args.name {
        Some(lit) => (lit.value(), lit.span()),
        None => (default_name(&item.ident.to_string()), item.ident.span()),
    };
    for attr in item.attrs.iter().filter(|a| attr::is_health(a)) {
        errors.spanned(attr, "`#[health(...)]` goes on fields; name the component with `#[health_component(name = \"...\")]`");
    }
    let mut fields = Vec::new();
    match &item.fields {
        syn::Fields::Named(named) => {
            for field in &named.named {
                if let Some(ident) = &field.ident {
                    fields.push(build_field(ident, field, errors));
                }
            }
        }
        syn::Fields::Unnamed(_) => errors.spanned(
            &item.fields,
            "`#[health_component]` needs named fields: each field becomes a named metric",
        ),
        syn::Fields::Unit => {}
    }
    Component {
        ident: item.ident.clone(),
        name,
        name_span,
        readiness: args.readiness.as_ref().map(syn::LitBool::value),
        fields,
    }
}

fn build_field(ident: &Ident, field: &syn::Field, errors: &mut Errors) -> Field {
    let attrs: Vec<HealthAttr> = field
        .attrs
        .iter()
        .filter(|a| attr::is_health(a))
        .map(|a| attr::parse_health_attr(a, errors))
        .collect();
    let field_name = unraw(ident);
    let mut out = Field {
        ident: ident.clone(),
        ty: field.ty.clone(),
        metric: camel_case(&field_name),
        rename: None,
        unit: Unit::infer(&field_name),
        unit_lit: None,
        skip: None,
        rules: Vec::new(),
    };
    for attr in attrs {
        if let Some(lit) = attr.unit {
            if out.unit_lit.is_some() {
                errors.spanned(&lit, format!("duplicate `unit` on field `{field_name}`"));
            }
            out.unit = Unit::parse(&lit.value());
            out.unit_lit = Some(lit);
        }
        if let Some(lit) = attr.rename {
            if out.rename.is_some() {
                errors.spanned(&lit, format!("duplicate `rename` on field `{field_name}`"));
            }
            out.metric = lit.value();
            out.rename = Some(lit);
        }
        if let Some(span) = attr.skip {
            if out.skip.is_some() {
                errors.at(span, format!("duplicate `skip` on field `{field_name}`"));
            }
            out.skip = Some(span);
        }
        match attr.rule {
            Some(rule) => out.rules.push(Rule {
                kind: rule.kind,
                kind_span: rule.kind_span,
                value: rule.value,
                issue: attr.issue,
                details: attr.details.map(|lit| {
                    let segments = parse_template(&lit.value())
                        .map_err(|msg| errors.spanned(&lit, msg))
                        .ok();
                    Details { lit, segments }
                }),
                key: attr.key,
            }),
            // After an unknown option (likely a misspelt rule), orphans are that same mistake.
            None if attr.had_unknown => {}
            None => {
                for (option, lit) in [
                    (attr::ISSUE, &attr.issue),
                    (attr::DETAILS, &attr.details),
                    (attr::KEY, &attr.key),
                ] {
                    if let Some(lit) = lit {
                        errors.spanned(
                            lit,
                            format!("`{option}` belongs to a rule: add one to this attribute, e.g. `#[health(degraded_above = 100, {option} = ...)]`"),
                        );
                    }
                }
            }
        }
    }
    out
}

/// `{{`, `}}`, text, and `{name}` / `{name:.2}` / `{name:%}` / `{name:.1%}` placeholders.
pub(crate) fn parse_template(text: &str) -> Result<Vec<Segment>, String> {
    let mut segments = Vec::new();
    let mut literal = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                literal.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                literal.push('}');
            }
            '}' => {
                return Err("unmatched `}` in `details`; write `}}` for a literal brace".to_owned());
            }
            '{' => {
                let mut inner = String::new();
                loop {
                    match chars.next() {
                        Some('}') => break,
                        Some(c) => inner.push(c),
                        None => {
                            return Err(
                                "unclosed `{` in `details`; write `{{` for a literal brace"
                                    .to_owned(),
                            );
                        }
                    }
                }
                let (name, spec) = inner.split_once(':').unwrap_or((inner.as_str(), ""));
                let name = name.trim();
                if name.is_empty() {
                    return Err("empty `{}` in `details`; name a placeholder: `{value}`, `{threshold}` or a field".to_owned());
                }
                let fmt = parse_spec(spec).ok_or_else(|| {
                    format!("bad format `{{{name}:{spec}}}` in `details`; use `{{{name}:.2}}`, `{{{name}:%}}` or `{{{name}:.1%}}`")
                })?;
                if !literal.is_empty() {
                    segments.push(Segment::Text(std::mem::take(&mut literal)));
                }
                segments.push(Segment::Placeholder {
                    name: name.to_owned(),
                    fmt,
                });
            }
            c => literal.push(c),
        }
    }
    if !literal.is_empty() {
        segments.push(Segment::Text(literal));
    }
    Ok(segments)
}

fn parse_spec(spec: &str) -> Option<Fmt> {
    let (spec, percent) = match spec.strip_suffix('%') {
        Some(rest) => (rest, true),
        None => (spec, false),
    };
    let decimals = match spec {
        "" => None,
        digits => Some(
            digits
                .strip_prefix('.')?
                .parse::<u8>()
                .ok()
                .filter(|d| *d <= 17)?,
        ),
    };
    Some(Fmt { decimals, percent })
}

fn unraw(ident: &Ident) -> String {
    let name = ident.to_string();
    name.strip_prefix("r#").map(str::to_owned).unwrap_or(name)
}

/// `p95_latency_ms` → `p95LatencyMs`.
pub(crate) fn camel_case(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = !out.is_empty();
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// `RpcPoolStats` → `rpcPool`.
fn default_name(ident: &str) -> String {
    let base = ident
        .strip_suffix("Stats")
        .filter(|b| !b.is_empty())
        .unwrap_or(ident);
    let mut chars = base.chars();
    chars
        .next()
        .map(|first| first.to_lowercase().chain(chars).collect())
        .unwrap_or_default()
}

/// `rpcPool` → `RPC_POOL`, `p95_latency_ms` → `P95_LATENCY_MS`.
pub(crate) fn screaming(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    let mut previous_lower = false;
    for c in name.chars() {
        if c.is_uppercase() && previous_lower {
            out.push('_');
        }
        previous_lower = c.is_lowercase() || c.is_ascii_digit();
        if c == '-' || c == '.' || c == ' ' {
            out.push('_');
        } else {
            out.extend(c.to_uppercase());
        }
    }
    out
}

impl Component {
    /// The override key of a threshold rule: explicit, or `HEALTH_<COMPONENT>_<FIELD>_<RULE>`.
    pub(crate) fn key(&self, field: &Field, rule: &Rule) -> String {
        match &rule.key {
            Some(lit) => lit.value(),
            None => format!(
                "HEALTH_{}_{}_{}",
                screaming(&self.name),
                screaming(&unraw(&field.ident)),
                rule.kind.name().to_uppercase()
            ),
        }
    }

    /// Index of each field's metric among the metrics (skipped fields have none).
    pub(crate) fn metric_indices(&self) -> Vec<Option<usize>> {
        let mut next = 0;
        self.fields
            .iter()
            .map(|f| {
                f.skip.is_none().then(|| {
                    next += 1;
                    next - 1
                })
            })
            .collect()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test, with its message
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(camel_case("p95_latency_ms"), "p95LatencyMs");
        assert_eq!(camel_case("_private_thing"), "privateThing");
        assert_eq!(default_name("RpcPoolStats"), "rpcPool");
        assert_eq!(default_name("Stats"), "stats");
        assert_eq!(default_name("EventBus"), "eventBus");
        assert_eq!(screaming("backpressureManager"), "BACKPRESSURE_MANAGER");
        assert_eq!(screaming("p95_latency_ms"), "P95_LATENCY_MS");
        assert_eq!(screaming("rpcPool"), "RPC_POOL");
    }

    #[test]
    fn units_are_inferred_from_unambiguous_suffixes() {
        assert!(Unit::infer("p95_latency_ms") == Some(Unit::Milliseconds));
        assert!(Unit::infer("events_per_second") == Some(Unit::PerSecond));
        assert!(Unit::infer("success_rate").is_none());
        assert!(Unit::infer("items").is_none());
    }

    #[test]
    fn templates() {
        let segments = parse_template("a {value:.0%} b {{x}} {threshold:.2}{other}").unwrap();
        let shape: Vec<String> = segments
            .iter()
            .map(|s| match s {
                Segment::Text(t) => format!("T({t})"),
                Segment::Placeholder { name, fmt } => {
                    format!("P({name},{:?},{})", fmt.decimals, fmt.percent)
                }
            })
            .collect();
        assert_eq!(
            shape,
            [
                "T(a )",
                "P(value,Some(0),true)",
                "T( b {x} )",
                "P(threshold,Some(2),false)",
                "P(other,None,false)"
            ]
        );
        assert!(parse_template("open {value").is_err());
        assert!(parse_template("close }").is_err());
        assert!(parse_template("{value:x}").is_err());
        assert!(parse_template("{}").is_err());
    }
}
