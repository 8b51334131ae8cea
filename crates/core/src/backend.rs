//! simplejwt's `TokenBackend`: signs a payload, and decodes a token with PyJWT's checks
//! (signature, `exp`, `nbf`, `iat`, `aud`, `iss`) under the configured algorithm only.

use alloc::string::{String, ToString};

use alloc::{borrow::Cow, vec::Vec};
use core::fmt;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use base64ct::{Base64UrlUnpadded, Encoding};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use jwt_compact::{
    alg::{Hs256, Hs384, Hs512},
    jwk::JsonWebKey,
    Algorithm as JwtAlgorithm, AlgorithmExt, AlgorithmSignature, Claims, Header,
};
use serde_json::{Map, Value};
use sha2::{Sha256, Sha384, Sha512};

use crate::{
    algorithm::{declared_kid, Algorithm, Keys},
    claims::{Claim, ClaimSource, ClaimsView},
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
    /// The key the core chose for it, by index in [`TokenBackend::public_jwks`] order (0 the
    /// current key); `None` when the `kid` names no key (the token is invalid).
    pub key: Option<usize>,
}

/// A verified token's claims: the JSON exactly as signed (what a JS host parses itself,
/// cheaper than serialising a payload again), read for the names the core's rules use
/// ([`ClaimSource`]). [`Decoded::into_payload`] builds the whole [`Payload`].
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded<'b>(ClaimsView<'b>);

impl Decoded<'_> {
    /// The claims as the token carries them (UTF-8 JSON, an object).
    pub fn claims_json(&self) -> &str {
        self.0.json()
    }

    /// The claims JSON, owned.
    pub fn into_claims_json(self) -> String {
        self.0.into_json()
    }

    /// Every claim, as a [`Payload`], its time claims as the integers they were checked as.
    pub fn into_payload(self) -> Result<Payload, TokenError> {
        // The view read this JSON as the same `Value` parser does: it cannot fail here.
        let Ok(Value::Object(map)) = serde_json::from_str(self.0.json()) else {
            return Err(TokenError::Invalid(InvalidReason::Claims));
        };
        let mut payload = Payload::from_map(map);
        for name in TIME_CLAIMS {
            if let Some(time) = timestamp(&self.0, name)? {
                payload.insert(name, time);
            }
        }
        Ok(payload)
    }
}

impl ClaimSource for Decoded<'_> {
    fn claim(&self, name: &str) -> Claim<'_> {
        self.0.claim(name)
    }
}

/// The header members decoding reads, as [`crate::json::read_object`] returns them in this
/// order; others are ignored, as PyJWT ignores them. `alg` must be a string; `cty` and
/// `kid` a string or `null` (as absent); `crit` (critical extensions) may hold anything: none
/// is understood, so any `crit`, even `null`, refuses the token.
const HEADER: crate::json::Fields = crate::json::Fields {
    names: &["alg", "cty", "kid", "crit"],
    skipped: 1 << 3,
};

/// A token taken apart, its signature not yet checked.
struct Parts<'t> {
    signing_input: &'t str,
    claims: Vec<u8>,
    signature: Vec<u8>,
    key_id: Option<String>,
}

/// An HMAC key hashed into its inner and outer states once; each token clones the state
/// instead of hashing the key again (two compressions of the three or four per token).
#[derive(Clone)]
enum MacKey {
    Hs256(Hmac<Sha256>),
    Hs384(Hmac<Sha384>),
    Hs512(Hmac<Sha512>),
}

impl MacKey {
    #[cfg_attr(edgejwt_size, optimize(size))]
    fn new(keys: &Keys) -> Option<Self> {
        match keys {
            Keys::Hs256(k) => Hmac::new_from_slice(k.as_ref()).ok().map(Self::Hs256),
            Keys::Hs384(k) => Hmac::new_from_slice(k.as_ref()).ok().map(Self::Hs384),
            Keys::Hs512(k) => Hmac::new_from_slice(k.as_ref()).ok().map(Self::Hs512),
            #[allow(unreachable_patterns, reason = "asymmetric variants are feature-gated")]
            _ => None,
        }
    }

    /// Constant-time comparison (`verify_slice` uses `subtle`).
    fn verify(&self, input: &[u8], signature: &[u8]) -> bool {
        fn check<M: Mac + Clone>(mac: &M, input: &[u8], signature: &[u8]) -> bool {
            let mut mac = mac.clone();
            mac.update(input);
            mac.verify_slice(signature).is_ok()
        }
        match self {
            Self::Hs256(m) => check(m, input, signature),
            Self::Hs384(m) => check(m, input, signature),
            Self::Hs512(m) => check(m, input, signature),
        }
    }
}

