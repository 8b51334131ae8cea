//! `POST /api/token/` and `POST /api/token/sliding/`: Django's `authenticate()`, then
//! simplejwt's `TokenObtainPairSerializer` / `TokenObtainSlidingSerializer`.

use edgejwt_core::serializers::{self, LoginIds, Obtained};
use serde_json::{json, Map, Value};

use super::{new_jti, random, App, Result};
use crate::{password, request::char_fields, storage::User};

/// Checks the credentials: one password hash whatever the outcome (an unknown user hashes
/// a dummy), and the core's one error for unknown, wrong and inactive.
async fn authenticate_credentials(app: &App, data: &Map<String, Value>) -> Result<User> {
    let [username, password] = char_fields(data, ["username", "password"])?;
    let iterations = app.config.password_hash_iterations;
    let user = app.store.user_by_username(&username).await?;
    let checked = match &user {
        Some(user) => password::check_password(&password, &user.password, iterations),
        None => {
            password::check_dummy(&password, iterations);
            password::Checked::default()
        }
    };
    let user = serializers::login(user, checked.valid)?;
    if checked.needs_rehash {
        let salt = password::salt_from_random(&random()?);
        let encoded = password::make_password(&password, &salt, iterations);
        app.store.set_password(user.id, &encoded).await?;
    }
    if app.config.settings.update_last_login {
        app.store.set_last_login(user.id, app.now).await?;
    }
    Ok(user)
}

fn login_ids() -> Result<LoginIds> {
    Ok(LoginIds {
        jti: new_jti()?,
        access_jti: new_jti()?,
        session: new_jti()?,
    })
}

async fn record(app: &App, obtained: &Obtained) -> Result<()> {
    app.store.outstand(&obtained.outstanding).await
}

/// `POST /api/token/`: credentials → `{"refresh", "access"}`.
pub async fn pair(app: &App, data: Map<String, Value>) -> Result<Value> {
    let user = authenticate_credentials(app, &data).await?;
    let obtained = serializers::obtain_pair(&user, &app.config.settings, app.now, login_ids()?);
    record(app, &obtained).await?;
    let access = obtained
        .access
        .as_ref()
        .map(|t| app.encode(t))
        .transpose()?;
    Ok(json!({ "refresh": app.encode(&obtained.token)?, "access": access }))
}

/// `POST /api/token/sliding/`: credentials → `{"token"}`.
pub async fn sliding(app: &App, data: Map<String, Value>) -> Result<Value> {
    let user = authenticate_credentials(app, &data).await?;
    let obtained = serializers::obtain_sliding(&user, &app.config.settings, app.now, login_ids()?);
    record(app, &obtained).await?;
    Ok(json!({ "token": app.encode(&obtained.token)? }))
}
