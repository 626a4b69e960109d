//! `GET /metrics`: the latest report, the reload totals and the alerts in the Prometheus text
//! format (0.0.4), encoded by `prometheus-client` from a collector that reads them per scrape.
//! The names and their rules are documented on the [`http`](crate::http) module.

use super::router::{OpsState, error};
use crate::config::ConfigSource;
use crate::health::{AlertKind, HealthMonitor, HealthReport, MetricValue, Unit};
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::prometheus_text;
use prometheus_client::encoding::{
    DescriptorEncoder, EncodeCounterValue, EncodeGaugeValue, EncodeLabelSet, NoLabelSet,
};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;
use std::collections::HashSet;
use std::fmt::{self, Write as _};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

/// The namespace of every metric of ours but the standard `process_` ones.
const NAMESPACE: &str = "thorp";
const MIB: f64 = 1024.0 * 1024.0;

/// The metrics `/metrics` serves: ours, then the service's registries.
pub(crate) struct Metrics {
    ours: Registry,
    extra: Vec<Arc<Registry>>,
}

/// What the metrics are read from.
pub(crate) struct Sources {
    pub(crate) monitor: Option<HealthMonitor>,
    pub(crate) config: Option<Arc<dyn ConfigSource>>,
    #[cfg(feature = "webhook")]
    pub(crate) webhooks: Vec<crate::health::WebhookSink>,
    pub(crate) extra: Vec<Arc<Registry>>,
}

impl Metrics {
    pub(crate) fn new(sources: Sources) -> Self {
        let mut ours = Registry::default();
        ours.register_collector(Box::new(OpsCollector {
            monitor: sources.monitor,
            config: sources.config,
            #[cfg(feature = "webhook")]
            webhooks: sources.webhooks,
            start_time: OnceLock::new(),
            warned: Mutex::new(HashSet::new()),
        }));
        Self {
            ours,
            extra: sources.extra,
        }
    }

    /// The exposition text of one scrape.
    pub(crate) fn encode(&self) -> Result<String, fmt::Error> {
        let mut text = String::with_capacity(4096);
        prometheus_text::encode(&mut text, &self.ours)?;
        for registry in &self.extra {
            prometheus_text::encode(&mut text, registry)?;
        }
        Ok(text)
    }
}

/// `GET /metrics`.
pub(crate) async fn scrape(State(ops): OpsState) -> Response {
    match ops.metrics.encode() {
        Ok(text) => (
            [(header::CONTENT_TYPE, prometheus_text::CONTENT_TYPE)],
            text,
        )
            .into_response(),
        Err(_) => {
            tracing::error!("metrics did not encode");
            error(StatusCode::INTERNAL_SERVER_ERROR, "metrics did not encode")
        }
    }
}

/// Reads the monitor and the config at each scrape.
struct OpsCollector {
    monitor: Option<HealthMonitor>,
    config: Option<Arc<dyn ConfigSource>>,
    #[cfg(feature = "webhook")]
    webhooks: Vec<crate::health::WebhookSink>,
    /// Start time, fixed from the first report that knows the uptime: recomputing it per report
    /// would make it jitter by the uptime's resolution, and a changing start time reads as a
    /// restart.
    start_time: OnceLock<f64>,
    /// Names already reported as clashing, so the log says it once.
    warned: Mutex<HashSet<String>>,
}

impl fmt::Debug for OpsCollector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpsCollector")
            .field("monitor", &self.monitor.is_some())
            .field("config", &self.config.is_some())
            .finish_non_exhaustive()
    }
}

fn unix_seconds(time: SystemTime) -> f64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Writes one family at a time and remembers the names written.
struct Out<'a> {
    encoder: DescriptorEncoder<'a>,
    names: HashSet<String>,
}

