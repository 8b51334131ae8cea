//! # edgejwt-wasm
//!
//! wasm-bindgen bindings of edgejwt-core for the npm package `edgejwt` (`pkg/`): a
//! newtype over the core's settings and backend that delegates, and one place where core
//! errors become JS errors. No token logic lives here. The package's `ErrorCode` and
//! `SettingName` types are generated from the core's tables (below).

// Verifier::new runs once per verifier: built for size in the package (see edgejwt-core).
#![cfg_attr(edgejwt_size, feature(optimize_attribute))]

use edgejwt_core::{
    get_raw_token, revocation_keys, revoked, stateless_user_id, validated_type, Algorithm,
    AuthenticationError, Decoded, Settings, SettingsError, TokenBackend, TokenError, MAX_TOKEN_LEN,
};
use js_sys::{Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;

// Talc in place of Rust's default wasm allocator (dlmalloc): 3 kB less gzipped wasm (84.3 vs
// 87.4 kB, by hand on 2026-12-04), the same HS256 rate. The module is single-threaded.
#[cfg(all(not(target_feature = "atomics"), target_family = "wasm"))]
#[global_allocator]
static TALC: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

#[wasm_bindgen(typescript_custom_section)]
const ERROR_CODES: &str = edgejwt_core::ERROR_CODES_TS;

#[wasm_bindgen(typescript_custom_section)]
const SETTING_NAMES: &str = edgejwt_core::SETTING_NAMES_TS;

/// Every error crossing into JS: an `Error` whose message is simplejwt's `detail`, with
/// `code` (edgejwt's stable code), `status` (HTTP) and `body` (simplejwt's JSON body).
fn js_error(code: &str, detail: &str, status: u16, body: &str) -> JsValue {
    let error = js_sys::Error::new(detail);
    let set = |k: &str, v: JsValue| {
        let _ = Reflect::set(&error, &JsValue::from_str(k), &v);
    };
    set("name", "EdgeJwtError".into());
    set("code", code.into());
    set("detail", detail.into());
    set("status", status.into());
    set("body", js_sys::JSON::parse(body).unwrap_or(JsValue::NULL));
    error.into()
}

fn token_error(err: &TokenError) -> JsValue {
    js_error(
        err.code().as_str(),
        &err.detail(),
        401,
        &err.to_body().to_json(),
    )
}

fn auth_error(err: &AuthenticationError) -> JsValue {
    js_error(
        err.cause().as_str(),
        err.detail(),
        401,
        &err.to_body().to_json(),
    )
}

fn settings_error(err: &SettingsError) -> JsValue {
    let body = err.to_body();
    js_error(
        edgejwt_core::ErrorCode::ImproperlyConfigured.as_str(),
        &err.to_string(),
        500,
        &body.to_json(),
    )
}

/// A setting's value, as `JSON.stringify` leaves it, as the core reads settings: text; a
/// list of texts comma-joined; other values as JSON text. Read with JS's own types and JSON,
/// not a `serde_json::Value`: with its other uses gone, the Value and its map were 6.5 KiB
/// of the gzipped wasm.
fn setting_text(name: &str, value: &JsValue) -> Option<String> {
    if value.is_null() || value.is_undefined() {
        return None;
    }
    if let Some(text) = value.as_string() {
        return Some(text);
    }
    if let Some(b) = value.as_bool() {
        return Some(if b { "true" } else { "false" }.to_owned());
    }
    let json = || {
        js_sys::JSON::stringify(value)
            .ok()
            .and_then(|t| t.as_string())
    };
    if value.as_f64().is_some() {
        // JS formats the number: Rust's float formatting would add ~10 KiB to the wasm.
        return value
            .unchecked_ref::<js_sys::Number>()
            .to_string_with_radix(10)
            .ok()
            .map(String::from);
    }
    if js_sys::Array::is_array(value) {
        let items: &js_sys::Array = value.unchecked_ref();
        let texts: Option<Vec<String>> = items.iter().map(|item| item.as_string()).collect();
        if let Some(texts) = texts {
            // A list of keys (PEM text, secrets) is the setting's JSON array: keys hold commas.
            return if name == "PREVIOUS_VERIFYING_KEYS" {
                json()
            } else {
                Some(texts.join(","))
            };
        }
    }
    json()
}

/// What a settings value is when it is not an object, in the words of the error.
fn not_an_object(value: &JsValue) -> Option<&'static str> {
    Some(if value.is_undefined() {
        "nothing"
    } else if value.is_null() {
        "null"
    } else if value.as_bool().is_some() {
        "a boolean"
    } else if value.as_f64().is_some() {
        "a number"
    } else if value.is_string() {
        "a string"
    } else if js_sys::Array::is_array(value) {
        "an array"
    } else if value.is_object() {
        return None;
    } else {
        "nothing"
    })
}

