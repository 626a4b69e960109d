//! Helpers for the `trading_*` tests: a running `TradingNode` on a temp config file, edits of
//! that file, and waits driven by health reports, reload records and decisions.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use thorp_examples::node::detection::Decision;
use thorp_examples::trading::config::NodeConfig;
use thorp_examples::trading::node::{NodeOptions, TradingNode};
use thorp_ops::config::{HotReload, Outcome, ReloadOptions, ReloadRecord, SubscriberResult};
use thorp_ops::health::{ComponentReport, HealthReport, HealthStatus};
use tokio::sync::broadcast;

use super::ConfigDir;

/// Longest a trading test waits for a condition: generous, as the node runs real HTTP traffic
/// on a shared, loaded CI machine; a passing test never waits that long.
pub const NODE_WAIT: Duration = Duration::from_secs(15);

/// A node that is fast to observe: slots and polls every 20 ms, a 1 ms simulator, a health
/// check every 100 ms, a 1 s RPC stats window, a breaker that opens after 3 failures for
/// 300 ms, ops endpoints on a free port.
pub const FAST: &[(&str, &str)] = &[
    ("SIM_ENABLED", "true"),
    ("SIM_SLOT_MS", "20"),
    ("SIM_LATENCY_MS", "1"),
    ("SIM_LATENCY_JITTER_MS", "0"),
    ("SIM_ERROR_RATE", "0"),
    ("SLOT_POLL_INTERVAL_MS", "20"),
    ("RPC_STATS_WINDOW_MS", "1000"),
    ("RPC_BREAKER_FAILURE_THRESHOLD", "3"),
    ("RPC_BREAKER_OPEN_MS", "300"),
    ("RPC_BREAKER_HALF_OPEN_PROBES", "1"),
    ("HEALTH_CHECK_INTERVAL_MS", "100"),
    ("LOG_STATUS_INTERVAL_MS", "0"),
    ("SHUTDOWN_TIMEOUT_MS", "3000"),
    ("OPS_LISTEN", "127.0.0.1:0"),
];

/// A config file's keys, edited by tests and written out whole.
#[derive(Clone, Debug)]
pub struct Keys(BTreeMap<String, String>);

impl Keys {
    /// [`FAST`] with `changes` on top.
    pub fn fast(changes: &[(&str, &str)]) -> Self {
        let mut keys = Self(BTreeMap::new());
        keys.set(FAST).set(changes);
        keys
    }

    /// Sets each `(key, value)`.
    pub fn set(&mut self, changes: &[(&str, &str)]) -> &mut Self {
        for (key, value) in changes {
            self.0.insert((*key).to_owned(), (*value).to_owned());
        }
        self
    }

    /// Removes `key` from the file.
    pub fn remove(&mut self, key: &str) -> &mut Self {
        self.0.remove(key);
        self
    }

    /// The `.env` text.
    pub fn text(&self) -> String {
        self.0.iter().map(|(k, v)| format!("{k}={v}\n")).collect()
    }
}

/// A node running on a config file in a temp directory.
pub struct Node {
    pub dir: ConfigDir,
    pub keys: Keys,
    pub node: TradingNode,
    pub events: broadcast::Receiver<ReloadRecord>,
}

impl Node {
    /// Starts a node on `keys`.
    pub async fn start(keys: Keys) -> Self {
        let dir = ConfigDir::new(&keys.text());
        let config = HotReload::<NodeConfig>::start(
            &dir.path,
            ReloadOptions::default().debounce(Duration::from_millis(10)),
        )
        .await
        .unwrap_or_else(|errors| panic!("test config is valid:\n{errors}"));
        let events = config.events();
        let node = TradingNode::start(config, NodeOptions::default())
            .await
            .unwrap_or_else(|error| panic!("node starts: {error}"));
        Self {
            dir,
            keys,
            node,
            events,
        }
    }

