//! `#[derive(HotConfig)]` at run time: typed parsing, validation, defaults, errors, secrets,
//! schema introspection and routing. One test per rule, named after it.

#![allow(
    dead_code,
    reason = "test schemas declare fields for their keys; not every field is read back"
)]

mod support;

use std::str::FromStr;
use std::time::Duration;
use support::loading::{entries, error_line, error_lines, errors, load, load_entries};
use thorp_examples::seed::{LogLevel, SeedConfig};
use thorp_ops::config::{
    ConfigValue, ConfigWarning, ErrorKind, Origin, Rejection, ValueError, from_entries, load_str,
};
use thorp_ops::{HotConfig, Secret};
use url::Url;

// ---------------------------------------------------------------------------------------------
// Typed parsing

/// Every integer width, each with its own key.
#[derive(HotConfig, Debug)]
#[hot_config(rename_all = "SCREAMING_SNAKE_CASE")]
struct Ints {
    #[hot_config(default = 0)]
    u8: u8,
    #[hot_config(default = 0)]
    u16: u16,
    #[hot_config(default = 0)]
    u32: u32,
    #[hot_config(default = 0)]
    u64: u64,
    #[hot_config(default = 0)]
    u128: u128,
    #[hot_config(default = 0)]
    usize: usize,
    #[hot_config(default = 0)]
    i8: i8,
    #[hot_config(default = 0)]
    i16: i16,
    #[hot_config(default = 0)]
    i32: i32,
    #[hot_config(default = 0)]
    i64: i64,
    #[hot_config(default = 0)]
    i128: i128,
    #[hot_config(default = 0)]
    isize: isize,
}

#[test]
fn integers_of_every_width_parse_their_whole_range() {
    let text = format!(
        "U8={}\nU16={}\nU32={}\nU64={}\nU128={}\nUSIZE={}\nI8={}\nI16={}\nI32={}\nI64={}\nI128={}\nISIZE={}\n",
        u8::MAX,
        u16::MAX,
        u32::MAX,
        u64::MAX,
        u128::MAX,
        usize::MAX,
        i8::MIN,
        i16::MIN,
        i32::MIN,
        i64::MIN,
        i128::MIN,
        isize::MIN
    );
    let ints = load::<Ints>(&text).config;
    assert_eq!(
        (ints.u8, ints.u16, ints.u32, ints.u64, ints.u128, ints.usize),
        (u8::MAX, u16::MAX, u32::MAX, u64::MAX, u128::MAX, usize::MAX)
    );
    assert_eq!(
        (ints.i8, ints.i16, ints.i32, ints.i64, ints.i128, ints.isize),
        (i8::MIN, i16::MIN, i32::MIN, i64::MIN, i128::MIN, isize::MIN)
    );
}

#[test]
fn integers_refuse_trailing_text() {
    assert_eq!(
        error_line::<Ints>("U64=2000abc"),
        r#"1: U64: "2000abc" is not an integer (expected a non-negative integer)"#
    );
}