/// A verifier: simplejwt's `JWTAuthentication` configured with its setting names.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Verifier {
    settings: Settings,
    backend: TokenBackend,
    /// Where JS writes a token (`TextEncoder.encodeInto` into this memory at `inputPointer`)
    /// for `verifyInput`: a tenth of wasm-bindgen's cost of passing a string, which copies
    /// it a UTF-16 code unit at a time. Never resized, so the pointer holds.
    input: Vec<u8>,
}

#[wasm_bindgen]
impl Verifier {
    /// Builds a verifier from an object of simplejwt settings (`ALGORITHM`, `SIGNING_KEY`,
    /// `VERIFYING_KEY`, `AUDIENCE`, `ISSUER`, `LEEWAY`, `AUTH_HEADER_TYPES`, …). Unknown keys
    /// are an error, so a typo does not silently weaken verification.
    #[wasm_bindgen(constructor)]
    #[cfg_attr(edgejwt_size, optimize(size))]
    pub fn new(settings: JsValue) -> Result<Verifier, JsValue> {
        // JSON's view of the object (toJSON applied, undefined and functions dropped), as the
        // settings would be written in a JSON file; read member by member with JS's types.
        let plain = js_sys::JSON::stringify(&settings)
            .ok()
            .and_then(|t| t.as_string())
            .and_then(|t| js_sys::JSON::parse(&t).ok())
            .unwrap_or(JsValue::UNDEFINED);
        if let Some(what) = not_an_object(&plain) {
            return Err(js_error(
                edgejwt_core::ErrorCode::ImproperlyConfigured.as_str(),
                &format!("settings must be an object of setting names, not {what}"),
                500,
                "{}",
            ));
        }
        let mut s = Settings::default();
        for entry in Object::entries(plain.unchecked_ref()).iter() {
            let entry: js_sys::Array = entry.unchecked_into();
            let Some(name) = entry.get(0).as_string() else {
                continue;
            };
            if let Some(value) = setting_text(&name, &entry.get(1)) {
                s.set(&name, value.trim()).map_err(|e| settings_error(&e))?;
            }
        }
        s.check().map_err(|e| settings_error(&e))?;
        let backend = TokenBackend::from_settings(&s).map_err(|e| settings_error(&e))?;
        Ok(Verifier {
            settings: s,
            backend,
            input: vec![0; MAX_TOKEN_LEN],
        })
    }

    /// Whether this build leaves `algorithm`'s signatures to the host (node:crypto or
    /// WebCrypto): its keys must then come as JWKs (the package converts PEM first) and its
    /// tokens verify only with a host check (`verifyWith`, `verifyWithCheckedSignature`).
    #[wasm_bindgen(js_name = hostChecks)]
    pub fn host_checks(algorithm: &str) -> bool {
        algorithm
            .parse::<Algorithm>()
            .is_ok_and(|alg| !alg.is_hmac() && !alg.is_enabled())
    }

    /// Whether this verifier's signatures must be checked by the host (see `hostChecks`):
    /// `verify` refuses every token then.
    #[wasm_bindgen(getter, js_name = hostChecked)]
    pub fn host_checked(&self) -> bool {
        self.backend.host_checked()
    }

