//! `/alerts` and `POST /alerts/{id}/ack`, with the bearer-token check that guards the one
//! endpoint that changes anything.

use super::router::{OpsState, TokenProvider, error, not_served};
use crate::health::AckError;
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use subtle::ConstantTimeEq;

/// Longest `by` accepted in an acknowledgement body.
const MAX_BY: usize = 128;

/// `GET /alerts`: every alert kept (firing and resolved), oldest first.
pub(crate) async fn list(State(ops): OpsState) -> Response {
    let Some(monitor) = &ops.monitor else {
        return not_served("health monitor");
    };
    let alerts = monitor.alerts();
    let firing = alerts.iter().filter(|a| a.is_firing()).count();
    Json(json!({
        "alerts": alerts,
        "firing": firing,
        "droppedEvents": monitor.dropped_alert_events(),
    }))
    .into_response()
}

/// The optional body of an acknowledgement: who acknowledged, for the log.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AckBody {
    by: Option<String>,
}

/// `POST /alerts/{id}/ack` with `Authorization: Bearer <token>` and an optional JSON body
/// `{"by": "alice"}`.
///
/// The token is checked before anything about the alert is looked at, so an unauthenticated
/// client learns nothing about which ids exist.
pub(crate) async fn acknowledge(
    State(ops): OpsState,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    if let Err(refused) = authorize(ops.admin_token.as_ref(), &headers) {
        return refused.into_response();
    }
    let Some(monitor) = &ops.monitor else {
        return not_served("health monitor");
    };
    let id = match id {
        Ok(Path(id)) => match id.parse::<u64>() {
            Ok(id) => id,
            Err(_) => return error(StatusCode::BAD_REQUEST, "the alert id must be a number"),
        },
        Err(rejection) => return error(rejection.status(), rejection.body_text()),
    };
    let body = match body {
        Ok(body) => body,
        Err(rejection) => return error(rejection.status(), rejection.body_text()),
    };
    let by = match parse_body(&headers, &body) {
        Ok(body) => body.by,
        Err(refused) => return refused.into_response(),
    };
    match monitor.acknowledge(id) {
        Ok(alert) => {
            tracing::info!(
                alert_id = id,
                alert = alert.kind.code(),
                by = by.as_deref().unwrap_or(""),
                "alert acknowledged over http"
            );
            Json(json!({ "acknowledged": true, "alert": alert })).into_response()
        }
        Err(e @ AckError::Unknown(_)) => error(StatusCode::NOT_FOUND, e),
        Err(e @ AckError::Resolved(_)) => error(StatusCode::CONFLICT, e),
    }
}

/// A refused request: its status, message and, for 401, the challenge.
#[derive(Debug)]
struct Refused {
    status: StatusCode,
    message: String,
    challenge: Option<&'static str>,
}

impl Refused {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            challenge: None,
        }
    }

    fn unauthorized(challenge: &'static str, message: &str) -> Self {
        Self {
            challenge: Some(challenge),
            ..Self::new(StatusCode::UNAUTHORIZED, message)
        }
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        let mut response = error(self.status, self.message);
        if let Some(challenge) = self.challenge {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        response
    }
}

fn parse_body(headers: &HeaderMap, body: &Bytes) -> Result<AckBody, Refused> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(AckBody::default());
    }
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(Refused::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "a request body must be JSON (Content-Type: application/json)",
        ));
    }
    let body: AckBody = serde_json::from_slice(body)
        .map_err(|e| Refused::new(StatusCode::BAD_REQUEST, format!("bad JSON body: {e}")))?;
    if body
        .by
        .as_ref()
        .is_some_and(|by| by.chars().count() > MAX_BY)
    {
        return Err(Refused::new(
            StatusCode::BAD_REQUEST,
            format!("`by` is longer than {MAX_BY} characters"),
        ));
    }
    Ok(body)
}

/// Checks the bearer token: 403 when no token is configured (acknowledging is switched off),
/// 401 when the request's is missing or wrong. The comparison takes the same time wherever
/// the tokens differ (only their lengths may show).
fn authorize(provider: Option<&TokenProvider>, headers: &HeaderMap) -> Result<(), Refused> {
    let expected = provider
        .and_then(|token| token())
        .filter(|token| !token.expose().is_empty());
    let Some(expected) = expected else {
        tracing::warn!("alert acknowledgement refused: no admin token is configured");
        return Err(Refused::new(
            StatusCode::FORBIDDEN,
            "alert acknowledgement is disabled: no admin token is configured",
        ));
    };
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(bearer);
    let Some(presented) = presented else {
        return Err(Refused::unauthorized(
            "Bearer realm=\"ops\"",
            "an `Authorization: Bearer <token>` header is required",
        ));
    };
    if bool::from(presented.as_bytes().ct_eq(expected.expose().as_bytes())) {
        Ok(())
    } else {
        tracing::warn!("alert acknowledgement refused: wrong admin token");
        Err(Refused::unauthorized(
            "Bearer realm=\"ops\", error=\"invalid_token\"",
            "the admin token is not valid",
        ))
    }
}

/// The token of a `Bearer` credential (the scheme is case-insensitive, RFC 9110 §11.1).
fn bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::bearer;

    #[test]
    fn bearer_scheme_is_case_insensitive_and_needs_a_token() {
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer   abc "), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearer "), None);
        assert_eq!(bearer("Bearer"), None);
    }
}
