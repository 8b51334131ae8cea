//! simplejwt's `JWTAuthentication`: the `Authorization` header, the accepted token classes,
//! and the user id claim.

use alloc::{string::String, vec::Vec};

use serde_json::Value;

use crate::{
    backend::TokenBackend,
    claims::ClaimSource,
    error::{AuthenticationError, SettingsError, TokenError, TokenMessage},
    settings::Settings,
    store::{Account, Found, Lookups, UserKey},
    token::{Payload, Token, TokenType},
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
    match decoded {
        Ok(payload) => {
            let token_type = validated_type(Ok(&payload), blacklisted, settings, now)?;
            Ok(Token::verified(token_type, payload))
        }
        Err(error) => Err(refused_by_all(&error, settings)),
    }
}

/// [`get_validated_token`]'s verdict on claims of any source (a verifier's
/// [`crate::Decoded`]): the first of `AUTH_TOKEN_CLASSES` that accepts them.
pub fn validated_type<C: ClaimSource>(
    decoded: Result<&C, &TokenError>,
    blacklisted: bool,
    settings: &Settings,
    now: i64,
) -> Result<TokenType, AuthenticationError> {
    let claims = decoded.map_err(|error| refused_by_all(error, settings))?;
    let classes = &settings.auth_token_classes;
    let mut messages = Vec::with_capacity(classes.len());
    for &token_type in classes {
        let result = if token_type.is_blacklistable() && blacklisted {
            Err(TokenError::Blacklisted)
        } else {
            Token::check(token_type, claims, settings, now)
        };
        match result {
            Ok(()) => return Ok(token_type),
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

/// "Given token not valid for any token type" with "Token is blacklisted" for every
/// accepted class: a token whose `jti` or session was revoked at the issuer.
pub fn revoked(settings: &Settings) -> AuthenticationError {
    refused_by_all(&TokenError::Blacklisted, settings)
}

/// "Given token not valid for any token type" with `err` for every accepted class.
fn refused_by_all(err: &TokenError, settings: &Settings) -> AuthenticationError {
    AuthenticationError::InvalidToken(
        settings
            .auth_token_classes
            .iter()
            .map(|t| TokenMessage {
                token_class: t.class_name(),
                token_type: t.as_str(),
                message: err.detail(),
                error: err.clone(),
            })
            .collect(),
    )
}

/// The revocation keys a verifier with the issuer's KV must look up for a valid token:
/// its `jti` and its session id ([`crate::store::revoked_key`]). Any hit is [`revoked`].
pub fn revocation_keys(claims: &impl ClaimSource, settings: &Settings) -> Vec<String> {
    let session = settings.session_claim.as_deref();
    [Some(settings.jti_claim.as_str()), session]
        .into_iter()
        .flatten()
        .filter_map(|claim| claims.claim(claim).as_str())
        .map(crate::store::revoked_key)
        .collect()
}

/// An authenticated request: the token and the user it names.
#[derive(Debug, Clone, PartialEq)]
pub struct Authenticated {
    /// The validated token.
    pub token: Token,
    /// Its user id claim, as a string.
    pub user_id: String,
    /// The user storage found.
    pub user: Account,
}

/// simplejwt's `JWTAuthentication.authenticate` in progress: the header is parsed and the
/// token decoded; the blacklist and the user are for storage to look up.
#[derive(Debug)]
pub struct Authenticating {
    /// The decode result, kept to validate again when the blacklist answers yes.
    decoded: Result<Payload, TokenError>,
    /// The verdict if the token is not blacklisted.
    unblacklisted: Result<Token, AuthenticationError>,
    jti: Option<String>,
    user: Option<UserKey>,
    /// The session to look up (`CHECK_REVOKE_TOKEN`).
    sid: Option<String>,
    check_active: bool,
}

/// Starts authenticating an `Authorization` header value (`AUTH_HEADER_NAME`). No header,
/// or one of another scheme, is DRF's `NotAuthenticated`.
pub fn authenticate(
    header: Option<&str>,
    backend: &TokenBackend,
    settings: &Settings,
    now: i64,
) -> Result<Authenticating, AuthenticationError> {
    let raw = header
        .map(|h| get_raw_token(h, settings))
        .transpose()?
        .flatten()
        .ok_or(AuthenticationError::NotAuthenticated)?;
    let decoded = backend.decode(raw, now);
    let needs_blacklist = settings
        .auth_token_classes
        .iter()
        .any(|t| t.is_blacklistable());
    let jti = match &decoded {
        Ok(payload) if needs_blacklist => payload.get_str(&settings.jti_claim).map(String::from),
        _ => None,
    };
    // The decode result is kept (cloned) only when a "blacklisted" answer must re-validate it.
    let kept = if jti.is_some() {
        Some(decoded.clone())
    } else {
        None
    };
    let unblacklisted = get_validated_token(decoded, false, settings, now);
    // The user is worth looking up only for a token that can still be accepted.
    let user = unblacklisted
        .as_ref()
        .ok()
        .and_then(|token| token.user_id(settings))
        .and_then(|id| UserKey::new(settings.user_id_field, &id));
    let sid = unblacklisted
        .as_ref()
        .ok()
        .filter(|_| settings.check_revoke_token)
        .and_then(|token| crate::store::session_id(token, settings))
        .map(String::from);
    Ok(Authenticating {
        decoded: kept.unwrap_or(Err(TokenError::NoId)),
        unblacklisted,
        jti,
        user,
        sid,
        check_active: settings.check_user_is_active,
    })
}

impl Authenticating {
    /// What storage must look up.
    pub fn lookups(&self) -> Lookups<'_> {
        Lookups {
            blacklisted: self.jti.as_deref(),
            user: self.user.as_ref(),
            session: self.sid.as_deref(),
        }
    }

    /// The token, once storage has answered for its revocation: the blacklist (for
    /// blacklistable classes), then with `CHECK_REVOKE_TOKEN` its session.
    fn unrevoked(
        self,
        found: &Found,
        settings: &Settings,
        now: i64,
    ) -> Result<Token, AuthenticationError> {
        let token = if found.blacklisted {
            get_validated_token(self.decoded, true, settings, now)?
        } else {
            self.unblacklisted?
        };
        // `CHECK_REVOKE_TOKEN`: the session was revoked (logout, reuse, password change).
        if found.session_revoked {
            return Err(revoked(settings));
        }
        Ok(token)
    }

    /// The answer, in simplejwt's order: the token (the blacklist first for blacklistable
    /// classes; with `CHECK_REVOKE_TOKEN`, its session), its user id claim, then the user:
    /// "User not found", "User is inactive". The user is [`Authenticated::user`].
    pub fn decide(
        self,
        found: Found,
        settings: &Settings,
        now: i64,
    ) -> Result<Authenticated, AuthenticationError> {
        let check_active = self.check_active;
        let token = self.unrevoked(&found, settings, now)?;
        let user_id = token
            .user_id(settings)
            .ok_or(AuthenticationError::NoUserId)?;
        let user = found.user.ok_or(AuthenticationError::UserNotFound)?;
        if check_active && !user.is_active {
            return Err(AuthenticationError::UserInactive);
        }
        Ok(Authenticated {
            token,
            user_id,
            user,
        })
    }

    /// simplejwt's `JWTStatelessUserAuthentication`: the same token and revocation checks,
    /// no user lookup.
    pub fn stateless(self) -> StatelessAuthenticating {
        StatelessAuthenticating(self)
    }
}

/// [`Authenticating`] for `JWTStatelessUserAuthentication`: the user comes from the token.
#[derive(Debug)]
pub struct StatelessAuthenticating(Authenticating);

impl StatelessAuthenticating {
    /// What storage must look up: only revocations (the blacklist for blacklistable
    /// classes, the session with `CHECK_REVOKE_TOKEN`); with the defaults, nothing.
    pub fn lookups(&self) -> Lookups<'_> {
        Lookups {
            user: None,
            ..self.0.lookups()
        }
    }

    /// The token's user, after the token and its revocation (as [`Authenticating::decide`]),
    /// then "Token contained no recognizable user identification". Deleted and inactive
    /// users are not known here: simplejwt's `TokenUser` is always active.
    pub fn decide(
        self,
        found: Found,
        settings: &Settings,
        now: i64,
    ) -> Result<TokenUser, AuthenticationError> {
        let token = self.0.unrevoked(&found, settings, now)?;
        stateless_user_id(token.payload(), settings)?;
        let claim = |name: &str| token.payload().get(name).cloned();
        Ok(TokenUser {
            id: claim(&settings.user_id_claim).unwrap_or_default(),
            username: claim("username").unwrap_or_else(|| Value::String(String::new())),
            token,
        })
    }
}

/// simplejwt's `TokenUser`: a user backed by a validated token, never read from storage.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenUser {
    /// The validated token.
    pub token: Token,
    /// `TokenUser.id`: the user id claim as the token holds it (a string or a number).
    pub id: Value,
    /// `TokenUser.username`: the token's `username` claim, `""` without one.
    pub username: Value,
}

