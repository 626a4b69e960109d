//! Writes a schema out for people: a commented `.env.example` and a JSON listing of every key.

use super::schema::{KeySpec, Schema};
use serde_json::{Value, json};

/// A commented `.env` template for `schema`: one block per section, each key with its doc, its
/// rules and its default. Required keys are left empty to fill in; keys with a default are
/// commented out, so the file works as written and shows what can be changed.
///
/// ```
/// # use thorp_ops::HotConfig;
/// /// Detection thresholds.
/// #[derive(HotConfig)]
/// #[hot_config(component = "detection")]
/// struct Detection {
///     /// Minimum edge score to act on.
///     #[hot_config(key = "MIN_EDGE_SCORE", range = 0..=100, default = 60)]
///     min_edge_score: u32,
/// }
/// let template = thorp_ops::config::template(Detection::SCHEMA);
/// assert!(template.contains("# Minimum edge score to act on.\n"));
/// assert!(template.contains("# MIN_EDGE_SCORE=60\n"));
/// ```
pub fn template(schema: &Schema) -> String {
    let mut out = String::new();
    write_section(schema, &mut out);
    out
}

fn write_section(schema: &Schema, out: &mut String) {
    if !schema.keys.is_empty() {
        let title = schema
            .component
            .map_or(schema.type_name, |component| component.name);
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&format!("# --- {title} ---\n"));
        for spec in schema.keys {
            write_key(spec, out);
        }
        for prefix in schema.open_prefixes {
            out.push_str(&format!(
                "# Other {prefix}* keys are read by {title}, which names and checks them.\n"
            ));
        }
    }
    for flattened in schema.flattened {
        write_section(flattened, out);
    }
}

fn write_key(spec: &KeySpec, out: &mut String) {
    if !spec.doc.is_empty() {
        out.push_str(&format!("# {}\n", spec.doc));
    }
    out.push_str(&format!("# {}\n", rules(spec)));
    match (spec.required, spec.default) {
        (true, _) => out.push_str(&format!("{}=\n", spec.key)),
        (false, Some(default)) if !spec.secret => {
            out.push_str(&format!("# {}={default}\n", spec.key))
        }
        (false, _) => out.push_str(&format!("# {}=\n", spec.key)),
    }
}

/// `required; an integer in 100..=60000; secret` — everything a value must be, on one line.
fn rules(spec: &KeySpec) -> String {
    let mut parts = vec![if spec.required {
        "required".to_owned()
    } else {
        "optional".to_owned()
    }];
    let expectation = spec.expectation();
    if !expectation.is_empty() {
        parts.push(expectation);
    } else if !spec.type_name.is_empty() {
        parts.push(format!("a {}", spec.type_name));
    }
    if spec.list {
        parts.push("comma separated".to_owned());
    }
    if let Some(default) = spec.default {
        parts.push(format!("default {default}"));
    }
    if spec.secret {
        parts.push("secret".to_owned());
    }
    parts.join("; ")
}

/// Every key of `schema` as JSON, for tools and the HTTP config view: name, type, required,
/// default, bounds, URL rules, secret, doc and component.
pub fn schema_json(schema: &Schema) -> Value {
    Value::Array(
        schema
            .all_keys()
            .into_iter()
            .map(|spec| {
                json!({
                    "key": spec.key,
                    "field": spec.field,
                    "type": spec.type_name,
                    "expected": spec.expected,
                    "required": spec.required,
                    "default": if spec.secret { None } else { spec.default },
                    "min": spec.min,
                    "max": spec.max,
                    "url": spec.url,
                    "schemes": spec.schemes,
                    "nonEmpty": spec.non_empty,
                    "list": spec.list,
                    "secret": spec.secret,
                    "doc": spec.doc,
                    "component": spec.component,
                })
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Component, KeySpec};

    const KEYS: &[KeySpec] = &[
        KeySpec::__generated(
            "HELIUS_RPC_URL",
            "helius_url",
            "Secret<Url>",
            "an absolute URL",
            true,
            None,
            None,
            None,
            true,
            &["https"],
            false,
            false,
            true,
            "Primary endpoint.",
            Some("rpcPool"),
        ),
        KeySpec::__generated(
            "RPC_DEFAULT_TIMEOUT_MS",
            "timeout",
            "u64",
            "a non-negative integer",
            false,
            Some("2000"),
            Some("100"),
            Some("60000"),
            false,
            &[],
            false,
            false,
            false,
            "Per-request timeout.",
            Some("rpcPool"),
        ),
    ];
    const RPC: Schema = Schema::new(
        "RpcConfig",
        Some(Component::new("rpcPool", &["RPC_"])),
        KEYS,
        &[],
    );

    #[test]
    fn template_leaves_required_keys_to_fill_and_comments_defaults() {
        let text = template(&RPC);
        assert_eq!(
            text,
            "# --- rpcPool ---\n\
             # Primary endpoint.\n\
             # required; an absolute URL with scheme https; secret\n\
             HELIUS_RPC_URL=\n\
             # Per-request timeout.\n\
             # optional; a non-negative integer in 100..=60000; default 2000\n\
             # RPC_DEFAULT_TIMEOUT_MS=2000\n"
        );
    }

    #[test]
    fn template_says_who_reads_an_open_prefix() {
        const OPEN: Schema = RPC.with_open_prefixes(&["RPC_X_"]);
        let text = template(&OPEN);
        assert!(
            text.ends_with(
                "# RPC_DEFAULT_TIMEOUT_MS=2000\n\
                 # Other RPC_X_* keys are read by rpcPool, which names and checks them.\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn template_parses_back_as_an_env_file() {
        let file = crate::envfile::parse(&template(&RPC));
        assert!(file.is_ok_and(|file| file.get("HELIUS_RPC_URL").is_some()));
    }

    #[test]
    fn schema_json_lists_every_rule() {
        let json = schema_json(&RPC);
        assert_eq!(json[1]["key"], "RPC_DEFAULT_TIMEOUT_MS");
        assert_eq!(json[1]["min"], "100");
        assert_eq!(json[0]["secret"], true);
        assert_eq!(json[0]["schemes"][0], "https");
    }
}
