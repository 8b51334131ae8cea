//! `POST /api/token/blacklist/`: simplejwt's `TokenBlacklistView` (logout), which also
//! revokes the token and its session in KV so edge verifiers refuse the session's access
//! tokens. The KV writes are idempotent and ordered by the core again on a repeated logout,
//! so a logout whose KV write failed (a 500) finishes on the client's retry.

use edgejwt_core::{
    serializers::{self, BlacklistStorage},
    SessionEnd,
};
use serde_json::json;

use super::{refresh_token, sessions, App, Result};
use crate::{
    storage::{Sessions, Unmirrored},
    view::{Input, Reply},
};

/// In cookie mode a logout also clears the refresh cookie (dj-rest-auth's `unset_jwt_cookies`).
pub async fn blacklist(app: &App, input: Input) -> Result<Reply> {
    let (raw, _) = refresh_token(app, &input)?;
    let plan = serializers::blacklist(&raw, &app.config.backend, &app.config.settings, app.now)?;
    let (found, won) = match plan.storage() {
        BlacklistStorage::Lookup(lookups) => (
            app.store.look_up(&lookups, &app.config.settings).await?,
            None,
        ),
        BlacklistStorage::Blacklist(token) => {
            let won = app.store.blacklist(token, app.now).await?;
            (Default::default(), Some(won))
        }
    };
    let logout = plan.decide(found, won);
    let ended = match &logout.end_session {
        Some(sid) => {
            let which = Sessions::One(sid, None);
            let ended = app
                .store
                .end_sessions(which, SessionEnd::Logout, &input.client, app.now);
            ended.await?.unmirrored
        }
        None => Unmirrored::default(),
    };
    sessions::mirror(app, &ended, &logout.revoke).await?;
    logout.answer?;
    Ok(Reply::from(json!({})).with_cookies(app.clear_refresh_cookie()))
}
