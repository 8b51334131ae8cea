//! Refresh rules: a refresh token derives an access token; with `ROTATE_REFRESH_TOKENS` it
//! is replaced by a new one and (with `BLACKLIST_AFTER_ROTATION`) its `jti` must be
//! blacklisted; a sliding token is re-stamped within its `refresh_exp`.
//!
//! These are simplejwt's `TokenRefreshSerializer` and `TokenRefreshSlidingSerializer`.
//! The core only says *what* must happen; the host makes the blacklist write atomic.

use alloc::string::String;

use crate::{
    error::TokenError,
    settings::Settings,
    store::{Outstanding, Revocation},
    token::{check_exp, Jti, Token, TokenType},
};

/// Claims a derived access token never copies from its refresh token
/// (simplejwt's `RefreshToken.no_copy_claims`).
fn is_no_copy_claim(claim: &str, settings: &Settings) -> bool {
    claim == settings.token_type_claim
        || claim == settings.jti_claim
        || matches!(claim, "exp" | "jti" | "iat")
}

impl Token {
    /// The access token for this refresh token (simplejwt's `RefreshToken.access_token`):
    /// a new access token that copies every claim except type, `exp`, `jti` and `iat`.
    pub fn access_token(&self, settings: &Settings, now: i64, jti: Jti) -> Token {
        let mut access = Token::new(TokenType::Access, settings, now, jti);
        for (claim, value) in self.payload().as_map() {
            if !is_no_copy_claim(claim, settings) {
                access.payload_mut().insert(claim.as_str(), value.clone());
            }
        }
        access
    }
}

/// What a refresh produced, and what the host must store.
#[derive(Debug, Clone, PartialEq)]
pub struct Refreshed {
    /// The new access token.
    pub access: Token,
    /// The rotated refresh token, when `ROTATE_REFRESH_TOKENS` is on.
    pub refresh: Option<Token>,
    /// The rotated token's record, for the host to store as outstanding.
    pub outstanding: Option<Outstanding>,
    /// The rotated-out token, when rotating with `BLACKLIST_AFTER_ROTATION`. The host must
    /// blacklist it atomically with accepting the refresh, so that of N concurrent
    /// refreshes exactly one wins.
    pub blacklist: Option<Outstanding>,
    /// The rotated-out token's revocation for verifiers (after the response: D1 is the
    /// record, KV only tells other Workers), only when refresh tokens authenticate
    /// (`AUTH_TOKEN_CLASSES` names `RefreshToken`): a verifier that accepts access tokens
    /// never reads a refresh token's `jti`, and a KV write per refresh is a cost and a quota
    /// (the free plan's 1,000 a day). A reused one is caught by the issuer's blacklist, and
    /// reuse detection revokes its whole session in KV.
    pub revoke: Option<Revocation>,
}

/// Refreshes a verified refresh token at `now`. `access_jti` and `refresh_jti` are fresh ids.
///
/// ```
/// use edgejwt_core::{refresh, Jti, Settings, Token, TokenType};
/// let mut settings = Settings::default();
/// settings.rotate_refresh_tokens = true;
/// settings.blacklist_after_rotation = true;
/// let old = Token::for_user(TokenType::Refresh, "1", &settings, 1_000, Jti::from_random_bytes([1; 16]));
/// let out = refresh(&old, &settings, 1_060, Jti::from_random_bytes([2; 16]), Jti::from_random_bytes([3; 16]));
/// assert_eq!(out.access.exp(), Some(1_060 + 300));
/// assert_eq!(out.refresh.unwrap().exp(), Some(1_060 + 86_400));
/// assert_eq!(out.blacklist.unwrap().jti, old.jti(&settings).unwrap());
/// ```
pub fn refresh(
    refresh: &Token,
    settings: &Settings,
    now: i64,
    access_jti: Jti,
    refresh_jti: Jti,
) -> Refreshed {
    let access = refresh.access_token(settings, now, access_jti);
    if !settings.rotate_refresh_tokens {
        return Refreshed {
            access,
            refresh: None,
            outstanding: None,
            blacklist: None,
            revoke: None,
        };
    }
    let blacklist = settings
        .blacklist_after_rotation
        .then(|| Outstanding::of(refresh, settings))
        .filter(|old| !old.jti.is_empty());
    let revoke = blacklist
        .as_ref()
        .filter(|_| settings.auth_token_classes.contains(&TokenType::Refresh))
        .map(|old| Revocation::new(&old.jti, old.expires_at, settings));
    let mut rotated = refresh.clone();
    rotated.set_jti(settings, refresh_jti);
    rotated.set_exp(settings, now);
    rotated.set_iat(now);
    let mut outstanding = Outstanding::of(&rotated, settings);
    outstanding.parent = refresh.jti(settings).map(String::from);
    Refreshed {
        access,
        outstanding: Some(outstanding),
        refresh: Some(rotated),
        blacklist,
        revoke,
    }
}

/// Refreshes a verified sliding token (simplejwt's `TokenRefreshSlidingSerializer`):
/// `refresh_exp` must not have passed; `exp` and `iat` are re-stamped, `jti` is kept.
pub fn refresh_sliding(
    mut token: Token,
    settings: &Settings,
    now: i64,
) -> Result<Token, TokenError> {
    check_exp(
        token.payload(),
        &settings.sliding_token_refresh_exp_claim,
        settings,
        now,
    )?;
    token.set_exp(settings, now);
    token.set_iat(now);
    Ok(token)
}
