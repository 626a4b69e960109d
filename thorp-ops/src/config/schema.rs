//! The static description of a config: every key with its type, rules, default and docs.
//!
//! `#[derive(HotConfig)]` writes one [`Schema`] per struct as a `const`, so describing a config
//! costs nothing at run time and the same data drives loading, routing, templates and the
//! HTTP config view.

use std::collections::HashSet;

/// One key of a config file, as declared on a struct field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeySpec {
    /// The key in the file, e.g. `RPC_DEFAULT_TIMEOUT_MS`.
    pub key: &'static str,
    /// The Rust field it fills.
    pub field: &'static str,
    /// The field's type as written, e.g. `Option<Url>`.
    pub type_name: &'static str,
    /// What a valid value looks like, e.g. `an integer`.
    pub expected: &'static str,
    /// Whether the file must set it: not an `Option` and no default.
    pub required: bool,
    /// The default, as it would be written in the file.
    pub default: Option<&'static str>,
    /// Lower bound, inclusive, as written in the attribute.
    pub min: Option<&'static str>,
    /// Upper bound, inclusive, as written in the attribute.
    pub max: Option<&'static str>,
    /// Whether the value must be a URL with a host.
    pub url: bool,
    /// Allowed URL schemes; empty means any.
    pub schemes: &'static [&'static str],
    /// Whether an empty value is refused.
    pub non_empty: bool,
    /// Whether the value is a list separated by commas.
    pub list: bool,
    /// Whether the value is secret: redacted everywhere it is shown.
    pub secret: bool,
    /// The field's doc comment, first paragraph.
    pub doc: &'static str,
    /// The component the key belongs to, from the struct's `component` attribute.
    pub component: Option<&'static str>,
}

impl KeySpec {
    /// Every field at once, for generated code (the struct is `#[non_exhaustive]`).
    #[doc(hidden)]
    #[allow(
        clippy::too_many_arguments,
        reason = "called only by generated code, one argument per field"
    )]
    pub const fn __generated(
        key: &'static str,
        field: &'static str,
        type_name: &'static str,
        expected: &'static str,
        required: bool,
        default: Option<&'static str>,
        min: Option<&'static str>,
        max: Option<&'static str>,
        url: bool,
        schemes: &'static [&'static str],
        non_empty: bool,
        list: bool,
        secret: bool,
        doc: &'static str,
        component: Option<&'static str>,
    ) -> Self {
        Self {
            key,
            field,
            type_name,
            expected,
            required,
            default,
            min,
            max,
            url,
            schemes,
            non_empty,
            list,
            secret,
            doc,
            component,
        }
    }

    /// A spec with only the key set, everything else empty or off.
    pub const fn new(key: &'static str) -> Self {
        Self {
            key,
            field: "",
            type_name: "",
            expected: "",
            required: false,
            default: None,
            min: None,
            max: None,
            url: false,
            schemes: &[],
            non_empty: false,
            list: false,
            secret: false,
            doc: "",
            component: None,
        }
    }

    /// The accepted range, as `100..=60000`, `..=100` or `100..`; `None` when unbounded.
    pub fn range(&self) -> Option<String> {
        match (self.min, self.max) {
            (None, None) => None,
            (min, max) => Some(format!(
                "{}..{}{}",
                min.unwrap_or(""),
                if max.is_some() { "=" } else { "" },
                max.unwrap_or("")
            )),
        }
    }

    /// Everything a valid value must be, for messages: `an integer (u64) in 100..=60000`.
    pub fn expectation(&self) -> String {
        let mut text = self.expected.to_owned();
        if let Some(range) = self.range() {
            text.push_str(" in ");
            text.push_str(&range);
        }
        if !self.schemes.is_empty() {
            text.push_str(" with scheme ");
            text.push_str(&self.schemes.join(" or "));
        }
        if self.non_empty {
            text.push_str(", not empty");
        }
        text
    }
}

/// A component and the key prefixes that concern it: how changes are routed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Component {
    /// The component's name, e.g. `rpcPool`.
    pub name: &'static str,
    /// Keys starting with any of these concern the component, e.g. `RPC_`, `HELIUS_`.
    pub prefixes: &'static [&'static str],
}

