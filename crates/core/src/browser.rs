//! Browsers: the refresh cookie (dj-rest-auth's settings), Django's CSRF check, CORS
//! (django-cors-headers' settings) and DRF's login throttle rates. Pure rules: the host
//! reads headers and cookies, keeps the throttle's counters, and writes what is decided here.
//!
//! Texts are Django 6.1's and DRF 3.18's, recorded from the real ones
//! (`scripts/record-django-csrf.py`, `tests/fixtures/django-csrf.json`).

use alloc::{
    borrow::ToOwned,
    format,
    string::{String, ToString},
    vec::Vec,
};

use subtle::ConstantTimeEq;

use crate::{error::SettingsError, settings::parse_bool};

/// Every setting this module reads, by its Django-ecosystem name.
pub const BROWSER_SETTING_NAMES: &[&str] = &[
    "JWT_AUTH_REFRESH_COOKIE",
    "JWT_AUTH_REFRESH_COOKIE_PATH",
    "JWT_AUTH_SECURE",
    "JWT_AUTH_SAMESITE",
    "JWT_AUTH_HTTPONLY",
    "JWT_AUTH_COOKIE_DOMAIN",
    "CSRF_COOKIE_NAME",
    "CSRF_HEADER_NAME",
    "CSRF_TRUSTED_ORIGINS",
    "CSRF_COOKIE_SECURE",
    "CSRF_COOKIE_DOMAIN",
    "CSRF_COOKIE_SAMESITE",
    "CORS_ALLOWED_ORIGINS",
    "CORS_ALLOW_ALL_ORIGINS",
    "CORS_ALLOW_CREDENTIALS",
    "CORS_ALLOW_HEADERS",
    "CORS_ALLOW_METHODS",
    "CORS_EXPOSE_HEADERS",
    "CORS_PREFLIGHT_MAX_AGE",
    "LOGIN_THROTTLE_RATE",
    "LOGIN_IP_THROTTLE_RATE",
];

/// A cookie's `SameSite`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SameSite {
    /// `Lax` (the default).
    Lax,
    /// `Strict`.
    Strict,
    /// `None` (needs `Secure`).
    None,
}

impl SameSite {
    /// The attribute's value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Lax => "Lax",
            Self::Strict => "Strict",
            Self::None => "None",
        }
    }
}

/// Where and how a cookie is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieSpec {
    /// The cookie's name.
    pub name: String,
    /// `Path`.
    pub path: String,
    /// `Domain`, when set.
    pub domain: Option<String>,
    /// `Secure`.
    pub secure: bool,
    /// `HttpOnly`.
    pub http_only: bool,
    /// `SameSite`.
    pub same_site: SameSite,
}

impl CookieSpec {
    /// The `Set-Cookie` value for `value` living `max_age` seconds (0 removes the cookie),
    /// in Django's attribute order. Values here are tokens and CSRF secrets (base64url,
    /// dots, letters, digits): nothing to quote.
    pub fn set_cookie(&self, value: &str, max_age: i64) -> String {
        let mut out = format!("{}={}; Max-Age={}", self.name, value, max_age.max(0));
        if let Some(domain) = &self.domain {
            out.push_str("; Domain=");
            out.push_str(domain);
        }
        out.push_str("; Path=");
        out.push_str(&self.path);
        out.push_str("; SameSite=");
        out.push_str(self.same_site.as_str());
        if self.secure {
            out.push_str("; Secure");
        }
        if self.http_only {
            out.push_str("; HttpOnly");
        }
        out
    }
}

/// The value of the first cookie named `name` in a `Cookie` header (RFC 6265 5.4's
/// `name=value; name=value`; browsers send the most specific path first). A split and a
/// compare: the `cookie` crate would add 44 KiB of wasm (time's parser) for it.
pub fn cookie_value<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|pair| {
        let (n, v) = pair.split_once('=')?;
        (n.trim() == name).then(|| v.trim().trim_matches('"'))
    })
}

/// Django's `CSRF_COOKIE_AGE`: a year, in seconds.
pub const CSRF_COOKIE_AGE: u64 = 31_449_600;

