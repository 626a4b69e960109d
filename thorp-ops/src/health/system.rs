//! Process-level readings (resident memory, threads, descriptors, uptime) behind a probe trait,
//! with the `/proc` implementation used in production.

use std::time::Duration;

/// One reading of the process. Every field is optional: a probe reports what it can.
///
/// Build one from `Default` and set what you know:
///
/// ```
/// use thorp_ops::health::SystemSample;
///
/// let mut sample = SystemSample::default();
/// sample.rss_bytes = Some(512 * 1024 * 1024);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SystemSample {
    /// Resident set size in bytes.
    pub rss_bytes: Option<u64>,
    /// Number of threads.
    pub threads: Option<u64>,
    /// Number of open file descriptors.
    pub open_fds: Option<u64>,
    /// Time since the process started.
    pub uptime: Option<Duration>,
}

/// Takes a [`SystemSample`]. The monitor calls it once per check on the blocking pool, under
/// the check timeout, so an implementation may do (small) blocking reads.
///
/// Tests feed readings through their own implementation:
///
/// ```
/// use std::sync::Mutex;
/// use thorp_ops::health::{SystemProbe, SystemSample};
///
/// struct Fed(Mutex<Vec<u64>>);
///
/// impl SystemProbe for Fed {
///     fn sample(&self) -> SystemSample {
///         let mut sample = SystemSample::default();
///         sample.rss_bytes = self.0.lock().ok().and_then(|mut v| v.pop());
///         sample
///     }
/// }
/// ```
pub trait SystemProbe: Send + Sync + 'static {
    /// Reads the process now.
    fn sample(&self) -> SystemSample;
}

/// The production probe: reads `/proc/self/status` (`VmRSS`, `Threads`), counts
/// `/proc/self/fd`, and derives uptime from `/proc/self/stat` and `/proc/uptime`. Each is one
/// small read of a kernel-generated file (never `smaps`, which walks every mapping). Where
/// `/proc` is missing (not Linux) every field is `None`.
#[derive(Clone, Copy, Debug, Default)]
pub struct ProcProbe;

/// Clock ticks per second in `/proc/<pid>/stat`: the kernel's `USER_HZ`, fixed at 100 by the
/// ABI on every architecture Linux runs services on.
const USER_HZ: u64 = 100;

impl SystemProbe for ProcProbe {
    fn sample(&self) -> SystemSample {
        let mut sample = SystemSample::default();
        if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
            let (rss, threads) = parse_status(&status);
            sample.rss_bytes = rss;
            sample.threads = threads;
        }
        sample.open_fds = std::fs::read_dir("/proc/self/fd")
            .ok()
            .map(|dir| dir.filter(Result::is_ok).count() as u64);
        if let (Ok(stat), Ok(uptime)) = (
            std::fs::read_to_string("/proc/self/stat"),
            std::fs::read_to_string("/proc/uptime"),
        ) {
            sample.uptime = parse_uptime(&stat, &uptime);
        }
        sample
    }
}

/// `VmRSS` (in bytes) and `Threads` from `/proc/self/status`.
fn parse_status(text: &str) -> (Option<u64>, Option<u64>) {
    let mut rss = None;
    let mut threads = None;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("VmRSS:") {
            // "   41236 kB"
            let mut parts = rest.split_whitespace();
            let value = parts.next().and_then(|v| v.parse::<u64>().ok());
            let scale = match parts.next() {
                Some("kB") => 1024,
                Some("mB") => 1024 * 1024,
                _ => 1,
            };
            rss = value.map(|v| v.saturating_mul(scale));
        } else if let Some(rest) = line.strip_prefix("Threads:") {
            threads = rest.trim().parse().ok();
        }
    }
    (rss, threads)
}

/// Process uptime: system uptime minus the process start time (field 22 of `stat`, in ticks).
fn parse_uptime(stat: &str, uptime: &str) -> Option<Duration> {
    // The command name (field 2) is in parentheses and may contain spaces: split after it.
    let after_comm = &stat[stat.rfind(')')? + 1..];
    // Fields after the name start at field 3, so field 22 is the 20th of these.
    let start_ticks: u64 = after_comm.split_whitespace().nth(19)?.parse().ok()?;
    let system_secs: f64 = uptime.split_whitespace().next()?.parse().ok()?;
    // Ticks since boot are far below 2^53; the conversion is exact.
    #[allow(clippy::cast_precision_loss)]
    let start_secs = start_ticks as f64 / USER_HZ as f64;
    Duration::try_from_secs_f64((system_secs - start_secs).max(0.0)).ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test, with its message
mod tests {
    use super::*;

    #[test]
    fn parses_status() {
        let text = "Name:\tthorp\nVmPeak:\t  99999 kB\nVmRSS:\t   41236 kB\nThreads:\t9\n";
        assert_eq!(parse_status(text), (Some(41_236 * 1024), Some(9)));
        assert_eq!(parse_status("Name: x\n"), (None, None));
    }

    #[test]
    fn parses_uptime_even_with_spaces_in_the_command_name() {
        let mut fields = vec!["S".to_owned()];
        fields.extend((4..=21).map(|n| n.to_string()));
        fields.push("5000".to_owned()); // field 22: started 50 s after boot
        fields.extend(["1", "2", "3"].map(String::from));
        let stat = format!("4242 (my (odd) prog) {}", fields.join(" "));
        let up = parse_uptime(&stat, "62.50 100.00\n").unwrap();
        assert_eq!(up, Duration::from_millis(12_500));
        assert_eq!(parse_uptime("garbage", "1.0"), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn reads_this_process() {
        let sample = ProcProbe.sample();
        assert!(
            sample.rss_bytes.is_some_and(|b| b > 1024 * 1024),
            "{sample:?}"
        );
        assert!(sample.threads.is_some_and(|t| t >= 1));
        assert!(sample.open_fds.is_some_and(|n| n >= 3));
        assert!(sample.uptime.is_some());
    }
}