impl Component {
    /// A component named `name` that owns keys starting with any of `prefixes`.
    pub const fn new(name: &'static str, prefixes: &'static [&'static str]) -> Self {
        Self { name, prefixes }
    }

    /// Whether a change of `key` concerns this component.
    pub fn owns(&self, key: &str) -> bool {
        self.prefixes.iter().any(|prefix| key.starts_with(prefix))
    }
}

/// The schema of one `HotConfig` struct: its own keys and those of the structs it flattens.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Schema {
    /// The Rust type, e.g. `RpcConfig`.
    pub type_name: &'static str,
    /// The component the struct configures, if it names one.
    pub component: Option<Component>,
    /// The struct's own keys, in declaration order.
    pub keys: &'static [KeySpec],
    /// The schemas of `#[hot_config(flatten)]` fields, in declaration order.
    pub flattened: &'static [&'static Schema],
    /// Prefixes under which the struct's component also owns keys it does not declare: keys
    /// whose names are only known at run time (the health monitor's `HEALTH_<RULE>` threshold
    /// overrides). A file may set them without an unknown-key warning; the component that
    /// reads them validates them itself.
    pub open_prefixes: &'static [&'static str],
}

impl Schema {
    /// A schema; written by the derive.
    pub const fn new(
        type_name: &'static str,
        component: Option<Component>,
        keys: &'static [KeySpec],
        flattened: &'static [&'static Schema],
    ) -> Self {
        Self {
            type_name,
            component,
            keys,
            flattened,
            open_prefixes: &[],
        }
    }

    /// The schema with `prefixes` open for dynamic keys (see
    /// [`open_prefixes`](Self::open_prefixes)); written by the derive for
    /// `#[hot_config(open_prefix = "...")]`.
    pub const fn with_open_prefixes(mut self, prefixes: &'static [&'static str]) -> Self {
        self.open_prefixes = prefixes;
        self
    }

    /// Every key, flattened structs included, in declaration order.
    pub fn all_keys(&self) -> Vec<&'static KeySpec> {
        let mut out = Vec::new();
        self.collect_keys(&mut out);
        out
    }

    fn collect_keys(&self, out: &mut Vec<&'static KeySpec>) {
        out.extend(self.keys.iter());
        for schema in self.flattened {
            schema.collect_keys(out);
        }
    }

    /// Every component this schema or a flattened one names.
    pub fn components(&self) -> Vec<Component> {
        let mut out: Vec<Component> = self.component.into_iter().collect();
        for schema in self.flattened {
            for component in schema.components() {
                if !out.iter().any(|known| known.name == component.name) {
                    out.push(component);
                }
            }
        }
        out
    }

    /// Looks a key up, flattened structs included.
    pub fn find(&self, key: &str) -> Option<&'static KeySpec> {
        self.keys
            .iter()
            .find(|spec| spec.key == key)
            .or_else(|| self.flattened.iter().find_map(|schema| schema.find(key)))
    }

    /// Whether `key` falls under an open prefix of this struct or of a flattened one: a dynamic
    /// key some component reads, though no field declares it.
    pub fn is_open(&self, key: &str) -> bool {
        self.open_prefixes
            .iter()
            .any(|prefix| key.starts_with(prefix))
            || self.flattened.iter().any(|schema| schema.is_open(key))
    }

    /// Whether a file may set `key` without it being unknown: a field declares it, or it is a
    /// dynamic key under an open prefix.
    pub fn accepts(&self, key: &str) -> bool {
        self.find(key).is_some() || self.is_open(key)
    }

    /// Whether a change of `key` concerns this struct: a key it declares, or one under the
    /// prefixes of its component or of a flattened struct's.
    pub fn concerns(&self, key: &str) -> bool {
        self.keys.iter().any(|spec| spec.key == key)
            || self.component.is_some_and(|component| component.owns(key))
            || self.flattened.iter().any(|schema| schema.concerns(key))
    }

    /// Keys declared twice across flattened structs (the derive rejects duplicates within one
    /// struct at compile time; across structs it can only be seen here).
    pub fn duplicate_keys(&self) -> Vec<&'static str> {
        // Every load asks; sorting the keys answers the usual "none" without hashing each one.
        let mut sorted: Vec<&str> = self.all_keys().iter().map(|spec| spec.key).collect();
        sorted.sort_unstable();
        if sorted.windows(2).all(|pair| pair[0] != pair[1]) {
            return Vec::new();
        }
        let mut seen = HashSet::new();
        let mut duplicates = Vec::new();
        for spec in self.all_keys() {
            if !seen.insert(spec.key) && !duplicates.contains(&spec.key) {
                duplicates.push(spec.key);
            }
        }
        duplicates
    }

    /// The schema key closest to `unknown`, when one is close enough to be a likely typo.
    pub fn suggest(&self, unknown: &str) -> Option<&'static str> {
        self.all_keys()
            .into_iter()
            .map(|spec| (strsim::damerau_levenshtein(unknown, spec.key), spec.key))
            .filter(|(distance, key)| *distance <= 2.max(key.len() / 8))
            .min_by_key(|(distance, _)| *distance)
            .map(|(_, key)| key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RPC_KEYS: &[KeySpec] = &[
        KeySpec {
            min: Some("100"),
            max: Some("60000"),
            ..KeySpec::new("RPC_DEFAULT_TIMEOUT_MS")
        },
        KeySpec {
            secret: true,
            ..KeySpec::new("HELIUS_RPC_URL")
        },
    ];
    const RPC: Schema = Schema::new(
        "Rpc",
        Some(Component::new("rpcPool", &["RPC_", "HELIUS_"])),
        RPC_KEYS,
        &[],
    );
    const DETECTION: Schema =
        Schema::new("Detection", None, &[KeySpec::new("MIN_EDGE_SCORE")], &[]);
    const ROOT: Schema = Schema::new(
        "Root",
        None,
        &[KeySpec::new("MIN_EDGE_SCORE")],
        &[&RPC, &DETECTION],
    );

    #[test]
    fn all_keys_walks_flattened_schemas_in_order() {
        let keys: Vec<_> = ROOT.all_keys().iter().map(|spec| spec.key).collect();
        assert_eq!(
            keys,
            [
                "MIN_EDGE_SCORE",
                "RPC_DEFAULT_TIMEOUT_MS",
                "HELIUS_RPC_URL",
                "MIN_EDGE_SCORE"
            ]
        );
    }

    #[test]
    fn duplicate_keys_are_found_across_flatten() {
        assert_eq!(ROOT.duplicate_keys(), ["MIN_EDGE_SCORE"]);
        assert!(RPC.duplicate_keys().is_empty());
    }

    #[test]
    fn routing_uses_prefixes_and_declared_keys() {
        assert!(RPC.concerns("RPC_NEW_THING"));
        assert!(RPC.concerns("HELIUS_RPC_URL"));
        assert!(!RPC.concerns("MIN_EDGE_SCORE"));
        assert!(DETECTION.concerns("MIN_EDGE_SCORE"));
        assert!(ROOT.concerns("RPC_X"));
    }

    #[test]
    fn open_prefixes_accept_undeclared_keys_through_flatten() {
        const HEALTH: Schema = Schema::new(
            "Health",
            Some(Component::new("healthMonitor", &["HEALTH_", "ALERT_"])),
            &[KeySpec::new("HEALTH_CHECK_INTERVAL_MS")],
            &[],
        )
        .with_open_prefixes(&["HEALTH_"]);
        const APP: Schema = Schema::new("App", None, &[], &[&RPC, &HEALTH]);
        assert!(APP.is_open("HEALTH_MAX_RPC_LATENCY_MS"));
        assert!(APP.accepts("HEALTH_MAX_RPC_LATENCY_MS"));
        assert!(APP.accepts("HEALTH_CHECK_INTERVAL_MS"), "declared");
        assert!(APP.accepts("RPC_DEFAULT_TIMEOUT_MS"), "declared elsewhere");
        assert!(
            !APP.accepts("ALERT_SUSTAINED"),
            "a routing prefix is not open"
        );
        assert!(!APP.accepts("RPC_TIMEOUT"));
        assert!(!ROOT.is_open("HEALTH_X"), "closed by default");
    }

    #[test]
    fn suggest_finds_near_typos_only() {
        assert_eq!(ROOT.suggest("MIN_EDG_SCORE"), Some("MIN_EDGE_SCORE"));
        assert_eq!(ROOT.suggest("RPC_DEFAULT_TIMEOUT"), None);
        assert_eq!(ROOT.suggest("NEW_SETTING"), None);
    }

    #[test]
    fn range_and_expectation_read_naturally() {
        let spec = KeySpec {
            expected: "an integer",
            ..RPC_KEYS[0]
        };
        assert_eq!(spec.range().as_deref(), Some("100..=60000"));
        assert_eq!(spec.expectation(), "an integer in 100..=60000");
        let min_only = KeySpec {
            min: Some("1"),
            ..KeySpec::new("X")
        };
        assert_eq!(min_only.range().as_deref(), Some("1.."));
    }
}
