//! simplejwt's `JWTAuthentication`: the `Authorization` header, the accepted token classes,
//! and the user id claim.

use alloc::{string::String, vec::Vec};

use crate::{
    backend::TokenBackend,
    error::{AuthenticationError, TokenMessage},
    settings::Settings,
    token::{Payload, Token},
};

/// Extracts the raw token from an `Authorization` header value (simplejwt's `get_raw_token`).
///
/// `Ok(None)` means "not ours": an empty header or another scheme (the request is simply
/// not authenticated). The scheme is matched case-sensitively against `AUTH_HEADER_TYPES`;
/// a matching scheme must be followed by exactly one value.
///
/// ```
/// use edgejwt_core::{get_raw_token, AuthenticationError, Settings};
/// let s = Settings::default();
/// assert_eq!(get_raw_token("Bearer abc", &s), Ok(Some("abc")));
/// assert_eq!(get_raw_token("bearer abc", &s), Ok(None));
/// assert_eq!(get_raw_token("Bearer", &s), Err(AuthenticationError::BadAuthorizationHeader));
/// ```
pub fn get_raw_token<'h>(
    header: &'h str,
    settings: &Settings,
) -> Result<Option<&'h str>, AuthenticationError> {
    // Python's bytes.split(): runs of ASCII whitespace.
    let mut parts = header
        .split([' ', '\t', '\n', '\r', '\x0b', '\x0c'])
        .filter(|p| !p.is_empty());
    let Some(scheme) = parts.next() else {
        return Ok(None);
    };
    if !settings.auth_header_types.iter().any(|t| t == scheme) {
        return Ok(None);
    }
    match (parts.next(), parts.next()) {
        (Some(token), None) => Ok(Some(token)),
        _ => Err(AuthenticationError::BadAuthorizationHeader),
    }
}

/// Validates a raw token against each of `AUTH_TOKEN_CLASSES` in turn (simplejwt's
/// `get_validated_token`); the first that accepts it wins.
///
/// `blacklisted` says whether the token's `jti` is blacklisted; it only matters for
/// blacklistable classes (sliding, refresh). Hosts decode first with
/// [`TokenBackend::decode`] when they need the `jti` to look it up; this function takes
/// the decode result so the token is verified once.
pub fn get_validated_token(
    decoded: Result<Payload, crate::TokenError>,
    blacklisted: bool,
    settings: &Settings,
    now: i64,
) -> Result<Token, AuthenticationError> {
    let classes = &settings.auth_token_classes;
    let mut messages = Vec::with_capacity(classes.len());
    let mut decoded = Some(decoded);
    for (i, &token_type) in classes.iter().enumerate() {
        // Only a class that may fail before the last needs its own copy of the payload.
        let attempt = if i + 1 == classes.len() {
            decoded.take()
        } else {
            decoded.clone()
        };
        let Some(attempt) = attempt else { break };
        let result = attempt.and_then(|payload| {
            Token::verify_with_blacklist(token_type, payload, blacklisted, settings, now)
        });
        match result {
            Ok(token) => return Ok(token),
            Err(error) => messages.push(TokenMessage {
                token_class: token_type.class_name(),
                token_type: token_type.as_str(),
                message: error.detail(),
                error,
            }),
        }
    }
    Err(AuthenticationError::InvalidToken(messages))
}

/// Authenticates an `Authorization` header value: parse, decode, validate, and return the
/// token with its user id (simplejwt's `authenticate` up to the user lookup, which is the
/// host's). `blacklisted` is consulted for blacklistable classes only; pass a closure
/// that looks the `jti` up, or `|_| false`.
///
/// `Ok(None)` when the header is absent or not ours.
pub fn authenticate(
    header: Option<&str>,
    backend: &TokenBackend,
    settings: &Settings,
    now: i64,
    blacklisted: impl FnOnce(&Payload) -> bool,
) -> Result<Option<(Token, String)>, AuthenticationError> {
    let Some(raw) = header
        .map(|h| get_raw_token(h, settings))
        .transpose()?
        .flatten()
    else {
        return Ok(None);
    };
    let decoded = backend.decode(raw, now);
    let needs_blacklist = settings
        .auth_token_classes
        .iter()
        .any(|t| t.is_blacklistable());
    let is_blacklisted = match &decoded {
        Ok(payload) if needs_blacklist => blacklisted(payload),
        _ => false,
    };
    let token = get_validated_token(decoded, is_blacklisted, settings, now)?;
    let user_id = token
        .user_id(settings)
        .ok_or(AuthenticationError::NoUserId)?;
    Ok(Some((token, user_id)))
}
