//! simplejwt's token classes: `AccessToken`, `RefreshToken`, `SlidingToken`.
//!
//! A [`Token`] is a type plus a payload. New tokens get `token_type`, `exp`, `iat` and `jti`
//! as simplejwt's `Token()` does; decoded tokens are checked by [`Token::verify`] as
//! simplejwt's `Token.verify()` does. Time (`now`, Unix seconds) and randomness ([`Jti`])
//! come from the host.

use alloc::string::{String, ToString};
use core::fmt;

use serde_json::{Map, Value};

use crate::{
    claims::{Claim, ClaimSource},
    error::{InvalidReason, TokenError},
    settings::Settings,
};

/// A token class of simplejwt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenType {
    /// `AccessToken` (`token_type: "access"`): authenticates requests.
    Access,
    /// `RefreshToken` (`token_type: "refresh"`): obtains new access tokens; blacklistable.
    Refresh,
    /// `SlidingToken` (`token_type: "sliding"`): authenticates and refreshes itself.
    Sliding,
}

impl TokenType {
    /// The `token_type` claim value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Access => "access",
            Self::Refresh => "refresh",
            Self::Sliding => "sliding",
        }
    }

    /// simplejwt's class name, as in `AUTH_TOKEN_CLASSES` and error `messages`.
    pub fn class_name(self) -> &'static str {
        match self {
            Self::Access => "AccessToken",
            Self::Refresh => "RefreshToken",
            Self::Sliding => "SlidingToken",
        }
    }

    /// Parses a `TOKEN_TYPE_CLAIM` value (`access`).
    pub fn from_claim(value: &str) -> Option<Self> {
        [Self::Access, Self::Refresh, Self::Sliding]
            .into_iter()
            .find(|t| t.as_str() == value)
    }

    /// Parses a class name (`AccessToken`).
    pub fn from_class_name(name: &str) -> Option<Self> {
        [Self::Access, Self::Refresh, Self::Sliding]
            .into_iter()
            .find(|t| t.class_name() == name)
    }

    /// The lifetime setting for this type, in seconds.
    pub fn lifetime(self, settings: &Settings) -> u64 {
        match self {
            Self::Access => settings.access_token_lifetime,
            Self::Refresh => settings.refresh_token_lifetime,
            Self::Sliding => settings.sliding_token_lifetime,
        }
    }

    /// Whether simplejwt's `BlacklistMixin` applies: the blacklist is checked before use.
    pub fn is_blacklistable(self) -> bool {
        matches!(self, Self::Refresh | Self::Sliding)
    }
}

impl fmt::Display for TokenType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A token id: 32 lowercase hex digits, as simplejwt's `uuid4().hex`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Jti(String);

