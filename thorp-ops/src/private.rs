//! What generated code calls, and nothing else. Not a public API: it changes without notice.

pub use crate::config::{Component, HotConfig, KeySpec, Loader, Rejection, Schema, ValueError};
/// What `#[health_component]` generated code calls.
pub use crate::health::private as health;
pub use crate::secret::Secret;
pub use ::core;
pub use ::std::time::Duration;
pub use ::url::Url;

use crate::config::ConfigValue;
use std::fmt::Display;
use std::marker::PhantomData;
use std::str::FromStr;

/// Picks how a field's innermost type is parsed, by autoref specialization: [`ConfigValue`]
/// when the type implements it, else [`FromStr`]. Generated code calls
/// `(&Leaf::<T>::new()).parse_leaf(raw)`; method lookup tries `Leaf<T>: ViaConfigValue` (no
/// autoref needed) before `&Leaf<T>: ViaFromStr`, so the better impl wins.
pub struct Leaf<T>(PhantomData<fn() -> T>);

impl<T> Leaf<T> {
    #[allow(clippy::new_without_default, reason = "only generated code builds one")]
    pub const fn new() -> Self {
        Self(PhantomData)
    }
}

pub trait ViaConfigValue<T> {
    fn parse_leaf(&self, raw: &str) -> Result<T, ValueError>;
}

impl<T: ConfigValue> ViaConfigValue<T> for Leaf<T> {
    fn parse_leaf(&self, raw: &str) -> Result<T, ValueError> {
        T::parse_value(raw)
    }
}

pub trait ViaFromStr<T> {
    fn parse_leaf(&self, raw: &str) -> Result<T, ValueError>
    where
        T: FromStrLeaf;
}

// No bound on the impl, only on the method: a type with neither trait then fails on
// `FromStrLeaf` (an error at the field's type that says what to implement) instead of on a
// method `parse_leaf` that "exists but its trait bounds were not satisfied".
impl<T> ViaFromStr<T> for &Leaf<T> {
    fn parse_leaf(&self, raw: &str) -> Result<T, ValueError>
    where
        T: FromStrLeaf,
    {
        T::from_config_str(raw)
    }
}

/// A field type read through its `FromStr` impl.
#[diagnostic::on_unimplemented(
    message = "config field type `{Self}` cannot be parsed from text",
    label = "implement `FromStr` or `thorp_ops::config::ConfigValue` for `{Self}`",
    note = "a field's type is read with `ConfigValue` when it implements it, else with `FromStr` \
            (whose error must implement `Display`)"
)]
pub trait FromStrLeaf: Sized {
    fn from_config_str(raw: &str) -> Result<Self, ValueError>;
}

impl<T> FromStrLeaf for T
where
    T: FromStr,
    T::Err: Display,
{
    fn from_config_str(raw: &str) -> Result<Self, ValueError> {
        T::from_str(raw).map_err(|error| ValueError::untrusted(format!("is not valid: {error}")))
    }
}

/// Splits a list value on commas, trimming items and skipping empty ones (`a, b,` is `[a, b]`).
pub fn parse_list<T>(
    raw: &str,
    mut item: impl FnMut(&str) -> Result<T, ValueError>,
) -> Result<Vec<T>, ValueError> {
    raw.split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(&mut item)
        .collect()
}

pub fn check_min<T: PartialOrd>(value: &T, min: T) -> Result<(), ValueError> {
    if *value < min {
        Err(ValueError::new("is below the minimum"))
    } else {
        Ok(())
    }
}

pub fn check_max<T: PartialOrd>(value: &T, max: T) -> Result<(), ValueError> {
    if *value > max {
        Err(ValueError::new("is above the maximum"))
    } else {
        Ok(())
    }
}

pub fn check_url(url: &Url, schemes: &[&str]) -> Result<(), ValueError> {
    if !schemes.is_empty() && !schemes.contains(&url.scheme()) {
        return Err(ValueError::new(format!("has scheme {}", url.scheme())));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(ValueError::new("has no host"));
    }
    Ok(())
}

/// What `non_empty` applies to.
pub trait Emptiness {
    fn is_empty_value(&self) -> bool;
}

impl Emptiness for String {
    fn is_empty_value(&self) -> bool {
        self.trim().is_empty()
    }
}

impl<T> Emptiness for Vec<T> {
    fn is_empty_value(&self) -> bool {
        self.is_empty()
    }
}

pub fn check_non_empty<T: Emptiness>(value: &T) -> Result<(), ValueError> {
    if value.is_empty_value() {
        Err(ValueError::new("is empty"))
    } else {
        Ok(())
    }
}
