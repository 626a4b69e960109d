//! The effective settings of a loaded config as text, and the changes between two of them.
//!
//! Typed values are for the program; these are for people and for routing: what each key is
//! set to and where that came from, compared key by key on reload. Values are kept as written
//! so nothing needs `Display` on user types, and every way out ([`Setting::shown`], [`Change`],
//! `Debug`) redacts secrets, credential-bearing URLs and keys whose names look like credentials.

use crate::secret::{REDACTED, is_credential_word, is_sensitive_param, redact_url_str};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

/// Where a setting's value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase", tag = "kind", content = "line")]
pub enum Origin {
    /// Set in the file at this 1-based line.
    Line(u32),
    /// Not set in the file; the schema's default applies.
    Default,
    /// Not set and optional: no value.
    Unset,
}

/// One key's effective value.
#[derive(Clone, PartialEq, Eq)]
pub struct Setting {
    value: Option<String>,
    origin: Origin,
    secret: bool,
    known: bool,
}

impl Setting {
    pub(crate) fn new(value: Option<String>, origin: Origin, secret: bool, known: bool) -> Self {
        Self {
            value,
            origin,
            secret,
            known,
        }
    }

    /// Where the value came from.
    pub fn origin(&self) -> Origin {
        self.origin
    }

    /// Whether the value is redacted wherever it is shown: the schema marks the key secret, or
    /// the key's name looks like a credential (`*_API_KEY`, `*_TOKEN`, ...).
    pub fn is_secret(&self) -> bool {
        self.secret
    }

    /// Whether the schema declares the key (unknown keys are kept too).
    pub fn is_known(&self) -> bool {
        self.known
    }

    /// The value as it may be shown to a person or written to a log.
    pub fn shown(&self) -> Option<Cow<'_, str>> {
        let value = self.value.as_deref()?;
        Some(show(value, self.secret))
    }

    /// The value as written, secrets included. For code that uses the value, never for output.
    pub fn expose(&self) -> Option<&str> {
        self.value.as_deref()
    }
}

/// Whether a key's name says its value is a credential, schema or not: `SOME_API_KEY`,
/// `AUTH_TOKEN`, `DB_PASSWORD`.
pub(crate) fn key_looks_secret(key: &str) -> bool {
    // Whatever the last `_` segment ends with, the whole key ends with too; the segment alone
    // can still be a credential's name (`DB_PASS`), which the whole key is not.
    let last_segment = key
        .rfind('_')
        .map_or(key, |at| key.get(at + 1..).unwrap_or_default());
    is_sensitive_param(key) || is_credential_word(last_segment)
}

/// `value` as it may be shown: redacted when secret, else with the credential parts of a URL
/// redacted, of a malformed URL too (a typo in the host must not print the API key after it).
pub(crate) fn show(value: &str, secret: bool) -> Cow<'_, str> {
    if secret {
        Cow::Borrowed(REDACTED)
    } else if value.contains("://") {
        Cow::Owned(match url::Url::parse(value) {
            Ok(_) => redact_url_str(value),
            Err(_) => redact_malformed_url(value),
        })
    } else {
        Cow::Borrowed(value)
    }
}

/// A URL that does not parse, with its password and API-key-like parameters redacted by text
/// alone: the user info is what precedes the last `@` before any `?` or `#`, and parameters
/// are the `name=value` pieces after them.
fn redact_malformed_url(text: &str) -> String {
    let Some((scheme, rest)) = text.split_once("://") else {
        return text.to_owned();
    };
    let (authority_and_path, tail) = rest.split_at(rest.find(['?', '#']).unwrap_or(rest.len()));
    let mut shown = format!("{scheme}://");
    match authority_and_path
        .rfind('@')
        .map(|at| authority_and_path.split_at(at))
    {
        Some((userinfo, host)) if userinfo.contains(':') => {
            let user = userinfo.split(':').next().unwrap_or_default();
            shown.push_str(&format!("{user}:{REDACTED}{host}"));
        }
        _ => shown.push_str(authority_and_path),
    }
    for piece in tail.split_inclusive(['?', '&', '#']) {
        let (param, separator) = match piece.char_indices().last() {
            Some((index, last @ ('?' | '&' | '#'))) => (&piece[..index], Some(last)),
            _ => (piece, None),
        };
        match param.split_once('=') {
            Some((name, _)) if is_sensitive_param(name) => {
                shown.push_str(&format!("{name}={REDACTED}"));
            }
            _ => shown.push_str(param),
        }
        shown.extend(separator);
    }
    shown
}

