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

/// The D1 statements that end sessions, run in one transaction, in this order: the issuer's
/// logout, logout everywhere, session delete and password change, and the CLI's
/// `revoke-sessions`, which binds no parameters and writes values in their place. Parameters:
/// `?1` now, `?2` the [`SessionEnd`] reason, `?3` and `?4` the filter's, `?5` and `?6` the
/// client's address and user agent (the audit events). The blacklist and the audit events
/// select the sessions while they are still active, before `end` ends them: selecting them
/// after it by `revoked_at = now` would also find sessions another request ended in the same
/// second. An ended session is marked `kv_pending` (migration 0006) until its revocation is
/// in KV; its refresh tokens need no mark, as the session's revocation covers them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndSessions {
    /// Blacklists the refresh tokens still presentable of the sessions ending (`RETURNING
    /// jti, expires_at`).
    pub blacklist: String,
    /// One audit event per session ending.
    pub events: String,
    /// Ends the sessions, marked `kv_pending` (`RETURNING sid`).
    pub end: String,
}

impl EndSessions {
    /// For the active sessions `filter` selects (a condition on `sessions`, in `?3`, `?4`).
    pub fn new(filter: &str) -> Self {
        Self {
            blacklist: format!(
                "INSERT INTO blacklisted_tokens (jti, blacklisted_at, expires_at) \
                 SELECT jti, ?1, expires_at FROM outstanding_tokens \
                 WHERE expires_at >= ?1 AND sid IN \
                 (SELECT sid FROM sessions WHERE revoked_at IS NULL AND {filter}) \
                 ON CONFLICT (jti) DO NOTHING RETURNING jti, expires_at"
            ),
            events: format!(
                "INSERT INTO auth_events (at, user_id, sid, event, client_ip, user_agent) \
                 SELECT ?1, user_id, sid, ?2, ?5, ?6 FROM sessions \
                 WHERE revoked_at IS NULL AND {filter}"
            ),
            end: format!(
                "UPDATE sessions SET revoked_at = ?1, revoked_reason = ?2, kv_pending = 1 \
                 WHERE revoked_at IS NULL AND {filter} RETURNING sid"
            ),
        }
    }

    /// The sessions of user `?3`, except session `?4` (`NULL`: none excepted).
    pub const ALL_OF_USER: &'static str = "user_id = ?3 AND (?4 IS NULL OR sid <> ?4)";

    /// Session `?3`, if it is user `?4`'s (`NULL`: anyone's).
    pub const ONE: &'static str = "sid = ?3 AND (?4 IS NULL OR user_id = ?4)";

    /// With the sessions of a user, ended by [`EndSessions::ALL_OF_USER`]: blacklists the
    /// user's (`?2`) refresh tokens of no session still presentable at `?1` (imported from
    /// Django, or minted with `SESSION_CLAIM` off), marked `kv_pending` as no session's
    /// revocation covers them (`RETURNING jti, expires_at`). By the partial index of them
    /// (migration 0005): SQLite, without statistics, would walk `(sid, expires_at)` for
    /// `sid IS NULL`, every user's imported tokens, and by user alone every token the user
    /// ever had.
    pub const BLACKLIST_SESSIONLESS: &'static str =
        "INSERT INTO blacklisted_tokens (jti, blacklisted_at, expires_at, kv_pending) \
         SELECT jti, ?1, expires_at, 1 FROM outstanding_tokens INDEXED BY outstanding_tokens_sessionless \
         WHERE user_id = ?2 AND sid IS NULL AND expires_at >= ?1 \
         ON CONFLICT (jti) DO NOTHING RETURNING jti, expires_at";
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
