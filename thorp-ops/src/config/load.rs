//! From parsed `.env` entries to a typed config: the loader that generated code drives.
//!
//! Generated `HotConfig` code asks the [`Loader`] for each field in turn; the loader finds the
//! entry (or the default), runs the field's parse-and-check closure, records the effective value
//! and collects every error instead of stopping, so one load reports all problems of a file.

use super::error::{ConfigError, ConfigErrors, ErrorKind};
use super::schema::{KeySpec, Schema};
use super::value::ValueError;
use super::values::{Origin, Setting, Values, key_looks_secret};
use crate::envfile::{self, ParseOptions, Parsed};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicPtr, Ordering};

/// A typed config with what it was loaded from.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Loaded<T> {
    /// The typed config.
    pub config: T,
    /// Every key's effective value as text, unknown keys included.
    pub values: Values,
    /// Problems that did not stop the load, such as unknown keys.
    pub warnings: Vec<ConfigWarning>,
}

/// A problem that does not stop a load.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigWarning {
    /// A key the schema does not declare. It is kept in [`Values`] (other code may read it).
    UnknownKey {
        /// The key.
        key: String,
        /// Its line.
        line: u32,
        /// A schema key it may be a typo of.
        suggestion: Option<&'static str>,
    },
    /// A warning of the `.env` reader, such as a key set twice.
    File(String),
}

impl std::fmt::Display for ConfigWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::UnknownKey {
                key,
                line,
                suggestion: Some(suggestion),
            } => {
                write!(f, "{line}: {key}: unknown key (did you mean {suggestion}?)")
            }
            Self::UnknownKey {
                key,
                line,
                suggestion: None,
            } => write!(f, "{line}: {key}: unknown key"),
            Self::File(message) => f.write_str(message),
        }
    }
}

/// A config entry as read from the file.
#[derive(Clone, PartialEq, Eq)]
pub struct RawValue {
    /// The value, unquoted and expanded.
    pub value: String,
    /// Its 1-based line.
    pub line: u32,
}

/// The entries of a file by key, before typing.
pub type RawEntries = BTreeMap<String, RawValue>;

/// Reason a [`validate`](crate::HotConfig) hook gives for refusing a whole config.
///
/// ```
/// use thorp_ops::config::Rejection;
///
/// fn check(min: u64, max: u64) -> Result<(), Rejection> {
///     if min > max {
///         return Err(Rejection::new("must not exceed MAX_MARKET_CAP").key("MIN_MARKET_CAP"));
///     }
///     Ok(())
/// }
/// assert!(check(5, 1).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    keys: Vec<String>,
    message: String,
}

impl Rejection {
    /// A refusal with `message`; name the keys concerned with [`Rejection::key`].
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            keys: Vec::new(),
            message: message.into(),
        }
    }

    /// Names a key the refusal is about; the error points at its line.
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.keys.push(key.into());
        self
    }
}

/// Drives the generated loading code; not for direct use.
#[doc(hidden)]
pub struct Loader<'a> {
    raw: Raw<'a>,
    values: Values,
    errors: Vec<ConfigError>,
}

/// Where a [`Loader`] finds what the file sets.
enum Raw<'a> {
    /// Entries by key, as callers of [`from_entries`] hand them over.
    Entries(&'a RawEntries),
    /// A parse of the file's text, read in place (no map of the entries is built): `used`
    /// marks the entries a schema key read, which leaves the unknown ones, and `next` is where
    /// the next key most likely is, since files tend to list keys in the order structs do.
    Parsed {
        parsed: &'a Parsed<'a>,
        used: Vec<bool>,
        next: usize,
    },
}

impl<'a> Raw<'a> {
    fn parsed(parsed: &'a Parsed<'a>) -> Self {
        Self::Parsed {
            parsed,
            used: vec![false; parsed.entries().len()],
            next: 0,
        }
    }

