//! [`TradingNode`]: builds the components from the config, routes config changes to them,
//! runs the slot pipeline, serves the ops endpoints and stops within the shutdown timeout.
//!
//! ```text
//! config file ─HotReload─> store ──(every event)──> detection thresholds
//!                               └─subscribers──> pool · breaker · backpressure · shutdown · simulator · log level
//! slot poller ─breaker─> rpc pool ─> simulator | real RPC
//!      └─backpressure admission─> event bus ─> detector ─> decisions (log, broadcast)
//! health monitor ──(every HEALTH_CHECK_INTERVAL_MS)──> reports · history · alerts
//! ops endpoints (127.0.0.1) <── config view and history
//! ```
//!
//! Start-up order is "fail before anything runs": the config is checked with every
//! component's own rules, the simulator (if any) and the ops socket are bound, and only then
//! do the poller and detector start. Shutdown runs the other way: the stop signal ends the
//! poller, the queue drains through detection (bounded by `SHUTDOWN_TIMEOUT_MS`), then the
//! health monitor, the ops server and the simulator stop within what is left of the timeout.

use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::{Arc, Weak};

use thorp_ops::config::{HotReload, ReloadHandle, Section};
use thorp_ops::health::{HealthMonitor, MonitorError, WebhookError, WebhookSink};
use thorp_ops::http::OpsRouter;
use tokio::net::TcpListener;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;
use tokio::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

use super::config::{
    DetectionConfig, ENDPOINT_KEYS, LoggingConfig, NodeConfig, RESTART_KEYS, SettingsProblem,
    Upstream,
};
use super::health::Sources;
use super::logging::LogControl;
use crate::node::backpressure::{Backpressure, BackpressureSettings};
use crate::node::breaker::{CircuitBreaker, CircuitBreakerSettings};
use crate::node::detection::{Decision, DetectionSettings, DetectionStats, Detector};
use crate::node::event_bus::{EventBus, EventBusMonitor, EventBusSettings};
use crate::node::invalid::InvalidSettings;
use crate::node::poller::{SlotPoller, SlotPollerMonitor};
use crate::node::rpc_pool::{BuildError, RpcPool};
use crate::node::shutdown::{ShutdownManager, ShutdownOutcome, ShutdownReason, ShutdownSettings};
use crate::node::simulator::{RpcSimulator, SimulatorError, SimulatorSettings};
use crate::node::source::SettingsSource;

/// Decisions kept for a slow reader of [`TradingNode::decisions`] before it starts missing some.
const DECISION_BUFFER: usize = 1024;

/// How a [`TradingNode`] runs, beyond its config file.
#[derive(Debug, Clone, Default)]
pub struct NodeOptions {
    /// Address of the ops endpoints, instead of `OPS_LISTEN` (`--listen`).
    pub listen: Option<SocketAddr>,
    /// Stop by itself after this long (`--run-for`).
    pub run_for: Option<Duration>,
    /// Stop on SIGINT/SIGTERM. The binary sets it; in-process tests call
    /// [`ShutdownManager::trigger`] instead and leave the process's signals alone.
    pub signals: bool,
    /// The installed log subscriber (already at the file's `LOG_LEVEL`), so changes of
    /// `LOG_LEVEL` apply while the node runs.
    pub log: Option<LogControl>,
}