/// The browser settings: cookie mode, CSRF, CORS and login throttling.
#[derive(Debug, Clone)]
pub struct BrowserSettings {
    /// `JWT_AUTH_REFRESH_COOKIE` and its attributes; `None` = cookie mode off.
    pub refresh_cookie: Option<CookieSpec>,
    /// `JWT_AUTH_HTTPONLY` (default true): in cookie mode the refresh token is only in the
    /// cookie, never in a response body.
    pub refresh_only_in_cookie: bool,
    /// The `csrftoken` cookie (readable by scripts: the double submit reads it).
    pub csrf_cookie: CookieSpec,
    /// `CSRF_HEADER_NAME` as an HTTP header name (`X-CSRFTOKEN`).
    pub csrf_header: String,
    /// How Django names that header in its reasons (`X-Csrftoken`).
    csrf_header_label: String,
    /// `CSRF_TRUSTED_ORIGINS`.
    pub csrf_trusted_origins: Vec<String>,
    /// CORS (django-cors-headers).
    pub cors: Cors,
    /// `LOGIN_THROTTLE_RATE`: failed logins per username and client address.
    pub login_throttle_rate: Option<Rate>,
    /// `LOGIN_IP_THROTTLE_RATE`: failed logins per client address.
    pub login_ip_throttle_rate: Option<Rate>,
}

fn list(value: &str) -> Vec<String> {
    value
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(ToOwned::to_owned)
        .collect()
}

/// RFC 6265 cookie-name characters (an HTTP token).
fn cookie_name(name: &'static str, value: &str) -> Result<String, SettingsError> {
    let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if value.is_empty() || !value.bytes().all(token) {
        return Err(SettingsError::new(
            name,
            value,
            "expected a cookie name (letters, digits and !#$%&'*+-.^_`|~)",
        ));
    }
    Ok(value.to_owned())
}

/// A cookie attribute value: no `;`, `,`, spaces or control characters.
fn attribute(name: &'static str, value: &str) -> Result<String, SettingsError> {
    if value
        .bytes()
        .any(|b| b <= b' ' || b == b';' || b == b',' || b == 0x7f)
    {
        return Err(SettingsError::new(
            name,
            value,
            "must not contain spaces, ';' or ','",
        ));
    }
    Ok(value.to_owned())
}

fn same_site(name: &'static str, value: &str) -> Result<SameSite, SettingsError> {
    match value.to_ascii_lowercase().as_str() {
        "lax" => Ok(SameSite::Lax),
        "strict" => Ok(SameSite::Strict),
        "none" => Ok(SameSite::None),
        _ => Err(SettingsError::new(
            name,
            value,
            "expected Lax, Strict or None",
        )),
    }
}

/// `scheme://host[:port]` with nothing after it (django-cors-headers' checks E013/E014,
/// Django's 4_0.E001 for CSRF_TRUSTED_ORIGINS).
fn origin(name: &'static str, value: &str) -> Result<String, SettingsError> {
    let (scheme, netloc, rest) = split_url(value);
    if scheme.is_empty() || netloc.is_empty() {
        return Err(SettingsError::new(
            name,
            value,
            "each origin needs a scheme and a host (e.g. https://app.example.com)",
        ));
    }
    if !rest.is_empty() {
        return Err(SettingsError::new(
            name,
            value,
            "an origin has no path (e.g. https://app.example.com)",
        ));
    }
    Ok(value.to_owned())
}

/// Django's `HttpHeaders.parse_header_name`: `HTTP_X_CSRFTOKEN` → `X-Csrftoken`.
fn header_label(header: &str) -> String {
    let mut out = String::with_capacity(header.len());
    let mut after_letter = false;
    for c in header.chars() {
        let c = if c == '_' { '-' } else { c };
        out.push(if after_letter {
            c.to_ascii_lowercase()
        } else {
            c.to_ascii_uppercase()
        });
        after_letter = c.is_ascii_alphabetic();
    }
    out
}

impl Default for BrowserSettings {
    fn default() -> Self {
        let csrf_header = "X-CSRFTOKEN".to_owned();
        Self {
            refresh_cookie: None,
            refresh_only_in_cookie: true,
            csrf_cookie: CookieSpec {
                name: "csrftoken".to_owned(),
                path: "/".to_owned(),
                domain: None,
                secure: true,
                http_only: false,
                same_site: SameSite::Lax,
            },
            csrf_header_label: header_label(&csrf_header),
            csrf_header,
            csrf_trusted_origins: Vec::new(),
            cors: Cors::default(),
            login_throttle_rate: Some(Rate {
                num_requests: 5,
                duration: 60,
            }),
            login_ip_throttle_rate: Some(Rate {
                num_requests: 30,
                duration: 60,
            }),
        }
    }
}

