//! Storage behind two small services that carry out what edgejwt-core asks: [`Store`]
//! (users and simplejwt's outstanding and blacklisted tokens, in D1) and [`Revocations`]
//! (a KV key per revoked token or session id, readable by other Workers). No token rule
//! lives here: which rows to read and write, and what the answers mean, come from the
//! core's plans ([`Lookups`], [`Outstanding`], [`Revocation`]).

use edgejwt_core::{
    serializers::Rotated, store::EndSessions, Account, Child, Found, Lookups, NewSession,
    Outstanding, Revocation, SessionEnd, Settings, UserKey,
};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::rc::Rc;
use wasm_bindgen::JsValue;
use worker::{D1Database, D1DatabaseSession, D1PreparedStatement, D1Result, KvStore};

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

/// Who made a request: recorded with sessions and audit events.
#[derive(Debug, Clone, Default)]
pub struct Client {
    /// `CF-Connecting-IP`.
    pub ip: String,
    /// `User-Agent`, truncated.
    pub user_agent: String,
}

/// A row of `sessions`, as the session API shows it.
#[derive(Debug, Clone, Deserialize)]
pub struct SessionRow {
    pub sid: String,
    pub created_at: i64,
    pub last_used_at: i64,
    pub expires_at: Option<i64>,
    pub user_agent: String,
}

/// A child row of a rotation.
#[derive(Deserialize)]
struct ChildRow {
    jti: String,
    created_at: i64,
    expires_at: i64,
    blacklisted: i64,
}

/// What [`Store::end_sessions`] ended (`count`: the sessions this call ended) and the KV
/// revocations still owed for them and for any earlier end of the same scope whose KV write
/// never happened (`kv_pending`, migration 0006).
#[derive(Debug)]
pub struct Ended {
    pub count: usize,
    pub unmirrored: Unmirrored,
}

/// Ended sessions and blacklisted sessionless refresh tokens whose revocation KV may not
/// hold yet: written by [`Revocations::write`], then cleared by [`Store::mirrored`].
#[derive(Debug, Default)]
pub struct Unmirrored {
    pub sessions: Vec<EndedSession>,
    pub sessionless: Vec<SessionlessToken>,
}

/// A session's end, as its KV revocation is made from it.
#[derive(Debug, Deserialize)]
pub struct EndedSession {
    pub sid: String,
    pub revoked_at: i64,
}

/// A refresh token of no session that ending a user's sessions blacklisted.
#[derive(Debug, Deserialize)]
pub struct SessionlessToken {
    pub jti: String,
    pub expires_at: i64,
}

impl Unmirrored {
    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty() && self.sessionless.is_empty()
    }

    /// The core's revocations: a session's as of its end (the same on every retry), a
    /// token's as long as it verifies.
    pub fn revocations(&self, settings: &Settings) -> Vec<Revocation> {
        let sessions = self.sessions.iter();
        let tokens = self.sessionless.iter();
        sessions
            .map(|s| Revocation::session(&s.sid, s.revoked_at, settings))
            .chain(tokens.map(|t| Revocation::new(&t.jti, t.expires_at, settings)))
            .collect()
    }
}