#[test]
fn integers_refuse_exponents() {
    for key in ["U8", "U32", "I64", "U128"] {
        let line = error_line::<Ints>(&format!("{key}=1e3"));
        assert!(line.contains(r#""1e3" is not an integer"#), "{line}");
    }
}

#[test]
fn integers_refuse_doubled_signs() {
    for value in ["+-1", "-+1", "--1", "++1"] {
        let line = error_line::<Ints>(&format!("I32={value}"));
        assert!(line.contains("is not an integer"), "{line}");
    }
}

#[test]
fn integers_refuse_values_out_of_their_range() {
    let lines = error_lines::<Ints>(
        "U8=256\nI8=-129\nU64=-1\nU128=340282366920938463463374607431768211456\nI64=9223372036854775808",
    );
    assert_eq!(
        lines,
        [
            r#"1: U8: "256" is out of range for u8 (expected a non-negative integer)"#,
            r#"2: I8: "-129" is out of range for i8 (expected an integer)"#,
            r#"3: U64: "-1" is out of range for u64 (expected a non-negative integer)"#,
            r#"4: U128: "340282366920938463463374607431768211456" is out of range for u128 (expected a non-negative integer)"#,
            r#"5: I64: "9223372036854775808" is out of range for i64 (expected an integer)"#,
        ]
    );
}

#[derive(HotConfig, Debug)]
#[hot_config(rename_all = "SCREAMING_SNAKE_CASE")]
struct Floats {
    #[hot_config(default = 0.0)]
    ratio: f64,
    #[hot_config(default = 0.0)]
    weight: f32,
}

#[test]
fn floats_parse_decimal_and_exponent_forms() {
    let floats = load::<Floats>("RATIO=0.95\nWEIGHT=-1e3").config;
    assert!((floats.ratio - 0.95).abs() < f64::EPSILON);
    assert!((floats.weight + 1000.0).abs() < f32::EPSILON);
}

#[test]
fn floats_must_be_finite() {
    for value in ["NaN", "inf", "-inf", "infinity", "1e400"] {
        let line = error_line::<Floats>(&format!("RATIO={value}"));
        assert_eq!(
            line,
            format!(r#"1: RATIO: "{value}" is not a finite number (expected a finite number)"#)
        );
    }
    let line = error_line::<Floats>("WEIGHT=1e39");
    assert!(line.contains("is not a finite number"), "{line}");
}

#[test]
fn floats_refuse_text() {
    assert_eq!(
        error_line::<Floats>("RATIO=high"),
        r#"1: RATIO: "high" is not a number (expected a finite number)"#
    );
}

#[derive(HotConfig, Debug)]
#[hot_config(rename_all = "SCREAMING_SNAKE_CASE")]
struct Flags {
    #[hot_config(default = false)]
    enabled: bool,
}

#[test]
fn bools_accept_true_false_yes_no_on_off_1_0_in_any_case() {
    for (value, expected) in [
        ("true", true),
        ("TRUE", true),
        ("Yes", true),
        ("on", true),
        ("1", true),
        ("false", false),
        ("False", false),
        ("NO", false),
        ("off", false),
        ("0", false),
    ] {
        let flags = load::<Flags>(&format!("ENABLED={value}")).config;
        assert_eq!(flags.enabled, expected, "{value}");
    }
}

#[test]
fn bools_refuse_other_words() {
    assert_eq!(
        error_line::<Flags>("ENABLED=maybe"),
        r#"1: ENABLED: "maybe" is not a boolean (expected a boolean (true/false, yes/no, on/off, 1/0))"#
    );
}

#[derive(HotConfig, Debug)]
#[hot_config(rename_all = "SCREAMING_SNAKE_CASE")]
struct Texts {
    name: String,
    #[hot_config(default = "node-1")]
    node: String,
}

#[test]
fn strings_are_taken_as_written() {
    let texts = load::<Texts>("NAME=a b=c#d").config;
    assert_eq!(texts.name, "a b=c#d");
    assert_eq!(texts.node, "node-1");
}

#[derive(HotConfig, Debug)]
#[hot_config(key_prefix = "RPC_")]
struct Urls {
    primary: Url,
    #[hot_config(url)]
    checked: Option<Url>,
    #[hot_config(url(scheme = "https", scheme = "wss"))]
    secure: Option<Url>,
}

#[test]
fn urls_parse_absolute_urls() {
    let urls = load::<Urls>("RPC_PRIMARY=https://api.mainnet-beta.solana.com").config;
    assert_eq!(urls.primary.host_str(), Some("api.mainnet-beta.solana.com"));
}

#[test]
fn urls_refuse_relative_urls() {
    assert_eq!(
        error_line::<Urls>("RPC_PRIMARY=not-a-valid-url"),
        r#"1: RPC_PRIMARY: "not-a-valid-url" is not a URL (relative URL without a base) (expected an absolute URL)"#
    );
}

#[derive(HotConfig, Debug)]
#[hot_config(key_prefix = "HEALTH_")]
struct Durations {
    interval: Duration,
}

#[test]
fn durations_take_ms_s_and_m_units() {
    for (value, expected) in [
        ("250ms", Duration::from_millis(250)),
        ("2s", Duration::from_secs(2)),
        ("1m", Duration::from_secs(60)),
        ("1m30s", Duration::from_secs(90)),
    ] {
        let durations = load::<Durations>(&format!("HEALTH_INTERVAL={value}")).config;
        assert_eq!(durations.interval, expected, "{value}");
    }
}

#[test]
fn durations_refuse_bare_numbers() {
    assert_eq!(
        error_line::<Durations>("HEALTH_INTERVAL=500"),
        r#"1: HEALTH_INTERVAL: "500" is not a duration (expected a duration like 250ms, 2s or 1m)"#
    );
}

#[derive(HotConfig, Debug)]
#[hot_config(rename_all = "SCREAMING_SNAKE_CASE")]
struct Optionals {
    retries: Option<u8>,
    label: Option<String>,
}

#[test]
fn options_are_none_when_the_key_is_absent() {
    let optionals = load::<Optionals>("").config;
    assert_eq!((optionals.retries, optionals.label), (None, None));
}

#[test]
fn options_are_none_when_the_value_is_empty() {
    let optionals = load::<Optionals>("RETRIES=\nLABEL=").config;
    assert_eq!((optionals.retries, optionals.label), (None, None));
}

#[test]
fn options_hold_a_set_value_and_check_it() {
    let optionals = load::<Optionals>("RETRIES=3").config;
    assert_eq!(optionals.retries, Some(3));
    assert_eq!(
        error_line::<Optionals>("RETRIES=three"),
        r#"1: RETRIES: "three" is not an integer (expected a non-negative integer)"#
    );
}

#[derive(HotConfig, Debug)]
#[hot_config(rename_all = "SCREAMING_SNAKE_CASE")]
struct Lists {
    #[hot_config(default = "")]
    tags: Vec<String>,
    #[hot_config(max = 65535, default = "8080")]
    ports: Vec<u32>,
}

#[test]
fn lists_split_on_commas_trimming_items_and_skipping_empty_ones() {
    let lists = load::<Lists>("TAGS= a, b ,,c,\nPORTS=80,443").config;
    assert_eq!(lists.tags, ["a", "b", "c"]);
    assert_eq!(lists.ports, [80, 443]);
}

#[test]
fn lists_check_every_item() {
    assert_eq!(
        error_line::<Lists>("PORTS=80,http"),
        r#"1: PORTS: "80,http" is not an integer (expected ..=65535)"#
    );
    assert_eq!(
        error_line::<Lists>("PORTS=80,70000"),
        r#"1: PORTS: "80,70000" is above the maximum (expected ..=65535)"#
    );
}

#[test]
fn list_defaults_are_parsed_like_values() {
    let lists = load::<Lists>("").config;
    assert!(lists.tags.is_empty());
    assert_eq!(lists.ports, [8080]);
}

#[derive(HotConfig, Debug)]
#[hot_config(rename_all = "SCREAMING_SNAKE_CASE")]
struct Logging {
    #[hot_config(default = "info")]
    log_level: LogLevel,
}

#[test]
fn from_str_types_parse_through_from_str() {
    assert_eq!(
        load::<Logging>("LOG_LEVEL=WARN").config.log_level,
        LogLevel::Warn
    );
    assert_eq!(load::<Logging>("").config.log_level, LogLevel::Info);
}

#[test]
fn from_str_errors_are_reported_with_their_message() {
    assert_eq!(
        error_line::<Logging>("LOG_LEVEL=loud"),
        r#"1: LOG_LEVEL: "loud" is not valid: expected trace, debug, info, warn or error"#
    );
}

/// Lamports written with their unit: `5000lamports`.
#[derive(Debug, PartialEq)]
struct Lamports(u64);

impl ConfigValue for Lamports {
    fn parse_value(raw: &str) -> Result<Self, ValueError> {
        match raw.strip_suffix("lamports") {
            Some(number) => u64::parse_value(number).map(Lamports),
            None => Err(ValueError::new("needs the unit `lamports`")),
        }
    }
}

// Both `ConfigValue` and `FromStr`: `ConfigValue` must win.
impl FromStr for Lamports {
    type Err = String;

    fn from_str(_: &str) -> Result<Self, String> {
        Err("FromStr must not be used when ConfigValue is implemented".to_owned())
    }
}

#[derive(HotConfig, Debug)]
#[hot_config(rename_all = "SCREAMING_SNAKE_CASE")]
struct Fees {
    #[hot_config(default = "5000lamports")]
    priority_fee: Lamports,
    tips: Option<Vec<Lamports>>,
}

#[test]
fn user_types_parse_through_config_value_before_from_str() {
    let fees = load::<Fees>("TIPS=1lamports,2lamports").config;
    assert_eq!(fees.priority_fee, Lamports(5000));
    assert_eq!(fees.tips, Some(vec![Lamports(1), Lamports(2)]));
    assert_eq!(
        error_line::<Fees>("PRIORITY_FEE=5000"),
        r#"1: PRIORITY_FEE: "5000" needs the unit `lamports`"#
    );
}

// ---------------------------------------------------------------------------------------------
// Validation

#[derive(HotConfig, Debug)]
#[hot_config(component = "rpcPool", prefix = "RPC_")]
struct Bounded {
    /// Per-request timeout in milliseconds.
    #[hot_config(
        key = "RPC_DEFAULT_TIMEOUT_MS",
        min = 100,
        max = 60_000,
        default = 2000
    )]
    timeout_ms: u64,
    #[hot_config(key = "RPC_WEIGHT", range = 0.0..=1.0, default = 0.5)]
    weight: f64,
    #[hot_config(key = "RPC_OFFSET", min = -10, default = 0)]
    offset: i32,
    #[hot_config(key = "RPC_RETRY_DELAY", range = "100ms"..="1m", default = "1s")]
    retry_delay: Duration,
    #[hot_config(key = "RPC_IDLE", range = ..="10s")]
    idle: Option<Duration>,
}

#[test]
fn min_refuses_smaller_values() {
    assert_eq!(
        error_line::<Bounded>("RPC_DEFAULT_TIMEOUT_MS=99"),
        r#"1: RPC_DEFAULT_TIMEOUT_MS: "99" is below the minimum (expected 100..=60000)"#
    );
    assert_eq!(
        error_line::<Bounded>("RPC_OFFSET=-11"),
        r#"1: RPC_OFFSET: "-11" is below the minimum (expected -10..)"#
    );
}

#[test]
fn max_refuses_larger_values() {
    assert_eq!(
        error_line::<Bounded>("RPC_DEFAULT_TIMEOUT_MS=60001"),
        r#"1: RPC_DEFAULT_TIMEOUT_MS: "60001" is above the maximum (expected 100..=60000)"#
    );
}

#[test]
fn bounds_are_inclusive() {
    let low = load::<Bounded>("RPC_DEFAULT_TIMEOUT_MS=100\nRPC_WEIGHT=0\nRPC_RETRY_DELAY=100ms");
    assert_eq!(low.config.timeout_ms, 100);
    let high = load::<Bounded>("RPC_DEFAULT_TIMEOUT_MS=60000\nRPC_WEIGHT=1.0\nRPC_RETRY_DELAY=1m");
    assert_eq!(high.config.retry_delay, Duration::from_secs(60));
}

#[test]
fn float_ranges_refuse_values_outside() {
    assert_eq!(
        error_line::<Bounded>("RPC_WEIGHT=1.01"),
        r#"1: RPC_WEIGHT: "1.01" is above the maximum (expected 0..=1)"#
    );
}

#[test]
fn duration_ranges_refuse_values_outside() {
    assert_eq!(
        error_lines::<Bounded>("RPC_RETRY_DELAY=99ms\nRPC_IDLE=11s"),
        [
            r#"1: RPC_RETRY_DELAY: "99ms" is below the minimum (expected 100ms..=1m)"#,
            r#"2: RPC_IDLE: "11s" is above the maximum (expected ..=10s)"#,
        ]
    );
}

#[test]
fn url_schemes_are_enforced() {
    assert_eq!(
        error_line::<Urls>("RPC_PRIMARY=http://a.example\nRPC_SECURE=http://b.example"),
        r#"2: RPC_SECURE: "http://b.example" has scheme http (expected an absolute URL with scheme https or wss)"#
    );
    let urls = load::<Urls>("RPC_PRIMARY=http://a.example\nRPC_SECURE=wss://b.example");
    assert_eq!(
        urls.config.secure.map(|url| url.scheme().to_owned()),
        Some("wss".to_owned())
    );
}

#[test]
fn urls_without_a_host_are_refused() {
    assert_eq!(
        error_lines::<Urls>(
            "RPC_PRIMARY=http://a.example\nRPC_CHECKED=file:///etc/passwd\nRPC_SECURE=https:"
        ),
        [
            r#"2: RPC_CHECKED: "file:///etc/passwd" has no host (expected an absolute URL)"#,
            r#"3: RPC_SECURE: "https:" is not a URL (empty host) (expected an absolute URL with scheme https or wss)"#,
        ]
    );
}

#[derive(HotConfig, Debug)]
#[hot_config(rename_all = "SCREAMING_SNAKE_CASE")]
struct NonEmpty {
    #[hot_config(non_empty)]
    node_name: String,
    #[hot_config(non_empty, default = "a")]
    regions: Vec<String>,
}

#[test]
fn non_empty_refuses_blank_strings() {
    for blank in ["", "   "] {
        let errors = match from_entries::<NonEmpty>(&entries(&[("NODE_NAME", blank, 4)])) {
            Ok(_) => panic!("{blank:?} must be refused"),
            Err(errors) => errors,
        };
        assert_eq!(
            errors.to_string(),
            format!(r#"4: NODE_NAME: {blank:?} is empty (expected text, not empty)"#)
        );
    }
}

#[test]
fn non_empty_refuses_empty_lists() {
    assert_eq!(
        error_line::<NonEmpty>("NODE_NAME=n\nREGIONS=,"),
        r#"2: REGIONS: "," is empty (expected text, not empty)"#
    );
}

#[derive(HotConfig, Debug)]
#[hot_config(
    component = "detection",
    prefix = "MIN_MARKET_",
    prefix = "MAX_MARKET_",
    validate = market_cap_in_order
)]
struct MarketCap {
    #[hot_config(key = "MIN_MARKET_CAP", default = 0)]
    min: u64,
    #[hot_config(key = "MAX_MARKET_CAP", default = 1_000_000)]
    max: u64,
}