impl BrowserSettings {
    /// Reads the browser settings by name (empty or missing values keep the defaults,
    /// except the throttle rates, where empty means off).
    pub fn from_lookup<F>(lookup: F) -> Result<Self, SettingsError>
    where
        F: Fn(&str) -> Option<String>,
    {
        let mut s = Self::default();
        let get = |name: &str| lookup(name).map(|v| v.trim().to_owned());
        let non_empty = |name: &str| get(name).filter(|v| !v.is_empty());
        let flag = |name: &'static str, default: bool| {
            non_empty(name).map_or(Ok(default), |v| parse_bool(name, &v))
        };

        if let Some(name) = non_empty("JWT_AUTH_REFRESH_COOKIE") {
            let secure = flag("JWT_AUTH_SECURE", true)?;
            let same_site = non_empty("JWT_AUTH_SAMESITE")
                .map_or(Ok(SameSite::Lax), |v| same_site("JWT_AUTH_SAMESITE", &v))?;
            if same_site == SameSite::None && !secure {
                return Err(SettingsError::new(
                    "JWT_AUTH_SAMESITE",
                    "None",
                    "SameSite=None needs JWT_AUTH_SECURE (browsers drop the cookie otherwise)",
                ));
            }
            let path = non_empty("JWT_AUTH_REFRESH_COOKIE_PATH").unwrap_or_else(|| "/api/".into());
            if !path.starts_with('/') {
                return Err(SettingsError::new(
                    "JWT_AUTH_REFRESH_COOKIE_PATH",
                    &path,
                    "a cookie path starts with /",
                ));
            }
            s.refresh_cookie = Some(CookieSpec {
                name: cookie_name("JWT_AUTH_REFRESH_COOKIE", &name)?,
                path: attribute("JWT_AUTH_REFRESH_COOKIE_PATH", &path)?,
                domain: non_empty("JWT_AUTH_COOKIE_DOMAIN")
                    .map(|d| attribute("JWT_AUTH_COOKIE_DOMAIN", &d))
                    .transpose()?,
                secure,
                http_only: true,
                same_site,
            });
            s.refresh_only_in_cookie = flag("JWT_AUTH_HTTPONLY", true)?;
        }

        if let Some(name) = non_empty("CSRF_COOKIE_NAME") {
            s.csrf_cookie.name = cookie_name("CSRF_COOKIE_NAME", &name)?;
        }
        s.csrf_cookie.secure = flag("CSRF_COOKIE_SECURE", true)?;
        s.csrf_cookie.domain = non_empty("CSRF_COOKIE_DOMAIN")
            .map(|d| attribute("CSRF_COOKIE_DOMAIN", &d))
            .transpose()?;
        if let Some(v) = non_empty("CSRF_COOKIE_SAMESITE") {
            s.csrf_cookie.same_site = same_site("CSRF_COOKIE_SAMESITE", &v)?;
        }
        if let Some(v) = non_empty("CSRF_HEADER_NAME") {
            // Django's META spelling (HTTP_X_CSRFTOKEN); a plain header name is accepted.
            let header = v.strip_prefix("HTTP_").unwrap_or(&v).replace('_', "-");
            if header.is_empty()
                || !header
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            {
                return Err(SettingsError::new(
                    "CSRF_HEADER_NAME",
                    &v,
                    "expected a header name such as HTTP_X_CSRFTOKEN",
                ));
            }
            s.csrf_header_label = header_label(&header);
            s.csrf_header = header.to_ascii_uppercase();
        }
        if let Some(v) = non_empty("CSRF_TRUSTED_ORIGINS") {
            s.csrf_trusted_origins = list(&v)
                .iter()
                .map(|o| origin("CSRF_TRUSTED_ORIGINS", o))
                .collect::<Result<_, _>>()?;
        }

