//! The `trading-node` command line, parsed by hand.
//!
//! Six flags and no subcommands: a parser crate (`lexopt`, `pico-args`) would save a few lines
//! of matching but not the checks that matter here (combinations, value syntax, one-line
//! messages), and each dependency is one more thing to audit in a service binary. Paths stay
//! `OsString`s, so a config path need not be UTF-8.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::PathBuf;

use thorp_ops::config::parse_duration;
use tokio::time::Duration;

/// The config file used when `--config` is not given, relative to the working directory
/// (the repository root, where the README's command runs).
pub const DEFAULT_CONFIG: &str = "examples/trading-node.env";

/// The help text.
pub const USAGE: &str = "\
trading-node: the thorp-ops reference service (offline against an embedded RPC simulator
unless the config names real endpoints)

usage: trading-node [--config PATH] [--listen ADDR] [--run-for DURATION]
       trading-node [--config PATH] --check
       trading-node --print-template

  --config PATH        config file, watched and hot-reloaded (default examples/trading-node.env)
  --listen ADDR        address of the ops endpoints, instead of OPS_LISTEN (e.g. 127.0.0.1:8787)
  --run-for DURATION   stop by itself after DURATION (500ms, 30s, 5m, 1h)
  --check              validate the config file: exit 0, or 1 with every problem listed
  --print-template     print a commented config file with every key and its default
  -h, --help           print this help
  -V, --version        print the version

SIGINT or SIGTERM stops the node gracefully within SHUTDOWN_TIMEOUT_MS; a second one forces it.
";

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Run the node.
    Run(RunArgs),
    /// Validate a config file and exit.
    Check {
        /// The file.
        config: PathBuf,
    },
    /// Print the config template and exit.
    PrintTemplate,
    /// Print the help and exit.
    Help,
    /// Print the version and exit.
    Version,
}

/// The arguments of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunArgs {
    /// The config file.
    pub config: PathBuf,
    /// `--listen`, overriding `OPS_LISTEN`.
    pub listen: Option<SocketAddr>,
    /// `--run-for`.
    pub run_for: Option<Duration>,
}

/// A command line that cannot be run; the message is one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(String);

fn usage(message: impl Into<String>) -> UsageError {
    UsageError(message.into())
}

#[derive(Default)]
struct Seen {
    config: Option<PathBuf>,
    listen: Option<SocketAddr>,
    run_for: Option<Duration>,
    check: bool,
    print_template: bool,
}

/// Parses the arguments after the program name.
///
/// ```
/// use thorp_examples::trading::cli::{Command, parse};
///
/// let command = parse(["--config", "node.env", "--check"].map(Into::into)).unwrap();
/// assert_eq!(command, Command::Check { config: "node.env".into() });
/// assert!(parse(["--frobnicate".into()]).is_err());
/// ```
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Command, UsageError> {
    let mut seen = Seen::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let Some(text) = arg.to_str() else {
            return Err(usage(format!(
                "unexpected argument {arg:?} (flags are ASCII; see --help)"
            )));
        };
        // `--flag=value` and `--flag value` both work.
        let (flag, inline) = match text.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag, Some(OsString::from(value))),
            _ => (text, None),
        };
        let mut value = |name: &str| -> Result<OsString, UsageError> {
            match inline.clone().or_else(|| args.next()) {
                Some(value) if !value.is_empty() => Ok(value),
                _ => Err(usage(format!("{name} needs a value (see --help)"))),
            }
        };
        match flag {
            "-h" | "--help" => return Ok(Command::Help),
            "-V" | "--version" => return Ok(Command::Version),
            "--config" => {
                let path = PathBuf::from(value(flag)?);
                once(&mut seen.config, path, flag)?;
            }
            "--listen" => {
                let raw = value(flag)?;
                let addr = raw.to_str().and_then(|text| text.parse().ok()).ok_or_else(|| {
                    usage(format!(
                        "--listen: {raw:?} is not an address (expected IP:PORT, e.g. 127.0.0.1:8787)"
                    ))
                })?;
                once(&mut seen.listen, addr, flag)?;
            }
            "--run-for" => {
                let raw = value(flag)?;
                let duration = raw.to_str().and_then(parse_duration).ok_or_else(|| {
                    usage(format!(
                        "--run-for: {raw:?} is not a duration (expected a number with a unit: 500ms, 30s, 5m)"
                    ))
                })?;
                once(&mut seen.run_for, duration, flag)?;
            }
            "--check" | "--print-template" if inline.is_some() => {
                return Err(usage(format!("{flag} takes no value")));
            }
            "--check" => flag_once(&mut seen.check, flag)?,
            "--print-template" => flag_once(&mut seen.print_template, flag)?,
            _ if flag.starts_with('-') => {
                return Err(usage(format!("unknown flag {flag} (see --help)")));
            }
            _ => {
                return Err(usage(format!(
                    "unexpected argument {text:?} (the config file is given with --config)"
                )));
            }
        }
    }
    seen.into_command()
}