/// Which sessions to end.
#[derive(Debug, Clone, Copy)]
pub enum Sessions<'a> {
    /// One session, if it is the user's (`None`: any user's).
    One(&'a str, Option<i64>),
    /// Every active session of the user, but `except` (the current one), and the user's
    /// refresh tokens of no session (imported from Django, or minted with `SESSION_CLAIM`
    /// off): logout everywhere and a password change must not leave those working.
    AllOf(i64, Option<&'a str>),
}

/// The header a request's D1 bookmark comes in and an answer's goes out in
/// (`D1_READ_REPLICAS`).
pub const BOOKMARK_HEADER: &str = "X-D1-Bookmark";

/// D1's read replicas, through its Sessions API (`D1_READ_REPLICAS`): one request's two
/// sessions. Writes, and the reads of views that write, go to a session on the primary; the
/// lookups of read-only views (verify, protected, the non-rotating refresh, the session list)
/// to a session at the request's bookmark, else at any replica, which may lag the primary.
pub struct Replication {
    primary: D1DatabaseSession,
    reads: D1DatabaseSession,
}

impl Replication {
    /// A bookmark not of D1's shape (`00000000-00000001-00000000-` and 32 hex digits), or one
    /// D1 refuses, is dropped: the reads start at any replica, as without one.
    pub fn new(db: &D1Database, bookmark: Option<&str>) -> Result<Self> {
        let bookmark = bookmark.filter(|b| {
            let groups: Vec<&str> = b.split('-').collect();
            groups.iter().map(|g| g.len()).eq([8, 8, 8, 32])
                && groups
                    .iter()
                    .all(|g| g.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')))
        });
        let any = || db.with_session(Some("first-unconstrained"));
        let reads = match bookmark {
            Some(b) => db.with_session(Some(b)).or_else(|_| any())?,
            None => any()?,
        };
        Ok(Self {
            primary: db.with_session(Some("first-primary"))?,
            reads,
        })
    }

    /// The answer's bookmark: the primary's if the request used it (its writes), else its reads'.
    pub fn bookmark(&self) -> Option<String> {
        let of = |s: &D1DatabaseSession| s.get_bookmark().ok().flatten();
        of(&self.primary).or_else(|| of(&self.reads))
    }
}

/// Users and tokens in D1.
pub struct Store {
    db: D1Database,
    replication: Option<Rc<Replication>>,
    /// Lookups may be served by a replica (a read-only view).
    replica_reads: bool,
}

impl Store {
    /// `replication`: through D1's sessions (`D1_READ_REPLICAS`), else on the database as is.
    pub fn new(db: D1Database, replication: Option<Rc<Replication>>, replica_reads: bool) -> Self {
        Self {
            db,
            replication,
            replica_reads,
        }
    }

    fn stmt(&self, sql: &str, args: &[JsValue]) -> Result<D1PreparedStatement> {
        let stmt = match &self.replication {
            Some(r) => r.primary.prepare(sql),
            None => self.db.prepare(sql),
        };
        Ok(stmt.bind(args)?)
    }

    /// A statement a replica may answer: a lookup (`lookup`: not part of a write's batch)
    /// of a read-only view.
    fn lookup_stmt(
        &self,
        lookup: bool,
        sql: &str,
        args: &[JsValue],
    ) -> Result<D1PreparedStatement> {
        match &self.replication {
            Some(r) if lookup && self.replica_reads => Ok(r.reads.prepare(sql).bind(args)?),
            _ => self.stmt(sql, args),
        }
    }

    async fn batch(&self, statements: Vec<D1PreparedStatement>) -> Result<Vec<D1Result>> {
        Ok(match &self.replication {
            Some(r) => r.primary.batch(statements).await?,
            None => self.db.batch(statements).await?,
        })
    }

    async fn read_batch(&self, statements: Vec<D1PreparedStatement>) -> Result<Vec<D1Result>> {
        match &self.replication {
            Some(r) if self.replica_reads => Ok(r.reads.batch(statements).await?),
            _ => self.batch(statements).await,
        }
    }

    /// Django's `get_by_natural_key`: an exact, case-sensitive username match.
    pub async fn user_by_username(&self, username: &str) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE username = ?1");
        Ok(self.stmt(&sql, &[username.into()])?.first(None).await?)
    }

    pub async fn user_by_id(&self, id: i64) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1");
        Ok(self.stmt(&sql, &[num(id)])?.first(None).await?)
    }

    pub async fn set_password(&self, user_id: i64, encoded: &str) -> Result<()> {
        self.set_password_stmt(user_id, encoded)?.run().await?;
        Ok(())
    }

    fn set_password_stmt(&self, user_id: i64, encoded: &str) -> Result<D1PreparedStatement> {
        self.stmt(
            "UPDATE users SET password = ?2 WHERE id = ?1",
            &[num(user_id), encoded.into()],
        )
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

    fn account_stmt(&self, user: &UserKey, lookup: bool) -> Result<D1PreparedStatement> {
        let (column, value) = user_match(user);
        self.lookup_stmt(
            lookup,
            &format!("SELECT {USER_COLUMNS} FROM users WHERE {column} = ?1"),
            &[value],
        )
    }

    fn session_revoked_stmt(&self, sid: &str, lookup: bool) -> Result<D1PreparedStatement> {
        self.lookup_stmt(
            lookup,
            "SELECT kv_pending FROM sessions WHERE sid = ?1 AND revoked_at IS NOT NULL",
            &[sid.into()],
        )
    }

    fn blacklisted_stmt(&self, jti: &str, lookup: bool) -> Result<D1PreparedStatement> {
        self.lookup_stmt(
            lookup,
            "SELECT 1 AS hit FROM blacklisted_tokens WHERE jti = ?1",
            &[jti.into()],
        )
    }

    /// Answers the core's [`Lookups`] in one round trip.
    pub async fn look_up(&self, lookups: &Lookups<'_>, settings: &Settings) -> Result<Found> {
        let mut batch = Vec::with_capacity(3);
        if let Some(jti) = lookups.blacklisted {
            batch.push(self.blacklisted_stmt(jti, true)?);
        }
        if let Some(user) = lookups.user {
            batch.push(self.account_stmt(user, true)?);
        }
        if let Some(sid) = lookups.session {
            batch.push(self.session_revoked_stmt(sid, true)?);
        }
        let results = match batch.len() {
            0 => Vec::new(),
            _ => self.read_batch(batch).await?,
        };
        let mut results = results.iter();
        let blacklisted = match lookups.blacklisted {
            Some(_) => has_rows(results.next())?,
            None => false,
        };
        let user = match lookups.user {
            Some(_) => account(results.next(), settings)?,
            None => None,
        };
        let (session_revoked, session_unmirrored) = match lookups.session {
            Some(_) => revoked_session(results.next())?,
            None => (false, false),
        };
        Ok(Found {
            blacklisted,
            user,
            session_revoked,
            session_unmirrored,
            child: None,
        })
    }

    fn outstand_stmt(&self, token: &Outstanding) -> Result<D1PreparedStatement> {
        let (user, user_value) = user_id_subquery(token.user.as_ref(), 2);
        self.stmt(
            &format!(
                "INSERT OR IGNORE INTO outstanding_tokens \
                 (jti, user_id, created_at, expires_at, sid, parent_jti) \
                 VALUES (?1, {user}, ?3, ?4, ?5, ?6)"
            ),
            &[
                token.jti.as_str().into(),
                user_value,
                num(token.created_at),
                num(token.expires_at),
                opt(token.sid.as_deref()),
                opt(token.parent.as_deref()),
            ],
        )
    }

    fn event_stmt(
        &self,
        event: &str,
        user: Option<i64>,
        sid: Option<&str>,
        client: &Client,
        now: i64,
    ) -> Result<D1PreparedStatement> {
        self.stmt(
            "INSERT INTO auth_events (at, user_id, sid, event, client_ip, user_agent) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            &[
                num(now),
                user.map_or(JsValue::NULL, num),
                opt(sid),
                event.into(),
                client.ip.as_str().into(),
                client.user_agent.as_str().into(),
            ],
        )
    }

    /// Records an audit event (`auth_events`) of no session: a failed login.
    pub async fn login_failed(&self, user: Option<i64>, client: &Client, now: i64) -> Result<()> {
        let event = self.event_stmt("login_failed", user, None, client, now)?;
        event.run().await?;
        Ok(())
    }

    /// A login: its session, its outstanding token and its audit event, in one round trip.
    pub async fn login(
        &self,
        session: Option<&NewSession>,
        token: &Outstanding,
        client: &Client,
        now: i64,
    ) -> Result<()> {
        let mut batch = Vec::with_capacity(3);
        if let Some(session) = session {
            batch.push(self.stmt(
                "INSERT INTO sessions (sid, user_id, created_at, last_used_at, expires_at, user_agent) \
                 VALUES (?1, ?2, ?3, ?3, ?4, ?5)",
                &[
                    session.sid.as_str().into(),
                    num(session.user),
                    num(session.created_at),
                    session.expires_at.map_or(JsValue::NULL, num),
                    client.user_agent.as_str().into(),
                ],
            )?);
        }
        batch.push(self.outstand_stmt(token)?);
        let user = session.map(|s| s.user);
        batch.push(self.event_stmt("login", user, token.sid.as_deref(), client, now)?);
        self.batch(batch).await?;
        Ok(())
    }

    /// Ends sessions: marks them revoked with `reason` and blacklists every outstanding
    /// token of them (with [`Sessions::AllOf`], the user's sessionless ones too), in one
    /// transaction that also marks their KV revocations pending. Returns how many this call
    /// ended and every revocation of the scope KV may still lack, this call's and those of
    /// an earlier end whose KV write failed: a retry finishes what the failed attempt did not.
    pub async fn end_sessions(
        &self,
        which: Sessions<'_>,
        reason: SessionEnd,
        client: &Client,
        now: i64,
    ) -> Result<Ended> {
        self.end_sessions_after(None, which, reason, client, now)
            .await
    }

    /// A password change: the new hash and the end of the user's other sessions in one
    /// transaction. Two round trips would leave, when the second failed, the password
    /// changed and the sessions alive, with no retry possible (the old password is gone).
    pub async fn change_password(
        &self,
        user: i64,
        encoded: &str,
        keep: Option<&str>,
        client: &Client,
        now: i64,
    ) -> Result<Ended> {
        let set = self.set_password_stmt(user, encoded)?;
        let which = Sessions::AllOf(user, keep);
        self.end_sessions_after(Some(set), which, SessionEnd::PasswordChange, client, now)
            .await
    }

    /// [`Store::end_sessions`], with `first` run first in its transaction.
    async fn end_sessions_after(
        &self,
        first: Option<D1PreparedStatement>,
        which: Sessions<'_>,
        reason: SessionEnd,
        client: &Client,
        now: i64,
    ) -> Result<Ended> {
        let (filter, args, sessionless): (&str, Vec<JsValue>, _) = match which {
            Sessions::One(sid, user) => (
                EndSessions::ONE,
                vec![sid.into(), user.map_or(JsValue::NULL, num)],
                None,
            ),
            Sessions::AllOf(user, except) => (
                EndSessions::ALL_OF_USER,
                vec![num(user), opt(except)],
                Some(user),
            ),
        };
        let pending = match which {
            Sessions::One(sid, user) => self.stmt(
                "SELECT sid, revoked_at FROM sessions \
                 WHERE sid = ?1 AND (?2 IS NULL OR user_id = ?2) AND kv_pending = 1",
                &[sid.into(), user.map_or(JsValue::NULL, num)],
            )?,
            Sessions::AllOf(user, _) => self.stmt(
                "SELECT sid, revoked_at FROM sessions INDEXED BY sessions_kv_pending \
                 WHERE kv_pending = 1 AND user_id = ?1",
                &[num(user)],
            )?,
        };
        let mut bound = vec![num(now), reason.as_str().into()];
        bound.extend(args);
        // One transaction (edgejwt-core's `EndSessions`, which the CLI runs too), then the
        // revocations KV still lacks of what it ended.
        let mut event_args = bound.clone();
        event_args.extend([client.ip.as_str().into(), client.user_agent.as_str().into()]);
        let end = EndSessions::new(filter);
        let mut statements: Vec<_> = first.into_iter().collect();
        let at = statements.len();
        statements.extend([
            self.stmt(&end.blacklist, &bound)?,
            self.stmt(&end.events, &event_args)?,
            self.stmt(&end.end, &bound)?,
            pending,
        ]);
        if let Some(user) = sessionless {
            statements.push(self.stmt(EndSessions::BLACKLIST_SESSIONLESS, &[num(now), num(user)])?);
            statements.push(self.stmt(
                "SELECT o.jti, o.expires_at FROM outstanding_tokens o INDEXED BY outstanding_tokens_sessionless \
                 JOIN blacklisted_tokens b ON b.jti = o.jti \
                 WHERE o.user_id = ?2 AND o.sid IS NULL AND o.expires_at >= ?1 AND b.kv_pending = 1",
                &[num(now), num(user)],
            )?);
        }
        let results = self.batch(statements).await?;
        let ended: Vec<Value> = batch_result(results.get(at + 2))?.results()?;
        let sessionless = match sessionless {
            Some(_) => batch_result(results.get(at + 5))?.results()?,
            None => Vec::new(),
        };
        Ok(Ended {
            count: ended.len(),
            unmirrored: Unmirrored {
                sessions: batch_result(results.get(at + 3))?.results()?,
                sessionless,
            },
        })
    }

    /// Every revocation KV may still lack (at most `limit` of each kind), for the Cron
    /// Trigger: by the partial indexes of pending rows, empty unless a KV write failed.
    pub async fn unmirrored(&self, limit: u32) -> Result<Unmirrored> {
        let limit = num(i64::from(limit));
        let results = self
            .batch(vec![
                self.stmt(
                    "SELECT sid, revoked_at FROM sessions INDEXED BY sessions_kv_pending \
                     WHERE kv_pending = 1 LIMIT ?1",
                    std::slice::from_ref(&limit),
                )?,
                self.stmt(
                    "SELECT jti, expires_at FROM blacklisted_tokens INDEXED BY blacklisted_tokens_kv_pending \
                     WHERE kv_pending = 1 LIMIT ?1",
                    &[limit],
                )?,
            ])
            .await?;
        Ok(Unmirrored {
            sessions: batch_result(results.first())?.results()?,
            sessionless: batch_result(results.get(1))?.results()?,
        })
    }

    /// KV holds `done`'s revocations now: their pending marks go, in one round trip.
    pub async fn mirrored(&self, done: &Unmirrored) -> Result<()> {
        let ids = |ids: Vec<&str>| JsValue::from(serde_json::to_string(&ids).unwrap_or_default());
        let mut batch = Vec::with_capacity(2);
        if !done.sessions.is_empty() {
            batch.push(self.stmt(
                "UPDATE sessions SET kv_pending = NULL \
                 WHERE sid IN (SELECT value FROM json_each(?1)) AND kv_pending = 1",
                &[ids(done.sessions.iter().map(|s| s.sid.as_str()).collect())],
            )?);
        }
        if !done.sessionless.is_empty() {
            batch.push(self.stmt(
                "UPDATE blacklisted_tokens SET kv_pending = NULL \
                 WHERE jti IN (SELECT value FROM json_each(?1)) AND kv_pending = 1",
                &[ids(
                    done.sessionless.iter().map(|t| t.jti.as_str()).collect(),
                )],
            )?);
        }
        if !batch.is_empty() {
            self.batch(batch).await?;
        }
        Ok(())
    }

    /// The user's active sessions, newest first: not revoked, with a refresh token alive.
    pub async fn sessions(&self, user: i64, now: i64) -> Result<Vec<SessionRow>> {
        Ok(self
            .lookup_stmt(
                true,
                "SELECT s.sid, s.created_at, s.last_used_at, s.user_agent, \
                 (SELECT MAX(o.expires_at) FROM outstanding_tokens o WHERE o.sid = s.sid) AS expires_at \
                 FROM sessions s WHERE s.user_id = ?1 AND s.revoked_at IS NULL \
                 AND EXISTS (SELECT 1 FROM outstanding_tokens o WHERE o.sid = s.sid AND o.expires_at > ?2 \
                   AND NOT EXISTS (SELECT 1 FROM blacklisted_tokens b WHERE b.jti = o.jti)) \
                 ORDER BY s.created_at DESC, s.rowid DESC",
                &[num(user), num(now)],
            )?
            .all()
            .await?
            .results()?)
    }

    /// Records an issued refresh or sliding token (simplejwt's `OutstandingToken`).
    pub async fn outstand(&self, token: &Outstanding) -> Result<()> {
        self.outstand_stmt(token)?.run().await?;
        Ok(())
    }

    /// One conditional statement: it inserts for exactly one caller per jti, only while
    /// `guard` holds (SQL with its parameter as ?4; `None`: always) and the session `sid`
    /// (if any) is not revoked.
    fn blacklist_stmt(
        &self,
        token: &Outstanding,
        now: i64,
        guard: Option<(String, JsValue)>,
        sid: Option<&str>,
    ) -> Result<D1PreparedStatement> {
        let (guard, value) = guard.unwrap_or(("?4 IS NULL".to_owned(), JsValue::NULL));
        self.stmt(
            &format!(
                "INSERT INTO blacklisted_tokens (jti, blacklisted_at, expires_at) \
                 SELECT ?1, ?2, ?3 WHERE {guard} \
                 AND NOT EXISTS (SELECT 1 FROM sessions WHERE sid = ?5 AND revoked_at IS NOT NULL) \
                 ON CONFLICT (jti) DO NOTHING RETURNING jti"
            ),
            &[
                token.jti.as_str().into(),
                num(now),
                num(token.expires_at),
                value,
                opt(sid),
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
                self.blacklist_stmt(token, now, None, None)?,
            ])
            .await?;
        has_rows(results.get(1))
    }

    /// The core's `RefreshStorage::Rotate`, in one D1 transaction (one round trip): reads
    /// the blacklist, the user and the session, blacklists `old` and records `new` (its
    /// `exp` capped at the session's end), the inserts guarded so that only one caller per
    /// `old` wins, only for an allowed user and a live session; then reads `old`'s child
    /// as recorded (this call's, or a concurrent or earlier winner's).
    #[allow(clippy::too_many_arguments, reason = "the core's Rotate, spelled out")]
    pub async fn rotate(
        &self,
        old: &Outstanding,
        new: &Outstanding,
        user: Option<&UserKey>,
        require_active: bool,
        client: &Client,
        settings: &Settings,
        now: i64,
    ) -> Result<Rotated> {
        let mut batch = Vec::with_capacity(9);
        batch.push(self.blacklisted_stmt(&old.jti, false)?);
        if let Some(user) = user {
            batch.push(self.account_stmt(user, false)?);
        }
        let sid = new.sid.as_deref();
        if let Some(sid) = sid {
            batch.push(self.session_revoked_stmt(sid, false)?);
        }
        batch.push(self.outstand_stmt(old)?);
        let active = if require_active {
            " AND is_active <> 0"
        } else {
            ""
        };
        let guard = user.map(|user| {
            let (column, value) = user_match(user);
            let sql = format!("EXISTS (SELECT 1 FROM users WHERE {column} = ?4{active})");
            (sql, value)
        });
        // Only for an allowed user; a revoked session rotates no more.
        batch.push(self.blacklist_stmt(old, now, guard, sid)?);
        // `changes()` is the row count of the statement just before, in this transaction:
        // the new token is recorded only by the winner, its `exp` capped by the session.
        let (new_user, new_user_value) = user_id_subquery(new.user.as_ref(), 2);
        batch.push(self.stmt(
            &format!(
                "INSERT INTO outstanding_tokens (jti, user_id, created_at, expires_at, sid, parent_jti) \
                 SELECT ?1, {new_user}, ?3, \
                 MIN(?4, COALESCE((SELECT expires_at FROM sessions WHERE sid = ?5), ?4)), ?5, ?6 \
                 WHERE changes() = 1"
            ),
            &[
                new.jti.as_str().into(),
                new_user_value,
                num(new.created_at),
                num(new.expires_at),
                opt(sid),
                old.jti.as_str().into(),
            ],
        )?);
        batch.push(self.stmt(
            "UPDATE sessions SET last_used_at = ?2 WHERE sid = ?1 AND changes() = 1",
            &[opt(sid), num(now)],
        )?);
        batch.push(self.stmt(
            "INSERT INTO auth_events (at, user_id, sid, event, client_ip, user_agent) \
             SELECT ?1, (SELECT user_id FROM outstanding_tokens WHERE jti = ?2), ?3, 'refresh', ?4, ?5 \
             WHERE EXISTS (SELECT 1 FROM outstanding_tokens WHERE jti = ?2)",
            &[
                num(now),
                new.jti.as_str().into(),
                opt(sid),
                client.ip.as_str().into(),
                client.user_agent.as_str().into(),
            ],
        )?);
        batch.push(self.stmt(
            "SELECT o.jti, o.created_at, o.expires_at, \
             EXISTS (SELECT 1 FROM blacklisted_tokens b WHERE b.jti = o.jti) AS blacklisted \
             FROM outstanding_tokens o WHERE o.parent_jti = ?1",
            &[old.jti.as_str().into()],
        )?);
        let results = self.batch(batch).await?;
        let mut results = results.iter();
        let blacklisted = has_rows(results.next())?;
        let user = match user {
            Some(_) => account(results.next(), settings)?,
            None => None,
        };
        let (session_revoked, session_unmirrored) = match sid {
            Some(_) => revoked_session(results.next())?,
            None => (false, false),
        };
        let won = has_rows(results.nth(1))?;
        let child = batch_result(results.nth(3))?
            .results::<ChildRow>()?
            .into_iter()
            .next()
            .map(|row| Child {
                jti: row.jti,
                created_at: row.created_at,
                expires_at: row.expires_at,
                blacklisted: row.blacklisted != 0,
            });
        Ok(Rotated {
            found: Found {
                blacklisted,
                user,
                session_revoked,
                session_unmirrored,
                child,
            },
            won,
        })
    }

    /// simplejwt's `flushexpiredtokens`: deletes outstanding (and, by cascade, blacklisted)
    /// tokens that expired before `before`, after recording a `session_expired` event for
    /// each session that has no usable token left and deleting the sessions whose last tokens
    /// go now (their history stays in the events); then the events older than
    /// `events_before` (`AUTH_EVENTS_RETENTION`). Returns the outstanding rows deleted.
    pub async fn flush_expired(
        &self,
        before: i64,
        now: i64,
        events_before: Option<i64>,
    ) -> Result<usize> {
        let mut batch = vec![
            // A session none of whose tokens can still be used has expired: audited once.
            self.stmt(
                "INSERT INTO auth_events (at, user_id, sid, event) \
                 SELECT ?2, s.user_id, s.sid, 'session_expired' FROM sessions s \
                 WHERE s.revoked_at IS NULL \
                 AND NOT EXISTS (SELECT 1 FROM outstanding_tokens o WHERE o.sid = s.sid AND o.expires_at >= ?1) \
                 AND NOT EXISTS (SELECT 1 FROM auth_events e WHERE e.sid = s.sid AND e.event = 'session_expired')",
                &[num(before), num(now)],
            )?,
            // Before its tokens go: a session is found by the tokens deleted below.
            self.stmt(
                "DELETE FROM sessions WHERE sid IN \
                 (SELECT sid FROM outstanding_tokens WHERE expires_at < ?1 AND sid IS NOT NULL) \
                 AND NOT EXISTS (SELECT 1 FROM outstanding_tokens o WHERE o.sid = sessions.sid AND o.expires_at >= ?1)",
                &[num(before)],
            )?,
            self.stmt(
                "DELETE FROM blacklisted_tokens WHERE expires_at < ?1",
                &[num(before)],
            )?,
            self.stmt(
                "DELETE FROM outstanding_tokens WHERE expires_at < ?1",
                &[num(before)],
            )?,
        ];
        let tokens_deleted = batch.len() - 1;
        if let Some(events_before) = events_before {
            batch.push(self.stmt(
                "DELETE FROM auth_events WHERE at < ?1",
                &[num(events_before)],
            )?);
        }
        let results = self.db.batch(batch).await?;
        Ok(results
            .get(tokens_deleted)
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

/// A `session_revoked_stmt` answer: whether the session is revoked, and whether its KV
/// revocation is still pending (`kv_pending`).
fn revoked_session(result: Option<&D1Result>) -> Result<(bool, bool)> {
    #[derive(Deserialize)]
    struct Row {
        kv_pending: Option<i64>,
    }
    let rows = batch_result(result)?.results::<Row>()?;
    Ok(rows
        .first()
        .map_or((false, false), |row| (true, row.kv_pending == Some(1))))
}

fn account(result: Option<&D1Result>, settings: &Settings) -> Result<Option<Account>> {
    let rows = batch_result(result)?.results::<User>()?;
    Ok(rows
        .into_iter()
        .next()
        .map(|user| Account::of(&user, settings)))
}

fn opt(value: Option<&str>) -> JsValue {
    value.map_or(JsValue::NULL, JsValue::from)
}

/// Revoked token and session ids in KV, for every Worker that verifies edgejwt tokens.
/// The binding is looked up when a write needs it: workers-rs reads five methods off it,
/// and most requests (verify, protected) write none.
#[derive(Clone)]
pub struct Revocations {
    env: worker::Env,
}

impl Revocations {
    pub fn new(env: worker::Env) -> Self {
        Self { env }
    }

    /// Writes `revocations` (idempotent: the same key and value on every retry), each
    /// expiring at [`Revocation::kv_expiration`].
    pub async fn write(&self, revocations: &[Revocation], now: i64) -> Result<()> {
        if revocations.is_empty() {
            return Ok(());
        }
        let kv: KvStore = self.env.kv("REVOCATIONS")?;
        for revocation in revocations {
            let expiration = revocation.kv_expiration(now);
            kv.put(&revocation.key, "1")?
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
                crate::log::error!("edgejwt: revocation not written: {e:?}");
            }
        });
    }
}
