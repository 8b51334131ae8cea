//! simplejwt's `SIMPLE_JWT` settings, read from string values (Worker vars, env, JS objects).
//!
//! Names and defaults are simplejwt 5.5's. Durations are seconds (`300`) or a sum of
//! `<n><unit>` parts with units `s`, `m`, `h`, `d`, `w` (`5m`, `1d`, `1h30m`).

use alloc::{
    borrow::{Cow, ToOwned},
    string::{String, ToString},
    vec::Vec,
};
use core::fmt;

use zeroize::Zeroizing;

use crate::{
    algorithm::Algorithm,
    error::{Quoted, SettingsError},
    json::Reader,
    token::TokenType,
};

/// Defines [`SETTING_NAMES`] and the TypeScript union of the same names
/// ([`SETTING_NAMES_TS`]): the list is written once.
macro_rules! setting_names {
    ($($name:literal,)*) => {
        /// Every setting name the core reads, in simplejwt's spelling (edgejwt's own last).
        pub const SETTING_NAMES: &[&str] = &[$($name,)*];

        /// `export type SettingName = "ACCESS_TOKEN_LIFETIME" | …;`, from [`SETTING_NAMES`].
        pub const SETTING_NAMES_TS: &str = concat!(
            "/** simplejwt setting names (generated from edgejwt-core's SETTING_NAMES). */\nexport type SettingName =",
            $(" | \"", $name, "\"",)*
            ";\n"
        );
    };
}

setting_names! {
    "ACCESS_TOKEN_LIFETIME",
    "REFRESH_TOKEN_LIFETIME",
    "ROTATE_REFRESH_TOKENS",
    "BLACKLIST_AFTER_ROTATION",
    "UPDATE_LAST_LOGIN",
    "ALGORITHM",
    "SIGNING_KEY",
    "VERIFYING_KEY",
    "PREVIOUS_VERIFYING_KEYS",
    "AUDIENCE",
    "ISSUER",
    "LEEWAY",
    "AUTH_HEADER_TYPES",
    "AUTH_HEADER_NAME",
    "USER_ID_FIELD",
    "USER_ID_CLAIM",
    "TOKEN_TYPE_CLAIM",
    "JTI_CLAIM",
    "SLIDING_TOKEN_REFRESH_EXP_CLAIM",
    "SLIDING_TOKEN_LIFETIME",
    "SLIDING_TOKEN_REFRESH_LIFETIME",
    "AUTH_TOKEN_CLASSES",
    "CHECK_USER_IS_ACTIVE",
    "TOKEN_CLAIMS",
    "SESSION_CLAIM",
    "REFRESH_TOKEN_REUSE_INTERVAL",
    "SESSION_LIFETIME",
    "REFRESH_CLAIMS_FROM_USER",
    "CHECK_REVOKE_TOKEN",
    "LOGOUT_ON_PASSWORD_CHANGE",
}

/// The session claim's default name (`SESSION_CLAIM`).
pub const DEFAULT_SESSION_CLAIM: &str = "sid";

/// Settings where an empty value means "off" rather than "the default".
const EMPTY_MEANS_OFF: [&str; 1] = ["SESSION_CLAIM"];

/// `USER_ID_FIELD`: the column of the users table a token's user id claim names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserIdField {
    /// `id` (simplejwt's default): the user's numeric primary key, written as a string.
    Id,
    /// `username`.
    Username,
}

impl UserIdField {
    /// The field's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Id => "id",
            Self::Username => "username",
        }
    }
}

