//! Typed, validated, hot-reloadable configuration.
//!
//! A config is a struct deriving [`HotConfig`](crate::HotConfig). Loading a file types every
//! key, checks every rule and reports every problem at once; the [`Store`] holds the current
//! snapshot for lock-free reads.

mod error;
mod load;
mod schema;
mod store;
mod value;
mod values;

pub use error::{ConfigError, ConfigErrors, ErrorKind};
#[doc(hidden)]
pub use load::Loader;
pub use load::{ConfigWarning, Loaded, RawEntries, RawValue, Rejection, from_entries};
pub use schema::{Component, KeySpec, Schema};
pub use store::{ReadHandle, Section, Snapshot, Store};
pub use value::{ConfigValue, ValueError, format_duration, parse_duration};
pub use values::{Change, Origin, Setting, Values};

/// A config struct: its schema and how to load it. Derive it with `#[derive(HotConfig)]`.
///
/// ```
/// use thorp_ops::HotConfig;
///
/// /// Detection thresholds.
/// #[derive(HotConfig, Debug)]
/// #[hot_config(component = "detection", prefix = "MIN_EDGE_")]
/// struct Detection {
///     /// Minimum edge score to act on.
///     #[hot_config(key = "MIN_EDGE_SCORE", range = 0..=100, default = 60)]
///     min_edge_score: u32,
/// }
///
/// let detection = Detection::from_env_str("MIN_EDGE_SCORE=75\n").unwrap();
/// assert_eq!(detection.min_edge_score, 75);
///
/// let errors = Detection::from_env_str("MIN_EDGE_SCORE=101\n").unwrap_err();
/// assert_eq!(errors.to_string(), r#"1: MIN_EDGE_SCORE: "101" is above the maximum (expected 0..=100)"#);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a config section",
    label = "this type does not derive `HotConfig`",
    note = "`#[hot_config(flatten)]` needs a field whose type has `#[derive(HotConfig)]`"
)]
pub trait HotConfig: Sized + Send + Sync + 'static {
    /// Every key of the struct and of the structs it flattens.
    const SCHEMA: &'static Schema;

    /// Fills the struct from the loader; generated.
    #[doc(hidden)]
    fn __load(loader: &mut Loader<'_>) -> Option<Self>;

    /// Loads from `.env` text, reporting every problem at once.
    fn from_env_str(text: &str) -> Result<Self, ConfigErrors> {
        crate::config::load_str::<Self>(text).map(|loaded| loaded.config)
    }
}

/// Loads `T` from `.env` text, keeping the effective values and warnings.
pub fn load_str<T: HotConfig>(text: &str) -> Result<Loaded<T>, ConfigErrors> {
    let entries = load::naive_entries(text);
    from_entries(&entries)
}
