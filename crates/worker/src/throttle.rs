//! Login throttling: DRF's rates (edgejwt-core's [`throttle`]) counted in a Durable Object,
//! one per client address, so counts are exact across isolates and colos (KV is eventually
//! consistent: N concurrent guesses would all read the same old count).
//!
//! A login takes a slot before its password is hashed: the object, single-threaded, checks
//! both counters (the username's at this address, the address's) and records the attempt in
//! one step, so of N concurrent wrong guesses only the rate's allowance get to hash. A login
//! that succeeds gives its slot back; a failure keeps it, counted for the window.

// `#[durable_object]` generates the JS class's undocumented glue.
#![allow(missing_docs)]

use base64ct::Encoding;
use edgejwt_core::browser::{throttle, BrowserSettings, Rate, Throttled};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use worker::{
    durable_object, DurableObject, Env, Method, Request, RequestInit, Response, SqlStorage,
    SqlStorageValue, State,
};

use crate::error::ApiError;

/// The Durable Object binding (wrangler.toml).
pub const BINDING: &str = "LOGIN_THROTTLE";

#[derive(Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum Ask {
    /// Take a slot for `user` (a hash of the username) unless a rate is exceeded.
    Take {
        id: String,
        user: String,
        now_ms: i64,
        user_rate: Option<(u32, u64)>,
        ip_rate: Option<(u32, u64)>,
    },
    /// Give back a slot (the login succeeded).
    Release { id: String },
}

#[derive(Serialize, Deserialize)]
struct Answer {
    /// Seconds to wait, when throttled.
    wait: Option<u64>,
}

fn rate(r: Option<(u32, u64)>) -> Option<Rate> {
    r.map(|(num_requests, duration)| Rate {
        num_requests,
        duration,
    })
}

/// One client address's failed logins.
#[durable_object(fetch)]
#[derive(Debug)]
pub struct LoginThrottle {
    sql: SqlStorage,
}

impl LoginThrottle {
    fn times(&self, scope: &str, since: i64) -> worker::Result<Vec<i64>> {
        #[derive(Deserialize)]
        struct Row {
            at: i64,
        }
        let rows: Vec<Row> = self
            .sql
            .exec(
                "SELECT at FROM attempts WHERE scope = ? AND at > ?",
                vec![scope.into(), SqlStorageValue::Integer(since)],
            )?
            .to_array()?;
        Ok(rows.into_iter().map(|r| r.at).collect())
    }

    fn take(
        &self,
        id: &str,
        user: &str,
        now_ms: i64,
        user_rate: Option<Rate>,
        ip_rate: Option<Rate>,
    ) -> worker::Result<Answer> {
        let longest = [user_rate, ip_rate]
            .iter()
            .flatten()
            .map(Rate::window_ms)
            .max()
            .unwrap_or(0);
        // Attempts out of every window are forgotten (the table stays small).
        self.sql.exec(
            "DELETE FROM attempts WHERE at <= ?",
            vec![SqlStorageValue::Integer(now_ms.saturating_sub(longest))],
        )?;
        let user_scope = format!("user:{user}");
        let mut wait = None;
        for (scope, rate) in [(user_scope.as_str(), user_rate), ("ip", ip_rate)] {
            let Some(rate) = rate else { continue };
            let times = self.times(scope, now_ms.saturating_sub(rate.window_ms()))?;
            if let Err(Throttled { wait: w }) = throttle(&rate, &times, now_ms) {
                wait = wait.max(Some(w));
            }
        }
        if wait.is_none() {
            for scope in [user_scope.as_str(), "ip"] {
                self.sql.exec(
                    "INSERT INTO attempts (scope, at, id) VALUES (?, ?, ?)",
                    vec![scope.into(), SqlStorageValue::Integer(now_ms), id.into()],
                )?;
            }
        }
        Ok(Answer { wait })
    }
}

impl DurableObject for LoginThrottle {
    fn new(state: State, _env: Env) -> Self {
        let sql = state.storage().sql();
        // SQLite-backed object: statements run synchronously, one request at a time.
        let _ = sql.exec(
            "CREATE TABLE IF NOT EXISTS attempts (scope TEXT NOT NULL, at INTEGER NOT NULL, id TEXT NOT NULL)",
            None,
        );
        let _ = sql.exec(
            "CREATE INDEX IF NOT EXISTS attempts_scope_at ON attempts (scope, at)",
            None,
        );
        Self { sql }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let answer = match req.json::<Ask>().await? {
            Ask::Take {
                id,
                user,
                now_ms,
                user_rate,
                ip_rate,
            } => self.take(&id, &user, now_ms, rate(user_rate), rate(ip_rate))?,
            Ask::Release { id } => {
                self.sql.exec(
                    "DELETE FROM attempts WHERE id = ?",
                    vec![id.as_str().into()],
                )?;
                Answer { wait: None }
            }
        };
        Response::from_json(&answer)
    }
}

/// A slot taken for one login attempt.
pub struct Slot {
    stub: worker::Stub,
    id: String,
}

async fn ask(stub: &worker::Stub, ask: &Ask) -> Result<Answer, ApiError> {
    let unavailable = |e: worker::Error| ApiError::ThrottleUnavailable(e.to_string());
    let body = serde_json::to_string(ask).map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post).with_body(Some(body.into()));
    let req = Request::new_with_init("https://login-throttle/", &init).map_err(unavailable)?;
    let mut res = stub.fetch_with_request(req).await.map_err(unavailable)?;
    if res.status_code() != 200 {
        return Err(ApiError::ThrottleUnavailable(format!(
            "status {}",
            res.status_code()
        )));
    }
    res.json().await.map_err(unavailable)
}

/// Takes a slot for a login of `username` from `ip` (429 when a rate is exceeded), before
/// any password is hashed. `None` when login throttling is off.
pub async fn take(
    env: &Env,
    browser: &BrowserSettings,
    ip: &str,
    username: &str,
    now_ms: i64,
    id: String,
) -> Result<Option<Slot>, ApiError> {
    if !browser.throttles_logins() {
        return Ok(None);
    }
    let namespace = env.durable_object(BINDING).map_err(|e| {
        ApiError::Config(edgejwt_core::SettingsError::new(
            "LOGIN_THROTTLE_RATE",
            "",
            format!(
                "login throttling needs the {BINDING} Durable Object binding (wrangler.toml): {e}"
            ),
        ))
    })?;
    let address = if ip.is_empty() { "unknown" } else { ip };
    let stub = namespace
        .get_by_name(address)
        .map_err(|e| ApiError::ThrottleUnavailable(e.to_string()))?;
    // The username is kept only as a hash: the object holds no user data.
    let user = base64ct::Base64UrlUnpadded::encode_string(&Sha256::digest(username.as_bytes()));
    let pair = |r: &Option<Rate>| r.map(|r| (r.num_requests, r.duration));
    let answer = ask(
        &stub,
        &Ask::Take {
            id: id.clone(),
            user,
            now_ms,
            user_rate: pair(&browser.login_throttle_rate),
            ip_rate: pair(&browser.login_ip_throttle_rate),
        },
    )
    .await?;
    match answer.wait {
        Some(wait) => Err(ApiError::Throttled(Throttled { wait })),
        None => Ok(Some(Slot { stub, id })),
    }
}

impl Slot {
    /// Gives the slot back: the login succeeded, so it is not a failure to count.
    pub async fn release(self) -> Result<(), ApiError> {
        ask(&self.stub, &Ask::Release { id: self.id })
            .await
            .map(|_| ())
    }
}