        if let Some(v) = non_empty("CORS_ALLOWED_ORIGINS") {
            s.cors.allowed_origins = list(&v)
                .iter()
                .map(|o| origin("CORS_ALLOWED_ORIGINS", o))
                .collect::<Result<_, _>>()?;
        }
        s.cors.allow_all_origins = flag("CORS_ALLOW_ALL_ORIGINS", false)?;
        s.cors.allow_credentials = flag("CORS_ALLOW_CREDENTIALS", false)?;
        if s.cors.allow_all_origins && s.cors.allow_credentials {
            return Err(SettingsError::new(
                "CORS_ALLOW_ALL_ORIGINS",
                "true",
                "refused with CORS_ALLOW_CREDENTIALS: any site could read credentialed answers; list CORS_ALLOWED_ORIGINS",
            ));
        }
        if let Some(v) = non_empty("CORS_ALLOW_HEADERS") {
            s.cors.allow_headers = list(&v).iter().map(|h| h.to_ascii_lowercase()).collect();
        }
        if let Some(v) = non_empty("CORS_ALLOW_METHODS") {
            s.cors.allow_methods = list(&v).iter().map(|m| m.to_ascii_uppercase()).collect();
        }
        if let Some(v) = non_empty("CORS_EXPOSE_HEADERS") {
            s.cors.expose_headers = list(&v);
        }
        if let Some(v) = non_empty("CORS_PREFLIGHT_MAX_AGE") {
            s.cors.preflight_max_age = v.parse().map_err(|_| {
                SettingsError::new("CORS_PREFLIGHT_MAX_AGE", &v, "expected whole seconds")
            })?;
        }

        if let Some(v) = get("LOGIN_THROTTLE_RATE") {
            s.login_throttle_rate = Rate::parse("LOGIN_THROTTLE_RATE", &v)?;
        }
        if let Some(v) = get("LOGIN_IP_THROTTLE_RATE") {
            s.login_ip_throttle_rate = Rate::parse("LOGIN_IP_THROTTLE_RATE", &v)?;
        }
        Ok(s)
    }

    /// Whether any login is throttled.
    pub fn throttles_logins(&self) -> bool {
        self.login_throttle_rate.is_some() || self.login_ip_throttle_rate.is_some()
    }
}

// ---------------------------------------------------------------------------------------
// CSRF: Django's `CsrfViewMiddleware.process_view` for an unsafe method.

const CSRF_SECRET_LENGTH: usize = 32;
const CSRF_TOKEN_LENGTH: usize = 2 * CSRF_SECRET_LENGTH;
/// Django's `CSRF_ALLOWED_CHARS` (`string.ascii_letters + string.digits`).
const CSRF_ALLOWED_CHARS: &[u8; 62] =
    b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// What the CSRF check reads from a request.
#[derive(Debug, Clone, Copy, Default)]
pub struct CsrfRequest<'a> {
    /// The request is HTTPS (`request.is_secure()`).
    pub secure: bool,
    /// The `Host` (with its port, as `request.get_host()`).
    pub host: &'a str,
    /// `Origin`.
    pub origin: Option<&'a str>,
    /// `Referer`.
    pub referer: Option<&'a str>,
    /// The CSRF cookie's value.
    pub cookie: Option<&'a str>,
    /// The CSRF header's value.
    pub header: Option<&'a str>,
}

/// Why a request failed the CSRF check: 403 `{"detail": "CSRF Failed: <reason>"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsrfFailure {
    reason: String,
}

impl CsrfFailure {
    fn new(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
        }
    }

    /// Django's reason, e.g. `CSRF cookie not set.`.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// DRF's `PermissionDenied` detail.
    pub fn detail(&self) -> String {
        format!("CSRF Failed: {}", self.reason)
    }
}

/// Python's `urlsplit`, enough for origins and referers: (scheme, netloc, the rest).
fn split_url(url: &str) -> (&str, &str, &str) {
    let Some((scheme, rest)) = url.split_once("://") else {
        return ("", "", url);
    };
    let valid_scheme = scheme
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic())
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b));
    if !valid_scheme {
        return ("", "", url);
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (netloc, tail) = rest.split_at(end);
    (scheme, netloc, tail)
}

/// Django's `is_same_domain`: `pattern` is a host, or `.example.com` for it and its subdomains.
fn is_same_domain(host: &str, pattern: &str) -> bool {
    let pattern = pattern.to_ascii_lowercase();
    match pattern.strip_prefix('.') {
        Some(base) => host.ends_with(pattern.as_str()) || host == base,
        None => !pattern.is_empty() && pattern == host,
    }
}

fn check_format(token: &str) -> Result<(), &'static str> {
    if token.len() != CSRF_TOKEN_LENGTH && token.len() != CSRF_SECRET_LENGTH {
        return Err("has incorrect length");
    }
    if !token.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err("has invalid characters");
    }
    Ok(())
}

