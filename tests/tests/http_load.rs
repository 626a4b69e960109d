//! Load on the ops endpoints while the monitor checks: 20,000 requests at concurrency 50
//! against `/health` and `/metrics`, every answer 2xx, and the checks still on schedule. The
//! figures are printed, not asserted: timings depend on the machine.

// A failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// The figures are this test's output to the person running it.
#![allow(clippy::print_stdout)]

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::ops::{Node, Options, Server};
use thorp_examples::load::{LoadPlan, run};
use thorp_ops::health::HealthStatus;
use tokio::time::Instant;

const INTERVAL: Duration = Duration::from_millis(200);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_thousand_requests_while_checks_run() {
    let mut settings = support::ops::settings();
    settings.check_interval = INTERVAL;
    // Far above what an in-memory check takes even on a starved machine: a check that runs
    // past it makes the report critical and `/health` answer 503, which is not what this
    // test is about.
    settings.check_timeout = Duration::from_secs(1);
    let node = Node::with(Options {
        settings,
        ..Options::default()
    })
    .await;
    let server = Server::start(node.router.clone()).await;

    // When each report is published, as the monitor's subscribers see it.
    let published = Arc::new(Mutex::new(Vec::<(Instant, u64)>::new()));
    // Reports that were not healthy, with why: they explain any non-2xx answer.
    let unhealthy = Arc::new(Mutex::new(Vec::<String>::new()));
    let watcher = tokio::spawn({
        let (mut rx, published) = (node.monitor.subscribe(), Arc::clone(&published));
        let unhealthy = Arc::clone(&unhealthy);
        async move {
            while rx.changed().await.is_ok() {
                let Some(report) = rx.borrow_and_update().clone() else {
                    continue;
                };
                published
                    .lock()
                    .unwrap()
                    .push((Instant::now(), report.sequence));
                if report.overall != HealthStatus::Healthy {
                    let issues: Vec<String> = report
                        .components
                        .iter()
                        .filter(|c| c.health.status != HealthStatus::Healthy)
                        .map(|c| format!("{}: {:?}", c.name, c.health.issue))
                        .collect();
                    unhealthy.lock().unwrap().push(format!(
                        "#{} {:?} {issues:?}",
                        report.sequence, report.overall
                    ));
                }
            }
        }
    });

    let plan = LoadPlan {
        base: format!("http://{}", server.addr),
        paths: vec!["/health".to_owned(), "/metrics".to_owned()],
        requests: 20_000,
        concurrency: 50,
    };
    let began = Instant::now();
    let report = run(&plan).await.unwrap();
    let ended = Instant::now();
    watcher.abort();

    let during: Vec<_> = published
        .lock()
        .unwrap()
        .iter()
        .filter(|(at, _)| *at >= began && *at <= ended)
        .copied()
        .collect();
    let gaps: Vec<Duration> = during.windows(2).map(|w| w[1].0 - w[0].0).collect();
    let max_gap = gaps.iter().max().copied().unwrap_or_default();
    let mean_gap = if gaps.is_empty() {
        Duration::ZERO
    } else {
        gaps.iter().sum::<Duration>() / u32::try_from(gaps.len()).unwrap()
    };
    let expected = (ended - began).as_secs_f64() / INTERVAL.as_secs_f64();
    println!("ops endpoints under load (debug build unless run with --release):\n{report}");
    println!(
        "  checks: {} reports during the run (about {expected:.0} expected at {} ms), gap mean {:.1} ms, max {:.1} ms",
        during.len(),
        INTERVAL.as_millis(),
        mean_gap.as_secs_f64() * 1e3,
        max_gap.as_secs_f64() * 1e3
    );

    assert_eq!(
        report.ok,
        plan.requests,
        "every answer 2xx: {report}\nreports not healthy: {:?}",
        unhealthy.lock().unwrap()
    );
    assert!(!during.is_empty(), "checks ran during the load");
    // On schedule as /livez judges it: never three periods without a report.
    assert!(
        max_gap < INTERVAL * 3,
        "a {max_gap:?} gap between reports under load"
    );
    // The router ran no check: the reports are the monitor's own, one per tick.
    let sequences: Vec<u64> = during.iter().map(|(_, s)| *s).collect();
    assert!(
        sequences.windows(2).all(|w| w[1] == w[0] + 1),
        "{sequences:?}"
    );
}
