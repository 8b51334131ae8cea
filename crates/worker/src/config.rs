//! The issuer's configuration: simplejwt's settings (and edgejwt's, all defined by
//! edgejwt-core) from Worker vars and secrets, plus the issuer's own. Built once per isolate.

use std::{cell::RefCell, rc::Rc};

use edgejwt_core::{
    authentication::AUTHENTICATION_CLASSES,
    browser::BrowserSettings,
    password,
    settings::{self, LogLevel},
    Settings, SettingsError, TokenBackend, UserAuthentication,
};
use worker::Env;

/// Largest request body accepted, in bytes (413 above it). Credentials and tokens fit in a
/// few hundred bytes; the cap keeps parsing cost bounded.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// Every setting the Worker reads from its environment, in one list (`scripts/dev.sh`
/// passes each through; a test checks it).
#[cfg(test)]
pub fn all_setting_names() -> impl Iterator<Item = &'static str> {
    edgejwt_core::SETTING_NAMES
        .iter()
        .chain(edgejwt_core::browser::BROWSER_SETTING_NAMES)
        .chain(edgejwt_core::settings::ISSUER_SETTING_NAMES)
        .copied()
}

/// Everything a request needs that does not change between requests.
#[derive(Debug)]
pub struct Config {
    pub settings: Settings,
    pub backend: TokenBackend,
    /// Cookie mode, CSRF, CORS and login throttling.
    pub browser: BrowserSettings,
    pub password_hash_iterations: u32,
    /// How `/api/protected/` builds its user (`DEFAULT_AUTHENTICATION_CLASSES`).
    pub user_authentication: UserAuthentication,
    /// `WWW-Authenticate` for 401s.
    pub www_authenticate: String,
    /// `D1_READ_REPLICAS`.
    pub d1_read_replicas: bool,
    /// `AUTH_EVENTS_RETENTION` in seconds; `None`: kept forever.
    pub auth_events_retention: Option<u64>,
    /// `LOG_LEVEL`: the least level written (`crate::log`).
    pub log_level: LogLevel,
    /// The request headers the issuer reads (`crate::request::header_names`).
    pub header_names: js_sys::Array,
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

    /// The `LOG_LEVEL` of the configuration this isolate built; INFO (the setting's default)
    /// before one is built, or while none can be.
    pub fn log_level() -> LogLevel {
        CONFIG.with(|c| c.borrow().as_ref().map_or(LogLevel::Info, |c| c.log_level))
    }

    fn from_env(env: &Env) -> Result<Self, SettingsError> {
        let settings = Settings::from_lookup(|name| lookup(env, name))?;
        let backend = TokenBackend::from_settings(&settings)?;
        if !backend.can_sign() {
            return Err(SettingsError::new(
                "SIGNING_KEY",
                "",
                "the issuer needs a signing key",
            ));
        }
        // Looked up by each write (crate::storage::Revocations), checked once here.
        if env.kv("REVOCATIONS").is_err() {
            return Err(SettingsError::new(
                "REVOCATIONS",
                "",
                "the issuer needs its KV namespace binding",
            ));
        }
        let password_hash_iterations =
            password::hash_iterations(lookup(env, "PASSWORD_HASH_ITERATIONS").as_deref())?;
        let user_authentication =
            UserAuthentication::from_setting(lookup(env, AUTHENTICATION_CLASSES).as_deref())?;
        let mut browser = BrowserSettings::from_lookup(|name| lookup(env, name))?;
        let www_authenticate = settings.www_authenticate();
        let d1_read_replicas =
            settings::d1_read_replicas(lookup(env, settings::D1_READ_REPLICAS).as_deref())?;
        let auth_events_retention = settings::auth_events_retention(
            lookup(env, settings::AUTH_EVENTS_RETENTION).as_deref(),
        )?;
        let log_level = settings::log_level(lookup(env, settings::LOG_LEVEL).as_deref())?;
        if d1_read_replicas {
            // A SPA on another origin reads its bookmark and sends it back.
            browser.cors.carry(crate::storage::BOOKMARK_HEADER);
        }
        let header_names =
            crate::request::header_names(&[&settings.auth_header_name, &browser.csrf_header]);
        Ok(Self {
            header_names,
            settings,
            backend,
            browser,
            password_hash_iterations,
            user_authentication,
            www_authenticate,
            d1_read_replicas,
            auth_events_retention,
            log_level,
        })
    }
}

#[cfg(test)]
mod tests {
    /// `scripts/dev.sh` passes every setting the Worker reads through to `wrangler dev`.
    #[test]
    fn the_run_command_passes_every_setting() {
        let script = include_str!("../../../scripts/dev.sh");
        let list = script
            .lines()
            .find_map(|l| l.trim().strip_prefix("SETTINGS=\""))
            .and_then(|l| l.strip_suffix('"'))
            .expect("scripts/dev.sh has a SETTINGS=\"...\" line");
        let passed: Vec<&str> = list.split_whitespace().collect();
        let read: Vec<&str> = super::all_setting_names().collect();
        assert_eq!(
            passed, read,
            "scripts/dev.sh SETTINGS must list what the Worker reads, in order"
        );
    }
}
