//! The `trading-node` config: its defaults agree with the components', the template and the
//! checked-in file are complete and valid, and `--check` lists every problem without a secret.
#![allow(
    clippy::unwrap_used,
    reason = "tests: a failed unwrap is a failed test"
)]

mod support;

use std::path::PathBuf;

use support::ConfigDir;
use thorp_examples::node::backpressure::BackpressureSettings;
use thorp_examples::node::breaker::CircuitBreakerSettings;
use thorp_examples::node::detection::DetectionSettings;
use thorp_examples::node::event_bus::EventBusSettings;
use thorp_examples::node::poller::SlotPollerSettings;
use thorp_examples::node::rpc_pool::RpcPoolSettings;
use thorp_examples::node::shutdown::ShutdownSettings;
use thorp_examples::node::simulator::SimulatorSettings;
use thorp_examples::trading::check::check_file;
use thorp_examples::trading::config::{NodeConfig, RESTART_KEYS, Upstream};
use thorp_examples::trading::health::offline_monitor;
use thorp_ops::HotConfig;
use thorp_ops::config::load_str;
use thorp_ops::health::{HealthConfig, MonitorSettings};
use url::Url;

fn defaults() -> NodeConfig {
    // A file of comments only: every key at its default.
    load_str::<NodeConfig>("# nothing set\n").unwrap().config
}

/// The config's defaults are the components' own (and the seed's): a component started from an
/// empty file behaves as documented on its settings type.
#[test]
fn config_defaults_are_the_component_defaults() {
    let config = defaults();
    let sim: Url = "http://127.0.0.1:1/".parse().unwrap();
    assert_eq!(
        config.rpc_pool.settings(&Upstream::Simulator(sim.clone())),
        RpcPoolSettings::with_endpoints([sim])
    );
    assert_eq!(
        CircuitBreakerSettings::from(&config.circuit_breaker),
        CircuitBreakerSettings::default()
    );
    assert_eq!(
        EventBusSettings::from(&config.event_bus),
        EventBusSettings::default()
    );
    assert_eq!(
        SlotPollerSettings::from(&config.slot_poller),
        SlotPollerSettings::default()
    );
    assert_eq!(
        BackpressureSettings::from(&config.backpressure),
        BackpressureSettings::default()
    );
    assert_eq!(
        ShutdownSettings::from(&config.shutdown),
        ShutdownSettings::default()
    );
    assert_eq!(
        DetectionSettings::from(&config.detection),
        DetectionSettings::default()
    );
    assert_eq!(
        SimulatorSettings::from(&config.simulator),
        SimulatorSettings::default()
    );

    // The monitor's: the same settings, with the stock thresholds in force at their defaults.
    let values = load_str::<NodeConfig>("# nothing set\n").unwrap().values;
    let monitor = config.health.settings(&values).unwrap();
    assert_eq!(monitor, MonitorSettings::default());
    let in_force = offline_monitor(monitor).unwrap().thresholds();
    let mut thresholds: Vec<(&str, f64)> = in_force
        .iter()
        .map(|t| (t.rule.key().unwrap(), t.current))
        .collect();
    thresholds.sort_by(|a, b| a.0.cmp(b.0));
    assert_eq!(
        thresholds,
        [
            ("HEALTH_BACKPRESSURE_CRITICAL_PCT", 95.0),
            ("HEALTH_BACKPRESSURE_DEGRADED_PCT", 80.0),
            ("HEALTH_MAX_QUEUE_UTIL_PCT", 90.0),
            ("HEALTH_MAX_RPC_LATENCY_MS", 100.0),
            ("HEALTH_MIN_RPC_SUCCESS_RATE", 0.95),
        ]
    );

    // No URL: the simulator; the ops endpoints on loopback.
    assert!(matches!(config.planned_upstream(), Upstream::Simulator(_)));
    assert!(config.ops.listen.ip().is_loopback());
    assert_eq!(
        config.settings_problems(&values, &config.planned_upstream()),
        []
    );
}

