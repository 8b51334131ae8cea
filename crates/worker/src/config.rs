//! The issuer's configuration: simplejwt's settings from Worker vars and secrets, plus the
//! few settings of edgejwt's own. Built once per isolate.

use std::{cell::RefCell, rc::Rc};

use edgejwt_core::{Settings, SettingsError, TokenBackend};
use worker::Env;

/// PBKDF2-SHA256 iterations for new password hashes. Django 6.1 uses 1,500,000, which
/// costs seconds of Worker CPU per login; this default keeps a login near the CPU a
/// Worker request should use, and imported Django hashes still verify at their own cost.
/// Measured and justified in the README ("Password hashing").
pub const DEFAULT_PASSWORD_HASH_ITERATIONS: u32 = 100_000;

/// Everything a request needs that does not change between requests.
#[derive(Debug)]
pub struct Config {
    pub settings: Settings,
    pub backend: TokenBackend,
    /// User fields copied into every token at login (`TOKEN_CLAIMS`, comma-separated):
    /// `username`, `email`, `first_name`, `last_name`, `is_staff`, `is_superuser`, or any
    /// key of the user's `claims` JSON (e.g. `roles`).
    pub token_claims: Vec<String>,
    pub password_hash_iterations: u32,
    /// `SESSION_CLAIM` (default `sid`; empty to disable): a claim naming the login session,
    /// set on refresh and sliding tokens at login and copied into every token derived from
    /// them. Logout revokes it in KV, so verifiers with the KV binding refuse every token of
    /// the session, access tokens included.
    pub session_claim: Option<String>,
    /// `WWW-Authenticate` for 401s.
    pub www_authenticate: String,
}

thread_local! {
    static CONFIG: RefCell<Option<Rc<Config>>> = const { RefCell::new(None) };
}

fn lookup(env: &Env, name: &str) -> Option<String> {
    // Secrets and plain vars are both strings on `env`; either may hold a setting.
    env.secret(name)
        .map(|s| s.to_string())
        .or_else(|_| env.var(name).map(|v| v.to_string()))
        .ok()
}

impl Config {
    /// The configuration for this isolate, built on first use. An invalid setting is an
    /// error naming it (and is retried on the next request, so a fixed deploy recovers).
    pub fn get(env: &Env) -> Result<Rc<Config>, SettingsError> {
        if let Some(config) = CONFIG.with(|c| c.borrow().clone()) {
            return Ok(config);
        }
        let config = Rc::new(Self::from_env(env)?);
        CONFIG.with(|c| *c.borrow_mut() = Some(config.clone()));
        Ok(config)
    }

    fn from_env(env: &Env) -> Result<Self, SettingsError> {
        let settings = Settings::from_lookup(|name| lookup(env, name))?;
        let backend = TokenBackend::from_settings(&settings)?;
        if !backend.can_sign() {
            return Err(SettingsError {
                setting: "SIGNING_KEY",
                value: String::new(),
                reason: "the issuer needs a signing key".into(),
            });
        }
        let token_claims = lookup(env, "TOKEN_CLAIMS")
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        let password_hash_iterations = match lookup(env, "PASSWORD_HASH_ITERATIONS") {
            None => DEFAULT_PASSWORD_HASH_ITERATIONS,
            Some(v) => v
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|n| *n >= 10_000)
                .ok_or_else(|| SettingsError {
                    setting: "PASSWORD_HASH_ITERATIONS",
                    value: v.clone(),
                    reason: "expected a whole number of at least 10000".into(),
                })?,
        };
        let session_claim = match lookup(env, "SESSION_CLAIM") {
            None => Some("sid".to_owned()),
            Some(v) if v.trim().is_empty() => None,
            Some(v) => Some(v.trim().to_owned()),
        };
        let www_authenticate = settings.www_authenticate();
        Ok(Self {
            settings,
            backend,
            token_claims,
            password_hash_iterations,
            session_claim,
            www_authenticate,
        })
    }
}
