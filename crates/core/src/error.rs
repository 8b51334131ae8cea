//! Errors, split by phase, each with a stable `code()` and simplejwt's exact wire text.
//!
//! Every host (the issuer Worker, the npm verifier) renders these the same way through
//! [`ErrorBody`], so a client sees byte-for-byte what a Django project with simplejwt 5.5 sends.

use alloc::{
    borrow::Cow,
    format,
    string::{String, ToString},
    vec::Vec,
};
use core::fmt;

use serde::Serialize;

/// simplejwt's `code` for every token error (`InvalidToken.default_code`).
pub const TOKEN_NOT_VALID: &str = "token_not_valid";

/// Defines [`ErrorCode`] and, from the same list, the TypeScript union the npm package
/// uses ([`ERROR_CODES_TS`]): the codes are written once.
macro_rules! error_codes {
    ($($(#[doc = $doc:literal])* $variant:ident = $code:literal,)*) => {
        /// Every error's stable machine-readable code, in every host: the issuer's logs,
        /// the npm verifier's `EdgeJwtError.code`, the SPA client.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ErrorCode {
            $($(#[doc = $doc])* $variant,)*
        }

        impl ErrorCode {
            /// Every code, in table order.
            pub const ALL: &'static [Self] = &[$(Self::$variant,)*];

            /// The code as text, e.g. `token_expired`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $code,)*
                }
            }
        }

        /// `export type ErrorCode = "token_invalid" | …;`, generated from [`ErrorCode`].
        pub const ERROR_CODES_TS: &str = concat!(
            "/** Stable error codes (generated from edgejwt-core's ErrorCode). */\nexport type ErrorCode =",
            $(" | \"", $code, "\"",)*
            ";\n"
        );
    };
}

error_codes! {
    /// "Token is invalid".
    TokenInvalid = "token_invalid",
    /// "Token is expired".
    TokenExpired = "token_expired",
    /// "Token has no '…' claim".
    TokenMissingClaim = "token_missing_claim",
    /// "Token '…' claim has expired".
    TokenClaimExpired = "token_claim_expired",
    /// "Token has no id".
    TokenNoId = "token_no_id",
    /// "Token has no type".
    TokenNoType = "token_no_type",
    /// "Token has wrong type".
    TokenWrongType = "token_wrong_type",
    /// "Token is blacklisted" (or its session was revoked).
    TokenBlacklisted = "token_blacklisted",
    /// "Given token not valid for any token type" (simplejwt's `token_not_valid`).
    TokenNotValid = "token_not_valid",
    /// "Token contained no recognizable user identification".
    TokenNoUserId = "token_no_user_id",
    /// No credentials (DRF's `NotAuthenticated`).
    NotAuthenticated = "not_authenticated",
    /// "Authorization header must contain two space-delimited values".
    BadAuthorizationHeader = "bad_authorization_header",
    /// "User not found".
    UserNotFound = "user_not_found",
    /// "User is inactive".
    UserInactive = "user_inactive",
    /// Login failed: unknown user, wrong password or inactive account.
    NoActiveAccount = "no_active_account",
    /// Refresh for a missing or inactive user.
    NoActiveAccountForToken = "no_active_account_for_token",
    /// A 400 with field errors (DRF's `ValidationError`).
    Invalid = "invalid",
    /// A body that is not valid JSON (DRF's `ParseError`).
    ParseError = "parse_error",
    /// A content type the views do not parse (415).
    UnsupportedMediaType = "unsupported_media_type",
    /// A body over the size limit (413).
    PayloadTooLarge = "payload_too_large",
    /// A method the view does not allow (405).
    MethodNotAllowed = "method_not_allowed",
    /// No such endpoint (404).
    NotFound = "not_found",
    /// A CSRF failure in cookie mode (DRF's `PermissionDenied`, 403).
    PermissionDenied = "permission_denied",
    /// Too many failed logins (DRF's `Throttled`, 429 with `Retry-After`).
    Throttled = "throttled",
    /// The login throttle's Durable Object could not be reached: logins are refused (503).
    ThrottleUnavailable = "throttle_unavailable",
    /// A setting the operator got wrong (500).
    ImproperlyConfigured = "improperly_configured",
    /// Storage or another internal failure (500).
    ServerError = "server_error",
    /// The JWK Set could not be fetched or read (503).
    JwksUnavailable = "jwks_unavailable",
    /// The revocations store (KV) could not be read: the token is refused, not trusted (503).
    RevocationsUnavailable = "revocations_unavailable",
    /// SPA client: the issuer refused the username and password.
    InvalidCredentials = "invalid_credentials",
    /// SPA client: the refresh token was refused; the session is over.
    RefreshFailed = "refresh_failed",
    /// SPA client: the issuer could not be reached (or answered 5xx); the session is kept.
    NetworkError = "network_error",
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The members of a generated `export type X = | "a" | "b";` (tests of the generated unions).
#[cfg(test)]
pub(crate) fn union_members(ts: &str) -> Vec<&str> {
    let union = ts
        .split_once('=')
        .map(|(_, u)| u.trim().trim_end_matches(';'))
        .unwrap_or_default();
    union
        .split('|')
        .map(|n| n.trim().trim_matches('"'))
        .filter(|n| !n.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A setting's value in the log: as `{:?}` for printable ASCII and the usual escapes;
    /// anything else (controls, invisible or look-alike characters) escaped.
    #[test]
    fn quoted_values_escape_all_but_printable_ascii() {
        for plain in ["", "5 minutes", r#"a"b\c"#, "tab\tcr\rlf\n", "~!@#$%^&*()'"] {
            assert_eq!(Quoted(plain).to_string(), format!("{plain:?}"));
        }
        assert_eq!(Quoted("\0\u{7f}").to_string(), r#""\u{0}\u{7f}""#);
        assert_eq!(
            Quoted("caf\u{e9}\u{202e}").to_string(),
            r#""caf\u{e9}\u{202e}""#
        );
        let err = SettingsError::new("LEEWAY", "1\u{200b}", "not a number");
        assert_eq!(
            err.to_string(),
            r#"invalid setting LEEWAY="1\u{200b}": not a number"#
        );
    }

    /// The generated TypeScript union names exactly the table's codes, in order.
    #[test]
    fn typescript_union_is_the_table() {
        let names = union_members(ERROR_CODES_TS);
        let table: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(names, table);
        let mut unique = table.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), table.len(), "codes are unique");
    }
}

impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// Why a token was refused as "Token is invalid". The wire text is the same for all
/// reasons (as in simplejwt); the reason is for logs and tests, never for the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum InvalidReason {
    /// Not three base64url segments, or a header that is not JSON.
    Malformed,
    /// The header names another algorithm than the one configured (including `none`).
    AlgorithmMismatch,
    /// The signature does not verify, or has the wrong length or encoding.
    Signature,
    /// The claims are not a JSON object, or a registered claim has the wrong type.
    Claims,
    /// `nbf` or `iat` lies in the future (beyond `LEEWAY`).
    Immature,
    /// `aud` does not match `AUDIENCE` (or is present when none is configured).
    Audience,
    /// `iss` does not match `ISSUER`.
    Issuer,
    /// The header names critical extensions (`crit`), none of which are understood
    /// (RFC 7515 §4.1.11; PyJWT refuses them too).
    Critical,
}

impl InvalidReason {
    /// Lowercase text for logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Malformed => "malformed token",
            Self::AlgorithmMismatch => "algorithm mismatch",
            Self::Signature => "bad signature",
            Self::Claims => "malformed claims",
            Self::Immature => "token not yet valid",
            Self::Audience => "audience mismatch",
            Self::Issuer => "issuer mismatch",
            Self::Critical => "unsupported critical header",
        }
    }
}

