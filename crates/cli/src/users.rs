//! `edgejwt users …`: the SQL (and KV writes) for creating, re-keying, deactivating and
//! activating users, and for ending their sessions the way the issuer does
//! (`storage.rs` `end_sessions`: the sessions marked revoked, their refresh tokens
//! blacklisted, an audit event each, `revoked:<sid>` in KV so verifiers refuse their
//! access tokens at once).

use edgejwt_core::{password, store::EndSessions, Revocation, SessionEnd, Settings};
use serde_json::Value;

use crate::{
    sql,
    wrangler::{KvPut, StatementResults},
    Error, Result,
};

/// A new user's fields (`users create`).
#[derive(Debug, Clone, Default)]
pub struct NewUser {
    /// `users.id`, or the next one.
    pub id: Option<i64>,
    /// `users.username`.
    pub username: String,
    /// `users.email`.
    pub email: String,
    /// `users.first_name`.
    pub first_name: String,
    /// `users.last_name`.
    pub last_name: String,
    /// `users.is_active`.
    pub is_active: bool,
    /// `users.is_staff`.
    pub is_staff: bool,
    /// `users.is_superuser`.
    pub is_superuser: bool,
    /// `users.claims`, a JSON object.
    pub claims: String,
}

/// Refuses what D1 would store wrongly or refuse with a less clear message.
pub fn check_username(username: &str) -> Result<()> {
    if username.is_empty() {
        return Err(Error::new("the username is empty"));
    }
    if username.contains('\0') {
        return Err(Error::new("the username contains a NUL character"));
    }
    if username.chars().count() > 150 {
        return Err(Error::new(
            "the username is longer than Django's 150 characters",
        ));
    }
    Ok(())
}

/// The claims JSON, checked to be an object (the column's CHECK constraint).
pub fn check_claims(claims: &str) -> Result<()> {
    match serde_json::from_str::<Value>(claims) {
        Ok(Value::Object(_)) => Ok(()),
        Ok(_) => Err(Error::new("--claims must be a JSON object")),
        Err(e) => Err(Error::new(format!("--claims is not JSON: {e}"))),
    }
}

/// A password hashed as the issuer hashes it: `pbkdf2_sha256` at `iterations`, a Django salt.
pub fn hash_password(plain: &str, iterations: u32) -> Result<String> {
    if plain.is_empty() {
        return Err(Error::new("the password is empty"));
    }
    let salt = password::salt_from_random(&rand::random::<[u8; 32]>());
    Ok(password::make_password(plain, &salt, iterations))
}

/// `INSERT` of a new user with its hash.
pub fn create_sql(user: &NewUser, encoded: &str, now: i64) -> String {
    format!(
        "INSERT INTO users (id, username, password, email, first_name, last_name, is_active, is_staff, is_superuser, date_joined, claims) \
         VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {now}, {}) RETURNING id;",
        sql::opt_int(user.id),
        sql::text(&user.username),
        sql::text(encoded),
        sql::text(&user.email),
        sql::text(&user.first_name),
        sql::text(&user.last_name),
        sql::bool(user.is_active),
        sql::bool(user.is_staff),
        sql::bool(user.is_superuser),
        sql::text(&user.claims),
    )
}

/// `UPDATE` of one user's password.
pub fn passwd_sql(username: &str, encoded: &str) -> String {
    format!(
        "UPDATE users SET password = {} WHERE username = {} RETURNING id;",
        sql::text(encoded),
        sql::text(username)
    )
}

/// `UPDATE` of one user's `is_active`.
pub fn set_active_sql(username: &str, active: bool) -> String {
    format!(
        "UPDATE users SET is_active = {} WHERE username = {} RETURNING id;",
        sql::bool(active),
        sql::text(username)
    )
}

/// The reason recorded for sessions the operator ends (`sessions.revoked_reason`, the
/// audit event): the issuer's own name for a session ended on purpose.
const REASON: SessionEnd = SessionEnd::Revoked;

/// Ends every active session of `username` at `now` with the issuer's own statements
/// (edgejwt-core's [`EndSessions`], values written in place of its parameters), and
/// blacklists the user's refresh tokens that belong to no session (imported from Django, or
/// minted with `SESSION_CLAIM` off). Four statements, whose results [`revocations`] reads:
/// the blacklisted token ids of the sessions, the audit events, the ended sessions' ids,
/// then the blacklisted sid-less token ids. What they end is marked `kv_pending`, as the
/// issuer marks it: if the KV write never happens, the issuer's every-minute Cron Trigger
/// makes it.
pub fn end_sessions_sql(username: &str, now: i64) -> String {
    let user = format!(
        "(SELECT id FROM users WHERE username = {})",
        sql::text(username)
    );
    let now = now.to_string();
    let reason = sql::text(REASON.as_str());
    let client = [sql::text(""), sql::text("edgejwt-cli")];
    // ?1 now, ?2 the reason, ?3 the user, ?4 no session excepted, ?5 and ?6 the audit's client.
    let values: [&str; 6] = [&now, &reason, &user, "NULL", &client[0], &client[1]];
    let end = EndSessions::new(EndSessions::ALL_OF_USER);
    let sessionless = sql::inline(EndSessions::BLACKLIST_SESSIONLESS, &[&now, &user]);
    [&end.blacklist, &end.events, &end.end]
        .map(|statement| sql::inline(statement, &values))
        .into_iter()
        .chain([sessionless])
        .map(|statement| statement + ";\n")
        .collect()
}

