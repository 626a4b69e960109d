//! Option, Secret and Vec combine in that order around any leaf, with paths written out.
#![deny(warnings)]

use thorp_ops::{HotConfig, Secret};
use url::Url;

#[derive(HotConfig, Debug)]
#[hot_config(key_prefix = "RPC_")]
struct Endpoints {
    #[hot_config(url(scheme = "https"), secret)]
    primary: Secret<Url>,
    #[hot_config(url, secret)]
    backup: Option<Secret<Url>>,
    #[hot_config(url(scheme = "https", scheme = "wss"), non_empty)]
    mirrors: Vec<Url>,
    #[hot_config(url, secret)]
    private_mirrors: Option<Secret<Vec<Url>>>,
    #[hot_config(secret, non_empty)]
    api_keys: Secret<Vec<String>>,
    #[hot_config(secret, non_empty)]
    token: Secret<String>,
    // Types are recognized by their last path segment, so written-out paths work.
    #[hot_config(max = 16)]
    weights: ::std::option::Option<::std::vec::Vec<u16>>,
    // A `Secret<T>` field is secret without the attribute.
    password: thorp_ops::Secret<String>,
}

fn main() {
    let text = "RPC_PRIMARY=https://a.example\nRPC_MIRRORS=wss://b.example, https://c.example\n\
                RPC_API_KEYS=k1,k2\nRPC_TOKEN=t\nRPC_WEIGHTS=1,2\nRPC_PASSWORD=p\n";
    let endpoints = Endpoints::from_env_str(text).map_err(|e| e.to_string());
    assert_eq!(endpoints.as_ref().map(|e| e.mirrors.len()), Ok(2));
    assert_eq!(endpoints.as_ref().map(|e| e.backup.is_none()), Ok(true));
    assert_eq!(endpoints.map(|e| e.weights), Ok(Some(vec![1, 2])));
    assert!(Endpoints::SCHEMA.all_keys().iter().all(|spec| spec.secret == spec.key.contains("PRIMARY")
        || spec.secret == spec.key.contains("BACKUP")
        || spec.secret == spec.key.contains("PRIVATE")
        || spec.secret == spec.key.contains("KEYS")
        || spec.secret == spec.key.contains("TOKEN")
        || spec.secret == spec.key.contains("PASSWORD")));
}