/// A secret string: zeroized on drop, redacted in `Debug`.
#[derive(Clone, Default)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: String) -> Self {
        Self(Zeroizing::new(value))
    }

    /// The secret itself; callers must not log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// simplejwt's settings. Durations are whole seconds.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `ACCESS_TOKEN_LIFETIME` (default 5 minutes).
    pub access_token_lifetime: u64,
    /// `REFRESH_TOKEN_LIFETIME` (default 1 day).
    pub refresh_token_lifetime: u64,
    /// `ROTATE_REFRESH_TOKENS` (default false).
    pub rotate_refresh_tokens: bool,
    /// `BLACKLIST_AFTER_ROTATION` (default false).
    pub blacklist_after_rotation: bool,
    /// `UPDATE_LAST_LOGIN` (default false).
    pub update_last_login: bool,
    /// `ALGORITHM` (default HS256).
    pub algorithm: Algorithm,
    /// `SIGNING_KEY`: the HMAC secret, or a private key as PEM or JWK.
    pub signing_key: Secret,
    /// `VERIFYING_KEY`: for asymmetric algorithms, a public key as PEM or JWK.
    pub verifying_key: Option<String>,
    /// `PREVIOUS_VERIFYING_KEYS` (edgejwt; default none): keys tokens were signed with before
    /// a rotation, accepted until those tokens expire, never used to sign. A JSON array of
    /// keys or a JWK Set: public keys (PEM strings or JWKs) for asymmetric algorithms,
    /// previous secrets (strings or `oct` JWKs) for HMAC. Secret, as HMAC secrets are.
    pub previous_verifying_keys: Secret,
    /// `AUDIENCE`: when set, tokens get this `aud` and must carry it.
    pub audience: Option<String>,
    /// `ISSUER`: when set, tokens get this `iss` and must carry it.
    pub issuer: Option<String>,
    /// `LEEWAY` in seconds for `exp`, `nbf` and `iat` (default 0).
    pub leeway: u64,
    /// `AUTH_HEADER_TYPES` (default `Bearer`); comma-separated when read from a string.
    pub auth_header_types: Vec<String>,
    /// `AUTH_HEADER_NAME` as an HTTP header name (default `Authorization`;
    /// Django's `HTTP_AUTHORIZATION` spelling is accepted).
    pub auth_header_name: String,
    /// `USER_ID_FIELD` (default `id`; `id` or `username`).
    pub user_id_field: UserIdField,
    /// `USER_ID_CLAIM` (default `user_id`).
    pub user_id_claim: String,
    /// `TOKEN_TYPE_CLAIM` (default `token_type`).
    pub token_type_claim: String,
    /// `JTI_CLAIM` (default `jti`).
    pub jti_claim: String,
    /// `SLIDING_TOKEN_REFRESH_EXP_CLAIM` (default `refresh_exp`).
    pub sliding_token_refresh_exp_claim: String,
    /// `SLIDING_TOKEN_LIFETIME` (default 5 minutes).
    pub sliding_token_lifetime: u64,
    /// `SLIDING_TOKEN_REFRESH_LIFETIME` (default 1 day).
    pub sliding_token_refresh_lifetime: u64,
    /// `AUTH_TOKEN_CLASSES` (default `AccessToken`): token types accepted by authentication.
    pub auth_token_classes: Vec<TokenType>,
    /// `CHECK_USER_IS_ACTIVE` (default true).
    pub check_user_is_active: bool,
    /// `TOKEN_CLAIMS` (edgejwt; default none, comma-separated): user fields copied into
    /// every token at login (simplejwt's `get_token` customisation, without code).
    pub token_claims: Vec<String>,
    /// `SESSION_CLAIM` (edgejwt; default `sid`, empty to disable): the claim naming the
    /// login session, set at login and copied into every token derived from it; logout
    /// revokes it, so verifiers refuse the session's access tokens too.
    pub session_claim: Option<String>,
    /// `REFRESH_TOKEN_REUSE_INTERVAL` (edgejwt; default 10 s, `0` off): a rotated-out refresh
    /// token replayed this soon after its rotation, while its child is unused, gets that same
    /// child again (a lost response); any other reuse revokes the whole session.
    pub refresh_token_reuse_interval: u64,
    /// `SESSION_LIFETIME` (edgejwt; default unset = simplejwt's behaviour): no refresh token of
    /// a session outlives `created + SESSION_LIFETIME`.
    pub session_lifetime: Option<u64>,
    /// `REFRESH_CLAIMS_FROM_USER` (edgejwt; default true): a refresh re-reads the
    /// `TOKEN_CLAIMS` from the user, so a role change reaches the next access token.
    pub refresh_claims_from_user: bool,
    /// `CHECK_REVOKE_TOKEN` (simplejwt's name; default false): the issuer's own
    /// authentication also refuses access tokens of revoked sessions.
    pub check_revoke_token: bool,
    /// `LOGOUT_ON_PASSWORD_CHANGE` (dj-rest-auth's name; default false): a password change
    /// revokes the current session too, not only the others.
    pub logout_on_password_change: bool,
}

