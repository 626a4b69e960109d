//! Routed subscribers: each runs in its own task, gets only its changes, under a timeout, with
//! panics contained.
//!
//! A reload never waits for a subscriber. It leaves the update in the subscriber's slot and
//! wakes its task; if the subscriber is still busy with an earlier update, the new one replaces
//! the waiting one (changes merged), so a slow subscriber ends on the latest config without a
//! queue that grows and without ever holding up the reload or the other subscribers.

use super::history::{History, SubscriberResult};
use super::schema::Schema;
use super::store::Snapshot;
use super::values::Change;
use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::{Notify, watch};
use tokio::time::Instant;

/// The error a subscriber returns to say it could not apply a change.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

type BoxFuture = Pin<Box<dyn Future<Output = Result<(), BoxError>> + Send>>;
pub(crate) type Handler<T> =
    Arc<dyn Fn(Arc<Snapshot<T>>, Arc<[Change]>) -> BoxFuture + Send + Sync>;

/// What a subscriber receives: its section of the new config (through `Deref`) and the changes
/// that concern it, values redacted where secret.
pub struct Update<T, S: ?Sized> {
    snapshot: Arc<Snapshot<T>>,
    project: fn(&T) -> &S,
    changes: Arc<[Change]>,
}

impl<T, S: ?Sized> Update<T, S> {
    pub(crate) fn new(
        snapshot: Arc<Snapshot<T>>,
        project: fn(&T) -> &S,
        changes: Arc<[Change]>,
    ) -> Self {
        Self {
            snapshot,
            project,
            changes,
        }
    }

    /// The subscriber's section of the new config.
    pub fn section(&self) -> &S {
        (self.project)(self.snapshot.config())
    }

    /// The changes that concern this subscriber.
    pub fn changes(&self) -> &[Change] {
        &self.changes
    }

    /// The version of the new config.
    pub fn version(&self) -> u64 {
        self.snapshot.version()
    }

    /// The whole new snapshot.
    pub fn snapshot(&self) -> &Arc<Snapshot<T>> {
        &self.snapshot
    }
}

impl<T, S: ?Sized> Deref for Update<T, S> {
    type Target = S;

    fn deref(&self) -> &S {
        self.section()
    }
}

/// Which changed keys concern a subscriber.
#[derive(Clone, Copy)]
pub(crate) enum Route {
    /// Every key.
    All,
    /// Keys the section declares or that fall under its component's prefixes.
    Schema(&'static Schema),
}

impl Route {
    fn concerns(self, key: &str) -> bool {
        match self {
            Self::All => true,
            Self::Schema(schema) => schema.concerns(key),
        }
    }

    pub(crate) fn select(self, changes: &[Change]) -> Vec<Change> {
        changes
            .iter()
            .filter(|change| self.concerns(&change.key))
            .cloned()
            .collect()
    }
}

struct Pending<T> {
    snapshot: Arc<Snapshot<T>>,
    changes: Vec<Change>,
    attempt: u64,
}

/// One subscriber's slot and wake-up; its task runs [`run`].
pub(crate) struct Subscriber<T> {
    pub(crate) name: Arc<str>,
    pub(crate) route: Route,
    pending: Mutex<Option<Pending<T>>>,
    wake: Notify,
}

impl<T> Subscriber<T> {
    pub(crate) fn new(name: Arc<str>, route: Route) -> Self {
        Self {
            name,
            route,
            pending: Mutex::new(None),
            wake: Notify::new(),
        }
    }

    /// Leaves an update for the subscriber's task. An update still waiting is replaced (its
    /// record says so) and its changes merged in, so nothing the subscriber should know is lost.
    pub(crate) fn offer(
        &self,
        snapshot: Arc<Snapshot<T>>,
        changes: Vec<Change>,
        attempt: u64,
        history: &History,
    ) {
        let mut slot = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        let changes = match slot.take() {
            Some(waiting) => {
                history.set_subscriber(
                    waiting.attempt,
                    &self.name,
                    SubscriberResult::Superseded,
                    Duration::ZERO,
                );
                merge(waiting.changes, changes)
            }
            None => changes,
        };
        *slot = Some(Pending {
            snapshot,
            changes,
            attempt,
        });
        drop(slot);
        self.wake.notify_one();
    }

    fn take(&self) -> Option<Pending<T>> {
        self.pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}

/// `earlier` then `later` as one set of changes: per key, the first old value and the last new.
fn merge(earlier: Vec<Change>, later: Vec<Change>) -> Vec<Change> {
    let mut merged = earlier;
    for change in later {
        match merged.iter_mut().find(|known| known.key == change.key) {
            Some(known) => known.new = change.new,
            None => merged.push(change),
        }
    }
    merged.retain(|change| change.old != change.new || change.secret);
    merged
}

/// A subscriber's task: waits for updates and runs the handler on each, one at a time.
pub(crate) async fn run<T: Send + Sync + 'static>(
    subscriber: Arc<Subscriber<T>>,
    handler: Handler<T>,
    timeout: Duration,
    history: Arc<History>,
    mut stop: watch::Receiver<()>,
) {
    loop {
        tokio::select! {
            biased;
            _ = stop.changed() => return,
            () = subscriber.wake.notified() => {}
        }
        let Some(pending) = subscriber.take() else {
            continue;
        };
        let started = Instant::now();
        // Its own task, so a panic is caught by the runtime and a timeout can abort it. The
        // handler is called inside the task too: a closure that panics before returning its
        // future would otherwise kill this loop and the subscriber with it.
        let call = handler.clone();
        let changes: Arc<[Change]> = Arc::from(pending.changes);
        let mut task = tokio::spawn(async move { call(pending.snapshot, changes).await });
        let result = tokio::select! {
            biased;
            _ = stop.changed() => {
                task.abort();
                return;
            }
            joined = tokio::time::timeout(timeout, &mut task) => match joined {
                Ok(Ok(Ok(()))) => SubscriberResult::Ok,
                Ok(Ok(Err(error))) => SubscriberResult::Failed(error.to_string()),
                Ok(Err(join_error)) if join_error.is_panic() => SubscriberResult::Panicked(crate::error_text::panic_message(&*join_error.into_panic())),
                Ok(Err(_)) => SubscriberResult::Failed("cancelled".to_owned()),
                Err(_elapsed) => {
                    task.abort();
                    SubscriberResult::TimedOut
                }
            },
        };
        let elapsed = started.elapsed();
        match &result {
            SubscriberResult::Ok => {
                tracing::debug!(subscriber = %subscriber.name, ?elapsed, "config change applied by subscriber")
            }
            SubscriberResult::TimedOut => {
                tracing::warn!(subscriber = %subscriber.name, ?timeout, "config subscriber timed out")
            }
            other => {
                tracing::warn!(subscriber = %subscriber.name, result = ?other, "config subscriber failed")
            }
        }
        history.set_subscriber(pending.attempt, &subscriber.name, result, elapsed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(key: &str, old: &str, new: &str) -> Change {
        Change {
            key: key.into(),
            old: Some(old.into()),
            new: Some(new.into()),
            secret: false,
        }
    }

    #[test]
    fn merged_changes_keep_first_old_and_last_new() {
        let merged = merge(
            vec![change("A", "1", "2"), change("B", "1", "2")],
            vec![change("A", "2", "3"), change("B", "2", "1")],
        );
        assert_eq!(merged, [change("A", "1", "3")]);
    }
}
