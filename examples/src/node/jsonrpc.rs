//! JSON-RPC 2.0 wire types shared by the RPC pool (client side) and the simulator (server side).

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Invalid JSON was received.
pub const PARSE_ERROR: i64 = -32700;
/// The JSON sent is not a valid request object.
pub const INVALID_REQUEST: i64 = -32600;
/// The method does not exist.
pub const METHOD_NOT_FOUND: i64 = -32601;
/// Invalid method parameters.
pub const INVALID_PARAMS: i64 = -32602;
/// Internal JSON-RPC error.
pub const INTERNAL_ERROR: i64 = -32603;
/// Solana: the node is unhealthy (behind the cluster).
pub const NODE_UNHEALTHY: i64 = -32005;

/// The error member of a JSON-RPC response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorObject {
    /// Error code (see the constants in this module).
    pub code: i64,
    /// Short description.
    pub message: String,
    /// Extra information, if the server gives any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

impl ErrorObject {
    /// An error without data.
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            data: None,
        }
    }

    /// Whether the code means "the server had a problem" (worth retrying elsewhere) rather
    /// than "the request was wrong" (the same everywhere).
    ///
    /// JSON-RPC reserves -32000..=-32099 for implementation-defined server errors; Solana uses
    /// them for "node behind", "slot skipped", "block not available" and the like.
    pub fn is_server_side(&self) -> bool {
        self.code == INTERNAL_ERROR || (-32099..=-32000).contains(&self.code)
    }
}

/// A request as the pool sends it.
#[derive(Debug, Serialize)]
pub(crate) struct Request<'a> {
    pub(crate) jsonrpc: &'static str,
    pub(crate) id: u64,
    pub(crate) method: &'a str,
    #[serde(skip_serializing_if = "Value::is_null")]
    pub(crate) params: &'a Value,
}

/// A response as the simulator sends it: exactly one of `result` and `error`.
#[derive(Debug, Serialize)]
pub(crate) struct Response {
    pub(crate) jsonrpc: &'static str,
    #[serde(flatten)]
    pub(crate) outcome: Outcome,
    pub(crate) id: Value,
}

/// The two shapes of a response body.
#[derive(Debug, Serialize)]
pub(crate) enum Outcome {
    #[serde(rename = "result")]
    Result(Value),
    #[serde(rename = "error")]
    Error(ErrorObject),
}

impl Response {
    pub(crate) fn result(id: Value, result: Value) -> Self {
        Self {
            jsonrpc: VERSION,
            outcome: Outcome::Result(result),
            id,
        }
    }

    pub(crate) fn error(id: Value, error: ErrorObject) -> Self {
        Self {
            jsonrpc: VERSION,
            outcome: Outcome::Error(error),
            id,
        }
    }
}

/// The protocol version string every message carries.
pub(crate) const VERSION: &str = "2.0";

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn responses_serialize_with_exactly_one_outcome_member() {
        let ok = serde_json::to_value(Response::result(json!(7), json!("ok"))).unwrap();
        assert_eq!(ok, json!({"jsonrpc": "2.0", "result": "ok", "id": 7}));
        let err = Response::error(
            Value::Null,
            ErrorObject::new(METHOD_NOT_FOUND, "Method not found"),
        );
        assert_eq!(
            serde_json::to_value(err).unwrap(),
            json!({"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found"}, "id": null})
        );
    }

    #[test]
    fn requests_omit_null_params() {
        let request = Request {
            jsonrpc: VERSION,
            id: 1,
            method: "getSlot",
            params: &Value::Null,
        };
        assert_eq!(
            serde_json::to_value(request).unwrap(),
            json!({"jsonrpc": "2.0", "id": 1, "method": "getSlot"})
        );
    }

    #[test]
    fn server_side_codes_are_the_reserved_range_and_internal_error() {
        assert!(ErrorObject::new(NODE_UNHEALTHY, "behind").is_server_side());
        assert!(ErrorObject::new(INTERNAL_ERROR, "oops").is_server_side());
        assert!(!ErrorObject::new(METHOD_NOT_FOUND, "nope").is_server_side());
        assert!(!ErrorObject::new(INVALID_PARAMS, "bad").is_server_side());
        assert!(!ErrorObject::new(-32100, "outside").is_server_side());
    }
}
