//! One module per figure of the benchmark issue; each returns its rows (and notes).

pub mod contended;
pub mod endpoints;
pub mod health;
pub mod parse;
pub mod read;
pub mod reload;
