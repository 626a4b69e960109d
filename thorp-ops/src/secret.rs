//! Values that must never be printed: the [`Secret`] wrapper and URL redaction.
//!
//! Redaction is done by types, not by discipline: a `Secret<T>` has no `Display`, its `Debug`
//! prints a placeholder, and its `Serialize` writes the placeholder too, so a
//! `#[derive(Debug)]` on a config struct cannot leak the value. URLs are the other common
//! leak (Solana RPC providers put the API key in the query string), so [`redact_url`]
//! masks passwords and API-key-like query parameters wherever a URL is shown.

use std::fmt;
use url::Url;

/// What every redacted value is shown as.
pub const REDACTED: &str = "[redacted]";

/// A value that is never printed: `Debug` and `Serialize` show [`REDACTED`], there is no
/// `Display`, and the value is reached only through [`Secret::expose`].
///
/// ```
/// use thorp_ops::Secret;
///
/// let key = Secret::new(String::from("hunter2"));
/// assert_eq!(format!("{key:?}"), "[redacted]");
/// assert_eq!(key.expose(), "hunter2");
/// ```
///
/// Equality compares the values (config change detection needs it); it is not constant-time,
/// so do not use it to check credentials presented by a client.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    /// Wraps `value`.
    pub const fn new(value: T) -> Self {
        Self(value)
    }

    /// The value itself. Call it where the value is used, never where it is shown.
    pub const fn expose(&self) -> &T {
        &self.0
    }

    /// Unwraps the value.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> From<T> for Secret<T> {
    fn from(value: T) -> Self {
        Self(value)
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl<T> serde::Serialize for Secret<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(REDACTED)
    }
}

/// Whether a query parameter named `name` carries a credential.
///
/// Names are compared without case, `-` and `_`, so `api-key`, `api_key`, `apiKey` and
/// `X-Api-Key` all match. Anything ending in `key`, `token`, `secret`, `password` or
/// `signature` counts: redacting a harmless parameter costs nothing, missing a key costs money.
pub fn is_sensitive_param(name: &str) -> bool {
    names_credential(name, true)
}

/// Whether `name`, compared as [`is_sensitive_param`] does, is a credential's name itself
/// (`pass`, `PWD`, `auth`), leaving out names that only end like one.
pub(crate) fn is_credential_word(name: &str) -> bool {
    names_credential(name, false)
}

fn names_credential(name: &str, or_ends_like_one: bool) -> bool {
    // Every key of every load passes through here (twice), so nothing is allocated, and most
    // of the name is never looked at: the words are at most `TAIL` letters long, so a name
    // matches one by its last `TAIL` letters (normalized) and by whether it has more. Names
    // are nearly always ASCII, which needs no Unicode case tables; the rest take the same
    // comparisons by `char`.
    if name.is_ascii() {
        let mut tail = [0_u8; TAIL];
        let mut len = 0;
        let mut longer = false;
        for byte in name.bytes().rev() {
            if matches!(byte, b'-' | b'_' | b'.') {
                continue;
            }
            if len == TAIL {
                longer = true;
                break;
            }
            len += 1;
            if let Some(slot) = tail.get_mut(TAIL - len) {
                *slot = byte.to_ascii_lowercase();
            }
        }
        let tail = tail.get(TAIL - len..).unwrap_or_default();
        return (!longer && EXACT.iter().any(|word| tail == word.as_bytes()))
            || (or_ends_like_one
                && SUFFIXES
                    .iter()
                    .any(|suffix| tail.ends_with(suffix.as_bytes())));
    }
    let normalized = || {
        name.chars()
            .filter(|c| !matches!(c, '-' | '_' | '.'))
            .flat_map(char::to_lowercase)
    };
    let ends_with = |suffix: &str| {
        let mut tail = normalized().rev();
        suffix.chars().rev().all(|c| tail.next() == Some(c))
    };
    EXACT.iter().any(|word| normalized().eq(word.chars()))
        || (or_ends_like_one && SUFFIXES.iter().any(|suffix| ends_with(suffix)))
}

/// Parameter names (normalized) that are credentials themselves.
const EXACT: [&str; 6] = ["auth", "sig", "pass", "pwd", "credential", "credentials"];
/// Endings (normalized) of parameter names that carry credentials.
const SUFFIXES: [&str; 5] = ["key", "token", "secret", "password", "signature"];
/// The longest of [`EXACT`] and [`SUFFIXES`].
const TAIL: usize = 11;

const _: () = {
    let mut i = 0;
    while i < EXACT.len() {
        assert!(EXACT[i].len() <= TAIL);
        i += 1;
    }
    let mut i = 0;
    while i < SUFFIXES.len() {
        assert!(SUFFIXES[i].len() <= TAIL);
        i += 1;
    }
};

/// Whether showing `url` as-is would reveal a password or an API-key-like query parameter.
pub fn url_has_credentials(url: &Url) -> bool {
    url.password().is_some() || url.query_pairs().any(|(name, _)| is_sensitive_param(&name))
}

