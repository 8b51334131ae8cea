//! simplejwt's `TokenBackend`: signs a payload, and decodes a token with PyJWT's checks
//! (signature, `exp`, `nbf`, `iat`, `aud`, `iss`) under the configured algorithm only.

use alloc::string::{String, ToString};

use base64ct::{Base64UrlUnpadded, Encoding};
use chrono::{DateTime, Utc};
use jwt_compact::{
    alg::{Hs256, Hs384, Hs512},
    jwk::JsonWebKey,
    Algorithm as JwtAlgorithm, AlgorithmExt, Claims, Header, UntrustedToken, ValidationError,
};
use serde_json::{Map, Value};

use crate::{
    algorithm::{Algorithm, Keys},
    error::{EncodeError, InvalidReason, SettingsError, TokenError},
    settings::Settings,
    token::Payload,
};

/// Longest token accepted, in bytes. simplejwt tokens are ~250 bytes; a cap keeps a
/// hostile header from costing the verifier more than a few microseconds.
pub const MAX_TOKEN_LEN: usize = 8 * 1024;

/// The registered time claims, carried outside the custom claims by jwt-compact.
const TIME_CLAIMS: [&str; 3] = ["exp", "nbf", "iat"];

/// What a host needs to check a token's signature itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedParts<'t> {
    /// `base64url(header) "." base64url(claims)`: the signed bytes.
    pub signing_input: &'t str,
    /// The decoded signature (for ES256, `r || s` as WebCrypto expects).
    pub signature: alloc::vec::Vec<u8>,
    /// The header's `kid`, to pick a key from a JWK Set.
    pub key_id: Option<String>,
}

/// Signs and verifies tokens with one algorithm and its keys.
#[derive(Debug)]
pub struct TokenBackend {
    algorithm: Algorithm,
    keys: Keys,
    /// RFC 7638 thumbprint of the public key (asymmetric only), the `kid` of tokens and JWKS.
    key_id: Option<String>,
    audience: Option<String>,
    issuer: Option<String>,
    leeway: i64,
}

impl TokenBackend {
    /// Builds the backend from `ALGORITHM`, `SIGNING_KEY`, `VERIFYING_KEY`, `AUDIENCE`,
    /// `ISSUER` and `LEEWAY`. Weak or mismatched keys are refused here.
    pub fn from_settings(settings: &Settings) -> Result<Self, SettingsError> {
        let keys = Keys::load(
            settings.algorithm,
            settings.signing_key.expose(),
            settings.verifying_key.as_deref(),
        )?;
        let key_id = keys
            .public_jwk()
            .map(|jwk| Base64UrlUnpadded::encode_string(&jwk.thumbprint::<sha2::Sha256>()));
        Ok(Self {
            algorithm: settings.algorithm,
            keys,
            key_id,
            audience: settings.audience.clone(),
            issuer: settings.issuer.clone(),
            leeway: i64::try_from(settings.leeway).unwrap_or(i64::MAX),
        })
    }

    /// The configured algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// Whether this backend holds a signing key (false for a verify-only configuration).
    pub fn can_sign(&self) -> bool {
        self.keys.can_sign()
    }

    /// The `kid` of this backend's key: the RFC 7638 SHA-256 thumbprint of the public key;
    /// `None` for HMAC (a secret has no public id).
    pub fn key_id(&self) -> Option<&str> {
        self.key_id.as_deref()
    }

    /// The public key as a JWK JSON object (for JWKS), with `alg`, `use` and `kid`; `None` for HMAC.
    pub fn public_jwk(&self) -> Option<String> {
        let jwk: JsonWebKey<'_> = self.keys.public_jwk()?;
        let mut value = serde_json::to_value(&jwk).ok()?;
        if let Value::Object(map) = &mut value {
            map.insert("alg".into(), self.algorithm.as_str().into());
            map.insert("use".into(), "sig".into());
            if let Some(kid) = &self.key_id {
                map.insert("kid".into(), kid.as_str().into());
            }
        }
        serde_json::to_string(&value).ok()
    }

