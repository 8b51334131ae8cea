//! `GET /api/protected/`: simplejwt's `JWTAuthentication` (or, by
//! `DEFAULT_AUTHENTICATION_CLASSES`, `JWTStatelessUserAuthentication`) + DRF's
//! `IsAuthenticated`; and `JWTAuthentication` for the session API and password change.

use edgejwt_core::{authenticate, Authenticated, TokenUser, UserAuthentication};
use serde_json::{json, Value};

use super::{App, Result};
use crate::view::Input;

/// Authenticates the request's `AUTH_HEADER_NAME` header (with `CHECK_REVOKE_TOKEN`, its
/// session too). DRF authenticates before it dispatches on the method, so every method
/// comes here first.
pub async fn authenticated(app: &App, input: &Input) -> Result<Authenticated> {
    let (settings, now) = (&app.config.settings, app.now);
    let plan = authenticate(input.auth.as_deref(), &app.config.backend, settings, now)?;
    let found = app.store.look_up(&plan.lookups(), settings).await?;
    Ok(plan.decide(found, settings, now)?)
}

/// simplejwt's `JWTStatelessUserAuthentication`: the token and its revocations (the
/// blacklist, `CHECK_REVOKE_TOKEN`'s session) as [`authenticated`], the user from the
/// claims. With the default settings storage is not asked anything.
async fn token_user(app: &App, input: &Input) -> Result<TokenUser> {
    let (settings, now) = (&app.config.settings, app.now);
    let plan = authenticate(input.auth.as_deref(), &app.config.backend, settings, now)?.stateless();
    let found = app.store.look_up(&plan.lookups(), settings).await?;
    Ok(plan.decide(found, settings, now)?)
}

/// The user's `{user_id, username}` (DRF's `request.user`: the D1 row, or with
/// `JWTStatelessUserAuthentication` the token's `TokenUser`). The session API and password
/// change always read the user: they act on it.
pub async fn protected(app: &App, input: Input) -> Result<Value> {
    match app.config.user_authentication {
        UserAuthentication::Database => {
            let user = authenticated(app, &input).await?.user;
            Ok(json!({ "user_id": user.id, "username": user.username }))
        }
        UserAuthentication::Stateless => {
            let user = token_user(app, &input).await?;
            Ok(json!({ "user_id": user.id, "username": user.username }))
        }
    }
}