impl Default for Settings {
    #[cfg_attr(edgejwt_size, optimize(size))]
    fn default() -> Self {
        Self {
            access_token_lifetime: 5 * MINUTE,
            refresh_token_lifetime: DAY,
            rotate_refresh_tokens: false,
            blacklist_after_rotation: false,
            update_last_login: false,
            algorithm: Algorithm::Hs256,
            signing_key: Secret::default(),
            verifying_key: None,
            previous_verifying_keys: Secret::default(),
            audience: None,
            issuer: None,
            leeway: 0,
            auth_header_types: alloc::vec!["Bearer".to_owned()],
            auth_header_name: "Authorization".to_owned(),
            user_id_field: UserIdField::Id,
            user_id_claim: "user_id".to_owned(),
            token_type_claim: "token_type".to_owned(),
            jti_claim: "jti".to_owned(),
            sliding_token_refresh_exp_claim: "refresh_exp".to_owned(),
            sliding_token_lifetime: 5 * MINUTE,
            sliding_token_refresh_lifetime: DAY,
            auth_token_classes: alloc::vec![TokenType::Access],
            check_user_is_active: true,
            token_claims: Vec::new(),
            session_claim: Some(DEFAULT_SESSION_CLAIM.to_owned()),
            refresh_token_reuse_interval: 10,
            session_lifetime: None,
            refresh_claims_from_user: true,
            check_revoke_token: false,
            logout_on_password_change: false,
        }
    }
}

/// A JSON array of strings as one comma-joined text; `None` for any other array.
fn strings_joined(json: &str) -> Option<String> {
    let mut r = Reader::new(json.as_bytes());
    r.array()?;
    let mut items = Vec::new();
    let mut first = true;
    while r.element(&mut first)? {
        items.push(r.string()?);
    }
    Some(items.join(","))
}

const MINUTE: u64 = 60;
const HOUR: u64 = 60 * MINUTE;
const DAY: u64 = 24 * HOUR;
const WEEK: u64 = 7 * DAY;

impl Settings {
    /// Reads settings by name from `lookup` (Worker vars, environment, a JS object).
    /// Missing or empty values keep simplejwt's defaults.
    ///
    /// ```
    /// use edgejwt_core::Settings;
    /// let vars = [("SIGNING_KEY", "a-secret-of-at-least-thirty-two-bytes!!"), ("ACCESS_TOKEN_LIFETIME", "15m")];
    /// let settings = Settings::from_lookup(|name| {
    ///     vars.iter().find(|(n, _)| *n == name).map(|(_, v)| (*v).to_string())
    /// })
    /// .unwrap();
    /// assert_eq!(settings.access_token_lifetime, 900);
    /// ```
    pub fn from_lookup<F>(lookup: F) -> Result<Self, SettingsError>
    where
        F: Fn(&str) -> Option<String>,
    {
        let mut s = Self::default();
        for &name in SETTING_NAMES {
            let Some(raw) = lookup(name) else { continue };
            let value = raw.trim();
            if value.is_empty() && !EMPTY_MEANS_OFF.contains(&name) {
                continue;
            }
            s.set(name, value)?;
        }
        s.check()?;
        Ok(s)
    }

    /// Reads settings from a JSON object of setting names (a settings file; the npm package's
    /// `JSON.stringify` of its settings object), each value as its setting's text: a string as
    /// it is (trimmed), `true`/`false` and a number as written, `null` unset, a list of strings
    /// comma-joined (except `PREVIOUS_VERIFYING_KEYS`, whose keys may hold commas: the list's
    /// JSON), anything else (a JWK) its JSON. Unknown names are an error; checked as a whole.
    ///
    /// ```
    /// use edgejwt_core::Settings;
    /// let json = r#"{"SIGNING_KEY": "a-secret-of-at-least-thirty-two-bytes!!", "LEEWAY": 30,
    ///     "AUTH_HEADER_TYPES": ["Bearer", "JWT"], "AUDIENCE": null}"#;
    /// let settings = Settings::from_json(json).unwrap();
    /// assert_eq!((settings.leeway, settings.auth_header_types.len()), (30, 2));
    /// ```
    #[cfg_attr(edgejwt_size, optimize(size))]
    pub fn from_json(json: &str) -> Result<Self, SettingsError> {
        let invalid = || SettingsError {
            setting: "<settings>",
            value: String::new(),
            reason: "not a JSON object of setting names".into(),
        };
        let mut r = Reader::new(json.as_bytes());
        r.object().ok_or_else(invalid)?;
        let mut s = Self::default();
        let mut first = true;
        while let Some(name) = r.key(&mut first).ok_or_else(invalid)? {
            let text = match r.peek() {
                Some(b'"') => r.string().ok_or_else(invalid)?,
                _ => {
                    let raw = r.raw().ok_or_else(invalid)?;
                    // The reader took a whole value from a `&str`: it ends on a char boundary.
                    let raw = core::str::from_utf8(raw).map_err(|_| invalid())?;
                    match raw.as_bytes().first() {
                        Some(b'n') => continue,
                        Some(b'[') if name != "PREVIOUS_VERIFYING_KEYS" => {
                            strings_joined(raw).map_or(Cow::Borrowed(raw), Cow::Owned)
                        }
                        _ => Cow::Borrowed(raw),
                    }
                }
            };
            s.set(&name, text.trim())?;
        }
        r.end().ok_or_else(invalid)?;
        s.check()?;
        Ok(s)
    }

