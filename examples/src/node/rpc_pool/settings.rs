//! The RPC pool's settings, their defaults and their validation.

use std::collections::HashSet;
use std::fmt;

use tokio::time::Duration;
use url::Url;

use super::endpoint::endpoint_label;
use crate::node::invalid::{Checker, InvalidSettings};

/// Largest concurrency the pool accepts (far below tokio's semaphore limit).
pub const MAX_CONCURRENCY: usize = 100_000;
/// Most retries per request the pool accepts: each one can cost a whole timeout.
pub const MAX_RETRIES: u32 = 10;

/// Settings of an [`RpcPool`](super::RpcPool). All of them can change at run time through
/// [`RpcPool::update`](super::RpcPool::update).
///
/// `Debug` prints endpoints as `scheme://host:port` only: provider URLs carry API keys in the
/// path or query string.
#[derive(Clone, PartialEq)]
pub struct RpcPoolSettings {
    /// Endpoints in order of preference; the first healthy one gets each request, the others
    /// take over when it fails. At least one; `http` or `https` (with the `tls` feature).
    pub endpoints: Vec<Url>,
    /// Time allowed for one attempt (send, answer, body) and for waiting on a free slot.
    /// Default 2 s (`RPC_DEFAULT_TIMEOUT_MS=2000` in the seed).
    pub default_timeout: Duration,
    /// Requests in flight at once; further callers wait (up to `default_timeout`). Default 64.
    pub max_concurrency: usize,
    /// How failed attempts are retried.
    pub retry: RetrySettings,
    /// Consecutive failures after which an endpoint is skipped for `eject_for`. Default 3.
    pub eject_after_failures: u32,
    /// How long an ejected endpoint is tried only as a last resort. Default 5 s.
    pub eject_for: Duration,
    /// Span of the sliding window behind success rate and latency figures. Changing it
    /// starts a fresh window. Default 60 s.
    pub stats_window: Duration,
    /// Largest response body accepted; a larger one is an error, not an allocation. Default
    /// 8 MiB.
    pub max_response_bytes: usize,
}

/// Retry policy: how many times, how long to wait, and how much retrying is allowed overall.
#[derive(Debug, Clone, PartialEq)]
pub struct RetrySettings {
    /// Retries after the first attempt of a request, at most [`MAX_RETRIES`]. Default 2 (so
    /// three endpoints are each tried once).
    pub max_retries: u32,
    /// First backoff before retrying an endpoint already tried for this request; doubles per
    /// retry, with full jitter. Failing over to an untried endpoint does not wait. Default 20 ms.
    pub backoff_base: Duration,
    /// Cap on the backoff. Default 200 ms.
    pub backoff_max: Duration,
    /// Retry budget: each request earns this many retry tokens, each retry spends one, so in
    /// steady state retries are at most this fraction of requests (0.0..=1.0). It stops a
    /// struggling upstream from being hit by a retry storm. Default 0.2.
    pub budget_ratio: f64,
    /// Tokens the budget can hold (and starts with), so a quiet pool can still retry a burst
    /// of failures. Default 10.
    pub budget_burst: u32,
}

impl Default for RpcPoolSettings {
    fn default() -> Self {
        Self {
            endpoints: Vec::new(),
            default_timeout: Duration::from_millis(2_000),
            max_concurrency: 64,
            retry: RetrySettings::default(),
            eject_after_failures: 3,
            eject_for: Duration::from_secs(5),
            stats_window: Duration::from_secs(60),
            max_response_bytes: 8 * 1024 * 1024,
        }
    }
}

impl Default for RetrySettings {
    fn default() -> Self {
        Self {
            max_retries: 2,
            backoff_base: Duration::from_millis(20),
            backoff_max: Duration::from_millis(200),
            budget_ratio: 0.2,
            budget_burst: 10,
        }
    }
}

impl RpcPoolSettings {
    /// Default settings with these endpoints.
    pub fn with_endpoints(endpoints: impl IntoIterator<Item = Url>) -> Self {
        Self {
            endpoints: endpoints.into_iter().collect(),
            ..Self::default()
        }
    }

