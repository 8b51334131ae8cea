//! One error type for the issuer, mapped to an HTTP response in one place, in simplejwt's
//! (Django REST framework's) shapes. Every error answered is logged by its stable code, at
//! `django.request`'s level for its status (a 4xx WARNING, a 5xx ERROR; `LOG_LEVEL` sets the
//! least written).

use edgejwt_core::{
    settings::LogLevel, AuthenticationError, ErrorBody, ErrorCode, SettingsError, TokenError,
    TokenViewError,
};
use serde_json::{json, Value};

use crate::{config::MAX_BODY_BYTES, log::log, response::Answer};

/// Everything a request can fail with.
#[derive(Debug)]
pub enum ApiError {
    /// A token view's error: 401 with simplejwt's body, or a 400 not tied to a field.
    View(TokenViewError),
    /// Field errors: 400 `{"field": ["message"], ...}`.
    Validation(Value),
    /// Malformed JSON: 400 `{"detail": "JSON parse error - ..."}`.
    Parse(String),
    /// 415 for a content type the views do not parse.
    UnsupportedMediaType(String),
    /// 413 for a body over [`MAX_BODY_BYTES`].
    PayloadTooLarge,
    /// 405 with the allowed methods.
    MethodNotAllowed { method: String, allow: &'static str },
    /// 404.
    NotFound,
    /// 401 `{"detail", "code": "token_not_valid"}` with dj-rest-auth's detail (cookie mode:
    /// "No valid refresh token found.").
    InvalidToken(&'static str),
    /// 403 `{"detail": "CSRF Failed: …"}` (DRF's `PermissionDenied`).
    Csrf(edgejwt_core::browser::CsrfFailure),
    /// 429 with DRF's detail and `Retry-After`.
    Throttled(edgejwt_core::browser::Throttled),
    /// 503: the login throttle's Durable Object failed (logged); logins are refused.
    ThrottleUnavailable(String),
    /// A setting the operator got wrong: 500 naming it (its value only in the log).
    Config(SettingsError),
    /// D1 / KV failures: 500, logged, nothing of it sent.
    Internal(String),
}

impl From<TokenViewError> for ApiError {
    fn from(err: TokenViewError) -> Self {
        Self::View(err)
    }
}

impl From<TokenError> for ApiError {
    fn from(err: TokenError) -> Self {
        Self::View(err.into())
    }
}

impl From<AuthenticationError> for ApiError {
    fn from(err: AuthenticationError) -> Self {
        Self::View(err.into())
    }
}

impl From<crate::parse::BodyError> for ApiError {
    fn from(err: crate::parse::BodyError) -> Self {
        use crate::parse::BodyError;
        match err {
            BodyError::Parse(msg) => Self::Parse(msg),
            BodyError::NonField(msg) => Self::non_field(&msg),
            BodyError::UnsupportedMediaType(media) => Self::UnsupportedMediaType(media),
        }
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

    /// The stable code, as the core defines it.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::View(err) => err.code(),
            Self::Validation(_) => ErrorCode::Invalid,
            Self::Parse(_) => ErrorCode::ParseError,
            Self::UnsupportedMediaType(_) => ErrorCode::UnsupportedMediaType,
            Self::PayloadTooLarge => ErrorCode::PayloadTooLarge,
            Self::MethodNotAllowed { .. } => ErrorCode::MethodNotAllowed,
            Self::NotFound => ErrorCode::NotFound,
            Self::InvalidToken(_) => ErrorCode::TokenNotValid,
            Self::Csrf(_) => ErrorCode::PermissionDenied,
            Self::Throttled(_) => ErrorCode::Throttled,
            Self::ThrottleUnavailable(_) => ErrorCode::ThrottleUnavailable,
            Self::Config(_) => ErrorCode::ImproperlyConfigured,
            Self::Internal(_) => ErrorCode::ServerError,
        }
    }

    fn status_and_body(&self) -> (u16, Value) {
        let body = |b: ErrorBody| serde_json::to_value(b).unwrap_or(Value::Null);
        match self {
            Self::View(TokenViewError::Token(err)) => (401, body(err.to_body())),
            Self::View(TokenViewError::Authentication(err)) => (401, body(err.to_body())),
            Self::View(TokenViewError::NonField(message)) => {
                (400, json!({ "non_field_errors": [message] }))
            }
            // A view error this issuer does not know yet (the enum is non-exhaustive).
            Self::View(_) => (
                500,
                json!({ "detail": "A server error occurred.", "code": "server_error" }),
            ),
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
                json!({ "detail": format!("Request body exceeds {MAX_BODY_BYTES} bytes."), "code": self.code().as_str() }),
            ),
            Self::MethodNotAllowed { method, .. } => (
                405,
                json!({ "detail": format!("Method \"{method}\" not allowed.") }),
            ),
            Self::NotFound => (404, json!({ "detail": "Not found." })),
            Self::InvalidToken(detail) => (
                401,
                json!({ "detail": detail, "code": edgejwt_core::TOKEN_NOT_VALID }),
            ),
            Self::Csrf(failure) => (403, json!({ "detail": failure.detail() })),
            Self::Throttled(throttled) => (429, json!({ "detail": throttled.detail() })),
            Self::ThrottleUnavailable(_) => (
                503,
                json!({ "detail": "Login is temporarily unavailable. Try again shortly.", "code": self.code().as_str() }),
            ),
            // The log names the value (never a key's); the client learns the setting only.
            Self::Config(err) => (500, body(err.to_body())),
            Self::Internal(_) => (
                500,
                json!({ "detail": "A server error occurred.", "code": self.code().as_str() }),
            ),
        }
    }

    /// The response, with `WWW-Authenticate` on 401s (`www_authenticate` is
    /// `Bearer realm="api"` for the configured header type). Logs the error's code.
    pub fn into_response(self, allow: &'static str, www_authenticate: &str) -> Answer {
        let (status, body) = self.status_and_body();
        // At django.request's level for the status: a 4xx WARNING, a 5xx ERROR.
        let level = LogLevel::of_status(status);
        match &self {
            Self::Config(err) => log!(level, "edgejwt: {status} {}: {err}", self.code()),
            Self::Internal(msg) | Self::ThrottleUnavailable(msg) => {
                log!(level, "edgejwt: {status} {}: {msg}", self.code())
            }
            _ => log!(level, "edgejwt: {status} {}", self.code()),
        }
        let allow = match &self {
            Self::MethodNotAllowed { allow, .. } => allow,
            _ => allow,
        };
        let mut extra: Vec<(&str, &str)> = Vec::new();
        if status == 401 {
            extra.push(("WWW-Authenticate", www_authenticate));
        }
        let wait;
        if let Self::Throttled(throttled) = &self {
            // DRF's header: whole seconds, as in the detail.
            wait = throttled.wait.to_string();
            extra.push(("Retry-After", &wait));
        }
        crate::response::json(status, &body, allow, &extra)
    }
}
