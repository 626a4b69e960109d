//! Generated code names everything absolutely: it compiles where the prelude is gone and
//! common names are shadowed.
#![deny(warnings)]

mod config {
    #![no_implicit_prelude]

    // Shadows that a non-absolute path in generated code would pick up.
    #[allow(dead_code)]
    struct Option;
    #[allow(dead_code)]
    struct Result;
    #[allow(dead_code)]
    struct Some;
    #[allow(dead_code)]
    mod core {}

    /// RPC settings.
    #[derive(::thorp_ops::HotConfig, ::std::fmt::Debug)]
    #[hot_config(component = "rpcPool", prefix = "RPC_", key_prefix = "RPC_")]
    pub struct Rpc {
        /// Timeout.
        #[hot_config(range = 100..=60_000, default = 2000)]
        pub timeout_ms: u64,
        /// Endpoint.
        #[hot_config(url(scheme = "https"), secret)]
        pub url: ::thorp_ops::Secret<::url::Url>,
        /// Fallbacks.
        #[hot_config(url)]
        pub fallbacks: ::std::option::Option<::std::vec::Vec<::url::Url>>,
        /// Delay.
        #[hot_config(range = "1ms"..="1s", default = "10ms")]
        pub delay: ::std::time::Duration,
        /// Name.
        #[hot_config(non_empty, default = "pool")]
        pub name: ::std::string::String,
    }
}

fn main() {
    use thorp_ops::HotConfig;
    let rpc = config::Rpc::from_env_str("RPC_URL=https://h.example\n").map_err(|e| e.to_string());
    assert_eq!(rpc.map(|rpc| rpc.timeout_ms), Ok(2000));
}
