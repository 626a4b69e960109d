//! A concurrency limit that can be resized while permits are held.
//!
//! A tokio [`Semaphore`] can grow (`add_permits`) but only shrink by the permits that are
//! free right now. Shrinking below what is in use records a debt; permits returned while the
//! debt is positive are forgotten instead of released, so the limit converges to the new value
//! as requests finish, and no request in flight is disturbed.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use tokio::sync::{Semaphore, SemaphorePermit};
use tokio::time::{Duration, timeout};

#[derive(Debug)]
pub(crate) struct Limiter {
    semaphore: Semaphore,
    /// The configured limit; the mutex serializes resizes.
    limit: Mutex<usize>,
    /// Permits still to be retired after a shrink.
    debt: AtomicUsize,
}

/// A held slot; returning it (on drop) pays down any debt first.
#[derive(Debug)]
pub(crate) struct Slot<'a> {
    permit: Option<SemaphorePermit<'a>>,
    debt: &'a AtomicUsize,
}

impl Limiter {
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            semaphore: Semaphore::new(limit),
            limit: Mutex::new(limit),
            debt: AtomicUsize::new(0),
        }
    }

    /// Wait up to `wait` for a slot; `None` if none came free in time.
    pub(crate) async fn acquire(&self, wait: Duration) -> Option<Slot<'_>> {
        // The semaphore is never closed, so `acquire` only ever yields a permit.
        match timeout(wait, self.semaphore.acquire()).await {
            Ok(Ok(permit)) => Some(Slot {
                permit: Some(permit),
                debt: &self.debt,
            }),
            Ok(Err(_)) | Err(_) => None,
        }
    }

    /// Change the limit to `new`; effective at once for growth, as slots return for shrinking.
    pub(crate) fn resize(&self, new: usize) {
        let mut limit = self.limit.lock().unwrap_or_else(PoisonError::into_inner);
        if new > *limit {
            let mut grow = new - *limit;
            // Cancel outstanding debt before adding permits.
            while grow > 0 {
                let debt = self.debt.load(Ordering::Acquire);
                if debt == 0 {
                    break;
                }
                let pay = debt.min(grow);
                if self
                    .debt
                    .compare_exchange(debt, debt - pay, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok()
                {
                    grow -= pay;
                }
            }
            self.semaphore.add_permits(grow);
        } else if new < *limit {
            let shrink = *limit - new;
            let retired = self.semaphore.forget_permits(shrink);
            self.debt.fetch_add(shrink - retired, Ordering::AcqRel);
        }
        *limit = new;
    }

    /// Slots free right now.
    #[cfg(test)]
    pub(crate) fn available(&self) -> usize {
        self.semaphore.available_permits()
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let Some(permit) = self.permit.take() else {
            return;
        };
        let paid = self
            .debt
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |d| d.checked_sub(1))
            .is_ok();
        if paid {
            permit.forget();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Duration = Duration::ZERO;

    #[tokio::test]
    async fn waits_are_bounded_when_full() {
        let limiter = Limiter::new(1);
        let held = limiter.acquire(NOW).await;
        assert!(held.is_some());
        assert!(limiter.acquire(NOW).await.is_none());
        drop(held);
        assert!(limiter.acquire(NOW).await.is_some());
    }

    #[tokio::test]
    async fn shrinking_below_use_retires_slots_as_they_return() {
        let limiter = Limiter::new(4);
        let held: Vec<_> = acquire_n(&limiter, 3).await;
        limiter.resize(1);
        // One free permit was retired at once; two more are owed.
        assert_eq!(limiter.available(), 0);
        drop(held);
        // Three returned: two paid the debt, one is the new limit.
        assert_eq!(limiter.available(), 1);
    }

    #[tokio::test]
    async fn growing_pays_debt_before_adding() {
        let limiter = Limiter::new(4);
        let held = acquire_n(&limiter, 4).await;
        limiter.resize(1); // debt 3
        limiter.resize(3); // debt 1
        drop(held);
        assert_eq!(limiter.available(), 3);
        limiter.resize(5);
        assert_eq!(limiter.available(), 5);
    }

    async fn acquire_n(limiter: &Limiter, n: usize) -> Vec<Slot<'_>> {
        let mut slots = Vec::new();
        for _ in 0..n {
            slots.push(limiter.acquire(NOW).await.unwrap());
        }
        slots
    }
}
