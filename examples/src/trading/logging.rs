//! The process-wide tracing subscriber of `trading-node`, with a level that follows `LOG_LEVEL`.
//!
//! Log lines go to stderr, so stdout stays clean for what the program prints on purpose
//! (`--print-template`, `--check`). `RUST_LOG`, when set, wins over `LOG_LEVEL` for the whole
//! run: an operator who exported it for a debugging session expects it to hold, and a config
//! reload must not undo it.

use std::io::IsTerminal;

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Registry, fmt, reload};

use super::config::{LogFormat, LogLevel, LoggingConfig};

/// Dependencies whose debug output is about their own internals (connection pools, frames):
/// kept at `warn` whatever `LOG_LEVEL` says; `RUST_LOG` can still open them up.
const QUIET_DEPENDENCIES: &[&str] = &["hyper", "hyper_util", "h2", "reqwest", "rustls", "tower"];

/// Why the subscriber could not be installed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoggingError {
    /// Another subscriber is already the global default.
    #[error("a global tracing subscriber is already installed")]
    AlreadyInstalled(#[source] tracing_subscriber::util::TryInitError),
}

/// Changes the level of the installed subscriber while the program runs.
#[derive(Debug, Clone)]
pub struct LogControl {
    filter: reload::Handle<EnvFilter, Registry>,
    from_env: bool,
}

impl LogControl {
    /// Applies `level` from the config file, unless `RUST_LOG` set the filter.
    pub fn set_level(&self, level: LogLevel) {
        if self.from_env {
            tracing::info!(%level, "LOG_LEVEL changed; RUST_LOG is set and keeps precedence");
            return;
        }
        match self.filter.reload(filter_for(level)) {
            Ok(()) => tracing::info!(%level, "log level changed"),
            Err(error) => tracing::warn!(%error, %level, "log level not changed"),
        }
    }

    /// Whether `RUST_LOG` decides the filter (and `LOG_LEVEL` is ignored).
    pub fn from_env(&self) -> bool {
        self.from_env
    }
}

/// Installs the global subscriber: `RUST_LOG` if set and valid, else `config.level`, written
/// as `config.format` to stderr.
pub fn install(config: &LoggingConfig) -> Result<LogControl, LoggingError> {
    let env = std::env::var("RUST_LOG")
        .ok()
        .filter(|v| !v.trim().is_empty());
    let (filter, from_env, env_error) = match env.as_deref().map(EnvFilter::try_new) {
        Some(Ok(filter)) => (filter, true, None),
        Some(Err(error)) => (filter_for(config.level), false, Some(error)),
        None => (filter_for(config.level), false, None),
    };
    let (filter, handle) = reload::Layer::new(filter);
    // Colours only for a person at a terminal: journald, files and pipes get plain text.
    let ansi = std::io::stderr().is_terminal();
    // One of the two is `None`: an absent layer does nothing, and the types stay static.
    let (text, json) = match config.format {
        LogFormat::Text => (
            Some(fmt::layer().with_ansi(ansi).with_writer(std::io::stderr)),
            None,
        ),
        LogFormat::Json => (None, Some(fmt::layer().json().with_writer(std::io::stderr))),
    };
    tracing_subscriber::registry()
        .with(filter)
        .with(text)
        .with(json)
        .try_init()
        .map_err(LoggingError::AlreadyInstalled)?;
    if let Some(error) = env_error {
        tracing::warn!(%error, level = %config.level, "RUST_LOG is not a valid filter; using LOG_LEVEL");
    }
    Ok(LogControl {
        filter: handle,
        from_env,
    })
}

/// The filter for `level`: everything at `level`, chatty dependencies at `warn`.
fn filter_for(level: LogLevel) -> EnvFilter {
    let mut directives = level.to_string();
    for dependency in QUIET_DEPENDENCIES {
        directives.push_str(&format!(",{dependency}=warn"));
    }
    // Built from fixed names and a level, so it always parses; were it ever refused, logging
    // at the level alone beats not logging.
    EnvFilter::try_new(&directives).unwrap_or_else(|_| EnvFilter::new(level.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_level_makes_a_filter_that_quiets_dependencies() {
        for level in [
            LogLevel::Trace,
            LogLevel::Debug,
            LogLevel::Info,
            LogLevel::Warn,
            LogLevel::Error,
        ] {
            let filter = filter_for(level).to_string();
            assert!(filter.contains(&level.to_string()), "{filter}");
            assert!(filter.contains("hyper=warn"), "{filter}");
        }
    }
}