    /// Sets one setting from its string value. Unknown names are an error.
    #[cfg_attr(edgejwt_size, optimize(size))]
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), SettingsError> {
        let Some(&name) = SETTING_NAMES.iter().find(|n| **n == name) else {
            return Err(SettingsError {
                setting: "<unknown>",
                value: name.to_string(),
                reason: "unknown setting".into(),
            });
        };
        match name {
            "ACCESS_TOKEN_LIFETIME" => self.access_token_lifetime = lifetime(name, value)?,
            "REFRESH_TOKEN_LIFETIME" => self.refresh_token_lifetime = lifetime(name, value)?,
            "SLIDING_TOKEN_LIFETIME" => self.sliding_token_lifetime = lifetime(name, value)?,
            "SLIDING_TOKEN_REFRESH_LIFETIME" => {
                self.sliding_token_refresh_lifetime = lifetime(name, value)?;
            }
            "LEEWAY" => self.leeway = parse_duration(name, value)?,
            "ROTATE_REFRESH_TOKENS" => self.rotate_refresh_tokens = parse_bool(name, value)?,
            "BLACKLIST_AFTER_ROTATION" => {
                self.blacklist_after_rotation = parse_bool(name, value)?;
            }
            "UPDATE_LAST_LOGIN" => self.update_last_login = parse_bool(name, value)?,
            "CHECK_USER_IS_ACTIVE" => self.check_user_is_active = parse_bool(name, value)?,
            "ALGORITHM" => {
                self.algorithm = value.parse().map_err(|()| {
                    SettingsError::new(
                        name,
                        value,
                        "unsupported algorithm (HS256/384/512, RS256/384/512, PS256/384/512, ES256/384/512, EdDSA)",
                    )
                })?;
            }
            "SIGNING_KEY" => self.signing_key = Secret::new(value.to_owned()),
            "VERIFYING_KEY" => self.verifying_key = Some(value.to_owned()),
            "PREVIOUS_VERIFYING_KEYS" => {
                self.previous_verifying_keys = Secret::new(value.to_owned());
            }
            "AUDIENCE" => self.audience = Some(value.to_owned()),
            "ISSUER" => self.issuer = Some(value.to_owned()),
            "AUTH_HEADER_TYPES" => self.auth_header_types = parse_header_types(name, value)?,
            "AUTH_HEADER_NAME" => self.auth_header_name = parse_header_name(name, value)?,
            "USER_ID_FIELD" => {
                self.user_id_field = match value {
                    "id" => UserIdField::Id,
                    "username" => UserIdField::Username,
                    _ => {
                        return Err(SettingsError::new(
                            name,
                            value,
                            "expected id or username (the users table's unique fields)",
                        ))
                    }
                };
            }
            "USER_ID_CLAIM" => self.user_id_claim = identifier(name, value)?,
            "TOKEN_TYPE_CLAIM" => self.token_type_claim = identifier(name, value)?,
            "JTI_CLAIM" => self.jti_claim = identifier(name, value)?,
            "SLIDING_TOKEN_REFRESH_EXP_CLAIM" => {
                self.sliding_token_refresh_exp_claim = identifier(name, value)?;
            }
            "AUTH_TOKEN_CLASSES" => self.auth_token_classes = parse_token_classes(name, value)?,
            "TOKEN_CLAIMS" => {
                self.token_claims = value
                    .split(',')
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(|c| identifier(name, c))
                    .collect::<Result<_, _>>()?;
            }
            "REFRESH_TOKEN_REUSE_INTERVAL" => {
                self.refresh_token_reuse_interval = parse_duration(name, value)?;
            }
            "SESSION_LIFETIME" => self.session_lifetime = Some(lifetime(name, value)?),
            "REFRESH_CLAIMS_FROM_USER" => self.refresh_claims_from_user = parse_bool(name, value)?,
            "CHECK_REVOKE_TOKEN" => self.check_revoke_token = parse_bool(name, value)?,
            "LOGOUT_ON_PASSWORD_CHANGE" => {
                self.logout_on_password_change = parse_bool(name, value)?;
            }
            "SESSION_CLAIM" => {
                self.session_claim = match value.trim() {
                    "" => None,
                    claim => Some(identifier(name, claim)?),
                };
            }
            _ => {}
        }
        Ok(())
    }

    /// Checks rules that span settings: no two claim settings name the same claim, and none
    /// names a registered claim, so no setting can overwrite `user_id`, `token_type`, `jti`
    /// or `exp` in an issued token.
    #[cfg_attr(edgejwt_size, optimize(size))]
    pub fn check(&self) -> Result<(), SettingsError> {
        const REGISTERED: [&str; 5] = ["exp", "iat", "nbf", "aud", "iss"];
        let mut claims: Vec<(&'static str, &str)> = alloc::vec![
            ("USER_ID_CLAIM", self.user_id_claim.as_str()),
            ("TOKEN_TYPE_CLAIM", self.token_type_claim.as_str()),
            ("JTI_CLAIM", self.jti_claim.as_str()),
            (
                "SLIDING_TOKEN_REFRESH_EXP_CLAIM",
                self.sliding_token_refresh_exp_claim.as_str()
            ),
        ];
        if let Some(sid) = &self.session_claim {
            claims.push(("SESSION_CLAIM", sid));
        }
        claims.extend(
            self.token_claims
                .iter()
                .map(|c| ("TOKEN_CLAIMS", c.as_str())),
        );
        for (i, &(name, claim)) in claims.iter().enumerate() {
            if REGISTERED.contains(&claim) || claim == "jti" && name != "JTI_CLAIM" {
                return Err(SettingsError::new(
                    name,
                    claim,
                    alloc::format!("names the registered claim {}", Quoted(claim)),
                ));
            }
            if let Some((other, _)) = claims.iter().take(i).find(|(_, c)| *c == claim) {
                return Err(SettingsError::new(
                    name,
                    claim,
                    alloc::format!(
                        "names the claim {}, which {other} already names",
                        Quoted(claim)
                    ),
                ));
            }
        }
        Ok(())
    }

    /// How long a revoked session's id must stay revoked for verifiers: the longest any
    /// token of it issued up to `now` can still be accepted.
    pub fn session_revoked_until(&self, now: i64) -> i64 {
        let longest = self
            .refresh_token_lifetime
            .max(self.sliding_token_refresh_lifetime)
            .saturating_add(self.access_token_lifetime)
            .saturating_add(self.leeway);
        now.saturating_add_unsigned(longest)
    }

    /// The time before which stored blacklist rows can go (simplejwt's
    /// `flushexpiredtokens`): a token lives until `exp + LEEWAY`, so its row must too.
    pub fn flush_before(&self, now: i64) -> i64 {
        now.saturating_sub(i64::try_from(self.leeway).unwrap_or(i64::MAX))
    }

    /// The `WWW-Authenticate` value simplejwt sends with a 401: `Bearer realm="api"`.
    pub fn www_authenticate(&self) -> String {
        let scheme = self
            .auth_header_types
            .first()
            .map_or("Bearer", String::as_str);
        alloc::format!("{scheme} realm=\"api\"")
    }
}