/// Django's `_unmask_cipher_token`: a 64-character token is a mask and a masked secret.
fn unmask(token: &str) -> Vec<u8> {
    let index = |b: u8| CSRF_ALLOWED_CHARS.iter().position(|c| *c == b).unwrap_or(0);
    let (mask, cipher) = token.as_bytes().split_at(CSRF_SECRET_LENGTH);
    cipher
        .iter()
        .zip(mask)
        .map(|(&c, &m)| {
            let i = (index(c) + CSRF_ALLOWED_CHARS.len() - index(m)) % CSRF_ALLOWED_CHARS.len();
            CSRF_ALLOWED_CHARS.get(i).copied().unwrap_or(b'a')
        })
        .collect()
}

fn secret(token: &str) -> Vec<u8> {
    if token.len() == CSRF_TOKEN_LENGTH {
        unmask(token)
    } else {
        token.as_bytes().to_vec()
    }
}

/// A new CSRF secret (`csrftoken`): 32 characters of Django's alphabet from host randomness.
/// (`b % 62` skews each character by under 1/256: the token still has over 180 bits.)
pub fn new_csrf_token(random: [u8; CSRF_SECRET_LENGTH]) -> String {
    random
        .iter()
        .map(|b| {
            let i = usize::from(*b) % CSRF_ALLOWED_CHARS.len();
            char::from(CSRF_ALLOWED_CHARS.get(i).copied().unwrap_or(b'a'))
        })
        .collect()
}

impl BrowserSettings {
    /// Django's `_origin_verified`.
    fn origin_verified(&self, req: &CsrfRequest<'_>, origin: &str) -> bool {
        let scheme = if req.secure { "https" } else { "http" };
        if !req.host.is_empty() && origin == format!("{scheme}://{}", req.host) {
            return true;
        }
        let mut wildcards = Vec::new();
        for trusted in &self.csrf_trusted_origins {
            if trusted.contains('*') {
                wildcards.push(trusted);
            } else if trusted == origin {
                return true;
            }
        }
        let (scheme, netloc, _) = split_url(origin);
        wildcards.iter().any(|trusted| {
            let (t_scheme, t_netloc, _) = split_url(trusted);
            t_scheme == scheme && is_same_domain(netloc, t_netloc.trim_start_matches('*'))
        })
    }

    /// Django's `_check_referer` (HTTPS requests without `Origin`).
    fn check_referer(&self, req: &CsrfRequest<'_>) -> Result<(), CsrfFailure> {
        let referer = req
            .referer
            .ok_or_else(|| CsrfFailure::new("Referer checking failed - no Referer."))?;
        let (scheme, netloc, _) = split_url(referer);
        if scheme.is_empty() || netloc.is_empty() {
            return Err(CsrfFailure::new(
                "Referer checking failed - Referer is malformed.",
            ));
        }
        if scheme != "https" {
            return Err(CsrfFailure::new(
                "Referer checking failed - Referer is insecure while host is secure.",
            ));
        }
        let trusted = self.csrf_trusted_origins.iter().any(|o| {
            let (_, host, _) = split_url(o);
            is_same_domain(netloc, host.trim_start_matches('*'))
        });
        if trusted {
            return Ok(());
        }
        let good = match &self.csrf_cookie.domain {
            None => req.host.to_owned(),
            Some(domain) => match req.host.rsplit_once(':') {
                Some((_, port)) if port != "443" && port != "80" => format!("{domain}:{port}"),
                _ => domain.clone(),
            },
        };
        if is_same_domain(netloc, &good) {
            Ok(())
        } else {
            Err(CsrfFailure::new(format!(
                "Referer checking failed - {referer} does not match any trusted origins."
            )))
        }
    }

    /// The first half of Django's check: the request comes from a trusted origin (the
    /// issuer's own or `CSRF_TRUSTED_ORIGINS`). Alone, it guards a login that sets cookies.
    pub fn check_origin(&self, req: &CsrfRequest<'_>) -> Result<(), CsrfFailure> {
        match req.origin {
            Some(origin) if !self.origin_verified(req, origin) => Err(CsrfFailure::new(format!(
                "Origin checking failed - {origin} does not match any trusted origins."
            ))),
            Some(_) => Ok(()),
            None if req.secure => self.check_referer(req),
            None => Ok(()),
        }
    }