/// What [`end_sessions_sql`] ended, and the KV writes that make verifiers refuse it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ended {
    /// Session ids ended.
    pub sessions: Vec<String>,
    /// Refresh token ids blacklisted.
    pub tokens: Vec<String>,
    /// `revoked:<id>` writes, expiring when the issuer's would.
    pub kv: Vec<KvPut>,
}

/// Clears the `kv_pending` marks of what KV now holds (after [`end_sessions_sql`]'s writes),
/// as the issuer's `Store::mirrored`; `None` when nothing was ended.
pub fn mirrored_sql(ended: &Ended) -> Option<String> {
    let list = |ids: &[String]| {
        ids.iter()
            .map(|id| sql::text(id))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut out = String::new();
    if !ended.sessions.is_empty() {
        out.push_str(&format!(
            "UPDATE sessions SET kv_pending = NULL WHERE sid IN ({}) AND kv_pending = 1;\n",
            list(&ended.sessions)
        ));
    }
    if !ended.tokens.is_empty() {
        out.push_str(&format!(
            "UPDATE blacklisted_tokens SET kv_pending = NULL WHERE jti IN ({}) AND kv_pending = 1;\n",
            list(&ended.tokens)
        ));
    }
    (!out.is_empty()).then_some(out)
}

/// The issuer's write of a revocation (`storage.rs` `Revocations::write`), for wrangler.
fn kv_put(revocation: Revocation, now: i64) -> KvPut {
    KvPut {
        expiration: revocation.kv_expiration(now),
        key: revocation.key,
        value: "1".into(),
    }
}

/// Reads the results of [`end_sessions_sql`] (its statements starting at `first`).
pub fn revocations(
    results: &StatementResults,
    first: usize,
    settings: &Settings,
    now: i64,
) -> Ended {
    let rows = |i: usize| results.get(first + i).map(Vec::as_slice).unwrap_or(&[]);
    let mut ended = Ended::default();
    for row in rows(2) {
        if let Some(sid) = row.get("sid").and_then(Value::as_str) {
            ended
                .kv
                .push(kv_put(Revocation::session(sid, now, settings), now));
            ended.sessions.push(sid.to_owned());
        }
    }
    for row in rows(0).iter().chain(rows(3)) {
        let jti = row.get("jti").and_then(Value::as_str);
        let exp = row.get("expires_at").and_then(Value::as_i64);
        if let (Some(jti), Some(exp)) = (jti, exp) {
            ended
                .kv
                .push(kv_put(Revocation::new(jti, exp, settings), now));
            ended.tokens.push(jti.to_owned());
        }
    }
    ended
}

/// Blacklisted token ids to mirror in KV (an import), as the issuer does for every
/// blacklisted token that can still be presented.
pub fn token_revocations(tokens: &[(String, i64)], settings: &Settings, now: i64) -> Vec<KvPut> {
    tokens
        .iter()
        .map(|(jti, exp)| Revocation::new(jti, *exp, settings))
        // Presentable until `exp + LEEWAY`: the revocation's own `until`.
        .filter(|revocation| revocation.until >= now)
        .map(|revocation| kv_put(revocation, now))
        .collect()
}

/// `Some(id)` when the first statement's `RETURNING id` found the user.
pub fn found_user(results: &StatementResults) -> Option<i64> {
    results.first()?.first()?.get("id")?.as_i64()
}

#[cfg(test)]
mod tests {
    use super::*;
    use edgejwt_core::KV_MIN_TTL;
    use serde_json::json;

    #[test]
    fn sql_quotes_every_value() {
        let user = NewUser {
            username: "o'brien".into(),
            claims: "{}".into(),
            is_active: true,
            ..NewUser::default()
        };
        let sql = create_sql(&user, "pbkdf2_sha256$1$s$h", 5);
        assert!(sql.contains("'o''brien'"), "{sql}");
        assert!(sql.starts_with("INSERT INTO users"));
        let end = end_sessions_sql("o'brien", 7);
        assert!(end.contains("username = 'o''brien'"), "{end}");
        // Every parameter of the issuer's statements has its value.
        assert!(!end.contains('?'), "{end}");
        assert_eq!(end.matches(";\n").count(), 4, "{end}");
    }

    #[test]
    fn revocations_expire_as_the_issuers() {
        let settings = Settings::default();
        let now = 1_700_000_000;
        // end_sessions_sql's order: the sessions' tokens, the events, the sessions, sid-less tokens.
        let results = vec![
            vec![json!({"jti": "j1", "expires_at": now + 100})],
            vec![],
            vec![json!({"sid": "s1"})],
            vec![json!({"jti": "j2", "expires_at": now + 10})],
        ];
        let ended = revocations(&results, 0, &settings, now);
        assert_eq!(ended.sessions, ["s1"]);
        assert_eq!(ended.tokens, ["j1", "j2"]);
        let keys: Vec<_> = ended
            .kv
            .iter()
            .map(|p| (p.key.as_str(), p.expiration))
            .collect();
        assert_eq!(
            keys,
            [
                ("revoked:s1", settings.session_revoked_until(now)),
                ("revoked:j1", now + 100),
                ("revoked:j2", now + KV_MIN_TTL)
            ]
        );
    }

    #[test]
    fn refuses_bad_input() {
        assert!(check_username("").is_err());
        assert!(check_username("a\0b").is_err());
        assert!(check_claims("[1]").is_err());
        assert!(check_claims("{\"roles\": [\"admin\"]}").is_ok());
        assert!(hash_password("", 10_000).is_err());
        let hash = hash_password("pw", 10_000).unwrap();
        assert!(password::check_password("pw", &hash, 10_000).valid);
    }
}