    /// Signs `payload` (simplejwt's `TokenBackend.encode`): adds `aud`/`iss` when configured.
    pub fn encode(&self, payload: &Payload) -> Result<String, EncodeError> {
        let mut custom = payload.as_map().clone();
        if let Some(aud) = &self.audience {
            custom.insert("aud".into(), aud.as_str().into());
        }
        if let Some(iss) = &self.issuer {
            custom.insert("iss".into(), iss.as_str().into());
        }
        let mut claims = Claims::new(Map::new());
        claims.expiration = take_time(&mut custom, "exp")?;
        claims.not_before = take_time(&mut custom, "nbf")?;
        claims.issued_at = take_time(&mut custom, "iat")?;
        claims.custom = custom;
        let mut header = Header::empty().with_token_type("JWT");
        if let Some(kid) = &self.key_id {
            header = header.with_key_id(kid.as_str());
        }
        match &self.keys {
            Keys::Hs256(key) => sign(&Hs256, key, &header, &claims),
            Keys::Hs384(key) => sign(&Hs384, key, &header, &claims),
            Keys::Hs512(key) => sign(&Hs512, key, &header, &claims),
            #[cfg(feature = "es256")]
            Keys::Es256 { signing, .. } => sign(
                &jwt_compact::alg::Es256,
                signing_key(signing)?,
                &header,
                &claims,
            ),
            #[cfg(feature = "eddsa")]
            Keys::EdDsa { signing, .. } => sign(
                &jwt_compact::alg::Ed25519,
                signing_key(signing)?,
                &header,
                &claims,
            ),
            #[cfg(feature = "rsa")]
            Keys::Rsa { alg, signing, .. } => sign(alg, signing_key(signing)?, &header, &claims),
        }
    }

    /// Verifies `token` at time `now` (Unix seconds) and returns its payload
    /// (simplejwt's `TokenBackend.decode`). Checks, in PyJWT's order: structure, algorithm,
    /// signature, `iat` and `nbf` not in the future, `exp`, `iss`, `aud`, `jti`/`sub` types.
    pub fn decode(&self, token: &str, now: i64) -> Result<Payload, TokenError> {
        // The algorithm is checked first (jwt-compact checks it too): `alg: none` and
        // algorithm swaps never reach a key.
        let untrusted = self.untrusted(token)?;
        let claims = match &self.keys {
            Keys::Hs256(key) => verify(&Hs256, key, &untrusted),
            Keys::Hs384(key) => verify(&Hs384, key, &untrusted),
            Keys::Hs512(key) => verify(&Hs512, key, &untrusted),
            #[cfg(feature = "es256")]
            Keys::Es256 { verifying, .. } => {
                verify(&jwt_compact::alg::Es256, verifying, &untrusted)
            }
            #[cfg(feature = "eddsa")]
            Keys::EdDsa { verifying, .. } => {
                verify(&jwt_compact::alg::Ed25519, verifying, &untrusted)
            }
            #[cfg(feature = "rsa")]
            Keys::Rsa { alg, verifying, .. } => verify(alg, verifying, &untrusted),
        }?;
        self.validate_claims(claims, now)
    }