impl Out<'_> {
    fn gauge(&mut self, name: &str, help: &str, value: impl EncodeGaugeValue) -> fmt::Result {
        self.names.insert(name.to_owned());
        self.encoder
            .encode_descriptor(name, help, None, MetricType::Gauge)?
            .encode_gauge(&value)
    }

    fn counter(&mut self, name: &str, help: &str, value: impl EncodeCounterValue) -> fmt::Result {
        self.names.insert(format!("{name}_total"));
        self.encoder
            .encode_descriptor(name, help, None, MetricType::Counter)?
            .encode_counter::<NoLabelSet, _, f64>(&value, None)
    }

    fn gauges<L: EncodeLabelSet, V: EncodeGaugeValue>(
        &mut self,
        name: &str,
        help: &str,
        samples: &[(L, V)],
    ) -> fmt::Result {
        self.names.insert(name.to_owned());
        let mut metric = self
            .encoder
            .encode_descriptor(name, help, None, MetricType::Gauge)?;
        for (labels, value) in samples {
            metric.encode_family(labels)?.encode_gauge(value)?;
        }
        Ok(())
    }

    fn counters<L: EncodeLabelSet, V: EncodeCounterValue>(
        &mut self,
        name: &str,
        help: &str,
        samples: &[(L, V)],
    ) -> fmt::Result {
        self.names.insert(format!("{name}_total"));
        let mut metric = self
            .encoder
            .encode_descriptor(name, help, None, MetricType::Counter)?;
        for (labels, value) in samples {
            metric
                .encode_family(labels)?
                .encode_counter::<NoLabelSet, _, f64>(value, None)?;
        }
        Ok(())
    }
}

impl Collector for OpsCollector {
    fn encode(&self, encoder: DescriptorEncoder<'_>) -> fmt::Result {
        let mut out = Out {
            encoder,
            names: HashSet::new(),
        };
        // Fixed families first, so a component metric can never take one of their names.
        if let Some(config) = &self.config {
            encode_config(&mut out, config.as_ref())?;
        }
        #[cfg(feature = "webhook")]
        encode_webhooks(&mut out, &self.webhooks)?;
        if let Some(monitor) = &self.monitor {
            self.encode_health(&mut out, monitor)?;
        }
        Ok(())
    }
}

const STATUS_SCALE: &str = "0 healthy, 1 degraded, 2 critical";

impl OpsCollector {
    fn encode_health(&self, out: &mut Out<'_>, monitor: &HealthMonitor) -> fmt::Result {
        let latest = monitor.latest();
        let running = monitor.is_running();
        out.gauge(
            "thorp_health_monitor_running",
            "Whether the health monitor task is running (1) or not (0).",
            i64::from(running),
        )?;
        let ready = running
            && latest
                .as_ref()
                .is_some_and(|r| r.readiness_blockers().next().is_none());
        out.gauge(
            "thorp_health_ready",
            "Whether the health monitor counts the service as ready (1) or not (0): it runs, has reported, and no readiness-relevant component is critical.",
            i64::from(ready),
        )?;
        out.counter(
            "thorp_health_reports",
            "Health reports published since the monitor was created.",
            latest.as_ref().map_or(0, |r| r.sequence),
        )?;
        out.gauge(
            "thorp_health_memory_limit_bytes",
            "Resident memory above which the health monitor reports the system as degraded (HEALTH_MAX_MEMORY_MB).",
            monitor.settings().max_memory_mb.saturating_mul(1024 * 1024),
        )?;
        let alerts = monitor.alerts();
        let firing = |code: &str| {
            alerts
                .iter()
                .filter(|a| a.is_firing() && a.kind.code() == code)
                .count() as u64
        };
        let kinds = [
            AlertKind::SustainedCritical.code(),
            AlertKind::MemoryGrowth.code(),
            AlertKind::ComponentCritical {
                component: "".into(),
            }
            .code(),
        ];
        let samples: Vec<_> = kinds
            .iter()
            .map(|&code| ([("type", code)], firing(code)))
            .collect();
        out.gauges(
            "thorp_alerts_firing",
            "Health alerts firing now, by type.",
            &samples,
        )?;
        out.counter(
            "thorp_alert_events_dropped",
            "Alert events dropped because the alert sinks fell behind.",
            monitor.dropped_alert_events(),
        )?;
        if let Some(report) = latest {
            self.encode_report(out, &report)?;
        }
        Ok(())
    }

