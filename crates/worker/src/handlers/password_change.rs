//! `POST /api/password/change/`: dj-rest-auth's `PasswordChangeView` (Bearer access token)
//! with `OLD_PASSWORD_FIELD_ENABLED`: Django's `SetPasswordForm` and its default password
//! validators, then every other session of the user ends (refresh and access tokens). A
//! wrong old password counts against the login throttle.

use edgejwt_core::{serializers, UserAttributes};
use serde_json::{json, Map, Value};
use zeroize::Zeroizing;

use super::{protected::authenticated, random, sessions, App, Result};
use crate::{error::ApiError, password, request::char_fields, view::Input};

/// DRF's `CharField(max_length=128)` on each of dj-rest-auth's fields.
const MAX_LENGTH: usize = 128;

pub async fn change(app: &App, input: Input) -> Result<Value> {
    let auth = authenticated(app, &input).await?;
    let fields = ["old_password", "new_password1", "new_password2"];
    let [old, new1, new2] = char_fields(&input.data, fields)?.map(Zeroizing::new);
    let too_long: Map<String, Value> = fields
        .iter()
        .zip([&old, &new1, &new2])
        .filter(|(_, v)| v.chars().count() > MAX_LENGTH)
        .map(|(name, _)| {
            let message = format!("Ensure this field has no more than {MAX_LENGTH} characters.");
            ((*name).to_owned(), json!([message]))
        })
        .collect();
    if !too_long.is_empty() {
        return Err(ApiError::Validation(Value::Object(too_long)));
    }
    let id = auth.user.id;
    let user = app.store.user_by_id(id).await?.ok_or(ApiError::NotFound)?;
    // Guessing the old password with a stolen access token is throttled as logins are, on
    // the same counts: the password, not the endpoint, is what is being guessed.
    let slot = app.password_attempt(&input, &user.username).await?;
    let iterations = app.config.password_hash_iterations;
    let checked = password::check_password(&old, &user.password, iterations).await;
    if checked.valid {
        app.password_right(slot);
    }
    let attributes = UserAttributes {
        username: &user.username,
        first_name: &user.first_name,
        last_name: &user.last_name,
        email: &user.email,
    };
    serializers::password_change(checked.valid, &new1, &new2, &attributes)
        .map_err(|(field, messages)| ApiError::Validation(json!({ field: messages })))?;
    let salt = password::salt_from_random(&random()?);
    let encoded = password::make_password(&new2, &salt, iterations).await;
    let keep = serializers::password_change_keeps(&auth.token, &app.config.settings);
    let ended = app
        .store
        .change_password(user.id, &encoded, keep, &input.client, app.now)
        .await?;
    sessions::mirror(app, &ended.unmirrored, &[]).await?;
    Ok(json!({ "detail": "New password has been saved." }))
}
