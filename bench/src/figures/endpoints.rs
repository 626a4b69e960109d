//! Figure 6: `/health` and `/metrics` under 50 concurrent keep-alive connections for 20,000
//! requests each: requests per second and latency, while the monitor keeps checking every
//! 100 ms.
//!
//! The server is the ops router on its own two-worker runtime, as a service runs it, with a
//! monitor of ten components and a live config; the load comes from 50 HTTP/1.1 connections
//! on one client thread (a minimal client: the request, the status line, `Content-Length`,
//! the body). The alternative is the floor of the HTTP stack: a bare axum route answering the
//! very same bytes, rendered once beforehand, under the same load. "On schedule" means no gap
//! between two health reports during the load exceeded 1.5 check intervals.

use crate::figures::health::QueueStats;
use crate::figures::reload::Storage;
use crate::measure::{Distribution, nanos_u32};
use crate::plan::Plan;
use crate::report::{Cell, Quantity, Row};
use crate::workload::{BenchConfig, FILE};
use axum::Router;
use axum::routing::get;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use thorp_ops::config::{HotReload, ReloadOptions};
use thorp_ops::health::{HealthMonitor, MonitorSettings, stats_fn};
use thorp_ops::http::OpsRouter;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Connections open at once.
const CONCURRENCY: usize = 50;
/// The monitor's interval during the load.
const INTERVAL: Duration = Duration::from_millis(100);

/// Measures figure 6 and returns its rows and notes.
pub fn run(plan: &Plan) -> (Vec<Row>, Vec<String>) {
    match measure(plan) {
        Ok((rows, notes)) => (rows, notes),
        Err(error) => (Vec::new(), vec![format!("figure 6 not measured: {error}")]),
    }
}

/// One endpoint under load: the latencies and how long the whole load took.
struct Load {
    latency: Distribution,
    elapsed: Duration,
    requests: usize,
    failures: usize,
}

impl Load {
    fn per_second(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

fn measure(plan: &Plan) -> Result<(Vec<Row>, Vec<String>), String> {
    let server = crate::measure::runtime()?;
    let client = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| error.to_string())?;
    let dir = Storage::fastest().dir()?;
    let path = dir.path().join("app.env");
    std::fs::write(&path, FILE).map_err(|error| error.to_string())?;

    let (ours, floor, monitor, config) = server.block_on(async {
        let config = HotReload::<BenchConfig>::start(&path, ReloadOptions::default())
            .await
            .map_err(|errors| errors.to_string())?;
        let mut builder = HealthMonitor::builder()
            .settings(MonitorSettings {
                check_interval: INTERVAL,
                ..MonitorSettings::default()
            })
            .without_log_sink();
        for index in 0..10 {
            let reading = QueueStats {
                depth: index,
                p99_latency_ms: 20.0,
                error_ratio: 0.001,
            };
            builder = builder.component(stats_fn(move || reading).named(format!("queue{index}")));
        }
        let monitor = builder.build().map_err(|error| error.to_string())?;
        monitor.start().map_err(|error| error.to_string())?;
        monitor.first_report().await;
        let router = OpsRouter::new()
            .health(monitor.clone())
            .config(config.handle())
            .router();
        let ours = spawn_server(router).await?;
        // The floor answers what ours answers now, rendered once.
        let health = fetch(ours, "/health").await?;
        let metrics = fetch(ours, "/metrics").await?;
        let bare = Router::new()
            .route("/health", get(move || std::future::ready(health.clone())))
            .route("/metrics", get(move || std::future::ready(metrics.clone())));
        let floor = spawn_server(bare).await?;
        Ok::<_, String>((ours, floor, monitor, config))
    })?;

    let requests = plan.endpoint_requests;
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    for endpoint in ["/health", "/metrics"] {
        // A quarter of the load on each to warm up, untimed; then the floor, then ours.
        client.block_on(load(floor, endpoint, requests / 4))?;
        client.block_on(load(ours, endpoint, requests / 4))?;
        let bare = client.block_on(load(floor, endpoint, requests))?;
        // When each report arrives during ours' load; the load's start and end bound the
        // first and last gaps, so a monitor that stalled outright shows as one long gap.
        let arrivals = Arc::new(Mutex::new(vec![Instant::now()]));
        let mut reports = monitor.subscribe();
        reports.borrow_and_update();
        let watching = server.spawn({
            let arrivals = arrivals.clone();
            async move {
                while reports.changed().await.is_ok() {
                    arrivals
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push(Instant::now());
                }
            }
        });
        let mine = client.block_on(load(ours, endpoint, requests))?;
        watching.abort();
        let mut arrivals = arrivals
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let reported = arrivals.len() - 1;
        arrivals.push(Instant::now());
        let longest = arrivals
            .windows(2)
            .map(|pair| pair[1] - pair[0])
            .max()
            .unwrap_or_default();
        let on_schedule = longest.as_secs_f64() <= 1.5 * INTERVAL.as_secs_f64();
        if mine.failures + bare.failures > 0 {
            notes.push(format!(
                "figure 6, {endpoint}: {} of ours and {} of the floor's requests failed",
                mine.failures, bare.failures
            ));
        }
        notes.push(format!(
            "figure 6, {endpoint}: {reported} health reports during the load, longest gap {}",
            Quantity::Nanos(crate::measure::nanos(longest))
        ));
        let rate = Quantity::PerSecond(mine.per_second());
        let bare_rate = Quantity::PerSecond(bare.per_second());
        rows.push(
            Row::new(
                6,
                format!("{endpoint}, {CONCURRENCY} connections, {requests} requests: throughput"),
                Cell::new("OpsRouter", rate),
            )
            .alternative(Cell::new("bare axum, same bytes", bare_rate))
            .times("bare axum", bare_rate)
            .goal(
                format!(
                    "checks on schedule (gaps <= {} ms)",
                    INTERVAL.as_millis() * 3 / 2
                ),
                on_schedule,
            ),
        );
        for (name, pick) in [
            ("p50", (|d| d.p50) as fn(&Distribution) -> f64),
            ("p99", |d| d.p99),
        ] {
            let (value, floor) = (
                Quantity::Nanos(pick(&mine.latency)),
                Quantity::Nanos(pick(&bare.latency)),
            );
            rows.push(
                Row::new(
                    6,
                    format!("{endpoint}, {CONCURRENCY} connections: latency {name}"),
                    Cell::new("OpsRouter", value),
                )
                .alternative(Cell::new("bare axum, same bytes", floor))
                .times("bare axum", floor),
            );
        }
    }
    server.block_on(async {
        monitor.stop().await;
        drop(config);
    });
    Ok((rows, notes))
}

/// Serves `router` on a free loopback port, in the background of the current runtime.
async fn spawn_server(router: Router) -> Result<SocketAddr, String> {
    let listener = TcpListener::bind(("127.0.0.1", 0))
        .await
        .map_err(|error| error.to_string())?;
    let addr = listener.local_addr().map_err(|error| error.to_string())?;
    tokio::spawn(async move {
        // Ends with the runtime, at the end of the figure.
        let _ = axum::serve(listener, router).await;
    });
    Ok(addr)
}

/// One GET's body, on a connection of its own.
async fn fetch(addr: SocketAddr, path: &str) -> Result<String, String> {
    let mut connection = Connection::open(addr).await?;
    let body = connection.get(path).await?;
    String::from_utf8(body).map_err(|error| error.to_string())
}

/// `requests` GETs of `path` over [`CONCURRENCY`] keep-alive connections, each timed.
async fn load(addr: SocketAddr, path: &'static str, requests: usize) -> Result<Load, String> {
    let remaining = Arc::new(AtomicUsize::new(requests));
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..CONCURRENCY {
        let remaining = remaining.clone();
        workers.spawn(async move {
            let mut latencies = Vec::new();
            let mut failures = 0;
            let mut connection = match Connection::open(addr).await {
                Ok(connection) => connection,
                Err(_) => return (latencies, requests),
            };
            while remaining
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                    left.checked_sub(1)
                })
                .is_ok()
            {
                let sent = Instant::now();
                match connection.get(path).await {
                    Ok(_) => latencies.push(nanos_u32(sent.elapsed())),
                    Err(_) => {
                        failures += 1;
                        match Connection::open(addr).await {
                            Ok(fresh) => connection = fresh,
                            Err(_) => break,
                        }
                    }
                }
            }
            (latencies, failures)
        });
    }
    let mut latencies = Vec::with_capacity(requests);
    let mut failures = 0;
    while let Some(done) = workers.join_next().await {
        let (mut some, failed) = done.map_err(|error| error.to_string())?;
        latencies.append(&mut some);
        failures += failed;
    }
    let elapsed = started.elapsed();
    Ok(Load {
        requests: latencies.len(),
        latency: Distribution::of(&mut latencies),
        elapsed,
        failures,
    })
}

