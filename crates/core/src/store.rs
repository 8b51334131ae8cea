//! What hosts store and look up, in the core's words: the questions a view asks storage
//! ([`Lookups`]), the answers ([`Found`]), and the writes it orders ([`Outstanding`],
//! [`Revocation`]). The core decides; a host (the issuer's D1 and KV, the npm verifier's
//! KV) only carries these out.

use alloc::{
    format,
    string::{String, ToString},
};

use serde_json::{Map, Value};

use crate::{
    settings::{Settings, UserIdField},
    token::Token,
};

/// KV key prefix of a revoked token id or session id: `revoked:<id>`. The issuer writes
/// these; every verifier with the KV binding reads them.
pub const REVOKED_PREFIX: &str = "revoked:";

/// The KV key that marks `id` (a `jti` or a session id) revoked.
pub fn revoked_key(id: &str) -> String {
    format!("{REVOKED_PREFIX}{id}")
}

/// The user a token's user id claim names, by `USER_ID_FIELD`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserKey {
    /// `users.id`.
    Id(i64),
    /// `users.username`.
    Username(String),
}

impl UserKey {
    /// The user `user_id` names under `field`; `None` when it can name none (an `id` that
    /// is not a number).
    pub fn new(field: UserIdField, user_id: &str) -> Option<Self> {
        match field {
            UserIdField::Id => user_id.parse().ok().map(Self::Id),
            UserIdField::Username => Some(Self::Username(user_id.to_string())),
        }
    }
}

/// A user as the core needs to see one: enough to issue tokens and to judge an account.
pub trait User {
    /// `users.id`.
    fn id(&self) -> i64;
    /// `users.username`.
    fn username(&self) -> &str;
    /// `users.is_active`.
    fn is_active(&self) -> bool;
    /// The value of a `TOKEN_CLAIMS` field for this user, if it has one.
    fn claim(&self, name: &str) -> Option<Value>;

    /// The user id claim for this user: its `USER_ID_FIELD`, as a string (simplejwt's
    /// `str(getattr(user, USER_ID_FIELD))`).
    fn user_id(&self, settings: &Settings) -> String {
        match settings.user_id_field {
            UserIdField::Id => self.id().to_string(),
            UserIdField::Username => String::from(self.username()),
        }
    }
}

/// What a view needs looked up before it can decide.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lookups<'a> {
    /// Is this token id on the blacklist?
    pub blacklisted: Option<&'a str>,
    /// Does this user exist, and is it active?
    pub user: Option<&'a UserKey>,
    /// Is this session revoked?
    pub session: Option<&'a str>,
}

impl<'a> Lookups<'a> {
    /// Only the blacklist, for this token id (if any).
    pub fn blacklist(jti: Option<&'a str>) -> Self {
        Self {
            blacklisted: jti,
            ..Self::default()
        }
    }
}

/// A user account's standing, as storage found it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Account {
    /// `users.id`.
    pub id: i64,
    /// `users.username`.
    pub username: String,
    /// `users.is_active`.
    pub is_active: bool,
    /// The user's `TOKEN_CLAIMS` values now (fresh claims on refresh).
    pub claims: Map<String, Value>,
}

impl Account {
    /// The account of `user`, with its current `TOKEN_CLAIMS` values.
    pub fn of(user: &impl User, settings: &Settings) -> Self {
        Self {
            id: user.id(),
            username: String::from(user.username()),
            is_active: user.is_active(),
            claims: settings
                .token_claims
                .iter()
                .filter_map(|c| Some((c.clone(), user.claim(c)?)))
                .collect(),
        }
    }
}

/// A rotated token's child, as storage recorded it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Child {
    /// The child's `jti`.
    pub jti: String,
    /// When the rotation happened (the child's `iat`).
    pub created_at: i64,
    /// The child's `exp`, as recorded (capped by the session's lifetime).
    pub expires_at: i64,
    /// The child was itself rotated or blacklisted.
    pub blacklisted: bool,
}

/// What storage answered to [`Lookups`] (`false`/`None` for what was not asked).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Found {
    /// The token id is blacklisted.
    pub blacklisted: bool,
    /// The user, if it exists.
    pub user: Option<Account>,
    /// The session is revoked.
    pub session_revoked: bool,
    /// The session is revoked and its KV revocation not yet written (that end's KV write
    /// failed): see [`crate::serializers::Refreshing::unmirrored_session`].
    pub session_unmirrored: bool,
    /// For a rotation: the old token's child, if it was ever rotated.
    pub child: Option<Child>,
}