fn market_cap_in_order(config: &MarketCap) -> Result<(), Rejection> {
    if config.min > config.max {
        return Err(Rejection::new("must not exceed MAX_MARKET_CAP")
            .key("MIN_MARKET_CAP")
            .key("MAX_MARKET_CAP"));
    }
    Ok(())
}

#[test]
fn validate_hooks_refuse_with_the_keys_and_line_they_name() {
    assert_eq!(
        error_line::<MarketCap>("MAX_MARKET_CAP=10\n\nMIN_MARKET_CAP=20"),
        "3: MIN_MARKET_CAP, MAX_MARKET_CAP: must not exceed MAX_MARKET_CAP"
    );
    assert_eq!(load::<MarketCap>("MIN_MARKET_CAP=10").config.max, 1_000_000);
}

#[test]
fn validate_hooks_run_only_when_every_field_parsed() {
    // The hook sees a whole config or none: a bad field is the only error.
    assert_eq!(
        error_line::<MarketCap>("MIN_MARKET_CAP=20\nMAX_MARKET_CAP=ten"),
        r#"2: MAX_MARKET_CAP: "ten" is not an integer (expected a non-negative integer)"#
    );
}

// ---------------------------------------------------------------------------------------------
// Required keys and defaults

#[test]
fn required_keys_missing_name_the_key_and_its_doc() {
    assert_eq!(
        error_line::<SeedConfig>(""),
        "HELIUS_RPC_URL: is required but not set (Primary endpoint; its query string carries the API key.)"
    );
}

