//! Errors of the RPC pool: building it, and each request.
//!
//! Every message names endpoints by `scheme://host[:port]` only, and transport errors have
//! the URL stripped (`reqwest` would otherwise print it, API key included).

use crate::node::invalid::InvalidSettings;

/// Longest server-supplied error message kept; a hostile or broken upstream cannot flood logs.
const MAX_MESSAGE_CHARS: usize = 256;

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RpcError {
    /// An attempt took longer than the timeout.
    #[error("rpc request to {endpoint} timed out after {timeout_ms} ms")]
    Timeout {
        /// `scheme://host[:port]`.
        endpoint: String,
        /// The timeout that applied.
        timeout_ms: u64,
    },
    /// Connecting, sending or reading failed.
    #[error("rpc transport error talking to {endpoint}")]
    Transport {
        /// `scheme://host[:port]`.
        endpoint: String,
        /// The client's error, with the URL removed.
        #[source]
        source: reqwest::Error,
    },
    /// The endpoint answered with a non-success HTTP status.
    #[error("rpc endpoint {endpoint} answered http {status}")]
    HttpStatus {
        /// `scheme://host[:port]`.
        endpoint: String,
        /// The status code.
        status: u16,
    },
    /// The endpoint answered with a JSON-RPC error object.
    #[error("rpc endpoint {endpoint} returned error {code}: {message}")]
    Rpc {
        /// `scheme://host[:port]`.
        endpoint: String,
        /// JSON-RPC error code.
        code: i64,
        /// The server's message, truncated to 256 characters.
        message: String,
    },
    /// The body was not a JSON-RPC response to our request.
    #[error("invalid rpc response from {endpoint}: {reason}")]
    InvalidResponse {
        /// `scheme://host[:port]`.
        endpoint: String,
        /// What was wrong.
        reason: &'static str,
    },
    /// The body exceeded the configured maximum.
    #[error("rpc response from {endpoint} exceeds {limit} bytes")]
    ResponseTooLarge {
        /// `scheme://host[:port]`.
        endpoint: String,
        /// The limit (`max_response_bytes`).
        limit: usize,
    },
    /// The `result` did not have the shape the caller asked for.
    #[error("rpc result of {method} has an unexpected shape: {reason}")]
    UnexpectedResult {
        /// The method called.
        method: String,
        /// The decoding error.
        reason: String,
    },
    /// No concurrency slot came free within the timeout.
    #[error("rpc pool saturated: no free slot within {waited_ms} ms")]
    Saturated {
        /// How long the request waited.
        waited_ms: u64,
    },
    /// The pool has no endpoint to send to (settings validation prevents this).
    #[error("rpc pool has no endpoint")]
    NoEndpoint,
    /// The request could not be encoded.
    #[error("rpc request for {method} cannot be encoded")]
    Encode {
        /// The method called.
        method: String,
    },
}

impl RpcError {
    /// Whether another attempt (elsewhere or later) may succeed: timeouts, transport
    /// errors, 5xx/429/408, server-side JSON-RPC errors and garbled answers. A request the
    /// server rejected as wrong (unknown method, bad params) fails the same way everywhere.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Timeout { .. } | Self::Transport { .. } | Self::InvalidResponse { .. } => true,
            Self::HttpStatus { status, .. } => *status >= 500 || *status == 429 || *status == 408,
            Self::Rpc { code, .. } => is_server_side(*code),
            Self::ResponseTooLarge { .. }
            | Self::UnexpectedResult { .. }
            | Self::Saturated { .. }
            | Self::NoEndpoint
            | Self::Encode { .. } => false,
        }
    }

    /// Whether the error says the upstream is in trouble (what endpoint ejection and the
    /// circuit breaker count). Same as [`is_retryable`](Self::is_retryable): local
    /// saturation and our own mistakes are not the upstream's fault.
    pub fn is_upstream_failure(&self) -> bool {
        self.is_retryable()
    }

    pub(crate) fn transport(endpoint: &str, source: reqwest::Error) -> Self {
        Self::Transport {
            endpoint: endpoint.to_owned(),
            source: source.without_url(),
        }
    }

    pub(crate) fn rpc(endpoint: &str, code: i64, message: &str) -> Self {
        let message = match message.char_indices().nth(MAX_MESSAGE_CHARS) {
            Some((cut, _)) => format!("{}…", &message[..cut]),
            None => message.to_owned(),
        };
        Self::Rpc {
            endpoint: endpoint.to_owned(),
            code,
            message,
        }
    }
}

fn is_server_side(code: i64) -> bool {
    crate::node::jsonrpc::ErrorObject::new(code, "").is_server_side()
}

/// Why a pool could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The settings break a rule.
    #[error(transparent)]
    Settings(#[from] InvalidSettings),
    /// The HTTP client could not be set up (TLS roots, resolver).
    #[error("rpc pool http client cannot be built")]
    Client(#[source] reqwest::Error),
    /// The latency histogram could not be created.
    #[error("rpc pool latency histogram cannot be created")]
    Histogram(#[source] hdrhistogram::CreationError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retryable_errors_are_the_upstreams_not_ours() {
        let e = |status| RpcError::HttpStatus {
            endpoint: "http://a".into(),
            status,
        };
        assert!(e(503).is_retryable());
        assert!(e(429).is_retryable());
        assert!(!e(400).is_retryable());
        assert!(!e(404).is_retryable());
        assert!(RpcError::rpc("http://a", -32005, "behind").is_retryable());
        assert!(!RpcError::rpc("http://a", -32601, "Method not found").is_retryable());
        assert!(!RpcError::Saturated { waited_ms: 5 }.is_upstream_failure());
    }

    #[test]
    fn long_server_messages_are_truncated_on_a_char_boundary() {
        let long = "é".repeat(1_000);
        let RpcError::Rpc { message, .. } = RpcError::rpc("http://a", -32000, &long) else {
            panic!("not an rpc error");
        };
        assert_eq!(message.chars().count(), MAX_MESSAGE_CHARS + 1);
    }
}