    /// Verifies a token accepted by `AUTH_TOKEN_CLASSES` at `now` (Unix seconds) and returns
    /// its claims as JSON text.
    pub fn verify(&self, token: &str, now: f64) -> Result<String, JsValue> {
        let decoded = self.backend.decode_verbatim(token, now as i64);
        self.accept(decoded, now)
    }

    /// Where `verifyInput` reads a token: `inputLength` bytes of this memory.
    #[wasm_bindgen(js_name = inputPointer)]
    pub fn input_pointer(&mut self) -> usize {
        self.input.as_mut_ptr() as usize
    }

    /// The most bytes `verifyInput` reads (`MAX_TOKEN_LEN`: a longer token is refused anyway).
    #[wasm_bindgen(getter, js_name = inputLength)]
    pub fn input_length(&self) -> usize {
        self.input.len()
    }

    /// As `verify`, for the token of `len` bytes JS wrote at `inputPointer`.
    #[wasm_bindgen(js_name = verifyInput)]
    pub fn verify_input(&self, len: usize, now: f64) -> Result<String, JsValue> {
        self.verify(self.written(len), now)
    }

    /// As `verifyWith`, for the token of `len` bytes JS wrote at `inputPointer`.
    #[wasm_bindgen(js_name = verifyInputWith)]
    pub fn verify_input_with(
        &self,
        len: usize,
        now: f64,
        check: &js_sys::Function,
    ) -> Result<String, JsValue> {
        self.verify_with(self.written(len), now, check)
    }

    /// The token JS wrote: `encodeInto` writes UTF-8, but any other bytes are no token ("").
    fn written(&self, len: usize) -> &str {
        self.input
            .get(..len)
            .and_then(|bytes| core::str::from_utf8(bytes).ok())
            .unwrap_or_default()
    }

    /// As `verify`, for a token whose signature the caller checked over `signedParts`
    /// (WebCrypto); `signature_valid` is that check's result.
    #[wasm_bindgen(js_name = verifyWithCheckedSignature)]
    pub fn verify_with_checked_signature(
        &self,
        token: &str,
        signature_valid: bool,
        now: f64,
    ) -> Result<String, JsValue> {
        let decoded = self
            .backend
            .decode_checked_by(token, now as i64, |_, _, _| signature_valid);
        self.accept(decoded, now)
    }

    /// The claims JSON as signed once the token passes simplejwt's checks: JS parses it
    /// with `JSON.parse`, cheaper than building an object across the boundary.
    fn accept(&self, decoded: Result<Decoded, TokenError>, now: f64) -> Result<String, JsValue> {
        validated_type(decoded.as_ref(), false, &self.settings, now as i64)
            .map_err(|e| auth_error(&e))?;
        Ok(decoded.map(Decoded::into_claims_json).unwrap_or_default())
    }

    /// As `verify`, the signature checked by `check(signingInput, signature, key)`, a synchronous
    /// host function (node:crypto) returning a boolean: one pass over the token.
    #[wasm_bindgen(js_name = verifyWith)]
    pub fn verify_with(
        &self,
        token: &str,
        now: f64,
        check: &js_sys::Function,
    ) -> Result<String, JsValue> {
        let decoded = self
            .backend
            .decode_checked_by(token, now as i64, |key, input, signature| {
                // A throwing or non-boolean check is a failed check, never a pass.
                check
                    .call3(
                        &JsValue::NULL,
                        &JsValue::from_str(input),
                        &Uint8Array::from(signature),
                        &JsValue::from(key as u32),
                    )
                    .is_ok_and(|ok| ok.as_bool() == Some(true))
            });
        self.accept(decoded, now)
    }

