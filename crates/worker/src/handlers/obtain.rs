//! `POST /api/token/` and `POST /api/token/sliding/`: Django's `authenticate()`, then
//! simplejwt's `TokenObtainPairSerializer` / `TokenObtainSlidingSerializer`.

use edgejwt_core::serializers::{self, LoginIds, Obtained};
use serde_json::{json, Value};

use super::{new_jti, random, App, Result};
use crate::{password, request::char_fields, storage::User, view::Input};

/// Checks the credentials: one password hash whatever the outcome (an unknown user hashes
/// a dummy), and the core's one error for unknown, wrong and inactive.
async fn authenticate_credentials(app: &App, input: &Input) -> Result<User> {
    let [username, password] = char_fields(&input.data, ["username", "password"])?;
    let iterations = app.config.password_hash_iterations;
    let user = app.store.user_by_username(&username).await?;
    let checked = match &user {
        Some(user) => password::check_password(&password, &user.password, iterations),
        None => {
            password::check_dummy(&password, iterations);
            password::Checked::default()
        }
    };
    let user_id = user.as_ref().map(|u| u.id);
    let user = match serializers::login(user, checked.valid) {
        Ok(user) => user,
        Err(e) => {
            app.store
                .login_failed(user_id, &input.client, app.now)
                .await?;
            return Err(e.into());
        }
    };
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

async fn record(app: &App, obtained: &Obtained, input: &Input) -> Result<()> {
    let session = obtained.session.as_ref();
    app.store
        .login(session, &obtained.outstanding, &input.client, app.now)
        .await
}

/// `POST /api/token/`: credentials → `{"refresh", "access"}`.
pub async fn pair(app: &App, input: Input) -> Result<Value> {
    let user = authenticate_credentials(app, &input).await?;
    let obtained = serializers::obtain_pair(&user, &app.config.settings, app.now, login_ids()?);
    record(app, &obtained, &input).await?;
    let access = obtained
        .access
        .as_ref()
        .map(|t| app.encode(t))
        .transpose()?;
    Ok(json!({ "refresh": app.encode(&obtained.token)?, "access": access }))
}

/// `POST /api/token/sliding/`: credentials → `{"token"}`.
pub async fn sliding(app: &App, input: Input) -> Result<Value> {
    let user = authenticate_credentials(app, &input).await?;
    let obtained = serializers::obtain_sliding(&user, &app.config.settings, app.now, login_ids()?);
    record(app, &obtained, &input).await?;
    Ok(json!({ "token": app.encode(&obtained.token)? }))
}
