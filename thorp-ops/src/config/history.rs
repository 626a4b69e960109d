//! The bounded record of reload attempts and the counters an operator reads first.

use super::error::ConfigErrors;
use super::values::Change;
use serde::Serialize;
use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime};

/// What started a reload attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum Trigger {
    /// The first load at start-up.
    Initial,
    /// The file watcher saw the file change.
    Watch,
    /// A call to `reload()`.
    Manual,
    /// SIGHUP.
    Signal,
}

/// How a reload attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum Outcome {
    /// A new snapshot was published.
    Applied,
    /// The file was refused; the previous config stays.
    Rejected,
    /// The file is valid and sets the same values: nothing was published or notified.
    Unchanged,
}

/// How one subscriber took a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "result", content = "error")]
#[non_exhaustive]
pub enum SubscriberResult {
    /// Still running.
    Pending,
    /// Returned `Ok`.
    Ok,
    /// Returned an error.
    Failed(String),
    /// Did not finish within its timeout; it was cancelled.
    TimedOut,
    /// Panicked; the panic was contained.
    Panicked(String),
    /// Skipped: a newer change reached the subscriber first and replaced this one.
    Superseded,
}

/// One subscriber's part in an applied reload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriberRecord {
    /// The subscriber's name.
    pub name: String,
    /// What happened.
    #[serde(flatten)]
    pub result: SubscriberResult,
    /// How long it ran.
    #[serde(serialize_with = "serialize_millis", rename = "durationMs")]
    pub duration: Duration,
}

/// One problem of a rejected reload, as shown (secret values redacted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordedError {
    /// 1-based line, when the problem has one.
    pub line: Option<u32>,
    /// The key, when the problem has one.
    pub key: Option<String>,
    /// The whole message, as `ConfigError` displays it.
    pub message: String,
}

impl RecordedError {
    pub(crate) fn from_errors(errors: &ConfigErrors) -> Vec<Self> {
        errors
            .errors()
            .iter()
            .map(|error| Self {
                line: error.line,
                key: error.key.clone(),
                message: error.to_string(),
            })
            .collect()
    }
}

/// One reload attempt. Holds no secret: changes and errors are redacted when recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReloadRecord {
    /// Attempt number, from 1.
    pub attempt: u64,
    /// When the attempt started.
    #[serde(serialize_with = "crate::time::serialize")]
    pub at: SystemTime,
    /// What started it.
    pub trigger: Trigger,
    /// How it ended.
    pub outcome: Outcome,
    /// The config version after the attempt (the new one when applied).
    pub version: u64,
    /// The changed keys, when applied.
    pub changes: Vec<Change>,
    /// Every problem, when rejected.
    pub errors: Vec<RecordedError>,
    /// Each notified subscriber's result, when applied.
    pub subscribers: Vec<SubscriberRecord>,
    /// From the start of the attempt to the publish (or the refusal); subscribers run after.
    #[serde(serialize_with = "serialize_millis", rename = "durationMs")]
    pub duration: Duration,
}

/// Totals over the manager's life, history bound or not.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReloadStats {
    /// Attempts, the initial load included.
    pub attempts: u64,
    /// Attempts that published a new snapshot.
    pub applied: u64,
    /// Attempts refused.
    pub rejected: u64,
    /// Valid attempts that changed nothing.
    pub unchanged: u64,
    /// When an attempt last succeeded (applied or unchanged).
    #[serde(serialize_with = "crate::time::serialize_opt")]
    pub last_success: Option<SystemTime>,
    /// The first error of the last rejected attempt, redacted.
    pub last_error: Option<String>,
}

/// A ring of the last `capacity` records plus the totals.
pub(crate) struct History {
    inner: Mutex<Ring>,
}

struct Ring {
    records: VecDeque<ReloadRecord>,
    capacity: usize,
    stats: ReloadStats,
}

