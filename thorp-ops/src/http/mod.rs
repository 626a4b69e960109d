//! Ops endpoints over HTTP (feature `http`): health, probes, Prometheus metrics, the config
//! view and history, alerts and a dashboard.
//!
//! The router only reads what the monitor and the reload pipeline have already published: no
//! request runs a check or a reload, so a scrape storm cannot turn into a check storm. Mount
//! [`OpsRouter::router`] in your own axum server, or [`serve`] it standalone; it
//! binds where you say, and the examples bind 127.0.0.1.

mod router;

pub use router::{OpsRouter, serve};
