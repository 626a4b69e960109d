//! Parses `#[health_component(...)]` arguments and `#[health(...)]` field attributes into
//! spanned raw values. Syntax only: meaning is checked in `check.rs`.

use crate::errors::Errors;
use proc_macro2::{Span, TokenStream};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Attribute, Expr, ExprLit, ExprUnary, Ident, Lit, LitStr, Token, UnOp};

/// The field attribute.
pub(crate) const HEALTH: &str = "health";
/// `#[health_component(name = "...")]`.
pub(crate) const NAME: &str = "name";
/// `#[health_component(readiness = false)]`.
pub(crate) const READINESS: &str = "readiness";
pub(crate) const DEGRADED_ABOVE: &str = "degraded_above";
pub(crate) const DEGRADED_BELOW: &str = "degraded_below";
pub(crate) const CRITICAL_ABOVE: &str = "critical_above";
pub(crate) const CRITICAL_BELOW: &str = "critical_below";
pub(crate) const DEGRADED_WHEN: &str = "degraded_when";
pub(crate) const CRITICAL_WHEN: &str = "critical_when";
pub(crate) const ISSUE: &str = "issue";
pub(crate) const DETAILS: &str = "details";
pub(crate) const KEY: &str = "key";
pub(crate) const UNIT: &str = "unit";
pub(crate) const RENAME: &str = "rename";
pub(crate) const SKIP: &str = "skip";

const FIELD_OPTIONS: &str = "degraded_above, degraded_below, critical_above, critical_below, degraded_when, \
     critical_when, issue, details, key, unit, rename, skip";

/// The kind of a rule, named as in the attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RuleKind {
    DegradedAbove,
    DegradedBelow,
    CriticalAbove,
    CriticalBelow,
    DegradedWhen,
    CriticalWhen,
}

impl RuleKind {
    fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            DEGRADED_ABOVE => Self::DegradedAbove,
            DEGRADED_BELOW => Self::DegradedBelow,
            CRITICAL_ABOVE => Self::CriticalAbove,
            CRITICAL_BELOW => Self::CriticalBelow,
            DEGRADED_WHEN => Self::DegradedWhen,
            CRITICAL_WHEN => Self::CriticalWhen,
            _ => return None,
        })
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::DegradedAbove => DEGRADED_ABOVE,
            Self::DegradedBelow => DEGRADED_BELOW,
            Self::CriticalAbove => CRITICAL_ABOVE,
            Self::CriticalBelow => CRITICAL_BELOW,
            Self::DegradedWhen => DEGRADED_WHEN,
            Self::CriticalWhen => CRITICAL_WHEN,
        }
    }

    /// The variant of `thorp_ops::health::RuleKind`.
    pub(crate) fn variant(self) -> &'static str {
        match self {
            Self::DegradedAbove => "DegradedAbove",
            Self::DegradedBelow => "DegradedBelow",
            Self::CriticalAbove => "CriticalAbove",
            Self::CriticalBelow => "CriticalBelow",
            Self::DegradedWhen => "DegradedWhen",
            Self::CriticalWhen => "CriticalWhen",
        }
    }

    pub(crate) fn is_state(self) -> bool {
        matches!(self, Self::DegradedWhen | Self::CriticalWhen)
    }
}

/// A rule's value as written.
pub(crate) enum RawValue {
    /// `degraded_above = 100`: the number and the span of the literal.
    Number { value: f64, span: Span },
    /// `degraded_when = "Open | HalfOpen"`: the variants, spanned at the string.
    Variants { lit: LitStr, variants: Vec<Ident> },
}

pub(crate) struct RawRule {
    pub(crate) kind: RuleKind,
    pub(crate) kind_span: Span,
    pub(crate) value: RawValue,
}

/// One `#[health(...)]` attribute.
pub(crate) struct HealthAttr {
    pub(crate) rule: Option<RawRule>,
    pub(crate) issue: Option<LitStr>,
    pub(crate) details: Option<LitStr>,
    pub(crate) key: Option<LitStr>,
    pub(crate) unit: Option<LitStr>,
    pub(crate) rename: Option<LitStr>,
    pub(crate) skip: Option<Span>,
    /// Whether an option was not understood (then what is missing may be what it meant).
    pub(crate) had_unknown: bool,
}

/// The arguments of `#[health_component(...)]`.
#[derive(Default)]
pub(crate) struct ComponentArgs {
    pub(crate) name: Option<LitStr>,
    pub(crate) readiness: Option<syn::LitBool>,
}