/// `url` as text with its password and the values of API-key-like query parameters replaced
/// by [`REDACTED`]; other parts are kept so an operator can still tell endpoints apart.
///
/// ```
/// let url = url::Url::parse("https://user:pw@rpc.example.com/?api-key=abc&cluster=main").unwrap();
/// assert_eq!(
///     thorp_ops::secret::redact_url(&url),
///     "https://user:[redacted]@rpc.example.com/?api-key=[redacted]&cluster=main"
/// );
/// ```
pub fn redact_url(url: &Url) -> String {
    if !url_has_credentials(url) {
        return url.as_str().to_owned();
    }
    let mut shown = url.clone();
    if shown.password().is_some() {
        // Only fails for URLs that cannot have a password, and this one has one.
        let _ = shown.set_password(Some("REDACTEDPASSWORD"));
    }
    if url.query().is_some() {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(name, value)| {
                let value = if is_sensitive_param(&name) {
                    "REDACTEDVALUE".to_owned()
                } else {
                    value.into_owned()
                };
                (name.into_owned(), value)
            })
            .collect();
        shown.query_pairs_mut().clear().extend_pairs(pairs);
    }
    // The markers are plain letters so URL encoding leaves them alone; swap in the visible form.
    shown
        .as_str()
        .replace("REDACTEDPASSWORD", REDACTED)
        .replace("REDACTEDVALUE", REDACTED)
}

/// Text that may hold a URL, with any credentials in it redacted. Input that does not parse as
/// an absolute URL, or has no credentials, is returned as written (not normalized, so an
/// error still shows the value the way the file has it).
pub fn redact_url_str(text: &str) -> String {
    match Url::parse(text) {
        Ok(url) if url_has_credentials(&url) => redact_url(&url),
        _ => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        match Url::parse(text) {
            Ok(url) => url,
            Err(error) => panic!("test url {text}: {error}"),
        }
    }

    #[test]
    fn debug_and_serialize_never_show_the_value() {
        let secret = Secret::new("hunter2".to_owned());
        assert_eq!(format!("{secret:?}"), REDACTED);
        assert_eq!(format!("{:?}", Some(&secret)), "Some([redacted])");
        let json = serde_json::to_string(&secret).unwrap_or_default();
        assert_eq!(json, "\"[redacted]\"");
    }

    #[test]
    fn sensitive_param_matching_equals_normalizing_the_name_first() {
        // The allocating definition the char-by-char matcher replaced.
        fn reference(name: &str) -> bool {
            let normalized: String = name
                .chars()
                .filter(|c| !matches!(c, '-' | '_' | '.'))
                .flat_map(char::to_lowercase)
                .collect();
            ["auth", "sig", "pass", "pwd", "credential", "credentials"]
                .contains(&normalized.as_str())
                || ["key", "token", "secret", "password", "signature"]
                    .iter()
                    .any(|suffix| normalized.ends_with(suffix))
        }
        for name in [
            "",
            "k",
            "ey",
            "KEY",
            "x.api-KEY",
            "ke_y",
            "keys",
            "P_W_D",
            "pwds",
            "SIG",
            "xsig",
            "Credentials",
            "credential_",
            "SIGNATURE",
            "ßtoken",
            "İKEY",
            "TOKEN_İ",
            "pass.word",
            "MIN_EDGE_SCORE",
            "HELIUS_RPC_URL",
            "ALERT_WEBHOOK_URL",
            "monkey",
            "A_VERY_LONG_NAME_THAT_IS_LONGER_THAN_SIXTY_FOUR_BYTES_AND_ENDS_WITH_KEY",
        ] {
            assert_eq!(is_sensitive_param(name), reference(name), "{name:?}");
        }
    }

    #[test]
    fn sensitive_param_names_match_without_case_or_separators() {
        for name in [
            "api-key",
            "apikey",
            "API_KEY",
            "apiKey",
            "x-api-key",
            "token",
            "access_token",
            "key",
            "auth",
            "client_secret",
        ] {
            assert!(is_sensitive_param(name), "{name} should be sensitive");
        }
        for name in ["cluster", "commitment", "limit", "id"] {
            assert!(!is_sensitive_param(name), "{name} should not be sensitive");
        }
    }

    #[test]
    fn redact_url_masks_query_keys_and_passwords_only() {
        assert_eq!(
            redact_url(&url("https://mainnet.helius-rpc.com/?api-key=test123")),
            "https://mainnet.helius-rpc.com/?api-key=[redacted]"
        );
        assert_eq!(
            redact_url(&url("https://u:p@h.example/x")),
            "https://u:[redacted]@h.example/x"
        );
        assert_eq!(
            redact_url(&url("https://h.example/?a=1&b=2")),
            "https://h.example/?a=1&b=2"
        );
    }

    #[test]
    fn redact_url_str_leaves_non_urls_alone() {
        assert_eq!(redact_url_str("not a url"), "not a url");
        assert_eq!(redact_url_str("HTTPS://H.example"), "HTTPS://H.example");
        assert_eq!(
            redact_url_str("http://127.0.0.1:8899/?token=abc"),
            "http://127.0.0.1:8899/?token=[redacted]"
        );
    }
}
