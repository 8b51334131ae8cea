//! Storage behind two small services that carry out what edgejwt-core asks: [`Store`]
//! (users and simplejwt's outstanding and blacklisted tokens, in D1) and [`Revocations`]
//! (a KV key per revoked token or session id, readable by other Workers). No token rule
//! lives here: which rows to read and write, and what the answers mean, come from the
//! core's plans ([`Lookups`], [`Outstanding`], [`Revocation`]).

use edgejwt_core::{
    serializers::Rotated, Account, Found, Lookups, Outstanding, Revocation, UserKey,
};
use serde::Deserialize;
use serde_json::{Map, Value};
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement, D1Result, KvStore};

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

impl edgejwt_core::User for User {
    fn id(&self) -> i64 {
        self.id
    }

    fn username(&self) -> &str {
        &self.username
    }

    fn is_active(&self) -> bool {
        self.is_active != 0
    }

    /// The columns a `TOKEN_CLAIMS` name can copy, then the keys of the `claims` JSON.
    fn claim(&self, name: &str) -> Option<Value> {
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

fn num(n: i64) -> JsValue {
    // D1 takes JS numbers; every value here (ids, Unix seconds) is far below 2^53.
    JsValue::from_f64(n as f64)
}

/// `column = ?n` for the user a [`UserKey`] names, and its value.
fn user_match(user: &UserKey) -> (&'static str, JsValue) {
    match user {
        UserKey::Id(id) => ("id", num(*id)),
        UserKey::Username(name) => ("username", name.as_str().into()),
    }
}

/// The `users.id` an outstanding row points at: a subquery, so a user that does not exist
/// (tokens minted elsewhere) leaves it NULL.
fn user_id_subquery(user: Option<&UserKey>, param: usize) -> (String, JsValue) {
    match user {
        Some(user) => {
            let (column, value) = user_match(user);
            (
                format!("(SELECT id FROM users WHERE {column} = ?{param})"),
                value,
            )
        }
        None => (format!("?{param}"), JsValue::NULL),
    }
}

/// A user row's `id`, `username` and `is_active`.
#[derive(Deserialize)]
struct AccountRow {
    id: i64,
    username: String,
    is_active: i64,
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
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE username = ?1");
        Ok(self.stmt(&sql, &[username.into()])?.first(None).await?)
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

    fn account_stmt(&self, user: &UserKey) -> Result<D1PreparedStatement> {
        let (column, value) = user_match(user);
        self.stmt(
            &format!("SELECT id, username, is_active FROM users WHERE {column} = ?1"),
            &[value],
        )
    }

    fn blacklisted_stmt(&self, jti: &str) -> Result<D1PreparedStatement> {
        self.stmt(
            "SELECT 1 AS hit FROM blacklisted_tokens WHERE jti = ?1",
            &[jti.into()],
        )
    }

    /// Answers the core's [`Lookups`] in one round trip.
    pub async fn look_up(&self, lookups: &Lookups<'_>) -> Result<Found> {
        let mut batch = Vec::with_capacity(2);
        if let Some(jti) = lookups.blacklisted {
            batch.push(self.blacklisted_stmt(jti)?);
        }
        if let Some(user) = lookups.user {
            batch.push(self.account_stmt(user)?);
        }
        let results = match batch.len() {
            0 => Vec::new(),
            _ => self.db.batch(batch).await?,
        };
        let mut results = results.iter();
        let blacklisted = match lookups.blacklisted {
            Some(_) => has_rows(results.next())?,
            None => false,
        };
        let user = match lookups.user {
            Some(_) => account(results.next())?,
            None => None,
        };
        Ok(Found { blacklisted, user })
    }

    fn outstand_stmt(&self, token: &Outstanding) -> Result<D1PreparedStatement> {
        let (user, user_value) = user_id_subquery(token.user.as_ref(), 2);
        self.stmt(
            &format!(
                "INSERT OR IGNORE INTO outstanding_tokens (jti, user_id, created_at, expires_at) \
                 VALUES (?1, {user}, ?3, ?4)"
            ),
            &[
                token.jti.as_str().into(),
                user_value,
                num(token.created_at),
                num(token.expires_at),
            ],
        )
    }

    /// Records an issued refresh or sliding token (simplejwt's `OutstandingToken`).
    pub async fn outstand(&self, token: &Outstanding) -> Result<()> {
        self.outstand_stmt(token)?.run().await?;
        Ok(())
    }

    /// One conditional statement: it inserts for exactly one caller per jti. `condition`
    /// (SQL, with its parameter as ?4) guards the insert.
    fn blacklist_stmt(
        &self,
        token: &Outstanding,
        now: i64,
        condition: Option<(&str, JsValue)>,
    ) -> Result<D1PreparedStatement> {
        let (condition, value) = condition.unwrap_or(("?4 IS NULL", JsValue::NULL));
        self.stmt(
            &format!(
                "INSERT INTO blacklisted_tokens (jti, blacklisted_at, expires_at) \
                 SELECT ?1, ?2, ?3 WHERE {condition} \
                 ON CONFLICT (jti) DO NOTHING RETURNING jti"
            ),
            &[
                token.jti.as_str().into(),
                num(now),
                num(token.expires_at),
                value,
            ],
        )
    }

    /// Blacklists a token (recording it as outstanding if it is not); `false` when it was
    /// blacklisted already (before, or by a concurrent call).
    pub async fn blacklist(&self, token: &Outstanding, now: i64) -> Result<bool> {
        let results = self
            .db
            .batch(vec![
                self.outstand_stmt(token)?,
                self.blacklist_stmt(token, now, None)?,
            ])
            .await?;
        has_rows(results.get(1))
    }

    /// The core's `RefreshStorage::Rotate`, in one D1 transaction (one round trip): reads
    /// the blacklist and the user, blacklists `old` and records `new`, the inserts guarded
    /// so that only one caller per `old` wins, and only for an allowed user.
    pub async fn rotate(
        &self,
        old: &Outstanding,
        new: &Outstanding,
        user: Option<&UserKey>,
        require_active: bool,
        now: i64,
    ) -> Result<Rotated> {
        let mut batch = Vec::with_capacity(5);
        batch.push(self.blacklisted_stmt(&old.jti)?);
        if let Some(user) = user {
            batch.push(self.account_stmt(user)?);
        }
        batch.push(self.outstand_stmt(old)?);
        let guard = user.map(|user| {
            let (column, value) = user_match(user);
            let active = if require_active {
                " AND is_active <> 0"
            } else {
                ""
            };
            (
                format!("EXISTS (SELECT 1 FROM users WHERE {column} = ?4{active})"),
                value,
            )
        });
        batch.push(self.blacklist_stmt(
            old,
            now,
            guard.as_ref().map(|(sql, v)| (sql.as_str(), v.clone())),
        )?);
        // `changes()` is the row count of the blacklist insert just before, in this
        // transaction: the new token is recorded only by the winner.
        let (new_user, new_user_value) = user_id_subquery(new.user.as_ref(), 2);
        batch.push(self.stmt(
            &format!(
                "INSERT INTO outstanding_tokens (jti, user_id, created_at, expires_at) \
                 SELECT ?1, {new_user}, ?3, ?4 WHERE changes() = 1"
            ),
            &[
                new.jti.as_str().into(),
                new_user_value,
                num(new.created_at),
                num(new.expires_at),
            ],
        )?);
        let results = self.db.batch(batch).await?;
        let mut results = results.iter();
        let blacklisted = has_rows(results.next())?;
        let user = match user {
            Some(_) => account(results.next())?,
            None => None,
        };
        let won = has_rows(results.nth(1))?;
        Ok(Rotated {
            found: Found { blacklisted, user },
            won,
        })
    }

    /// simplejwt's `flushexpiredtokens`: deletes outstanding (and, by cascade, blacklisted)
    /// tokens that expired before `before`. Returns the number of outstanding rows deleted.
    pub async fn flush_expired(&self, before: i64) -> Result<usize> {
        let results = self
            .db
            .batch(vec![
                self.stmt(
                    "DELETE FROM blacklisted_tokens WHERE expires_at < ?1",
                    &[num(before)],
                )?,
                self.stmt(
                    "DELETE FROM outstanding_tokens WHERE expires_at < ?1",
                    &[num(before)],
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

fn batch_result(result: Option<&D1Result>) -> Result<&D1Result> {
    result.ok_or_else(|| ApiError::Internal("D1 batch returned too few results".into()))
}

fn has_rows(result: Option<&D1Result>) -> Result<bool> {
    Ok(!batch_result(result)?.results::<Value>()?.is_empty())
}

fn account(result: Option<&D1Result>) -> Result<Option<Account>> {
    let rows = batch_result(result)?.results::<AccountRow>()?;
    Ok(rows.into_iter().next().map(|row| Account {
        id: row.id,
        username: row.username,
        is_active: row.is_active != 0,
    }))
}

/// KV accepts expirations at least 60 s ahead; this margin keeps a write made near that
/// edge (inside `waitUntil`, after a slow D1 call) from being refused.
const KV_MIN_TTL: i64 = 60 + 30;

/// Revoked token and session ids in KV, for every Worker that verifies edgejwt tokens.
#[derive(Clone)]
pub struct Revocations {
    kv: KvStore,
}

impl Revocations {
    pub fn new(kv: KvStore) -> Self {
        Self { kv }
    }

    /// Writes `revocations` (idempotent: the same key and value on every retry). KV takes
    /// expirations no later than 2^31 - 1 (2038); D1's blacklist covers what outlives it.
    pub async fn write(&self, revocations: &[Revocation], now: i64) -> Result<()> {
        for revocation in revocations {
            let expiration = revocation
                .until
                .max(now + KV_MIN_TTL)
                .min(i64::from(i32::MAX));
            self.kv
                .put(&revocation.key, "1")?
                .expiration(u64::try_from(expiration).unwrap_or_default())
                .execute()
                .await?;
        }
        Ok(())
    }

    /// [`Revocations::write`] in the request's `waitUntil`: failures are logged.
    pub fn write_after_response(
        &self,
        ctx: &worker::Context,
        revocations: Vec<Revocation>,
        now: i64,
    ) {
        let this = self.clone();
        ctx.wait_until(async move {
            if let Err(e) = this.write(&revocations, now).await {
                worker::console_error!("edgejwt: revocation not written: {e:?}");
            }
        });
    }
}
