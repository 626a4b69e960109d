//! Generates the `HealthStats` impl from a checked model. No failure paths: everything that
//! could go wrong was reported by `check.rs`.

use super::attr::RawValue;
use super::model::{Component, Field, Fmt, Segment};
use proc_macro2::{Ident, Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

fn private() -> TokenStream {
    quote!(::thorp_ops::__private::health)
}

/// The impl for a struct that passed every check.
pub(crate) fn expand(component: &Component) -> TokenStream {
    let p = private();
    let ident = &component.ident;
    let name = &component.name;
    let indices = component.metric_indices();

    let mut metric_specs = Vec::new();
    let mut metric_values = Vec::new();
    for (field, index) in component.fields.iter().zip(&indices) {
        if index.is_none() {
            continue;
        }
        let field_name = field.ident.to_string();
        let metric = &field.metric;
        let unit = unit_tokens(field);
        metric_specs.push(quote!(#p::metric(#field_name, #metric, #unit)));
        let member = &field.ident;
        let ty = &field.ty;
        // Spanned at the type, so a type that cannot be a metric is blamed there. A field with
        // threshold rules must be a number; asking only that keeps a wrong type to one error.
        let numeric = field.rules.iter().any(|r| !r.kind.is_state());
        let state = field.rules.iter().any(|r| r.kind.is_state());
        metric_values.push(if numeric {
            quote_spanned! {ty.span()=>
                __eval.metric(<#ty as #p::HealthNumber>::health_metric(&self.#member));
            }
        } else if state {
            // Likewise a field with state rules must be a `HealthState`.
            quote_spanned! {ty.span()=>
                __eval.metric(#p::MetricValue::Text(::std::borrow::Cow::Borrowed(
                    <#ty as #p::HealthState>::as_str(&self.#member),
                )));
            }
        } else {
            quote_spanned! {ty.span()=>
                __eval.metric(<#ty as #p::MetricField>::metric_value(&self.#member));
            }
        });
    }

    let mut rule_specs = Vec::new();
    let mut rule_calls = Vec::new();
    for (field, index) in component.fields.iter().zip(&indices) {
        let Some(index) = *index else { continue };
        for rule in &field.rules {
            let rule_index = rule_specs.len();
            let kind = Ident::new(rule.kind.variant(), Span::call_site());
            let metric = &field.metric;
            let issue = rule
                .issue
                .as_ref()
                .map(syn::LitStr::value)
                .unwrap_or_default();
            let details = match rule.details.as_ref().and_then(|d| d.segments.as_ref()) {
                Some(segments) => {
                    let segments = segments
                        .iter()
                        .filter_map(|s| segment(s, component, &indices));
                    quote!(::core::option::Option::Some(&[#(#segments),*]))
                }
                None => quote!(::core::option::Option::None),
            };
            let member = &field.ident;
            let ty = &field.ty;
            match &rule.value {
                RawValue::Number { value, .. } => {
                    let key = component.key(field, rule);
                    let unit = unit_tokens(field);
                    rule_specs.push(quote! {
                        #p::threshold_rule(#p::RuleKind::#kind, #index, #metric, #unit, #issue, #key, #value, #details)
                    });
                    rule_calls.push(quote_spanned! {ty.span()=>
                        __eval.number(#rule_index, <#ty as #p::HealthNumber>::health_f64(&self.#member));
                    });
                }
                RawValue::Variants { variants, .. } => {
                    let names = variants.iter().map(ToString::to_string);
                    rule_specs.push(quote! {
                        #p::state_rule(#p::RuleKind::#kind, #index, #metric, #issue, &[#(#names),*], #details)
                    });
                    // The whole path takes the span of the string the variant came from, so an
                    // unknown variant (or a type that is not an enum) is reported at that string.
                    let patterns = variants.iter().map(|v| {
                        let path = respan(quote!(#ty::#v), v.span());
                        quote_spanned!(v.span()=> #path { .. })
                    });
                    rule_calls.push(quote! {
                        __eval.state(#rule_index, ::core::matches!(self.#member, #(#patterns)|*));
                    });
                }
            }
        }
    }

    let readiness = component
        .readiness
        .map(|affects| quote!(const AFFECTS_READINESS: bool = #affects;));

    quote! {
        #[automatically_derived]
        impl #p::HealthStats for #ident {
            const NAME: &'static str = #name;
            const METRICS: &'static [#p::MetricSpec] = &[#(#metric_specs),*];
            const RULES: &'static [#p::RuleSpec] = &[#(#rule_specs),*];
            #readiness

            fn evaluate(&self, ctx: &#p::CheckContext) -> #p::ComponentHealth {
                let mut __eval = #p::Evaluator::new(
                    ctx,
                    <Self as #p::HealthStats>::METRICS,
                    <Self as #p::HealthStats>::RULES,
                );
                #(#metric_values)*
                #(#rule_calls)*
                __eval.finish()
            }
        }
    }
}

/// The field's metric unit, as an `Option<Unit>` expression.
fn unit_tokens(field: &Field) -> TokenStream {
    let p = private();
    match field.unit {
        Some(unit) => {
            let variant = Ident::new(unit.variant(), Span::call_site());
            quote!(::core::option::Option::Some(#p::Unit::#variant))
        }
        None => quote!(::core::option::Option::None),
    }
}

fn segment(
    segment: &Segment,
    component: &Component,
    indices: &[Option<usize>],
) -> Option<TokenStream> {
    let p = private();
    Some(match segment {
        Segment::Text(text) => quote!(#p::Segment::Text(#text)),
        Segment::Placeholder { name, fmt } => {
            let fmt = fmt_tokens(*fmt);
            match name.as_str() {
                "value" => quote!(#p::Segment::Value(#fmt)),
                "threshold" => quote!(#p::Segment::Threshold(#fmt)),
                other => {
                    let index = component
                        .fields
                        .iter()
                        .zip(indices)
                        .find(|(f, _)| f.ident == other)
                        .and_then(|(_, i)| *i)?;
                    quote!(#p::Segment::Metric(#index, #fmt))
                }
            }
        }
    })
}

/// `tokens` with every token spanned at `span`.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut tree| {
            if let proc_macro2::TokenTree::Group(group) = &tree {
                let mut inner =
                    proc_macro2::Group::new(group.delimiter(), respan(group.stream(), span));
                inner.set_span(span);
                tree = proc_macro2::TokenTree::Group(inner);
            } else {
                tree.set_span(span);
            }
            tree
        })
        .collect()
}

fn fmt_tokens(fmt: Fmt) -> TokenStream {
    let p = private();
    let decimals = match fmt.decimals {
        Some(d) => quote!(::core::option::Option::Some(#d)),
        None => quote!(::core::option::Option::None),
    };
    let percent = fmt.percent;
    quote!(#p::Fmt { decimals: #decimals, percent: #percent })
}

/// What keeps the rest of the crate compiling when the attribute has errors: an impl with no
/// metrics and no rules, so uses of the type do not add errors of their own.
pub(crate) fn fallback(ident: &syn::Ident, name: &str) -> TokenStream {
    let p = private();
    quote! {
        #[automatically_derived]
        impl #p::HealthStats for #ident {
            const NAME: &'static str = #name;
            const METRICS: &'static [#p::MetricSpec] = &[];
            const RULES: &'static [#p::RuleSpec] = &[];

            fn evaluate(&self, _: &#p::CheckContext) -> #p::ComponentHealth {
                #p::fallback()
            }
        }
    }
}