    /// Changes keys in the file the way editors save (write beside it, rename over it), and
    /// waits until the reload is applied.
    pub async fn edit(&mut self, changes: &[(&str, &str)]) -> ReloadRecord {
        self.keys.set(changes);
        self.dir.replace(self.keys.text());
        let deadline = tokio::time::Instant::now() + NODE_WAIT;
        loop {
            let record = match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Ok(record)) => record,
                Ok(Err(broadcast::error::RecvError::Lagged(_))) => continue,
                Ok(Err(broadcast::error::RecvError::Closed)) => panic!("reload events closed"),
                Err(_) => panic!("edit {changes:?} not applied within {NODE_WAIT:?}"),
            };
            match record.outcome {
                Outcome::Applied => return self.subscribers_done(record).await,
                Outcome::Unchanged => {}
                _ => panic!("edit {changes:?} was not applied: {record:#?}"),
            }
        }
    }

    /// The record of `applied` once every subscriber it notified has finished. The reload
    /// event goes out before subscribers run and nothing signals their end, so this looks at
    /// the history until none is pending (bounded, a few milliseconds in practice).
    async fn subscribers_done(&self, applied: ReloadRecord) -> ReloadRecord {
        let deadline = tokio::time::Instant::now() + NODE_WAIT;
        loop {
            let record = self
                .node
                .config()
                .history()
                .into_iter()
                .find(|record| record.attempt == applied.attempt)
                .unwrap_or_else(|| applied.clone());
            let pending = record
                .subscribers
                .iter()
                .any(|s| s.result == SubscriberResult::Pending);
            if !pending {
                let failed: Vec<_> = record
                    .subscribers
                    .iter()
                    .filter(|s| s.result != SubscriberResult::Ok)
                    .collect();
                assert!(
                    failed.is_empty(),
                    "subscribers did not apply the edit: {failed:#?}"
                );
                return record;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "subscribers still running after {NODE_WAIT:?}: {record:#?}"
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    /// The first health report from now on for which `wanted` holds.
    pub async fn report_where(
        &self,
        what: &str,
        wanted: impl Fn(&HealthReport) -> bool,
    ) -> Arc<HealthReport> {
        let mut reports = self.node.health().subscribe();
        let found = tokio::time::timeout(
            NODE_WAIT,
            reports.wait_for(|report| report.as_deref().is_some_and(&wanted)),
        )
        .await;
        match found {
            Ok(Ok(report)) => report.clone().expect("matched a report"),
            Ok(Err(_)) => panic!("health monitor stopped before: {what}"),
            Err(_) => {
                let last = self.node.health().latest();
                panic!("no health report within {NODE_WAIT:?} with {what}; last: {last:#?}")
            }
        }
    }

    /// The first decision from now on for which `wanted` holds.
    pub async fn decision_where(
        decisions: &mut broadcast::Receiver<Decision>,
        what: &str,
        wanted: impl Fn(&Decision) -> bool,
    ) -> Decision {
        let deadline = tokio::time::Instant::now() + NODE_WAIT;
        loop {
            match tokio::time::timeout_at(deadline, decisions.recv()).await {
                Ok(Ok(decision)) if wanted(&decision) => return decision,
                Ok(Ok(_) | Err(broadcast::error::RecvError::Lagged(_))) => {}
                Ok(Err(broadcast::error::RecvError::Closed)) => panic!("decisions closed"),
                Err(_) => panic!("no decision within {NODE_WAIT:?} with {what}"),
            }
        }
    }
}

/// The component called `name` in `report`.
pub fn component<'a>(report: &'a HealthReport, name: &str) -> &'a ComponentReport {
    report
        .component(name)
        .unwrap_or_else(|| panic!("{name} is in every report"))
}

/// Whether `name` has `status` and (if given) `issue` in `report`.
pub fn is(report: &HealthReport, name: &str, status: HealthStatus, issue: Option<&str>) -> bool {
    report.component(name).is_some_and(|c| {
        c.health.status == status && (issue.is_none() || c.health.issue.as_deref() == issue)
    })
}