/// The node's health keys are the library's section, flattened as it is: no copy of its keys,
/// defaults or bounds, and the stock thresholds are the monitor's open `HEALTH_` keys, checked
/// by the monitor against the node's components.
#[test]
fn the_health_section_is_the_librarys() {
    let config = defaults();
    let section: &HealthConfig = &config.health;
    assert_eq!(
        *section,
        load_str::<HealthConfig>("# nothing set\n").unwrap().config
    );
    for spec in HealthConfig::SCHEMA.keys {
        assert_eq!(
            NodeConfig::SCHEMA.find(spec.key),
            Some(spec),
            "{}",
            spec.key
        );
    }
    assert!(
        NodeConfig::SCHEMA
            .find("HEALTH_MAX_RPC_LATENCY_MS")
            .is_none()
    );
    assert!(NodeConfig::SCHEMA.accepts("HEALTH_MAX_RPC_LATENCY_MS"));

    let dir = ConfigDir::new(
        "HEALTH_MAX_RPC_LATENCY_MS=50\nHEALTH_MAX_RPC_LATENCY=5\nHEALTH_BACKPRESSURE_DEGRADED_PCT=99\n",
    );
    let report = check_file(&dir.path);
    assert_eq!(
        report.warnings,
        Vec::<String>::new(),
        "threshold keys are not unknown"
    );
    let errors = report.errors.join("\n");
    assert!(
        errors.contains("healthMonitor: ")
            && errors.contains("did you mean `HEALTH_MAX_RPC_LATENCY_MS`?")
            && errors.contains("must be below HEALTH_BACKPRESSURE_CRITICAL_PCT"),
        "{errors}"
    );
}

#[test]
fn the_seed_keys_keep_their_rules() {
    let config = load_str::<NodeConfig>(
        "HELIUS_RPC_URL=https://mainnet.helius-rpc.com/?api-key=k\n\
         RPC_DEFAULT_TIMEOUT_MS=100\nMIN_EDGE_SCORE=100\nBACKPRESSURE_MAX_QUEUE_SIZE=1000000\n",
    )
    .unwrap()
    .config;
    assert_eq!(config.rpc_pool.default_timeout_ms, 100);
    assert_eq!(config.detection.min_edge_score, 100.0);
    assert_eq!(config.backpressure.max_queue_size, 1_000_000);
    assert_eq!(config.shutdown.timeout_ms, 10_000);
    assert_eq!(
        config.planned_upstream(),
        Upstream::Configured,
        "a URL is set"
    );

    let errors = load_str::<NodeConfig>(
        "RPC_DEFAULT_TIMEOUT_MS=99\nMIN_EDGE_SCORE=100.5\nBACKPRESSURE_MAX_QUEUE_SIZE=0\n\
         LOG_LEVEL=loud\n",
    )
    .unwrap_err()
    .to_string();
    let keys: Vec<&str> = errors
        .lines()
        .map(|line| line.split(": ").nth(1).unwrap())
        .collect();
    assert_eq!(
        keys,
        [
            "RPC_DEFAULT_TIMEOUT_MS",
            "MIN_EDGE_SCORE",
            "BACKPRESSURE_MAX_QUEUE_SIZE",
            "LOG_LEVEL"
        ],
        "{errors}"
    );
}

#[test]
fn simulator_disabled_without_an_endpoint_is_refused() {
    let errors = load_str::<NodeConfig>("SIM_ENABLED=false\n")
        .unwrap_err()
        .to_string();
    assert!(
        errors.starts_with("1: SIM_ENABLED: is false but no RPC endpoint is set"),
        "{errors}"
    );
    let forced = load_str::<NodeConfig>("SIM_ENABLED=true\nPUBLIC_RPC_URL=http://rpc.test/\n")
        .unwrap()
        .config;
    assert!(matches!(forced.planned_upstream(), Upstream::Simulator(_)));
}

#[test]
fn the_template_parses_back_and_runs_as_written() {
    let template = thorp_ops::config::template(NodeConfig::SCHEMA);
    let file = thorp_ops::envfile::parse(&template).unwrap();
    assert!(
        file.is_empty(),
        "every key is optional, so every line is a comment"
    );
    for spec in NodeConfig::SCHEMA.all_keys() {
        assert!(
            template.contains(&format!("# {}=", spec.key)),
            "{} is in the template",
            spec.key
        );
    }
    // Uncommenting every default gives a file that loads to the same config.
    let uncommented: String = template
        .lines()
        .filter_map(|line| line.strip_prefix("# "))
        .filter(|line| {
            line.split_once('=').is_some_and(|(key, value)| {
                thorp_ops::envfile::is_valid_key(key) && !value.is_empty()
            })
        })
        .map(|line| format!("{line}\n"))
        .collect();
    let file = thorp_ops::envfile::parse(&uncommented).unwrap();
    assert!(file.len() > 40, "{} defaults", file.len());
    assert_eq!(
        load_str::<NodeConfig>(&uncommented).unwrap().config,
        defaults()
    );
}