    fn encode_report(&self, out: &mut Out<'_>, report: &HealthReport) -> fmt::Result {
        out.gauge(
            "thorp_health_status",
            &format!("Overall health status of the latest report: {STATUS_SCALE}."),
            i64::from(report.overall.as_gauge()),
        )?;
        out.gauge(
            "thorp_health_last_report_timestamp_seconds",
            "When the check of the latest health report began, in seconds since the Unix epoch.",
            unix_seconds(report.timestamp),
        )?;
        let statuses: Vec<_> = report
            .components
            .iter()
            .map(|c| {
                (
                    [("component", &*c.name)],
                    i64::from(c.health.status.as_gauge()),
                )
            })
            .collect();
        out.gauges(
            "thorp_health_component_status",
            &format!("Health status of each component at the latest check: {STATUS_SCALE}."),
            &statuses,
        )?;
        let durations: Vec<_> = report
            .components
            .iter()
            .map(|c| ([("component", &*c.name)], c.duration.as_secs_f64()))
            .collect();
        out.gauges(
            "thorp_health_component_check_duration_seconds",
            "How long each component's latest health check took.",
            &durations,
        )?;

        let memory = &report.system.memory;
        if let Some(rss) = memory.rss_bytes {
            out.gauge(
                "process_resident_memory_bytes",
                "Resident memory size in bytes, at the latest health check.",
                rss,
            )?;
        }
        if let Some(uptime) = report.system.uptime {
            let start = *self.start_time.get_or_init(|| {
                let start = unix_seconds(report.timestamp) - uptime;
                (start * 100.0).round() / 100.0
            });
            out.gauge(
                "process_start_time_seconds",
                "Start time of the process since the Unix epoch in seconds.",
                start,
            )?;
        }
        if let Some(fds) = report.system.open_fds {
            out.gauge(
                "process_open_fds",
                "Number of open file descriptors, at the latest health check.",
                fds,
            )?;
        }
        if let Some(threads) = report.system.threads {
            out.gauge(
                "process_threads",
                "Number of OS threads in the process, at the latest health check.",
                threads,
            )?;
        }

        for component in &report.components {
            let prefix = format!("{NAMESPACE}_{}", snake(&component.name));
            for metric in &component.health.metrics {
                let (name, help) =
                    component_metric(&prefix, &component.name, metric.unit, &metric.name);
                if out.names.contains(&name) {
                    self.clash(&name, &component.name, &metric.name);
                    continue;
                }
                match &metric.value {
                    MetricValue::Text(text) => {
                        let label = snake(&metric.name);
                        out.gauges(&name, &help, &[([(label.as_str(), &**text)], 1)])?;
                    }
                    value => {
                        let scale = base_unit(metric.unit).scale;
                        out.gauge(&name, &help, value.as_f64().unwrap_or(f64::NAN) * scale)?;
                    }
                }
            }
        }
        Ok(())
    }

    fn clash(&self, name: &str, component: &str, metric: &str) {
        let mut warned = self.warned.lock().unwrap_or_else(PoisonError::into_inner);
        if warned.insert(name.to_owned()) {
            tracing::warn!(
                name,
                component,
                metric,
                "component metric left out of /metrics: its name is taken"
            );
        }
    }
}

fn encode_config(out: &mut Out<'_>, config: &dyn ConfigSource) -> fmt::Result {
    let stats = config.stats();
    out.counters(
        "thorp_config_reloads",
        "Config reload attempts by outcome (the initial load included).",
        &[
            ([("outcome", "applied")], stats.applied),
            ([("outcome", "rejected")], stats.rejected),
            ([("outcome", "unchanged")], stats.unchanged),
        ],
    )?;
    out.gauge(
        "thorp_config_version",
        "Version of the config in force (1 for the initial load, one more per applied reload).",
        config.version(),
    )?;
    if let Some(at) = stats.last_success {
        out.gauge(
            "thorp_config_last_reload_success_timestamp_seconds",
            "When a config reload last succeeded (applied or unchanged), in seconds since the Unix epoch.",
            unix_seconds(at),
        )?;
    }
    Ok(())
}

