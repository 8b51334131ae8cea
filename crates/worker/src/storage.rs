//! Storage behind two small services: [`Store`] (users and simplejwt's outstanding and
//! blacklisted tokens, in D1) and [`Revocations`] (a KV key per revoked `jti`, readable by
//! other Workers, expiring with the token).

use serde::Deserialize;
use serde_json::{Map, Value};
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement, KvStore};

use crate::error::ApiError;

type Result<T> = std::result::Result<T, ApiError>;

/// A row of `users`.
#[derive(Debug, Clone, Deserialize)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub password: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub is_active: i64,
    pub is_staff: i64,
    pub is_superuser: i64,
    pub claims: String,
}

impl User {
    pub fn is_active(&self) -> bool {
        self.is_active != 0
    }

    /// The value of a configured token claim (`TOKEN_CLAIMS`) for this user.
    pub fn claim(&self, name: &str) -> Option<Value> {
        Some(match name {
            "username" => self.username.clone().into(),
            "email" => self.email.clone().into(),
            "first_name" => self.first_name.clone().into(),
            "last_name" => self.last_name.clone().into(),
            "is_staff" => (self.is_staff != 0).into(),
            "is_superuser" => (self.is_superuser != 0).into(),
            other => serde_json::from_str::<Map<String, Value>>(&self.claims)
                .ok()?
                .remove(other)?,
        })
    }
}

const USER_COLUMNS: &str =
    "id, username, password, email, first_name, last_name, is_active, is_staff, is_superuser, claims";

/// A user id claim as the `users.id` it may name.
fn numeric_id(user_id: Option<&str>) -> Option<i64> {
    user_id.and_then(|u| u.parse().ok())
}

fn num(n: i64) -> JsValue {
    // D1 takes JS numbers; every value here (ids, Unix seconds) is far below 2^53.
    JsValue::from_f64(n as f64)
}

/// The user a token's user id claim names, by `USER_ID_FIELD`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserRef<'a> {
    Id(i64),
    Username(&'a str),
}

impl UserRef<'_> {
    fn column(&self) -> &'static str {
        match self {
            Self::Id(_) => "id",
            Self::Username(_) => "username",
        }
    }

    fn value(&self) -> JsValue {
        match self {
            Self::Id(id) => num(*id),
            Self::Username(name) => (*name).into(),
        }
    }

    fn id(&self) -> Option<i64> {
        match self {
            Self::Id(id) => Some(*id),
            Self::Username(_) => None,
        }
    }
}

/// How a rotation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rotation {
    /// This call blacklisted the old token and recorded the new one.
    Rotated,
    /// The old token was blacklisted already (before, or by a concurrent refresh).
    Blacklisted,
    /// The token's user does not exist or is inactive; nothing was blacklisted.
    NoActiveUser,
}

/// Users and tokens in D1.
pub struct Store {
    db: D1Database,
}

impl Store {
    pub fn new(db: D1Database) -> Self {
        Self { db }
    }

    fn stmt(&self, sql: &str, args: &[JsValue]) -> Result<D1PreparedStatement> {
        Ok(self.db.prepare(sql).bind(args)?)
    }

    /// Django's `get_by_natural_key`: an exact, case-sensitive username match.
    pub async fn user_by_username(&self, username: &str) -> Result<Option<User>> {
        self.user(&UserRef::Username(username)).await
    }