impl fmt::Debug for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = self.value.as_deref().map(|value| show(value, self.secret));
        f.debug_struct("Setting")
            .field("value", &shown)
            .field("origin", &self.origin)
            .field("secret", &self.secret)
            .finish()
    }
}

/// Every key's effective value, schema keys and unknown keys alike, by key.
// Schema keys are `&'static` already: borrowing them saves a copy per key and load.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Values(BTreeMap<Cow<'static, str>, Setting>);

impl Values {
    pub(crate) fn insert(&mut self, key: impl Into<Cow<'static, str>>, mut setting: Setting) {
        let key = key.into();
        setting.secret |= key_looks_secret(&key);
        self.0.insert(key, setting);
    }

    /// The setting of `key`.
    pub fn get(&self, key: &str) -> Option<&Setting> {
        self.0.get(key)
    }

    /// All settings, by key.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Setting)> {
        self.0.iter().map(|(key, setting)| (&**key, setting))
    }

    /// How many keys.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The keys whose values differ from `before`, by key; values redacted as for display.
    pub fn changes_since(&self, before: &Values) -> Vec<Change> {
        let mut changes = Vec::new();
        let mut old = before.0.iter().peekable();
        let mut new = self.0.iter().peekable();
        // Both maps are sorted: walk them together once.
        loop {
            let step = match (old.peek(), new.peek()) {
                (None, None) => break,
                (Some((old_key, _)), Some((new_key, _))) => old_key.cmp(new_key),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
            };
            match step {
                std::cmp::Ordering::Less => {
                    if let Some((key, setting)) = old.next() {
                        changes.push(Change::between(key, Some(setting), None));
                    }
                }
                std::cmp::Ordering::Greater => {
                    if let Some((key, setting)) = new.next() {
                        changes.push(Change::between(key, None, Some(setting)));
                    }
                }
                std::cmp::Ordering::Equal => {
                    if let (Some((key, was)), Some((_, now))) = (old.next(), new.next())
                        && was.value != now.value
                    {
                        changes.push(Change::between(key, Some(was), Some(now)));
                    }
                }
            }
        }
        changes.retain(|change| change.old != change.new || change.secret);
        changes
    }
}

impl fmt::Debug for Values {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.iter().map(|(key, setting)| (key, setting.shown())))
            .finish()
    }
}

/// One key whose effective value changed in a reload. Values are as shown: secrets redacted.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    /// The key.
    pub key: String,
    /// The value before, `None` when it was not set.
    pub old: Option<String>,
    /// The value after, `None` when it is no longer set.
    pub new: Option<String>,
    /// Whether the values are redacted: the key is secret, or what changed is a redacted part
    /// (a credential in a URL), so `old` and `new` may read the same.
    pub secret: bool,
}