#[cfg(feature = "webhook")]
fn encode_webhooks(out: &mut Out<'_>, webhooks: &[crate::health::WebhookSink]) -> fmt::Result {
    if webhooks.is_empty() {
        return Ok(());
    }
    let stats: Vec<_> = webhooks
        .iter()
        .map(|w| (w.sink_name(), w.stats()))
        .collect();
    let mut events = Vec::with_capacity(stats.len() * 3);
    for (sink, s) in &stats {
        events.push(([("sink", *sink), ("outcome", "delivered")], s.delivered));
        events.push(([("sink", *sink), ("outcome", "failed")], s.failed));
        events.push(([("sink", *sink), ("outcome", "dropped")], s.dropped));
    }
    out.counters(
        "thorp_webhook_events",
        "Alert events a webhook sink finished with, by outcome: delivered, failed (retries exhausted or refused), dropped (queue full).",
        &events,
    )?;
    let retries: Vec<_> = stats
        .iter()
        .map(|(sink, s)| ([("sink", *sink)], s.retries))
        .collect();
    out.counters(
        "thorp_webhook_retries",
        "Webhook delivery attempts after the first.",
        &retries,
    )?;
    let pending: Vec<_> = stats
        .iter()
        .map(|(sink, s)| ([("sink", *sink)], s.pending))
        .collect();
    out.gauges(
        "thorp_webhook_pending_events",
        "Alert events queued or being sent by a webhook sink.",
        &pending,
    )
}

/// How a unit becomes a Prometheus base unit.
struct BaseUnit {
    /// Multiplier from the unit to the base unit.
    scale: f64,
    /// The base unit's suffix, `""` for none.
    suffix: &'static str,
    /// Name endings that spell the unit, replaced by `suffix`.
    spellings: &'static [&'static str],
    /// The unit as reported, for the help text.
    shown: &'static str,
}

fn base_unit(unit: Option<Unit>) -> BaseUnit {
    let base = |scale, suffix, spellings, shown| BaseUnit {
        scale,
        suffix,
        spellings,
        shown,
    };
    match unit {
        Some(Unit::Milliseconds) => base(
            1e-3,
            "_seconds",
            &["_ms", "_millis", "_milliseconds"][..],
            "ms",
        ),
        Some(Unit::Microseconds) => base(
            1e-6,
            "_seconds",
            &["_us", "_micros", "_microseconds"][..],
            "us",
        ),
        Some(Unit::Seconds) => base(
            1.0,
            "_seconds",
            &["_s", "_sec", "_secs", "_seconds"][..],
            "s",
        ),
        Some(Unit::Bytes) => base(1.0, "_bytes", &["_bytes"][..], "bytes"),
        Some(Unit::Megabytes) => base(MIB, "_bytes", &["_mb", "_mib", "_megabytes"][..], "MB"),
        Some(Unit::Percent) => base(
            0.01,
            "_ratio",
            &["_pct", "_percent", "_percentage"][..],
            "percent",
        ),
        Some(Unit::Ratio) => base(1.0, "_ratio", &["_ratio"][..], "ratio"),
        Some(Unit::PerSecond) => base(
            1.0,
            "_per_second",
            &["_per_sec", "_per_second"][..],
            "per second",
        ),
        Some(Unit::Count) => base(1.0, "", &[][..], "count"),
        None => base(1.0, "", &[][..], ""),
    }
}

/// The family name and help text of one component metric.
fn component_metric(
    prefix: &str,
    component: &str,
    unit: Option<Unit>,
    metric: &str,
) -> (String, String) {
    let unit = base_unit(unit);
    let mut stem = snake(metric);
    for ending in unit
        .spellings
        .iter()
        .chain(&["_total", "_count", "_sum", "_bucket"])
    {
        if stem.len() > ending.len() && stem.ends_with(ending) {
            stem.truncate(stem.len() - ending.len());
        }
    }
    let name = format!("{prefix}_{stem}{}", unit.suffix);
    let mut help = format!("Component {component} metric {metric}");
    if !unit.shown.is_empty() {
        let _ = write!(help, " (reported in {})", unit.shown);
    }
    match unit.suffix {
        "_seconds" => help.push_str(", in seconds."),
        "_bytes" => help.push_str(", in bytes."),
        "_ratio" => help.push_str(", as a ratio from 0 to 1."),
        "_per_second" => help.push_str(", per second."),
        _ => help.push('.'),
    }
    (name, help)
}