#[test]
fn required_keys_without_doc_say_only_that_they_are_required() {
    assert_eq!(error_line::<Texts>(""), "NAME: is required but not set");
}

#[test]
fn defaults_apply_when_the_key_is_absent() {
    let loaded = load::<SeedConfig>("HELIUS_RPC_URL=https://h.example");
    let config = loaded.config;
    assert_eq!(config.rpc.default_timeout_ms, 2000);
    assert_eq!(config.detection.min_edge_score, 60);
    assert_eq!(config.logging.level, LogLevel::Info);
    assert_eq!(config.backpressure.max_queue_size, 5000);
    assert_eq!(config.shutdown.timeout_ms, 10000);
    assert_eq!(config.rpc.public_url, None);
    let origin = |key| {
        loaded
            .values
            .get(key)
            .map(thorp_ops::config::Setting::origin)
    };
    assert_eq!(origin("MIN_EDGE_SCORE"), Some(Origin::Default));
    assert_eq!(origin("HELIUS_RPC_URL"), Some(Origin::Line(1)));
    assert_eq!(origin("PUBLIC_RPC_URL"), Some(Origin::Unset));
}

#[test]
fn set_values_override_defaults() {
    let config = load::<SeedConfig>("HELIUS_RPC_URL=https://h.example\nMIN_EDGE_SCORE=75").config;
    assert_eq!(config.detection.min_edge_score, 75);
}