impl Change {
    fn between(key: &str, old: Option<&Setting>, new: Option<&Setting>) -> Self {
        let shown_old = old.and_then(Setting::shown).map(Cow::into_owned);
        let shown_new = new.and_then(Setting::shown).map(Cow::into_owned);
        // A change that redaction hides (a rotated token in a URL's query) is still a change:
        // count it as secret, so it is kept and applied instead of passing for "unchanged".
        let hidden = shown_old == shown_new
            && old.and_then(Setting::expose) != new.and_then(Setting::expose);
        Self {
            key: key.to_owned(),
            old: shown_old,
            new: shown_new,
            secret: hidden || old.or(new).is_some_and(|setting| setting.secret),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_looking_keys_are_whole_keys_or_last_segments_named_like_credentials() {
        // The definition `key_looks_secret` shortcuts.
        let reference = |key: &str| {
            is_sensitive_param(key) || key.rsplit('_').next().is_some_and(is_sensitive_param)
        };
        for key in [
            "DB_PASS",
            "DB_PASSWORD",
            "SOME_API_KEY",
            "AUTH_TOKEN",
            "AUTH",
            "X_AUTH",
            "PWD_FILE",
            "MIN_EDGE_SCORE",
            "HELIUS_RPC_URL",
            "KEYS",
            "MONKEY",
            "SIG",
            "A_SIG",
            "_",
            "",
        ] {
            assert_eq!(key_looks_secret(key), reference(key), "{key}");
        }
        assert!(key_looks_secret("DB_PASS") && !key_looks_secret("PASS_FILE"));
    }

    fn values(entries: &[(&str, Option<&str>, bool)]) -> Values {
        let mut values = Values::default();
        for (key, value, secret) in entries {
            values.insert(
                key.to_string(),
                Setting::new(value.map(str::to_owned), Origin::Line(1), *secret, true),
            );
        }
        values
    }

    #[test]
    fn changes_list_added_removed_and_modified_keys() {
        let before = values(&[
            ("A", Some("1"), false),
            ("B", Some("2"), false),
            ("C", Some("3"), false),
        ]);
        let after = values(&[
            ("B", Some("2"), false),
            ("C", Some("4"), false),
            ("D", Some("5"), false),
        ]);
        let changes = after.changes_since(&before);
        let summary: Vec<_> = changes
            .iter()
            .map(|c| (c.key.as_str(), c.old.as_deref(), c.new.as_deref()))
            .collect();
        assert_eq!(
            summary,
            [
                ("A", Some("1"), None),
                ("C", Some("3"), Some("4")),
                ("D", None, Some("5"))
            ]
        );
    }

    #[test]
    fn secret_changes_are_reported_with_redacted_values() {
        let before = values(&[("HELIUS_RPC_URL", Some("https://a/?api-key=one"), true)]);
        let after = values(&[("HELIUS_RPC_URL", Some("https://a/?api-key=two"), true)]);
        let changes = after.changes_since(&before);
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].old.as_deref(), Some(REDACTED));
        assert!(!format!("{changes:?}{before:?}").contains("one"));
    }

    #[test]
    fn credential_looking_keys_and_urls_are_redacted_even_when_not_marked() {
        let values = values(&[
            ("SOME_API_KEY", Some("abc"), false),
            ("AUTH_TOKEN", Some("abc"), false),
            ("PUBLIC_RPC_URL", Some("https://h/?token=abc"), false),
            ("MIN_EDGE_SCORE", Some("60"), false),
        ]);
        let shown = |key| values.get(key).and_then(|s| s.shown()).map(Cow::into_owned);
        assert_eq!(shown("SOME_API_KEY").as_deref(), Some(REDACTED));
        assert_eq!(shown("AUTH_TOKEN").as_deref(), Some(REDACTED));
        assert_eq!(
            shown("PUBLIC_RPC_URL").as_deref(),
            Some("https://h/?token=[redacted]")
        );
        assert_eq!(shown("MIN_EDGE_SCORE").as_deref(), Some("60"));
        assert!(!format!("{values:?}").contains("abc"));
    }

    #[test]
    fn a_credential_changed_inside_a_shown_url_is_a_change() {
        let before = values(&[("PUBLIC_RPC_URL", Some("https://h/?token=one"), false)]);
        let after = values(&[("PUBLIC_RPC_URL", Some("https://h/?token=two"), false)]);
        let changes = after.changes_since(&before);
        assert_eq!(changes.len(), 1);
        assert!(changes[0].secret);
        assert_eq!(
            changes[0].new.as_deref(),
            Some("https://h/?token=[redacted]")
        );
    }

    #[test]
    fn malformed_urls_are_redacted_too() {
        let shown = |value| show(value, false).into_owned();
        assert_eq!(
            shown("https://[nd-1.example.com/?api-key=abc&cluster=main#token=def"),
            "https://[nd-1.example.com/?api-key=[redacted]&cluster=main#token=[redacted]"
        );
        assert_eq!(
            shown("https://user:p@ss@[host/path?x=1"),
            "https://user:[redacted]@[host/path?x=1"
        );
        assert_eq!(shown("https://[host/?a=1&b"), "https://[host/?a=1&b");
    }

    #[test]
    fn unchanged_values_give_no_changes() {
        let before = values(&[("A", Some("1"), false)]);
        assert!(before.clone().changes_since(&before).is_empty());
    }
}
