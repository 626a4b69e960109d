//! Helpers for the `HotConfig` tests: building entries and reading load results.

use thorp_ops::HotConfig;
use thorp_ops::config::{ConfigErrors, Loaded, RawEntries, RawValue, from_entries, load_str};

/// Entries as the `.env` reader would give them: `(key, value, line)`.
pub(crate) fn entries(items: &[(&str, &str, u32)]) -> RawEntries {
    items
        .iter()
        .map(|(key, value, line)| {
            (
                (*key).to_owned(),
                RawValue {
                    value: (*value).to_owned(),
                    line: *line,
                },
            )
        })
        .collect()
}

/// Loads `.env` text into `T`, panicking with every error on failure.
pub(crate) fn load<T: HotConfig>(text: &str) -> Loaded<T> {
    match load_str::<T>(text) {
        Ok(loaded) => loaded,
        Err(errors) => panic!("expected {text:?} to load, got:\n{errors}"),
    }
}

/// Loads `entries` into `T`, panicking with every error on failure.
pub(crate) fn load_entries<T: HotConfig>(entries: &RawEntries) -> Loaded<T> {
    match from_entries::<T>(entries) {
        Ok(loaded) => loaded,
        Err(errors) => panic!("expected the entries to load, got:\n{errors}"),
    }
}

/// The errors of loading `text` into `T`, panicking if it loads.
pub(crate) fn errors<T: HotConfig>(text: &str) -> ConfigErrors {
    match load_str::<T>(text) {
        Ok(_) => panic!("expected {text:?} to be refused"),
        Err(errors) => errors,
    }
}

/// Each error of loading `text` into `T` as displayed, in order.
pub(crate) fn error_lines<T: HotConfig>(text: &str) -> Vec<String> {
    errors::<T>(text)
        .errors()
        .iter()
        .map(ToString::to_string)
        .collect()
}

/// The one error of loading `text` into `T`, as displayed.
pub(crate) fn error_line<T: HotConfig>(text: &str) -> String {
    let lines = error_lines::<T>(text);
    assert_eq!(lines.len(), 1, "expected one error, got {lines:#?}");
    lines.into_iter().next().unwrap_or_default()
}
