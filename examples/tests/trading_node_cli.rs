//! The `trading-node` binary as an operator runs it: exit codes, `--check`, `--print-template`,
//! bad command lines, and a graceful stop on SIGTERM with work in flight.
//!
//! These tests live in the examples crate because only the package that builds a binary gets
//! its path (`CARGO_BIN_EXE_trading-node`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails loudly at the first broken step"
)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_trading-node");
/// Longest a test waits on the process before failing instead of hanging.
const WAIT: Duration = Duration::from_secs(20);
const SECRET: &str = "sk_live_never_print_this";

fn trading_node(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("run trading-node")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn checked_in() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("trading-node.env")
}

fn temp_config(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("node.env");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

#[test]
fn print_template_parses_back_and_checks_ok() {
    let output = trading_node(&["--print-template"]);
    assert!(output.status.success(), "{output:?}");
    let template = text(&output.stdout);
    let file = thorp_ops::envfile::parse(&template).expect("the template is .env text");
    assert!(
        file.is_empty(),
        "every key is commented out: all have defaults"
    );
    for key in [
        "HELIUS_RPC_URL",
        "MIN_EDGE_SCORE",
        "SIM_ERROR_RATE",
        "OPS_LISTEN",
        // The components' threshold keys, which no schema lists, with their defaults.
        "HEALTH_MIN_RPC_SUCCESS_RATE",
        "HEALTH_BACKPRESSURE_DEGRADED_PCT",
    ] {
        assert!(template.contains(&format!("# {key}=")), "{key}");
    }
    let (_dir, path) = temp_config(&template);
    let check = trading_node(&["--check", "--config", path.to_str().unwrap()]);
    assert!(check.status.success(), "{check:?}");

    // Every health key set to the default the template gives is a valid file.
    let health_keys_set: String = template
        .lines()
        .map(|line| match line.strip_prefix("# HEALTH_") {
            Some(rest) if rest.contains('=') => format!("HEALTH_{rest}\n"),
            _ => format!("{line}\n"),
        })
        .collect();
    let set = thorp_ops::envfile::parse(&health_keys_set).expect(".env text");
    assert!(
        set.get("HEALTH_MIN_RPC_SUCCESS_RATE").is_some(),
        "{health_keys_set}"
    );
    let (_dir, path) = temp_config(&health_keys_set);
    let check = trading_node(&["--check", "--config", path.to_str().unwrap()]);
    assert!(check.status.success(), "{check:?}");
}

#[test]
fn check_passes_the_checked_in_config() {
    let path = checked_in();
    let output = trading_node(&["--config", path.to_str().unwrap(), "--check"]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let stdout = text(&output.stdout);
    assert!(stdout.contains("config ok"), "{stdout}");
    assert!(stdout.contains("simulator"), "{stdout}");
    assert!(output.stderr.is_empty(), "{}", text(&output.stderr));
}

#[test]
fn check_lists_every_error_and_no_secret() {
    let (_dir, path) = temp_config(&format!(
        "HELIUS_RPC_URL=gopher://mainnet.helius-rpc.com/?api-key={SECRET}\n\
         MIN_EDGE_SCORE=101\n\
         SHUTDOWN_TIMEOUT_MS=soon\n\
         OPS_ADMIN_TOKEN={SECRET}x\n\
         OPS_ADMIN_TOKEN=tiny\n\
         MIN_EDGE_SCROE=70\n",
    ));
    let shown = path.display().to_string();
    let output = trading_node(&["--check", "--config", &shown]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = text(&output.stderr);
    for expected in [
        format!("{shown}:1: HELIUS_RPC_URL: [redacted] has scheme gopher"),
        format!("{shown}:2: MIN_EDGE_SCORE: \"101\" is above the maximum"),
        format!("{shown}:3: SHUTDOWN_TIMEOUT_MS: \"soon\" is not an integer"),
        format!("{shown}:5: OPS_ADMIN_TOKEN: must be at least 16 characters"),
        format!("warning: {shown}:6: MIN_EDGE_SCROE: unknown key (did you mean MIN_EDGE_SCORE?)"),
        format!("trading-node: 4 problem(s) in {shown}"),
    ] {
        assert!(
            stderr.lines().any(|line| line.starts_with(&expected)),
            "missing {expected:?} in:\n{stderr}"
        );
    }
    assert!(
        !stderr.contains(SECRET) && !stderr.contains("tiny"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty());
}

#[test]
fn bad_command_lines_and_missing_files_exit_2_with_one_line() {
    let missing = std::env::temp_dir().join("thorp-no-such-dir/node.env");
    let missing = missing.to_str().unwrap();
    let cases: [&[&str]; 6] = [
        &["--frobnicate"],
        &["--run-for", "5"],
        &["--listen", "localhost:80"],
        &["--check", "--print-template"],
        &["--config", missing],
        &["--config", missing, "--check"],
    ];
    for args in cases {
        let output = trading_node(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {output:?}");
        let stderr = text(&output.stderr);
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with("trading-node: "), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[test]
fn help_and_version() {
    let help = trading_node(&["--help"]);
    assert!(help.status.success());
    assert!(text(&help.stdout).contains("--print-template"));
    let version = trading_node(&["-V"]);
    assert_eq!(
        text(&version.stdout).trim(),
        format!("trading-node {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn a_config_refused_at_start_starts_nothing_and_exits_1() {
    let (_dir, path) = temp_config("MIN_EDGE_SCORE=-1\nSIM_ERROR_RATE=2\n");
    let output = trading_node(&["--config", path.to_str().unwrap(), "--run-for", "10s"]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = text(&output.stderr);
    assert!(stderr.contains(":1: MIN_EDGE_SCORE:"), "{stderr}");
    assert!(stderr.contains(":2: SIM_ERROR_RATE:"), "{stderr}");
    assert!(stderr.contains("nothing started"), "{stderr}");
}

/// A fast node on a free ops port, logging JSON lines.
fn node_config(extra: &str) -> (tempfile::TempDir, PathBuf) {
    temp_config(&format!(
        "OPS_LISTEN=127.0.0.1:0\nLOG_FORMAT=json\nLOG_STATUS_INTERVAL_MS=0\n\
         SIM_SLOT_MS=20\nSLOT_POLL_INTERVAL_MS=20\nHEALTH_CHECK_INTERVAL_MS=100\n{extra}"
    ))
}

/// The node's JSON log lines, read from its stderr on a thread.
struct Logs {
    lines: mpsc::Receiver<String>,
    seen: Vec<serde_json::Value>,
}

impl Logs {
    /// The first line whose message is `message`, seen already or arriving within [`WAIT`]:
    /// tasks log concurrently, so lines need not come in the order a test waits for them.
    fn wait_for(&mut self, message: &str) -> serde_json::Value {
        let matches = |json: &serde_json::Value| json["fields"]["message"] == message;
        if let Some(json) = self.seen.iter().find(|json| matches(json)) {
            return json.clone();
        }
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let Ok(line) = self.lines.recv_timeout(left) else {
                panic!(
                    "no {message:?} log line within {WAIT:?}; saw {:#?}",
                    self.seen
                );
            };
            let Ok(json) = serde_json::from_str::<serde_json::Value>(&line) else {
                panic!("not a JSON log line: {line}");
            };
            self.seen.push(json.clone());
            if matches(&json) {
                return json;
            }
        }
    }
}

/// Starts the node with its stderr collected as [`Logs`].
fn spawn(args: &[&str]) -> (Child, Logs) {
    let mut child = Command::new(BIN)
        .args(args)
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn trading-node");
    let stderr = child.stderr.take().unwrap();
    let (lines, received) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let logs = Logs {
        lines: received,
        seen: Vec::new(),
    };
    (child, logs)
}

fn wait_exit(child: &mut Child) -> ExitStatus {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("trading-node did not exit within {WAIT:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn run_for_ends_a_run_with_exit_0() {
    let (_dir, path) = node_config("");
    let (mut child, mut logs) = spawn(&["--config", path.to_str().unwrap(), "--run-for", "500ms"]);
    let started = logs.wait_for("trading-node started");
    assert_eq!(started["fields"]["upstream"], "simulator");
    let stopped = logs.wait_for("trading-node stopped");
    assert_eq!(stopped["fields"]["drained"], true);
    assert_eq!(wait_exit(&mut child).code(), Some(0));
}

#[cfg(unix)]
#[test]
fn sigterm_under_load_drains_and_exits_0_within_the_timeout() {
    // Each poll takes 150 ms, so a request is in flight when the signal lands.
    let (_dir, path) = node_config("SIM_LATENCY_MS=150\nSHUTDOWN_TIMEOUT_MS=3000\n");
    let (mut child, mut logs) = spawn(&["--config", path.to_str().unwrap()]);
    let started = logs.wait_for("trading-node started");
    let ops = started["fields"]["ops_addr"].as_str().unwrap().to_owned();
    assert!(ops.starts_with("127.0.0.1:"), "{ops}");
    logs.wait_for("initial system health");

    let signalled = Instant::now();
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(kill.success());
    let shutdown = logs.wait_for("graceful shutdown started");
    assert_eq!(shutdown["fields"]["reason"], "SIGTERM");
    let stopped = logs.wait_for("trading-node stopped");
    assert_eq!(stopped["fields"]["drained"], true, "{stopped}");
    let status = wait_exit(&mut child);
    assert_eq!(status.code(), Some(0), "{status:?}");
    assert!(
        signalled.elapsed() < Duration::from_millis(3000),
        "stopped in {:?}, over SHUTDOWN_TIMEOUT_MS",
        signalled.elapsed()
    );
}