/// The issuer's `D1_READ_REPLICAS`: its read-only views read through D1's Sessions API, from any
/// replica (the worker's `storage::Replication`). Off by default: a replica may lag a blacklisting.
pub const D1_READ_REPLICAS: &str = "D1_READ_REPLICAS";

/// [`D1_READ_REPLICAS`] from its raw value (`None` or empty: unset, off).
pub fn d1_read_replicas(value: Option<&str>) -> Result<bool, SettingsError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(false),
        Some(v) => parse_bool(D1_READ_REPLICAS, v),
    }
}

/// The issuer's `AUTH_EVENTS_RETENTION`: how long the daily flush keeps audit events (one row
/// per login and per refresh, so without a limit the table outgrows the database).
pub const AUTH_EVENTS_RETENTION: &str = "AUTH_EVENTS_RETENTION";

/// [`AUTH_EVENTS_RETENTION`]'s default: 90 days.
pub const DEFAULT_AUTH_EVENTS_RETENTION: u64 = 90 * DAY;

/// [`AUTH_EVENTS_RETENTION`] from its raw value, in seconds: `None` or empty is the default,
/// `0` keeps events forever (`None`), else a duration as the lifetimes are written.
pub fn auth_events_retention(value: Option<&str>) -> Result<Option<u64>, SettingsError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(Some(DEFAULT_AUTH_EVENTS_RETENTION)),
        Some(v) => Ok(Some(parse_duration(AUTH_EVENTS_RETENTION, v)?).filter(|&secs| secs > 0)),
    }
}