impl Seen {
    fn into_command(self) -> Result<Command, UsageError> {
        let run_only = [
            ("--listen", self.listen.is_some()),
            ("--run-for", self.run_for.is_some()),
        ];
        if self.print_template {
            let other = [("--config", self.config.is_some()), ("--check", self.check)]
                .into_iter()
                .chain(run_only)
                .find(|(_, given)| *given);
            if let Some((flag, _)) = other {
                return Err(usage(format!(
                    "--print-template takes no other flag, not {flag}"
                )));
            }
            return Ok(Command::PrintTemplate);
        }
        let config = self.config.unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG));
        if self.check {
            if let Some((flag, _)) = run_only.into_iter().find(|(_, given)| *given) {
                return Err(usage(format!("--check only takes --config, not {flag}")));
            }
            return Ok(Command::Check { config });
        }
        Ok(Command::Run(RunArgs {
            config,
            listen: self.listen,
            run_for: self.run_for,
        }))
    }
}

fn once<T>(slot: &mut Option<T>, value: T, flag: &str) -> Result<(), UsageError> {
    if slot.replace(value).is_some() {
        return Err(usage(format!("{flag} is given twice")));
    }
    Ok(())
}

fn flag_once(slot: &mut bool, flag: &str) -> Result<(), UsageError> {
    if std::mem::replace(slot, true) {
        return Err(usage(format!("{flag} is given twice")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<Command, UsageError> {
        parse(args.iter().map(OsString::from))
    }

    fn error(args: &[&str]) -> String {
        run(args).unwrap_err().to_string()
    }

    #[test]
    fn no_flags_runs_the_default_config() {
        assert_eq!(
            run(&[]).unwrap(),
            Command::Run(RunArgs {
                config: DEFAULT_CONFIG.into(),
                listen: None,
                run_for: None
            })
        );
    }

    #[test]
    fn values_come_inline_or_as_the_next_argument() {
        let expected = Command::Run(RunArgs {
            config: "a.env".into(),
            listen: Some("127.0.0.1:0".parse().unwrap()),
            run_for: Some(Duration::from_millis(1_500)),
        });
        assert_eq!(
            run(&[
                "--config",
                "a.env",
                "--listen",
                "127.0.0.1:0",
                "--run-for",
                "1s500ms"
            ])
            .unwrap(),
            expected
        );
        assert_eq!(
            run(&[
                "--config=a.env",
                "--listen=127.0.0.1:0",
                "--run-for=1s500ms"
            ])
            .unwrap(),
            expected
        );
    }

    #[test]
    fn check_and_template_modes() {
        assert_eq!(
            run(&["--check"]).unwrap(),
            Command::Check {
                config: DEFAULT_CONFIG.into()
            }
        );
        assert_eq!(run(&["--print-template"]).unwrap(), Command::PrintTemplate);
        assert_eq!(run(&["--check", "-h"]).unwrap(), Command::Help);
        assert_eq!(run(&["-V"]).unwrap(), Command::Version);
    }

    #[test]
    fn every_mistake_is_one_line_naming_the_flag() {
        let cases = [
            (&["--frobnicate"][..], "unknown flag --frobnicate"),
            (&["node.env"], "unexpected argument \"node.env\""),
            (&["--config"], "--config needs a value"),
            (&["--config="], "--config needs a value"),
            (
                &["--listen", "localhost"],
                "--listen: \"localhost\" is not an address",
            ),
            (&["--run-for", "30"], "--run-for: \"30\" is not a duration"),
            (
                &["--config", "a", "--config", "b"],
                "--config is given twice",
            ),
            (&["--check", "--check"], "--check is given twice"),
            (&["--check=yes"], "--check takes no value"),
            (
                &["--check", "--run-for", "1s"],
                "--check only takes --config, not --run-for",
            ),
            (
                &["--print-template", "--check"],
                "--print-template takes no other flag, not --check",
            ),
        ];
        for (args, expected) in cases {
            let message = error(args);
            assert!(message.starts_with(expected), "{args:?}: {message}");
            assert!(!message.contains('\n'), "{args:?}: {message}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_paths_are_kept() {
        use std::os::unix::ffi::OsStringExt;
        let path = OsString::from_vec(b"caf\xe9.env".to_vec());
        let command = parse([OsString::from("--config"), path.clone()]).unwrap();
        let Command::Run(args) = command else {
            panic!("{command:?}")
        };
        assert_eq!(args.config, PathBuf::from(path));
    }
}
