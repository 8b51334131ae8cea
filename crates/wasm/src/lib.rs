//! # edgejwt-wasm
//!
//! wasm-bindgen bindings of edgejwt-core for the npm package `edgejwt` (`pkg/`), adapting
//! the core's settings, backend and errors to bytes. No token logic lives here.
//!
//! Only numbers cross the boundary. JS writes UTF-8 text where the core reads it
//! ([`reserve`]: settings JSON, a token, a header, claims); each call answers a length `n`
//! of what it wrote at [`output_pointer`]: text when `n >= 0`, and for `!n` when `n < 0` an
//! error as JSON (`{code, detail, status, body}`). Each distinct signature of an export or
//! import costs a wrapper V8 compiles at startup: wasm-bindgen's strings, `Result`s and JS
//! objects took 19 export and 11 import signatures, most of the package's cold start
//! (bench/sizes.mjs). The package's `ErrorCode` and `SettingName` types are generated
//! from the core's tables (below).

// What runs once per verifier is built for size in the package (see edgejwt-core).
#![cfg_attr(edgejwt_size, feature(optimize_attribute))]

use core::cell::RefCell;
use std::{borrow::Cow, thread_local};

use edgejwt_core::{
    get_raw_token, revocation_keys, revoked, stateless_user_id, validated_type, Algorithm,
    AuthenticationError, Decoded, ErrorBody, ErrorCode, Settings, SettingsError, TokenBackend,
    TokenError, MAX_TOKEN_LEN,
};
use serde::Serialize;
use wasm_bindgen::prelude::*;
use zeroize::Zeroize;

// Talc in place of Rust's default wasm allocator (dlmalloc): 3 kB less gzipped wasm (84.3 vs
// 87.4 kB, by hand on 2026-12-04), the same HS256 rate. The module is single-threaded.
#[cfg(all(not(target_feature = "atomics"), target_family = "wasm"))]
#[global_allocator]
static TALC: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

#[wasm_bindgen(typescript_custom_section)]
const ERROR_CODES: &str = edgejwt_core::ERROR_CODES_TS;

#[wasm_bindgen(typescript_custom_section)]
const SETTING_NAMES: &str = edgejwt_core::SETTING_NAMES_TS;

thread_local! {
    /// Where JS writes what the next call reads (`TextEncoder.encodeInto`: a tenth of the cost
    /// of wasm-bindgen's string passing, which copies a UTF-16 code unit at a time).
    static INPUT: RefCell<Vec<u8>> = RefCell::new(vec![0; MAX_TOKEN_LEN]);
    /// What the last call answered.
    static OUTPUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// An error as it crosses into JS: simplejwt's `detail` and body, edgejwt's stable `code`,
/// the HTTP status.
#[derive(Serialize)]
struct Failure {
    code: &'static str,
    detail: Cow<'static, str>,
    status: u16,
    body: ErrorBody,
}

impl Failure {
    fn token(err: &TokenError) -> Self {
        Self {
            code: err.code().as_str(),
            detail: err.detail(),
            status: 401,
            body: err.to_body(),
        }
    }

    fn authentication(err: &AuthenticationError) -> Self {
        Self {
            code: err.cause().as_str(),
            detail: err.detail().into(),
            status: 401,
            body: err.to_body(),
        }
    }

    #[cfg_attr(edgejwt_size, optimize(size))]
    fn settings(err: &SettingsError) -> Self {
        Self {
            code: ErrorCode::ImproperlyConfigured.as_str(),
            detail: err.to_string().into(),
            status: 500,
            body: err.to_body(),
        }
    }
}

/// Writes `text`, a call's answer, to the output: its length.
fn answer(text: &[u8]) -> i32 {
    OUTPUT.with_borrow_mut(|out| {
        out.clear();
        out.extend_from_slice(text);
    });
    // Answers are at most a token, its claims or a settings error: far below 2^31.
    i32::try_from(text.len()).unwrap_or(i32::MAX)
}

/// Writes an error, a call's answer, to the output: `!length`.
fn fail(error: &Failure) -> i32 {
    // Plain strings and numbers: serializing cannot fail.
    !answer(&serde_json::to_vec(error).unwrap_or_default())
}

/// Runs `f` on the `len` bytes JS wrote: UTF-8 from `encodeInto`, or read as "" (no token).
fn with_input<T>(len: usize, f: impl FnOnce(&str) -> T) -> T {
    INPUT.with_borrow(|input| {
        let text = input
            .get(..len)
            .and_then(|bytes| core::str::from_utf8(bytes).ok())
            .unwrap_or_default();
        f(text)
    })
}

/// Where JS writes the next call's input, at least `len` bytes of this memory. The pointer
/// holds until a `reserve` for more.
#[wasm_bindgen]
pub fn reserve(len: usize) -> usize {
    INPUT.with_borrow_mut(|input| {
        if input.len() < len {
            input.resize(len, 0);
        }
        input.as_mut_ptr() as usize
    })
}

/// Where the last call wrote its answer.
#[wasm_bindgen(js_name = outputPointer)]
pub fn output_pointer() -> usize {
    OUTPUT.with_borrow(|out| out.as_ptr() as usize)
}

/// The length of the last call's answer (for [`create`], which answers a verifier).
#[wasm_bindgen(js_name = outputLength)]
pub fn output_length() -> usize {
    OUTPUT.with_borrow(Vec::len)
}

/// Whether this build leaves the algorithm named by the `len` bytes of input to the host
/// (node:crypto or WebCrypto): its keys must then come as JWKs (the package converts PEM
/// first) and its tokens verify only with the host's verdict (`Verifier.verify`).
#[wasm_bindgen(js_name = hostChecks)]
pub fn host_checks(len: usize) -> bool {
    with_input(len, |name| {
        name.parse::<Algorithm>()
            .is_ok_and(|alg| !alg.is_hmac() && !alg.is_enabled())
    })
}

/// What JS keeps of a verifier, answered by [`create`].
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Description<'a> {
    /// `ALGORITHM`.
    algorithm: &'a str,
    /// The `kid` of the current key.
    key_id: &'a str,
    /// `AUTH_HEADER_NAME` as an HTTP header name.
    auth_header_name: &'a str,
    /// `WWW-Authenticate` for 401s: `Bearer realm="api"`.
    www_authenticate: String,
    /// Signatures are the host's to check (see [`host_checks`]): `verify` with no verdict
    /// refuses every token then.
    host_checked: bool,
    /// Every public key that verifies (JWK JSON), the current one first: the order of the key
    /// index [`Verifier::signed_parts`] answers. Empty for HMAC.
    public_jwks: Vec<String>,
    /// A longer token is refused unread (`MAX_TOKEN_LEN`).
    max_token_length: usize,
    /// The error for a token whose `jti` or session is revoked at the issuer.
    revoked: Failure,
}

