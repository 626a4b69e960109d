//! Watches a config file with the seed's schema and prints one JSON line per reload attempt.
//!
//! `cargo run -p thorp-examples --example hot_reload -- PATH [--once]`
//!
//! Prints the effective config (secrets redacted) to stderr, then on stdout one line per event:
//! `{"event":"applied","version":N,"changed":["KEY",...]}` or
//! `{"event":"rejected","errors":[{"line":L,"key":"K","message":"..."}]}`. A bad file at start
//! prints every error and exits 1; Ctrl-C ends it cleanly. `--once` exits after loading.

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a command-line program: stdout and stderr are its interface"
)]

use serde_json::json;
use std::process::ExitCode;
use thorp_examples::seed::SeedConfig;
use thorp_ops::config::{HotReload, Outcome, ReloadOptions, ReloadRecord};

#[tokio::main]
async fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: hot_reload PATH [--once]");
        return ExitCode::from(2);
    };
    let once = args.any(|arg| arg == "--once");
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();

    let config = match HotReload::<SeedConfig>::start(&path, ReloadOptions::default()).await {
        Ok(config) => config,
        Err(errors) => {
            for error in errors.errors() {
                eprintln!("{error}");
            }
            return ExitCode::FAILURE;
        }
    };
    for (key, setting) in config.current().values().iter() {
        match setting.shown() {
            Some(value) => eprintln!("{key}={value}"),
            None => eprintln!("# {key} is not set"),
        }
    }
    if once {
        return ExitCode::SUCCESS;
    }

    let mut events = config.events();
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            event = events.recv() => match event {
                Ok(record) => println!("{}", event_line(&record)),
                Err(tokio::sync::broadcast::error::RecvError::Lagged(missed)) => {
                    eprintln!("note: {missed} reload events were not shown");
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            },
        }
    }
    ExitCode::SUCCESS
}

fn event_line(record: &ReloadRecord) -> serde_json::Value {
    match record.outcome {
        Outcome::Applied => json!({
            "event": "applied",
            "version": record.version,
            "changed": record.changes.iter().map(|change| &change.key).collect::<Vec<_>>(),
        }),
        Outcome::Rejected => json!({
            "event": "rejected",
            "errors": record.errors.iter().map(|error| json!({
                "line": error.line,
                "key": error.key,
                "message": error.message,
            })).collect::<Vec<_>>(),
        }),
        _ => json!({ "event": "unchanged", "version": record.version }),
    }
}
