//! What the monitor checks: the [`HealthCheck`] trait and the adapters that turn stats sources
//! and healthy-or-not components into one.

use super::report::{ComponentHealth, MetricValue};
use super::rules::{CheckContext, HealthStats, RuleSpec};
use super::status::HealthStatus;
use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// The error a check or a sink may return: anything that is an error, or a message.
///
/// `?` converts any `std::error::Error + Send + Sync`, and `"text".into()` makes one.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Something the monitor checks. Most components never implement this by hand: stats types
/// get it through [`StatsCheck`], healthy-or-not components through [`BasicCheck`].
///
/// A check may be async, and runs under the monitor's check timeout: a check that hangs, fails
/// or panics makes only its own entry critical. The monitor polls each check once on its own
/// task; a check that is ready then (a stats read) costs no task of its own, and one that has
/// to wait moves to its own task, where the timeout gives up on it. So a check must not block
/// its thread (a lock held by a stuck writer, a synchronous network call): until its first
/// wait it holds up the monitor, and with it every report. Such a check is reported as
/// `CHECK_TIMEOUT` once it returns, if it took longer than the timeout, but nothing can cut it
/// short: do blocking work in `tokio::task::spawn_blocking` inside the check.
///
/// ```
/// use std::borrow::Cow;
/// use thorp_ops::health::{BoxError, CheckContext, HealthCheck, ComponentHealth, Unit};
///
/// struct Disk;
///
/// impl HealthCheck for Disk {
///     fn name(&self) -> Cow<'static, str> {
///         Cow::Borrowed("disk")
///     }
///
///     async fn check(&self, _ctx: &CheckContext) -> Result<ComponentHealth, BoxError> {
///         let free_mb = 12_000u64; // e.g. from statvfs
///         let health = if free_mb < 1_000 {
///             ComponentHealth::critical("DISK_FULL", format!("{free_mb} MB free"))
///         } else {
///             ComponentHealth::healthy()
///         };
///         Ok(health.with_metric("freeMb", Some(Unit::Megabytes), free_mb))
///     }
/// }
/// ```
pub trait HealthCheck: Send + Sync + 'static {
    /// The name in reports; unique within a monitor.
    fn name(&self) -> Cow<'static, str>;

    /// The threshold rules this component evaluates, so the monitor can validate overrides and
    /// list the keys. Empty for hand-written checks.
    fn rules(&self) -> &'static [RuleSpec] {
        &[]
    }

    /// Whether this component being critical makes the service not ready. Read once, at
    /// registration. Default: `true`.
    fn affects_readiness(&self) -> bool {
        true
    }

    /// Checks the component once.
    fn check(
        &self,
        ctx: &CheckContext,
    ) -> impl Future<Output = Result<ComponentHealth, BoxError>> + Send;
}

/// A check in progress that owns what it reads, so it can move to a task of its own.
pub(crate) type CheckFuture =
    Pin<Box<dyn Future<Output = Result<ComponentHealth, BoxError>> + Send>>;

/// The object-safe form of [`HealthCheck`] the monitor stores.
pub(crate) trait DynCheck: Send + Sync + 'static {
    fn rules(&self) -> &'static [RuleSpec];
    fn check_owned(self: Arc<Self>, ctx: CheckContext) -> CheckFuture;
}

impl<C: HealthCheck> DynCheck for C {
    fn rules(&self) -> &'static [RuleSpec] {
        HealthCheck::rules(self)
    }
    fn check_owned(self: Arc<Self>, ctx: CheckContext) -> CheckFuture {
        // One allocation: the check's own future lives inside this one.
        Box::pin(async move { self.check(&ctx).await })
    }
}

/// Produces a component's current stats, sync or async, possibly failing.
///
/// ```
/// use thorp_ops::health::{BoxError, StatsCheck, StatsSource};
/// use thorp_ops::health::stock::EventBusStats;
///
/// struct Bus;
///
/// impl StatsSource for Bus {
///     type Stats = EventBusStats;
///
///     async fn stats(&self) -> Result<EventBusStats, BoxError> {
///         Ok(EventBusStats { queue_depth: 3, utilization: 12.0, events_per_second: 800.0 })
///     }
/// }
///
/// let component = StatsCheck::new(Bus);
/// assert_eq!(component.name(), "eventBus");
/// ```
pub trait StatsSource: Send + Sync + 'static {
    /// The `#[health_component]` stats type.
    type Stats: HealthStats;

    /// The current stats.
    fn stats(&self) -> impl Future<Output = Result<Self::Stats, BoxError>> + Send;
}

