//! `thorp-bench`: every figure in one run, as one table or (`--json`) one JSON document.
//!
//! ```text
//! cargo run --release -p thorp-bench [-- --quick | --smoke] [--json]
//! ```

use std::process::ExitCode;
use thorp_bench::plan::Plan;

const USAGE: &str = "usage: thorp-bench [--quick | --smoke] [--json]
  (no flag)  the full run, about two minutes on 2 cores: the recorded figures
  --quick    a shorter run, about fifteen seconds; tails are less stable
  --smoke    a few milliseconds per figure, to check the program runs; figures mean nothing
  --json     print one JSON document instead of the table";

#[allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "the report and the progress lines are this program's output"
)]
fn main() -> ExitCode {
    let mut plan = Plan::full();
    let mut json = false;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--quick" => plan = Plan::quick(),
            "--smoke" => plan = Plan::smoke(),
            "--json" => json = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("thorp-bench: unknown argument {other:?}\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    if cfg!(debug_assertions) && plan.name != "smoke" {
        eprintln!(
            "thorp-bench: this is a debug build; its figures are not worth reading (add --release)"
        );
    }
    let report = thorp_bench::run(&plan, |figure| eprintln!("thorp-bench: {figure}"));
    if json {
        println!("{}", report.to_json());
    } else {
        print!("{}", report.to_table());
    }
    ExitCode::SUCCESS
}
