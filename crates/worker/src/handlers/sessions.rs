//! The session API (Bearer access token, simplejwt's `JWTAuthentication`): list the user's
//! sessions, end one, end all. Ending a session blacklists its refresh tokens and revokes its
//! id in KV, so edge verifiers refuse its access tokens too.

use edgejwt_core::{session_id, Revocation, SessionEnd};
use serde_json::{json, Value};

use super::{protected::authenticated, App, Result};
use crate::{
    error::ApiError,
    storage::Sessions,
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
/// of the sessionless refresh tokens that ending all of a user's blacklisted.
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
    let settings = &app.config.settings;
    let sessions = ended.sessions.iter();
    let tokens = ended.sessionless.iter();
    let revoke: Vec<_> = sessions
        .map(|sid| Revocation::session(sid, app.now, settings))
        .chain(tokens.map(|t| Revocation::new(&t.jti, t.expires_at, settings)))
        .collect();
    app.revocations.write(&revoke, app.now).await?;
    Ok(ended.sessions.len())
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