/// The issuer's `LOG_LEVEL`: the least level of the lines it logs, by Python's level names,
/// as a Django project sets its `django` logger's (`DJANGO_LOG_LEVEL` in Django's logging
/// docs). An error answered is logged as `django.request` logs it, a 4xx at WARNING and a 5xx
/// at ERROR ([`LogLevel::of_status`]); the Cron Triggers' reports are INFO.
pub const LOG_LEVEL: &str = "LOG_LEVEL";

/// A level of Python's `logging`, least first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    /// `DEBUG`.
    Debug,
    /// `INFO`, [`LOG_LEVEL`]'s default: every line.
    Info,
    /// `WARNING` (`WARN`).
    Warning,
    /// `ERROR`.
    Error,
    /// `CRITICAL` (`FATAL`): none of the issuer's lines.
    Critical,
}

impl LogLevel {
    /// The level `django.request` logs a response of `status` at: ERROR for 5xx, WARNING
    /// for 4xx (a request the client got wrong), INFO below.
    pub fn of_status(status: u16) -> Self {
        match status {
            500.. => Self::Error,
            400..=499 => Self::Warning,
            _ => Self::Info,
        }
    }
}

/// [`LOG_LEVEL`] from its raw value (`None` or empty: INFO), a name as Python's `logging`
/// knows it, in any case.
pub fn log_level(value: Option<&str>) -> Result<LogLevel, SettingsError> {
    let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(LogLevel::Info);
    };
    match v.to_ascii_uppercase().as_str() {
        "DEBUG" => Ok(LogLevel::Debug),
        "INFO" => Ok(LogLevel::Info),
        "WARNING" | "WARN" => Ok(LogLevel::Warning),
        "ERROR" => Ok(LogLevel::Error),
        "CRITICAL" | "FATAL" => Ok(LogLevel::Critical),
        _ => Err(SettingsError::new(
            LOG_LEVEL,
            v,
            "expected DEBUG, INFO, WARNING, ERROR or CRITICAL",
        )),
    }
}

/// Settings only the issuer reads (the token settings are [`SETTING_NAMES`], the browser's
/// [`crate::browser::BROWSER_SETTING_NAMES`]): for the Worker and the CLI's `check-config`.
pub const ISSUER_SETTING_NAMES: &[&str] = &[
    "PASSWORD_HASH_ITERATIONS",
    crate::authentication::AUTHENTICATION_CLASSES,
    D1_READ_REPLICAS,
    AUTH_EVENTS_RETENTION,
    LOG_LEVEL,
];

pub(crate) fn parse_bool(name: &'static str, value: &str) -> Result<bool, SettingsError> {
    match value.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(SettingsError::new(
            name,
            value,
            "expected true/false (or 1/0, yes/no, on/off)",
        )),
    }
}

/// A lifetime: a duration that must be positive.
fn lifetime(name: &'static str, value: &str) -> Result<u64, SettingsError> {
    match parse_duration(name, value)? {
        0 => Err(SettingsError::new(name, value, "must be longer than 0s")),
        secs => Ok(secs),
    }
}

/// Parses `300`, `5m`, `1d`, `1h30m` (units s, m, h, d, w) into seconds.
#[cfg_attr(edgejwt_size, optimize(size))]
pub fn parse_duration(name: &'static str, value: &str) -> Result<u64, SettingsError> {
    let bad = |reason: &'static str| SettingsError::new(name, value, reason);
    // Durations far beyond any token's life would overflow `exp` arithmetic.
    const MAX: u64 = 100 * 365 * DAY;
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        let secs: u64 = value.parse().map_err(|_| bad("number too large"))?;
        return if secs > MAX {
            Err(bad("longer than 100 years"))
        } else {
            Ok(secs)
        };
    }
    let mut total: u64 = 0;
    let mut rest = value;
    if rest.is_empty() {
        return Err(bad("empty duration"));
    }
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(bad(
                "expected seconds or <number><unit> parts with units s, m, h, d, w (e.g. 5m, 1d, 1h30m)",
            ));
        }
        let (number, tail) = rest.split_at(digits);
        let n: u64 = number.parse().map_err(|_| bad("number too large"))?;
        let mut chars = tail.chars();
        let unit = match chars.next() {
            Some('s') => 1,
            Some('m') => MINUTE,
            Some('h') => HOUR,
            Some('d') => DAY,
            Some('w') => WEEK,
            _ => {
                return Err(bad(
                    "expected seconds or <number><unit> parts with units s, m, h, d, w (e.g. 5m, 1d, 1h30m)",
                ))
            }
        };
        total = n
            .checked_mul(unit)
            .and_then(|part| total.checked_add(part))
            .filter(|t| *t <= MAX)
            .ok_or_else(|| bad("longer than 100 years"))?;
        rest = chars.as_str();
    }
    Ok(total)
}

