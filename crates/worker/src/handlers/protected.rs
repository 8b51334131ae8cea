//! `GET /api/protected/`: simplejwt's `JWTAuthentication` + DRF's `IsAuthenticated`; and
//! the same authentication for the session API.

use edgejwt_core::{authenticate, Authenticated};
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

/// The user's `{user_id, username}`.
pub async fn protected(app: &App, input: Input) -> Result<Value> {
    let user = authenticated(app, &input).await?.user;
    Ok(json!({ "user_id": user.id, "username": user.username }))
}