    /// The value and line `key` is set to, if the file sets it, marking it as read.
    fn read(&mut self, key: &str) -> Option<(&'a str, u32)> {
        match self {
            Self::Entries(entries) => entries.get(key).map(|raw| (raw.value.as_str(), raw.line)),
            Self::Parsed { parsed, used, next } => {
                let parsed: &'a Parsed<'a> = parsed;
                let position = parsed.position(key, *next)?;
                let entry = parsed.entries().get(position)?;
                if let Some(flag) = used.get_mut(position) {
                    *flag = true;
                }
                *next = position + 1;
                Some((&entry.value, entry.line))
            }
        }
    }

    /// The line `key` is set on, if the file sets it.
    fn line_of(&self, key: &str) -> Option<u32> {
        match self {
            Self::Entries(entries) => entries.get(key).map(|raw| raw.line),
            Self::Parsed { parsed, .. } => {
                let position = parsed.position(key, 0)?;
                parsed.entries().get(position).map(|entry| entry.line)
            }
        }
    }
}

impl<'a> Loader<'a> {
    fn new(raw: Raw<'a>) -> Self {
        Self {
            raw,
            values: Values::default(),
            errors: Vec::new(),
        }
    }

    /// The value of a required field (a default counts as set). `None` when it failed; the
    /// error is recorded.
    pub fn required<V>(
        &mut self,
        spec: &'static KeySpec,
        parse: impl FnOnce(&str) -> Result<V, ValueError>,
    ) -> Option<V> {
        match self.lookup(spec, parse) {
            Lookup::Value(value) => Some(value),
            Lookup::Absent => {
                self.values.insert(
                    spec.key,
                    Setting::new(None, Origin::Unset, spec.secret, true),
                );
                self.errors.push(
                    ConfigError::new(ErrorKind::Missing { doc: spec.doc }).with_key(spec.key),
                );
                None
            }
            Lookup::Failed => None,
        }
    }

    /// The value of an `Option` field: `Some(None)` when not set, `None` when it failed.
    pub fn optional<V>(
        &mut self,
        spec: &'static KeySpec,
        parse: impl FnOnce(&str) -> Result<V, ValueError>,
    ) -> Option<Option<V>> {
        match self.lookup(spec, parse) {
            Lookup::Value(value) => Some(Some(value)),
            Lookup::Absent => {
                self.values.insert(
                    spec.key,
                    Setting::new(None, Origin::Unset, spec.secret, true),
                );
                Some(None)
            }
            Lookup::Failed => None,
        }
    }

    /// Runs a struct's `validate` hook on a fully parsed config.
    pub fn validate<T>(&mut self, config: T, hook: fn(&T) -> Result<(), Rejection>) -> Option<T> {
        match hook(&config) {
            Ok(()) => Some(config),
            Err(rejection) => {
                let mut error = ConfigError::new(ErrorKind::Rejected(rejection.message));
                if !rejection.keys.is_empty() {
                    // The first named key that is set in the file gives the line; the others
                    // may be at their defaults.
                    if let Some(line) = rejection.keys.iter().find_map(|key| self.raw.line_of(key))
                    {
                        error = error.at(line, None);
                    }
                    error = error.with_key(rejection.keys.join(", "));
                }
                self.errors.push(error);
                None
            }
        }
    }

    fn lookup<V>(
        &mut self,
        spec: &'static KeySpec,
        parse: impl FnOnce(&str) -> Result<V, ValueError>,
    ) -> Lookup<V> {
        let (text, origin) = match self.raw.read(spec.key) {
            // An empty optional value means "not set", as `.env` files are usually written.
            Some(("", _)) if !spec.required && spec.default.is_none() => {
                return Lookup::Absent;
            }
            Some((text, line)) => (text, Origin::Line(line)),
            None => match spec.default {
                Some(default) => (default, Origin::Default),
                None => return Lookup::Absent,
            },
        };
        match parse(text) {
            Ok(value) => {
                self.values.insert(
                    spec.key,
                    Setting::new(Some(text.to_owned()), origin, spec.secret, true),
                );
                Lookup::Value(value)
            }
            Err(error) => {
                // Redacted as `Values` shows it: a schema secret, or a key named like one.
                let secret = spec.secret || key_looks_secret(spec.key);
                let message = if secret && error.may_echo_input() {
                    "is not valid".to_owned()
                } else {
                    error.message().to_owned()
                };
                let expected = spec.range().unwrap_or_else(|| spec.expectation());
                let mut failure = ConfigError::new(ErrorKind::Invalid { message, expected })
                    .with_key(spec.key)
                    .with_value(text, secret);
                match origin {
                    Origin::Line(line) => failure = failure.at(line, None),
                    // A default the derive could not check at compile time (a `FromStr` type).
                    _ => {
                        failure.kind = ErrorKind::Rejected(format!(
                            "the schema's default does not parse: {}",
                            failure.kind
                        ))
                    }
                }
                self.errors.push(failure);
                Lookup::Failed
            }
        }
    }
}

