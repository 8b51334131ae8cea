//! What hosts store and look up, in the core's words: the questions a view asks storage
//! ([`Lookups`]), the answers ([`Found`]), and the writes it orders ([`Outstanding`],
//! [`Revocation`]). The core decides; a host (the issuer's D1 and KV, the npm verifier's
//! KV) only carries these out.

use alloc::{
    format,
    string::{String, ToString},
};

use serde_json::Value;

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

    /// The column this key matches.
    pub fn field(&self) -> UserIdField {
        match self {
            Self::Id(_) => UserIdField::Id,
            Self::Username(_) => UserIdField::Username,
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
}

/// What storage answered to [`Lookups`] (`false`/`None` for what was not asked).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Found {
    /// The token id is blacklisted.
    pub blacklisted: bool,
    /// The user, if it exists.
    pub user: Option<Account>,
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
    /// A revocation of `id` for a token expiring at `exp`.
    pub fn new(id: &str, exp: i64, settings: &Settings) -> Self {
        let leeway = i64::try_from(settings.leeway).unwrap_or(i64::MAX);
        Self {
            key: revoked_key(id),
            until: exp.saturating_add(leeway),
        }
    }
}
