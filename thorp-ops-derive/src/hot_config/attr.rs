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
const OPEN_PREFIX: &str = "open_prefix";
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
    pub(crate) open_prefixes: Vec<Sp<String>>,
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
    /// `key` was written but its value could not be read (already reported), so a missing
    /// key must not be reported as well.
    pub(crate) key_unreadable: bool,
    pub(crate) default: Option<Sp<Literal>>,
    pub(crate) min: Option<Sp<Literal>>,
    pub(crate) max: Option<Sp<Literal>>,
    /// Where `range` was written; its bounds land in `min` and `max`.
    pub(crate) range: Option<Sp<()>>,
    pub(crate) url: Option<Sp<Vec<Sp<String>>>>,
    pub(crate) secret: Option<Sp<()>>,
    pub(crate) non_empty: Option<Sp<()>>,
    pub(crate) flatten: Option<Sp<()>>,
    /// Every attribute name as written, with its span, in order.
    pub(crate) written: Vec<Sp<&'static str>>,
}

impl FieldAttrs {
    /// Where the attribute `name` was first written.
    pub(crate) fn span_of(&self, name: &str) -> Option<proc_macro2::Span> {
        self.written
            .iter()
            .find(|written| written.value == name)
            .map(|written| written.span)
    }
}

const STRUCT_ATTRS: &[&str] = &[
    COMPONENT,
    PREFIX,
    OPEN_PREFIX,
    KEY_PREFIX,
    RENAME_ALL,
    VALIDATE,
    CRATE,
];
const FIELD_ATTRS: &[&str] = &[
    KEY, DEFAULT, MIN, MAX, RANGE, URL, SECRET, NON_EMPTY, FLATTEN,
];

