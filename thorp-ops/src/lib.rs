//! Production operations for latency-sensitive services.

pub mod envfile;