/// Which of simplejwt's authentication classes builds the user of the issuer's
/// `/api/protected/` (DRF's `DEFAULT_AUTHENTICATION_CLASSES`, one class).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum UserAuthentication {
    /// `JWTAuthentication`: the user is read from storage on every request; deleted users
    /// and (with `CHECK_USER_IS_ACTIVE`) inactive ones are refused.
    #[default]
    Database,
    /// `JWTStatelessUserAuthentication` (or its alias `JWTTokenUserAuthentication`): the
    /// user is the token's [`TokenUser`], no user read.
    Stateless,
}

/// The setting that chooses [`UserAuthentication`].
pub const AUTHENTICATION_CLASSES: &str = "DEFAULT_AUTHENTICATION_CLASSES";

impl UserAuthentication {
    /// From [`AUTHENTICATION_CLASSES`]'s raw value (`None`: unset): one class name, as
    /// simplejwt's dotted path or bare.
    pub fn from_setting(value: Option<&str>) -> Result<Self, SettingsError> {
        let Some(value) = value else {
            return Ok(Self::default());
        };
        let mut classes = value.split(',').map(str::trim).filter(|c| !c.is_empty());
        let class = match (classes.next(), classes.next()) {
            (Some(class), None) => class.rsplit('.').next().unwrap_or(class),
            _ => "",
        };
        match class {
            "JWTAuthentication" => Ok(Self::Database),
            "JWTStatelessUserAuthentication" | "JWTTokenUserAuthentication" => Ok(Self::Stateless),
            _ => Err(SettingsError::new(
                AUTHENTICATION_CLASSES,
                value,
                "expected one class: JWTAuthentication or JWTStatelessUserAuthentication",
            )),
        }
    }
}