    /// Django's whole check for an unsafe method: the origin, then the double-submit token
    /// (the `csrftoken` cookie must equal the `X-CSRFToken` header; compared in constant time).
    pub fn check_csrf(&self, req: &CsrfRequest<'_>) -> Result<(), CsrfFailure> {
        self.check_origin(req)?;
        let cookie = req
            .cookie
            .ok_or_else(|| CsrfFailure::new("CSRF cookie not set."))?;
        check_format(cookie)
            .map_err(|reason| CsrfFailure::new(format!("CSRF cookie {reason}.")))?;
        let header = req
            .header
            .ok_or_else(|| CsrfFailure::new("CSRF token missing."))?;
        let source = format!("the '{}' HTTP header", self.csrf_header_label);
        check_format(header)
            .map_err(|reason| CsrfFailure::new(format!("CSRF token from {source} {reason}.")))?;
        if bool::from(secret(header).ct_eq(&secret(cookie))) {
            Ok(())
        } else {
            Err(CsrfFailure::new(format!(
                "CSRF token from {source} incorrect."
            )))
        }
    }
}

// ---------------------------------------------------------------------------------------
// CORS: django-cors-headers' `CorsMiddleware`.

/// django-cors-headers' settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cors {
    /// `CORS_ALLOWED_ORIGINS`.
    pub allowed_origins: Vec<String>,
    /// `CORS_ALLOW_ALL_ORIGINS` (refused together with credentials).
    pub allow_all_origins: bool,
    /// `CORS_ALLOW_CREDENTIALS`.
    pub allow_credentials: bool,
    /// `CORS_ALLOW_HEADERS`.
    pub allow_headers: Vec<String>,
    /// `CORS_ALLOW_METHODS`.
    pub allow_methods: Vec<String>,
    /// `CORS_EXPOSE_HEADERS`.
    pub expose_headers: Vec<String>,
    /// `CORS_PREFLIGHT_MAX_AGE` in seconds (0: no `Access-Control-Max-Age`).
    pub preflight_max_age: u64,
}

impl Default for Cors {
    fn default() -> Self {
        let owned = |l: &[&str]| l.iter().map(|s| (*s).to_owned()).collect();
        Self {
            allowed_origins: Vec::new(),
            allow_all_origins: false,
            allow_credentials: false,
            allow_headers: owned(&[
                "accept",
                "authorization",
                "content-type",
                "user-agent",
                "x-csrftoken",
                "x-requested-with",
            ]),
            allow_methods: owned(&["DELETE", "GET", "OPTIONS", "PATCH", "POST", "PUT"]),
            expose_headers: Vec::new(),
            preflight_max_age: 86_400,
        }
    }
}

impl Cors {
    /// Lets a cross-origin client send `header` and read it in answers (added to
    /// `CORS_ALLOW_HEADERS` and `CORS_EXPOSE_HEADERS` unless there already, in any case):
    /// for a header of the issuer's own protocol, such as D1's read-replica bookmark.
    pub fn carry(&mut self, header: &str) {
        if !self
            .allow_headers
            .iter()
            .any(|h| h.eq_ignore_ascii_case(header))
        {
            self.allow_headers.push(header.to_ascii_lowercase());
        }
        if !self
            .expose_headers
            .iter()
            .any(|h| h.eq_ignore_ascii_case(header))
        {
            self.expose_headers.push(header.to_owned());
        }
    }

    /// CORS is on: every response varies on `Origin`.
    pub fn enabled(&self) -> bool {
        self.allow_all_origins || !self.allowed_origins.is_empty()
    }

    /// A CORS preflight: `OPTIONS` with `Access-Control-Request-Method`. It is answered
    /// 200 with no body, before any view (and whether or not the origin is allowed).
    pub fn is_preflight(&self, method: &str, request_method: Option<&str>) -> bool {
        self.enabled() && method == "OPTIONS" && request_method.is_some()
    }

    fn allows(&self, origin: &str) -> bool {
        let (_, netloc, _) = split_url(origin);
        if origin == "null" {
            return self.allowed_origins.iter().any(|o| o == "null");
        }
        !netloc.is_empty()
            && (self.allow_all_origins || self.allowed_origins.iter().any(|o| o == origin))
    }

    /// The `Access-Control-*` headers for a request from `origin` (none for an origin not
    /// allowed). `Vary: Origin` is the host's to add whenever [`Cors::enabled`].
    pub fn headers(&self, origin: Option<&str>, preflight: bool) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        let Some(origin) = origin.filter(|o| self.enabled() && self.allows(o)) else {
            return out;
        };
        let allow_origin = if self.allow_all_origins && !self.allow_credentials {
            "*".to_owned()
        } else {
            origin.to_owned()
        };
        out.push(("Access-Control-Allow-Origin", allow_origin));
        if self.allow_credentials {
            out.push(("Access-Control-Allow-Credentials", "true".to_owned()));
        }
        if !self.expose_headers.is_empty() {
            out.push((
                "Access-Control-Expose-Headers",
                self.expose_headers.join(", "),
            ));
        }
        if preflight {
            out.push((
                "Access-Control-Allow-Headers",
                self.allow_headers.join(", "),
            ));
            out.push((
                "Access-Control-Allow-Methods",
                self.allow_methods.join(", "),
            ));
            if self.preflight_max_age > 0 {
                out.push(("Access-Control-Max-Age", self.preflight_max_age.to_string()));
            }
        }
        out
    }
}