/// A keep-alive HTTP/1.1 connection that reads exactly one response per request.
struct Connection {
    stream: TcpStream,
    buffer: Vec<u8>,
}

impl Connection {
    async fn open(addr: SocketAddr) -> Result<Self, String> {
        let stream = TcpStream::connect(addr)
            .await
            .map_err(|error| error.to_string())?;
        stream
            .set_nodelay(true)
            .map_err(|error| error.to_string())?;
        Ok(Self {
            stream,
            buffer: Vec::with_capacity(64 * 1024),
        })
    }

    /// Sends a GET and returns the body of a 2xx or 503 answer (`/health` answers 503 when
    /// the service is critical, which is still an answer); anything else is an error.
    async fn get(&mut self, path: &str) -> Result<Vec<u8>, String> {
        let request = format!("GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n");
        self.stream
            .write_all(request.as_bytes())
            .await
            .map_err(|error| error.to_string())?;
        let head_end = loop {
            if let Some(end) = find(&self.buffer, b"\r\n\r\n") {
                break end + 4;
            }
            self.fill().await?;
        };
        let head = std::str::from_utf8(&self.buffer[..head_end]).map_err(|e| e.to_string())?;
        let status: u16 = head
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .ok_or("no status line")?;
        let length: usize = head
            .lines()
            .find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse().ok())?
            })
            .ok_or("no content-length")?;
        while self.buffer.len() < head_end + length {
            self.fill().await?;
        }
        let body = self.buffer[head_end..head_end + length].to_vec();
        self.buffer.drain(..head_end + length);
        if (200..300).contains(&status) || status == 503 {
            Ok(body)
        } else {
            Err(format!("status {status}"))
        }
    }

    async fn fill(&mut self) -> Result<(), String> {
        let mut chunk = [0_u8; 16 * 1024];
        let read = self
            .stream
            .read(&mut chunk)
            .await
            .map_err(|error| error.to_string())?;
        if read == 0 {
            return Err("connection closed".to_owned());
        }
        self.buffer.extend_from_slice(&chunk[..read]);
        Ok(())
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}
