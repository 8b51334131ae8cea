//! One handler per simplejwt view. Each takes the parsed request and returns the JSON body
//! of a 200, or an [`ApiError`]; token rules come from edgejwt-core, storage from
//! [`crate::storage`].

use std::rc::Rc;

use edgejwt_core::{
    get_raw_token, get_validated_token, refresh, refresh_sliding, AuthenticationError, Jti,
    Payload, Token, TokenError, TokenType,
};
use serde_json::{json, Map, Value};

use crate::{
    config::Config,
    error::ApiError,
    password,
    request::char_fields,
    storage::{Revocations, Rotation, Store, User, UserRef},
};

/// What a request works with.
pub struct App {
    pub config: Rc<Config>,
    /// The request's context: work that need not delay the response (`waitUntil`).
    pub ctx: Rc<worker::Context>,
    pub store: Store,
    pub revocations: Revocations,
    /// Unix seconds, from the runtime's clock.
    pub now: i64,
}

type Result<T> = std::result::Result<T, ApiError>;

fn random<const N: usize>() -> Result<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::getrandom(&mut bytes).map_err(|e| ApiError::Internal(format!("getrandom: {e}")))?;
    Ok(bytes)
}

fn new_jti() -> Result<Jti> {
    Ok(Jti::from_random_bytes(random()?))
}

impl App {
    fn encode(&self, token: &Token) -> Result<String> {
        self.config
            .backend
            .encode(token.payload())
            .map_err(|e| ApiError::Internal(e.to_string()))
    }

    /// `USER_ID_FIELD` of a user, as the user id claim carries it.
    fn user_id_of(&self, user: &User) -> String {
        match self.config.settings.user_id_field.as_str() {
            "username" => user.username.clone(),
            _ => user.id.to_string(),
        }
    }

