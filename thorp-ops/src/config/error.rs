//! Errors of loading a config: each names the file, line, key and (redacted) value at fault.

use std::fmt;
use std::io;
use std::path::Path;
use std::sync::Arc;

/// One problem found while loading a config file.
///
/// Displays as `trading.env:7: RPC_DEFAULT_TIMEOUT_MS: "not_a_number" is not an integer
/// (expected 100..=60000)`; parts that do not apply (no line for a missing key, no key for an
/// unreadable file) are left out. A secret value is shown as `[redacted]`.
#[derive(Debug)]
#[non_exhaustive]
pub struct ConfigError {
    /// The file, when the config came from one.
    pub file: Option<Arc<Path>>,
    /// 1-based line of the offending entry.
    pub line: Option<u32>,
    /// 1-based column, for syntax errors.
    pub column: Option<u32>,
    /// The key at fault.
    pub key: Option<String>,
    /// The offending value as it may be shown: quoted, or `[redacted]` when secret.
    pub value: Option<String>,
    /// What is wrong.
    pub kind: ErrorKind,
}

/// What is wrong, without the where: see [`ConfigError`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The file could not be read.
    #[error("cannot read the config file: {0}")]
    Io(#[source] io::Error),
    /// The file is not valid `.env` text.
    #[error("{0}")]
    Syntax(String),
    /// A required key is not set.
    #[error("is required but not set{}", doc_suffix(.doc))]
    Missing {
        /// The key's doc comment, to say what it is for.
        doc: &'static str,
    },
    /// The value does not parse or breaks a rule.
    #[error("{message}{}", expected_suffix(.expected))]
    Invalid {
        /// Why, as a predicate: `is not an integer`.
        message: String,
        /// What would have been accepted: `100..=60000`.
        expected: String,
    },
    /// A `validate` hook refused the whole config.
    #[error("{0}")]
    Rejected(String),
    /// Two flattened structs declare the same key.
    #[error("is declared twice in the config schema ({0})")]
    DuplicateKey(String),
    /// A component's veto refused the new config.
    #[error("rejected by component {component}: {reason}")]
    Vetoed {
        /// The component that refused.
        component: String,
        /// Its reason.
        reason: String,
    },
}

fn expected_suffix(expected: &str) -> String {
    if expected.is_empty() {
        String::new()
    } else {
        format!(" (expected {expected})")
    }
}

fn doc_suffix(doc: &str) -> String {
    if doc.is_empty() {
        String::new()
    } else {
        format!(" ({doc})")
    }
}

impl ConfigError {
    /// An error of `kind` with no position yet.
    pub fn new(kind: ErrorKind) -> Self {
        Self {
            file: None,
            line: None,
            column: None,
            key: None,
            value: None,
            kind,
        }
    }

    /// Sets the key at fault.
    pub fn with_key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// Sets the line (and column) at fault.
    pub fn at(mut self, line: u32, column: Option<u32>) -> Self {
        self.line = Some(line);
        self.column = column;
        self
    }

    /// Sets the value as shown: quoted, or redacted when `secret`; credentials in a URL (even
    /// one that does not parse) are redacted either way.
    pub fn with_value(mut self, value: &str, secret: bool) -> Self {
        self.value = Some(if secret {
            crate::secret::REDACTED.to_owned()
        } else {
            format!("{:?}", super::values::show(value, false))
        });
        self
    }

    /// Sets the file the error was found in.
    pub fn in_file(mut self, file: Arc<Path>) -> Self {
        self.file = Some(file);
        self
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut located = false;
        if let Some(file) = &self.file {
            write!(f, "{}", file.display())?;
            located = true;
        }
        if let Some(line) = self.line {
            if located {
                f.write_str(":")?;
            }
            write!(f, "{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
            located = true;
        }
        if located {
            f.write_str(": ")?;
        }
        if let Some(key) = &self.key {
            write!(f, "{key}: ")?;
        }
        if let Some(value) = &self.value {
            write!(f, "{value} ")?;
        }
        write!(f, "{}", self.kind)
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            ErrorKind::Io(error) => Some(error),
            _ => None,
        }
    }
}

