//! Macros for `thorp-ops`. Use them through the `thorp-ops` crate, which re-exports them.

mod errors;