/// A token that cannot be used: simplejwt's `TokenError`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenError {
    /// "Token is invalid": malformed, wrong algorithm, bad signature, bad `aud`/`iss`/`nbf`.
    Invalid(InvalidReason),
    /// "Token is expired": `exp` has passed (beyond `LEEWAY`).
    Expired,
    /// "Token has no '…' claim": a time claim that must be checked is missing.
    MissingClaim(String),
    /// "Token '…' claim has expired": e.g. a sliding token's `refresh_exp`.
    ClaimExpired(String),
    /// "Token has no id": the `JTI_CLAIM` is missing.
    NoId,
    /// "Token has no type": the `TOKEN_TYPE_CLAIM` is missing.
    NoType,
    /// "Token has wrong type": e.g. an access token sent to the refresh endpoint.
    WrongType,
    /// "Token is blacklisted": its `jti` is in the blacklist.
    Blacklisted,
}

impl TokenError {
    /// Stable machine-readable code, the same in every host.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Invalid(_) => ErrorCode::TokenInvalid,
            Self::Expired => ErrorCode::TokenExpired,
            Self::MissingClaim(_) => ErrorCode::TokenMissingClaim,
            Self::ClaimExpired(_) => ErrorCode::TokenClaimExpired,
            Self::NoId => ErrorCode::TokenNoId,
            Self::NoType => ErrorCode::TokenNoType,
            Self::WrongType => ErrorCode::TokenWrongType,
            Self::Blacklisted => ErrorCode::TokenBlacklisted,
        }
    }

    /// simplejwt's message for this error, exactly.
    pub fn detail(&self) -> Cow<'static, str> {
        match self {
            Self::Invalid(_) => "Token is invalid".into(),
            Self::Expired => "Token is expired".into(),
            Self::MissingClaim(claim) => format!("Token has no '{claim}' claim").into(),
            Self::ClaimExpired(claim) => format!("Token '{claim}' claim has expired").into(),
            Self::NoId => "Token has no id".into(),
            Self::NoType => "Token has no type".into(),
            Self::WrongType => "Token has wrong type".into(),
            Self::Blacklisted => "Token is blacklisted".into(),
        }
    }

    /// The body simplejwt's token views send for this error (`InvalidToken(e.args[0])`), 401.
    #[cfg_attr(edgejwt_size, optimize(size))]
    pub fn to_body(&self) -> ErrorBody {
        ErrorBody {
            detail: self.detail(),
            code: Some(TOKEN_NOT_VALID),
            messages: Vec::new(),
        }
    }
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Invalid(reason) => write!(f, "token is invalid: {}", reason.as_str()),
            other => f.write_str(&other.detail().to_lowercase()),
        }
    }
}

