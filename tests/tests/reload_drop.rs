//! Dropping a `HotReload` stops everything it started: the watcher's thread, the reload loop,
//! the signal task, subscriber tasks and a subscriber still running. Alone in its binary so
//! that no other test's threads or tasks are counted.
#![cfg(target_os = "linux")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails loudly at the first broken step"
)]

mod support;

use std::time::{Duration, Instant};
use support::{ConfigDir, SeedConfig};
use tokio::runtime::Handle;
use tokio::sync::mpsc;

/// Threads of this process, from `/proc/self/task`.
fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").unwrap().count()
}

/// Polls until `(threads, tasks)` is back to `baseline`, failing after [`support::WAIT`].
async fn back_to(baseline: (usize, usize)) {
    let deadline = Instant::now() + support::WAIT;
    loop {
        let now = (threads(), Handle::current().metrics().num_alive_tasks());
        if now == baseline {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "(threads, tasks) still {now:?} after drop, baseline {baseline:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[test]
fn dropping_stops_every_thread_and_task() {
    // Idle blocking-pool threads (the file reads) would otherwise linger for 10 s.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_keep_alive(Duration::from_millis(20))
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let baseline = (threads(), Handle::current().metrics().num_alive_tasks());
        let dir = ConfigDir::new(&support::seed_file(60));
        let config = dir.start(support::options().reload_on_sighup(true)).await;
        let (entered, mut stuck) = mpsc::unbounded_channel();
        config.subscribe(
            "stuck",
            |root: &SeedConfig| &root.detection,
            move |_| {
                let entered = entered.clone();
                async move {
                    entered.send(()).ok();
                    std::future::pending::<()>().await;
                    Ok(())
                }
            },
        );
        config.subscribe_all("quick", |_| async { Ok(()) });
        let mut events = config.events();
        dir.write(support::seed_file(61));
        support::applied(&mut events).await;
        tokio::time::timeout(support::WAIT, stuck.recv())
            .await
            .expect("stuck subscriber entered")
            .unwrap();
        let running = (threads(), Handle::current().metrics().num_alive_tasks());
        assert!(
            running.0 > baseline.0,
            "no watcher thread? {running:?} vs {baseline:?}"
        );
        // Reload loop, signal task, two subscriber loops, the stuck handler.
        assert!(running.1 >= baseline.1 + 5, "{running:?} vs {baseline:?}");

        drop(config);
        back_to(baseline).await;
    });
}