impl fmt::Debug for MacKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MacKey(<redacted>)")
    }
}

/// One key tokens may be signed with, and the `kid` that names it.
#[derive(Debug)]
struct KeyEntry {
    keys: Keys,
    /// The HMAC key, pre-hashed for verification (HS* only).
    mac: Option<MacKey>,
    /// The key's id: the `kid` its JWK declares, else the RFC 7638 thumbprint of the public
    /// key, or for an HMAC secret [`hmac_key_id`].
    kid: String,
}

impl KeyEntry {
    fn signature_valid(&self, input: &[u8], signature: &[u8]) -> bool {
        if let Some(mac) = &self.mac {
            return mac.verify(input, signature);
        }
        match &self.keys {
            #[cfg(feature = "es256")]
            Keys::Es256 { verifying, .. } => {
                check(&jwt_compact::alg::Es256, verifying, input, signature)
            }
            #[cfg(feature = "es384")]
            Keys::Es384 { verifying, .. } => {
                crate::algorithm::es384::verify(verifying, input, signature)
            }
            #[cfg(feature = "es512")]
            Keys::Es512 { verifying, .. } => {
                crate::algorithm::es512::verify(verifying, input, signature)
            }
            #[cfg(feature = "eddsa")]
            Keys::EdDsa { verifying, .. } => {
                check(&jwt_compact::alg::Ed25519, verifying, input, signature)
            }
            #[cfg(feature = "rsa")]
            Keys::Rsa { alg, verifying, .. } => check(alg, verifying, input, signature),
            // The host checks these (`decode_checked_by`); without its check, no token passes.
            #[cfg(feature = "host-signatures")]
            Keys::Host(_) => false,
            // HMAC keys always have a `mac`.
            _ => false,
        }
    }

    #[cfg_attr(edgejwt_size, optimize(size))]
    fn new(keys: Keys, declared: Option<String>) -> Self {
        let kid = declared.unwrap_or_else(|| match keys.public_jwk() {
            Some(jwk) => thumbprint(&jwk).unwrap_or_default(),
            None => hmac_key_id(keys.hmac_secret().unwrap_or_default()),
        });
        Self {
            mac: MacKey::new(&keys),
            keys,
            kid,
        }
    }
}

/// Domain separation for HMAC key ids: the id of a secret is no hash anything else uses.
const HMAC_KID_PREFIX: &[u8] = b"edgejwt hmac key id v1\0";