/// `rpcPool` → `rpc_pool`, `p95LatencyMs` → `p95_latency_ms`, `HTTPServer` → `http_server`;
/// anything but ASCII letters and digits becomes `_`, runs of `_` collapse, and a name that
/// would start with a digit gets a leading `m`.
fn snake(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() {
            let prev = i.checked_sub(1).map(|p| chars[p]);
            let next = chars.get(i + 1);
            let boundary = prev.is_some_and(|p| p.is_ascii_lowercase() || p.is_ascii_digit())
                || (prev.is_some_and(|p| p.is_ascii_uppercase())
                    && next.is_some_and(char::is_ascii_lowercase));
            if boundary && !out.ends_with('_') {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    while out.ends_with('_') {
        out.pop();
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'm');
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test, with its message
mod tests {
    use super::*;
    use crate::health::HealthStatus;

    #[test]
    fn names_are_snake_case() {
        assert_eq!(snake("rpcPool"), "rpc_pool");
        assert_eq!(snake("backpressureManager"), "backpressure_manager");
        assert_eq!(snake("p95LatencyMs"), "p95_latency_ms");
        assert_eq!(snake("HTTPServer"), "http_server");
        assert_eq!(snake("already_snake"), "already_snake");
        assert_eq!(snake("a-b.c  d"), "a_b_c_d");
        assert_eq!(snake("9lives"), "m9lives");
        assert_eq!(snake("--"), "m");
    }

    #[test]
    fn units_become_base_units() {
        let name = |unit, metric| component_metric("thorp_c", "c", unit, metric).0;
        assert_eq!(
            name(Some(Unit::Milliseconds), "p95LatencyMs"),
            "thorp_c_p95_latency_seconds"
        );
        assert_eq!(
            name(Some(Unit::Percent), "utilization"),
            "thorp_c_utilization_ratio"
        );
        assert_eq!(
            name(Some(Unit::Percent), "queueUtilPct"),
            "thorp_c_queue_util_ratio"
        );
        assert_eq!(name(Some(Unit::Megabytes), "heapMb"), "thorp_c_heap_bytes");
        assert_eq!(
            name(Some(Unit::Ratio), "successRate"),
            "thorp_c_success_rate_ratio"
        );
        assert_eq!(
            name(Some(Unit::PerSecond), "throughput"),
            "thorp_c_throughput_per_second"
        );
        assert_eq!(name(Some(Unit::Count), "requestsTotal"), "thorp_c_requests");
        assert_eq!(name(None, "failures"), "thorp_c_failures");
        assert_eq!(
            name(Some(Unit::Seconds), "uptimeSeconds"),
            "thorp_c_uptime_seconds"
        );
        assert!((base_unit(Some(Unit::Megabytes)).scale - 1_048_576.0).abs() < f64::EPSILON);
    }

    #[test]
    fn help_says_where_the_value_came_from() {
        let (_, help) = component_metric(
            "thorp_rpc_pool",
            "rpcPool",
            Some(Unit::Milliseconds),
            "p95LatencyMs",
        );
        assert_eq!(
            help,
            "Component rpcPool metric p95LatencyMs (reported in ms), in seconds."
        );
    }

    #[test]
    fn the_status_scale_matches_the_gauge() {
        assert_eq!(
            [
                HealthStatus::Healthy,
                HealthStatus::Degraded,
                HealthStatus::Critical
            ]
            .map(HealthStatus::as_gauge),
            [0, 1, 2]
        );
        assert_eq!(STATUS_SCALE, "0 healthy, 1 degraded, 2 critical");
    }
}
