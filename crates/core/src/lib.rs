//! # edgejwt-core
//!
//! The token logic of edgejwt, once: djangorestframework-simplejwt's tokens, settings,
//! rotation rules and errors, on top of [`jwt_compact`]. `#![no_std]` + `alloc`; it builds
//! for the host, for `wasm32-unknown-unknown` (the issuer Worker and the npm package) and
//! for `wasm32v1-none`.
//!
//! ## Design choices
//!
//! - **The algorithm is fixed by the settings.** A token's `alg` header never selects a
//!   key; a token naming another algorithm, or `none`, is refused before any key is used.
//! - **A token's `kid` picks among the configured keys, never beyond them.** The current
//!   key signs and names itself in every token (`kid`: the RFC 7638 thumbprint, or for an
//!   HMAC secret a domain-separated SHA-256 id); `PREVIOUS_VERIFYING_KEYS` still verify
//!   after a rotation. An unknown `kid` is an invalid token; a token without one (simplejwt's)
//!   is checked by the current key, and for HMAC also by the previous secrets.
//! - **Time and randomness come in.** Every function that needs the time takes `now`
//!   (Unix seconds); new token ids are [`Jti::from_random_bytes`] of host randomness.
//!   The core is deterministic under test and needs no clock or RNG of its own.
//! - **simplejwt's wire text.** Every error carries simplejwt 5.5's exact `detail` and
//!   `code` ([`TokenError::to_body`], [`AuthenticationError::to_body`]) and a stable
//!   edgejwt `code()`, so every host renders the same body.
//! - **Weak keys are refused at load**: HMAC secrets shorter than the hash, RSA under
//!   2048 bits, small-order Ed25519 points; a `VERIFYING_KEY` that is not the public half
//!   of `SIGNING_KEY`.
//! - **The host owns storage; the core owns the rules.** Each view is decode → what
//!   storage must do → decide ([`serializers`], [`authenticate`]): the core says what to
//!   look up or write (a rotation, revocations, a session to end) and, given storage's
//!   answers, what to respond, in simplejwt's order of errors. The host makes the writes
//!   atomic (one D1 transaction per rotation).
//!
//! ## Features
//!
//! | feature | algorithms | default |
//! |---|---|---|
//! | (always) | HS256, HS384, HS512 | yes |
//! | `eddsa` | EdDSA (Ed25519) | yes |
//! | `es256` | ES256 (P-256) | yes |
//! | `es384` | ES384 (P-384, on the `p384` crate: jwt-compact has no ES384) | no |
//! | `es512` | ES512 (P-521, on the `p521` crate: jwt-compact has no ES512; signing needs a `getrandom` backend) | no |
//! | `rsa` | RS256/384/512, PS256/384/512 (needs a `getrandom` backend) | no |
//! | `host-signatures` | every asymmetric algorithm whose feature is off, its signatures checked by the host ([`TokenBackend::decode_checked_by`]; keys as JWKs) | no |
//! | `password-validation` | not an algorithm: Django's default password validators ([`validate_password`]) | no |
//! | `browser` | not an algorithm: the issuer's refresh cookie, CSRF check, CORS and login throttle rates ([`browser`]) | no |
//! | `password` | not an algorithm: Django's `pbkdf2_sha256`/`pbkdf2_sha1` hashes ([`password`]) | no |
//!
//! ## Example
//!
//! ```
//! use edgejwt_core::{refresh, Jti, Settings, Token, TokenBackend, TokenType};
//!
//! let mut settings = Settings::default();
//! settings.set("SIGNING_KEY", "conformance-reference-signing-key-0123456789abcdef")?;
//! settings.set("ROTATE_REFRESH_TOKENS", "true")?;
//! let backend = TokenBackend::from_settings(&settings)?;
//! let now = 1_700_000_000;
//!
//! // Obtain a pair for user 1.
//! let refresh_token = Token::for_user(TokenType::Refresh, "1", &settings, now, Jti::from_random_bytes([7; 16]));
//! let encoded = backend.encode(refresh_token.payload())?;
//!
//! // Later: decode, verify as a refresh token, rotate.
//! let payload = backend.decode(&encoded, now + 60)?;
//! let verified = Token::verify(TokenType::Refresh, payload, &settings, now + 60)?;
//! let out = refresh(&verified, &settings, now + 60, Jti::from_random_bytes([8; 16]), Jti::from_random_bytes([9; 16]));
//! assert_eq!(out.access.user_id(&settings).as_deref(), Some("1"));
//! assert!(out.refresh.is_some());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![no_std]
// The npm package's nightly build (scripts/build-pkg.sh, `--cfg edgejwt_size`) builds the
// run-once code (settings, key loading, error bodies) for size and the per-token path for
// speed: functions marked `#[cfg_attr(edgejwt_size, optimize(size))]`.
#![cfg_attr(edgejwt_size, feature(optimize_attribute))]
// The core must not reach for std where core/alloc have the item (no_std hosts).
#![warn(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

extern crate alloc;
#[cfg(test)]
extern crate std;

pub mod algorithm;
pub mod authentication;
pub mod backend;
#[cfg(feature = "browser")]
pub mod browser;
pub mod claims;
pub mod error;
#[cfg(feature = "host-signatures")]
mod host_keys;
mod json;
#[cfg(test)]
mod json_oracle;
#[cfg(feature = "host-signatures")]
mod jwk;
#[cfg(feature = "password")]
pub mod password;
#[cfg(feature = "password-validation")]
pub mod password_validation;
pub mod rotation;
pub mod serializers;
pub mod settings;
pub mod store;
pub mod token;

#[cfg(feature = "password-validation")]
pub use crate::password_validation::{
    validate_password, PasswordError, UserAttribute, UserAttributes, COMMON_PASSWORDS_LEN,
    MAX_SIMILARITY, MIN_LENGTH,
};
pub use crate::{
    algorithm::Algorithm,
    authentication::{
        authenticate, get_raw_token, get_validated_token, revocation_keys, revoked,
        stateless_user_id, validated_type, Authenticated, Authenticating, StatelessAuthenticating,
        TokenUser, UserAuthentication,
    },
    backend::{Decoded, SignedParts, TokenBackend, MAX_TOKEN_LEN},
    claims::{Claim, ClaimList, ClaimSource, ClaimsView},
    error::{
        AuthenticationError, EncodeError, ErrorBody, ErrorCode, InvalidReason, SettingsError,
        TokenError, TokenMessage, TokenViewError, ERROR_CODES_TS, TOKEN_NOT_VALID,
    },
    rotation::{refresh, refresh_sliding, Refreshed},
    settings::{
        Secret, Settings, UserIdField, DEFAULT_SESSION_CLAIM, SETTING_NAMES, SETTING_NAMES_TS,
    },
    store::{
        revoked_key, session_id, Account, Child, Found, Lookups, NewSession, Outstanding,
        Revocation, SessionEnd, User, UserKey, KV_MIN_TTL, REVOKED_PREFIX,
    },
    token::{Jti, Payload, Token, TokenType},
};

/// The README's Rust example, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeDoctests;
