//! Compile-time errors of `#[health_component]`: each `ui/health/*.rs` holds one mistake (or,
//! in `every_error_at_once.rs`, many reported together) and its `.stderr` the reviewed output.
//! Record with `TRYBUILD=overwrite`, then read every diff.

#[test]
fn health_component_ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/health/pass_*.rs");
    t.compile_fail("tests/ui/health/[!p]*.rs");
}