    /// The user a user id claim names by `USER_ID_FIELD`; `None` when it names none.
    fn user_ref<'a>(&self, user_id: &'a str) -> Option<UserRef<'a>> {
        match self.config.settings.user_id_field.as_str() {
            "username" => Some(UserRef::Username(user_id)),
            _ => user_id.parse().ok().map(UserRef::Id),
        }
    }

    async fn user_by_claim(&self, user_id: &str) -> Result<Option<User>> {
        match self.user_ref(user_id) {
            Some(user) => self.store.user(&user).await,
            None => Ok(None),
        }
    }

    /// Django's `authenticate()` for the obtain views: one password check whatever the
    /// outcome, one error for unknown, wrong and inactive.
    async fn authenticate_credentials(&self, data: &Map<String, Value>) -> Result<User> {
        let [username, password] = char_fields(data, ["username", "password"])?;
        let iterations = self.config.password_hash_iterations;
        let Some(user) = self.store.user_by_username(&username).await? else {
            password::check_dummy(&password, iterations);
            return Err(AuthenticationError::NoActiveAccount.into());
        };
        let checked = password::check_password(&password, &user.password, iterations);
        if !checked.valid || !user.is_active() {
            return Err(AuthenticationError::NoActiveAccount.into());
        }
        if checked.needs_rehash {
            let salt = password::salt_from_random(&random()?);
            let encoded = password::make_password(&password, &salt, iterations);
            self.store.set_password(user.id, &encoded).await?;
        }
        if self.config.settings.update_last_login {
            self.store.set_last_login(user.id, self.now).await?;
        }
        Ok(user)
    }

    /// simplejwt's `Token.for_user`, plus the configured user claims (`TOKEN_CLAIMS`).
    fn token_for_user(&self, token_type: TokenType, user: &User) -> Result<Token> {
        let settings = &self.config.settings;
        let mut token = Token::for_user(
            token_type,
            &self.user_id_of(user),
            settings,
            self.now,
            new_jti()?,
        );
        for claim in &self.config.token_claims {
            if let Some(value) = user.claim(claim) {
                token.payload_mut().insert(claim.as_str(), value);
            }
        }
        // A session id of its own: rotation revokes token ids, never the session's.
        if let Some(claim) = &self.config.session_claim {
            token
                .payload_mut()
                .insert(claim.as_str(), new_jti()?.as_str());
        }
        Ok(token)
    }

    /// Decodes `raw` and applies simplejwt's `BlacklistMixin.verify` + `Token.verify` for a
    /// blacklistable type: the blacklist is consulted before the claims are checked.
    async fn validated(&self, raw: &str, token_type: TokenType) -> Result<Token> {
        let settings = &self.config.settings;
        let payload = self.config.backend.decode(raw, self.now)?;
        let blacklisted = self.is_blacklisted(&payload).await?;
        Ok(Token::verify_with_blacklist(
            token_type,
            payload,
            blacklisted,
            settings,
            self.now,
        )?)
    }

    /// As [`App::validated`] for a caller whose later write refuses blacklisted tokens
    /// itself: the blacklist is read only when another check fails, to report what
    /// simplejwt reports (its blacklist check comes first).
    async fn validated_blacklist_last(&self, raw: &str, token_type: TokenType) -> Result<Token> {
        let settings = &self.config.settings;
        let payload = self.config.backend.decode(raw, self.now)?;
        let jti = payload.get_str(&settings.jti_claim).map(str::to_owned);
        match Token::verify(token_type, payload, settings, self.now) {
            Ok(token) => Ok(token),
            Err(error) => Err(self.blacklisted_or(jti.as_deref(), error.into()).await),
        }
    }

    /// `error`, unless the token id `jti` is blacklisted: simplejwt checks that first.
    async fn blacklisted_or(&self, jti: Option<&str>, error: ApiError) -> ApiError {
        match jti.map(|jti| self.store.is_blacklisted(jti)) {
            None => error,
            Some(lookup) => match lookup.await {
                Ok(true) => TokenError::Blacklisted.into(),
                Ok(false) => error,
                Err(e) => e,
            },
        }
    }

    async fn is_blacklisted(&self, payload: &Payload) -> Result<bool> {
        match payload.get_str(&self.config.settings.jti_claim) {
            Some(jti) => self.store.is_blacklisted(jti).await,
            None => Ok(false),
        }
    }

    fn expiry(token: &Token) -> Result<i64> {
        token
            .exp()
            .ok_or_else(|| ApiError::Internal("token without exp".into()))
    }

    fn jti<'t>(&self, token: &'t Token) -> Result<&'t str> {
        token
            .jti(&self.config.settings)
            .ok_or_else(|| ApiError::Internal("token without jti".into()))
    }
}

/// Django's `authenticate()` then simplejwt's `for_user` for a blacklistable type: the new
/// token is recorded as outstanding.
async fn obtain(app: &App, data: &Map<String, Value>, token_type: TokenType) -> Result<Token> {
    let user = app.authenticate_credentials(data).await?;
    let token = app.token_for_user(token_type, &user)?;
    let user_id = app.user_id_of(&user);
    app.store
        .outstand(
            app.jti(&token)?,
            Some(&user_id),
            app.now,
            App::expiry(&token)?,
        )
        .await?;
    Ok(token)
}

/// `POST /api/token/`: credentials → `{"refresh", "access"}`.
pub async fn obtain_pair(app: &App, data: Map<String, Value>) -> Result<Value> {
    let refresh_token = obtain(app, &data, TokenType::Refresh).await?;
    let access = refresh_token.access_token(&app.config.settings, app.now, new_jti()?);
    Ok(json!({ "refresh": app.encode(&refresh_token)?, "access": app.encode(&access)? }))
}