// ---------------------------------------------------------------------------------------
// Throttling: DRF's `SimpleRateThrottle` rates and texts, for failed logins.

/// A DRF rate: `num_requests` per `duration` seconds (`5/min`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Requests allowed in the window.
    pub num_requests: u32,
    /// The window, in seconds.
    pub duration: u64,
}

impl Rate {
    /// DRF's `parse_rate`: `<n>/<period>` where the period's first letter is s, m, h or d
    /// (`5/min`, `30/minute`, `100/day`). Empty or `none` is no throttle.
    pub fn parse(name: &'static str, value: &str) -> Result<Option<Self>, SettingsError> {
        let value = value.trim();
        if value.is_empty() || value.eq_ignore_ascii_case("none") {
            return Ok(None);
        }
        let bad = || {
            SettingsError::new(
                name,
                value,
                "expected DRF's rate format <number>/<s|m|h|d...> (e.g. 5/min)",
            )
        };
        let (num, period) = value.split_once('/').ok_or_else(bad)?;
        let num_requests: u32 = num.trim().parse().map_err(|_| bad())?;
        let duration = match period.trim().bytes().next() {
            Some(b's') => 1,
            Some(b'm') => 60,
            Some(b'h') => 3_600,
            Some(b'd') => 86_400,
            _ => return Err(bad()),
        };
        if num_requests == 0 {
            return Err(SettingsError::new(
                name,
                value,
                "0 requests would refuse every login; leave it empty to turn throttling off",
            ));
        }
        Ok(Some(Self {
            num_requests,
            duration,
        }))
    }

    /// The window in milliseconds.
    pub fn window_ms(&self) -> i64 {
        i64::try_from(self.duration.saturating_mul(1000)).unwrap_or(i64::MAX)
    }
}

/// A throttled request: 429 with DRF's detail and `Retry-After: wait`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    /// Whole seconds until a request is allowed again (DRF rounds up).
    pub wait: u64,
}

impl Throttled {
    /// DRF's `Throttled` detail.
    pub fn detail(&self) -> String {
        let unit = if self.wait == 1 { "second" } else { "seconds" };
        format!(
            "Request was throttled. Expected available in {} {unit}.",
            self.wait
        )
    }
}

