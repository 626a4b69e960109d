//! Typed, validated, hot-reloadable configuration.
//!
//! A config is a struct deriving [`HotConfig`]. Loading a file types every
//! key, checks every rule and reports every problem at once; the [`Store`] holds the current
//! snapshot for lock-free reads.

use crate::envfile::ParseOptions;
use std::path::Path;
use std::sync::Arc;

mod error;
mod history;
mod load;
mod reload;
mod schema;
mod store;
mod subscribe;
mod template;
mod value;
mod values;
mod view;
mod watch;

pub use error::{ConfigError, ConfigErrors, ErrorKind};
pub use history::{
    Outcome, RecordedError, ReloadRecord, ReloadStats, SubscriberRecord, SubscriberResult, Trigger,
};
#[doc(hidden)]
pub use load::Loader;
pub use load::{ConfigWarning, Loaded, RawEntries, RawValue, Rejection, from_bytes, from_entries};
pub use reload::{HotReload, ReloadHandle, ReloadOptions};
pub use schema::{Component, KeySpec, Schema};
pub use store::{ReadHandle, Section, Snapshot, Store};
pub use subscribe::{BoxError, Update};
pub use template::{schema_json, template};
pub use value::{ConfigValue, ValueError, format_duration, parse_duration};
pub use values::{Change, Origin, Setting, Values};
pub use view::{ConfigSource, ConfigView, ShownValue};

/// A config struct: its schema and how to load it. Derive it with `#[derive(HotConfig)]`.
///
/// # Attributes
///
/// On the struct, `#[hot_config(...)]` takes:
///
/// | attribute | meaning |
/// |---|---|
/// | `component = "rpcPool"` | the component these keys configure (names subscribers, routes changes) |
/// | `prefix = "RPC_"` | repeatable; changed keys with this prefix concern the component |
/// | `open_prefix = "HEALTH_"` | repeatable; like `prefix`, and keys under it that no field declares are the component's dynamic keys, not unknown ones (see below) |
/// | `key_prefix = "RPC_"` | fields without `key` get `RPC_` + their name in upper case |
/// | `rename_all = "SCREAMING_SNAKE_CASE"` | fields without `key` get their name in upper case |
/// | `validate = path::to::check` | `fn(&Self) -> Result<(), Rejection>` for rules across fields |
/// | `crate = "path::to::thorp_ops"` | where the crate is, when it is re-exported |
///
/// On a field:
///
/// | attribute | meaning |
/// |---|---|
/// | `key = "RPC_DEFAULT_TIMEOUT_MS"` | the key in the file |
/// | `default = 2000` | used when the key is not set; checked against the type and bounds at compile time |
/// | `min = 100`, `max = 60_000`, `range = 100..=60_000` | inclusive bounds on numbers and `Duration`s (`range = "1ms"..="1m"`) |
/// | `url`, `url(scheme = "https", scheme = "http")` | a `Url` with a host, and optionally one of these schemes |
/// | `non_empty` | a `String` or `Vec` that may not be empty |
/// | `secret` | the value is redacted everywhere; the field must be a [`Secret`](crate::Secret) |
/// | `flatten` | the field is another `HotConfig` struct whose keys join this one's |
///
/// Some components read keys whose names are only known at run time: the health monitor's
/// threshold overrides are `HEALTH_` + a rule's key, for whatever components are registered.
/// `open_prefix` declares that: the loader keeps such keys in [`Values`] without an unknown-key
/// warning, routes their changes to the component, and leaves checking them to it (the monitor
/// refuses a threshold key no registered rule has, with a did-you-mean). The section's own
/// fields under the prefix are typed as usual; a struct that flattens the section inherits its
/// open prefixes ([`Schema::is_open`]).
///
/// A field is required unless it is an `Option` or has a default. Its type is read through
/// `Option<...>`, `Secret<...>` and `Vec<...>` (a comma-separated list), in that order, down to
/// a type that implements [`ConfigValue`] (numbers, `bool`, `String`, `Url`, `Duration`) or
/// else `FromStr` (enums, addresses, paths). Mistakes in the attributes are compile errors
/// pointing at the attribute; every mistake in a struct is reported at once.
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
    from_bytes(text.as_bytes(), None, &ParseOptions::new())
}

/// Loads `T` from a file, reporting every problem with the file's name. Blocking: call it at
/// start-up or from `spawn_blocking`.
pub fn load_file<T: HotConfig>(path: impl AsRef<Path>) -> Result<Loaded<T>, ConfigErrors> {
    let path: Arc<Path> = Arc::from(path.as_ref());
    let bytes = read_file(&path, crate::envfile::DEFAULT_MAX_SIZE)?;
    from_bytes(&bytes, Some(&path), &ParseOptions::new())
}

/// Reads at most `max_size` bytes of `path`; a larger file, a directory, an empty file or an
/// unreadable one is an error naming the file.
pub(crate) fn read_file(path: &Arc<Path>, max_size: usize) -> Result<Vec<u8>, ConfigErrors> {
    use std::io::Read;
    let fail = |kind: ErrorKind| ConfigErrors::one(ConfigError::new(kind).in_file(path.clone()));
    let file = std::fs::File::open(path).map_err(|error| fail(ErrorKind::Io(error)))?;
    let metadata = file
        .metadata()
        .map_err(|error| fail(ErrorKind::Io(error)))?;
    if !metadata.is_file() {
        return Err(fail(ErrorKind::Syntax("is not a regular file".to_owned())));
    }
    // Read one byte past the cap so a file that grew since `metadata` is still caught.
    let limit = u64::try_from(max_size)
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    // Sized from the metadata up front (`Take` hides the file's size from `read_to_end`, which
    // would otherwise grow the buffer from 32 bytes with a read per step); the extra byte lets
    // the read that finds the end land without growing it.
    let expected = metadata.len().min(limit).saturating_add(1);
    let mut bytes = Vec::with_capacity(usize::try_from(expected).unwrap_or(0));
    file.take(limit)
        .read_to_end(&mut bytes)
        .map_err(|error| fail(ErrorKind::Io(error)))?;
    if bytes.len() > max_size {
        return Err(fail(ErrorKind::Syntax(format!(
            "is larger than the {max_size}-byte limit"
        ))));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(fail(ErrorKind::Syntax("is empty".to_owned())));
    }
    Ok(bytes)
}