enum Lookup<V> {
    Value(V),
    Absent,
    Failed,
}

/// Types `entries` against `T`'s schema, reporting every problem at once.
pub fn from_entries<T: crate::HotConfig>(entries: &RawEntries) -> Result<Loaded<T>, ConfigErrors> {
    load::<T>(Raw::Entries(entries))
}

fn load<T: crate::HotConfig>(raw: Raw<'_>) -> Result<Loaded<T>, ConfigErrors> {
    let schema: &'static Schema = T::SCHEMA;
    let mut errors = duplicate_key_errors(schema);
    let mut loader = Loader::new(raw);
    let config = T::__load(&mut loader);
    errors.append(&mut loader.errors);
    let mut values = loader.values;
    let mut warnings = Vec::new();
    let mut unknown = |key: &str, value: &str, line: u32| {
        // Under an open prefix it is a dynamic key, which its component reads and checks.
        if !schema.is_open(key) {
            warnings.push(ConfigWarning::UnknownKey {
                key: key.to_owned(),
                line,
                suggestion: schema.suggest(key),
            });
        }
        (
            key.to_owned(),
            Setting::new(Some(value.to_owned()), Origin::Line(line), false, false),
        )
    };
    match loader.raw {
        Raw::Entries(entries) => {
            for (key, raw) in entries {
                // A schema key whose value failed is not unknown; its error says what is wrong.
                if values.get(key).is_none() && schema.find(key).is_none() {
                    let (key, setting) = unknown(key, &raw.value, raw.line);
                    values.insert(key, setting);
                }
            }
        }
        Raw::Parsed { parsed, used, .. } => {
            // An entry a schema key read is known, whether its value failed or not; the others
            // are unknown unless the schema declares them after all (a hand-written loader).
            for position in parsed.positions_by_key() {
                let Some(entry) = parsed.entries().get(position) else {
                    continue;
                };
                if !used.get(position).copied().unwrap_or(false) && schema.find(entry.key).is_none()
                {
                    let (key, setting) = unknown(entry.key, &entry.value, entry.line);
                    values.insert(key, setting);
                }
            }
        }
    }
    match config {
        Some(config) if errors.is_empty() => Ok(Loaded {
            config,
            values,
            warnings,
        }),
        _ => Err(ConfigErrors::new(errors)),
    }
}

/// One error per key `schema` declares twice (across flattened structs).
fn duplicate_key_errors(schema: &'static Schema) -> Vec<ConfigError> {
    // A service loads one schema over and over, and a schema never changes: remember the last
    // one found clean rather than sort its keys on every load. (Two schemas at one address are
    // one schema; one schema at two addresses is only checked twice.)
    static LAST_CLEAN: AtomicPtr<Schema> = AtomicPtr::new(std::ptr::null_mut());
    let address = std::ptr::from_ref(schema).cast_mut();
    if LAST_CLEAN.load(Ordering::Relaxed) == address {
        return Vec::new();
    }
    let errors: Vec<ConfigError> = schema
        .duplicate_keys()
        .into_iter()
        .map(|key| {
            let mut fields = Vec::new();
            declared_by(schema, key, &mut fields);
            let place = format!("{}, in {}", fields.join(" and "), schema.type_name);
            ConfigError::new(ErrorKind::DuplicateKey(place)).with_key(key)
        })
        .collect();
    if errors.is_empty() {
        LAST_CLEAN.store(address, Ordering::Relaxed);
    }
    errors
}