    /// The signed bytes, signature and `kid` of `token`, after structure and algorithm
    /// checks: `{ signingInput, signature, kid, key }`, `key` the index (in `publicJwks` order) of
    /// the key the core chose by `kid`, `null` when the `kid` names none.
    #[wasm_bindgen(js_name = signedParts)]
    pub fn signed_parts(&self, token: &str) -> Result<Object, JsValue> {
        let parts = self
            .backend
            .signed_parts(token)
            .map_err(|e| token_error(&e))?;
        let out = Object::new();
        let _ = Reflect::set(&out, &"signingInput".into(), &parts.signing_input.into());
        let _ = Reflect::set(
            &out,
            &"signature".into(),
            &Uint8Array::from(parts.signature.as_slice()),
        );
        let _ = Reflect::set(
            &out,
            &"kid".into(),
            &parts.key_id.map_or(JsValue::NULL, JsValue::from),
        );
        let _ = Reflect::set(
            &out,
            &"key".into(),
            &parts.key.map_or(JsValue::NULL, |k| JsValue::from(k as u32)),
        );
        Ok(out)
    }

    /// The token in an `AUTH_HEADER_NAME` header value (simplejwt's `get_raw_token`); no
    /// header, or one of another scheme, is DRF's `NotAuthenticated`.
    #[wasm_bindgen(js_name = rawToken)]
    pub fn raw_token(&self, header: Option<String>) -> Result<String, JsValue> {
        header
            .as_deref()
            .map(|h| get_raw_token(h, &self.settings))
            .transpose()
            .map_err(|e| auth_error(&e))?
            .flatten()
            .map(str::to_owned)
            .ok_or_else(|| auth_error(&AuthenticationError::NotAuthenticated))
    }

    /// The user id of a verified token's claims (JSON text), or "Token contained no
    /// recognizable user identification".
    #[wasm_bindgen(js_name = userId)]
    pub fn user_id(&self, claims: &str) -> Result<String, JsValue> {
        // Claims that are not a verify's (not an object) name no user.
        let claims = self.backend.read_claims(claims);
        claims
            .map_or(Err(AuthenticationError::NoUserId), |c| {
                stateless_user_id(&c, &self.settings)
            })
            .map_err(|e| auth_error(&e))
    }

    /// The KV keys whose presence revokes a verified token (its `jti`, its session).
    #[wasm_bindgen(js_name = revocationKeys)]
    pub fn revocation_keys(&self, claims: &str) -> Vec<String> {
        self.backend
            .read_claims(claims)
            .map(|c| revocation_keys(&c, &self.settings))
            .unwrap_or_default()
    }

    /// The error for a token whose `jti` or session is revoked at the issuer.
    pub fn revoked(&self) -> JsValue {
        auth_error(&revoked(&self.settings))
    }

    /// The configured algorithm (`ALGORITHM`).
    #[wasm_bindgen(getter)]
    pub fn algorithm(&self) -> String {
        self.backend.algorithm().as_str().to_owned()
    }

    /// The public key as a JWK (JSON text), for WebCrypto; `undefined` for HMAC.
    #[wasm_bindgen(js_name = publicJwk)]
    pub fn public_jwk(&self) -> Option<String> {
        self.backend.public_jwk()
    }

    /// Every public key that verifies (JWK JSON), the current one first: the order of
    /// `signedParts().key` and of the `key` argument of a `verifyWith` check. Empty for HMAC.
    #[wasm_bindgen(js_name = publicJwks)]
    pub fn public_jwks(&self) -> Vec<String> {
        self.backend.public_jwks()
    }

    /// The `kid` of the current key (the one tokens of this configuration are signed with).
    #[wasm_bindgen(getter, js_name = keyId)]
    pub fn key_id(&self) -> String {
        self.backend.key_id().to_owned()
    }

    /// `AUTH_HEADER_NAME` as an HTTP header name.
    #[wasm_bindgen(getter, js_name = authHeaderName)]
    pub fn auth_header_name(&self) -> String {
        self.settings.auth_header_name.clone()
    }

    /// `WWW-Authenticate` for 401s: `Bearer realm="api"`.
    #[wasm_bindgen(getter, js_name = wwwAuthenticate)]
    pub fn www_authenticate(&self) -> String {
        self.settings.www_authenticate()
    }
}