fn identifier(name: &'static str, value: &str) -> Result<String, SettingsError> {
    let ok = value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':' | b'/'));
    if ok {
        Ok(value.to_owned())
    } else {
        Err(SettingsError::new(
            name,
            value,
            "expected a name of letters, digits and _-.:/",
        ))
    }
}

fn parse_header_types(name: &'static str, value: &str) -> Result<Vec<String>, SettingsError> {
    let types: Vec<String> = value
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(ToOwned::to_owned)
        .collect();
    let valid = |t: &String| t.bytes().all(|b| b.is_ascii_graphic());
    if types.is_empty() || !types.iter().all(valid) {
        return Err(SettingsError::new(
            name,
            value,
            "expected comma-separated schemes such as Bearer,JWT",
        ));
    }
    Ok(types)
}

fn parse_header_name(name: &'static str, value: &str) -> Result<String, SettingsError> {
    // Django spells headers as WSGI keys: HTTP_AUTHORIZATION, HTTP_X_TOKEN.
    let header = match value.strip_prefix("HTTP_") {
        Some(rest) => rest.replace('_', "-"),
        None => value.to_owned(),
    };
    let valid = !header.is_empty()
        && header
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if valid {
        Ok(header)
    } else {
        Err(SettingsError::new(
            name,
            value,
            "expected an HTTP header name such as Authorization or HTTP_AUTHORIZATION",
        ))
    }
}

