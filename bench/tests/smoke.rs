//! The bench program runs end to end: the smoke plan (a few milliseconds per figure) through the
//! real binary, as a table and as JSON. Figures are not asserted, only that every figure is
//! there and every value is a number: timings on a shared CI machine prove nothing.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails loudly at the first broken step"
)]

use std::process::{Command, Output};

fn bench(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_thorp-bench"))
        .args(args)
        .output()
        .expect("thorp-bench runs")
}

#[test]
fn the_smoke_plan_reports_every_figure_as_json() {
    let output = bench(&["--smoke", "--json"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("one JSON document");
    assert_eq!(report["plan"], "smoke");
    assert!(report["machine"]["cpus"].as_u64().unwrap() >= 1);
    let rows = report["rows"].as_array().expect("rows");
    for figure in 1..=6 {
        assert!(
            rows.iter().any(|row| row["figure"] == figure),
            "figure {figure} has no row"
        );
    }
    for row in rows {
        let value = row["ours"]["value"].as_f64().expect("a number for ours");
        assert!(value.is_finite() && value >= 0.0, "{row}");
        for alternative in row["alternatives"].as_array().unwrap() {
            assert!(alternative["value"].as_f64().unwrap().is_finite(), "{row}");
        }
        if !row["goal"].is_null() {
            assert!(row["goal"]["met"].is_boolean(), "{row}");
        }
    }
    // Every figure carries at least one of the goals.
    for figure in 1..=6 {
        assert!(
            rows.iter()
                .any(|row| row["figure"] == figure && !row["goal"].is_null()),
            "figure {figure} has no goal"
        );
    }
}

#[test]
fn the_table_ends_with_the_goals_count() {
    let output = bench(&["--smoke"]);
    assert!(output.status.success());
    let table = String::from_utf8(output.stdout).unwrap();
    assert!(table.starts_with("thorp-bench (smoke plan)"), "{table}");
    assert!(table.contains("goals met: "), "{table}");
}

#[test]
fn unknown_arguments_are_refused_with_the_usage() {
    let output = bench(&["--fast"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("usage: thorp-bench"));
}
