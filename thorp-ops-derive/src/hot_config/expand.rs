//! Generates the `HotConfig` impl from a checked model. Nothing here can fail.

use super::check::{Bound, BoundValue, Checked, KeyField, Role};
use super::model::{LeafKind, Model, type_name};
use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

pub(crate) fn expand(model: &Model, fields: &[Checked<'_>]) -> TokenStream {
    let (krate, private) = paths(model);
    let ident = &model.ident;
    let type_name = ident.to_string();

    let component = match &model.attrs.component {
        Some(name) => {
            let name = &name.value;
            // An open prefix routes too: the component reads the dynamic keys under it, so it
            // must hear of their changes.
            let mut prefixes: Vec<&String> = Vec::new();
            for prefix in model
                .attrs
                .prefixes
                .iter()
                .chain(&model.attrs.open_prefixes)
            {
                if !prefixes.contains(&&prefix.value) {
                    prefixes.push(&prefix.value);
                }
            }
            quote!(::core::option::Option::Some(#private::Component::new(#name, &[#(#prefixes),*])))
        }
        None => quote!(::core::option::Option::None),
    };
    let component_name = match &model.attrs.component {
        Some(name) => {
            let name = &name.value;
            quote!(::core::option::Option::Some(#name))
        }
        None => quote!(::core::option::Option::None),
    };

    let mut specs = Vec::new();
    let mut flattened = Vec::new();
    let mut loads = Vec::new();
    let mut inits = Vec::new();
    let mut key_index = 0_usize;
    for (position, checked) in fields.iter().enumerate() {
        let field = checked.field;
        let name = &field.ident;
        let var = format_ident!("__field{}", position);
        let ty = &field.ty;
        match &checked.role {
            Role::Flatten => {
                flattened.push(quote_spanned!(ty.span()=> <#ty as #krate::HotConfig>::SCHEMA));
                loads.push(quote_spanned!(ty.span()=> let #var = <#ty as #krate::HotConfig>::__load(__loader);));
            }
            Role::Key(key) => {
                specs.push(key_spec(&private, checked, key, &component_name));
                let index = Literal::usize_unsuffixed(key_index);
                key_index += 1;
                let parse = parse_closure(&private, checked, key);
                let method = if field.shape.optional {
                    quote!(optional)
                } else {
                    quote!(required)
                };
                loads.push(quote! {
                    let #var = __loader.#method(&<Self as #krate::HotConfig>::SCHEMA.keys[#index], #parse);
                });
            }
        }
        inits.push(quote!(#name: #var?));
    }

    let finish = match &model.attrs.validate {
        Some(hook) => quote!(__loader.validate(__config, #hook)),
        None => quote!(::core::option::Option::Some(__config)),
    };

    let open = &model.attrs.open_prefixes;
    let open = (!open.is_empty()).then(|| {
        let open = open.iter().map(|prefix| &prefix.value);
        quote!(.with_open_prefixes(&[#(#open),*]))
    });

    quote! {
        #[automatically_derived]
        impl #krate::HotConfig for #ident {
            const SCHEMA: &'static #private::Schema = &#private::Schema::new(
                #type_name,
                #component,
                &[#(#specs),*],
                &[#(#flattened),*],
            )#open;

            fn __load(__loader: &mut #private::Loader<'_>) -> ::core::option::Option<Self> {
                #[allow(unused_imports)]
                use #private::{ViaConfigValue as _, ViaFromStr as _};
                #(#loads)*
                let __config = Self { #(#inits),* };
                #finish
            }
        }
    }
}

fn key_spec(
    private: &TokenStream,
    checked: &Checked<'_>,
    key: &KeyField,
    component: &TokenStream,
) -> TokenStream {
    let field = checked.field;
    let shape = &field.shape;
    let key_name = &key.key;
    let field_name = field.ident.to_string();
    let type_text = type_name(&field.ty);
    let expected = shape.kind.expected();
    let required = !shape.optional && key.default.is_none();
    let option = |value: Option<&str>| match value {
        Some(text) => quote!(::core::option::Option::Some(#text)),
        None => quote!(::core::option::Option::None),
    };
    let default = option(key.default.as_deref());
    let min = option(key.min.as_ref().map(|bound| bound.text.as_str()));
    let max = option(key.max.as_ref().map(|bound| bound.text.as_str()));
    let url = key.url.is_some();
    let schemes = key.url.iter().flatten();
    let non_empty = key.non_empty;
    let list = shape.list;
    let secret = key.secret;
    let doc = &field.doc;
    quote! {
        #private::KeySpec::__generated(
            #key_name,
            #field_name,
            #type_text,
            #expected,
            #required,
            #default,
            #min,
            #max,
            #url,
            &[#(#schemes),*],
            #non_empty,
            #list,
            #secret,
            #doc,
            #component,
        )
    }
}

/// `|raw| -> Result<FieldValue, ValueError>`: parse the leaf, check it, collect, wrap.
fn parse_closure(private: &TokenStream, checked: &Checked<'_>, key: &KeyField) -> TokenStream {
    let shape = &checked.field.shape;
    let leaf = &shape.leaf;
    let leaf_checks = leaf_checks(private, shape.kind, key);
    let parse_leaf = quote_spanned! {leaf.span()=>
        (&#private::Leaf::<#leaf>::new()).parse_leaf(__text)
    };
    let value = if shape.list {
        quote! {
            #private::parse_list(__raw, |__text| {
                let __value: #leaf = #parse_leaf?;
                #leaf_checks
                ::core::result::Result::Ok(__value)
            })?
        }
    } else {
        quote! {{
            let __text = __raw;
            let __value: #leaf = #parse_leaf?;
            #leaf_checks
            __value
        }}
    };
    let non_empty = key
        .non_empty
        .then(|| quote!(#private::check_non_empty(&__value)?;));
    let wrapped = if shape.secret {
        quote!(#private::Secret::new(__value))
    } else {
        quote!(__value)
    };
    quote! {
        |__raw: &str| {
            let __value = #value;
            #non_empty
            ::core::result::Result::Ok(#wrapped)
        }
    }
}

fn leaf_checks(private: &TokenStream, kind: LeafKind, key: &KeyField) -> TokenStream {
    let min = key.min.as_ref().map(|bound| {
        let bound = bound_tokens(private, bound);
        quote!(#private::check_min(&__value, #bound)?;)
    });
    let max = key.max.as_ref().map(|bound| {
        let bound = bound_tokens(private, bound);
        quote!(#private::check_max(&__value, #bound)?;)
    });
    let url = key
        .url
        .as_ref()
        .filter(|_| kind == LeafKind::Url)
        .map(|schemes| quote!(#private::check_url(&__value, &[#(#schemes),*])?;));
    quote!(#min #max #url)
}

fn bound_tokens(private: &TokenStream, bound: &Bound) -> TokenStream {
    match bound.value {
        BoundValue::Int(value) => {
            let literal = Literal::i128_unsuffixed(value);
            quote!(#literal)
        }
        BoundValue::Float(value) => {
            let literal = Literal::f64_unsuffixed(value);
            quote!(#literal)
        }
        BoundValue::Nanos(nanos) => {
            let secs =
                Literal::u64_unsuffixed(u64::try_from(nanos / 1_000_000_000).unwrap_or(u64::MAX));
            let subsec = Literal::u32_unsuffixed(u32::try_from(nanos % 1_000_000_000).unwrap_or(0));
            quote!(#private::Duration::new(#secs, #subsec))
        }
    }
}

/// The crate's path (`::thorp_ops` unless `crate = "..."` says otherwise) and its
/// `__private` module, which generated code names absolutely.
fn paths(model: &Model) -> (TokenStream, TokenStream) {
    let krate = model
        .attrs
        .krate
        .as_ref()
        .map_or_else(|| quote!(::thorp_ops), |path| quote!(#path));
    let private = quote!(#krate::__private);
    (krate, private)
}

/// An impl with an empty schema that never loads, emitted next to the errors.
pub(crate) fn fallback(model: &Model) -> TokenStream {
    let (krate, private) = paths(model);
    let ident = &model.ident;
    let type_name = ident.to_string();
    quote! {
        #[automatically_derived]
        impl #krate::HotConfig for #ident {
            const SCHEMA: &'static #private::Schema =
                &#private::Schema::new(#type_name, ::core::option::Option::None, &[], &[]);

            fn __load(_: &mut #private::Loader<'_>) -> ::core::option::Option<Self> {
                ::core::option::Option::None
            }
        }
    }
}