/// A refresh or sliding token to record as outstanding (simplejwt's `OutstandingToken`):
/// its id, its user and its expiry, never the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outstanding {
    /// The token's `jti`.
    pub jti: String,
    /// The user the token's user id claim names, if any.
    pub user: Option<UserKey>,
    /// Its `iat`.
    pub created_at: i64,
    /// Its `exp`.
    pub expires_at: i64,
    /// Its session (`SESSION_CLAIM`).
    pub sid: Option<String>,
    /// The token it was rotated from.
    pub parent: Option<String>,
}

impl Outstanding {
    /// The record of a token, with the user its user id claim names.
    pub fn of(token: &Token, settings: &Settings) -> Self {
        let user = token
            .user_id(settings)
            .and_then(|id| UserKey::new(settings.user_id_field, &id));
        Self {
            jti: token.jti(settings).map(String::from).unwrap_or_default(),
            user,
            created_at: token.payload().get_i64("iat").unwrap_or_default(),
            expires_at: token.exp().unwrap_or_default(),
            sid: session_id(token, settings).map(String::from),
            parent: None,
        }
    }
}

/// A token's session id (`SESSION_CLAIM`), if sessions are on and it has one.
pub fn session_id<'t>(token: &'t Token, settings: &Settings) -> Option<&'t str> {
    settings
        .session_claim
        .as_deref()
        .and_then(|claim| token.payload().get_str(claim))
}

/// A session a login starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    /// Its id (`SESSION_CLAIM`).
    pub sid: String,
    /// The user's `users.id`.
    pub user: i64,
    /// When it started.
    pub created_at: i64,
    /// `created_at + SESSION_LIFETIME`, or none.
    pub expires_at: Option<i64>,
}

/// Why a session ended early, as recorded and audited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEnd {
    /// `POST /api/token/blacklist/` with one of its refresh tokens.
    Logout,
    /// `DELETE /api/sessions/<sid>/`.
    Revoked,
    /// `POST /api/sessions/revoke-all/`.
    LogoutAll,
    /// A rotated-out refresh token of it was used again outside the reuse interval.
    ReuseDetected,
    /// The user changed their password (the other sessions).
    PasswordChange,
}

impl SessionEnd {
    /// The reason's name (`sessions.revoked_reason`, `auth_events.event`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Logout => "logout",
            Self::Revoked => "revoked",
            Self::LogoutAll => "logout_all",
            Self::ReuseDetected => "reuse_detected",
            Self::PasswordChange => "password_change",
        }
    }
}

/// An id (`jti` or session) to mark revoked for verifiers (KV: [`revoked_key`]), until the
/// last moment a token carrying it could still be accepted: its `exp` plus `LEEWAY`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revocation {
    /// The KV key, `revoked:<id>`.
    pub key: String,
    /// Unix seconds after which no token carrying the id is accepted anywhere.
    pub until: i64,
}

impl Revocation {
    /// A revoked session: its id stays revoked as long as any token of it issued up to
    /// `now` could still be accepted.
    pub fn session(sid: &str, now: i64, settings: &Settings) -> Self {
        Self {
            key: revoked_key(sid),
            until: settings.session_revoked_until(now),
        }
    }

    /// A revocation of `id` for a token expiring at `exp`.
    pub fn new(id: &str, exp: i64, settings: &Settings) -> Self {
        let leeway = i64::try_from(settings.leeway).unwrap_or(i64::MAX);
        Self {
            key: revoked_key(id),
            until: exp.saturating_add(leeway),
        }
    }

    /// The Unix time KV expires the mark at when written at `now`: `until`, but at least
    /// [`KV_MIN_TTL`] ahead (KV refuses less) and at most 2^31 - 1 (KV refuses more; D1's
    /// blacklist covers what outlives it). The issuer and the CLI write with it.
    pub fn kv_expiration(&self, now: i64) -> i64 {
        self.until
            .max(now.saturating_add(KV_MIN_TTL))
            .min(i64::from(i32::MAX))
    }
}

/// KV accepts expirations at least 60 s ahead; the margin keeps a write made near that edge
/// (inside `waitUntil`, after a slow D1 call) from being refused.
pub const KV_MIN_TTL: i64 = 60 + 30;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kv_expiration_is_within_what_kv_accepts() {
        let settings = Settings::default();
        let now = 1_700_000_000;
        let expiring = |exp| Revocation::new("j", exp, &settings).kv_expiration(now);
        assert_eq!(expiring(now + 3600), now + 3600);
        // Less than 60 s ahead (or past) is refused by KV: 90 s ahead instead.
        assert_eq!(expiring(now + 10), now + 90);
        assert_eq!(expiring(now - 3600), now + 90);
        // Past 2038 KV refuses the write; D1's blacklist holds the rest.
        assert_eq!(expiring(i64::MAX), i64::from(i32::MAX));
    }
}