/// The fields declaring `key`, as `Type.field`, flattened schemas included.
fn declared_by(schema: &Schema, key: &str, out: &mut Vec<String>) {
    for spec in schema.keys.iter().filter(|spec| spec.key == key) {
        out.push(format!("{}.{}", schema.type_name, spec.field));
    }
    for flattened in schema.flattened {
        declared_by(flattened, key, out);
    }
}

/// Loads `T` from the bytes of a `.env` file, keeping the effective values and all warnings.
/// `source` names the file in errors.
pub fn from_bytes<T: crate::HotConfig>(
    bytes: &[u8],
    source: Option<&Arc<Path>>,
    options: &ParseOptions<'_>,
) -> Result<Loaded<T>, ConfigErrors> {
    let locate = |errors: ConfigErrors| match source {
        Some(file) => errors.in_file(file),
        None => errors,
    };
    let parsed = envfile::parse_borrowed(bytes, options)
        .map_err(syntax_errors)
        .map_err(locate)?;
    let mut loaded = load::<T>(Raw::parsed(&parsed)).map_err(locate)?;
    let mut warnings = file_warnings(parsed.warnings());
    warnings.append(&mut loaded.warnings);
    loaded.warnings = warnings;
    Ok(loaded)
}

fn file_warnings(warnings: &[envfile::Warning]) -> Vec<ConfigWarning> {
    warnings
        .iter()
        .map(|warning| ConfigWarning::File(warning.to_string()))
        .collect()
}

fn syntax_errors(errors: envfile::ParseErrors) -> ConfigErrors {
    ConfigErrors::new(errors.into_iter().map(syntax_error).collect())
}