/// Every problem found in one load, in file order. Loading never stops at the first.
#[derive(Debug)]
pub struct ConfigErrors(Vec<ConfigError>);

impl ConfigErrors {
    /// Wraps the problems, sorting them by line (unlocated ones first).
    pub fn new(mut errors: Vec<ConfigError>) -> Self {
        errors.sort_by_key(|error| error.line);
        Self(errors)
    }

    /// A single problem.
    pub fn one(error: ConfigError) -> Self {
        Self(vec![error])
    }

    /// The problems, in file order.
    pub fn errors(&self) -> &[ConfigError] {
        &self.0
    }

    /// Sets the file on every problem.
    pub fn in_file(self, file: &Arc<Path>) -> Self {
        Self(
            self.0
                .into_iter()
                .map(|error| error.in_file(file.clone()))
                .collect(),
        )
    }
}

impl IntoIterator for ConfigErrors {
    type Item = ConfigError;
    type IntoIter = std::vec::IntoIter<ConfigError>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, error) in self.0.iter().enumerate() {
            if index > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_matches_the_documented_shape() {
        let error = ConfigError::new(ErrorKind::Invalid {
            message: "is not an integer".into(),
            expected: "100..=60000".into(),
        })
        .with_key("RPC_DEFAULT_TIMEOUT_MS")
        .at(7, None)
        .with_value("not_a_number", false)
        .in_file(Arc::from(Path::new("trading.env")));
        assert_eq!(
            error.to_string(),
            r#"trading.env:7: RPC_DEFAULT_TIMEOUT_MS: "not_a_number" is not an integer (expected 100..=60000)"#
        );
    }

    #[test]
    fn secret_values_are_redacted_in_display() {
        let error = ConfigError::new(ErrorKind::Invalid {
            message: "is not a URL".into(),
            expected: "a URL".into(),
        })
        .with_key("HELIUS_RPC_URL")
        .with_value("hunter2", true);
        assert_eq!(
            error.to_string(),
            "HELIUS_RPC_URL: [redacted] is not a URL (expected a URL)"
        );
    }

    #[test]
    fn credentials_in_a_bad_url_are_redacted_in_display() {
        let error = ConfigError::new(ErrorKind::Invalid {
            message: "is not a URL".into(),
            expected: "a URL".into(),
        })
        .with_key("PUBLIC_RPC_URL")
        .with_value("https://[host/?api-key=hunter2", false);
        assert_eq!(
            error.to_string(),
            r#"PUBLIC_RPC_URL: "https://[host/?api-key=[redacted]" is not a URL (expected a URL)"#
        );
    }

    #[test]
    fn url_credentials_are_redacted_in_display() {
        let error = ConfigError::new(ErrorKind::Invalid {
            message: "has scheme ftp".into(),
            expected: "an absolute URL with scheme https".into(),
        })
        .with_key("PUBLIC_RPC_URL")
        .with_value("ftp://u:pw@h.example/?api-key=hunter2&cluster=main", false);
        assert_eq!(
            error.value.as_deref(),
            Some(r#""ftp://u:[redacted]@h.example/?api-key=[redacted]&cluster=main""#)
        );
    }

    #[test]
    fn missing_key_names_its_doc() {
        let error = ConfigError::new(ErrorKind::Missing {
            doc: "Primary endpoint",
        })
        .with_key("HELIUS_RPC_URL");
        assert_eq!(
            error.to_string(),
            "HELIUS_RPC_URL: is required but not set (Primary endpoint)"
        );
    }

    #[test]
    fn errors_are_listed_in_line_order() {
        let errors = ConfigErrors::new(vec![
            ConfigError::new(ErrorKind::Rejected("b".into())).at(9, None),
            ConfigError::new(ErrorKind::Rejected("a".into())).at(2, None),
        ]);
        assert_eq!(errors.to_string(), "2: a\n9: b");
    }
}
