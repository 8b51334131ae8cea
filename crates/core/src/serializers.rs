//! simplejwt's token views (its `serializers.py`) as two-step decisions, so that storage
//! can be asynchronous: **decode** the request's token → the host carries out what the
//! plan asks of storage → the core **decides** with the answers. Every rule (what is
//! looked up, in which order errors win, what is written) is here; a host only does I/O.
//!
//! | view | start | storage | decide |
//! |---|---|---|---|
//! | `TokenObtainPairView` | [`login`] | (password check) | [`obtain_pair`] |
//! | `TokenRefreshView` | [`refresh`] | [`RefreshStorage`] | [`Refreshing::decide`] |
//! | `TokenVerifyView` | [`verify`] | [`Lookups`] | [`Verifying::decide`] |
//! | `TokenBlacklistView` | [`blacklist`] | [`BlacklistStorage`] | [`Blacklisting::decide`] |
//! | `TokenRefreshSlidingView` | [`refresh_sliding`] | [`Lookups`] | [`SlidingRefreshing::decide`] |
//! | dj-rest-auth's `PasswordChangeView` | (password check) | — | `password_change` |
//!
//! Sessions: a login starts one ([`Obtained::session`]); a rotation reads the old token's
//! child in the same write, so a replay within `REFRESH_TOKEN_REUSE_INTERVAL` gets that child
//! again and any other replay ends the session ([`Refreshing::reuse_detected`]).

use alloc::{string::String, vec::Vec};

use crate::{
    backend::TokenBackend,
    claims::ClaimSource,
    error::{AuthenticationError, TokenError, TokenViewError},
    rotation::{self, Refreshed},
    settings::Settings,
    store::{
        session_id, Child, Found, Lookups, NewSession, Outstanding, Revocation, User, UserKey,
    },
    token::{Jti, Payload, Token, TokenType},
};

/// Django's `authenticate()` as the obtain views see it: one error, "No active account
/// found with the given credentials", for an unknown user, a wrong password and an
/// inactive account alike, so none can be told apart.
pub fn login<U: User>(user: Option<U>, password_valid: bool) -> Result<U, AuthenticationError> {
    match user {
        Some(user) if password_valid && user.is_active() => Ok(user),
        _ => Err(AuthenticationError::NoActiveAccount),
    }
}

/// Fresh ids for the tokens of one login: the token's `jti`, the access token's `jti`,
/// and the session id.
#[derive(Debug)]
pub struct LoginIds {
    /// `jti` of the refresh (or sliding) token.
    pub jti: Jti,
    /// `jti` of the access token (pair logins).
    pub access_jti: Jti,
    /// The new session's id (`SESSION_CLAIM`).
    pub session: Jti,
}

/// A new token for `user` (simplejwt's `Token.for_user`), with the `TOKEN_CLAIMS` fields
/// and a new session id (a session id of its own: rotation replaces token ids, never the
/// session's).
fn for_user(
    token_type: TokenType,
    user: &impl User,
    settings: &Settings,
    now: i64,
    jti: Jti,
    session: Jti,
) -> Token {
    let mut token = Token::for_user(token_type, &user.user_id(settings), settings, now, jti);
    for claim in &settings.token_claims {
        if let Some(value) = user.claim(claim) {
            token.payload_mut().insert(claim.as_str(), value);
        }
    }
    if let Some(claim) = &settings.session_claim {
        token.payload_mut().insert(claim.as_str(), session.as_str());
    }
    token
}

/// What a login issues: the token to sign, the access token of a pair, and the records of
/// the new session and outstanding token.
#[derive(Debug, Clone)]
pub struct Obtained {
    /// The refresh token (pair) or sliding token.
    pub token: Token,
    /// The access token (pair logins only).
    pub access: Option<Token>,
    /// The host records this as outstanding.
    pub outstanding: Outstanding,
    /// The session the login starts (when `SESSION_CLAIM` is on).
    pub session: Option<NewSession>,
}

