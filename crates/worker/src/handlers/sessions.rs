//! The session API (Bearer access token, simplejwt's `JWTAuthentication`): list the user's
//! sessions, end one, end all. Ending a session blacklists its refresh tokens and revokes its
//! id in KV, so edge verifiers refuse its access tokens too.

use edgejwt_core::{session_id, Revocation, SessionEnd, Settings};
use serde_json::{json, Value};

use super::{protected::authenticated, App, Result};
use crate::{
    error::ApiError,
    storage::{Revocations, Sessions, Store, Unmirrored},
    view::{Input, Reply},
};

/// Unix seconds as DRF renders a `DateTimeField` in UTC: ISO 8601 with `Z`.
fn iso8601(secs: i64) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(secs as f64 * 1000.0));
    String::from(date.to_iso_string()).replace(".000Z", "Z")
}

/// `GET /api/sessions/`: the user's active sessions, newest first.
pub async fn list(app: &App, input: Input) -> Result<Value> {
    let auth = authenticated(app, &input).await?;
    let current = session_id(&auth.token, &app.config.settings);
    let user = auth.user;
    let rows = app.store.sessions(user.id, app.now).await?;
    Ok(rows
        .into_iter()
        .map(|s| {
            json!({
                "sid": s.sid,
                "created_at": iso8601(s.created_at),
                "last_used_at": iso8601(s.last_used_at),
                "expires_at": s.expires_at.map(iso8601),
                "user_agent": s.user_agent,
                "current": Some(s.sid.as_str()) == current,
            })
        })
        .collect())
}

/// Ends sessions in D1 (their tokens blacklisted) and revokes their ids in KV, and the ids
/// of the sessionless refresh tokens that ending all of a user's blacklisted. Returns how
/// many sessions this call ended.
pub async fn end(
    app: &App,
    input: &Input,
    which: Sessions<'_>,
    reason: SessionEnd,
) -> Result<usize> {
    let ended = app
        .store
        .end_sessions(which, reason, &input.client, app.now)
        .await?;
    mirror(app, &ended.unmirrored, &[]).await?;
    Ok(ended.count)
}

/// Writes `unmirrored`'s revocations to KV, with `also` (the core's own for a logout), then
/// clears their pending marks. A KV failure is the request's 500 and leaves the marks, so
/// the next end of the same sessions, or the Cron Trigger ([`mirror_pending`]), writes them.
pub async fn mirror(app: &App, unmirrored: &Unmirrored, also: &[Revocation]) -> Result<()> {
    let mut revoke = also.to_vec();
    for r in unmirrored.revocations(&app.config.settings) {
        if !revoke.iter().any(|a| a.key == r.key) {
            revoke.push(r);
        }
    }
    app.revocations.write(&revoke, app.now).await?;
    clear(&app.store, unmirrored).await;
    Ok(())
}

/// The Cron Trigger's part: the revocations a request ended in D1 but never wrote to KV
/// (KV failed, or the isolate went between the two), at most `limit` of each kind a run.
pub async fn mirror_pending(
    store: &Store,
    revocations: &Revocations,
    settings: &Settings,
    now: i64,
    limit: u32,
) -> Result<usize> {
    let pending = store.unmirrored(limit).await?;
    revocations
        .write(&pending.revocations(settings), now)
        .await?;
    clear(store, &pending).await;
    Ok(pending.sessions.len() + pending.sessionless.len())
}

/// KV holds them: a mark that fails to clear only costs the Cron one idempotent write.
async fn clear(store: &Store, done: &Unmirrored) {
    if done.is_empty() {
        return;
    }
    if let Err(e) = store.mirrored(done).await {
        crate::log::error!("edgejwt: revocations written, pending marks kept: {e:?}");
    }
}

/// `DELETE /api/sessions/<sid>/`: 204; another user's or an unknown session is 404.
pub async fn revoke(app: &App, input: Input) -> Result<Reply> {
    let auth = authenticated(app, &input).await?;
    let own = session_id(&auth.token, &app.config.settings).map(str::to_owned);
    let user = auth.user;
    let sid = input.sid.clone().unwrap_or_default();
    match end(
        app,
        &input,
        Sessions::One(&sid, Some(user.id)),
        SessionEnd::Revoked,
    )
    .await?
    {
        0 => Err(ApiError::NotFound),
        // Ending the caller's own session ends its refresh cookie too.
        _ => Ok(Reply::no_content().with_cookies(
            app.clear_refresh_cookie()
                .filter(|_| own.as_deref() == Some(sid.as_str())),
        )),
    }
}

/// `POST /api/sessions/revoke-all/`: logout everywhere, this session included.
pub async fn revoke_all(app: &App, input: Input) -> Result<Reply> {
    let user = authenticated(app, &input).await?.user;
    let n = end(
        app,
        &input,
        Sessions::AllOf(user.id, None),
        SessionEnd::LogoutAll,
    )
    .await?;
    Ok(Reply::from(json!({ "revoked": n })).with_cookies(app.clear_refresh_cookie()))
}
