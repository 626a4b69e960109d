//! `#[derive(HotConfig)]`: parse (`attr`), model (`model`), check (`check`), generate (`expand`).

mod attr;
mod check;
mod expand;
mod model;

use crate::errors::Errors;
use model::Model;
use proc_macro2::TokenStream;
use syn::DeriveInput;

pub(crate) fn derive(input: &DeriveInput) -> TokenStream {
    let mut errors = Errors::new();
    let Some(model) = Model::from_ast(input, &mut errors) else {
        return errors
            .finish()
            .err()
            .map(|error| error.to_compile_error())
            .unwrap_or_default();
    };
    let fields = check::check(&model, &mut errors);
    match errors.finish() {
        Ok(()) => expand::expand(&model, &fields),
        Err(error) => {
            let mut out = error.to_compile_error();
            // An impl that still names the trait keeps the user's other code compiling, so one
            // mistake shows as its own errors and not as a cascade of "HotConfig not implemented".
            if !model.generic {
                out.extend(expand::fallback(&model));
            }
            out
        }
    }
}