/// A login's session, and its token's `exp` capped by `SESSION_LIFETIME`.
fn start_session(
    token: &mut Token,
    user: &impl User,
    settings: &Settings,
    now: i64,
) -> Option<NewSession> {
    let expires_at = settings
        .session_lifetime
        .map(|lifetime| now.saturating_add_unsigned(lifetime));
    if let (Some(cap), Some(exp)) = (expires_at, token.exp()) {
        if exp > cap {
            token.payload_mut().insert("exp", cap);
        }
    }
    Some(NewSession {
        sid: session_id(token, settings)?.into(),
        user: user.id(),
        created_at: now,
        expires_at,
    })
}

/// A login's token of `token_type` for an authenticated user, its session, and (for a
/// refresh token) its access token.
fn obtain(
    token_type: TokenType,
    user: &impl User,
    settings: &Settings,
    now: i64,
    ids: LoginIds,
) -> Obtained {
    let mut token = for_user(token_type, user, settings, now, ids.jti, ids.session);
    let session = start_session(&mut token, user, settings, now);
    let access = (token_type == TokenType::Refresh)
        .then(|| token.access_token(settings, now, ids.access_jti));
    Obtained {
        outstanding: Outstanding::of(&token, settings),
        access,
        token,
        session,
    }
}

/// `TokenObtainPairSerializer` for an authenticated user: a refresh token and its access
/// token.
pub fn obtain_pair(user: &impl User, settings: &Settings, now: i64, ids: LoginIds) -> Obtained {
    obtain(TokenType::Refresh, user, settings, now, ids)
}

/// `TokenObtainSlidingSerializer` for an authenticated user.
pub fn obtain_sliding(user: &impl User, settings: &Settings, now: i64, ids: LoginIds) -> Obtained {
    obtain(TokenType::Sliding, user, settings, now, ids)
}

/// A token decoded (signature, `exp`, `aud`, … checked), whose typed verification waits
/// on the blacklist: simplejwt's `BlacklistMixin.verify` looks the `jti` up *before*
/// `Token.verify`, so "Token is blacklisted" beats every error found after decoding. This
/// is the one place that order is decided.
#[derive(Debug)]
struct Pending<T> {
    /// The verification's outcome if the token is not blacklisted.
    checked: Result<T, TokenViewError>,
    /// The `jti` to look up, when the token has a string one.
    jti: Option<String>,
}

impl Pending<Token> {
    /// simplejwt's `Token.verify` as a `token_type`, the `jti` kept for the blacklist lookup.
    fn verify(token_type: TokenType, payload: Payload, settings: &Settings, now: i64) -> Self {
        Self {
            jti: payload.get_str(&settings.jti_claim).map(String::from),
            checked: Token::verify(token_type, payload, settings, now).map_err(Into::into),
        }
    }
}

impl<T> Pending<T> {
    /// The view's own work on a verified token; its errors, too, wait on the blacklist.
    fn and_then<U>(self, f: impl FnOnce(T) -> Result<U, TokenViewError>) -> Pending<U> {
        Pending {
            jti: self.jti,
            checked: self.checked.and_then(f),
        }
    }

    fn decide(self, blacklisted: bool) -> Result<T, TokenViewError> {
        if blacklisted {
            return Err(TokenError::Blacklisted.into());
        }
        self.checked
    }
}

/// The user a refresh token names, for the account check. simplejwt checks only when the
/// claim is there and not empty; a claim that names no user (not a string or number, or
/// an `id` that is not one) is "No active account found for the given token."
fn token_user(token: &Token, settings: &Settings) -> Result<Option<UserKey>, TokenViewError> {
    let no_account = || TokenViewError::from(AuthenticationError::NoActiveAccountForToken);
    if token.payload().get(&settings.user_id_claim).is_none() {
        return Ok(None);
    }
    match token.user_id(settings) {
        None => Err(no_account()),
        Some(id) if id.is_empty() => Ok(None),
        Some(id) => UserKey::new(settings.user_id_field, &id)
            .map(Some)
            .ok_or_else(no_account),
    }
}

