//! Integration tests for thorp-ops live in `tests/`; this library holds shared support code.