#[cfg_attr(edgejwt_size, optimize(size))]
fn parse_token_classes(name: &'static str, value: &str) -> Result<Vec<TokenType>, SettingsError> {
    let mut classes = Vec::new();
    for part in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        // Accept simplejwt's dotted paths: rest_framework_simplejwt.tokens.AccessToken.
        let class = part.rsplit('.').next().unwrap_or(part);
        let token_type = TokenType::from_class_name(class).ok_or_else(|| {
            SettingsError::new(
                name,
                value,
                "expected AccessToken, SlidingToken or RefreshToken (comma-separated)",
            )
        })?;
        if !classes.contains(&token_type) {
            classes.push(token_type);
        }
    }
    if classes.is_empty() {
        return Err(SettingsError::new(name, value, "no token class given"));
    }
    Ok(classes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The generated TypeScript union names exactly [`SETTING_NAMES`], in order.
    #[test]
    fn typescript_union_is_the_list() {
        assert_eq!(crate::error::union_members(SETTING_NAMES_TS), SETTING_NAMES);
    }

    /// Python's level names in any case, unset is INFO; `django.request`'s levels by status.
    #[test]
    fn log_levels() {
        assert_eq!(log_level(None), Ok(LogLevel::Info));
        assert_eq!(log_level(Some(" ")), Ok(LogLevel::Info));
        assert_eq!(log_level(Some("error")), Ok(LogLevel::Error));
        assert_eq!(log_level(Some("WARN")), Ok(LogLevel::Warning));
        assert_eq!(log_level(Some("Critical")), Ok(LogLevel::Critical));
        assert_eq!(log_level(Some("DEBUG")), Ok(LogLevel::Debug));
        let e = log_level(Some("loud")).unwrap_err();
        assert_eq!(e.setting, LOG_LEVEL);
        assert!(log_level(Some("30")).is_err(), "numbers are not names");
        assert_eq!(LogLevel::of_status(404), LogLevel::Warning);
        assert_eq!(LogLevel::of_status(429), LogLevel::Warning);
        assert_eq!(LogLevel::of_status(500), LogLevel::Error);
        assert_eq!(LogLevel::of_status(503), LogLevel::Error);
        assert_eq!(LogLevel::of_status(200), LogLevel::Info);
        // A line is written when its level is at least the setting's.
        assert!(LogLevel::Warning >= LogLevel::Info && LogLevel::Warning < LogLevel::Error);
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("LEEWAY", "0"), Ok(0));
        assert_eq!(parse_duration("LEEWAY", "300"), Ok(300));
        assert_eq!(parse_duration("LEEWAY", "5m"), Ok(300));
        assert_eq!(parse_duration("LEEWAY", "1d"), Ok(86_400));
        assert_eq!(parse_duration("LEEWAY", "1h30m"), Ok(5_400));
        assert_eq!(parse_duration("LEEWAY", "2w1s"), Ok(1_209_601));
        for bad in [
            "",
            "5 m",
            "m",
            "5x",
            "-5",
            "1.5h",
            "5m3",
            "99999999999999999999",
        ] {
            let err = parse_duration("LEEWAY", bad).unwrap_err();
            assert_eq!(err.setting, "LEEWAY");
            assert_eq!(err.value, bad);
        }
    }

    #[test]
    fn secret_values_are_redacted() {
        let mut s = Settings::default();
        s.set("SIGNING_KEY", "top-secret").unwrap();
        assert!(!alloc::format!("{s:?}").contains("top-secret"));
        let err = SettingsError::new("SIGNING_KEY", "top-secret", "weak");
        assert!(!err.to_string().contains("top-secret"));
    }

    /// Each kind of JSON value becomes the text `set` reads, as the npm package's settings
    /// object (through `JSON.stringify`) always became it.
    #[test]
    fn json_settings() {
        let key = "a-secret-of-at-least-thirty-two-bytes!!";
        let s = Settings::from_json(&alloc::format!(
            r#" {{"SIGNING_KEY": " {key} ", "LEEWAY": 30, "AUTH_HEADER_TYPES": ["Bearer","JWT"],
                "AUDIENCE": null, "ISSUER": "iss\u00e9", "CHECK_REVOKE_TOKEN": true,
                "PREVIOUS_VERIFYING_KEYS": ["old,with,commas-0123456789abcdef0123456789"]}} "#
        ))
        .unwrap();
        assert_eq!(s.signing_key.expose(), key);
        assert_eq!(s.leeway, 30);
        assert_eq!(s.auth_header_types, ["Bearer", "JWT"]);
        assert_eq!((s.audience, s.issuer.as_deref()), (None, Some("issé")));
        assert!(s.check_revoke_token);
        // A list of keys stays a list: its keys hold commas.
        assert_eq!(
            s.previous_verifying_keys.expose(),
            r#"["old,with,commas-0123456789abcdef0123456789"]"#
        );
        // An object (a JWK) is its JSON text.
        let jwk = r#"{"kty":"oct","k":"YS1zZWNyZXQtb2YtYXQtbGVhc3QtdGhpcnR5LXR3by1ieXRlcyEh"}"#;
        let s = Settings::from_json(&alloc::format!(r#"{{"SIGNING_KEY":{jwk}}}"#)).unwrap();
        assert_eq!(s.signing_key.expose(), jwk);
        // Values of the wrong kind name their setting.
        for (json, setting) in [
            (r#"{"LEEWAY": 1.5}"#, "LEEWAY"),
            (r#"{"CHECK_REVOKE_TOKEN": 2}"#, "CHECK_REVOKE_TOKEN"),
            (r#"{"CHECK_REVOKE_TOKEN": [true]}"#, "CHECK_REVOKE_TOKEN"),
            (r#"{"NOT_A_SETTING": "1"}"#, "<unknown>"),
        ] {
            assert_eq!(
                Settings::from_json(json).unwrap_err().setting,
                setting,
                "{json}"
            );
        }
        // Not one JSON object.
        for json in [
            "",
            "[]",
            "null",
            "{",
            r#"{"LEEWAY": 1,}"#,
            "{} {}",
            r#"{"LEEWAY" 1}"#,
        ] {
            assert_eq!(
                Settings::from_json(json).unwrap_err().setting,
                "<settings>",
                "{json}"
            );
        }
    }

    #[test]
    fn django_header_name_and_classes() {
        let mut s = Settings::default();
        s.set("AUTH_HEADER_NAME", "HTTP_X_AUTH_TOKEN").unwrap();
        assert_eq!(s.auth_header_name, "X-AUTH-TOKEN");
        s.set(
            "AUTH_TOKEN_CLASSES",
            "rest_framework_simplejwt.tokens.AccessToken, SlidingToken",
        )
        .unwrap();
        assert_eq!(
            s.auth_token_classes,
            [TokenType::Access, TokenType::Sliding]
        );
        assert!(s.set("AUTH_TOKEN_CLASSES", "UntypedToken").is_err());
        assert!(s.set("ALGORITHM", "none").is_err());
        assert!(s.set("NOT_A_SETTING", "1").is_err());
    }
}