impl core::error::Error for TokenError {}

/// One entry of `messages` in "Given token not valid for any token type".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenMessage {
    /// simplejwt's class name, e.g. `AccessToken`.
    pub token_class: &'static str,
    /// The token type, e.g. `access`.
    pub token_type: &'static str,
    /// The error's `detail`.
    pub message: Cow<'static, str>,
    /// The error itself, for hosts that want its stable code.
    #[serde(skip)]
    pub error: TokenError,
}

/// A request that cannot be authenticated: simplejwt's `JWTAuthentication` and login errors.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthenticationError {
    /// No `Authorization` header, or one with another scheme (DRF's `NotAuthenticated`).
    NotAuthenticated,
    /// "Authorization header must contain two space-delimited values".
    BadAuthorizationHeader,
    /// "Given token not valid for any token type", with one message per accepted class.
    InvalidToken(Vec<TokenMessage>),
    /// "Token contained no recognizable user identification": no `USER_ID_CLAIM`.
    NoUserId,
    /// "User not found".
    UserNotFound,
    /// "User is inactive" (with `CHECK_USER_IS_ACTIVE`).
    UserInactive,
    /// "No active account found with the given credentials": wrong password, unknown or
    /// inactive user at login. One error for all three, so none can be told apart.
    NoActiveAccount,
    /// "No active account found for the given token.": refresh for an inactive or missing user.
    NoActiveAccountForToken,
}