/// The RFC 7638 thumbprint of `jwk`'s public half, base64url-unpadded: SHA-256 of its
/// required members in lexicographic order, no whitespace. As jwt-compact's
/// `JsonWebKey::thumbprint`, which goes through a `serde_json::Value` (its `BTreeMap`, float
/// formatting and sort: 7.9 kB of the npm package's gzipped wasm) to print the same text.
#[cfg_attr(edgejwt_size, optimize(size))]
fn thumbprint(jwk: &JsonWebKey<'_>) -> Option<String> {
    use sha2::Digest;
    let b64 = |bytes: &[u8]| Base64UrlUnpadded::encode_string(bytes);
    // A curve name comes from a setting: written as serde_json writes a string.
    let text = |s: &str| serde_json::to_string(s).ok();
    let canonical = match jwk {
        JsonWebKey::Rsa {
            modulus,
            public_exponent,
            ..
        } => alloc::format!(
            r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
            b64(public_exponent),
            b64(modulus)
        ),
        JsonWebKey::EllipticCurve { curve, x, y, .. } => alloc::format!(
            r#"{{"crv":{},"kty":"EC","x":"{}","y":"{}"}}"#,
            text(curve)?,
            b64(x),
            b64(y)
        ),
        JsonWebKey::KeyPair { curve, x, .. } => {
            alloc::format!(r#"{{"crv":{},"kty":"OKP","x":"{}"}}"#, text(curve)?, b64(x))
        }
        // Secrets are named by `hmac_key_id`, never by a hash of the bare secret.
        _ => return None,
    };
    Some(b64(&Sha256::digest(canonical.as_bytes())))
}

/// The `kid` of an HMAC secret: base64url of the first 12 bytes of SHA-256 over a fixed
/// prefix and the secret. Stable across restarts and isolates, and no help in guessing the
/// secret: anyone holding a token can already test a guess against its signature.
fn hmac_key_id(secret: &[u8]) -> String {
    use sha2::Digest;
    let digest = Sha256::new()
        .chain_update(HMAC_KID_PREFIX)
        .chain_update(secret)
        .finalize();
    Base64UrlUnpadded::encode_string(digest.get(..12).unwrap_or_default())
}

/// Signs and verifies tokens with one algorithm and its keys: the current one signs, and
/// tokens signed by it or by a previous one (`PREVIOUS_VERIFYING_KEYS`) verify until they
/// expire. Which key checks a token is decided here, by its `kid`.
#[derive(Debug)]
pub struct TokenBackend {
    algorithm: Algorithm,
    /// The current key: signs (unless verify-only), `SIGNING_KEY` / `VERIFYING_KEY`.
    current: KeyEntry,
    /// Keys tokens were signed with before a rotation: verify-only, never sign.
    previous: Vec<KeyEntry>,
    audience: Option<String>,
    issuer: Option<String>,
    leeway: i64,
    /// The claims any rule reads (see [`crate::claims`]): registered ones and the settings'.
    claim_names: Vec<String>,
    /// The header segments most tokens carry, each with the `kid` the header checks found
    /// in it when this backend was built ([`TokenBackend::known_headers`]).
    known_headers: Vec<(String, Option<String>)>,
}

impl TokenBackend {
    /// Builds the backend from `ALGORITHM`, `SIGNING_KEY`, `VERIFYING_KEY`,
    /// `PREVIOUS_VERIFYING_KEYS`, `AUDIENCE`, `ISSUER` and `LEEWAY`. Weak or mismatched keys
    /// are refused here.
    #[cfg_attr(edgejwt_size, optimize(size))]
    pub fn from_settings(settings: &Settings) -> Result<Self, SettingsError> {
        let keys = Keys::load(
            settings.algorithm,
            settings.signing_key.expose(),
            settings.verifying_key.as_deref(),
        )?;
        let declared = settings
            .verifying_key
            .as_deref()
            .and_then(declared_kid)
            .or_else(|| declared_kid(settings.signing_key.expose()));
        let current = KeyEntry::new(keys, declared);
        let mut previous: Vec<KeyEntry> = Vec::new();
        let listed = settings.previous_verifying_keys.expose();
        if !listed.is_empty() {
            for (keys, declared) in Keys::load_previous(settings.algorithm, listed)? {
                let entry = KeyEntry::new(keys, declared);
                // The current key listed again (a rotation script's overlap) is that key.
                if entry.kid != current.kid && previous.iter().all(|p| p.kid != entry.kid) {
                    previous.push(entry);
                }
            }
        }
        let mut backend = Self {
            algorithm: settings.algorithm,
            current,
            previous,
            audience: settings.audience.clone(),
            issuer: settings.issuer.clone(),
            leeway: i64::try_from(settings.leeway).unwrap_or(i64::MAX),
            claim_names: claim_names(settings),
            known_headers: Vec::new(),
        };
        backend.known_headers = backend.known_headers();
        Ok(backend)
    }

    /// The keys that may check a token with header `kid`, in order: the key it names, or
    /// (no `kid`: simplejwt's tokens) the current key and, for HMAC, the previous secrets,
    /// which cost a hash each. An unknown `kid` names none.
    fn candidates<'a>(
        &'a self,
        kid: Option<&'a str>,
    ) -> impl Iterator<Item = (usize, &'a KeyEntry)> {
        let all = core::iter::once(&self.current)
            .chain(&self.previous)
            .enumerate();
        let hmac = self.algorithm.is_hmac();
        all.filter(move |(index, entry)| match kid {
            Some(kid) => entry.kid == kid,
            None => *index == 0 || hmac,
        })
    }

    /// The key id (`kid`) of the current key: the `kid` header of every token it signs.
    pub fn key_id(&self) -> &str {
        &self.current.kid
    }

    /// The ids of every key that verifies, the current one first.
    pub fn key_ids(&self) -> impl Iterator<Item = &str> {
        core::iter::once(&self.current)
            .chain(&self.previous)
            .map(|entry| entry.kid.as_str())
    }

    /// The configured algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// Whether the host must check this backend's signatures ([`TokenBackend::decode_checked_by`]):
    /// an asymmetric algorithm whose feature is off, loaded by `host-signatures`.
    pub fn host_checked(&self) -> bool {
        #[cfg(feature = "host-signatures")]
        if let Keys::Host(_) = self.current.keys {
            return true;
        }
        false
    }

    /// Whether this backend holds a signing key (false for a verify-only configuration).
    pub fn can_sign(&self) -> bool {
        self.current.keys.can_sign()
    }

    /// The current public key as a JWK JSON object, with `alg`, `use` and `kid`; `None` for HMAC.
    #[cfg_attr(edgejwt_size, optimize(size))]
    pub fn public_jwk(&self) -> Option<String> {
        self.jwk_text(&self.current)
    }

    /// Every public key that verifies (the current one first, then the previous ones), as
    /// the `keys` of a JWK Set; empty for HMAC, whose secrets are never published.
    pub fn public_jwks(&self) -> Vec<String> {
        core::iter::once(&self.current)
            .chain(&self.previous)
            .filter_map(|entry| self.jwk_text(entry))
            .collect()
    }

    /// The JWK Set of [`TokenBackend::public_jwks`] as JSON text: `{"keys":[...]}`.
    #[cfg_attr(edgejwt_size, optimize(size))]
    pub fn public_jwk_set(&self) -> String {
        let mut set = String::from("{\"keys\":[");
        set.push_str(&self.public_jwks().join(","));
        set.push_str("]}");
        set
    }

    /// jwt-compact's JWK of the key's own members, then `alg`, `use` and `kid`: written as
    /// text, not through a `serde_json::Value` (which the npm package's wasm no longer holds).
    #[cfg_attr(edgejwt_size, optimize(size))]
    fn jwk_text(&self, entry: &KeyEntry) -> Option<String> {
        let jwk: JsonWebKey<'_> = entry.keys.public_jwk()?;
        let mut text = serde_json::to_string(&jwk).ok()?;
        // An object with members: `{"kty":...}`; its closing brace comes after ours.
        if text.pop() != Some('}') || text.len() < 2 {
            return None;
        }
        text.push_str(",\"alg\":\"");
        text.push_str(self.algorithm.as_str());
        text.push_str("\",\"use\":\"sig\",\"kid\":");
        text.push_str(&serde_json::to_string(entry.kid.as_str()).ok()?);
        text.push('}');
        Some(text)
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
        let header = Header::empty()
            .with_token_type("JWT")
            .with_key_id(self.current.kid.as_str());
        match &self.current.keys {
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
            #[cfg(feature = "es384")]
            Keys::Es384 { signing, .. } => {
                let key = signing_key(signing)?;
                sign_with(self.algorithm, &header, &claims, |m| {
                    crate::algorithm::sign_es384(key, m)
                })
            }
            #[cfg(feature = "es512")]
            Keys::Es512 { signing, .. } => {
                let key = signing_key(signing)?;
                sign_with(self.algorithm, &header, &claims, |m| {
                    crate::algorithm::sign_es512(key, m)
                })
            }
            #[cfg(feature = "eddsa")]
            Keys::EdDsa { signing, .. } => sign(
                &jwt_compact::alg::Ed25519,
                signing_key(signing)?,
                &header,
                &claims,
            ),
            #[cfg(feature = "rsa")]
            Keys::Rsa { alg, signing, .. } => sign(alg, signing_key(signing)?, &header, &claims),
            #[cfg(feature = "host-signatures")]
            Keys::Host(_) => Err(EncodeError::NoSigningKey),
        }
    }

    /// Verifies `token` at time `now` (Unix seconds) and returns its payload
    /// (simplejwt's `TokenBackend.decode`). Checks, in PyJWT's order: structure, algorithm,
    /// signature, `iat` and `nbf` not in the future, `exp`, `iss`, `aud`, `jti`/`sub` types.
    pub fn decode(&self, token: &str, now: i64) -> Result<Payload, TokenError> {
        self.decode_verbatim(token, now)?.into_payload()
    }

    /// As [`TokenBackend::decode`], keeping the claims JSON as signed.
    pub fn decode_verbatim(&self, token: &str, now: i64) -> Result<Decoded<'_>, TokenError> {
        let parts = self.parts(token)?;
        let valid = self.candidates(parts.key_id.as_deref()).any(|(_, entry)| {
            entry.signature_valid(parts.signing_input.as_bytes(), &parts.signature)
        });
        self.finish(parts, valid, now)
    }

    /// As [`TokenBackend::decode_verbatim`], the signature checked by `check(key,
    /// signing_input, signature)`, where `key` is the index of the key the core chose by the
    /// token's `kid` in [`TokenBackend::public_jwks`] order (0 the current key): a
    /// synchronous host check (e.g. node:crypto) in one pass over the token, or the verdict
    /// of a host that checked [`SignedParts`] itself. A token whose `kid` names no key fails
    /// without a check.
    pub fn decode_checked_by(
        &self,
        token: &str,
        now: i64,
        check: impl FnOnce(usize, &str, &[u8]) -> bool,
    ) -> Result<Decoded<'_>, TokenError> {
        // Structure and algorithm first: `alg: none` and algorithm swaps never reach a key.
        let parts = self.parts(token)?;
        let valid = self
            .candidates(parts.key_id.as_deref())
            .next()
            .is_some_and(|(index, _)| check(index, parts.signing_input, &parts.signature));
        self.finish(parts, valid, now)
    }

    /// Claims JSON a decode returned ([`Decoded::claims_json`]), read again for the rules
    /// (e.g. the user id of a verified token, handed back by a JS host).
    pub fn read_claims(&self, json: &str) -> Result<Decoded<'_>, TokenError> {
        ClaimsView::read(json.as_bytes().to_vec(), &self.claim_names)
            .map(Decoded)
            .ok_or(TokenError::Invalid(InvalidReason::Claims))
    }

    /// The rest of a decode once the signature's verdict is known.
    fn finish(
        &self,
        parts: Parts<'_>,
        signature_valid: bool,
        now: i64,
    ) -> Result<Decoded<'_>, TokenError> {
        if !signature_valid {
            return Err(TokenError::Invalid(InvalidReason::Signature));
        }
        // As PyJWT: the claims are parsed only once the signature holds.
        let claims = ClaimsView::read(parts.claims, &self.claim_names)
            .ok_or(TokenError::Invalid(InvalidReason::Claims))?;
        self.validate_claims(&claims, now)?;
        Ok(Decoded(claims))
    }

    /// The parts of `token` whose signature a host checks itself (e.g. with WebCrypto, far
    /// faster than pure-Rust ECDSA and RSA in wasm), after the same structure, size and
    /// algorithm checks as [`TokenBackend::decode`]. Finish with
    /// [`TokenBackend::decode_checked_by`] and the host's verdict.
    pub fn signed_parts<'t>(&self, token: &'t str) -> Result<SignedParts<'t>, TokenError> {
        let parts = self.parts(token)?;
        let key = self
            .candidates(parts.key_id.as_deref())
            .next()
            .map(|(index, _)| index);
        Ok(SignedParts {
            signing_input: parts.signing_input,
            signature: parts.signature,
            key_id: parts.key_id,
            key,
        })
    }

    /// Splits and decodes a compact JWS: three base64url segments, a JSON header naming
    /// the configured algorithm. Token bytes are public, so a table-driven (not
    /// constant-time) base64 decoder is safe here and several times faster.
    fn parts<'t>(&self, token: &'t str) -> Result<Parts<'t>, TokenError> {
        const MALFORMED: TokenError = TokenError::Invalid(InvalidReason::Malformed);
        if token.len() > MAX_TOKEN_LEN {
            return Err(MALFORMED);
        }
        let (signing_input, signature) = token.rsplit_once('.').ok_or(MALFORMED)?;
        let (header, claims) = signing_input.split_once('.').ok_or(MALFORMED)?;
        if claims.contains('.') {
            return Err(MALFORMED);
        }
        let key_id = self.header_key_id(header)?;
        // Only a token for this algorithm is worth decoding further.
        Ok(Parts {
            signing_input,
            claims: URL_SAFE_NO_PAD.decode(claims).map_err(|_| MALFORMED)?,
            signature: URL_SAFE_NO_PAD.decode(signature).map_err(|_| MALFORMED)?,
            key_id,
        })
    }

    /// The header's checks, and its `kid`: for a known header, the verdict they gave it
    /// when this backend was built (a function of the segment's bytes alone).
    fn header_key_id(&self, segment: &str) -> Result<Option<String>, TokenError> {
        match self
            .known_headers
            .iter()
            .find(|(known, _)| known == segment)
        {
            Some((_, kid)) => Ok(kid.clone()),
            None => self.check_header(segment),
        }
    }

    /// The headers of PyJWT's (simplejwt's) and jose's tokens, `{"alg":…,"typ":"JWT"}`, and
    /// of this backend's own for each key (jwt-compact's member order), as base64url segments,
    /// each with the `kid` the header checks find in it: tokens of one issuer share one
    /// header, which is then neither decoded nor parsed again. A header that does not pass
    /// the checks is not kept.
    fn known_headers(&self) -> Vec<(String, Option<String>)> {
        let alg = self.algorithm.as_str();
        let mut headers = alloc::vec![alloc::format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#)];
        for kid in self.key_ids() {
            // A JSON string as serde_json writes one (not a `Value`: its map's code stays out).
            let Ok(kid) = serde_json::to_string(kid) else {
                continue;
            };
            headers.push(alloc::format!(
                r#"{{"alg":"{alg}","kid":{kid},"typ":"JWT"}}"#
            ));
        }
        headers
            .into_iter()
            .filter_map(|json| {
                // base64ct, already here for keys: `base64`'s encoder stays out of the package.
                let segment = Base64UrlUnpadded::encode_string(json.as_bytes());
                let kid = self.check_header(&segment).ok()?;
                Some((segment, kid))
            })
            .collect()
    }

    /// A header that names the configured algorithm and nothing this core cannot honour.
    fn check_header(&self, segment: &str) -> Result<Option<String>, TokenError> {
        const MALFORMED: TokenError = TokenError::Invalid(InvalidReason::Malformed);
        let header = URL_SAFE_NO_PAD.decode(segment).map_err(|_| MALFORMED)?;
        // A JSON object, as PyJWT requires: serde would also read the struct from an array.
        if header.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(MALFORMED);
        }
        let [alg, cty, kid, crit, ..] =
            crate::json::read_object(&header, HEADER).ok_or(MALFORMED)?;
        let alg = alg.into_str().ok_or(MALFORMED)?;
        if alg != self.algorithm.as_str() {
            return Err(TokenError::Invalid(InvalidReason::AlgorithmMismatch));
        }
        if cty
            .into_str()
            .is_some_and(|cty| !cty.eq_ignore_ascii_case("json"))
        {
            return Err(MALFORMED);
        }
        if crit != crate::json::Member::Absent {
            return Err(TokenError::Invalid(InvalidReason::Critical));
        }
        Ok(kid.into_str().map(Cow::into_owned))
    }

    /// PyJWT's claim checks, in its order.
    fn validate_claims(&self, claims: &impl ClaimSource, now: i64) -> Result<(), TokenError> {
        let invalid = TokenError::Invalid;
        let exp = timestamp(claims, "exp")?;
        let nbf = timestamp(claims, "nbf")?;
        let iat = timestamp(claims, "iat")?;
        let leeway = self.leeway;
        if iat.is_some_and(|iat| iat > now.saturating_add(leeway))
            || nbf.is_some_and(|nbf| nbf > now.saturating_add(leeway))
        {
            return Err(invalid(InvalidReason::Immature));
        }
        if exp.is_some_and(|exp| exp <= now.saturating_sub(leeway)) {
            return Err(TokenError::Expired);
        }
        if let Some(expected) = &self.issuer {
            if claims.claim("iss").as_str() != Some(expected.as_str()) {
                return Err(invalid(InvalidReason::Issuer));
            }
        }
        if let Some(expected) = &self.audience {
            let matches = match claims.claim("aud") {
                Claim::Str(aud) => aud == expected,
                Claim::List(auds) => auds.contains(expected),
                _ => false,
            };
            if !matches {
                return Err(invalid(InvalidReason::Audience));
            }
        }
        for claim in ["jti", "sub"] {
            if !matches!(claims.claim(claim), Claim::Absent | Claim::Str(_)) {
                return Err(invalid(InvalidReason::Claims));
            }
        }
        Ok(())
    }
}

