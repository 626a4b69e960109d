//! Helpers for the `node_*` tests: simulators, pools and dead endpoints.
#![allow(dead_code, reason = "each test file uses a subset of the helpers")]

use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use thorp_examples::node::rpc_pool::{RetrySettings, RpcPool, RpcPoolSettings};
use thorp_examples::node::simulator::{RpcSimulator, SimulatorSettings};
use url::Url;

/// A simulator with no latency, no jitter and no errors unless the test changes them.
pub(crate) async fn quiet_sim() -> RpcSimulator {
    sim(SimulatorSettings {
        latency: Duration::ZERO,
        latency_jitter: Duration::ZERO,
        ..SimulatorSettings::default()
    })
    .await
}

/// A simulator with `settings`.
pub(crate) async fn sim(settings: SimulatorSettings) -> RpcSimulator {
    RpcSimulator::start(settings).await.unwrap()
}

/// A loopback URL nothing listens on: connections are refused at once.
pub(crate) fn dead_url() -> Url {
    // Bind, read the port, close: the kernel does not hand it out again right away.
    let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    Url::parse(&format!("http://127.0.0.1:{port}/")).unwrap()
}

/// A plain HTTP client for talking to the simulator directly.
pub(crate) fn http() -> reqwest::Client {
    thorp_examples::node::rpc_pool::install_crypto_provider();
    reqwest::Client::builder().no_proxy().build().unwrap()
}

/// Pool settings for tests: no backoff, a generous budget, the given endpoints.
pub(crate) fn settings(endpoints: impl IntoIterator<Item = Url>) -> RpcPoolSettings {
    RpcPoolSettings {
        default_timeout: Duration::from_millis(1_000),
        retry: RetrySettings {
            backoff_base: Duration::ZERO,
            backoff_max: Duration::ZERO,
            budget_burst: 100,
            budget_ratio: 1.0,
            ..RetrySettings::default()
        },
        ..RpcPoolSettings::with_endpoints(endpoints)
    }
}

/// A pool over `settings`.
pub(crate) fn pool(settings: RpcPoolSettings) -> RpcPool {
    RpcPool::new(settings).unwrap()
}
