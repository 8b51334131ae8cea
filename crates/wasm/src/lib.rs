//! # edgejwt-wasm
//!
//! wasm-bindgen bindings of edgejwt-core for the npm package `edgejwt` (`pkg/`): a
//! newtype over the core's settings and backend that delegates, and one place where core
//! errors become JS errors. No token logic lives here.

use edgejwt_core::{
    get_raw_token, get_validated_token, AuthenticationError, Decoded, Settings, SettingsError,
    TokenBackend, TokenError, SETTING_NAMES,
};
use js_sys::{Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;

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
    js_error(err.code(), &err.detail(), 401, &err.to_body().to_json())
}

fn auth_error(err: &AuthenticationError) -> JsValue {
    // For "not valid for any token type" the precise cause is the code: it is what callers
    // branch on (expired → refresh, invalid → log in again).
    let code = match err {
        AuthenticationError::InvalidToken(messages) => {
            messages.first().map_or(err.code(), |m| m.error.code())
        }
        other => other.code(),
    };
    js_error(code, err.detail(), 401, &err.to_body().to_json())
}

fn settings_error(err: &SettingsError) -> JsValue {
    js_error("improperly_configured", &err.to_string(), 500, "{}")
}

/// A verifier: simplejwt's `JWTAuthentication` configured with its setting names.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Verifier {
    settings: Settings,
    backend: TokenBackend,
}

/// A setting's value as the core reads it: strings as they are, numbers and booleans as
/// text, arrays comma-joined.
fn setting_value(value: &JsValue) -> Option<String> {
    if value.is_undefined() || value.is_null() {
        return None;
    }
    if let Some(s) = value.as_string() {
        return Some(s);
    }
    if let Some(n) = value.as_f64() {
        return Some(format!("{n}"));
    }
    if let Some(b) = value.as_bool() {
        return Some(b.to_string());
    }
    if js_sys::Array::is_array(value) {
        return Some(js_sys::Array::from(value).join(",").into());
    }
    // Objects (a JWK given as an object) travel as JSON.
    js_sys::JSON::stringify(value).ok().map(String::from)
}

#[wasm_bindgen]
impl Verifier {
    /// Builds a verifier from an object of simplejwt settings (`ALGORITHM`, `SIGNING_KEY`,
    /// `VERIFYING_KEY`, `AUDIENCE`, `ISSUER`, `LEEWAY`, `AUTH_HEADER_TYPES`, …). Unknown keys
    /// are an error, so a typo does not silently weaken verification.
    #[wasm_bindgen(constructor)]
    pub fn new(settings: &Object) -> Result<Verifier, JsValue> {
        let mut s = Settings::default();
        for key in Object::keys(settings).iter() {
            let name = key.as_string().unwrap_or_default();
            let value = Reflect::get(settings, &key).ok();
            let Some(value) = value.as_ref().and_then(setting_value) else {
                continue;
            };
            s.set(&name, value.trim()).map_err(|e| settings_error(&e))?;
        }
        s.check().map_err(|e| settings_error(&e))?;
        let backend = TokenBackend::from_settings(&s).map_err(|e| settings_error(&e))?;
        Ok(Verifier {
            settings: s,
            backend,
        })
    }

    /// Verifies a token accepted by `AUTH_TOKEN_CLASSES` at `now` (Unix seconds) and returns
    /// its claims as JSON text.
    pub fn verify(&self, token: &str, now: f64) -> Result<String, JsValue> {
        let decoded = self.backend.decode_verbatim(token, now as i64);
        self.accept(decoded, now)
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
            .decode_checked_by(token, now as i64, |_, _| signature_valid);
        self.accept(decoded, now)
    }

    /// The claims JSON as signed once the token passes simplejwt's checks: JS parses it
    /// with `JSON.parse`, cheaper than building an object across the boundary.
    fn accept(&self, decoded: Result<Decoded, TokenError>, now: f64) -> Result<String, JsValue> {
        let (payload, json) = match decoded {
            Ok(d) => (Ok(d.payload), d.claims_json),
            Err(e) => (Err(e), String::new()),
        };
        get_validated_token(payload, false, &self.settings, now as i64)
            .map(|_| json)
            .map_err(|e| auth_error(&e))
    }

    /// As `verify`, the signature checked by `check(signingInput, signature)`, a synchronous
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
            .decode_checked_by(token, now as i64, |input, signature| {
                // A throwing or non-boolean check is a failed check, never a pass.
                check
                    .call2(
                        &JsValue::NULL,
                        &JsValue::from_str(input),
                        &Uint8Array::from(signature),
                    )
                    .is_ok_and(|ok| ok.as_bool() == Some(true))
            });
        self.accept(decoded, now)
    }

    /// The signed bytes, signature and `kid` of `token`, after structure and algorithm
    /// checks: `{ signingInput, signature, kid }`.
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
        Ok(out)
    }

    /// The token in an `Authorization` header value (simplejwt's `get_raw_token`):
    /// `undefined` when the header is absent or of another scheme.
    #[wasm_bindgen(js_name = rawToken)]
    pub fn raw_token(&self, header: Option<String>) -> Result<Option<String>, JsValue> {
        match header
            .as_deref()
            .map(|h| get_raw_token(h, &self.settings))
            .transpose()
        {
            Ok(token) => Ok(token.flatten().map(str::to_owned)),
            Err(e) => Err(auth_error(&e)),
        }
    }

    /// The error for a request with no credentials (DRF's `NotAuthenticated`).
    #[wasm_bindgen(js_name = notAuthenticated)]
    pub fn not_authenticated(&self) -> JsValue {
        auth_error(&AuthenticationError::NotAuthenticated)
    }

    /// The error for a valid token without the `USER_ID_CLAIM`.
    #[wasm_bindgen(js_name = noUserId)]
    pub fn no_user_id(&self) -> JsValue {
        auth_error(&AuthenticationError::NoUserId)
    }

    /// The error for a token whose `jti` is revoked (blacklisted at the issuer).
    #[wasm_bindgen(js_name = revoked)]
    pub fn revoked(&self) -> JsValue {
        let err = TokenError::Blacklisted;
        let messages = self
            .settings
            .auth_token_classes
            .iter()
            .map(|t| edgejwt_core::TokenMessage {
                token_class: t.class_name(),
                token_type: t.as_str(),
                message: err.detail(),
                error: err.clone(),
            })
            .collect();
        auth_error(&AuthenticationError::InvalidToken(messages))
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

    /// `USER_ID_CLAIM`.
    #[wasm_bindgen(getter, js_name = userIdClaim)]
    pub fn user_id_claim(&self) -> String {
        self.settings.user_id_claim.clone()
    }

    /// `JTI_CLAIM`.
    #[wasm_bindgen(getter, js_name = jtiClaim)]
    pub fn jti_claim(&self) -> String {
        self.settings.jti_claim.clone()
    }
}

/// The setting names a verifier reads.
#[wasm_bindgen(js_name = settingNames)]
pub fn setting_names() -> Vec<String> {
    SETTING_NAMES.iter().map(|s| (*s).to_owned()).collect()
}
