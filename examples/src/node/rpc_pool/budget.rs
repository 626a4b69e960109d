//! The retry budget: a token bucket that keeps retries to a fraction of requests.
//!
//! Every request deposits `ratio` of a token (up to `burst` tokens); every retry withdraws a
//! whole one. When an upstream fails hard, retries stop after the stored burst instead of
//! multiplying the load on it (the "retry storm" that turns a blip into an outage). Lock-free:
//! one atomic of milli-tokens.

use std::sync::atomic::{AtomicU64, Ordering};

/// Milli-tokens per token: ratios down to 0.001 keep their meaning.
const MILLI: u64 = 1_000;

#[derive(Debug)]
pub(crate) struct RetryBudget {
    milli_tokens: AtomicU64,
}

impl RetryBudget {
    /// A budget that starts full (`burst` tokens), so a cold pool can retry a few failures.
    pub(crate) fn new(burst: u32) -> Self {
        Self {
            milli_tokens: AtomicU64::new(u64::from(burst) * MILLI),
        }
    }

    /// Earn `ratio` of a token for one request, capped at `burst` tokens.
    pub(crate) fn deposit(&self, ratio: f64, burst: u32) {
        // `ratio` is validated to 0.0..=1.0, so this is 0..=1000.
        let earned = (ratio.clamp(0.0, 1.0) * MILLI as f64).round() as u64;
        let cap = u64::from(burst) * MILLI;
        // The closure always returns Some, so this cannot fail.
        let _ = self
            .milli_tokens
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |t| {
                // Above the cap (after `burst` was lowered) keep what is there but add nothing.
                Some(if t >= cap {
                    t
                } else {
                    t.saturating_add(earned).min(cap)
                })
            });
    }

    /// Spend one token for a retry; `false` when the budget is exhausted.
    pub(crate) fn try_withdraw(&self) -> bool {
        self.milli_tokens
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |t| {
                t.checked_sub(MILLI)
            })
            .is_ok()
    }

    /// Whole tokens available now.
    #[cfg(test)]
    pub(crate) fn available(&self) -> u64 {
        self.milli_tokens.load(Ordering::Relaxed) / MILLI
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_full_and_runs_dry() {
        let budget = RetryBudget::new(2);
        assert!(budget.try_withdraw());
        assert!(budget.try_withdraw());
        assert!(!budget.try_withdraw());
    }

    #[test]
    fn retries_are_limited_to_the_ratio_of_requests() {
        let budget = RetryBudget::new(0);
        let mut retries = 0;
        for _ in 0..1_000 {
            budget.deposit(0.1, 10);
            // Every request fails and wants to retry.
            if budget.try_withdraw() {
                retries += 1;
            }
        }
        assert_eq!(retries, 100);
    }

    #[test]
    fn deposits_are_capped_at_the_burst() {
        let budget = RetryBudget::new(0);
        for _ in 0..1_000 {
            budget.deposit(1.0, 3);
        }
        assert_eq!(budget.available(), 3);
    }

    #[test]
    fn lowering_the_burst_caps_future_deposits_without_confiscating() {
        let budget = RetryBudget::new(10);
        budget.deposit(0.5, 2);
        // Already holding 10: a deposit under a lower cap neither adds nor takes away.
        assert_eq!(budget.available(), 10);
    }
}