impl Jti {
    /// Makes a version-4 UUID in hex from 16 random bytes supplied by the host
    /// (`crypto.getRandomValues`, `getrandom`).
    pub fn from_random_bytes(mut bytes: [u8; 16]) -> Self {
        // RFC 9562 §5.4: version 4, variant 10xx, like Python's uuid4().
        bytes[6] = (bytes[6] & 0x0f) | 0x40;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        Self(base16ct::lower::encode_string(&bytes))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Jti {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A token's claims: a JSON object (simplejwt's `token.payload`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Payload(Map<String, Value>);

impl Payload {
    /// Wraps a JSON object.
    pub fn from_map(map: Map<String, Value>) -> Self {
        Self(map)
    }

    /// The claims as a JSON object.
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.0
    }

    /// Consumes the payload into its JSON object.
    pub fn into_map(self) -> Map<String, Value> {
        self.0
    }

    /// A claim's value.
    pub fn get(&self, claim: &str) -> Option<&Value> {
        self.0.get(claim)
    }

    /// A claim's value if it is a string.
    pub fn get_str(&self, claim: &str) -> Option<&str> {
        self.0.get(claim).and_then(Value::as_str)
    }

    /// A claim's value if it is an integer (time claims).
    pub fn get_i64(&self, claim: &str) -> Option<i64> {
        self.0.get(claim).and_then(Value::as_i64)
    }

    /// Sets a claim.
    pub fn insert(&mut self, claim: impl Into<String>, value: impl Into<Value>) {
        self.0.insert(claim.into(), value.into());
    }

    /// Removes a claim.
    pub fn remove(&mut self, claim: &str) -> Option<Value> {
        self.0.remove(claim)
    }

    /// The `USER_ID_CLAIM` as a string (see [`user_id`]).
    pub fn user_id(&self, settings: &Settings) -> Option<String> {
        user_id(self, settings)
    }
}

/// The `USER_ID_CLAIM` as a string: simplejwt writes a string, numbers are accepted too,
/// anything else names no user.
pub fn user_id(claims: &impl ClaimSource, settings: &Settings) -> Option<String> {
    match claims.claim(&settings.user_id_claim) {
        Claim::Str(s) => Some(s.into()),
        Claim::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A token of a known type: simplejwt's `Token` subclasses.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    token_type: TokenType,
    payload: Payload,
}

/// `exp` for a token issued at `now` with `lifetime` seconds.
fn expiry(now: i64, lifetime: u64) -> i64 {
    now.saturating_add(i64::try_from(lifetime).unwrap_or(i64::MAX))
}

impl Token {
    /// A new token (simplejwt's `Token()`): `token_type`, `exp`, `iat`, `jti`, and for a
    /// sliding token `refresh_exp`.
    pub fn new(token_type: TokenType, settings: &Settings, now: i64, jti: Jti) -> Self {
        let mut payload = Payload::default();
        payload.insert(settings.token_type_claim.as_str(), token_type.as_str());
        payload.insert("exp", expiry(now, token_type.lifetime(settings)));
        payload.insert("iat", now);
        payload.insert(settings.jti_claim.as_str(), jti.0);
        if token_type == TokenType::Sliding {
            payload.insert(
                settings.sliding_token_refresh_exp_claim.as_str(),
                expiry(now, settings.sliding_token_refresh_lifetime),
            );
        }
        Self {
            token_type,
            payload,
        }
    }

    /// A new token for a user (simplejwt's `Token.for_user`): the user id claim is a string.
    pub fn for_user(
        token_type: TokenType,
        user_id: &str,
        settings: &Settings,
        now: i64,
        jti: Jti,
    ) -> Self {
        let mut token = Self::new(token_type, settings, now, jti);
        token
            .payload
            .insert(settings.user_id_claim.as_str(), user_id);
        token
    }

    /// Checks a decoded payload as a token of `token_type` (simplejwt's `Token.verify`):
    /// `exp` present and not passed, `jti` present, `token_type` present and equal.
    ///
    /// Blacklistable types (refresh, sliding) must have been checked against the blacklist
    /// before this, as simplejwt's `BlacklistMixin.verify` does; see [`Token::verify_with_blacklist`].
    pub fn verify(
        token_type: TokenType,
        payload: Payload,
        settings: &Settings,
        now: i64,
    ) -> Result<Self, TokenError> {
        Self::check(token_type, &payload, settings, now)?;
        Ok(Self::verified(token_type, payload))
    }

    /// A payload [`Token::check`] accepted as `token_type`.
    pub(crate) fn verified(token_type: TokenType, payload: Payload) -> Self {
        Self {
            token_type,
            payload,
        }
    }

    /// The checks of [`Token::verify`], on claims of any source.
    pub fn check(
        token_type: TokenType,
        claims: &impl ClaimSource,
        settings: &Settings,
        now: i64,
    ) -> Result<(), TokenError> {
        Self::check_untyped(claims, settings, now)?;
        match claims.claim(&settings.token_type_claim) {
            Claim::Absent => Err(TokenError::NoType),
            t if t.as_str() != Some(token_type.as_str()) => Err(TokenError::WrongType),
            _ => Ok(()),
        }
    }

    /// Checks a decoded payload of any type (simplejwt's `UntypedToken`, used by the verify
    /// view): `exp` present and not passed, `jti` present; the type is not checked.
    pub fn verify_untyped(
        payload: Payload,
        settings: &Settings,
        now: i64,
    ) -> Result<Payload, TokenError> {
        Self::check_untyped(&payload, settings, now).map(|()| payload)
    }

    /// The checks of [`Token::verify_untyped`], on claims of any source.
    pub fn check_untyped(
        claims: &impl ClaimSource,
        settings: &Settings,
        now: i64,
    ) -> Result<(), TokenError> {
        check_exp(claims, "exp", settings, now)?;
        match claims.claim(&settings.jti_claim) {
            Claim::Absent => Err(TokenError::NoId),
            // A token id that is not a string could never match a blacklist row.
            Claim::Str(_) => Ok(()),
            _ => Err(TokenError::Invalid(InvalidReason::Claims)),
        }
    }

    /// [`Token::verify`] preceded by simplejwt's blacklist check, for blacklistable types.
    /// `blacklisted` is the host's answer for this payload's `jti`.
    pub fn verify_with_blacklist(
        token_type: TokenType,
        payload: Payload,
        blacklisted: bool,
        settings: &Settings,
        now: i64,
    ) -> Result<Self, TokenError> {
        if token_type.is_blacklistable() && blacklisted {
            return Err(TokenError::Blacklisted);
        }
        Self::verify(token_type, payload, settings, now)
    }

    /// The token's type.
    pub fn token_type(&self) -> TokenType {
        self.token_type
    }

    /// The claims.
    pub fn payload(&self) -> &Payload {
        &self.payload
    }

    /// The claims, to add custom ones (simplejwt's `token["name"] = value`).
    pub fn payload_mut(&mut self) -> &mut Payload {
        &mut self.payload
    }

    /// The `jti` (always present on a verified or new token).
    pub fn jti<'a>(&'a self, settings: &Settings) -> Option<&'a str> {
        self.payload.get_str(&settings.jti_claim)
    }

    /// The `exp` claim.
    pub fn exp(&self) -> Option<i64> {
        self.payload.get_i64("exp")
    }

    /// The user id claim, as simplejwt writes it (a string; numbers are accepted too).
    pub fn user_id(&self, settings: &Settings) -> Option<String> {
        self.payload.user_id(settings)
    }

    /// Sets a new `jti` (simplejwt's `set_jti`).
    pub fn set_jti(&mut self, settings: &Settings, jti: Jti) {
        self.payload.insert(settings.jti_claim.as_str(), jti.0);
    }

    /// Sets `exp` to `now` plus this type's lifetime (simplejwt's `set_exp`).
    pub fn set_exp(&mut self, settings: &Settings, now: i64) {
        let exp = expiry(now, self.token_type.lifetime(settings));
        self.payload.insert("exp", exp);
    }

    /// Gives a rotated token the `jti`, `iat` and `exp` storage recorded for it.
    pub fn restamp(&mut self, settings: &Settings, jti: &str, iat: i64, exp: i64) {
        self.payload.insert(settings.jti_claim.as_str(), jti);
        self.payload.insert("iat", iat);
        self.payload.insert("exp", exp);
    }

    /// Sets `iat` to `now` (simplejwt's `set_iat`).
    pub fn set_iat(&mut self, now: i64) {
        self.payload.insert("iat", now);
    }
}

/// simplejwt's `check_exp(claim)`: the claim must exist and lie after `now - LEEWAY`.
pub(crate) fn check_exp(
    claims: &impl ClaimSource,
    claim: &str,
    settings: &Settings,
    now: i64,
) -> Result<(), TokenError> {
    // Python's datetime_from_epoch takes ints and floats alike.
    let time = match claims.claim(claim) {
        Claim::Absent => return Err(TokenError::MissingClaim(claim.to_string())),
        other => other
            .seconds()
            .ok_or(TokenError::Invalid(InvalidReason::Claims))?,
    };
    let leeway = i64::try_from(settings.leeway).unwrap_or(i64::MAX);
    if time <= now.saturating_sub(leeway) {
        return Err(TokenError::ClaimExpired(claim.to_string()));
    }
    Ok(())
}