/// Every claim name a rule of the core reads from a decoded token: PyJWT's registered
/// claims and the settings' claim names.
fn claim_names(settings: &Settings) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let configured = [
        Some(&settings.jti_claim),
        Some(&settings.token_type_claim),
        Some(&settings.user_id_claim),
        Some(&settings.sliding_token_refresh_exp_claim),
        settings.session_claim.as_ref(),
    ];
    let registered = ["exp", "nbf", "iat", "iss", "aud", "jti", "sub"].map(Some);
    for name in registered
        .into_iter()
        .flatten()
        .chain(configured.into_iter().flatten().map(String::as_str))
    {
        if !names.iter().any(|n| n == name) {
            names.push(name.into());
        }
    }
    names
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

/// A compact JWS signed by `sign` over jwt-compact's own encoding of `header` and `claims`
/// (for the curves jwt-compact has no algorithm for): the same bytes its `token` would sign.
#[cfg(feature = "es384")]
fn sign_with(
    algorithm: Algorithm,
    header: &Header,
    claims: &Claims<Map<String, Value>>,
    sign: impl FnOnce(&[u8]) -> Result<Vec<u8>, &'static str>,
) -> Result<String, EncodeError> {
    #[derive(serde::Serialize)]
    struct FullHeader<'a> {
        alg: &'static str,
        #[serde(flatten)]
        inner: &'a Header,
    }
    let error = |e: &dyn fmt::Display| EncodeError::Signing(e.to_string());
    let header = serde_json::to_vec(&FullHeader {
        alg: algorithm.as_str(),
        inner: header,
    })
    .map_err(|e| error(&e))?;
    let claims = serde_json::to_vec(claims).map_err(|e| error(&e))?;
    let mut token = URL_SAFE_NO_PAD.encode(header);
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(claims));
    let signature = sign(token.as_bytes()).map_err(|e| error(&e))?;
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(signature));
    Ok(token)
}

