//! The derive's view of a config struct: fields with their key, shape and parsed attributes.

use super::attr::{self, FieldAttrs, StructAttrs};
use crate::errors::Errors;
use crate::spanned::Sp;
use syn::{Data, DeriveInput, Fields, GenericArgument, Ident, PathArguments, Type};

pub(crate) struct Model {
    pub(crate) ident: Ident,
    pub(crate) attrs: StructAttrs,
    pub(crate) fields: Vec<Field>,
    /// Generic structs are refused; no fallback impl is emitted for them, since one without
    /// the parameters would only add errors.
    pub(crate) generic: bool,
}

pub(crate) struct Field {
    pub(crate) ident: Ident,
    pub(crate) ty: Type,
    pub(crate) shape: Shape,
    pub(crate) attrs: FieldAttrs,
    pub(crate) doc: String,
}

/// How a field's type wraps the type a value is parsed into, read from the type's path:
/// `Option<Secret<Vec<Url>>>` is optional, secret, a list, of `Url`. Recognized by the last
/// path segment (as serde and clap do), so `std::option::Option<T>` works and an alias does not.
pub(crate) struct Shape {
    pub(crate) optional: bool,
    pub(crate) secret: bool,
    pub(crate) list: bool,
    pub(crate) leaf: Type,
    pub(crate) kind: LeafKind,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum LeafKind {
    Int {
        signed: bool,
        bits: u32,
    },
    Float,
    Bool,
    Str,
    Url,
    Duration,
    /// Parsed through `ConfigValue` or `FromStr`, unknown to the macro.
    Other,
}

impl LeafKind {
    pub(crate) fn is_numeric(self) -> bool {
        matches!(self, Self::Int { .. } | Self::Float | Self::Duration)
    }

    /// What a valid value looks like, for the schema and for messages.
    pub(crate) fn expected(self) -> &'static str {
        match self {
            Self::Int { signed: false, .. } => "a non-negative integer",
            Self::Int { signed: true, .. } => "an integer",
            Self::Float => "a finite number",
            Self::Bool => "a boolean (true/false, yes/no, on/off, 1/0)",
            Self::Str => "text",
            Self::Url => "an absolute URL",
            Self::Duration => "a duration like 250ms, 2s or 1m",
            // The type's own `FromStr` or `ConfigValue` message says what it wants.
            Self::Other => "",
        }
    }
}

impl Model {
    pub(crate) fn from_ast(input: &DeriveInput, errors: &mut Errors) -> Option<Self> {
        let attrs = attr::struct_attrs(&input.attrs, errors);
        if !input.generics.params.is_empty() {
            errors.spanned(
                &input.generics,
                "HotConfig does not support generic structs: a config's keys and types are fixed, \
                 so name the concrete types in the fields",
            );
        }
        let named = match &input.data {
            Data::Struct(data) => match &data.fields {
                Fields::Named(named) => named,
                other => {
                    errors.spanned(
                        other,
                        "HotConfig needs a struct with named fields, one per key, like \
                         `struct Rpc { timeout_ms: u64 }`",
                    );
                    return None;
                }
            },
            Data::Enum(data) => {
                errors.at(
                    data.enum_token.span,
                    "HotConfig needs a struct with named fields, not an enum; to read an enum \
                     from one key, implement `FromStr` for it and use it as a field's type",
                );
                return None;
            }
            Data::Union(data) => {
                errors.at(
                    data.union_token.span,
                    "HotConfig needs a struct with named fields, not a union",
                );
                return None;
            }
        };
        let fields = named
            .named
            .iter()
            .filter_map(|field| {
                let ident = field.ident.clone()?;
                Some(Field {
                    ident,
                    shape: Shape::of(&field.ty),
                    ty: field.ty.clone(),
                    attrs: attr::field_attrs(&field.attrs, errors),
                    doc: doc_summary(&field.attrs),
                })
            })
            .collect();
        Some(Model {
            ident: input.ident.clone(),
            attrs,
            fields,
            generic: !input.generics.params.is_empty(),
        })
    }
}

impl Field {
    /// The key in the file: `key = "..."`, else the naming rule; `None` when neither applies.
    pub(crate) fn key(&self, attrs: &StructAttrs) -> Option<Sp<String>> {
        if let Some(key) = &self.attrs.key {
            return Some(key.clone());
        }
        let upper = self
            .ident
            .to_string()
            .trim_start_matches("r#")
            .to_ascii_uppercase();
        let span = self.ident.span();
        // An unknown `rename_all` rule is reported on its own; naming the fields as if it were
        // the one rule there is keeps that mistake from also showing as a missing key per field.
        match (&attrs.key_prefix, &attrs.rename_all) {
            (Some(prefix), _) => Some(Sp::new(format!("{}{upper}", prefix.value), span)),
            (None, Some(_)) => Some(Sp::new(upper, span)),
            (None, None) => None,
        }
    }
}

