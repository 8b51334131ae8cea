//! One module per simplejwt view. Each is the same three steps: parse the request, let
//! edgejwt-core decide what storage must do, do it, let the core decide the answer. Token
//! rules live in edgejwt-core; storage in [`crate::storage`]; HTTP in [`crate::view`].

pub mod blacklist;
pub mod jwks;
pub mod obtain;
pub mod password_change;
pub mod protected;
pub mod refresh;
pub mod sessions;
pub mod sliding;
pub mod verify;

use std::rc::Rc;

use edgejwt_core::{Jti, Token};
use serde_json::Value;

use crate::{
    config::Config,
    error::ApiError,
    request::char_fields,
    storage::{Revocations, Store},
    throttle,
    view::Input,
};

/// What a request works with.
pub struct App {
    pub config: Rc<Config>,
    /// The request's context: work that need not delay the response (`waitUntil`).
    pub ctx: Rc<worker::Context>,
    /// The bindings (the login throttle's Durable Object).
    pub env: worker::Env,
    pub store: Store,
    pub revocations: Revocations,
    /// Unix seconds, from the runtime's clock.
    pub now: i64,
}

pub type Result<T> = std::result::Result<T, ApiError>;

/// Host randomness (`crypto.getRandomValues`).
pub fn random<const N: usize>() -> Result<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::getrandom(&mut bytes).map_err(|e| ApiError::Internal(format!("getrandom: {e}")))?;
    Ok(bytes)
}

/// A fresh token id.
pub fn new_jti() -> Result<Jti> {
    Ok(Jti::from_random_bytes(random()?))
}

impl App {
    /// A throttle slot for one check of `username`'s password (a login, a password change):
    /// 429 before any hash once this client's failures for it or from its address reach
    /// `LOGIN_THROTTLE_RATE` / `LOGIN_IP_THROTTLE_RATE`. `None` when throttling is off.
    pub async fn password_attempt(
        &self,
        input: &Input,
        username: &str,
    ) -> Result<Option<throttle::Slot>> {
        throttle::take(
            &self.env,
            &self.config.browser,
            &input.client.ip,
            username,
            js_sys::Date::now() as i64,
            new_jti()?.as_str().to_owned(),
        )
        .await
    }

    /// The password was right: its slot is given back after the response (only failures
    /// count against the rate).
    pub fn password_right(&self, slot: Option<throttle::Slot>) {
        if let Some(slot) = slot {
            self.ctx.wait_until(async move {
                if let Err(e) = slot.release().await {
                    crate::log::error!("edgejwt: login throttle release failed: {e:?}");
                }
            });
        }
    }

    /// Signs a token the core issued.
    pub fn encode(&self, token: &Token) -> Result<String> {
        self.config
            .backend
            .encode(token.payload())
            .map_err(|e| ApiError::Internal(e.to_string()))
    }
}

/// Where a refresh or logout found its refresh token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshFrom {
    /// The body's `refresh` field: simplejwt's contract, no cookie involved.
    Body,
    /// Cookie mode's refresh cookie (the request passed the CSRF check).
    Cookie,
}

/// The refresh token of a refresh or logout: the body's `refresh` (a `CharField`); in cookie
/// mode, when the body has none, dj-rest-auth's refresh cookie, after Django's CSRF check
/// (cookie-authenticated requests only: a token in the body cannot be forged by a page).
pub fn refresh_token(app: &App, input: &Input) -> Result<(String, RefreshFrom)> {
    let browser = &app.config.browser;
    let in_body = |v: &Value| !matches!(v, Value::String(s) if s.is_empty());
    let Some(spec) = &browser.refresh_cookie else {
        let [raw] = char_fields(&input.data, ["refresh"])?;
        return Ok((raw, RefreshFrom::Body));
    };
    if input.data.get("refresh").is_some_and(in_body) {
        let [raw] = char_fields(&input.data, ["refresh"])?;
        return Ok((raw, RefreshFrom::Body));
    }
    let raw = input
        .browser
        .cookie(&spec.name)
        .filter(|c| !c.is_empty())
        .ok_or(ApiError::InvalidToken("No valid refresh token found."))?;
    let csrf_cookie = input.browser.cookie(&browser.csrf_cookie.name);
    browser
        .check_csrf(&input.browser.csrf_request(csrf_cookie.as_deref()))
        .map_err(ApiError::Csrf)?;
    Ok((raw, RefreshFrom::Cookie))
}

impl App {
    /// Cookie mode's `Set-Cookie` for a refresh token (its life: the token's `exp`).
    pub fn refresh_cookie(&self, encoded: &str, token: &Token) -> Option<String> {
        let spec = self.config.browser.refresh_cookie.as_ref()?;
        let max_age = token.exp().map_or(0, |exp| exp - self.now);
        Some(spec.set_cookie(encoded, max_age))
    }

    /// Cookie mode's `Set-Cookie` that clears the refresh cookie.
    pub fn clear_refresh_cookie(&self) -> Option<String> {
        let spec = self.config.browser.refresh_cookie.as_ref()?;
        Some(spec.set_cookie("", 0))
    }
}