    pub async fn user(&self, user: &UserRef<'_>) -> Result<Option<User>> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users WHERE {} = ?1",
            user.column()
        );
        Ok(self.stmt(&sql, &[user.value()])?.first(None).await?)
    }

    pub async fn set_password(&self, user_id: i64, encoded: &str) -> Result<()> {
        self.stmt(
            "UPDATE users SET password = ?2 WHERE id = ?1",
            &[num(user_id), encoded.into()],
        )?
        .run()
        .await?;
        Ok(())
    }

    pub async fn set_last_login(&self, user_id: i64, now: i64) -> Result<()> {
        self.stmt(
            "UPDATE users SET last_login = ?2 WHERE id = ?1",
            &[num(user_id), num(now)],
        )?
        .run()
        .await?;
        Ok(())
    }

    fn outstand_stmt(
        &self,
        jti: &str,
        user_id: Option<i64>,
        now: i64,
        exp: i64,
    ) -> Result<D1PreparedStatement> {
        // The user may not exist (tokens from elsewhere): then the row has no user.
        self.stmt(
            "INSERT OR IGNORE INTO outstanding_tokens (jti, user_id, created_at, expires_at) \
             VALUES (?1, (SELECT id FROM users WHERE id = ?2), ?3, ?4)",
            &[
                jti.into(),
                user_id.map_or(JsValue::NULL, num),
                num(now),
                num(exp),
            ],
        )
    }

    /// Records an issued refresh or sliding token (simplejwt's `OutstandingToken`).
    pub async fn outstand(
        &self,
        jti: &str,
        user_id: Option<&str>,
        now: i64,
        exp: i64,
    ) -> Result<()> {
        self.outstand_stmt(jti, numeric_id(user_id), now, exp)?
            .run()
            .await?;
        Ok(())
    }

    pub async fn is_blacklisted(&self, jti: &str) -> Result<bool> {
        let row: Option<Value> = self.blacklisted_stmt(jti)?.first(None).await?;
        Ok(row.is_some())
    }

    fn blacklisted_stmt(&self, jti: &str) -> Result<D1PreparedStatement> {
        self.stmt(
            "SELECT 1 AS hit FROM blacklisted_tokens WHERE jti = ?1",
            &[jti.into()],
        )
    }

    fn blacklist_stmt(&self, jti: &str, now: i64, exp: i64) -> Result<D1PreparedStatement> {
        // One conditional statement: it inserts for exactly one caller per jti.
        self.stmt(
            "INSERT INTO blacklisted_tokens (jti, blacklisted_at, expires_at) VALUES (?1, ?2, ?3) \
             ON CONFLICT (jti) DO NOTHING RETURNING jti",
            &[jti.into(), num(now), num(exp)],
        )
    }

    /// Blacklists a token; `false` when it already was (someone else won).
    pub async fn blacklist(
        &self,
        jti: &str,
        user_id: Option<&str>,
        now: i64,
        exp: i64,
    ) -> Result<bool> {
        let results = self
            .db
            .batch(vec![
                self.outstand_stmt(jti, numeric_id(user_id), now, exp)?,
                self.blacklist_stmt(jti, now, exp)?,
            ])
            .await?;
        won(results.get(1))
    }

    /// Rotation in one D1 transaction (one round trip): blacklists `old` and records `new`
    /// as outstanding, only if this call is the one that blacklisted `old` and, when the
    /// token names a `user`, that user exists and is active.
    pub async fn rotate(
        &self,
        old: (&str, i64),
        new: (&str, i64),
        user: Option<&UserRef<'_>>,
        now: i64,
    ) -> Result<Rotation> {
        let outstanding_user = user.and_then(UserRef::id);
        let mut batch = Vec::with_capacity(5);
        if let Some(user) = user {
            batch.push(self.stmt(
                &format!("SELECT is_active FROM users WHERE {} = ?1", user.column()),
                &[user.value()],
            )?);
        }
        batch.push(self.blacklisted_stmt(old.0)?);
        batch.push(self.outstand_stmt(old.0, outstanding_user, now, old.1)?);
        batch.push(match user {
            // Only for an active user; ON CONFLICT makes exactly one caller per jti win.
            Some(user) => self.stmt(
                &format!(
                    "INSERT INTO blacklisted_tokens (jti, blacklisted_at, expires_at) \
                     SELECT ?1, ?2, ?3 WHERE EXISTS \
                     (SELECT 1 FROM users WHERE {} = ?4 AND is_active <> 0) \
                     ON CONFLICT (jti) DO NOTHING RETURNING jti",
                    user.column()
                ),
                &[old.0.into(), num(now), num(old.1), user.value()],
            )?,
            None => self.blacklist_stmt(old.0, now, old.1)?,
        });
        // `changes()` is the row count of the blacklist insert just before, in this
        // transaction: the new token is recorded only by the winner.
        batch.push(self.stmt(
            "INSERT INTO outstanding_tokens (jti, user_id, created_at, expires_at) \
             SELECT ?1, (SELECT id FROM users WHERE id = ?2), ?3, ?4 WHERE changes() = 1",
            &[
                new.0.into(),
                outstanding_user.map_or(JsValue::NULL, num),
                num(now),
                num(new.1),
            ],
        )?);
        let results = self.db.batch(batch).await?;
        let row = |i: usize| -> Result<bool> { won(results.get(i)) };
        let offset = usize::from(user.is_some());
        let active = if user.is_some() {
            let first = results.first().map(|r| r.results::<Value>()).transpose()?;
            first
                .and_then(|rows| rows.into_iter().next())
                .and_then(|row| row.get("is_active").and_then(Value::as_i64))
                .is_some_and(|a| a != 0)
        } else {
            true
        };
        // simplejwt's order: the blacklist, then the user.
        Ok(if row(offset)? {
            Rotation::Blacklisted
        } else if !active {
            Rotation::NoActiveUser
        } else if row(offset + 2)? {
            Rotation::Rotated
        } else {
            Rotation::Blacklisted
        })
    }

    /// simplejwt's `flushexpiredtokens`: deletes outstanding (and, by cascade, blacklisted)
    /// tokens that have expired. Returns the number of outstanding rows deleted.
    pub async fn flush_expired(&self, now: i64) -> Result<usize> {
        let results = self
            .db
            .batch(vec![
                self.stmt(
                    "DELETE FROM blacklisted_tokens WHERE expires_at < ?1",
                    &[num(now)],
                )?,
                self.stmt(
                    "DELETE FROM outstanding_tokens WHERE expires_at < ?1",
                    &[num(now)],
                )?,
            ])
            .await?;
        Ok(results
            .get(1)
            .and_then(|r| r.meta().ok().flatten())
            .and_then(|m| m.changes)
            .unwrap_or(0))
    }
}