// ---------------------------------------------------------------------------------------------
// Errors

#[test]
fn every_error_is_reported_at_once_with_line_key_value_and_expectation() {
    let text = "\
HELIUS_RPC_URL=ftp://h.example
CHAINSTACK_RPC_URL=not a url
RPC_DEFAULT_TIMEOUT_MS=not_a_number
MIN_EDGE_SCORE=101
LOG_LEVEL=loud
BACKPRESSURE_MAX_QUEUE_SIZE=0
SHUTDOWN_TIMEOUT_MS=1e3";
    assert_eq!(
        errors::<SeedConfig>(text).to_string(),
        r#"1: HELIUS_RPC_URL: [redacted] has scheme ftp (expected an absolute URL with scheme https or http)
2: CHAINSTACK_RPC_URL: "not a url" is not a URL (relative URL without a base) (expected an absolute URL with scheme https or http)
3: RPC_DEFAULT_TIMEOUT_MS: "not_a_number" is not an integer (expected 100..)
4: MIN_EDGE_SCORE: "101" is above the maximum (expected 0..=100)
5: LOG_LEVEL: "loud" is not valid: expected trace, debug, info, warn or error
6: BACKPRESSURE_MAX_QUEUE_SIZE: "0" is below the minimum (expected 1..=1000000)
7: SHUTDOWN_TIMEOUT_MS: "1e3" is not an integer (expected a non-negative integer)"#
    );
}

#[test]
fn errors_name_the_file_they_were_found_in() {
    let dir = match tempfile::tempdir() {
        Ok(dir) => dir,
        Err(error) => panic!("temp dir: {error}"),
    };
    let path = dir.path().join("trading.env");
    let text =
        "# trading node\n\nRPC_WEIGHT=0.5\n\n# timeouts\n\nRPC_DEFAULT_TIMEOUT_MS=not_a_number\n";
    if let Err(error) = std::fs::write(&path, text) {
        panic!("write {}: {error}", path.display());
    }
    let errors = match thorp_ops::config::load_file::<Bounded>(&path) {
        Ok(_) => panic!("{} must be refused", path.display()),
        Err(errors) => errors,
    };
    assert_eq!(
        errors.to_string(),
        format!(
            r#"{}:7: RPC_DEFAULT_TIMEOUT_MS: "not_a_number" is not an integer (expected 100..=60000)"#,
            path.display()
        )
    );
}