impl AuthenticationError {
    /// Stable machine-readable code, the same in every host.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::NotAuthenticated => ErrorCode::NotAuthenticated,
            Self::BadAuthorizationHeader => ErrorCode::BadAuthorizationHeader,
            Self::InvalidToken(_) => ErrorCode::TokenNotValid,
            Self::NoUserId => ErrorCode::TokenNoUserId,
            Self::UserNotFound => ErrorCode::UserNotFound,
            Self::UserInactive => ErrorCode::UserInactive,
            Self::NoActiveAccount => ErrorCode::NoActiveAccount,
            Self::NoActiveAccountForToken => ErrorCode::NoActiveAccountForToken,
        }
    }

    /// The most precise code: for "not valid for any token type", the first class's own
    /// cause (what callers branch on: expired → refresh, invalid → log in again).
    pub fn cause(&self) -> ErrorCode {
        match self {
            Self::InvalidToken(messages) => {
                messages.first().map_or(self.code(), |m| m.error.code())
            }
            other => other.code(),
        }
    }

    /// simplejwt's (or DRF's) message for this error, exactly.
    pub fn detail(&self) -> &'static str {
        match self {
            Self::NotAuthenticated => "Authentication credentials were not provided.",
            Self::BadAuthorizationHeader => {
                "Authorization header must contain two space-delimited values"
            }
            Self::InvalidToken(_) => "Given token not valid for any token type",
            Self::NoUserId => "Token contained no recognizable user identification",
            Self::UserNotFound => "User not found",
            Self::UserInactive => "User is inactive",
            Self::NoActiveAccount => "No active account found with the given credentials",
            Self::NoActiveAccountForToken => "No active account found for the given token.",
        }
    }

    /// The 401 body simplejwt sends. Plain `AuthenticationFailed` errors carry only `detail`
    /// (DRF drops their code); `InvalidToken` and the header/user errors carry `code`.
    #[cfg_attr(edgejwt_size, optimize(size))]
    pub fn to_body(&self) -> ErrorBody {
        let code = match self {
            Self::NotAuthenticated | Self::NoActiveAccount | Self::NoActiveAccountForToken => None,
            Self::NoUserId => Some(TOKEN_NOT_VALID),
            other => Some(other.code().as_str()),
        };
        let messages = match self {
            Self::InvalidToken(messages) => messages.clone(),
            _ => Vec::new(),
        };
        ErrorBody {
            detail: self.detail().into(),
            code,
            messages,
        }
    }
}

impl fmt::Display for AuthenticationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.detail().to_lowercase())
    }
}

impl core::error::Error for AuthenticationError {}

/// An error of one of simplejwt's token views: a token error or an authentication error
/// (401), or a 400 not tied to a field (the verify view's "Token is blacklisted").
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenViewError {
    /// 401 `{"detail", "code": "token_not_valid"}`.
    Token(TokenError),
    /// 401 with simplejwt's body.
    Authentication(AuthenticationError),
    /// 400 `{"non_field_errors": [message]}`.
    NonField(&'static str),
}

impl TokenViewError {
    /// Stable machine-readable code.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Token(e) => e.code(),
            Self::Authentication(e) => e.code(),
            Self::NonField(_) => ErrorCode::Invalid,
        }
    }
}

impl From<TokenError> for TokenViewError {
    fn from(err: TokenError) -> Self {
        Self::Token(err)
    }
}

impl From<AuthenticationError> for TokenViewError {
    fn from(err: AuthenticationError) -> Self {
        Self::Authentication(err)
    }
}

impl fmt::Display for TokenViewError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Token(e) => e.fmt(f),
            Self::Authentication(e) => e.fmt(f),
            Self::NonField(message) => f.write_str(message),
        }
    }
}