fn won(result: Option<&worker::D1Result>) -> Result<bool> {
    let result =
        result.ok_or_else(|| ApiError::Internal("D1 batch returned too few results".into()))?;
    Ok(!result.results::<Value>()?.is_empty())
}

/// Revoked token ids in KV, for every Worker that verifies edgejwt tokens.
pub struct Revocations {
    kv: KvStore,
}

/// KV key prefix of a revoked `jti`.
pub const REVOKED_PREFIX: &str = "revoked:";

impl Revocations {
    pub fn new(kv: KvStore) -> Self {
        Self { kv }
    }

    /// Marks `jti` revoked until `exp`. KV takes expirations at least 60 s ahead and no
    /// later than 2^31 - 1 (2038); D1's blacklist covers tokens that outlive that.
    /// [`Revocations::revoke`] in the request's `waitUntil`: failures are logged.
    pub fn revoke_after_response(&self, ctx: &worker::Context, jti: &str, exp: i64, now: i64) {
        let (this, jti) = (
            Self {
                kv: self.kv.clone(),
            },
            jti.to_owned(),
        );
        ctx.wait_until(async move {
            if let Err(e) = this.revoke(&jti, exp, now).await {
                worker::console_error!("edgejwt: revocation of a rotated token not written: {e:?}");
            }
        });
    }

    pub async fn revoke(&self, jti: &str, exp: i64, now: i64) -> Result<()> {
        let expiration = exp.max(now + 60).min(i64::from(i32::MAX));
        let expiration = u64::try_from(expiration).unwrap_or_default();
        self.kv
            .put(&format!("{REVOKED_PREFIX}{jti}"), "1")?
            .expiration(expiration)
            .execute()
            .await?;
        Ok(())
    }
}
