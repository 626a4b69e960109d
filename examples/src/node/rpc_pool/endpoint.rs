//! One upstream endpoint: its redacted label, its failure streak and ejection.

use std::fmt;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::time::{Duration, Instant};
use url::Url;

use crate::node::window::deadline;

/// How an endpoint is named in logs, errors and stats: `scheme://host[:port]`.
///
/// Providers put API keys in the query string (`?api-key=`), in the path (`/<key>`) or in
/// the user info, so only the scheme, host and port are ever shown.
pub fn endpoint_label(url: &Url) -> String {
    let host = url.host_str().unwrap_or("<no host>");
    match url.port() {
        Some(port) => format!("{}://{host}:{port}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    }
}

/// Figures of one endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointStats {
    /// `scheme://host[:port]`, never the full URL.
    pub label: String,
    /// Attempts sent to it since it joined the pool.
    pub attempts: u64,
    /// Of which failed (transport, timeout, 5xx, server-side JSON-RPC error).
    pub failures: u64,
    /// Failures since its last success.
    pub consecutive_failures: u32,
    /// Whether it is currently skipped in favour of the others.
    pub ejected: bool,
}

/// Live state of one endpoint, shared by every request and kept across settings updates
/// that keep its URL. `Debug` shows the label, never the URL.
pub(crate) struct Endpoint {
    pub(crate) url: Url,
    pub(crate) label: String,
    attempts: AtomicU64,
    failures: AtomicU64,
    consecutive_failures: AtomicU32,
    ejected_until: Mutex<Option<Instant>>,
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("label", &self.label)
            .field("consecutive_failures", &self.consecutive_failures)
            .finish_non_exhaustive()
    }
}

impl Endpoint {
    pub(crate) fn new(url: Url) -> Self {
        Self {
            label: endpoint_label(&url),
            url,
            attempts: AtomicU64::new(0),
            failures: AtomicU64::new(0),
            consecutive_failures: AtomicU32::new(0),
            ejected_until: Mutex::new(None),
        }
    }

    pub(crate) fn record_attempt(&self) {
        self.attempts.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn record_success(&self) {
        self.consecutive_failures.store(0, Ordering::Relaxed);
        *self
            .ejected_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = None;
    }

    /// Count a failure; eject the endpoint once its streak reaches `eject_after`.
    ///
    /// An endpoint back from ejection keeps its streak, so one more failure ejects it again
    /// at once: its first request after the pause is the probe.
    pub(crate) fn record_failure(&self, now: Instant, eject_after: u32, eject_for: Duration) {
        self.failures.fetch_add(1, Ordering::Relaxed);
        let streak = self
            .consecutive_failures
            .fetch_add(1, Ordering::Relaxed)
            .saturating_add(1);
        if streak >= eject_after {
            let mut until = self
                .ejected_until
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if until.is_none_or(|t| t <= now) {
                tracing::warn!(endpoint = %self.label, consecutive_failures = streak,
                               eject_ms = eject_for.as_millis() as u64, "rpc endpoint ejected");
            }
            *until = Some(deadline(now, eject_for));
        }
    }

    /// When the ejection ends, if the endpoint is ejected at `now`.
    pub(crate) fn ejected_until(&self, now: Instant) -> Option<Instant> {
        let until = *self
            .ejected_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        until.filter(|t| *t > now)
    }

    pub(crate) fn stats(&self, now: Instant) -> EndpointStats {
        EndpointStats {
            label: self.label.clone(),
            attempts: self.attempts.load(Ordering::Relaxed),
            failures: self.failures.load(Ordering::Relaxed),
            consecutive_failures: self.consecutive_failures.load(Ordering::Relaxed),
            ejected: self.ejected_until(now).is_some(),
        }
    }
}

/// The order in which a request tries `endpoints` at `now`: the healthy ones in configured
/// order, then the ejected ones, soonest back first (a last resort beats failing outright).
pub(crate) fn attempt_order(endpoints: &[Arc<Endpoint>], now: Instant) -> Vec<&Endpoint> {
    let mut healthy = Vec::with_capacity(endpoints.len());
    let mut ejected = Vec::new();
    for endpoint in endpoints.iter().map(Arc::as_ref) {
        match endpoint.ejected_until(now) {
            None => healthy.push(endpoint),
            Some(until) => ejected.push((until, endpoint)),
        }
    }
    ejected.sort_by_key(|(until, _)| *until);
    healthy.extend(ejected.into_iter().map(|(_, endpoint)| endpoint));
    healthy
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(s: &str) -> Endpoint {
        Endpoint::new(Url::parse(s).unwrap())
    }

    #[test]
    fn labels_keep_scheme_host_and_port_only() {
        let label = |s: &str| endpoint_label(&Url::parse(s).unwrap());
        assert_eq!(
            label("https://mainnet.helius-rpc.com/?api-key=secret"),
            "https://mainnet.helius-rpc.com"
        );
        assert_eq!(
            label("https://nd-1.p2pify.com/0123secret"),
            "https://nd-1.p2pify.com"
        );
        assert_eq!(
            label("http://user:secret@127.0.0.1:8899/x?token=secret"),
            "http://127.0.0.1:8899"
        );
        assert_eq!(label("https://[::1]:443/"), "https://[::1]");
    }

    #[tokio::test(start_paused = true)]
    async fn an_endpoint_is_ejected_after_a_streak_and_returns_after_the_pause() {
        let a = endpoint("http://a.test/");
        let now = Instant::now();
        a.record_failure(now, 2, Duration::from_secs(5));
        assert_eq!(a.ejected_until(now), None);
        a.record_failure(now, 2, Duration::from_secs(5));
        assert_eq!(a.ejected_until(now), Some(now + Duration::from_secs(5)));
        let later = now + Duration::from_secs(5);
        assert_eq!(a.ejected_until(later), None);
        // Back from the pause with its streak intact: one failure ejects it again.
        a.record_failure(later, 2, Duration::from_secs(5));
        assert!(a.ejected_until(later).is_some());
        a.record_success();
        assert_eq!(a.ejected_until(later), None);
        assert_eq!(a.stats(later).consecutive_failures, 0);
        assert_eq!(a.stats(later).failures, 3);
    }

    #[tokio::test(start_paused = true)]
    async fn ejected_endpoints_go_last_soonest_back_first() {
        let now = Instant::now();
        let eps =
            ["http://a.test/", "http://b.test/", "http://c.test/"].map(|u| Arc::new(endpoint(u)));
        eps[0].record_failure(now, 1, Duration::from_secs(9));
        eps[1].record_failure(now, 1, Duration::from_secs(3));
        let order: Vec<&str> = attempt_order(&eps, now)
            .iter()
            .map(|e| e.label.as_str())
            .collect();
        assert_eq!(order, ["http://c.test", "http://b.test", "http://a.test"]);
    }
}