/// Why the node did not start. Nothing is left running when this is returned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The config loaded, but a component's own rules refuse what it converts to.
    #[error("config refused by the components: {}", join(.0))]
    Settings(Vec<SettingsProblem>),
    /// The simulator could not start.
    #[error(transparent)]
    Simulator(#[from] SimulatorError),
    /// The RPC pool could not be built.
    #[error("rpc pool cannot start: {0}")]
    Pool(#[from] BuildError),
    /// The ops endpoints' socket could not be bound.
    #[error("cannot listen for the ops endpoints on {addr}")]
    OpsBind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The signal handlers could not be installed.
    #[error("cannot install the SIGINT/SIGTERM handlers")]
    Signals(#[source] std::io::Error),
    /// The health monitor refused its settings or could not start.
    #[error("health monitor cannot start: {0}")]
    Health(#[from] MonitorError),
    /// The alert webhook (`OPS_ALERT_WEBHOOK_URL`) could not be set up.
    #[error("alert webhook cannot be set up: {0}")]
    Webhook(#[from] WebhookError),
}

fn join(problems: &[SettingsProblem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Detection's thresholds, read from the config store on every event: one lock-free load and
/// a copy of five numbers, no lock, no allocation.
pub struct StoreThresholds {
    section: Section<NodeConfig, DetectionConfig>,
}

/// The thresholds of one event, converted from the section current when it was scored.
#[derive(Debug)]
pub struct Thresholds(DetectionSettings);

impl Deref for Thresholds {
    type Target = DetectionSettings;

    fn deref(&self) -> &DetectionSettings {
        &self.0
    }
}

impl SettingsSource<DetectionSettings> for StoreThresholds {
    type Guard = Thresholds;

    fn current(&self) -> Thresholds {
        Thresholds(DetectionSettings::from(&*self.section.load()))
    }
}

/// The detector as the node runs it.
pub type NodeDetector = Detector<StoreThresholds>;

/// The running service. Start it with [`TradingNode::start`], end it with [`TradingNode::run`]
/// (which waits for the stop: a signal, `--run-for`, or [`ShutdownManager::trigger`]).
pub struct TradingNode {
    config: HotReload<NodeConfig>,
    upstream: Upstream,
    simulator: Option<Arc<RpcSimulator>>,
    pool: RpcPool,
    breaker: CircuitBreaker,
    backpressure: Backpressure,
    shutdown: ShutdownManager,
    detector: Arc<NodeDetector>,
    monitor: HealthMonitor,
    bus: EventBusMonitor,
    poller: SlotPollerMonitor,
    decisions: broadcast::Sender<Decision>,
    ops_addr: SocketAddr,
    ops_stop: CancellationToken,
    ops_server: JoinHandle<()>,
    background: Vec<JoinHandle<()>>,
}

impl TradingNode {
    /// Starts every component from `config`'s current snapshot and keeps them following it.
    /// Must be called inside a multi-threaded tokio runtime.
    pub async fn start(
        config: HotReload<NodeConfig>,
        options: NodeOptions,
    ) -> Result<Self, StartError> {
        let snapshot = config.current();
        let cfg: &NodeConfig = &snapshot;
        let planned = cfg.planned_upstream();
        let problems = cfg.settings_problems(snapshot.values(), &planned);
        if !problems.is_empty() {
            return Err(StartError::Settings(problems));
        }
        // Built before anything starts (it needs no runtime until its first alert), so a sink
        // that cannot be set up refuses the start with nothing left running.
        let webhook = cfg
            .ops
            .alert_webhook
            .as_ref()
            .map(|url| WebhookSink::builder(url.expose().clone()).build())
            .transpose()?;
        let simulator = match planned {
            Upstream::Simulator(_) => {
                let sim = RpcSimulator::start_on(
                    cfg.simulator.listen,
                    SimulatorSettings::from(&cfg.simulator),
                )
                .await?;
                if !cfg.rpc_pool.configured_endpoints().is_empty() {
                    tracing::warn!("SIM_ENABLED=true: the configured RPC endpoints are not used");
                }
                Some(Arc::new(sim))
            }
            Upstream::Configured => None,
        };
        let upstream = match &simulator {
            Some(sim) => Upstream::Simulator(sim.url()),
            None => Upstream::Configured,
        };

        let pool = RpcPool::new(cfg.rpc_pool.settings(&upstream))?;
        let breaker = CircuitBreaker::new(CircuitBreakerSettings::from(&cfg.circuit_breaker));
        let backpressure = Backpressure::new(BackpressureSettings::from(&cfg.backpressure));
        let shutdown = ShutdownManager::new(ShutdownSettings::from(&cfg.shutdown));

        let listen = options.listen.unwrap_or(cfg.ops.listen);
        let listener = TcpListener::bind(listen)
            .await
            .map_err(|source| StartError::OpsBind {
                addr: listen,
                source,
            })?;
        let ops_addr = listener
            .local_addr()
            .map_err(|source| StartError::OpsBind {
                addr: listen,
                source,
            })?;
        if !ops_addr.ip().is_loopback() {
            tracing::warn!(%ops_addr, "ops endpoints listen beyond loopback; keep them behind a proxy or firewall");
        }
        if options.signals {
            shutdown.listen_for_signals().map_err(StartError::Signals)?;
        }

        // Nothing can fail from here on: wire the config to the components, then start work.
        Self::follow_config(
            &config,
            &upstream,
            &pool,
            &breaker,
            &backpressure,
            &shutdown,
        );
        Self::follow_simulator(&config, simulator.as_ref().map(Arc::downgrade));
        Self::follow_logging(&config, options.log);
        Self::veto_invalid(&config, &upstream);

        let (bus, stream) = EventBus::new(EventBusSettings::from(&cfg.event_bus));
        let bus_monitor = bus.monitor();
        let poller = SlotPoller::new(
            pool.clone(),
            breaker.clone(),
            bus,
            backpressure.clone(),
            (&cfg.slot_poller).into(),
        );
        let poller_monitor = poller.monitor();
        let detector = Arc::new(Detector::new(StoreThresholds {
            section: config.store().section(|c: &NodeConfig| &c.detection),
        }));
        let monitor = Sources {
            rpc_pool: {
                let pool = pool.clone();
                move || pool.stats()
            },
            circuit_breaker: {
                let breaker = breaker.clone();
                move || breaker.stats()
            },
            event_bus: {
                let bus = bus_monitor.clone();
                move || bus.stats()
            },
            backpressure: {
                let backpressure = backpressure.clone();
                move || backpressure.stats()
            },
            slot_poller: {
                let poller = poller_monitor.clone();
                move || poller.stats()
            },
            detection: {
                let detector = Arc::clone(&detector);
                move || detector.stats()
            },
        }
        .monitor(
            cfg.health
                .settings(snapshot.values())
                .map_err(MonitorError::from)?,
            webhook.clone(),
        )?;
        if let Some(url) = &cfg.ops.alert_webhook {
            // The URL may carry a token: only its host is logged.
            let host = url.expose().host_str().unwrap_or_default();
            tracing::info!(host, "alerts are also sent to a webhook");
        }
        // Interval, thresholds and alert rules from the next check on; a reload whose health
        // keys the monitor would refuse is rejected before it applies.
        monitor
            .follow_config(&config, |c: &NodeConfig| &c.health)
            .map_err(MonitorError::from)?;
        let (decisions, _) = broadcast::channel(DECISION_BUFFER);
        shutdown.spawn(poller.run(shutdown.token()));
        shutdown.spawn({
            let (detector, decisions) = (Arc::clone(&detector), decisions.clone());
            async move {
                // No receiver is the normal case outside tests: nothing to deliver to.
                detector
                    .run(stream, |decision| drop(decisions.send(decision)))
                    .await;
            }
        });

        let ops_stop = CancellationToken::new();
        // The admin token is read from the live store at each acknowledgement: a reload that
        // changes OPS_ADMIN_TOKEN applies at the next request.
        let store = config.store().clone();
        let mut ops = OpsRouter::new()
            .config(config.handle())
            .health(monitor.clone())
            .admin_token(move || store.load().ops.admin_token.clone());
        if let Some(webhook) = webhook {
            // Its delivered, failed and dropped counts on /metrics.
            ops = ops.webhook(webhook);
        }
        let router = ops.router();
        // Served here rather than through `thorp_ops::http::serve`, which binds by itself: the
        // socket is bound above so a port in use fails the start, and `--listen 127.0.0.1:0`
        // can report the port it got.
        let ops_server = tokio::spawn({
            let stop = ops_stop.clone();
            async move {
                let serve =
                    axum::serve(listener, router).with_graceful_shutdown(stop.cancelled_owned());
                if let Err(error) = serve.await {
                    tracing::error!(%ops_addr, %error, "ops endpoints stopped with an error");
                }
            }
        });

        // First check now (logged by the monitor), then every HEALTH_CHECK_INTERVAL_MS.
        monitor.start()?;
        let mut node = Self {
            config,
            upstream,
            simulator,
            pool,
            breaker,
            backpressure,
            shutdown,
            detector,
            monitor,
            bus: bus_monitor,
            poller: poller_monitor,
            decisions,
            ops_addr,
            ops_stop,
            ops_server,
            background: Vec::new(),
        };
        node.background.push(node.spawn_status_log());
        if let Some(after) = options.run_for {
            let shutdown = node.shutdown.clone();
            node.background.push(tokio::spawn(async move {
                tokio::time::sleep(after).await;
                tracing::info!(run_for_ms = millis(after), "run time over");
                shutdown.trigger(ShutdownReason::Requested);
            }));
        }
        tracing::info!(
            %ops_addr,
            upstream = node.upstream_label(),
            config = %node.config.path().display(),
            config_version = snapshot.version(),
            "trading-node started"
        );
        Ok(node)
    }

    /// Waits for the stop, drains in-flight work within `SHUTDOWN_TIMEOUT_MS`, then closes the
    /// ops endpoints and the simulator in what is left of it. The outcome's
    /// [`exit_code`](ShutdownOutcome::exit_code) is the process's.
    pub async fn run(self) -> ShutdownOutcome {
        self.shutdown.triggered().await;
        let started = Instant::now();
        let budget = Duration::from_millis(self.shutdown.stats().timeout_ms);
        let outcome = self.shutdown.drain().await;
        for task in &self.background {
            task.abort();
        }
        let left = || budget.saturating_sub(started.elapsed());

        if tokio::time::timeout(left(), self.monitor.stop())
            .await
            .is_err()
        {
            tracing::warn!("health monitor did not stop in time");
        }
        self.ops_stop.cancel();
        let mut ops_server = self.ops_server;
        if tokio::time::timeout(left(), &mut ops_server).await.is_err() {
            tracing::warn!("ops endpoints did not close in time; closing them now");
            ops_server.abort();
        }
        // The config's subscribers hold the simulator weakly, so this is normally the last
        // reference; if a subscriber is applying a change right now, dropping ours is enough.
        if let Some(sim) = self.simulator.and_then(|sim| Arc::try_unwrap(sim).ok())
            && tokio::time::timeout(left(), sim.shutdown()).await.is_err()
        {
            tracing::warn!("rpc simulator did not close in time");
        }
        drop(self.config);
        tracing::info!(
            reason = %outcome.reason,
            drained = outcome.drained,
            elapsed_ms = millis(started.elapsed()),
            exit_code = outcome.exit_code(),
            "trading-node stopped"
        );
        outcome
    }

    /// The live config: current snapshot, history, reload on demand.
    pub fn config(&self) -> &ReloadHandle<NodeConfig> {
        &self.config
    }

    /// Where RPC requests go.
    pub fn upstream(&self) -> &Upstream {
        &self.upstream
    }

    /// The simulator, when the node runs on it.
    pub fn simulator(&self) -> Option<&RpcSimulator> {
        self.simulator.as_deref()
    }

    /// The RPC pool (shared: requests made through it count in its figures).
    pub fn pool(&self) -> &RpcPool {
        &self.pool
    }

    /// The circuit breaker around the pool.
    pub fn breaker(&self) -> &CircuitBreaker {
        &self.breaker
    }

    /// The admission control in front of the event bus.
    pub fn backpressure(&self) -> &Backpressure {
        &self.backpressure
    }

    /// The shutdown manager: [`trigger`](ShutdownManager::trigger) stops the node.
    pub fn shutdown(&self) -> &ShutdownManager {
        &self.shutdown
    }

    /// The health monitor over the node's components.
    pub fn health(&self) -> &HealthMonitor {
        &self.monitor
    }

    /// Figures of the event bus.
    pub fn bus(&self) -> &EventBusMonitor {
        &self.bus
    }

    /// Figures of the slot poller.
    pub fn poller(&self) -> &SlotPollerMonitor {
        &self.poller
    }

    /// Figures of the detector.
    pub fn detection(&self) -> DetectionStats {
        self.detector.stats()
    }

    /// Every decision from now on (a reader that falls more than 1024 behind misses some).
    pub fn decisions(&self) -> broadcast::Receiver<Decision> {
        self.decisions.subscribe()
    }

    /// Where the ops endpoints listen.
    pub fn ops_addr(&self) -> SocketAddr {
        self.ops_addr
    }

    fn upstream_label(&self) -> &'static str {
        match self.upstream {
            Upstream::Simulator(_) => "simulator",
            Upstream::Configured => "configured endpoints",
        }
    }

    /// Routes each component's section to it. A handler applies only a real change: several
    /// sections share prefixes (`RPC_BREAKER_` is under `RPC_`), so a handler can be called
    /// for a change that is not its own.
    fn follow_config(
        config: &HotReload<NodeConfig>,
        upstream: &Upstream,
        pool: &RpcPool,
        breaker: &CircuitBreaker,
        backpressure: &Backpressure,
        shutdown: &ShutdownManager,
    ) {
        let (pool, upstream) = (pool.clone(), upstream.clone());
        config.subscribe("rpcPool", |c: &NodeConfig| &c.rpc_pool, move |update| {
            let (pool, upstream) = (pool.clone(), upstream.clone());
            async move {
                if matches!(upstream, Upstream::Simulator(_)) {
                    let keys = changed(update.changes(), ENDPOINT_KEYS);
                    if !keys.is_empty() {
                        tracing::warn!(?keys, "rpc endpoints changed; the node runs on the simulator until restarted");
                    }
                }
                let settings = update.settings(&upstream);
                if settings != pool.settings() {
                    pool.update(settings)?;
                }
                Ok(())
            }
        });
        let breaker = breaker.clone();
        config.subscribe(
            "circuitBreaker",
            |c: &NodeConfig| &c.circuit_breaker,
            move |update| {
                let breaker = breaker.clone();
                async move {
                    breaker.update(CircuitBreakerSettings::from(update.section()));
                    Ok(())
                }
            },
        );
        let backpressure = backpressure.clone();
        config.subscribe(
            "backpressureManager",
            |c: &NodeConfig| &c.backpressure,
            move |update| {
                let backpressure = backpressure.clone();
                async move {
                    // Logs the old and new limit itself when it changes.
                    backpressure.update(&BackpressureSettings::from(update.section()));
                    Ok(())
                }
            },
        );
        let shutdown = shutdown.clone();
        config.subscribe(
            "shutdownManager",
            |c: &NodeConfig| &c.shutdown,
            move |update| {
                let shutdown = shutdown.clone();
                async move {
                    shutdown.update(ShutdownSettings::from(update.section()));
                    tracing::info!(timeout_ms = update.timeout_ms, "shutdown timeout changed");
                    Ok(())
                }
            },
        );
        config.subscribe_all("restartOnly", |update| async move {
            let keys = changed(update.changes(), RESTART_KEYS);
            if !keys.is_empty() {
                tracing::warn!(?keys, "changed keys take effect at the next restart");
            }
            Ok(())
        });
    }

    /// Applies `SIM_` latency, jitter and error rate to the running simulator: how a fault
    /// is injected by editing the file.
    fn follow_simulator(config: &HotReload<NodeConfig>, sim: Option<Weak<RpcSimulator>>) {
        let Some(sim) = sim else { return };
        config.subscribe(
            "simulator",
            |c: &NodeConfig| &c.simulator,
            move |update| {
                let sim = sim.clone();
                async move {
                    if let Some(sim) = sim.upgrade() {
                        sim.update(&SimulatorSettings::from(update.section()));
                    }
                    Ok(())
                }
            },
        );
    }

    fn follow_logging(config: &HotReload<NodeConfig>, log: Option<LogControl>) {
        let Some(log) = log else { return };
        config.subscribe(
            "logging",
            |c: &NodeConfig| &c.logging,
            move |update| {
                let log = log.clone();
                async move {
                    if update
                        .changes()
                        .iter()
                        .any(|change| change.key == "LOG_LEVEL")
                    {
                        log.set_level(update.level);
                    }
                    Ok(())
                }
            },
        );
    }

    /// Lets each component refuse, before it is applied, a reload its own rules reject: the
    /// same checks [`NodeConfig::settings_problems`] runs at start.
    fn veto_invalid(config: &HotReload<NodeConfig>, upstream: &Upstream) {
        fn refuse(result: Result<(), InvalidSettings>) -> Result<(), String> {
            result.map_err(|invalid| invalid.to_string())
        }
        let upstream = upstream.clone();
        config.veto(
            "rpcPool",
            |c: &NodeConfig| &c.rpc_pool,
            move |section| refuse(section.settings(&upstream).validate()),
        );
        config.veto(
            "circuitBreaker",
            |c: &NodeConfig| &c.circuit_breaker,
            |section| refuse(CircuitBreakerSettings::from(section).validate()),
        );
        config.veto(
            "backpressureManager",
            |c: &NodeConfig| &c.backpressure,
            |section| refuse(BackpressureSettings::from(section).validate()),
        );
        config.veto(
            "detection",
            |c: &NodeConfig| &c.detection,
            |section| refuse(DetectionSettings::from(section).validate()),
        );
        config.veto(
            "simulator",
            |c: &NodeConfig| &c.simulator,
            |section| refuse(SimulatorSettings::from(section).validate()),
        );
    }

    /// One `info` line every `LOG_STATUS_INTERVAL_MS` with the figures an operator looks at
    /// first. The interval is read from the store each time, so a change applies after the
    /// current wait.
    fn spawn_status_log(&self) -> JoinHandle<()> {
        let section: Section<NodeConfig, LoggingConfig> =
            self.config.store().section(|c: &NodeConfig| &c.logging);
        let stop = self.shutdown.token();
        let (pool, breaker, backpressure) = (
            self.pool.clone(),
            self.breaker.clone(),
            self.backpressure.clone(),
        );
        let (bus, poller, detector) = (
            self.bus.clone(),
            self.poller.clone(),
            Arc::clone(&self.detector),
        );
        tokio::spawn(async move {
            loop {
                let interval_ms = section.load().status_interval_ms;
                // Off (0): look again in a second, in case it is switched back on.
                let wait =
                    Duration::from_millis(if interval_ms == 0 { 1_000 } else { interval_ms });
                tokio::select! {
                    () = stop.cancelled() => return,
                    () = tokio::time::sleep(wait) => {}
                }
                if interval_ms == 0 {
                    continue;
                }
                let (rpc, queue, admission) = (pool.stats(), bus.stats(), backpressure.stats());
                let (polls, detection) = (poller.stats(), detector.stats());
                tracing::info!(
                    slot = polls.last_slot,
                    rpc_success_rate = rpc.success_rate,
                    rpc_p95_ms = rpc.p95_latency_ms,
                    rpc_requests = rpc.requests,
                    rpc_failures = rpc.failures,
                    breaker = %breaker.state(),
                    queue_depth = queue.queue_depth,
                    events_per_second = queue.events_per_second,
                    backpressure_pct = admission.utilization,
                    events = detection.events,
                    signals = detection.signals,
                    min_edge_score = detection.min_edge_score,
                    "node status"
                );
            }
        })
    }
}

/// The keys among `changes` that are in `keys`.
fn changed<'a>(changes: &'a [thorp_ops::config::Change], keys: &[&str]) -> Vec<&'a str> {
    changes
        .iter()
        .map(|change| change.key.as_str())
        .filter(|key| keys.contains(key))
        .collect()
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
