//! Compile-time checks of `#[derive(HotConfig)]`: every mistake is a `compile_fail` case with
//! its reviewed `.stderr`, and every `pass` case compiles warning-free.
//!
//! Recorded on rustc 1.95.0 (59807616e 2026-04-14), the only toolchain on the build machine;
//! another toolchain may word or place diagnostics differently. Re-record with
//! `TRYBUILD=overwrite cargo test -p thorp-tests --test hot_config_ui` and read every diff.

#[test]
fn hot_config_ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/hot_config/*.rs");
    cases.pass("tests/ui/hot_config/pass/*.rs");
}
