//! Parses `#[hot_config(...)]` on the struct and on its fields into spanned values.
//!
//! Every attribute is kept with its span and checked later, in `check.rs`; parsing only
//! rejects what cannot be read at all (an unknown name, a value of the wrong token kind, an
//! attribute given twice), and keeps going after each error so all of them are reported.

use crate::errors::Errors;
use crate::spanned::Sp;
use syn::meta::ParseNestedMeta;
use syn::{Attribute, Expr, ExprLit, ExprUnary, Lit, LitStr, Path, UnOp};

pub(crate) const HOT_CONFIG: &str = "hot_config";

// Struct attributes.
const COMPONENT: &str = "component";
const PREFIX: &str = "prefix";
const KEY_PREFIX: &str = "key_prefix";
const RENAME_ALL: &str = "rename_all";
const VALIDATE: &str = "validate";
const CRATE: &str = "crate";

// Field attributes.
const KEY: &str = "key";
const DEFAULT: &str = "default";
const MIN: &str = "min";
const MAX: &str = "max";
const RANGE: &str = "range";
const URL: &str = "url";
const SCHEME: &str = "scheme";
const SECRET: &str = "secret";
const NON_EMPTY: &str = "non_empty";
const FLATTEN: &str = "flatten";

/// The one `rename_all` rule there is: field `default_timeout_ms` is key `DEFAULT_TIMEOUT_MS`.
pub(crate) const SCREAMING_SNAKE_CASE: &str = "SCREAMING_SNAKE_CASE";

#[derive(Default)]
pub(crate) struct StructAttrs {
    pub(crate) component: Option<Sp<String>>,
    pub(crate) prefixes: Vec<Sp<String>>,
    pub(crate) key_prefix: Option<Sp<String>>,
    pub(crate) rename_all: Option<Sp<String>>,
    pub(crate) validate: Option<Path>,
    pub(crate) krate: Option<Path>,
}

/// A literal as written in `default`, `min` or `max`, sign folded in.
#[derive(Clone)]
pub(crate) enum Literal {
    Int(i128),
    Float(f64),
    Str(String),
    Bool(bool),
}

#[derive(Default)]
pub(crate) struct FieldAttrs {
    pub(crate) key: Option<Sp<String>>,
    pub(crate) default: Option<Sp<Literal>>,
    pub(crate) min: Option<Sp<Literal>>,
    pub(crate) max: Option<Sp<Literal>>,
    /// Where `range` was written; its bounds land in `min` and `max`.
    pub(crate) range: Option<Sp<()>>,
    pub(crate) url: Option<Sp<Vec<Sp<String>>>>,
    pub(crate) secret: Option<Sp<()>>,
    pub(crate) non_empty: Option<Sp<()>>,
    pub(crate) flatten: Option<Sp<()>>,
}

pub(crate) fn struct_attrs(attrs: &[Attribute], errors: &mut Errors) -> StructAttrs {
    let mut out = StructAttrs::default();
    for attr in attrs.iter().filter(|attr| attr.path().is_ident(HOT_CONFIG)) {
        let parsed = attr.parse_nested_meta(|meta| {
            let span = meta.path.span_of_ident();
            // component = "rpcPool"
            if meta.path.is_ident(COMPONENT) {
                set_once(&mut out.component, Sp::new(string(&meta)?.value(), span), COMPONENT, errors);
            // prefix = "RPC_"   (repeatable)
            } else if meta.path.is_ident(PREFIX) {
                out.prefixes.push(Sp::new(string(&meta)?.value(), span));
            // key_prefix = "RPC_"
            } else if meta.path.is_ident(KEY_PREFIX) {
                set_once(&mut out.key_prefix, Sp::new(string(&meta)?.value(), span), KEY_PREFIX, errors);
            // rename_all = "SCREAMING_SNAKE_CASE"
            } else if meta.path.is_ident(RENAME_ALL) {
                let rule = string(&meta)?;
                set_once(&mut out.rename_all, Sp::new(rule.value(), rule.span()), RENAME_ALL, errors);
            // validate = path::to::check
            } else if meta.path.is_ident(VALIDATE) {
                let path: Path = meta.value()?.parse()?;
                if out.validate.replace(path).is_some() {
                    errors.at(span, format!("duplicate `{VALIDATE}` attribute"));
                }
            // crate = "path::to::thorp_ops"
            } else if meta.path.is_ident(CRATE) {
                let path: Path = string(&meta)?.parse()?;
                if out.krate.replace(path).is_some() {
                    errors.at(span, format!("duplicate `{CRATE}` attribute"));
                }
            } else {
                return Err(meta.error(format!(
                    "unknown hot_config attribute on a struct; expected one of: {COMPONENT}, {PREFIX}, \
                     {KEY_PREFIX}, {RENAME_ALL}, {VALIDATE}, {CRATE}"
                )));
            }
            Ok(())
        });
        if let Err(error) = parsed {
            errors.push(error);
        }
    }
    out
}