/// Whether one more attempt is allowed, given the times (Unix ms) of the attempts already
/// counted under `rate`'s key. DRF's sliding window: past `num_requests` attempts in the
/// window, the wait is until the oldest leaves it.
pub fn throttle(rate: &Rate, attempts_ms: &[i64], now_ms: i64) -> Result<(), Throttled> {
    let since = now_ms.saturating_sub(rate.window_ms());
    let mut in_window: Vec<i64> = attempts_ms.iter().copied().filter(|t| *t > since).collect();
    if in_window.len() < usize::try_from(rate.num_requests).unwrap_or(usize::MAX) {
        return Ok(());
    }
    in_window.sort_unstable();
    // The attempt that must leave the window before one more fits.
    let excess = in_window.len() + 1 - usize::try_from(rate.num_requests).unwrap_or(usize::MAX);
    let leaving = in_window.get(excess - 1).copied().unwrap_or(now_ms);
    let remaining_ms = leaving
        .saturating_add(rate.window_ms())
        .saturating_sub(now_ms);
    let wait = u64::try_from(remaining_ms.max(1))
        .unwrap_or(1)
        .div_ceil(1000);
    Err(Throttled { wait })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(vars: &[(&str, &str)]) -> BrowserSettings {
        BrowserSettings::from_lookup(|name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        })
        .expect("valid settings")
    }

    #[test]
    fn a_carried_header_is_allowed_and_exposed_once() {
        let mut cors = settings(&[
            ("CORS_ALLOWED_ORIGINS", "https://app.example"),
            ("CORS_EXPOSE_HEADERS", "x-d1-bookmark"),
        ])
        .cors;
        cors.carry("X-D1-Bookmark");
        cors.carry("X-D1-Bookmark");
        let preflight = cors.headers(Some("https://app.example"), true);
        let get = |name| {
            preflight
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("Access-Control-Expose-Headers"), Some("x-d1-bookmark"));
        assert_eq!(
            get("Access-Control-Allow-Headers"),
            Some("accept, authorization, content-type, user-agent, x-csrftoken, x-requested-with, x-d1-bookmark")
        );
    }

    #[test]
    fn cookies_are_read_and_written_as_browsers_and_django_do() {
        let header = "a=1; refresh=eyJ.x.y ; csrftoken=\"abc\"; refresh=second";
        assert_eq!(cookie_value(header, "refresh"), Some("eyJ.x.y"));
        assert_eq!(cookie_value(header, "csrftoken"), Some("abc"));
        assert_eq!(cookie_value(header, "missing"), None);
        assert_eq!(cookie_value("novalue; x=", "novalue"), None);
        let spec = CookieSpec {
            name: "refresh".into(),
            path: "/api/".into(),
            domain: Some("example.com".into()),
            secure: true,
            http_only: true,
            same_site: SameSite::Lax,
        };
        assert_eq!(
            spec.set_cookie("t", 60),
            "refresh=t; Max-Age=60; Domain=example.com; Path=/api/; SameSite=Lax; Secure; HttpOnly"
        );
        assert!(spec.set_cookie("", -5).starts_with("refresh=; Max-Age=0;"));
    }

    #[test]
    fn header_labels_are_djangos() {
        assert_eq!(header_label("X-CSRFTOKEN"), "X-Csrftoken");
        assert_eq!(header_label("X_XSRF_TOKEN"), "X-Xsrf-Token");
    }

    #[test]
    fn masked_tokens_unmask_to_the_secret() {
        // Django: _mask_cipher_secret("a"*32) with mask "b"*32 → "b"*32 + "B"... (a + b).
        let secret = "a".repeat(32);
        let mask = "b".repeat(32);
        let cipher: String = secret
            .bytes()
            .zip(mask.bytes())
            .map(|(s, m)| {
                let idx = |b: u8| CSRF_ALLOWED_CHARS.iter().position(|c| *c == b).unwrap_or(0);
                char::from(CSRF_ALLOWED_CHARS[(idx(s) + idx(m)) % 62])
            })
            .collect();
        assert_eq!(unmask(&format!("{mask}{cipher}")), secret.as_bytes());
    }

    #[test]
    fn throttle_waits_for_the_oldest_attempt() {
        let rate = Rate::parse("R", "2/min").unwrap().unwrap();
        assert_eq!(throttle(&rate, &[1_000], 2_000), Ok(()));
        assert_eq!(
            throttle(&rate, &[1_000, 30_000], 31_000),
            Err(Throttled { wait: 30 })
        );
        assert_eq!(throttle(&rate, &[1_000, 30_000], 61_001), Ok(()));
        assert_eq!(
            Throttled { wait: 1 }.detail(),
            "Request was throttled. Expected available in 1 second."
        );
    }

    #[test]
    fn rates_parse_like_drf() {
        assert_eq!(
            Rate::parse("R", "5/min").unwrap(),
            Some(Rate {
                num_requests: 5,
                duration: 60
            })
        );
        assert_eq!(
            Rate::parse("R", "100/day").unwrap().unwrap().duration,
            86_400
        );
        assert_eq!(Rate::parse("R", "").unwrap(), None);
        assert!(Rate::parse("R", "5/week").is_err());
        assert!(Rate::parse("R", "five/min").is_err());
    }

    #[test]
    fn cors_answers_only_allowed_origins() {
        let s = settings(&[
            ("CORS_ALLOWED_ORIGINS", "https://app.example.com"),
            ("CORS_ALLOW_CREDENTIALS", "true"),
        ]);
        assert!(s
            .cors
            .headers(Some("https://evil.example"), true)
            .is_empty());
        let h = s.cors.headers(Some("https://app.example.com"), false);
        assert_eq!(
            h[0],
            (
                "Access-Control-Allow-Origin",
                "https://app.example.com".to_owned()
            )
        );
        assert_eq!(
            h[1],
            ("Access-Control-Allow-Credentials", "true".to_owned())
        );
        assert!(BrowserSettings::from_lookup(|n| match n {
            "CORS_ALLOW_ALL_ORIGINS" | "CORS_ALLOW_CREDENTIALS" => Some("true".into()),
            _ => None,
        })
        .is_err());
    }
}