/// `POST /api/token/refresh/`: refresh token → `{"access"}` (+ `"refresh"` when rotating).
/// With `BLACKLIST_AFTER_ROTATION`, of concurrent refreshes of one token exactly one wins.
pub async fn refresh_pair(app: &App, data: Map<String, Value>) -> Result<Value> {
    let settings = &app.config.settings;
    let [raw] = char_fields(&data, ["refresh"])?;
    if settings.rotate_refresh_tokens && settings.blacklist_after_rotation {
        return refresh_rotating(app, &raw).await;
    }
    let token = app.validated(&raw, TokenType::Refresh).await?;
    let user_id = token.user_id(settings);
    // A user id claim that is not a string or number names no user.
    if user_id.is_none() && token.payload().get(&settings.user_id_claim).is_some() {
        return Err(AuthenticationError::NoActiveAccountForToken.into());
    }
    if let Some(user_id) = user_id.as_deref().filter(|id| !id.is_empty()) {
        // simplejwt answers 500 for a user that no longer exists; that is no active account.
        match app.user_by_claim(user_id).await? {
            Some(user) if user.is_active() => {}
            _ => return Err(AuthenticationError::NoActiveAccountForToken.into()),
        }
    }
    let out = refresh(&token, settings, app.now, new_jti()?, new_jti()?);
    let mut body = Map::new();
    body.insert("access".into(), app.encode(&out.access)?.into());
    if let Some(rotated) = &out.refresh {
        // Rotation without blacklisting: the new token is recorded, the old one stays valid.
        let (jti, exp) = (app.jti(rotated)?, App::expiry(rotated)?);
        app.store
            .outstand(jti, user_id.as_deref(), app.now, exp)
            .await?;
        body.insert("refresh".into(), app.encode(rotated)?.into());
    }
    Ok(Value::Object(body))
}

/// Refresh with rotation and blacklisting (the default worth having): the blacklist check,
/// the user check and the rotation are one D1 transaction, so two concurrent refreshes of
/// one token cannot both win and a user deactivated meanwhile gets no new token.
async fn refresh_rotating(app: &App, raw: &str) -> Result<Value> {
    let settings = &app.config.settings;
    let token = app
        .validated_blacklist_last(raw, TokenType::Refresh)
        .await?;
    let user_id = token.user_id(settings);
    let user = match user_id.as_deref() {
        None if token.payload().get(&settings.user_id_claim).is_none() => None,
        Some("") => None,
        // A user id claim that is not a string or number, or no user id, names no user.
        id => match id.and_then(|id| app.user_ref(id)) {
            Some(user) => Some(user),
            None => {
                let no_account = AuthenticationError::NoActiveAccountForToken.into();
                return Err(app.blacklisted_or(token.jti(settings), no_account).await);
            }
        },
    };
    let out = refresh(&token, settings, app.now, new_jti()?, new_jti()?);
    let (Some(rotated), Some((old_jti, old_exp))) = (&out.refresh, &out.blacklist) else {
        return Err(ApiError::Internal(
            "rotation without a token to blacklist".into(),
        ));
    };
    let new = (app.jti(rotated)?, App::expiry(rotated)?);
    match app
        .store
        .rotate((old_jti, *old_exp), new, user.as_ref(), app.now)
        .await?
    {
        Rotation::Rotated => {}
        Rotation::Blacklisted => return Err(TokenError::Blacklisted.into()),
        Rotation::NoActiveUser => return Err(AuthenticationError::NoActiveAccountForToken.into()),
    }
    // D1 holds the rotation; the KV entry only tells other verifiers, and a failure to
    // write it must not cost the client the new pair it already owns: after the response.
    app.revocations
        .revoke_after_response(&app.ctx, old_jti, *old_exp, app.now);
    Ok(json!({ "access": app.encode(&out.access)?, "refresh": app.encode(rotated)? }))
}

