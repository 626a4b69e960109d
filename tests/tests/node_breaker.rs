//! The circuit breaker around the RPC pool, driven by the simulator's fault injection: the
//! error rate goes up and the breaker opens and stops traffic; it comes down and the breaker
//! probes and closes.
#![allow(
    clippy::unwrap_used,
    reason = "tests: a failed unwrap is a failed test"
)]

mod support;

use std::time::Duration;

use support::node::{pool, quiet_sim, settings};
use thorp_examples::node::breaker::{
    BreakerError, BreakerState, CircuitBreaker, CircuitBreakerSettings,
};
use thorp_examples::node::rpc_pool::{RetrySettings, RpcError, RpcPool, RpcPoolSettings};
use thorp_examples::node::solana::Commitment;

async fn guarded_slot(
    breaker: &CircuitBreaker,
    pool: &RpcPool,
) -> Result<u64, BreakerError<RpcError>> {
    breaker
        .call_classified(
            || pool.get_slot(Commitment::Processed),
            RpcError::is_upstream_failure,
        )
        .await
}

#[tokio::test]
async fn errors_open_the_breaker_and_recovery_closes_it() {
    let sim = quiet_sim().await;
    let pool = pool(RpcPoolSettings {
        retry: RetrySettings {
            max_retries: 0,
            ..RetrySettings::default()
        },
        ..settings([sim.url()])
    });
    let breaker = CircuitBreaker::new(CircuitBreakerSettings {
        failure_threshold: 3,
        open_duration: Duration::from_millis(150),
        half_open_probes: 2,
    });
    guarded_slot(&breaker, &pool).await.unwrap();

    sim.set_error_rate(1.0);
    let mut refused = 0;
    for _ in 0..10 {
        match guarded_slot(&breaker, &pool).await {
            Err(BreakerError::Open(_)) => refused += 1,
            Err(BreakerError::Inner(_)) => {}
            Ok(slot) => panic!("the simulator fails everything, got slot {slot}"),
        }
    }
    let stats = breaker.stats();
    assert_eq!(
        (stats.state, stats.failures, stats.successes, stats.opened),
        (BreakerState::Open, 3, 1, 1)
    );
    assert_eq!(refused, 7);
    assert_eq!(
        sim.stats().requests,
        1 + 3,
        "an open breaker keeps traffic off the upstream"
    );

    sim.set_error_rate(0.0);
    tokio::time::sleep(Duration::from_millis(160)).await;
    assert_eq!(breaker.state(), BreakerState::HalfOpen);
    guarded_slot(&breaker, &pool).await.unwrap();
    assert_eq!(breaker.state(), BreakerState::HalfOpen, "one probe of two");
    guarded_slot(&breaker, &pool).await.unwrap();
    assert_eq!(breaker.state(), BreakerState::Closed);
}

#[tokio::test]
async fn caller_mistakes_do_not_open_the_breaker() {
    let sim = quiet_sim().await;
    let pool = pool(settings([sim.url()]));
    let breaker = CircuitBreaker::new(CircuitBreakerSettings {
        failure_threshold: 1,
        ..Default::default()
    });
    for _ in 0..3 {
        let unknown = breaker
            .call_classified(
                || pool.call::<u64>("getNothing", serde_json::Value::Null),
                RpcError::is_upstream_failure,
            )
            .await;
        assert!(matches!(
            unknown,
            Err(BreakerError::Inner(RpcError::Rpc { code: -32601, .. }))
        ));
    }
    assert_eq!(breaker.state(), BreakerState::Closed);
}