fn syntax_error(error: envfile::ParseError) -> ConfigError {
    let message = error.to_string();
    // The reader's messages start with their position; ours carries it in fields instead, so
    // the display reads `app.env:7:3: expected KEY=VALUE` like every other config error.
    let message = match (error.line(), message.split_once(": ")) {
        (Some(_), Some((position, rest))) if position.starts_with("line ") => rest.to_owned(),
        _ => message,
    };
    // Likewise the key, which `with_key` below shows: `app.env:7:3: KEY: KEY: ...` otherwise.
    let message = match error.key() {
        Some(key) => message
            .strip_prefix(key)
            .and_then(|rest| rest.strip_prefix(": "))
            .map_or(message.clone(), str::to_owned),
        None => message,
    };
    let mut out = ConfigError::new(ErrorKind::Syntax(message));
    if let Some(line) = error.line() {
        out = out.at(line, error.column());
    }
    if let Some(key) = error.key() {
        out = out.with_key(key);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{HotConfig, Secret};
    use proptest::prelude::*;
    use std::time::Duration;
    use url::Url;

    /// A schema touching every kind of rule, for the property tests.
    #[derive(HotConfig, Debug)]
    #[hot_config(component = "probe", prefix = "P_")]
    struct Probe {
        #[hot_config(key = "P_URL", url(scheme = "https"), secret)]
        url: Secret<Url>,
        #[hot_config(key = "P_TIMEOUT", range = "1ms"..="1m", default = "2s")]
        timeout: Duration,
        #[hot_config(key = "P_SCORE", range = 0..=100, default = 60)]
        score: u8,
        #[hot_config(key = "P_RATE", min = 0.0, max = 1.0)]
        rate: Option<f64>,
        #[hot_config(key = "P_FLAG", default = false)]
        flag: bool,
        #[hot_config(key = "P_HOSTS", non_empty, default = "a,b")]
        hosts: Vec<String>,
    }

    proptest! {
        #[test]
        fn loading_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = from_bytes::<Probe>(&bytes, None, &ParseOptions::new().without_env());
        }

        #[test]
        fn loading_never_panics_on_arbitrary_values(
            url in ".{0,40}", timeout in ".{0,12}", score in ".{0,6}", rate in ".{0,8}", hosts in ".{0,20}",
        ) {
            let text = crate::envfile::write_entries([
                ("P_URL", url.as_str()), ("P_TIMEOUT", &timeout), ("P_SCORE", &score), ("P_RATE", &rate), ("P_HOSTS", &hosts),
            ]);
            if let Ok(text) = text
                && let Err(errors) = from_bytes::<Probe>(text.as_bytes(), None, &ParseOptions::new().without_env())
                && url.chars().count() > 3
                // Other values are shown; one that contains the secret's text would show it.
                && ![&timeout, &score, &rate, &hosts].iter().any(|value| value.contains(url.as_str()))
            {
                // A secret never shows, however it fails.
                prop_assert!(!errors.to_string().contains(&url));
            }
        }

        #[test]
        fn written_valid_values_load_back_to_themselves(score in 0_u8..=100, millis in 1_u64..60_000, flag: bool) {
            let timeout = crate::config::format_duration(Duration::from_millis(millis));
            let text = crate::envfile::write_entries([
                ("P_URL", "https://rpc.example.com/?api-key=k"),
                ("P_TIMEOUT", timeout.as_str()),
                ("P_SCORE", &score.to_string()),
                ("P_FLAG", &flag.to_string()),
            ]).map_err(|error| TestCaseError::fail(error.to_string()))?;
            let loaded = from_bytes::<Probe>(text.as_bytes(), None, &ParseOptions::new().without_env())
                .map_err(|errors| TestCaseError::fail(errors.to_string()))?;
            prop_assert_eq!(loaded.config.score, score);
            prop_assert_eq!(loaded.config.timeout, Duration::from_millis(millis));
            prop_assert_eq!(loaded.config.flag, flag);
            prop_assert_eq!(loaded.config.hosts, ["a", "b"]);
            prop_assert_eq!(loaded.config.rate, None);
            prop_assert_eq!(loaded.config.url.expose().host_str(), Some("rpc.example.com"));
        }
    }

    #[test]
    fn every_problem_is_reported_at_once_in_line_order() {
        let text = "P_SCORE=101\nP_RATE=2\nP_TIMEOUT=soon\n";
        let errors = from_bytes::<Probe>(text.as_bytes(), None, &ParseOptions::new().without_env())
            .err()
            .map(|errors| errors.to_string());
        assert_eq!(
            errors.as_deref(),
            Some(
                "P_URL: is required but not set\n\
                 1: P_SCORE: \"101\" is above the maximum (expected 0..=100)\n\
                 2: P_RATE: \"2\" is above the maximum (expected 0..=1)\n\
                 3: P_TIMEOUT: \"soon\" is not a duration (expected 1ms..=1m)"
            )
        );
    }

    /// Two flattened structs that both declare `D_SAME`.
    #[derive(HotConfig, Debug)]
    struct Left {
        #[hot_config(key = "D_SAME", default = 1)]
        a: u32,
    }

    #[derive(HotConfig, Debug)]
    #[allow(dead_code, reason = "only its schema is used: Both never loads")]
    struct Right {
        #[hot_config(key = "D_SAME", default = 2)]
        b: u32,
    }

    #[derive(HotConfig, Debug)]
    #[allow(dead_code, reason = "only its schema is used: it never loads")]
    struct Both {
        #[hot_config(flatten)]
        left: Left,
        #[hot_config(flatten)]
        right: Right,
    }

    #[test]
    fn duplicate_keys_are_refused_on_every_load_whatever_loaded_before() {
        let options = ParseOptions::new().without_env();
        for _ in 0..2 {
            let left = from_bytes::<Left>(b"D_SAME=3\n", None, &options);
            assert_eq!(left.map(|loaded| loaded.config.a).ok(), Some(3));
            let errors = from_bytes::<Both>(b"D_SAME=3\n", None, &options)
                .err()
                .map(|errors| errors.to_string());
            assert_eq!(
                errors.as_deref(),
                Some(
                    "D_SAME: is declared twice in the config schema (Left.a and Right.b, in Both)"
                )
            );
        }
    }

    #[test]
    fn syntax_errors_show_position_and_key_once() {
        let parsed = envfile::parse_borrowed(b"A=1\nLOG_LEVEL=\"deb", &ParseOptions::new());
        let Err(errors) = parsed.map_err(syntax_errors) else {
            panic!("an unclosed quote is a syntax error");
        };
        let shown: Vec<String> = errors.errors().iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["2:11: LOG_LEVEL: quoted value is never closed"]);
    }
}