    /// Check every rule; report all violations, not just the first.
    ///
    /// Messages name endpoints by host only.
    pub fn validate(&self) -> Result<(), InvalidSettings> {
        let mut c = Checker::new("rpcPool");
        c.check(!self.endpoints.is_empty(), "endpoints", || {
            "at least one endpoint is required".into()
        });
        let mut seen = HashSet::new();
        for url in &self.endpoints {
            let label = endpoint_label(url);
            let scheme = url.scheme();
            c.check(matches!(scheme, "http" | "https"), "endpoints", || {
                format!("{label}: scheme {scheme:?} is not http or https")
            });
            c.check(
                scheme != "https" || cfg!(feature = "tls"),
                "endpoints",
                || format!("{label}: https needs the `tls` feature"),
            );
            c.check(
                url.host_str().is_some_and(|h| !h.is_empty()),
                "endpoints",
                || format!("{label}: no host"),
            );
            c.check(seen.insert(url.as_str()), "endpoints", || {
                format!("{label}: listed twice")
            });
        }
        c.check(!self.default_timeout.is_zero(), "default_timeout", || {
            "must be greater than zero".into()
        });
        c.check(
            (1..=MAX_CONCURRENCY).contains(&self.max_concurrency),
            "max_concurrency",
            || format!("must be between 1 and {MAX_CONCURRENCY}"),
        );
        c.check(
            self.retry.max_retries <= MAX_RETRIES,
            "retry.max_retries",
            || format!("must be at most {MAX_RETRIES}"),
        );
        c.check(
            self.retry.backoff_base <= self.retry.backoff_max,
            "retry.backoff_base",
            || "must not exceed retry.backoff_max".into(),
        );
        c.check(
            (0.0..=1.0).contains(&self.retry.budget_ratio),
            "retry.budget_ratio",
            || "must be between 0.0 and 1.0".into(),
        );
        c.check(
            self.eject_after_failures > 0,
            "eject_after_failures",
            || "must be at least 1".into(),
        );
        c.check(
            self.stats_window >= Duration::from_secs(1),
            "stats_window",
            || "must be at least 1s".into(),
        );
        c.check(self.max_response_bytes > 0, "max_response_bytes", || {
            "must be greater than zero".into()
        });
        c.finish()
    }
}

impl fmt::Debug for RpcPoolSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let endpoints: Vec<String> = self.endpoints.iter().map(endpoint_label).collect();
        f.debug_struct("RpcPoolSettings")
            .field("endpoints", &endpoints)
            .field("default_timeout", &self.default_timeout)
            .field("max_concurrency", &self.max_concurrency)
            .field("retry", &self.retry)
            .field("eject_after_failures", &self.eject_after_failures)
            .field("eject_for", &self.eject_for)
            .field("stats_window", &self.stats_window)
            .field("max_response_bytes", &self.max_response_bytes)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn defaults_with_an_endpoint_are_valid() {
        let settings = RpcPoolSettings::with_endpoints([url("http://127.0.0.1:8899")]);
        assert_eq!(settings.validate(), Ok(()));
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let settings = RpcPoolSettings {
            endpoints: vec![
                url("ftp://example.com/"),
                url("http://a.test/"),
                url("http://a.test/"),
            ],
            default_timeout: Duration::ZERO,
            max_concurrency: 0,
            retry: RetrySettings {
                max_retries: 11,
                backoff_base: Duration::from_secs(1),
                backoff_max: Duration::from_millis(1),
                budget_ratio: f64::NAN,
                ..RetrySettings::default()
            },
            eject_after_failures: 0,
            stats_window: Duration::ZERO,
            max_response_bytes: 0,
            ..RpcPoolSettings::default()
        };
        let error = settings.validate().unwrap_err();
        let fields: Vec<&str> = error.problems.iter().map(|p| p.field).collect();
        assert_eq!(
            fields,
            [
                "endpoints",
                "endpoints",
                "default_timeout",
                "max_concurrency",
                "retry.max_retries",
                "retry.backoff_base",
                "retry.budget_ratio",
                "eject_after_failures",
                "stats_window",
                "max_response_bytes"
            ]
        );
        assert!(
            error
                .to_string()
                .starts_with("invalid rpcPool settings: endpoints: ftp://example.com")
        );
    }

    #[test]
    fn no_endpoint_is_an_error() {
        let error = RpcPoolSettings::default().validate().unwrap_err();
        assert_eq!(error.problems[0].field, "endpoints");
    }

    #[test]
    fn api_keys_never_appear_in_debug_or_errors() {
        let secret = "sk_live_abc123";
        let settings = RpcPoolSettings::with_endpoints([
            url(&format!("https://mainnet.helius-rpc.com/?api-key={secret}")),
            url(&format!("https://nd-1.p2pify.com/{secret}")),
            url(&format!("gopher://user:{secret}@x.test/")),
        ]);
        assert!(!format!("{settings:?}").contains(secret));
        let error = settings.validate().unwrap_err();
        assert!(!error.to_string().contains(secret), "{error}");
    }
}
