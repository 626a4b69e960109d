//! A type-erased, redacted view of a live config, for readers that do not know its type (the
//! HTTP layer, dashboards).

use super::history::{ReloadRecord, ReloadStats};
use super::reload::ReloadHandle;
use super::values::Origin;
use crate::HotConfig;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::SystemTime;

/// The current config as it may be shown: every effective value, secrets redacted.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ConfigView {
    /// The snapshot's version.
    pub version: u64,
    /// When it was published.
    #[serde(serialize_with = "crate::time::serialize")]
    pub loaded_at: SystemTime,
    /// The file it came from.
    pub source: Option<String>,
    /// Every key, schema keys and unknown ones.
    pub values: BTreeMap<String, ShownValue>,
}

/// One key of a [`ConfigView`].
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ShownValue {
    /// The value as shown, `None` when unset.
    pub value: Option<String>,
    /// Where it came from.
    pub origin: Origin,
    /// Whether the value is redacted.
    pub secret: bool,
    /// The field's type, for schema keys.
    #[serde(rename = "type")]
    pub type_name: Option<&'static str>,
    /// The component the key configures.
    pub component: Option<&'static str>,
}

/// A live config seen without its type. Implemented by [`ReloadHandle`].
pub trait ConfigSource: Send + Sync + 'static {
    /// The current config, redacted.
    fn view(&self) -> ConfigView;
    /// The reload history, oldest first.
    fn history(&self) -> Vec<ReloadRecord>;
    /// The reload totals.
    fn stats(&self) -> ReloadStats;
    /// The current snapshot's version, without building the whole view (metrics read it on
    /// every scrape).
    fn version(&self) -> u64 {
        self.view().version
    }
}

impl<T: HotConfig> ConfigSource for ReloadHandle<T> {
    fn view(&self) -> ConfigView {
        let snapshot = self.current();
        let values = snapshot
            .values()
            .iter()
            .map(|(key, setting)| {
                let spec = T::SCHEMA.find(key);
                let shown = ShownValue {
                    value: setting.shown().map(|value| value.into_owned()),
                    origin: setting.origin(),
                    secret: setting.is_secret(),
                    type_name: spec.map(|spec| spec.type_name),
                    component: spec.and_then(|spec| spec.component),
                };
                (key.to_owned(), shown)
            })
            .collect();
        ConfigView {
            version: snapshot.version(),
            loaded_at: snapshot.loaded_at(),
            source: snapshot.source().map(|path| path.display().to_string()),
            values,
        }
    }

    fn history(&self) -> Vec<ReloadRecord> {
        ReloadHandle::history(self)
    }

    fn stats(&self) -> ReloadStats {
        ReloadHandle::stats(self)
    }

    fn version(&self) -> u64 {
        self.store().load().version()
    }
}