pub(crate) fn field_attrs(attrs: &[Attribute], errors: &mut Errors) -> FieldAttrs {
    let mut out = FieldAttrs::default();
    for attr in attrs.iter().filter(|attr| attr.path().is_ident(HOT_CONFIG)) {
        let parsed = attr.parse_nested_meta(|meta| {
            let span = meta.path.span_of_ident();
            // key = "RPC_DEFAULT_TIMEOUT_MS"
            if meta.path.is_ident(KEY) {
                let key = string(&meta)?;
                set_once(&mut out.key, Sp::new(key.value(), key.span()), KEY, errors);
            // default = 2000 | default = "2s" | default = true
            } else if meta.path.is_ident(DEFAULT) {
                let literal = literal(&meta)?;
                set_once(&mut out.default, literal, DEFAULT, errors);
            // min = 100
            } else if meta.path.is_ident(MIN) {
                let literal = literal(&meta)?;
                set_once(&mut out.min, literal, MIN, errors);
            // max = 60_000
            } else if meta.path.is_ident(MAX) {
                let literal = literal(&meta)?;
                set_once(&mut out.max, literal, MAX, errors);
            // range = 0..=100 | range = 1.. | range = ..=10 | range = "1s"..="1m"
            } else if meta.path.is_ident(RANGE) {
                let expr: Expr = meta.value()?.parse()?;
                let Expr::Range(range) = &expr else {
                    return Err(syn::Error::new_spanned(expr, "expected a range like `0..=100`"));
                };
                if matches!(range.limits, syn::RangeLimits::HalfOpen(_)) && range.end.is_some() {
                    return Err(syn::Error::new_spanned(
                        &range.limits,
                        "use an inclusive range `a..=b`: the bounds of a config value are inclusive",
                    ));
                }
                set_once(&mut out.range, Sp::new((), span), RANGE, errors);
                if let Some(start) = &range.start {
                    set_once(&mut out.min, literal_expr(start)?, MIN, errors);
                }
                if let Some(end) = &range.end {
                    set_once(&mut out.max, literal_expr(end)?, MAX, errors);
                }
            // url | url(scheme = "https", scheme = "http")
            } else if meta.path.is_ident(URL) {
                let mut schemes = Vec::new();
                if meta.input.peek(syn::token::Paren) {
                    meta.parse_nested_meta(|inner| {
                        if inner.path.is_ident(SCHEME) {
                            let scheme = string(&inner)?;
                            schemes.push(Sp::new(scheme.value(), scheme.span()));
                            Ok(())
                        } else {
                            Err(inner.error(format!("unknown `url` option; expected `{SCHEME} = \"https\"`")))
                        }
                    })?;
                }
                set_once(&mut out.url, Sp::new(schemes, span), URL, errors);
            // secret
            } else if meta.path.is_ident(SECRET) {
                set_once(&mut out.secret, Sp::new((), span), SECRET, errors);
            // non_empty
            } else if meta.path.is_ident(NON_EMPTY) {
                set_once(&mut out.non_empty, Sp::new((), span), NON_EMPTY, errors);
            // flatten
            } else if meta.path.is_ident(FLATTEN) {
                set_once(&mut out.flatten, Sp::new((), span), FLATTEN, errors);
            } else {
                return Err(meta.error(format!(
                    "unknown hot_config attribute on a field; expected one of: {KEY}, {DEFAULT}, {MIN}, \
                     {MAX}, {RANGE}, {URL}, {SECRET}, {NON_EMPTY}, {FLATTEN}"
                )));
            }
            Ok(())
        });
        if let Err(error) = parsed {
            errors.push(error);
        }
    }
    out
}

fn set_once<T>(slot: &mut Option<Sp<T>>, value: Sp<T>, name: &str, errors: &mut Errors) {
    if slot.is_some() {
        errors.at(value.span, format!("duplicate `{name}` attribute"));
    } else {
        *slot = Some(value);
    }
}

fn string(meta: &ParseNestedMeta<'_>) -> syn::Result<LitStr> {
    let expr: Expr = meta.value()?.parse()?;
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Str(text),
            ..
        }) => Ok(text),
        other => Err(syn::Error::new_spanned(other, "expected a string literal")),
    }
}

fn literal(meta: &ParseNestedMeta<'_>) -> syn::Result<Sp<Literal>> {
    let expr: Expr = meta.value()?.parse()?;
    literal_expr(&expr)
}

fn literal_expr(expr: &Expr) -> syn::Result<Sp<Literal>> {
    let span = syn::spanned::Spanned::span(expr);
    let value = match expr {
        Expr::Lit(ExprLit { lit, .. }) => match lit {
            Lit::Int(int) => Literal::Int(int.base10_parse()?),
            Lit::Float(float) => Literal::Float(float.base10_parse()?),
            Lit::Str(text) => Literal::Str(text.value()),
            Lit::Bool(flag) => Literal::Bool(flag.value),
            other => {
                return Err(syn::Error::new_spanned(
                    other,
                    "expected a number, string or boolean literal",
                ));
            }
        },
        Expr::Unary(ExprUnary {
            op: UnOp::Neg(_),
            expr: inner,
            ..
        }) => match literal_expr(inner)?.value {
            Literal::Int(int) => Literal::Int(-int),
            Literal::Float(float) => Literal::Float(-float),
            _ => {
                return Err(syn::Error::new_spanned(
                    expr,
                    "only numbers can be negative",
                ));
            }
        },
        Expr::Group(group) => return literal_expr(&group.expr),
        other => return Err(syn::Error::new_spanned(other, "expected a literal")),
    };
    Ok(Sp::new(value, span))
}

/// Spans the attribute's name, so errors underline `min` rather than the whole attribute.
trait SpanOfIdent {
    fn span_of_ident(&self) -> proc_macro2::Span;
}

impl SpanOfIdent for Path {
    fn span_of_ident(&self) -> proc_macro2::Span {
        self.get_ident()
            .map_or_else(|| syn::spanned::Spanned::span(self), syn::Ident::span)
    }
}