#[test]
fn errors_are_structured_as_well_as_displayed() {
    let errors = errors::<Bounded>("RPC_DEFAULT_TIMEOUT_MS=not_a_number");
    let [error] = errors.errors() else {
        panic!("expected one error: {errors}");
    };
    assert_eq!(error.line, Some(1));
    assert_eq!(error.key.as_deref(), Some("RPC_DEFAULT_TIMEOUT_MS"));
    assert_eq!(error.value.as_deref(), Some(r#""not_a_number""#));
    match &error.kind {
        ErrorKind::Invalid { message, expected } => {
            assert_eq!(message, "is not an integer");
            assert_eq!(expected, "100..=60000");
        }
        other => panic!("unexpected kind {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Secrets

const SECRET: &str = "sk-hunter2-do-not-print";

/// An API token type whose `FromStr` error repeats its input, as careless ones do.
#[derive(Debug, Clone, PartialEq)]
struct Token(String);

impl FromStr for Token {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        if text.starts_with("sk-") && !text.contains("print") {
            Ok(Self(text.to_owned()))
        } else {
            Err(format!("bad token {text}"))
        }
    }
}

#[derive(HotConfig, Debug, Clone, PartialEq, serde::Serialize)]
#[hot_config(component = "rpcPool", prefix = "RPC_", prefix = "HELIUS_")]
struct Secrets {
    #[hot_config(key = "HELIUS_RPC_URL", url(scheme = "https"), secret)]
    helius_url: Secret<Url>,
    #[hot_config(key = "RPC_TOKEN", secret)]
    token: Option<Secret<Token>>,
    #[hot_config(key = "RPC_KEYS", secret, non_empty)]
    keys: Option<Secret<Vec<String>>>,
    #[hot_config(key = "RPC_TIMEOUT_MS", default = 2000)]
    timeout_ms: u64,
}

fn helius(secret: &str) -> String {
    format!("HELIUS_RPC_URL=https://mainnet.helius-rpc.com/?api-key={secret}\n")
}

#[test]
fn secret_values_never_appear_in_debug_of_the_struct() {
    let text = format!("{}RPC_KEYS={SECRET},k2\n", helius(SECRET));
    let loaded = load::<Secrets>(&text);
    let debug = format!("{:?} {:#?}", loaded.config, loaded.config);
    assert!(!debug.contains(SECRET), "{debug}");
    assert!(!debug.contains("k2"), "{debug}");
    assert!(debug.contains("[redacted]"), "{debug}");
    assert_eq!(
        loaded.config.keys.as_ref().map(|keys| keys.expose().len()),
        Some(2)
    );
}

#[test]
fn secret_values_never_appear_in_errors() {
    let text = format!(
        "HELIUS_RPC_URL=http://mainnet.helius-rpc.com/?api-key={SECRET}\nRPC_TOKEN={SECRET}\nRPC_KEYS=,\n"
    );
    let errors = errors::<Secrets>(&text);
    let shown = format!("{errors}\n{errors:?}");
    assert!(!shown.contains(SECRET), "{shown}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert_eq!(
        errors.to_string(),
        "1: HELIUS_RPC_URL: [redacted] has scheme http (expected an absolute URL with scheme https)\n\
         2: RPC_TOKEN: [redacted] is not valid\n\
         3: RPC_KEYS: [redacted] is empty (expected text, not empty)"
    );
}

#[test]
fn secret_values_never_appear_in_values_or_changes() {
    let before = load::<Secrets>(&format!("{}RPC_TOKEN=sk-one\n", helius("first-key")));
    let after = load::<Secrets>(&format!("{}RPC_TOKEN=sk-two\n", helius(SECRET)));
    let values = format!("{:?} {:?}", before.values, after.values);
    assert!(
        !values.contains("first-key") && !values.contains(SECRET),
        "{values}"
    );
    assert!(
        !values.contains("sk-one") && !values.contains("sk-two"),
        "{values}"
    );
    for (_, setting) in after.values.iter() {
        let shown = setting
            .shown()
            .map(|shown| shown.into_owned())
            .unwrap_or_default();
        assert!(
            !shown.contains(SECRET) && !shown.contains("sk-two"),
            "{shown}"
        );
    }
    let changes = after.values.changes_since(&before.values);
    let keys: Vec<_> = changes.iter().map(|change| change.key.as_str()).collect();
    assert_eq!(keys, ["HELIUS_RPC_URL", "RPC_TOKEN"]);
    assert!(changes.iter().all(|change| change.secret));
    let shown = format!(
        "{changes:?} {}",
        serde_json::to_string(&changes).unwrap_or_default()
    );
    assert!(
        !shown.contains(SECRET) && !shown.contains("first-key"),
        "{shown}"
    );
    assert!(
        !shown.contains("sk-one") && !shown.contains("sk-two"),
        "{shown}"
    );
}

#[test]
fn secret_values_never_appear_in_serialized_output() {
    let text = format!("{}RPC_TOKEN=sk-abc\nRPC_KEYS={SECRET}\n", helius(SECRET));
    let config = load::<Secrets>(&text).config;
    let json = serde_json::to_string(&config).unwrap_or_default();
    assert_eq!(
        json,
        r#"{"helius_url":"[redacted]","token":"[redacted]","keys":"[redacted]","timeout_ms":2000}"#
    );
}

#[test]
fn urls_with_credentials_are_redacted_even_when_not_secret() {
    let text = format!(
        "HELIUS_RPC_URL=https://h.example\nPUBLIC_RPC_URL=https://user:pw@p.example/?token={SECRET}&cluster=main\n"
    );
    let loaded = load::<SeedConfig>(&text);
    let shown = format!("{:?}", loaded.values);
    assert!(
        !shown.contains(SECRET) && !shown.contains(":pw@"),
        "{shown}"
    );
    assert!(shown.contains("cluster=main"), "{shown}");
}

#[test]
fn urls_with_credentials_are_redacted_in_errors() {
    let text = format!(
        "HELIUS_RPC_URL=https://h.example\nPUBLIC_RPC_URL=ftp://user:pw@p.example/?api-key={SECRET}&cluster=main\n"
    );
    assert_eq!(
        error_line::<SeedConfig>(&text),
        r#"2: PUBLIC_RPC_URL: "ftp://user:[redacted]@p.example/?api-key=[redacted]&cluster=main" has scheme ftp (expected an absolute URL with scheme https or http)"#
    );
}

#[derive(HotConfig, Debug)]
#[hot_config(rename_all = "SCREAMING_SNAKE_CASE")]
struct NamedLikeSecrets {
    auth_token: Option<Token>,
}

#[test]
fn keys_named_like_credentials_are_redacted_in_errors() {
    // Not marked `secret`, but `Values` redacts `*_TOKEN` keys, so errors do too.
    assert_eq!(
        error_line::<NamedLikeSecrets>(&format!("AUTH_TOKEN={SECRET}")),
        "1: AUTH_TOKEN: [redacted] is not valid"
    );
}

// ---------------------------------------------------------------------------------------------
// Schema

#[test]
fn schema_describes_every_key() {
    let keys = SeedConfig::SCHEMA.all_keys();
    let names: Vec<_> = keys.iter().map(|spec| spec.key).collect();
    assert_eq!(
        names,
        [
            "HELIUS_RPC_URL",
            "CHAINSTACK_RPC_URL",
            "PUBLIC_RPC_URL",
            "RPC_DEFAULT_TIMEOUT_MS",
            "MIN_EDGE_SCORE",
            "LOG_LEVEL",
            "BACKPRESSURE_MAX_QUEUE_SIZE",
            "SHUTDOWN_TIMEOUT_MS",
        ]
    );

    let helius = keys[0];
    assert_eq!(helius.field, "helius_url");
    assert_eq!(helius.type_name, "Secret<Url>");
    assert_eq!(helius.expected, "an absolute URL");
    assert!(helius.required && helius.url && helius.secret && !helius.list);
    assert_eq!(helius.schemes, ["https", "http"]);
    assert_eq!(helius.default, None);
    assert_eq!(
        helius.doc,
        "Primary endpoint; its query string carries the API key."
    );
    assert_eq!(helius.component, Some("rpcPool"));

    let public = keys[2];
    assert_eq!(public.type_name, "Option<Url>");
    assert!(!public.required && public.url && !public.secret);

    let timeout = keys[3];
    assert_eq!(timeout.type_name, "u64");
    assert_eq!(
        (timeout.min, timeout.max, timeout.default),
        (Some("100"), None, Some("2000"))
    );
    assert!(!timeout.required);
    assert_eq!(timeout.doc, "Per-request timeout in milliseconds.");

    let score = keys[4];
    assert_eq!(
        (score.min, score.max, score.default),
        (Some("0"), Some("100"), Some("60"))
    );
    assert_eq!(score.range().as_deref(), Some("0..=100"));
    assert_eq!(score.component, Some("detection"));

    let level = keys[5];
    assert_eq!(level.type_name, "LogLevel");
    assert_eq!(
        (level.default, level.component),
        (Some("info"), Some("logging"))
    );
}

#[test]
fn schema_describes_lists_durations_and_non_empty() {
    let keys = Bounded::SCHEMA.all_keys();
    let delay = keys[3];
    assert_eq!(delay.key, "RPC_RETRY_DELAY");
    assert_eq!(delay.type_name, "Duration");
    assert_eq!(
        (delay.min, delay.max, delay.default),
        (Some("100ms"), Some("1m"), Some("1s"))
    );
    let idle = keys[4];
    assert_eq!(
        (idle.min, idle.max, idle.required),
        (None, Some("10s"), false)
    );
    let regions = NonEmpty::SCHEMA.all_keys()[1];
    assert!(regions.list && regions.non_empty);
    assert_eq!(regions.type_name, "Vec<String>");
    assert_eq!(regions.expectation(), "text, not empty");
    let keys = Secrets::SCHEMA.all_keys();
    assert_eq!(keys[2].type_name, "Option<Secret<Vec<String>>>");
    assert!(keys[2].secret && keys[2].list && !keys[2].required);
}

// ---------------------------------------------------------------------------------------------
// Routing

#[test]
fn components_carry_the_seeds_prefix_table() {
    let table: Vec<(&str, Vec<&str>)> = SeedConfig::SCHEMA
        .components()
        .iter()
        .map(|component| (component.name, component.prefixes.to_vec()))
        .collect();
    assert_eq!(
        table,
        [
            ("rpcPool", vec!["RPC_", "HELIUS_", "CHAINSTACK_", "PUBLIC_"]),
            (
                "detection",
                vec![
                    "MIN_EDGE_",
                    "MIN_LIQUIDITY_",
                    "MAX_HOLDER_",
                    "MIN_MARKET_",
                    "MAX_MARKET_"
                ]
            ),
            ("logging", vec!["LOG_", "TRACE_"]),
            (
                "backpressureManager",
                vec!["BACKPRESSURE_", "QUEUE_MAX_SIZE"]
            ),
            ("shutdownManager", vec!["SHUTDOWN_", "GRACEFUL_"]),
        ]
    );
}

/// The seed's whole default routing table, as attributes: every component with no keys of
/// its own yet.
mod routing {
    use thorp_ops::HotConfig;

    macro_rules! component {
        ($name:ident, $component:literal, $($prefix:literal),+) => {
            #[derive(HotConfig, Debug)]
            #[hot_config(component = $component, $(prefix = $prefix),+)]
            pub(crate) struct $name {}
        };
    }

    component!(
        RpcPool,
        "rpcPool",
        "RPC_",
        "HELIUS_",
        "CHAINSTACK_",
        "PUBLIC_"
    );
    component!(CircuitBreaker, "circuitBreaker", "RPC_BREAKER_", "CIRCUIT_");
    component!(EventBus, "eventBus", "EVENT_", "QUEUE_");
    component!(
        Backpressure,
        "backpressureManager",
        "BACKPRESSURE_",
        "QUEUE_MAX_SIZE"
    );
    component!(Shutdown, "shutdownManager", "SHUTDOWN_", "GRACEFUL_");
    component!(
        Detection,
        "detection",
        "MIN_EDGE_",
        "MIN_LIQUIDITY_",
        "MAX_HOLDER_",
        "MIN_MARKET_",
        "MAX_MARKET_"
    );
    component!(Logging, "logging", "LOG_", "TRACE_");
    component!(
        HealthMonitor,
        "healthMonitor",
        "HEALTH_",
        "ALERT_",
        "MONITOR_"
    );

    #[derive(HotConfig, Debug)]
    pub(crate) struct All {
        #[hot_config(flatten)]
        pub(crate) rpc_pool: RpcPool,
        #[hot_config(flatten)]
        pub(crate) circuit_breaker: CircuitBreaker,
        #[hot_config(flatten)]
        pub(crate) event_bus: EventBus,
        #[hot_config(flatten)]
        pub(crate) backpressure: Backpressure,
        #[hot_config(flatten)]
        pub(crate) shutdown: Shutdown,
        #[hot_config(flatten)]
        pub(crate) detection: Detection,
        #[hot_config(flatten)]
        pub(crate) logging: Logging,
        #[hot_config(flatten)]
        pub(crate) health: HealthMonitor,
    }
}

#[test]
fn components_own_keys_under_their_prefixes() {
    let owners = |key: &str| -> Vec<&str> {
        routing::All::SCHEMA
            .components()
            .into_iter()
            .filter(|component| component.owns(key))
            .map(|component| component.name)
            .collect()
    };
    assert_eq!(owners("HELIUS_RPC_URL"), ["rpcPool"]);
    assert_eq!(
        owners("RPC_BREAKER_THRESHOLD"),
        ["rpcPool", "circuitBreaker"]
    );
    assert_eq!(owners("CIRCUIT_OPEN_MS"), ["circuitBreaker"]);
    assert_eq!(
        owners("QUEUE_MAX_SIZE"),
        ["eventBus", "backpressureManager"]
    );
    assert_eq!(owners("QUEUE_FLUSH_MS"), ["eventBus"]);
    assert_eq!(owners("GRACEFUL_TIMEOUT"), ["shutdownManager"]);
    assert_eq!(owners("MAX_HOLDER_PERCENT"), ["detection"]);
    assert_eq!(owners("TRACE_SAMPLE"), ["logging"]);
    assert_eq!(owners("ALERT_WEBHOOK"), ["healthMonitor"]);
    assert!(owners("NEW_SETTING").is_empty());
}

#[test]
fn schemas_concern_their_keys_and_prefixes() {
    use thorp_examples::seed::{DetectionConfig, RpcConfig};
    assert!(RpcConfig::SCHEMA.concerns("RPC_DEFAULT_TIMEOUT_MS"));
    assert!(RpcConfig::SCHEMA.concerns("CHAINSTACK_WS_URL"));
    assert!(!RpcConfig::SCHEMA.concerns("MIN_EDGE_SCORE"));
    assert!(DetectionConfig::SCHEMA.concerns("MIN_LIQUIDITY_SOL"));
    assert!(SeedConfig::SCHEMA.concerns("LOG_LEVEL"));
    assert!(!SeedConfig::SCHEMA.concerns("NEW_SETTING"));
    // A struct without a component concerns only its own keys.
    assert!(Texts::SCHEMA.concerns("NAME"));
    assert!(!Texts::SCHEMA.concerns("NAMES"));
}

// ---------------------------------------------------------------------------------------------
// Flatten and unknown keys

#[derive(HotConfig, Debug)]
#[hot_config(component = "detection", prefix = "MIN_EDGE_")]
struct EdgeA {
    #[hot_config(key = "MIN_EDGE_SCORE", default = 1)]
    score: u32,
}

#[derive(HotConfig, Debug)]
struct EdgeB {
    #[hot_config(key = "MIN_EDGE_SCORE", default = 2)]
    score: u32,
}

#[derive(HotConfig, Debug)]
struct Clash {
    #[hot_config(flatten)]
    a: EdgeA,
    #[hot_config(flatten)]
    b: EdgeB,
}

#[test]
fn duplicate_keys_across_flatten_fail_at_load() {
    let lines = error_lines::<Clash>("MIN_EDGE_SCORE=5");
    assert_eq!(
        lines,
        [
            "MIN_EDGE_SCORE: is declared twice in the config schema (EdgeA.score and EdgeB.score, in Clash)"
        ]
    );
}

#[test]
fn unknown_keys_are_kept_with_a_did_you_mean_warning() {
    let entries = entries(&[
        ("HELIUS_RPC_URL", "https://h.example", 1),
        ("MIN_EDG_SCORE", "70", 2),
        ("NEW_SETTING", "test_value", 3),
    ]);
    let loaded = load_entries::<SeedConfig>(&entries);
    assert_eq!(loaded.config.detection.min_edge_score, 60);
    assert_eq!(
        loaded.warnings,
        [
            ConfigWarning::UnknownKey {
                key: "MIN_EDG_SCORE".to_owned(),
                line: 2,
                suggestion: Some("MIN_EDGE_SCORE"),
            },
            ConfigWarning::UnknownKey {
                key: "NEW_SETTING".to_owned(),
                line: 3,
                suggestion: None,
            },
        ]
    );
    assert_eq!(
        loaded.warnings[0].to_string(),
        "2: MIN_EDG_SCORE: unknown key (did you mean MIN_EDGE_SCORE?)"
    );
    let setting = loaded.values.get("NEW_SETTING");
    assert_eq!(setting.and_then(|s| s.expose()), Some("test_value"));
    assert!(setting.is_some_and(|s| !s.is_known()));
}

#[test]
fn keys_that_fail_to_parse_are_not_reported_as_unknown() {
    let entries = entries(&[
        ("HELIUS_RPC_URL", "https://h.example", 1),
        ("MIN_EDGE_SCORE", "lots", 2),
    ]);
    let errors = match from_entries::<SeedConfig>(&entries) {
        Ok(_) => panic!("MIN_EDGE_SCORE=lots must be refused"),
        Err(errors) => errors,
    };
    assert_eq!(
        errors.to_string(),
        r#"2: MIN_EDGE_SCORE: "lots" is not an integer (expected 0..=100)"#
    );
}

#[test]
fn load_str_reads_key_value_lines() {
    let loaded = match load_str::<SeedConfig>("HELIUS_RPC_URL=https://h.example\nLOG_LEVEL=debug\n")
    {
        Ok(loaded) => loaded,
        Err(errors) => panic!("{errors}"),
    };
    assert_eq!(loaded.config.logging.level, LogLevel::Debug);
    assert!(loaded.warnings.is_empty());
}
