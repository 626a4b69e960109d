//! What reloads log, and that no secret from the file ever reaches a log line, the history, an
//! error or a shown value, across applied and rejected reloads. Alone in its binary because it
//! installs the process-wide tracing subscriber (the runtime's worker threads log too).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails loudly at the first broken step"
)]

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};
use support::{ConfigDir, SeedConfig};
use thorp_ops::config::{Outcome, ReloadRecord};

/// Every secret value in the test's files starts with this.
const MARK: &str = "SEKRET";

/// A `MakeWriter` appending every log line to a shared buffer.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Capture {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

fn file(helius: &str, rest: &str) -> String {
    format!(
        "HELIUS_RPC_URL={helius}\n\
         PUBLIC_RPC_URL=https://api.example.com/?token=SEKRETpublic\n\
         EXTRA_API_KEY=SEKRETextra\n\
         {rest}"
    )
}

const KEY_1: &str = "https://mainnet.helius-rpc.com/?api-key=SEKRET123";
const KEY_2: &str = "https://mainnet.helius-rpc.com/?api-key=SEKRET456";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_reach_logs_history_or_errors() {
    let logs = Capture::default();
    let writer = logs.clone();
    tracing::subscriber::set_global_default(
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish(),
    )
    .expect("the only subscriber of this binary");

    let dir = ConfigDir::new(&file(KEY_1, "MIN_EDGE_SCORE=60\n"));
    let config = dir.start(support::options()).await;
    config.subscribe_all("audit", |update| async move {
        tracing::info!(changes = ?update.changes(), "audit saw a change");
        Ok(())
    });
    let mut events = config.events();
    let mut shown = Vec::new();
    // The typed config's own `Debug`: the schema marks only HELIUS_RPC_URL secret (a plain
    // `Url` field such as PUBLIC_RPC_URL prints as `Url` does), so only that key is checked.
    let mut typed = Vec::new();
    let mut records: Vec<ReloadRecord> = Vec::new();

    // Applied: a plain value; the secret URL; the credential in a non-secret URL.
    let applied = [
        (
            file(KEY_1, "MIN_EDGE_SCORE=70\n"),
            vec!["MIN_EDGE_SCORE=70"],
        ),
        (
            file(KEY_2, "MIN_EDGE_SCORE=70\nLOG_LEVEL=debug\n"),
            vec!["HELIUS_RPC_URL (secret)", "LOG_LEVEL=debug"],
        ),
        (
            file(KEY_2, "MIN_EDGE_SCORE=70\nLOG_LEVEL=debug\n")
                .replace("SEKRETpublic", "SEKRETpublic2")
                .replace("SEKRETextra", "SEKRETextra2"),
            vec!["EXTRA_API_KEY (secret)", "PUBLIC_RPC_URL (secret)"],
        ),
    ];
    for (text, logged) in &applied {
        dir.write(text);
        let record = support::applied(&mut events).await;
        let lines = logs.text();
        let line = lines
            .lines()
            .find(|line| {
                line.contains(" INFO ")
                    && line.contains("config reload applied")
                    && line.contains(&format!("version={}", record.version))
            })
            .unwrap_or_else(|| panic!("no info line for version {}:\n{lines}", record.version));
        for key in logged {
            assert!(line.contains(key), "{key:?} not in {line}");
        }
        typed.push(format!("{:?}", config.current()));
        shown.push(format!("{:?}", config.current().values()));
        records.push(record);
    }
    assert_eq!(
        config.store().load().rpc.helius_url.expose().as_str(),
        KEY_2
    );

    // Rejected: another key bad beside the secret; the secret itself malformed in every way.
    let mut rejected: Vec<Vec<u8>> = [
        file(KEY_2, "MIN_EDGE_SCORE=abc\n"),
        file(
            "https://[SEKRET789/?api-key=SEKRET789",
            "MIN_EDGE_SCORE=70\n",
        ),
        file("ftp://user:SEKRET790@host/", "MIN_EDGE_SCORE=70\n"),
        file("SEKRET791", "MIN_EDGE_SCORE=70\n"),
        file("\"https://h/?api-key=SEKRET792", "MIN_EDGE_SCORE=70\n"),
        file(KEY_2, "api key=SEKRET793\n"),
        file(KEY_2, "SEKRET794\n"),
        // Not a secret key, but a credential in a URL that does not parse.
        file(
            KEY_2,
            "CHAINSTACK_RPC_URL=https://[nd-1.example.com/?api-key=SEKRET796\n",
        ),
        file(
            KEY_2,
            "CHAINSTACK_RPC_URL=https://user:SEKRET797@[nd-1.example.com/\n",
        ),
    ]
    .map(String::into_bytes)
    .into();
    let mut not_utf8 = file(KEY_2, "MIN_EDGE_SCORE=7").into_bytes();
    not_utf8.extend_from_slice(b"\xffSEKRET795\n");
    rejected.push(not_utf8);
    for text in &rejected {
        let before = config.current();
        let warned = logs.text().matches("config reload rejected").count();
        dir.write(text);
        let record = support::rejected(&mut events).await;
        support::assert_kept(&config, &before);
        let lines = logs.text();
        assert_eq!(
            lines.matches("config reload rejected").count(),
            warned + 1,
            "one warning per rejection:\n{lines}"
        );
        let warning = lines
            .lines()
            .rev()
            .find(|line| line.contains("config reload rejected"))
            .unwrap();
        assert!(warning.contains(" WARN "), "{warning}");
        // The warning carries every error.
        for error in &record.errors {
            let first_line = error.message.lines().next().unwrap_or_default();
            assert!(lines.contains(first_line), "{first_line:?} not logged");
        }
        // The error itself, as a caller of the loader sees it.
        let errors = thorp_ops::config::load_file::<SeedConfig>(&dir.path)
            .expect_err("the same file fails to load");
        shown.push(format!("{errors}"));
        shown.push(format!("{errors:?}"));
        for error in errors.errors() {
            shown.push(format!("{error}"));
        }
        records.push(record);
    }

    // Every place a value can show up.
    let history = config.history();
    shown.push(format!("{history:?}"));
    shown.push(serde_json::to_string(&history).unwrap());
    shown.push(format!("{records:?}"));
    shown.push(serde_json::to_string(&records).unwrap());
    shown.push(format!("{:?}", config.stats()));
    shown.push(serde_json::to_string(&config.stats()).unwrap());
    typed.push(format!("{:?}", config.store()));
    for text in &typed {
        assert!(
            !text.contains("SEKRET123") && !text.contains("SEKRET456"),
            "{text}"
        );
    }
    let logs = logs.text();
    for text in shown.iter().chain([&logs]) {
        assert!(
            !text.contains(MARK),
            "a secret shows in:\n{}",
            text.lines()
                .filter(|line| line.contains(MARK))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    assert_eq!(
        history
            .iter()
            .filter(|r| r.outcome == Outcome::Rejected)
            .count(),
        rejected.len()
    );
    // The watcher's debug lines were captured too (so the check above covered them).
    assert!(logs.contains("config file event"), "{logs}");
    assert!(logs.contains("audit saw a change"), "{logs}");
}