pub(crate) fn struct_attrs(attrs: &[Attribute], errors: &mut Errors) -> StructAttrs {
    let mut out = StructAttrs::default();
    for attr in attrs.iter().filter(|attr| attr.path().is_ident(HOT_CONFIG)) {
        let parsed = attr.parse_nested_meta(|meta| {
            let span = meta.path.span_of_ident();
            // component = "rpcPool"
            if meta.path.is_ident(COMPONENT) {
                if let Some(name) = string(&meta, COMPONENT, "rpcPool", errors)? {
                    set_once(&mut out.component, Sp::new(name.value(), span), span, COMPONENT, errors);
                }
            // prefix = "RPC_"   (repeatable)
            } else if meta.path.is_ident(PREFIX) {
                if let Some(prefix) = string(&meta, PREFIX, "RPC_", errors)? {
                    out.prefixes.push(Sp::new(prefix.value(), span));
                }
            // open_prefix = "HEALTH_"   (repeatable)
            } else if meta.path.is_ident(OPEN_PREFIX) {
                if let Some(prefix) = string(&meta, OPEN_PREFIX, "HEALTH_", errors)? {
                    out.open_prefixes.push(Sp::new(prefix.value(), span));
                }
            // key_prefix = "RPC_"
            } else if meta.path.is_ident(KEY_PREFIX) {
                if let Some(prefix) = string(&meta, KEY_PREFIX, "RPC_", errors)? {
                    set_once(&mut out.key_prefix, Sp::new(prefix.value(), prefix.span()), span, KEY_PREFIX, errors);
                }
            // rename_all = "SCREAMING_SNAKE_CASE"
            } else if meta.path.is_ident(RENAME_ALL) {
                if let Some(rule) = string(&meta, RENAME_ALL, SCREAMING_SNAKE_CASE, errors)? {
                    set_once(&mut out.rename_all, Sp::new(rule.value(), rule.span()), span, RENAME_ALL, errors);
                }
            // validate = path::to::check
            } else if meta.path.is_ident(VALIDATE) {
                let path: Path = meta.value()?.parse()?;
                if out.validate.replace(path).is_some() {
                    errors.at(span, duplicate(VALIDATE));
                }
            // crate = "path::to::thorp_ops"
            } else if meta.path.is_ident(CRATE) {
                if let Some(text) = string(&meta, CRATE, "my_reexports::thorp_ops", errors)? {
                    match text.parse::<Path>() {
                        Ok(path) => {
                            if out.krate.replace(path).is_some() {
                                errors.at(span, duplicate(CRATE));
                            }
                        }
                        Err(_) => errors.at(
                            text.span(),
                            "`crate` takes a path to thorp_ops, like `crate = \"my_reexports::thorp_ops\"`",
                        ),
                    }
                }
            } else {
                unknown(&meta, "struct", STRUCT_ATTRS, ("field", FIELD_ATTRS), errors)?;
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
            if let Some(name) = FIELD_ATTRS.iter().find(|name| meta.path.is_ident(name)) {
                out.written.push(Sp::new(*name, span));
            }
            // key = "RPC_DEFAULT_TIMEOUT_MS"
            if meta.path.is_ident(KEY) {
                match string(&meta, KEY, "RPC_DEFAULT_TIMEOUT_MS", errors)? {
                    Some(key) => set_once(&mut out.key, Sp::new(key.value(), key.span()), span, KEY, errors),
                    None => out.key_unreadable = true,
                }
            // default = 2000 | default = "2s" | default = true
            } else if meta.path.is_ident(DEFAULT) {
                if let Some(literal) = literal(&meta, DEFAULT, errors)? {
                    set_once(&mut out.default, literal, span, DEFAULT, errors);
                }
            // min = 100
            } else if meta.path.is_ident(MIN) {
                if let Some(literal) = literal(&meta, MIN, errors)? {
                    set_bound(&mut out.min, literal, span, MIN, out.range.is_some(), errors);
                }
            // max = 60_000
            } else if meta.path.is_ident(MAX) {
                if let Some(literal) = literal(&meta, MAX, errors)? {
                    set_bound(&mut out.max, literal, span, MAX, out.range.is_some(), errors);
                }
            // range = 0..=100 | range = 1.. | range = ..=10 | range = "1s"..="1m"
            } else if meta.path.is_ident(RANGE) {
                let expr = ungroup(meta.value()?.parse()?);
                let Expr::Range(range) = &expr else {
                    errors.spanned(&expr, "`range` takes an inclusive range, like `range = 0..=100`, `range = 1..` or `range = ..=10`");
                    return Ok(());
                };
                if matches!(range.limits, syn::RangeLimits::HalfOpen(_)) && range.end.is_some() {
                    errors.spanned(
                        range.limits,
                        "the bounds of a config value are inclusive: write `..=` (like `0..=100`)",
                    );
                    return Ok(());
                }
                if out.range.is_some() {
                    errors.at(span, duplicate(RANGE));
                    return Ok(());
                }
                let had_bound = out.min.is_some() || out.max.is_some();
                out.range = Some(Sp::new((), span));
                if had_bound {
                    errors.at(span, "`range` and `min`/`max` both set bounds: keep one of them");
                    return Ok(());
                }
                if let Some(start) = &range.start
                    && let Some(literal) = literal_expr(start, RANGE, errors) {
                        out.min = Some(literal);
                    }
                if let Some(end) = &range.end
                    && let Some(literal) = literal_expr(end, RANGE, errors) {
                        out.max = Some(literal);
                    }
            // url | url(scheme = "https", scheme = "http")
            } else if meta.path.is_ident(URL) {
                let mut schemes = Vec::new();
                if meta.input.peek(syn::token::Paren) {
                    meta.parse_nested_meta(|inner| {
                        // scheme = "https"   (repeatable)
                        if inner.path.is_ident(SCHEME) {
                            if let Some(scheme) = string(&inner, SCHEME, "https", errors)? {
                                schemes.push(Sp::new(scheme.value(), scheme.span()));
                            }
                        } else {
                            errors.push(inner.error(format!(
                                "unknown `url` option: the only one is `{SCHEME}`, like `url({SCHEME} = \"https\")`"
                            )));
                            skip_value(&inner)?;
                        }
                        Ok(())
                    })?;
                }
                set_once(&mut out.url, Sp::new(schemes, span), span, URL, errors);
            // secret
            } else if meta.path.is_ident(SECRET) {
                flag(&meta, SECRET, errors)?;
                set_once(&mut out.secret, Sp::new((), span), span, SECRET, errors);
            // non_empty
            } else if meta.path.is_ident(NON_EMPTY) {
                flag(&meta, NON_EMPTY, errors)?;
                set_once(&mut out.non_empty, Sp::new((), span), span, NON_EMPTY, errors);
            // flatten
            } else if meta.path.is_ident(FLATTEN) {
                flag(&meta, FLATTEN, errors)?;
                set_once(&mut out.flatten, Sp::new((), span), span, FLATTEN, errors);
            } else {
                unknown(&meta, "field", FIELD_ATTRS, ("struct", STRUCT_ATTRS), errors)?;
            }
            Ok(())
        });
        if let Err(error) = parsed {
            errors.push(error);
        }
    }
    out
}

fn duplicate(name: &str) -> String {
    format!("duplicate `{name}` attribute: remove one of them")
}

/// Stores `value` unless the attribute was given before; the error points at the second name.
fn set_once<T>(
    slot: &mut Option<Sp<T>>,
    value: Sp<T>,
    name_span: proc_macro2::Span,
    name: &str,
    errors: &mut Errors,
) {
    if slot.is_some() {
        errors.at(name_span, duplicate(name));
    } else {
        *slot = Some(value);
    }
}

/// `min` or `max`, which `range` may have set already.
fn set_bound(
    slot: &mut Option<Sp<Literal>>,
    value: Sp<Literal>,
    name_span: proc_macro2::Span,
    name: &str,
    has_range: bool,
    errors: &mut Errors,
) {
    if has_range {
        errors.at(
            name_span,
            format!("`range` and `{name}` both set bounds: keep one of them"),
        );
    } else {
        set_once(slot, value, name_span, name, errors);
    }
}

/// A name not in `known`: reported with a suggestion, its value skipped so parsing goes on.
fn unknown(
    meta: &ParseNestedMeta<'_>,
    level: &str,
    known: &[&str],
    (other_level, other): (&str, &[&str]),
    errors: &mut Errors,
) -> syn::Result<()> {
    let name = quote::ToTokens::to_token_stream(&meta.path)
        .to_string()
        .replace(' ', "");
    let message = if other.contains(&name.as_str()) {
        format!(
            "`{name}` is a {other_level} attribute, not a {level} one: move it to the \
             `#[hot_config(...)]` on the {other_level}"
        )
    } else if let Some(close) = closest(&name, known) {
        format!("unknown hot_config {level} attribute `{name}`: did you mean `{close}`?")
    } else {
        format!(
            "unknown hot_config {level} attribute `{name}`; expected one of: {}",
            known.join(", ")
        )
    };
    errors.push(meta.error(message));
    skip_value(meta)
}

/// Consumes `= value` or `(...)` after a name, so the attributes after it are still read.
fn skip_value(meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(syn::Token![=]) {
        let _: Expr = meta.value()?.parse()?;
    } else if meta.input.peek(syn::token::Paren) {
        let _: proc_macro2::TokenTree = meta.input.parse()?;
    }
    Ok(())
}

/// A word attribute such as `secret`: reports a value given to it and skips the value.
fn flag(meta: &ParseNestedMeta<'_>, name: &str, errors: &mut Errors) -> syn::Result<()> {
    if meta.input.peek(syn::Token![=]) || meta.input.peek(syn::token::Paren) {
        errors.push(meta.error(format!("`{name}` takes no value: write just `{name}`")));
        skip_value(meta)?;
    }
    Ok(())
}

/// The known name closest to a misspelled one, when it is close enough to be a typo.
fn closest<'a>(name: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|candidate| (edit_distance(name, candidate), *candidate))
        .filter(|(distance, candidate)| *distance <= 1.max(candidate.len() / 3))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != *cb);
            current.push(substitute.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

/// `name = "text"`. A value of another kind is reported (with `example`) and gives `None`;
/// only tokens that cannot be read at all are an `Err`, which ends the attribute.
fn string(
    meta: &ParseNestedMeta<'_>,
    name: &str,
    example: &str,
    errors: &mut Errors,
) -> syn::Result<Option<LitStr>> {
    let expr: Expr = meta.value()?.parse()?;
    match ungroup(expr) {
        Expr::Lit(ExprLit {
            lit: Lit::Str(text),
            ..
        }) => Ok(Some(text)),
        // `key = RPC_TIMEOUT_MS`: most likely the quotes were forgotten.
        Expr::Path(path) if path.path.get_ident().is_some() => {
            let text = quote::ToTokens::to_token_stream(&path).to_string();
            errors.spanned(
                &path,
                format!("`{name}` takes a string literal: write `{name} = \"{text}\"`"),
            );
            Ok(None)
        }
        other => {
            errors.spanned(
                other,
                format!("`{name}` takes a string literal, like `{name} = \"{example}\"`"),
            );
            Ok(None)
        }
    }
}

/// The expression inside invisible groups, which is how `macro_rules!` passes a `$x:literal`
/// or `$x:expr` to a derive.
fn ungroup(expr: Expr) -> Expr {
    match expr {
        Expr::Group(group) => ungroup(*group.expr),
        other => other,
    }
}

fn literal(
    meta: &ParseNestedMeta<'_>,
    name: &str,
    errors: &mut Errors,
) -> syn::Result<Option<Sp<Literal>>> {
    let expr: Expr = meta.value()?.parse()?;
    Ok(literal_expr(&expr, name, errors))
}

/// A literal value of `name`; anything else is reported and gives `None`.
fn literal_expr(expr: &Expr, name: &str, errors: &mut Errors) -> Option<Sp<Literal>> {
    let span = syn::spanned::Spanned::span(expr);
    let value = match expr {
        Expr::Lit(ExprLit { lit, .. }) => match lit {
            Lit::Int(int) => match int.base10_parse() {
                Ok(value) => Literal::Int(value),
                Err(_) => {
                    errors.spanned(
                        int,
                        format!(
                            "`{name}`: {int} is too large; the derive reads numbers up to {}",
                            i128::MAX
                        ),
                    );
                    return None;
                }
            },
            Lit::Float(float) => match float.base10_parse() {
                Ok(value) => Literal::Float(value),
                Err(error) => {
                    errors.push(error);
                    return None;
                }
            },
            Lit::Str(text) => Literal::Str(text.value()),
            Lit::Bool(flag) => Literal::Bool(flag.value),
            other => {
                errors.spanned(
                    other,
                    format!("`{name}` takes a number, string or boolean literal"),
                );
                return None;
            }
        },
        Expr::Unary(ExprUnary {
            op: UnOp::Neg(_),
            expr: inner,
            ..
        }) => match literal_expr(inner, name, errors)?.value {
            Literal::Int(int) => Literal::Int(-int),
            Literal::Float(float) => Literal::Float(-float),
            _ => {
                errors.spanned(expr, "only numbers can be negative");
                return None;
            }
        },
        Expr::Group(group) => return literal_expr(&group.expr, name, errors),
        other => {
            errors.spanned(
                other,
                format!(
                    "`{name}` takes a literal (a number, string or boolean), not an expression"
                ),
            );
            return None;
        }
    };
    Some(Sp::new(value, span))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_misspellings_get_a_suggestion() {
        assert_eq!(closest("compnent", STRUCT_ATTRS), Some(COMPONENT));
        assert_eq!(closest("dafault", FIELD_ATTRS), Some(DEFAULT));
        assert_eq!(closest("sekret", FIELD_ATTRS), Some(SECRET));
        assert_eq!(closest("nonempty", FIELD_ATTRS), Some(NON_EMPTY));
        assert_eq!(closest("serialize", FIELD_ATTRS), None);
    }

    #[test]
    fn edit_distance_counts_single_edits() {
        assert_eq!(edit_distance("key", "key"), 0);
        assert_eq!(edit_distance("ky", "key"), 1);
        assert_eq!(edit_distance("kye", "key"), 2);
        assert_eq!(edit_distance("", "url"), 3);
    }

    #[test]
    fn every_field_attribute_is_recorded_with_its_name() {
        let field: syn::Field = syn::parse_quote! {
            #[hot_config(key = "A", min = 1, unknown = 2, max = 3)]
            a: u8
        };
        let mut errors = Errors::new();
        let attrs = field_attrs(&field.attrs, &mut errors);
        // The unknown name is reported and skipped; `max` after it is still read.
        assert!(errors.finish().is_err());
        let written: Vec<_> = attrs.written.iter().map(|name| name.value).collect();
        assert_eq!(written, [KEY, MIN, MAX]);
        assert!(attrs.max.is_some());
    }
}
