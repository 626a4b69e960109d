//! HTTP load against the ops endpoints, over real loopback connections: the load test of the
//! ops surface and `thorp-bench` figure 6 call [`run`] and print its [`LoadReport`].

use hdrhistogram::Histogram;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// What to send: `requests` GETs spread round-robin over `paths` of `base`, `concurrency` at a
/// time on kept-alive connections.
#[derive(Clone, Debug)]
pub struct LoadPlan {
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub base: String,
    /// Paths to request in turn, e.g. `/health` and `/metrics`.
    pub paths: Vec<String>,
    /// Requests in all.
    pub requests: usize,
    /// Requests in flight at once.
    pub concurrency: usize,
}

/// Latency figures of one path.
#[derive(Clone, Debug)]
pub struct PathFigures {
    /// The path.
    pub path: String,
    /// Requests sent to it.
    pub requests: u64,
    /// Median latency.
    pub p50: Duration,
    /// 99th percentile latency.
    pub p99: Duration,
    /// Slowest request.
    pub max: Duration,
}

/// What a run found.
#[derive(Clone, Debug)]
pub struct LoadReport {
    /// Requests sent.
    pub requests: usize,
    /// Answered 2xx.
    pub ok: usize,
    /// Answered, but not 2xx.
    pub not_ok: usize,
    /// No answer (connection or protocol error).
    pub errors: usize,
    /// Wall time of the whole run.
    pub elapsed: Duration,
    /// Per path, in plan order.
    pub paths: Vec<PathFigures>,
}

impl LoadReport {
    /// Requests per second over the run.
    #[must_use]
    pub fn throughput(&self) -> f64 {
        // Counts stay far below 2^52; the conversion is exact.
        #[allow(clippy::cast_precision_loss)]
        let requests = self.requests as f64;
        requests / self.elapsed.as_secs_f64().max(f64::EPSILON)
    }
}

impl fmt::Display for LoadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} requests in {:.2} s ({:.0} req/s): {} 2xx, {} other, {} errors",
            self.requests,
            self.elapsed.as_secs_f64(),
            self.throughput(),
            self.ok,
            self.not_ok,
            self.errors
        )?;
        for p in &self.paths {
            writeln!(
                f,
                "  {:<10} {:>6} requests  p50 {:>8.3} ms  p99 {:>8.3} ms  max {:>8.3} ms",
                p.path,
                p.requests,
                p.p50.as_secs_f64() * 1e3,
                p.p99.as_secs_f64() * 1e3,
                p.max.as_secs_f64() * 1e3
            )?;
        }
        Ok(())
    }
}

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The plan has no path, no request or no concurrency.
    #[error("the load plan needs at least one path, one request and a concurrency of 1")]
    EmptyPlan,
    /// The HTTP client could not be built.
    #[error("HTTP client could not be built")]
    Client(#[source] reqwest::Error),
    /// The latency histogram could not be created.
    #[error("latency histogram could not be created")]
    Histogram(#[source] hdrhistogram::CreationError),
}

/// Longest latency tracked: one minute, in microseconds.
const MAX_MICROS: u64 = 60_000_000;

fn histogram() -> Result<Histogram<u64>, LoadError> {
    Histogram::new_with_bounds(1, MAX_MICROS, 3).map_err(LoadError::Histogram)
}

struct Tally {
    ok: usize,
    not_ok: usize,
    errors: usize,
    latencies: Vec<Histogram<u64>>,
}

impl Tally {
    /// Nothing counted yet, with a latency histogram per path.
    fn new(paths: usize) -> Result<Self, LoadError> {
        Ok(Self {
            ok: 0,
            not_ok: 0,
            errors: 0,
            latencies: (0..paths).map(|_| histogram()).collect::<Result<_, _>>()?,
        })
    }
}

/// Sends the plan's requests and measures each one, body read included.
pub async fn run(plan: &LoadPlan) -> Result<LoadReport, LoadError> {
    if plan.paths.is_empty() || plan.requests == 0 || plan.concurrency == 0 {
        return Err(LoadError::EmptyPlan);
    }
    crate::node::rpc_pool::install_crypto_provider();
    let client = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(plan.concurrency)
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(LoadError::Client)?;
    let urls: Arc<[String]> = plan
        .paths
        .iter()
        .map(|p| format!("{}{p}", plan.base))
        .collect();
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..plan.concurrency {
        let (client, urls, next, total) = (
            client.clone(),
            Arc::clone(&urls),
            Arc::clone(&next),
            plan.requests,
        );
        let mut tally = Tally::new(urls.len())?;
        workers.spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= total {
                    return tally;
                }
                let which = n % urls.len();
                let began = Instant::now();
                let result = match client.get(&urls[which]).send().await {
                    Ok(response) => {
                        let success = response.status().is_success();
                        response.bytes().await.map(|_| success)
                    }
                    Err(e) => Err(e),
                };
                let micros = u64::try_from(began.elapsed().as_micros()).unwrap_or(MAX_MICROS);
                tally.latencies[which].saturating_record(micros.clamp(1, MAX_MICROS));
                match result {
                    Ok(true) => tally.ok += 1,
                    Ok(false) => tally.not_ok += 1,
                    Err(_) => tally.errors += 1,
                }
            }
        });
    }
    let mut total = Tally::new(urls.len())?;
    while let Some(done) = workers.join_next().await {
        // A worker only ends by returning its tally; a panic would be a bug worth seeing.
        let Ok(tally) = done else { continue };
        total.ok += tally.ok;
        total.not_ok += tally.not_ok;
        total.errors += tally.errors;
        for (sum, part) in total.latencies.iter_mut().zip(&tally.latencies) {
            // Same bounds on both sides, so adding cannot fail.
            let _ = sum.add(part);
        }
    }
    let elapsed = started.elapsed();
    let paths = plan
        .paths
        .iter()
        .zip(&total.latencies)
        .map(|(path, h)| PathFigures {
            path: path.clone(),
            requests: h.len(),
            p50: Duration::from_micros(h.value_at_quantile(0.5)),
            p99: Duration::from_micros(h.value_at_quantile(0.99)),
            max: Duration::from_micros(h.max()),
        })
        .collect();
    Ok(LoadReport {
        requests: plan.requests,
        ok: total.ok,
        not_ok: total.not_ok,
        errors: total.errors,
        elapsed,
        paths,
    })
}
