//! Components and schemas shared by the runnable programs and the integration tests.

pub mod seed;