/// `POST /api/token/verify/`: any token → `{}`; a blacklisted one is a 400 (as simplejwt).
pub async fn verify(app: &App, data: Map<String, Value>) -> Result<Value> {
    let settings = &app.config.settings;
    let [raw] = char_fields(&data, ["token"])?;
    let payload = app.config.backend.decode(&raw, app.now)?;
    let payload = Token::verify_untyped(payload, settings, app.now)?;
    // Only refresh and sliding tokens are ever outstanding, so only they can be on the
    // blacklist: an access token needs no lookup (simplejwt queries for it anyway).
    let blacklistable = payload
        .get_str(&settings.token_type_claim)
        .and_then(TokenType::from_claim)
        .is_none_or(TokenType::is_blacklistable);
    if settings.blacklist_after_rotation && blacklistable && app.is_blacklisted(&payload).await? {
        return Err(ApiError::non_field("Token is blacklisted"));
    }
    Ok(json!({}))
}

/// `POST /api/token/blacklist/`: blacklists a refresh token (logout) → `{}`.
pub async fn blacklist(app: &App, data: Map<String, Value>) -> Result<Value> {
    let [raw] = char_fields(&data, ["refresh"])?;
    let token = app.validated(&raw, TokenType::Refresh).await?;
    let (jti, exp) = (app.jti(&token)?, App::expiry(&token)?);
    let user_id = token.user_id(&app.config.settings);
    if !app
        .store
        .blacklist(jti, user_id.as_deref(), app.now, exp)
        .await?
    {
        return Err(TokenError::Blacklisted.into());
    }
    app.revocations.revoke(jti, exp, app.now).await?;
    // Logout ends the session: every token carrying its id is revoked for verifiers.
    let session = app
        .config
        .session_claim
        .as_deref()
        .and_then(|c| token.payload().get_str(c));
    if let Some(sid) = session.filter(|sid| *sid != jti) {
        app.revocations.revoke(sid, exp, app.now).await?;
    }
    Ok(json!({}))
}

/// `POST /api/token/sliding/`: credentials → `{"token"}`.
pub async fn obtain_sliding(app: &App, data: Map<String, Value>) -> Result<Value> {
    let token = obtain(app, &data, TokenType::Sliding).await?;
    Ok(json!({ "token": app.encode(&token)? }))
}

/// `POST /api/token/sliding/refresh/`: sliding token → the same token re-stamped.
pub async fn refresh_sliding_token(app: &App, data: Map<String, Value>) -> Result<Value> {
    let [raw] = char_fields(&data, ["token"])?;
    let token = app.validated(&raw, TokenType::Sliding).await?;
    let token = refresh_sliding(token, &app.config.settings, app.now)?;
    Ok(json!({ "token": app.encode(&token)? }))
}

/// `GET /api/protected/`: simplejwt's `JWTAuthentication` + `IsAuthenticated`.
pub async fn protected(app: &App, header: Option<String>) -> Result<Value> {
    let settings = &app.config.settings;
    let raw = match header
        .as_deref()
        .map(|h| get_raw_token(h, settings))
        .transpose()?
    {
        Some(Some(raw)) => raw,
        _ => return Err(AuthenticationError::NotAuthenticated.into()),
    };
    let decoded = app.config.backend.decode(raw, app.now);
    let needs_blacklist = settings
        .auth_token_classes
        .iter()
        .any(|t| t.is_blacklistable());
    let blacklisted = match &decoded {
        Ok(payload) if needs_blacklist => app.is_blacklisted(payload).await?,
        _ => false,
    };
    let token = get_validated_token(decoded, blacklisted, settings, app.now)?;
    let user_id = token
        .user_id(settings)
        .ok_or(AuthenticationError::NoUserId)?;
    let user = app
        .user_by_claim(&user_id)
        .await?
        .ok_or(AuthenticationError::UserNotFound)?;
    if settings.check_user_is_active && !user.is_active() {
        return Err(AuthenticationError::UserInactive.into());
    }
    Ok(json!({ "user_id": user.id, "username": user.username }))
}

/// `GET /api/token/jwks/`: the public signing key as a JWK Set (empty for HMAC).
pub fn jwks(config: &Config) -> Value {
    let keys: Vec<Value> = config
        .backend
        .public_jwk()
        .and_then(|jwk| serde_json::from_str(&jwk).ok())
        .into_iter()
        .collect();
    json!({ "keys": keys })
}