fn checked_in() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/trading-node.env")
}

#[test]
fn the_checked_in_config_passes_and_documents_every_key() {
    let path = checked_in();
    let report = check_file(&path);
    assert!(report.passed(), "{:#?}", report.errors);
    assert_eq!(report.warnings, Vec::<String>::new());
    assert!(
        matches!(report.upstream, Some(Upstream::Simulator(_))),
        "offline by default"
    );
    let text = std::fs::read_to_string(&path).unwrap();
    for spec in NodeConfig::SCHEMA.all_keys() {
        let set = text
            .lines()
            .any(|line| line.starts_with(&format!("{}=", spec.key)));
        let commented = text.contains(&format!("# {}=", spec.key));
        assert!(
            set ^ commented,
            "{} is set or commented out, once",
            spec.key
        );
        if !spec.doc.is_empty() {
            assert!(text.contains(spec.doc), "{} keeps its doc line", spec.key);
        }
    }
    for key in RESTART_KEYS {
        assert!(
            NodeConfig::SCHEMA.find(key).is_some(),
            "{key} is a schema key"
        );
        assert!(
            NodeConfig::SCHEMA
                .find(key)
                .unwrap()
                .doc
                .contains("(at restart)"),
            "{key}"
        );
    }
}

const SECRET: &str = "sk_live_do_not_print_me";

#[test]
fn check_lists_every_problem_with_its_line_and_no_secret() {
    let dir = ConfigDir::new(&format!(
        "# a bad file\n\
         HELIUS_RPC_URL=ftp://mainnet.helius-rpc.com/?api-key={SECRET}\n\
         RPC_DEFAULT_TIMEOUT_MS=50\n\
         MIN_MARKET_CAP_USD=10\n\
         MAX_MARKET_CAP_USD=5\n\
         OPS_ADMIN_TOKEN={SECRET}\n\
         BACKPRESSURE_MAX_QUEUE_SIZ=3\n\
         SIM_LATENCY_MS=fast\n\
         OPS_ADMIN_TOKEN=short\n",
    ));
    let report = check_file(&dir.path);
    assert!(!report.passed() && !report.unreadable);
    let path = dir.path.display().to_string();
    let expected = [
        format!(
            "{path}:2: HELIUS_RPC_URL: [redacted] has scheme ftp (expected an absolute URL with scheme https or http)"
        ),
        format!(
            "{path}:3: RPC_DEFAULT_TIMEOUT_MS: \"50\" is below the minimum (expected 100..=60000)"
        ),
        format!(
            "{path}:4: MIN_MARKET_CAP_USD, MAX_MARKET_CAP_USD: must not exceed MAX_MARKET_CAP_USD"
        ),
        format!("{path}:8: SIM_LATENCY_MS: \"fast\" is not an integer (expected 0..=60000)"),
        format!("{path}:9: OPS_ADMIN_TOKEN: must be at least 16 characters"),
    ];
    assert_eq!(report.errors, expected);
    assert_eq!(
        report.warnings,
        [format!(
            "{path}:7: BACKPRESSURE_MAX_QUEUE_SIZ: unknown key (did you mean BACKPRESSURE_MAX_QUEUE_SIZE?)"
        )]
    );
    let all = format!("{report:?}");
    assert!(!all.contains(SECRET) && !all.contains("short"), "{all}");
}

#[test]
fn check_tells_an_unreadable_file_from_a_bad_one() {
    let dir = ConfigDir::empty();
    let report = check_file(&dir.path);
    assert!(report.unreadable && !report.passed());
    assert_eq!(report.errors.len(), 1, "{:?}", report.errors);

    let good = ConfigDir::new("MIN_EDGE_SCORE=75\nPUBLIC_RPC_URL=http://rpc.test/\n");
    let report = check_file(&good.path);
    assert!(report.passed(), "{:?}", report.errors);
    assert_eq!(report.upstream, Some(Upstream::Configured));
}
