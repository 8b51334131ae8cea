//! `POST /api/token/refresh/`: simplejwt's `TokenRefreshView`, end to end.
//!
//! 1. The body's `refresh` field is a `CharField`; in cookie mode, without one, the refresh
//!    cookie after Django's CSRF check ([`refresh_token`]).
//! 2. edgejwt-core decodes it (signature, `exp`, `aud`/`iss`: errors here answer at once)
//!    and verifies it as a refresh token, minting the new access token and, when rotating,
//!    the new refresh token — both unsigned, nothing stored yet.
//! 3. The core says what storage must do ([`RefreshStorage`]):
//!    - with `ROTATE_REFRESH_TOKENS` + `BLACKLIST_AFTER_ROTATION`, **rotate**: one D1
//!      transaction reads the blacklist and the user, blacklists the old `jti` with a
//!      conditional insert and records the new token only if that insert happened, so of N
//!      concurrent refreshes of one token exactly one wins;
//!    - otherwise **look up** the blacklist and the user in one round trip.
//! 4. The core decides with storage's answers, in simplejwt's order: "Token is
//!    blacklisted" first, then the token's own errors, then "No active account found for
//!    the given token."; a lost race is "Token is blacklisted".
//! 5. What is left to write: the rotated token as outstanding (rotation without
//!    blacklisting), and after the response the old `jti`'s KV revocation (`waitUntil`: D1
//!    is the record; a KV failure must not cost the client the pair it already owns).

use edgejwt_core::{
    serializers::{self, RefreshStorage},
    SessionEnd,
};
use serde_json::{Map, Value};

use super::{new_jti, refresh_token, sessions, App, RefreshFrom, Result};
use crate::{
    storage::Sessions,
    view::{Input, Reply},
};

pub async fn refresh(app: &App, input: Input) -> Result<Reply> {
    let (settings, now) = (&app.config.settings, app.now);
    let (raw, from) = refresh_token(app, &input)?;
    let plan = serializers::refresh(
        &raw,
        &app.config.backend,
        settings,
        now,
        new_jti()?,
        new_jti()?,
    )?;
    let (found, rotated) = match plan.storage(settings) {
        RefreshStorage::Lookup(lookups) => (app.store.look_up(&lookups, settings).await?, None),
        RefreshStorage::Rotate {
            old,
            new,
            user,
            require_active,
        } => {
            let rotated = app
                .store
                .rotate(old, new, user, require_active, &input.client, settings, now)
                .await?;
            (rotated.found, Some(rotated.won))
        }
    };
    // Two holders of one session: end it, and tell every verifier, before answering.
    if let Some(sid) = plan.reuse_detected(&found, rotated, settings) {
        let which = Sessions::One(sid, None);
        sessions::end(app, &input, which, SessionEnd::ReuseDetected).await?;
    } else if let Some(sid) = plan.unmirrored_session(&found) {
        // Ended already, its KV write failed: the end finds it pending and writes it. The
        // refusal stands either way; a write that fails again stays pending for the Cron.
        let which = Sessions::One(sid, None);
        if let Err(e) = sessions::end(app, &input, which, SessionEnd::ReuseDetected).await {
            crate::log::error!("edgejwt: pending session revocation not written: {e:?}");
        }
    }
    let out = plan.decide(found, rotated, settings)?;
    if let Some(outstanding) = &out.outstanding {
        app.store.outstand(outstanding).await?;
    }
    app.revocations
        .write_after_response(&app.ctx, out.revoke.iter().cloned().collect(), now);
    let mut body = Map::new();
    body.insert("access".into(), app.encode(&out.access)?.into());
    let mut set_cookie = None;
    if let Some(rotated) = &out.refresh {
        let encoded = app.encode(rotated)?;
        // A refresh by cookie gets its rotated token back in the cookie (dj-rest-auth).
        if from == RefreshFrom::Cookie {
            set_cookie = app.refresh_cookie(&encoded, rotated);
        }
        if from == RefreshFrom::Body || !app.config.browser.refresh_only_in_cookie {
            body.insert("refresh".into(), encoded.into());
        }
    }
    Ok(Reply::from(Value::Object(body)).with_cookies(set_cookie))
}