    /// The parts of `token` whose signature a host checks itself (e.g. with WebCrypto, far
    /// faster than pure-Rust ECDSA and RSA in wasm), after the same structure, size and
    /// algorithm checks as [`TokenBackend::decode`]. Finish with
    /// [`TokenBackend::decode_with_checked_signature`].
    pub fn signed_parts<'t>(&self, token: &'t str) -> Result<SignedParts<'t>, TokenError> {
        let untrusted = self.untrusted(token)?;
        let signing_input = token
            .rsplit_once('.')
            .map(|(input, _)| input)
            .ok_or(TokenError::Invalid(InvalidReason::Malformed))?;
        Ok(SignedParts {
            signing_input,
            signature: untrusted.signature_bytes().to_vec(),
            key_id: untrusted.header().key_id.clone(),
        })
    }

    /// [`TokenBackend::decode`] for a token whose signature the host has checked over
    /// [`SignedParts`]: `signature_valid` is its verdict. Claims are checked as in `decode`.
    pub fn decode_with_checked_signature(
        &self,
        token: &str,
        signature_valid: bool,
        now: i64,
    ) -> Result<Payload, TokenError> {
        let untrusted = self.untrusted(token)?;
        let claims = untrusted
            .deserialize_claims_unchecked::<Map<String, Value>>()
            .map_err(|_| TokenError::Invalid(InvalidReason::Claims))?;
        if !signature_valid {
            return Err(TokenError::Invalid(InvalidReason::Signature));
        }
        self.validate_claims(claims, now)
    }

    fn untrusted<'t>(&self, token: &'t str) -> Result<UntrustedToken<'t>, TokenError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(TokenError::Invalid(InvalidReason::Malformed));
        }
        let untrusted = UntrustedToken::new(token)
            .map_err(|_| TokenError::Invalid(InvalidReason::Malformed))?;
        if untrusted.algorithm() != self.algorithm.as_str() {
            return Err(TokenError::Invalid(InvalidReason::AlgorithmMismatch));
        }
        Ok(untrusted)
    }

    fn validate_claims(
        &self,
        claims: Claims<Map<String, Value>>,
        now: i64,
    ) -> Result<Payload, TokenError> {
        let invalid = TokenError::Invalid;
        let seconds = |t: Option<DateTime<Utc>>| t.map(|t| t.timestamp());
        let (exp, nbf, iat) = (
            seconds(claims.expiration),
            seconds(claims.not_before),
            seconds(claims.issued_at),
        );
        let leeway = self.leeway;
        if iat.is_some_and(|iat| iat > now.saturating_add(leeway))
            || nbf.is_some_and(|nbf| nbf > now.saturating_add(leeway))
        {
            return Err(invalid(InvalidReason::Immature));
        }
        if exp.is_some_and(|exp| exp <= now.saturating_sub(leeway)) {
            return Err(TokenError::Expired);
        }
        let mut map = claims.custom;
        if let Some(expected) = &self.issuer {
            if map.get("iss").and_then(Value::as_str) != Some(expected.as_str()) {
                return Err(invalid(InvalidReason::Issuer));
            }
        }
        if let Some(expected) = &self.audience {
            let matches = match map.get("aud") {
                Some(Value::String(aud)) => aud == expected,
                Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(expected)),
                _ => false,
            };
            if !matches {
                return Err(invalid(InvalidReason::Audience));
            }
        }
        for claim in ["jti", "sub"] {
            if map.get(claim).is_some_and(|v| !v.is_string()) {
                return Err(invalid(InvalidReason::Claims));
            }
        }
        for (name, value) in TIME_CLAIMS.into_iter().zip([exp, nbf, iat]) {
            if let Some(value) = value {
                map.insert(name.into(), value.into());
            }
        }
        Ok(Payload::from_map(map))
    }
}

fn sign<A: JwtAlgorithm>(
    alg: &A,
    key: &A::SigningKey,
    header: &Header,
    claims: &Claims<Map<String, Value>>,
) -> Result<String, EncodeError> {
    alg.token(header, claims, key)
        .map_err(|err| EncodeError::Signing(err.to_string()))
}

fn verify<A: JwtAlgorithm>(
    alg: &A,
    key: &A::VerifyingKey,
    token: &UntrustedToken<'_>,
) -> Result<Claims<Map<String, Value>>, TokenError> {
    let token = alg
        .validator::<Map<String, Value>>(key)
        .validate(token)
        .map_err(|err| {
            TokenError::Invalid(match err {
                ValidationError::AlgorithmMismatch { .. } => InvalidReason::AlgorithmMismatch,
                ValidationError::InvalidSignatureLen { .. }
                | ValidationError::MalformedSignature(_)
                | ValidationError::InvalidSignature => InvalidReason::Signature,
                _ => InvalidReason::Claims,
            })
        })?;
    Ok(token.into_parts().1)
}

#[allow(dead_code, reason = "unused when only HMAC is enabled")]
fn signing_key<K>(key: &Option<K>) -> Result<&K, EncodeError> {
    key.as_ref().ok_or(EncodeError::NoSigningKey)
}

/// Moves a time claim out of the map into jwt-compact's typed field.
fn take_time(
    map: &mut Map<String, Value>,
    name: &str,
) -> Result<Option<DateTime<Utc>>, EncodeError> {
    let Some(value) = map.remove(name) else {
        return Ok(None);
    };
    value
        .as_i64()
        .and_then(|secs| DateTime::from_timestamp(secs, 0))
        .map(Some)
        .ok_or_else(|| EncodeError::Signing(alloc::format!("claim {name} is not a timestamp")))
}