pub(crate) fn parse_component_args(args: TokenStream, errors: &mut Errors) -> ComponentArgs {
    let mut parsed = ComponentArgs::default();
    let parser = syn::meta::parser(|meta| {
        // name = "rpcPool"
        if meta.path.is_ident(NAME) {
            let lit: LitStr = meta.value()?.parse()?;
            if parsed.name.is_some() {
                errors.spanned(&meta.path, "duplicate `name`; give the component one name");
            }
            parsed.name = Some(lit);
            Ok(())
        // readiness = false
        } else if meta.path.is_ident(READINESS) {
            let lit: syn::LitBool = meta.value()?.parse()?;
            if parsed.readiness.is_some() {
                errors.spanned(&meta.path, "duplicate `readiness`");
            }
            parsed.readiness = Some(lit);
            Ok(())
        } else {
            errors.spanned(
                &meta.path,
                "unknown `health_component` option; expected `name = \"componentName\"` or `readiness = false`",
            );
            skip_value(&meta)
        }
    });
    if let Err(e) = parser.parse2(args) {
        errors.push(e);
    }
    parsed
}

pub(crate) fn is_health(attr: &Attribute) -> bool {
    attr.path().is_ident(HEALTH)
}

pub(crate) fn parse_health_attr(attr: &Attribute, errors: &mut Errors) -> HealthAttr {
    let mut parsed = HealthAttr {
        rule: None,
        issue: None,
        details: None,
        key: None,
        unit: None,
        rename: None,
        skip: None,
        had_unknown: false,
    };
    let result = attr.parse_nested_meta(|meta| {
        let Some(ident) = meta.path.get_ident() else {
            parsed.had_unknown = true;
            errors.spanned(&meta.path, format!("unknown `health` option; expected one of: {FIELD_OPTIONS}"));
            return skip_value(&meta);
        };
        let name = ident.to_string();
        if let Some(kind) = RuleKind::from_name(&name) {
            let value = if kind.is_state() {
                // degraded_when = "HalfOpen"   critical_when = "Open | ForcedOpen"
                let lit: LitStr = meta.value()?.parse()?;
                let variants = lit
                    .parse_with(Punctuated::<Ident, Token![|]>::parse_separated_nonempty)
                    .map(|p| p.into_iter().collect())
                    .unwrap_or_else(|_| {
                        errors.spanned(
                            &lit,
                            format!("`{name}` takes enum variant names, e.g. `{name} = \"HalfOpen\"` or `\"Open | HalfOpen\"`"),
                        );
                        Vec::new()
                    });
                RawValue::Variants { lit, variants }
            } else {
                // degraded_above = 100   critical_below = 0.95   degraded_below = -1.5
                let expr: Expr = meta.value()?.parse()?;
                match number(&expr) {
                    Some(value) => RawValue::Number { value, span: expr.span() },
                    None => {
                        errors.spanned(&expr, format!("`{name}` takes a number literal, e.g. `{name} = 100` or `{name} = 0.95`"));
                        return Ok(());
                    }
                }
            };
            if let Some(first) = &parsed.rule {
                errors.at(
                    ident.span(),
                    format!(
                        "one rule per `#[health(...)]`: `{}` is already here; put `{name}` in its own `#[health({name} = ..., issue = \"...\")]`",
                        first.kind.name()
                    ),
                );
            } else {
                parsed.rule = Some(RawRule { kind, kind_span: ident.span(), value });
            }
            return Ok(());
        }
        let slot = match name.as_str() {
            // issue = "HIGH_LATENCY"
            ISSUE => &mut parsed.issue,
            // details = "P95 latency {value}ms exceeds threshold {threshold}ms"
            DETAILS => &mut parsed.details,
            // key = "HEALTH_MAX_RPC_LATENCY_MS"
            KEY => &mut parsed.key,
            // unit = "ms"
            UNIT => &mut parsed.unit,
            // rename = "throughput"
            RENAME => &mut parsed.rename,
            // skip
            SKIP => {
                if parsed.skip.is_some() {
                    errors.at(ident.span(), "duplicate `skip`");
                }
                parsed.skip = Some(ident.span());
                return Ok(());
            }
            _ => {
                parsed.had_unknown = true;
                errors.at(
                    ident.span(),
                    format!("unknown `health` option `{name}`; expected one of: {FIELD_OPTIONS}"),
                );
                return skip_value(&meta);
            }
        };
        let lit: LitStr = meta.value()?.parse()?;
        if slot.is_some() {
            errors.at(ident.span(), format!("duplicate `{name}` in this attribute"));
        }
        *slot = Some(lit);
        Ok(())
    });
    if let Err(e) = result {
        errors.push(e);
    }
    parsed
}

/// After an unknown option, consumes its `= value` or `(...)` so the rest still parses.
fn skip_value(meta: &syn::meta::ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(Token![=]) {
        meta.value()?.parse::<Expr>()?;
    } else if meta.input.peek(syn::token::Paren) {
        let _content;
        syn::parenthesized!(_content in meta.input);
    }
    Ok(())
}

fn number(expr: &Expr) -> Option<f64> {
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Int(int), ..
        }) => int.base10_parse().ok(),
        Expr::Lit(ExprLit {
            lit: Lit::Float(float),
            ..
        }) => float.base10_parse().ok(),
        Expr::Unary(ExprUnary {
            op: UnOp::Neg(_),
            expr,
            ..
        }) => number(expr).map(|v: f64| -v),
        Expr::Group(group) => number(&group.expr),
        _ => None,
    }
    .filter(|v: &f64| v.is_finite())
}
