//! `import-django`: the SQL (and KV writes) that bring a Django [`Export`] into the
//! issuer's D1, and the summary the operator reads. Users keep their ids, so tokens
//! Django issued keep naming the same user; statements are UPSERTs keyed by the id (and
//! by `jti` for tokens), so an import can be run again and updates what it wrote.

use std::collections::BTreeMap;

use edgejwt_core::{
    password::{StoredPassword, ALGORITHM, ALGORITHM_SHA1},
    Settings,
};

use crate::{
    django::{Export, UserRef},
    sql,
    users::token_revocations,
    wrangler::KvPut,
};

/// A user who cannot log in with their old password and must reset it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MustReset {
    /// `users.id`.
    pub id: i64,
    /// `users.username`.
    pub username: String,
    /// Why (the hasher, or what is wrong with the hash).
    pub reason: String,
}

/// What an import does.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Statements for `wrangler d1 execute --file`.
    pub sql: String,
    /// `revoked:<jti>` for blacklisted tokens that could still be presented.
    pub kv: Vec<KvPut>,
    /// Users per stored hasher (`pbkdf2_sha256`, `argon2`, `unusable`, …).
    pub hashers: BTreeMap<String, usize>,
    /// Users who log in with their Django password.
    pub can_log_in: usize,
    /// Users who must reset their password.
    pub must_reset: Vec<MustReset>,
    /// Users, outstanding tokens and blacklist entries written.
    pub counts: (usize, usize, usize),
}

/// The statements and KV writes for `export`, at `now`.
pub fn plan(export: &Export, settings: &Settings, now: i64) -> Plan {
    let mut plan = Plan::default();
    let mut sql = String::new();
    for user in &export.users {
        let (hasher, reset) = match StoredPassword::parse(&user.password) {
            StoredPassword::Pbkdf2 { digest, .. } => (digest.as_str().to_owned(), None),
            StoredPassword::Unusable => (
                "unusable".to_owned(),
                Some("unusable password (Django's set_unusable_password: `!…`)".to_owned()),
            ),
            StoredPassword::OtherHasher(h) => (
                h.to_owned(),
                Some(format!(
                    "{h} hash: the issuer verifies only {ALGORITHM} and {ALGORITHM_SHA1}"
                )),
            ),
            StoredPassword::Malformed(why) => (
                "malformed".to_owned(),
                Some(format!("malformed hash: {why}")),
            ),
        };
        match reset {
            None => plan.can_log_in += 1,
            Some(reason) => plan.must_reset.push(MustReset {
                id: user.id,
                username: user.username.clone(),
                reason,
            }),
        }
        *plan.hashers.entry(hasher).or_default() += 1;
        // The hash is kept verbatim, even one the issuer cannot verify: its login fails
        // like a wrong password, and `users passwd` replaces it.
        sql.push_str(&format!(
            "INSERT INTO users (id, username, password, email, first_name, last_name, is_active, is_staff, is_superuser, last_login, date_joined) \
             VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}) \
             ON CONFLICT (id) DO UPDATE SET username = excluded.username, password = excluded.password, \
             email = excluded.email, first_name = excluded.first_name, last_name = excluded.last_name, \
             is_active = excluded.is_active, is_staff = excluded.is_staff, is_superuser = excluded.is_superuser, \
             last_login = excluded.last_login, date_joined = excluded.date_joined;\n",
            user.id,
            sql::text(&user.username),
            sql::text(&user.password),
            sql::text(&user.email),
            sql::text(&user.first_name),
            sql::text(&user.last_name),
            sql::bool(user.is_active),
            sql::bool(user.is_staff),
            sql::bool(user.is_superuser),
            sql::opt_int(user.last_login),
            user.date_joined.unwrap_or(now),
        ));
    }
    for token in &export.tokens {
        // A subquery, as the issuer's own: a user not in D1 leaves user_id NULL (the
        // token still refreshes; simplejwt looks the user up by the claim).
        let user = match &token.user {
            Some(UserRef::Id(id)) => format!("(SELECT id FROM users WHERE id = {id})"),
            Some(UserRef::Username(name)) => {
                format!(
                    "(SELECT id FROM users WHERE username = {})",
                    sql::text(name)
                )
            }
            None => "NULL".to_owned(),
        };
        sql.push_str(&format!(
            "INSERT INTO outstanding_tokens (jti, user_id, created_at, expires_at) VALUES ({}, {user}, {}, {}) \
             ON CONFLICT (jti) DO UPDATE SET user_id = excluded.user_id, created_at = excluded.created_at, expires_at = excluded.expires_at;\n",
            sql::text(&token.jti),
            token.created_at.unwrap_or(now),
            token.expires_at,
        ));
    }
    let mut revoked = Vec::new();
    for entry in &export.blacklisted {
        let Some(token) = export.jti_of(entry.token) else {
            continue; // `Export::finish` reported it.
        };
        sql.push_str(&format!(
            "INSERT INTO blacklisted_tokens (jti, blacklisted_at, expires_at) VALUES ({}, {}, {}) \
             ON CONFLICT (jti) DO NOTHING;\n",
            sql::text(&token.jti),
            entry.blacklisted_at,
            token.expires_at,
        ));
        revoked.push((token.jti.clone(), token.expires_at));
    }
    plan.kv = token_revocations(&revoked, settings, now);
    plan.counts = (export.users.len(), export.tokens.len(), revoked.len());
    plan.sql = sql;
    plan
}