#[allow(dead_code, reason = "unused when only HMAC is enabled")]
fn check<A: JwtAlgorithm>(alg: &A, key: &A::VerifyingKey, input: &[u8], signature: &[u8]) -> bool {
    A::Signature::try_from_slice(signature)
        .is_ok_and(|signature| alg.verify_signature(&signature, key, input))
}

/// The seconds chrono (so jwt-compact) can represent, computed at compile time: a range check
/// per time claim, not chrono's calendar arithmetic (which also stays out of the package's wasm).
const TIMESTAMPS: core::ops::RangeInclusive<i64> =
    DateTime::<Utc>::MIN_UTC.timestamp()..=DateTime::<Utc>::MAX_UTC.timestamp();

/// A registered time claim as jwt-compact reads it: an integer, or a float truncated, in
/// chrono's range; anything else is malformed claims.
fn timestamp(claims: &impl ClaimSource, name: &str) -> Result<Option<i64>, TokenError> {
    let claim = claims.claim(name);
    if matches!(claim, Claim::Absent) {
        return Ok(None);
    }
    claim
        .seconds()
        .filter(|s| TIMESTAMPS.contains(s))
        .map(Some)
        .ok_or(TokenError::Invalid(InvalidReason::Claims))
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail by panicking")]
    use super::*;
    use crate::{token::Token, Jti, TokenType};

    /// The compile-time range of time claims is chrono's own: what jwt-compact would accept.
    #[test]
    fn timestamps_are_chronos_range() {
        let (min, max) = (*TIMESTAMPS.start(), *TIMESTAMPS.end());
        for s in [
            i64::MIN,
            min - 1,
            min,
            min + 1,
            -1,
            0,
            1,
            4_102_444_800,
            max - 1,
            max,
            max + 1,
            i64::MAX,
        ] {
            assert_eq!(
                TIMESTAMPS.contains(&s),
                DateTime::<Utc>::from_timestamp(s, 0).is_some(),
                "{s}"
            );
        }
        assert!(max > 253_402_300_799, "beyond year 9999");
    }

    /// The headers kept are those of this backend's own tokens and PyJWT's: if jwt-compact
    /// wrote its header in another order, its tokens would lose the fast path.
    #[test]
    fn known_headers_are_those_of_its_own_tokens_and_pyjwts() {
        let mut s = Settings::default();
        s.set(
            "SIGNING_KEY",
            "edgejwt-test-hmac-secret-0123456789abcdef-0123456789",
        )
        .unwrap();
        let backend = TokenBackend::from_settings(&s).unwrap();
        let token = Token::for_user(
            TokenType::Access,
            "1",
            &s,
            0,
            Jti::from_random_bytes([1; 16]),
        );
        let own = backend.encode(token.payload()).unwrap();
        let own = own.split('.').next().unwrap();
        let pyjwt = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT"}"#);
        let known: Vec<_> = backend
            .known_headers
            .iter()
            .map(|(h, kid)| (h.as_str(), kid.as_deref()))
            .collect();
        assert_eq!(
            known,
            [(pyjwt.as_str(), None), (own, Some(backend.key_id()))]
        );
    }

    /// The published JWK is jwt-compact's serialization of the public key with `alg`, `use`
    /// and `kid` spliced in before its closing brace, `kty` first, no secret; the Set holds it.
    #[test]
    fn public_jwks_are_jwt_compacts_plus_alg_use_kid() {
        macro_rules! key {
            ($name:literal) => {
                include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/keys/", $name))
            };
        }
        // RFC 7517, A.1: a P-256 public key as a JWK, which every build loads.
        let rfc_jwk = r#"{"kty":"EC","crv":"P-256","x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4","y":"4Etl6SRW2YilurN5XpvKnc6SKKGd9ZI-h7Pv8f-lwYw","kid":"1"}"#;
        let cases = [
            ("ES256", "VERIFYING_KEY", rfc_jwk),
            ("ES256", "SIGNING_KEY", key!("p256.pem")),
            ("EdDSA", "SIGNING_KEY", key!("ed25519.pem")),
            ("RS256", "SIGNING_KEY", key!("rsa2048.pem")),
            (
                "HS256",
                "SIGNING_KEY",
                "edgejwt-test-hmac-secret-0123456789abcdef-0123456789",
            ),
        ];
        let mut published = 0;
        for (alg, setting, value) in cases {
            let mut s = Settings::default();
            s.set("ALGORITHM", alg).unwrap();
            s.set(setting, value).unwrap();
            let Ok(backend) = TokenBackend::from_settings(&s) else {
                continue; // a PEM this build leaves to the host (which sends JWKs)
            };
            let Some(ours) = backend.public_jwk() else {
                assert!(alg.starts_with("HS"), "{alg}: no JWK");
                assert!(backend.public_jwks().is_empty());
                assert_eq!(backend.public_jwk_set(), r#"{"keys":[]}"#);
                continue;
            };
            let mut expected =
                serde_json::to_value(backend.current.keys.public_jwk().unwrap()).unwrap();
            let map = expected.as_object_mut().unwrap();
            assert!(map.get("d").is_none());
            map.insert("alg".into(), alg.into());
            map.insert("use".into(), "sig".into());
            map.insert("kid".into(), backend.key_id().into());
            let parsed: Value = serde_json::from_str(&ours).unwrap();
            assert_eq!(parsed, expected, "{alg}: {ours}");
            assert!(ours.starts_with(r#"{"kty":"#), "{ours}");
            let set: Value = serde_json::from_str(&backend.public_jwk_set()).unwrap();
            assert_eq!(set, serde_json::json!({ "keys": [expected] }));
            published += 1;
        }
        assert!(published >= 1);
    }

    /// Our RFC 7638 thumbprint is the RFC's own example and jwt-compact's, for every key type
    /// a build loads (PEM keys of algorithms left to the host come as JWKs instead).
    #[test]
    fn thumbprints_are_rfc_7638s_and_jwt_compacts() {
        // RFC 7638, 3.1.
        let rfc = JsonWebKey::Rsa {
            modulus: Cow::Owned(Base64UrlUnpadded::decode_vec("0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw").unwrap()),
            public_exponent: Cow::Owned(Base64UrlUnpadded::decode_vec("AQAB").unwrap()),
            private_parts: None,
        };
        assert_eq!(
            thumbprint(&rfc).unwrap(),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
        let jwt_compacts =
            |jwk: &JsonWebKey<'_>| Base64UrlUnpadded::encode_string(&jwk.thumbprint::<Sha256>());
        assert_eq!(thumbprint(&rfc), Some(jwt_compacts(&rfc)));
        let mut checked = 0;
        // RFC 8037, A.2 and A.3: an Ed25519 public key and its thumbprint.
        let okp =
            r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#;
        // RFC 7517, A.1 without its `kid`.
        let ec = r#"{"kty":"EC","crv":"P-256","x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4","y":"4Etl6SRW2YilurN5XpvKnc6SKKGd9ZI-h7Pv8f-lwYw"}"#;
        for (alg, setting, value) in [
            ("EdDSA", "VERIFYING_KEY", okp),
            ("ES256", "VERIFYING_KEY", ec),
            (
                "ES256",
                "SIGNING_KEY",
                include_str!("../tests/keys/p256.pem"),
            ),
            (
                "ES384",
                "SIGNING_KEY",
                include_str!("../tests/keys/p384.pem"),
            ),
            (
                "ES512",
                "SIGNING_KEY",
                include_str!("../tests/keys/p521.pem"),
            ),
            (
                "EdDSA",
                "SIGNING_KEY",
                include_str!("../tests/keys/ed25519.pem"),
            ),
            (
                "RS256",
                "SIGNING_KEY",
                include_str!("../tests/keys/rsa2048.pem"),
            ),
        ] {
            let mut s = Settings::default();
            s.set("ALGORITHM", alg).unwrap();
            s.set(setting, value).unwrap();
            let Ok(backend) = TokenBackend::from_settings(&s) else {
                continue; // a PEM this build leaves to the host (which sends JWKs)
            };
            if value == okp {
                assert_eq!(
                    backend.key_id(),
                    "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
                );
            }
            let jwk = backend.current.keys.public_jwk().unwrap();
            assert_eq!(backend.key_id(), jwt_compacts(&jwk), "{alg}");
            checked += 1;
        }
        // Secrets are never thumbprinted.
        let secret = JsonWebKey::Symmetric {
            secret: jwt_compact::alg::SecretBytes::borrowed(b"secret"),
        };
        assert_eq!(thumbprint(&secret), None);
        assert!(checked >= 2, "{checked}");
    }
}