/// A verifier: simplejwt's `JWTAuthentication` configured with its setting names.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Verifier {
    settings: Settings,
    backend: TokenBackend,
}

/// Builds a verifier from the `len` bytes of input: `JSON.stringify` of an object of
/// simplejwt settings (`ALGORITHM`, `SIGNING_KEY`, `AUDIENCE`, `LEEWAY`, …), read by
/// [`Settings::from_json`]; unknown names are an error, so a typo does not silently weaken
/// verification. Answers the verifier's [`Description`] or the error ([`output_length`]
/// long). The input, which holds key material, is zeroed.
#[wasm_bindgen]
#[cfg_attr(edgejwt_size, optimize(size))]
pub fn create(len: usize) -> Option<Verifier> {
    let built = with_input(len, |json| {
        // What JSON.stringify made of the settings: an object, or its kind named.
        let kind = match json.as_bytes().first() {
            Some(b'{') => None,
            Some(b'n') => Some("null"),
            Some(b't' | b'f') => Some("a boolean"),
            Some(b'"') => Some("a string"),
            Some(b'[') => Some("an array"),
            Some(b'-' | b'0'..=b'9') => Some("a number"),
            _ => Some("nothing"),
        };
        if let Some(kind) = kind {
            let detail = format!("settings must be an object of setting names, not {kind}");
            let code = ErrorCode::ImproperlyConfigured.as_str();
            let body = ErrorBody {
                detail: detail.clone().into(),
                code: Some(code),
                messages: Vec::new(),
            };
            return Err(Failure {
                code,
                detail: detail.into(),
                status: 500,
                body,
            });
        }
        let settings = Settings::from_json(json).map_err(|e| Failure::settings(&e))?;
        let backend = TokenBackend::from_settings(&settings).map_err(|e| Failure::settings(&e))?;
        Ok(Verifier { settings, backend })
    });
    INPUT.with_borrow_mut(|input| input.get_mut(..len).map(Zeroize::zeroize));
    match built {
        Ok(verifier) => {
            answer(&verifier.description());
            Some(verifier)
        }
        Err(error) => {
            fail(&error);
            None
        }
    }
}

impl Verifier {
    #[cfg_attr(edgejwt_size, optimize(size))]
    fn description(&self) -> Vec<u8> {
        let description = Description {
            algorithm: self.backend.algorithm().as_str(),
            key_id: self.backend.key_id(),
            auth_header_name: &self.settings.auth_header_name,
            www_authenticate: self.settings.www_authenticate(),
            host_checked: self.backend.host_checked(),
            public_jwks: self.backend.public_jwks(),
            max_token_length: MAX_TOKEN_LEN,
            revoked: Failure::authentication(&revoked(&self.settings)),
        };
        serde_json::to_vec(&description).unwrap_or_default()
    }

