//! One error type for the issuer, mapped to an HTTP response in one place, in simplejwt's
//! (Django REST framework's) shapes.

use edgejwt_core::{AuthenticationError, ErrorBody, SettingsError, TokenError};
use serde_json::{json, Value};
use worker::Response;

/// Everything a request can fail with.
#[derive(Debug)]
pub enum ApiError {
    /// A token the view cannot use: 401 `{"detail", "code": "token_not_valid"}`.
    Token(TokenError),
    /// Authentication failed: 401 with simplejwt's body.
    Authentication(AuthenticationError),
    /// Field errors: 400 `{"field": ["message"], ...}` or `{"non_field_errors": [...]}`.
    Validation(Value),
    /// Malformed JSON: 400 `{"detail": "JSON parse error - ..."}`.
    Parse(String),
    /// 415 for a content type the views do not parse.
    UnsupportedMediaType(String),
    /// 413 for a body over [`crate::request::MAX_BODY_BYTES`].
    PayloadTooLarge,
    /// 405 with the allowed methods.
    MethodNotAllowed { method: String, allow: &'static str },
    /// 404.
    NotFound,
    /// A setting the operator got wrong: 500 naming it.
    Config(SettingsError),
    /// D1 / KV failures: 500, logged, nothing of it sent.
    Internal(String),
}

impl From<TokenError> for ApiError {
    fn from(err: TokenError) -> Self {
        Self::Token(err)
    }
}

impl From<AuthenticationError> for ApiError {
    fn from(err: AuthenticationError) -> Self {
        Self::Authentication(err)
    }
}

impl From<worker::Error> for ApiError {
    fn from(err: worker::Error) -> Self {
        Self::Internal(err.to_string())
    }
}

impl From<worker::KvError> for ApiError {
    fn from(err: worker::KvError) -> Self {
        Self::Internal(err.to_string())
    }
}

impl ApiError {
    /// A 400 not tied to a field.
    pub fn non_field(message: &str) -> Self {
        Self::Validation(json!({ "non_field_errors": [message] }))
    }

    fn status_and_body(&self) -> (u16, Value) {
        let body = |b: ErrorBody| serde_json::to_value(b).unwrap_or(Value::Null);
        match self {
            Self::Token(err) => (401, body(err.to_body())),
            Self::Authentication(err) => (401, body(err.to_body())),
            Self::Validation(errors) => (400, errors.clone()),
            Self::Parse(msg) => (
                400,
                json!({ "detail": format!("JSON parse error - {msg}") }),
            ),
            Self::UnsupportedMediaType(media) => (
                415,
                json!({ "detail": format!("Unsupported media type \"{media}\" in request.") }),
            ),
            Self::PayloadTooLarge => (
                413,
                json!({ "detail": format!("Request body exceeds {} bytes.", crate::request::MAX_BODY_BYTES), "code": "payload_too_large" }),
            ),
            Self::MethodNotAllowed { method, .. } => (
                405,
                json!({ "detail": format!("Method \"{method}\" not allowed.") }),
            ),
            Self::NotFound => (404, json!({ "detail": "Not found." })),
            Self::Config(err) => {
                worker::console_error!("edgejwt: {err}");
                (
                    500,
                    json!({ "detail": format!("edgejwt is misconfigured: {err}"), "code": "improperly_configured" }),
                )
            }
            Self::Internal(msg) => {
                worker::console_error!("edgejwt: internal error: {msg}");
                (
                    500,
                    json!({ "detail": "A server error occurred.", "code": "server_error" }),
                )
            }
        }
    }

    /// The response, with `WWW-Authenticate` on 401s (`www_authenticate` is
    /// `Bearer realm="api"` for the configured header type).
    pub fn into_response(self, allow: &'static str, www_authenticate: &str) -> Response {
        let (status, body) = self.status_and_body();
        let allow = match &self {
            Self::MethodNotAllowed { allow, .. } => allow,
            _ => allow,
        };
        let challenge = [("WWW-Authenticate", www_authenticate)];
        let extra: &[(&str, &str)] = if status == 401 { &challenge } else { &[] };
        crate::respond(status, &body, allow, extra)
    }
}