impl Shape {
    fn of(ty: &Type) -> Self {
        let mut shape = Shape {
            optional: false,
            secret: false,
            list: false,
            leaf: ty.clone(),
            kind: LeafKind::Other,
        };
        let mut current = ty;
        // Wrappers in this order only: Option, then Secret, then Vec.
        for (name, flag) in [("Option", 0), ("Secret", 1), ("Vec", 2)] {
            if let Some(inner) = single_generic(current, name) {
                match flag {
                    0 => shape.optional = true,
                    1 => shape.secret = true,
                    _ => shape.list = true,
                }
                current = inner;
            }
        }
        shape.leaf = current.clone();
        shape.kind = leaf_kind(current);
        shape
    }
}

fn last_segment(ty: &Type) -> Option<&syn::PathSegment> {
    match ty {
        Type::Path(path) if path.qself.is_none() => path.path.segments.last(),
        Type::Group(group) => last_segment(&group.elem),
        _ => None,
    }
}

fn single_generic<'a>(ty: &'a Type, name: &str) -> Option<&'a Type> {
    let segment = last_segment(ty)?;
    if segment.ident != name {
        return None;
    }
    let PathArguments::AngleBracketed(arguments) = &segment.arguments else {
        return None;
    };
    match arguments.args.iter().collect::<Vec<_>>().as_slice() {
        [GenericArgument::Type(inner)] => Some(inner),
        _ => None,
    }
}

fn leaf_kind(ty: &Type) -> LeafKind {
    let Some(segment) = last_segment(ty) else {
        return LeafKind::Other;
    };
    if !segment.arguments.is_none() {
        return LeafKind::Other;
    }
    let name = segment.ident.to_string();
    match name.as_str() {
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" | "i8" | "i16" | "i32" | "i64" | "i128"
        | "isize" => {
            let signed = name.starts_with('i');
            let bits = match &name[1..] {
                "size" => usize::BITS,
                digits => digits.parse().unwrap_or(64),
            };
            LeafKind::Int { signed, bits }
        }
        "f32" | "f64" => LeafKind::Float,
        "bool" => LeafKind::Bool,
        "String" => LeafKind::Str,
        "Url" => LeafKind::Url,
        "Duration" => LeafKind::Duration,
        _ => LeafKind::Other,
    }
}

/// The first paragraph of the doc comment, on one line.
fn doc_summary(attrs: &[syn::Attribute]) -> String {
    let mut lines = Vec::new();
    for attr in attrs.iter().filter(|attr| attr.path().is_ident("doc")) {
        if let syn::Meta::NameValue(syn::MetaNameValue {
            value:
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(text),
                    ..
                }),
            ..
        }) = &attr.meta
        {
            let line = text.value();
            let line = line.trim();
            if line.is_empty() {
                if !lines.is_empty() {
                    break;
                }
            } else {
                lines.push(line.to_owned());
            }
        }
    }
    lines.join(" ")
}

/// The type as a person writes it: `Option<Secret<Url>>`, not `Option < Secret < Url > >`.
pub(crate) fn type_name(ty: &Type) -> String {
    let text = quote::ToTokens::to_token_stream(ty).to_string();
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ' ' {
            let next = chars.peek().copied();
            let previous = out.chars().last();
            let tight =
                |c: Option<char>| matches!(c, Some('<' | '>' | ':' | '&' | '(' | ')' | '[' | ']'));
            if tight(next) || tight(previous) || next == Some(',') {
                continue;
            }
        }
        out.push(c);
    }
    out.replace(",", ", ").replace(",  ", ", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names_read_as_written() {
        let ty: Type = syn::parse_quote!(Option<Secret<Vec<url::Url>>>);
        assert_eq!(type_name(&ty), "Option<Secret<Vec<url::Url>>>");
        let ty: Type = syn::parse_quote!(std::collections::HashMap<String, u8>);
        assert_eq!(type_name(&ty), "std::collections::HashMap<String, u8>");
    }

    #[test]
    fn wrappers_are_peeled_in_order() {
        let shape = Shape::of(&syn::parse_quote!(Option<Secret<Vec<u16>>>));
        assert!(shape.optional && shape.secret && shape.list);
        assert!(
            shape.kind
                == LeafKind::Int {
                    signed: false,
                    bits: 16
                }
        );
        // Out of order, `Vec<Option<_>>` is a list of an unknown type.
        let shape = Shape::of(&syn::parse_quote!(Vec<Option<u16>>));
        assert!(shape.list && !shape.optional && shape.kind == LeafKind::Other);
    }
}