impl<T: StatsSource> StatsSource for Arc<T> {
    type Stats = T::Stats;

    fn stats(&self) -> impl Future<Output = Result<Self::Stats, BoxError>> + Send {
        T::stats(self)
    }
}

/// A [`StatsSource`] made from a closure; see [`stats_fn`].
#[derive(Clone, Debug)]
pub struct FnStats<F>(F);

impl<F, S> StatsSource for FnStats<F>
where
    F: Fn() -> S + Send + Sync + 'static,
    S: HealthStats + Send,
{
    type Stats = S;

    fn stats(&self) -> impl Future<Output = Result<S, BoxError>> + Send {
        std::future::ready(Ok((self.0)()))
    }
}

/// A component from a closure that returns its stats (the usual case: a snapshot of counters).
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicU32, Ordering};
/// use thorp_ops::health::{stats_fn, stock::RpcPoolStats};
///
/// let active = Arc::new(AtomicU32::new(25));
/// let component = stats_fn(move || RpcPoolStats {
///     success_rate: 0.99,
///     avg_latency_ms: 45.0,
///     p95_latency_ms: 80.0,
///     active_connections: active.load(Ordering::Relaxed),
/// });
/// assert_eq!(component.name(), "rpcPool");
/// ```
pub fn stats_fn<F, S>(f: F) -> StatsCheck<FnStats<F>>
where
    F: Fn() -> S + Send + Sync + 'static,
    S: HealthStats + Send,
{
    StatsCheck::new(FnStats(f))
}

/// A [`HealthCheck`] that evaluates a [`StatsSource`]'s stats with the rules generated by
/// `#[health_component]`.
#[derive(Clone, Debug)]
pub struct StatsCheck<S> {
    source: S,
    name: Cow<'static, str>,
    readiness: bool,
}

impl<S: StatsSource> StatsCheck<S> {
    /// Named after the stats type (`#[health_component(name = "...")]`).
    pub fn new(source: S) -> Self {
        Self {
            source,
            name: Cow::Borrowed(<S::Stats as HealthStats>::NAME),
            readiness: <S::Stats as HealthStats>::AFFECTS_READINESS,
        }
    }

    /// Overrides whether it counts for readiness (default: the stats type's
    /// `#[health_component(readiness = ...)]`, else `true`).
    #[must_use]
    pub fn affects_readiness(mut self, affects: bool) -> Self {
        self.readiness = affects;
        self
    }

    /// Renames it, e.g. to register two RPC pools. Both keep the type's override keys, so one
    /// `HEALTH_MAX_RPC_LATENCY_MS` governs both.
    #[must_use]
    pub fn named(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.name = name.into();
        self
    }

    /// The name it reports under.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl<S: StatsSource> HealthCheck for StatsCheck<S> {
    fn name(&self) -> Cow<'static, str> {
        self.name.clone()
    }

    fn rules(&self) -> &'static [RuleSpec] {
        <S::Stats as HealthStats>::RULES
    }

    fn affects_readiness(&self) -> bool {
        self.readiness
    }

    async fn check(&self, ctx: &CheckContext) -> Result<ComponentHealth, BoxError> {
        let stats = self.source.stats().await?;
        Ok(stats.evaluate(ctx))
    }
}

/// A component that only knows whether it is healthy: the seed's `isHealthy`/`getStatus`
/// fallback. Register it through [`BasicCheck`].
///
/// ```
/// use thorp_ops::health::{BasicCheck, BasicHealth, BoxError};
///
/// struct Shutdown;
///
/// impl BasicHealth for Shutdown {
///     async fn is_healthy(&self) -> Result<bool, BoxError> {
///         Ok(true)
///     }
///     async fn status_text(&self) -> Option<String> {
///         Some("RUNNING".to_owned())
///     }
/// }
///
/// let component = BasicCheck::new("shutdownManager", Shutdown);
/// ```
pub trait BasicHealth: Send + Sync + 'static {
    /// Whether the component is healthy.
    fn is_healthy(&self) -> impl Future<Output = Result<bool, BoxError>> + Send;

    /// A free-form status shown as the `customStatus` metric.
    fn status_text(&self) -> impl Future<Output = Option<String>> + Send {
        std::future::ready(None)
    }
}