/// `TokenRefreshView` in progress: the refresh token is decoded.
#[derive(Debug)]
pub struct Refreshing {
    pending: Pending<(Refreshed, Option<UserKey>)>,
    /// The token's session.
    sid: Option<String>,
    /// Rotation with blacklisting is one atomic write (exactly one concurrent winner), and
    /// reuse is detected.
    atomic: bool,
    now: i64,
}

/// What the refresh view needs of storage.
#[derive(Debug)]
pub enum RefreshStorage<'a> {
    /// Look these up, then [`Refreshing::decide`]. When the answer is a new pair,
    /// record [`Refreshed::outstanding`] (rotation without blacklisting).
    Lookup(Lookups<'a>),
    /// In one atomic write: blacklist `old` and record `new` as outstanding (its `exp`
    /// capped at the session's `expires_at`), only if `old` is not blacklisted yet, the
    /// session is not revoked and (when `user` is given) the user passes `require_active`.
    /// Report what was found — was `old` blacklisted already, the user, the session, and
    /// `old`'s child as recorded after the write — and whether this call did the rotation;
    /// then [`Refreshing::decide`].
    Rotate {
        /// The refresh token being rotated out (recorded as outstanding if it is not).
        old: &'a Outstanding,
        /// The rotated refresh token.
        new: &'a Outstanding,
        /// The user the token names.
        user: Option<&'a UserKey>,
        /// The user must be active (`CHECK_USER_IS_ACTIVE`).
        require_active: bool,
    },
}

/// What storage said about a rotation (see [`RefreshStorage::Rotate`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rotated {
    /// What was found: blacklist, user and session before the write; the child after it.
    pub found: Found,
    /// This call blacklisted the old token and recorded the new one.
    pub won: bool,
}

/// Starts `TokenRefreshView` (`{"refresh": raw}`) at `now`, with fresh ids for the new
/// access and refresh tokens. Errors here are decode errors, which come before the
/// blacklist in simplejwt too.
pub fn refresh(
    raw: &str,
    backend: &TokenBackend,
    settings: &Settings,
    now: i64,
    access_jti: Jti,
    refresh_jti: Jti,
) -> Result<Refreshing, TokenError> {
    let payload = backend.decode(raw, now)?;
    let mut sid = None;
    let pending = Pending::verify(TokenType::Refresh, payload, settings, now).and_then(|token| {
        let user = token_user(&token, settings)?;
        sid = session_id(&token, settings).map(String::from);
        Ok((
            rotation::refresh(&token, settings, now, access_jti, refresh_jti),
            user,
        ))
    });
    Ok(Refreshing {
        pending,
        sid,
        atomic: settings.rotate_refresh_tokens && settings.blacklist_after_rotation,
        now,
    })
}