/// The user id of a valid token, without a user lookup (simplejwt's
/// `JWTStatelessUserAuthentication`, the npm verifier): a user id claim that is neither a
/// string nor a number names no user.
pub fn stateless_user_id(
    claims: &impl ClaimSource,
    settings: &Settings,
) -> Result<String, AuthenticationError> {
    crate::token::user_id(claims, settings).ok_or(AuthenticationError::NoUserId)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authentication_classes_setting() {
        assert_eq!(
            UserAuthentication::from_setting(None),
            Ok(UserAuthentication::Database)
        );
        for (value, expected) in [
            ("JWTAuthentication", UserAuthentication::Database),
            (
                " rest_framework_simplejwt.authentication.JWTStatelessUserAuthentication ",
                UserAuthentication::Stateless,
            ),
            ("JWTTokenUserAuthentication,", UserAuthentication::Stateless),
        ] {
            assert_eq!(
                UserAuthentication::from_setting(Some(value)),
                Ok(expected),
                "{value}"
            );
        }
        for bad in [
            "",
            "SessionAuthentication",
            "JWTAuthentication,JWTTokenUserAuthentication",
        ] {
            let err = UserAuthentication::from_setting(Some(bad)).unwrap_err();
            assert_eq!(err.setting, AUTHENTICATION_CLASSES, "{bad}");
        }
    }
}
