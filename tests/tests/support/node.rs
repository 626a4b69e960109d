//! Helpers for the `node_*` tests: simulators, pools, dead endpoints, captured logs.
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

/// Everything logged while the guard lives (all levels), as text.
#[derive(Clone, Default)]
pub(crate) struct CapturedLogs(Arc<Mutex<Vec<u8>>>);

impl CapturedLogs {
    /// Capture logs of the current thread until the guard drops (use a current-thread runtime).
    pub(crate) fn start() -> (Self, tracing::subscriber::DefaultGuard) {
        // `tracing` decides once per call site, for the whole process, whether anyone listens,
        // asking the default subscriber of the thread that reaches it first. Were that a test
        // thread with no subscriber, the site would stay silent for this capture too. A global
        // subscriber that drops everything makes every thread's answer "someone might".
        static LISTENING_EVERYWHERE: std::sync::Once = std::sync::Once::new();
        LISTENING_EVERYWHERE.call_once(|| {
            tracing::subscriber::set_global_default(tracing_subscriber::registry()).ok();
        });
        let logs = Self::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        (logs, tracing::subscriber::set_default(subscriber))
    }

    /// The text so far.
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(PoisonError::into_inner)).into_owned()
    }
}

impl io::Write for CapturedLogs {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
