//! Loads a config file with the seed's schema and prints the effective config, secrets redacted.
//!
//! `cargo run -p thorp-examples --example hot_reload -- PATH`; a bad file prints every error
//! and exits 1.

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a command-line program: its output is the effective config and its errors"
)]

use std::process::ExitCode;
use thorp_examples::seed::SeedConfig;

fn main() -> ExitCode {
    let Some(path) = std::env::args_os().nth(1) else {
        eprintln!("usage: hot_reload PATH");
        return ExitCode::from(2);
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) => {
            eprintln!("{}: {error}", std::path::Path::new(&path).display());
            return ExitCode::from(2);
        }
    };
    match thorp_ops::config::load_str::<SeedConfig>(&text) {
        Ok(loaded) => {
            for warning in &loaded.warnings {
                eprintln!("warning: {warning}");
            }
            for (key, setting) in loaded.values.iter() {
                match setting.shown() {
                    Some(value) => println!("{key}={value}"),
                    None => println!("# {key} is not set"),
                }
            }
            ExitCode::SUCCESS
        }
        Err(errors) => {
            for error in errors.errors() {
                eprintln!("{error}");
            }
            ExitCode::FAILURE
        }
    }
}