impl Refreshing {
    /// What storage must do before [`Refreshing::decide`].
    pub fn storage<'a>(&'a self, settings: &Settings) -> RefreshStorage<'a> {
        let jti = self.pending.jti.as_deref();
        match &self.pending.checked {
            Ok((out, user)) => match (&out.blacklist, &out.outstanding) {
                (Some(old), Some(new)) if self.atomic => RefreshStorage::Rotate {
                    old,
                    new,
                    user: user.as_ref(),
                    require_active: settings.check_user_is_active,
                },
                // The session too: a session ended with its KV write pending is written
                // by this refresh (`unmirrored_session`), in every mode.
                _ => RefreshStorage::Lookup(Lookups {
                    blacklisted: jti,
                    user: user.as_ref(),
                    session: self.sid.as_deref(),
                }),
            },
            // Only the blacklist can still change the answer.
            Err(_) => RefreshStorage::Lookup(Lookups::blacklist(jti)),
        }
    }

    /// The child a replayed parent gets again: rotated already (by an earlier request or a
    /// concurrent one), within `REFRESH_TOKEN_REUSE_INTERVAL` of that rotation, its child
    /// unused, its session alive.
    fn grace<'f>(
        &self,
        found: &'f Found,
        rotated: Option<bool>,
        settings: &Settings,
    ) -> Option<&'f Child> {
        let replayed = found.blacklisted || rotated == Some(false);
        let interval = i64::try_from(settings.refresh_token_reuse_interval).unwrap_or(i64::MAX);
        found.child.as_ref().filter(|child| {
            self.atomic
                && replayed
                && interval > 0
                && !child.blacklisted
                && !found.session_revoked
                && self.now.saturating_sub(child.created_at) <= interval
                && self.pending.checked.is_ok()
        })
    }

    /// The session to revoke: a rotated-out token used again outside the reuse interval
    /// (or after its child was used) means two holders of one session — a thief.
    pub fn reuse_detected(
        &self,
        found: &Found,
        rotated: Option<bool>,
        settings: &Settings,
    ) -> Option<&str> {
        let replayed = found.blacklisted || rotated == Some(false);
        let rotated_out = found.child.is_some();
        (self.atomic
            && replayed
            && rotated_out
            && !found.session_revoked
            && self.grace(found, rotated, settings).is_none())
        .then_some(self.sid.as_deref())
        .flatten()
    }

    /// A session ended already whose KV revocation was never written (the end's KV write
    /// failed): a refresh with one of its tokens writes it, so that verifiers refuse its
    /// access tokens now, not at the minute's Cron Trigger.
    pub fn unmirrored_session(&self, found: &Found) -> Option<&str> {
        (found.session_revoked && found.session_unmirrored)
            .then_some(self.sid.as_deref())
            .flatten()
    }

    /// The answer, given what storage found (a [`RefreshStorage::Lookup`]) or did (a
    /// [`RefreshStorage::Rotate`]). In simplejwt's order: blacklisted (a revoked session
    /// too; not a replay inside the reuse interval), then the token's own errors, then the
    /// account; a lost rotation race is "Token is blacklisted" unless it is in the interval.
    /// What is left for the host to write is in the answer: [`Refreshed::outstanding`]
    /// (rotation without blacklisting; a rotation has written it) and, after the response,
    /// [`Refreshed::revoke`].
    pub fn decide(
        self,
        found: Found,
        rotated: Option<bool>,
        settings: &Settings,
    ) -> Result<Refreshed, TokenViewError> {
        let grace = self.grace(&found, rotated, settings).cloned();
        let refused = found.blacklisted || found.session_revoked;
        let (mut out, user) = self.pending.decide(refused && grace.is_none())?;
        let allowed = found
            .user
            .as_ref()
            .is_some_and(|u| u.is_active || !settings.check_user_is_active);
        if user.is_some() && !allowed {
            return Err(AuthenticationError::NoActiveAccountForToken.into());
        }
        // A concurrent refresh rotated it first, outside the reuse interval.
        if rotated == Some(false) && grace.is_none() {
            return Err(TokenError::Blacklisted.into());
        }
        // The child as storage recorded it: this rotation's, or the earlier one's (grace).
        let recorded = grace
            .as_ref()
            .or(found.child.as_ref().filter(|_| rotated == Some(true)));
        if let (Some(child), Some(token)) = (recorded, out.refresh.as_mut()) {
            token.restamp(settings, &child.jti, child.created_at, child.expires_at);
        }
        if rotated.is_some() {
            out.outstanding = None;
        }
        if grace.is_some() {
            // The rotation that made this child blacklisted the parent and revokes it.
            out.blacklist = None;
            out.revoke = None;
        }
        if settings.refresh_claims_from_user {
            if let Some(account) = &found.user {
                let tokens = core::iter::once(&mut out.access).chain(out.refresh.as_mut());
                for token in tokens {
                    for claim in &settings.token_claims {
                        match account.claims.get(claim) {
                            Some(value) => {
                                token.payload_mut().insert(claim.as_str(), value.clone())
                            }
                            None => {
                                token.payload_mut().remove(claim);
                            }
                        }
                    }
                }
            }
        }
        Ok(out)
    }
}

