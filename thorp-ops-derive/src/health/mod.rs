//! `#[health_component]`: parse (`attr`) → model (`model`) → check (`check`) → generate
//! (`expand`).

mod attr;
mod check;
mod expand;
mod model;

use crate::errors::Errors;
use proc_macro2::TokenStream;
use quote::quote;

pub(crate) fn health_component(args: TokenStream, input: TokenStream) -> TokenStream {
    let mut item: syn::Item = match syn::parse2(input.clone()) {
        Ok(item) => item,
        // Not even an item: let the compiler report the syntax error on the original tokens.
        Err(e) => {
            let e = e.to_compile_error();
            return quote!(#input #e);
        }
    };
    let mut errors = Errors::new();
    let syn::Item::Struct(item_struct) = &mut item else {
        errors.spanned(
            &item,
            "`#[health_component]` goes on a struct whose fields are the component's stats",
        );
        let e = errors.finish().err().map(|e| e.to_compile_error());
        return quote!(#item #e);
    };

    let args = attr::parse_component_args(args, &mut errors);
    let generic =
        !item_struct.generics.params.is_empty() || item_struct.generics.where_clause.is_some();
    if generic {
        errors.spanned(
            &item_struct.generics,
            "`#[health_component]` does not support generic structs: metrics and rules are fixed per type",
        );
    }
    let component = model::build(item_struct, args, &mut errors);
    check::check(&component, &mut errors);
    strip_health_attrs(item_struct);

    match errors.finish() {
        Ok(()) => {
            let imp = expand::expand(&component);
            quote!(#item_struct #imp)
        }
        Err(e) => {
            let e = e.to_compile_error();
            let fallback = (!generic).then(|| expand::fallback(&component.ident, &component.name));
            quote!(#item_struct #fallback #e)
        }
    }
}

/// `#[health]` is ours, not an attribute the compiler knows: it must not reach the output.
fn strip_health_attrs(item: &mut syn::ItemStruct) {
    item.attrs.retain(|a| !attr::is_health(a));
    for field in &mut item.fields {
        field.attrs.retain(|a| !attr::is_health(a));
    }
}