impl<T: BasicHealth> BasicHealth for Arc<T> {
    fn is_healthy(&self) -> impl Future<Output = Result<bool, BoxError>> + Send {
        T::is_healthy(self)
    }
    fn status_text(&self) -> impl Future<Output = Option<String>> + Send {
        T::status_text(self)
    }
}

/// Issue code of a [`BasicHealth`] component that says it is not healthy.
pub const UNHEALTHY: &str = "UNHEALTHY";

/// A [`HealthCheck`] over a [`BasicHealth`]: not healthy reads as degraded (as in the seed), or
/// as the status given to [`unhealthy_status`](BasicCheck::unhealthy_status).
#[derive(Clone, Debug)]
pub struct BasicCheck<B> {
    name: Cow<'static, str>,
    inner: B,
    unhealthy: HealthStatus,
    readiness: bool,
}

impl<B: BasicHealth> BasicCheck<B> {
    /// Wraps `inner` under `name`.
    pub fn new(name: impl Into<Cow<'static, str>>, inner: B) -> Self {
        Self {
            name: name.into(),
            inner,
            unhealthy: HealthStatus::Degraded,
            readiness: true,
        }
    }

    /// Whether it counts for readiness (default `true`).
    #[must_use]
    pub fn affects_readiness(mut self, affects: bool) -> Self {
        self.readiness = affects;
        self
    }

    /// The status reported when `is_healthy` answers `false` (degraded by default).
    #[must_use]
    pub fn unhealthy_status(mut self, status: HealthStatus) -> Self {
        self.unhealthy = status;
        self
    }
}

impl<B: BasicHealth> HealthCheck for BasicCheck<B> {
    fn name(&self) -> Cow<'static, str> {
        self.name.clone()
    }

    fn affects_readiness(&self) -> bool {
        self.readiness
    }

    async fn check(&self, _ctx: &CheckContext) -> Result<ComponentHealth, BoxError> {
        let healthy = self.inner.is_healthy().await?;
        let mut health = if healthy || self.unhealthy == HealthStatus::Healthy {
            ComponentHealth::healthy()
        } else {
            let mut health =
                ComponentHealth::degraded(UNHEALTHY, format!("{} reports unhealthy", self.name));
            health.status = self.unhealthy;
            health
        };
        health = health.with_metric("healthy", None, healthy);
        if let Some(text) = self.inner.status_text().await {
            health = health.with_metric("customStatus", None, MetricValue::Text(Cow::Owned(text)));
        }
        Ok(health)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test, with its message
mod tests {
    use super::*;

    struct Flag(bool);

    impl BasicHealth for Flag {
        async fn is_healthy(&self) -> Result<bool, BoxError> {
            if self.0 {
                Ok(true)
            } else {
                Err("probe refused".into())
            }
        }
    }

    fn block_on<F: Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .map(|rt| rt.block_on(f))
            .unwrap_or_else(|e| panic!("runtime: {e}"))
    }

    struct Unhealthy;

    impl BasicHealth for Unhealthy {
        async fn is_healthy(&self) -> Result<bool, BoxError> {
            Ok(false)
        }
        async fn status_text(&self) -> Option<String> {
            Some("DRAINING".into())
        }
    }

    #[test]
    fn basic_components_map_healthy_or_not() {
        let ctx = CheckContext::default();
        let ok = block_on(BasicCheck::new("a", Flag(true)).check(&ctx)).unwrap();
        assert_eq!(ok.status, HealthStatus::Healthy);

        let err = block_on(BasicCheck::new("a", Flag(false)).check(&ctx)).unwrap_err();
        assert_eq!(err.to_string(), "probe refused");

        let bad = block_on(BasicCheck::new("drain", Unhealthy).check(&ctx)).unwrap();
        assert_eq!(bad.status, HealthStatus::Degraded);
        assert_eq!(bad.issue.as_deref(), Some(UNHEALTHY));
        assert_eq!(
            bad.metric("customStatus")
                .map(|m| m.value.to_string())
                .as_deref(),
            Some("DRAINING")
        );

        let critical = BasicCheck::new("drain", Unhealthy).unhealthy_status(HealthStatus::Critical);
        assert_eq!(
            block_on(critical.check(&ctx)).unwrap().status,
            HealthStatus::Critical
        );
    }
}
