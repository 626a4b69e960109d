//! Log capture for tests that assert what was (or was not) logged.

use std::io;
use std::sync::{Arc, Mutex, PoisonError};

/// Everything logged while the guard lives (all levels), as text.
#[derive(Clone, Default)]
pub struct CapturedLogs(Arc<Mutex<Vec<u8>>>);

impl CapturedLogs {
    /// Capture logs of the current thread until the guard drops (use a current-thread runtime).
    pub fn start() -> (Self, tracing::subscriber::DefaultGuard) {
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
    pub fn text(&self) -> String {
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