/// `TokenVerifyView` in progress: the token is decoded and verified as an `UntypedToken`.
#[derive(Debug)]
pub struct Verifying {
    /// The `jti` to look up: with `BLACKLIST_AFTER_ROTATION`, for blacklistable types.
    jti: Option<String>,
}

/// Starts `TokenVerifyView` (`{"token": raw}`).
pub fn verify(
    raw: &str,
    backend: &TokenBackend,
    settings: &Settings,
    now: i64,
) -> Result<Verifying, TokenError> {
    // The claims as signed are enough: no payload is built.
    let claims = backend.decode_verbatim(raw, now)?;
    Token::check_untyped(&claims, settings, now)?;
    // Only refresh and sliding tokens are ever outstanding, so only they can be on the
    // blacklist: an access token needs no lookup (simplejwt queries for it anyway).
    let blacklistable = claims
        .claim(&settings.token_type_claim)
        .as_str()
        .and_then(TokenType::from_claim)
        .is_none_or(TokenType::is_blacklistable);
    let jti = (settings.blacklist_after_rotation && blacklistable)
        .then(|| claims.claim(&settings.jti_claim).as_str().map(String::from))
        .flatten();
    Ok(Verifying { jti })
}

impl Verifying {
    /// What to look up.
    pub fn lookups(&self) -> Lookups<'_> {
        Lookups::blacklist(self.jti.as_deref())
    }

    /// The answer: simplejwt checks the blacklist last here, and answers a 400.
    pub fn decide(self, found: Found) -> Result<(), TokenViewError> {
        if found.blacklisted {
            return Err(TokenViewError::NonField("Token is blacklisted"));
        }
        Ok(())
    }
}

/// `TokenBlacklistView` (logout) in progress.
#[derive(Debug)]
pub struct Blacklisting {
    pending: Pending<Outstanding>,
    revoke: Vec<Revocation>,
}

/// What the blacklist view needs of storage.
#[derive(Debug)]
pub enum BlacklistStorage<'a> {
    /// Look these up, then [`Blacklisting::decide`] with `won: None`.
    Lookup(Lookups<'a>),
    /// Blacklist this token (recording it as outstanding first if it is not), one
    /// conditional write; report whether this call blacklisted it.
    Blacklist(&'a Outstanding),
}

/// What a logout answers, and what must reach verifiers before the answer is sent.
#[derive(Debug)]
pub struct Logout {
    /// `{}` or simplejwt's error.
    pub answer: Result<(), TokenViewError>,
    /// Revocations to write (idempotent) before answering: the token's `jti` and its
    /// session, so every verifier refuses the session's access tokens. Also on a repeated
    /// logout, so that one whose revocations failed half-way can finish.
    pub revoke: Vec<Revocation>,
    /// The session to record as ended (`logout`), when the token was valid.
    pub end_session: Option<String>,
}

/// Starts `TokenBlacklistView` (`{"refresh": raw}`).
pub fn blacklist(
    raw: &str,
    backend: &TokenBackend,
    settings: &Settings,
    now: i64,
) -> Result<Blacklisting, TokenError> {
    let payload = backend.decode(raw, now)?;
    let mut revoke = Vec::new();
    let pending = Pending::verify(TokenType::Refresh, payload, settings, now).and_then(|token| {
        let outstanding = Outstanding::of(&token, settings);
        revoke.push(Revocation::new(
            &outstanding.jti,
            outstanding.expires_at,
            settings,
        ));
        // The session's access tokens may outlive this refresh token by one lifetime.
        if let Some(sid) = outstanding
            .sid
            .as_deref()
            .filter(|sid| *sid != outstanding.jti)
        {
            let last_access = now.saturating_add_unsigned(settings.access_token_lifetime);
            let until = outstanding.expires_at.max(last_access);
            revoke.push(Revocation::new(sid, until, settings));
        }
        Ok(outstanding)
    });
    Ok(Blacklisting { pending, revoke })
}

impl Blacklisting {
    /// What storage must do before [`Blacklisting::decide`].
    pub fn storage(&self) -> BlacklistStorage<'_> {
        match &self.pending.checked {
            Ok(outstanding) => BlacklistStorage::Blacklist(outstanding),
            Err(_) => BlacklistStorage::Lookup(Lookups::blacklist(self.pending.jti.as_deref())),
        }
    }

    /// The answer. `won`: whether the blacklist write blacklisted the token (`None` after a
    /// lookup). A token blacklisted already answers "Token is blacklisted", as simplejwt
    /// does, and still orders its revocations: the retry of a logout whose revocations
    /// failed finishes it.
    pub fn decide(self, found: Found, won: Option<bool>) -> Logout {
        let blacklisted = found.blacklisted || won == Some(false);
        let end_session = match &self.pending.checked {
            Ok(token) => token.sid.clone(),
            Err(_) => None,
        };
        let valid = self.pending.checked.is_ok();
        let answer = self.pending.decide(blacklisted).map(|_| ());
        Logout {
            answer,
            revoke: if valid { self.revoke } else { Vec::new() },
            end_session,
        }
    }
}