impl core::error::Error for TokenViewError {}

/// simplejwt's JSON error body: `{"detail", "code"?, "messages"?}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorBody {
    /// The human-readable message.
    pub detail: Cow<'static, str>,
    /// simplejwt's code, when simplejwt sends one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'static str>,
    /// Per-token-class messages (only for "Given token not valid for any token type").
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<TokenMessage>,
}

impl ErrorBody {
    /// The body as JSON text.
    #[cfg_attr(edgejwt_size, optimize(size))]
    pub fn to_json(&self) -> String {
        // Serializing plain strings into a String cannot fail.
        serde_json::to_string(self).unwrap_or_else(|_| "{}".to_string())
    }
}

/// A setting that cannot be used: names the setting and says what is wrong. The value is
/// kept for the operator's log (`Display`) and never for a client ([`SettingsError::to_body`]);
/// key material is redacted even in the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsError {
    /// The setting's name, e.g. `ACCESS_TOKEN_LIFETIME`.
    pub setting: &'static str,
    /// The offending value, or `<redacted>` for keys.
    pub value: String,
    /// What is wrong with it.
    pub reason: Cow<'static, str>,
}

/// Settings whose values are key material: never printed, even to the operator's log (a
/// private key pasted into `VERIFYING_KEY` is as secret as `SIGNING_KEY`).
const KEY_SETTINGS: [&str; 3] = ["SIGNING_KEY", "VERIFYING_KEY", "PREVIOUS_VERIFYING_KEYS"];

impl SettingsError {
    /// An error for `setting` with `value` (redacted when it is key material).
    #[cfg_attr(edgejwt_size, optimize(size))]
    pub fn new(setting: &'static str, value: &str, reason: impl Into<Cow<'static, str>>) -> Self {
        let value = if KEY_SETTINGS.contains(&setting) {
            "<redacted>".to_string()
        } else {
            value.to_string()
        };
        Self {
            setting,
            value,
            reason: reason.into(),
        }
    }

    /// The 500 body for clients: the setting's name and the problem, never its value.
    #[cfg_attr(edgejwt_size, optimize(size))]
    pub fn to_body(&self) -> ErrorBody {
        ErrorBody {
            detail: format!(
                "edgejwt is misconfigured: {}: {}",
                self.setting, self.reason
            )
            .into(),
            code: Some(ErrorCode::ImproperlyConfigured.as_str()),
            messages: Vec::new(),
        }
    }
}

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid setting {}={}: {}",
            self.setting,
            Quoted(&self.value),
            self.reason
        )
    }
}

/// A setting's value quoted for the operator's log: as `{:?}` writes printable ASCII, and any
/// other character as `\u{…}`, so nothing invisible or control reaches the log raw. Not
/// `{:?}`, whose printable-Unicode tables were ~2 KiB of the npm package's wasm.
pub(crate) struct Quoted<'a>(pub &'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use fmt::Write;
        f.write_char('"')?;
        for c in self.0.chars() {
            match c {
                '"' | '\\' => write!(f, "\\{c}")?,
                '\n' => f.write_str("\\n")?,
                '\r' => f.write_str("\\r")?,
                '\t' => f.write_str("\\t")?,
                ' '..='~' => f.write_char(c)?,
                _ => write!(f, "\\u{{{:x}}}", u32::from(c))?,
            }
        }
        f.write_char('"')
    }
}

impl core::error::Error for SettingsError {}

/// A token that cannot be created (a host bug, never a client error).
#[derive(Debug)]
#[non_exhaustive]
pub enum EncodeError {
    /// The backend was built without a signing key (a verify-only configuration).
    NoSigningKey,
    /// Serialization or signing failed.
    Signing(String),
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoSigningKey => f.write_str("no signing key configured"),
            Self::Signing(msg) => write!(f, "cannot sign token: {msg}"),
        }
    }
}

impl core::error::Error for EncodeError {}
