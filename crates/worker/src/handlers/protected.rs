//! `GET /api/protected/`: simplejwt's `JWTAuthentication` + DRF's `IsAuthenticated`.

use edgejwt_core::authenticate;
use serde_json::{json, Value};

use super::{App, Result};

/// Authenticates the request's `AUTH_HEADER_NAME` header: the user's `{user_id, username}`.
/// DRF authenticates before it dispatches on the method, so every method comes here first.
pub async fn protected(app: &App, header: Option<String>) -> Result<Value> {
    let (settings, now) = (&app.config.settings, app.now);
    let plan = authenticate(header.as_deref(), &app.config.backend, settings, now)?;
    let found = app.store.look_up(&plan.lookups()).await?;
    let user = plan.decide(found, settings, now)?.user.unwrap_or_default();
    Ok(json!({ "user_id": user.id, "username": user.username }))
}