impl History {
    pub(crate) fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Self {
            inner: Mutex::new(Ring {
                records: VecDeque::with_capacity(capacity),
                capacity,
                stats: ReloadStats::default(),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Ring> {
        // A panic while holding this lock leaves a consistent ring (every change is one push or
        // one field write), so keep using it.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn next_attempt(&self) -> u64 {
        let mut ring = self.lock();
        ring.stats.attempts += 1;
        ring.stats.attempts
    }

    pub(crate) fn push(&self, record: ReloadRecord) {
        let mut ring = self.lock();
        match record.outcome {
            Outcome::Applied => ring.stats.applied += 1,
            Outcome::Rejected => ring.stats.rejected += 1,
            Outcome::Unchanged => ring.stats.unchanged += 1,
        }
        if record.outcome == Outcome::Rejected {
            ring.stats.last_error = record.errors.first().map(|error| error.message.clone());
        } else {
            ring.stats.last_success = Some(record.at);
        }
        if ring.records.len() == ring.capacity {
            ring.records.pop_front();
        }
        ring.records.push_back(record);
    }

    /// Records a finished attempt: pushes it, or, when `apply` already pushed it so that
    /// subscribers could report into it, sets its final duration.
    pub(crate) fn finish(&self, record: &ReloadRecord) {
        {
            let mut ring = self.lock();
            if let Some(kept) = ring
                .records
                .iter_mut()
                .rev()
                .find(|kept| kept.attempt == record.attempt)
            {
                kept.duration = record.duration;
                return;
            }
        }
        self.push(record.clone());
    }

    /// Sets one subscriber's result in the record of `attempt`, if it is still kept.
    pub(crate) fn set_subscriber(
        &self,
        attempt: u64,
        name: &str,
        result: SubscriberResult,
        duration: Duration,
    ) {
        let mut ring = self.lock();
        let Some(record) = ring
            .records
            .iter_mut()
            .rev()
            .find(|record| record.attempt == attempt)
        else {
            return;
        };
        if let Some(entry) = record
            .subscribers
            .iter_mut()
            .find(|entry| entry.name == name)
        {
            entry.result = result;
            entry.duration = duration;
        }
    }

    pub(crate) fn records(&self) -> Vec<ReloadRecord> {
        self.lock().records.iter().cloned().collect()
    }

    pub(crate) fn stats(&self) -> ReloadStats {
        self.lock().stats.clone()
    }
}

fn serialize_millis<S: serde::Serializer>(
    duration: &Duration,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64(duration.as_secs_f64() * 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(attempt: u64, outcome: Outcome) -> ReloadRecord {
        ReloadRecord {
            attempt,
            at: SystemTime::UNIX_EPOCH,
            trigger: Trigger::Watch,
            outcome,
            version: 1,
            changes: Vec::new(),
            errors: Vec::new(),
            subscribers: vec![SubscriberRecord {
                name: "a".into(),
                result: SubscriberResult::Pending,
                duration: Duration::ZERO,
            }],
            duration: Duration::ZERO,
        }
    }

    #[test]
    fn history_keeps_the_last_records_and_all_counts() {
        let history = History::new(3);
        for attempt in 1..=10 {
            history.push(record(
                attempt,
                if attempt % 2 == 0 {
                    Outcome::Applied
                } else {
                    Outcome::Rejected
                },
            ));
        }
        let kept: Vec<u64> = history.records().iter().map(|r| r.attempt).collect();
        assert_eq!(kept, [8, 9, 10]);
        let stats = history.stats();
        assert_eq!((stats.applied, stats.rejected), (5, 5));
    }

    #[test]
    fn subscriber_results_are_filled_in_later() {
        let history = History::new(10);
        history.push(record(1, Outcome::Applied));
        history.set_subscriber(1, "a", SubscriberResult::TimedOut, Duration::from_secs(5));
        assert_eq!(
            history.records()[0].subscribers[0].result,
            SubscriberResult::TimedOut
        );
    }

    #[test]
    fn records_serialize_in_camel_case() {
        let json = serde_json::to_value(record(1, Outcome::Applied)).unwrap_or_default();
        assert_eq!(json["outcome"], "applied");
        assert_eq!(json["subscribers"][0]["result"], "pending");
        assert!(json.get("durationMs").is_some());
        assert_eq!(json["at"], "1970-01-01T00:00:00.000Z");
    }
}
