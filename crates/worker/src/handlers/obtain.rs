//! `POST /api/token/` and `POST /api/token/sliding/`: Django's `authenticate()`, then
//! simplejwt's `TokenObtainPairSerializer` / `TokenObtainSlidingSerializer`.

use edgejwt_core::{
    browser::{new_csrf_token, CSRF_COOKIE_AGE},
    serializers::{self, LoginIds, Obtained},
};
use serde_json::{json, Value};
use zeroize::Zeroizing;

use super::{new_jti, random, App, Result};
use crate::{
    error::ApiError,
    password,
    request::char_fields,
    storage::User,
    view::{Input, Reply},
};

/// Checks the credentials: one password hash whatever the outcome (an unknown user hashes
/// a dummy), and the core's one error for unknown, wrong and inactive. Throttled first
/// (429 before any hash); a success gives its throttle slot back.
async fn authenticate_credentials(app: &App, input: &Input) -> Result<User> {
    let [username, password] = char_fields(&input.data, ["username", "password"])?;
    // Our copy of the password is cleared when dropped (the parsed body's is the runtime's).
    let password = Zeroizing::new(password);
    let slot = app.password_attempt(input, &username).await?;
    let iterations = app.config.password_hash_iterations;
    let user = app.store.user_by_username(&username).await?;
    let checked = match &user {
        Some(user) => password::check_password(&password, &user.password, iterations).await,
        None => {
            password::check_dummy(&password, iterations).await;
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
        let encoded = password::make_password(&password, &salt, iterations).await;
        app.store.set_password(user.id, &encoded).await?;
    }
    if app.config.settings.update_last_login {
        app.store.set_last_login(user.id, app.now).await?;
    }
    app.password_right(slot);
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

/// `POST /api/token/`: credentials → `{"refresh", "access"}`. In cookie mode the refresh
/// token goes in the HttpOnly cookie (the body's `refresh` is dj-rest-auth's `""` with
/// `JWT_AUTH_HTTPONLY`), with a fresh `csrftoken` (Django rotates it at login); a browser
/// on an untrusted origin cannot log in (login CSRF).
pub async fn pair(app: &App, input: Input) -> Result<Reply> {
    let browser = &app.config.browser;
    if browser.refresh_cookie.is_some() {
        browser
            .check_origin(&input.browser.csrf_request(None))
            .map_err(ApiError::Csrf)?;
    }
    let user = authenticate_credentials(app, &input).await?;
    let obtained = serializers::obtain_pair(&user, &app.config.settings, app.now, login_ids()?);
    record(app, &obtained, &input).await?;
    let access = obtained
        .access
        .as_ref()
        .map(|t| app.encode(t))
        .transpose()?;
    let refresh = app.encode(&obtained.token)?;
    let Some(set_refresh) = app.refresh_cookie(&refresh, &obtained.token) else {
        return Ok(json!({ "refresh": refresh, "access": access }).into());
    };
    let csrf = browser.csrf_cookie.set_cookie(
        &new_csrf_token(random()?),
        i64::try_from(CSRF_COOKIE_AGE).unwrap_or(i64::MAX),
    );
    let body_refresh = if browser.refresh_only_in_cookie {
        ""
    } else {
        &refresh
    };
    Ok(
        Reply::from(json!({ "refresh": body_refresh, "access": access }))
            .with_cookies([set_refresh, csrf]),
    )
}

/// `POST /api/token/sliding/`: credentials → `{"token"}`.
pub async fn sliding(app: &App, input: Input) -> Result<Value> {
    let user = authenticate_credentials(app, &input).await?;
    let obtained = serializers::obtain_sliding(&user, &app.config.settings, app.now, login_ids()?);
    record(app, &obtained, &input).await?;
    Ok(json!({ "token": app.encode(&obtained.token)? }))
}