/// `TokenRefreshSlidingView` in progress.
#[derive(Debug)]
pub struct SlidingRefreshing {
    pending: Pending<Token>,
}

/// Starts `TokenRefreshSlidingView` (`{"token": raw}`).
pub fn refresh_sliding(
    raw: &str,
    backend: &TokenBackend,
    settings: &Settings,
    now: i64,
) -> Result<SlidingRefreshing, TokenError> {
    let payload = backend.decode(raw, now)?;
    let pending = Pending::verify(TokenType::Sliding, payload, settings, now)
        .and_then(|token| Ok(rotation::refresh_sliding(token, settings, now)?));
    Ok(SlidingRefreshing { pending })
}

impl SlidingRefreshing {
    /// What to look up.
    pub fn lookups(&self) -> Lookups<'_> {
        Lookups::blacklist(self.pending.jti.as_deref())
    }

    /// The re-stamped token, or the error (blacklisted first).
    pub fn decide(self, found: Found) -> Result<Token, TokenViewError> {
        self.pending.decide(found.blacklisted)
    }
}

/// dj-rest-auth's `PasswordChangeSerializer` (with `OLD_PASSWORD_FIELD_ENABLED`) over
/// Django's `SetPasswordForm`, once the host has checked the old password: the first field
/// in error and its messages, in Django's order — a wrong old password alone; then "The two
/// password fields didn’t match."; then the password validators' messages, all under
/// `new_password2`.
#[cfg(feature = "password-validation")]
pub fn password_change(
    old_password_valid: bool,
    new_password1: &str,
    new_password2: &str,
    user: &crate::password_validation::UserAttributes<'_>,
) -> Result<(), (&'static str, Vec<alloc::borrow::Cow<'static, str>>)> {
    if !old_password_valid {
        return Err((
            "old_password",
            alloc::vec!["Your old password was entered incorrectly. Please enter it again.".into()],
        ));
    }
    if new_password1 != new_password2 {
        return Err((
            "new_password2",
            alloc::vec!["The two password fields didn\u{2019}t match.".into()],
        ));
    }
    crate::password_validation::validate_password(new_password2, user).map_err(|errors| {
        (
            "new_password2",
            errors.into_iter().map(|e| e.message()).collect(),
        )
    })
}

/// The sessions a password change ends: every other session of the user, and with
/// `LOGOUT_ON_PASSWORD_CHANGE` the current one too. Returns the session to keep.
pub fn password_change_keeps<'t>(token: &'t Token, settings: &Settings) -> Option<&'t str> {
    if settings.logout_on_password_change {
        None
    } else {
        session_id(token, settings)
    }
}
