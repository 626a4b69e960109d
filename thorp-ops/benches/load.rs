//! Criterion benches of loading a config: the 40-key file of `thorp-bench` parsed and validated
//! by ours and by `dotenvy` + `envy` with the same checks (figure 4), and the `.env` readers
//! alone.
//!
//! `cargo bench -p thorp-ops --bench load`.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use thorp_bench::workload::{BenchConfig, FILE, dotenvy_envy};
use thorp_ops::config::from_bytes;
use thorp_ops::envfile::{self, ParseOptions};

fn parse_and_validate(c: &mut Criterion) {
    let bytes = FILE.as_bytes();
    let mut group = c.benchmark_group("load_40_keys");
    group.bench_function("thorp_ops_from_bytes", |b| {
        b.iter(|| from_bytes::<BenchConfig>(black_box(bytes), None, &ParseOptions::new()).is_ok())
    });
    group.bench_function("dotenvy_envy_checks", |b| {
        b.iter(|| dotenvy_envy(black_box(bytes)).is_ok())
    });
    group.finish();
}

fn tokenize(c: &mut Criterion) {
    let bytes = FILE.as_bytes();
    let mut group = c.benchmark_group("tokenize_40_keys");
    group.bench_function("thorp_ops_envfile", |b| {
        b.iter(|| envfile::parse_bytes(black_box(bytes), &ParseOptions::new()).is_ok())
    });
    group.bench_function("dotenvy", |b| {
        b.iter(|| dotenvy::from_read_iter(black_box(bytes)).all(|entry| entry.is_ok()))
    });
    group.finish();
}

criterion_group!(benches, parse_and_validate, tokenize);
criterion_main!(benches);