    /// The claims JSON as signed once the token passes simplejwt's checks at `now`.
    fn accept(&self, decoded: Result<Decoded, TokenError>, now: i64) -> i32 {
        match validated_type(decoded.as_ref(), false, &self.settings, now) {
            Err(e) => fail(&Failure::authentication(&e)),
            Ok(_) => answer(
                decoded
                    .map(Decoded::into_claims_json)
                    .unwrap_or_default()
                    .as_bytes(),
            ),
        }
    }
}

#[wasm_bindgen]
impl Verifier {
    /// Verifies the token of `len` bytes of input, of a type `AUTH_TOKEN_CLASSES` accepts, at
    /// `now` (Unix seconds), and answers its claims as signed (JSON: JS parses it with
    /// `JSON.parse`, cheaper than building an object across the boundary). `verdict`: 0, the
    /// core checks the signature (HMAC); 1 or 2, the host checked it (see `signedParts`) and
    /// found it bad or good.
    pub fn verify(&self, len: usize, now: f64, verdict: u32) -> i32 {
        with_input(len, |token| {
            #[allow(
                clippy::cast_possible_truncation,
                reason = "Unix seconds from Date.now()"
            )]
            let now = now as i64;
            let decoded = match verdict {
                0 => self.backend.decode_verbatim(token, now),
                _ => self
                    .backend
                    .decode_checked_by(token, now, |_, _, _| verdict == 2),
            };
            self.accept(decoded, now)
        })
    }

    /// The signature of the token of `len` bytes of input and the key to check it with, after
    /// the structure and algorithm checks: answers 4 bytes, the key's index (little-endian, in
    /// `publicJwks` order, chosen by the token's `kid`; `u32::MAX` when it names none), then
    /// the signature (for ES, `r || s`). The signed bytes are the token up to its last `.`.
    #[wasm_bindgen(js_name = signedParts)]
    pub fn signed_parts(&self, len: usize) -> i32 {
        with_input(len, |token| match self.backend.signed_parts(token) {
            Err(e) => fail(&Failure::token(&e)),
            Ok(parts) => {
                let key = parts
                    .key
                    .and_then(|k| u32::try_from(k).ok())
                    .unwrap_or(u32::MAX);
                let mut out = Vec::with_capacity(4 + parts.signature.len());
                out.extend_from_slice(&key.to_le_bytes());
                out.extend_from_slice(&parts.signature);
                answer(&out)
            }
        })
    }

    /// The token in the `AUTH_HEADER_NAME` header value of `len` bytes of input (simplejwt's
    /// `get_raw_token`), `len < 0` for no header; no header, or one of another scheme, is
    /// DRF's `NotAuthenticated`.
    #[wasm_bindgen(js_name = rawToken)]
    pub fn raw_token(&self, len: i32) -> i32 {
        let Ok(len) = usize::try_from(len) else {
            return fail(&Failure::authentication(
                &AuthenticationError::NotAuthenticated,
            ));
        };
        with_input(len, |header| match get_raw_token(header, &self.settings) {
            Ok(Some(token)) => answer(token.as_bytes()),
            Ok(None) => fail(&Failure::authentication(
                &AuthenticationError::NotAuthenticated,
            )),
            Err(e) => fail(&Failure::authentication(&e)),
        })
    }

    /// The user id of a verified token's claims (`len` bytes of input, JSON), or "Token
    /// contained no recognizable user identification".
    #[wasm_bindgen(js_name = userId)]
    pub fn user_id(&self, len: usize) -> i32 {
        with_input(len, |claims| {
            // Claims that are not a verify's (not an object) name no user.
            let user = self
                .backend
                .read_claims(claims)
                .map_or(Err(AuthenticationError::NoUserId), |c| {
                    stateless_user_id(&c, &self.settings)
                });
            match user {
                Ok(id) => answer(id.as_bytes()),
                Err(e) => fail(&Failure::authentication(&e)),
            }
        })
    }

    /// The KV keys whose presence revokes a verified token (its `jti`, its session), as a JSON
    /// list, of its claims (`len` bytes of input, JSON).
    #[wasm_bindgen(js_name = revocationKeys)]
    pub fn revocation_keys(&self, len: usize) -> i32 {
        with_input(len, |claims| {
            let keys = self
                .backend
                .read_claims(claims)
                .map(|c| revocation_keys(&c, &self.settings))
                .unwrap_or_default();
            answer(&serde_json::to_vec(&keys).unwrap_or_default())
        })
    }
}
