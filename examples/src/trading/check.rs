//! `trading-node --check`: every problem of a config file, one per line, like `nginx -t`.
//!
//! A file passes when it loads (every key typed, every bound and cross-key rule met) and every
//! component accepts the settings it converts to. Problems read `PATH:LINE: KEY: message`
//! (parts that do not apply are left out: a missing file has no line, a component rule no key
//! of its own). Values are shown only where the loader shows them: secret keys as
//! `[redacted]`, URLs without their credentials.
//!
//! A rule across keys (`MIN_MARKET_CAP_USD` at most `MAX_MARKET_CAP_USD`) is checked once every
//! key of its section is valid: it cannot compare a value that did not parse.

use std::path::Path;

use thorp_ops::HotConfig;
use thorp_ops::config::{ConfigWarning, ErrorKind, load_file};
use thorp_ops::envfile::{self, ParseOptions};

use super::config::{NodeConfig, Upstream};

/// What checking a file found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckReport {
    /// Problems that make the file unusable, in file order.
    pub errors: Vec<String>,
    /// Problems that do not (an unknown key, a key set twice).
    pub warnings: Vec<String>,
    /// The file could not be read at all (missing, unreadable): a usage problem rather than
    /// a content one, so the caller can exit 2 instead of 1.
    pub unreadable: bool,
    /// Where RPC requests would go, for a file that passes.
    pub upstream: Option<Upstream>,
}

impl CheckReport {
    /// Whether the file can be run.
    pub fn passed(&self) -> bool {
        self.errors.is_empty()
    }
}

/// Checks the config file at `path`. Blocking: reads the file.
pub fn check_file(path: &Path) -> CheckReport {
    let shown = path.display();
    let loaded = match load_file::<NodeConfig>(path) {
        Ok(loaded) => loaded,
        Err(errors) => {
            let unreadable = errors
                .errors()
                .iter()
                .any(|error| matches!(error.kind, ErrorKind::Io(_)));
            return CheckReport {
                errors: errors.errors().iter().map(ToString::to_string).collect(),
                // The loader reports unknown keys only for a file that loads; a typo in a key
                // name is worth knowing most when the file does not.
                warnings: if unreadable {
                    Vec::new()
                } else {
                    unknown_keys(path)
                },
                unreadable,
                upstream: None,
            };
        }
    };
    let warnings = loaded
        .warnings
        .iter()
        .map(|warning| match warning {
            // `7: KEY: unknown key`, so with the file in front it reads like an error line.
            ConfigWarning::UnknownKey { .. } => format!("{shown}:{warning}"),
            _ => format!("{shown}: {warning}"),
        })
        .collect();
    let upstream = loaded.config.planned_upstream();
    let errors: Vec<String> = loaded
        .config
        .settings_problems(&loaded.values, &upstream)
        .iter()
        .map(|problem| format!("{shown}: {problem}"))
        .collect();
    CheckReport {
        upstream: errors.is_empty().then_some(upstream),
        errors,
        warnings,
        unreadable: false,
    }
}

/// A one-line summary of a passing check, for people.
pub fn summary(path: &Path, report: &CheckReport) -> String {
    let upstream = match &report.upstream {
        Some(Upstream::Simulator(_)) => "the embedded RPC simulator",
        Some(Upstream::Configured) => "the configured RPC endpoints",
        None => "nothing",
    };
    format!(
        "{}: config ok; the node would run against {upstream}",
        path.display()
    )
}

/// The keys of the file at `path` that the schema does not accept (declared, or under an open
/// prefix), as the loader words them; empty if the file cannot be read or parsed (its errors
/// say why).
fn unknown_keys(path: &Path) -> Vec<String> {
    let Ok(bytes) = std::fs::read(path) else {
        return Vec::new();
    };
    let Ok(file) = envfile::parse_bytes(&bytes, &ParseOptions::new()) else {
        return Vec::new();
    };
    let schema = NodeConfig::SCHEMA;
    file.iter()
        .filter(|entry| !schema.accepts(&entry.key))
        .map(|entry| {
            let warning = ConfigWarning::UnknownKey {
                key: entry.key.clone(),
                line: entry.line,
                suggestion: schema.suggest(&entry.key),
            };
            format!("{}:{warning}", path.display())
        })
        .collect()
}
