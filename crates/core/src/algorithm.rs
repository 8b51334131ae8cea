//! Signing algorithms and their keys.
//!
//! The algorithm is fixed by the settings; keys are typed per algorithm, so a key can only
//! be used with the algorithm it was loaded for, and a token never chooses its key.
//! Keys load from PEM or JWK (and HMAC secrets from the raw string, as simplejwt does);
//! weak keys are refused at load time.

use alloc::{borrow::Cow, string::String, vec::Vec};
use core::{fmt, str::FromStr};

use jwt_compact::{
    alg::{Hs256Key, Hs384Key, Hs512Key},
    jwk::JsonWebKey,
};

use zeroize::Zeroizing;

use crate::error::SettingsError;

/// A JWS algorithm edgejwt signs and verifies with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Algorithm {
    /// HMAC with SHA-256.
    Hs256,
    /// HMAC with SHA-384.
    Hs384,
    /// HMAC with SHA-512.
    Hs512,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    Rs256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    Rs384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    Rs512,
    /// RSASSA-PSS with SHA-256.
    Ps256,
    /// RSASSA-PSS with SHA-384.
    Ps384,
    /// RSASSA-PSS with SHA-512.
    Ps512,
    /// ECDSA on P-256 with SHA-256.
    Es256,
    /// ECDSA on P-384 with SHA-384.
    Es384,
    /// ECDSA on P-521 with SHA-512.
    Es512,
    /// EdDSA on Ed25519.
    EdDsa,
}

impl Algorithm {
    /// Every algorithm, for tests and docs.
    pub const ALL: [Self; 13] = [
        Self::Hs256,
        Self::Hs384,
        Self::Hs512,
        Self::Rs256,
        Self::Rs384,
        Self::Rs512,
        Self::Ps256,
        Self::Ps384,
        Self::Ps512,
        Self::Es256,
        Self::Es384,
        Self::Es512,
        Self::EdDsa,
    ];

    /// The JOSE name, as in a token's `alg` header.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hs256 => "HS256",
            Self::Hs384 => "HS384",
            Self::Hs512 => "HS512",
            Self::Rs256 => "RS256",
            Self::Rs384 => "RS384",
            Self::Rs512 => "RS512",
            Self::Ps256 => "PS256",
            Self::Ps384 => "PS384",
            Self::Ps512 => "PS512",
            Self::Es256 => "ES256",
            Self::Es384 => "ES384",
            Self::Es512 => "ES512",
            Self::EdDsa => "EdDSA",
        }
    }

    /// HMAC algorithms share one secret for signing and verifying.
    pub fn is_hmac(self) -> bool {
        matches!(self, Self::Hs256 | Self::Hs384 | Self::Hs512)
    }

    /// Whether this build of the core supports the algorithm (cargo features).
    #[allow(
        clippy::match_like_matches_macro,
        reason = "features make some arms constant"
    )]
    pub fn is_enabled(self) -> bool {
        match self {
            Self::Hs256 | Self::Hs384 | Self::Hs512 => true,
            Self::Es256 => cfg!(feature = "es256"),
            Self::Es384 => cfg!(feature = "es384"),
            Self::Es512 => cfg!(feature = "es512"),
            Self::EdDsa => cfg!(feature = "eddsa"),
            _ => cfg!(feature = "rsa"),
        }
    }

    /// Minimum HMAC secret length: the hash output size (RFC 7518 §3.2).
    fn min_hmac_len(self) -> usize {
        match self {
            Self::Hs384 => 48,
            Self::Hs512 => 64,
            _ => 32,
        }
    }
}

impl FromStr for Algorithm {
    type Err = ();

    #[cfg_attr(edgejwt_size, optimize(size))]
    fn from_str(s: &str) -> Result<Self, ()> {
        Self::ALL
            .into_iter()
            .find(|alg| alg.as_str() == s)
            .ok_or(())
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The keys of one algorithm: a verifying key always, a signing key unless verify-only.
#[allow(clippy::large_enum_variant, reason = "one per backend, built once")]
pub(crate) enum Keys {
    Hs256(Hs256Key),
    Hs384(Hs384Key),
    Hs512(Hs512Key),
    #[cfg(feature = "es256")]
    Es256 {
        signing: Option<p256::ecdsa::SigningKey>,
        verifying: p256::ecdsa::VerifyingKey,
    },
    #[cfg(feature = "es384")]
    Es384 {
        signing: Option<p384::SecretKey>,
        verifying: p384::PublicKey,
    },
    #[cfg(feature = "es512")]
    Es512 {
        signing: Option<p521::SecretKey>,
        verifying: p521::PublicKey,
    },
    #[cfg(feature = "eddsa")]
    EdDsa {
        signing: Option<ed25519_dalek::SigningKey>,
        verifying: ed25519_dalek::VerifyingKey,
    },
    #[cfg(feature = "rsa")]
    Rsa {
        alg: jwt_compact::alg::Rsa,
        signing: Option<jwt_compact::alg::RsaPrivateKey>,
        verifying: jwt_compact::alg::RsaPublicKey,
    },
    /// An asymmetric algorithm this build leaves to its host (`host-signatures`): verify-only.
    #[cfg(feature = "host-signatures")]
    Host(crate::host_keys::HostKey),
}

impl fmt::Debug for Keys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print key material.
        f.write_str("Keys(<redacted>)")
    }
}

type KeyResult<T> = Result<T, SettingsError>;

fn key_error(setting: &'static str, value: &str, reason: &'static str) -> SettingsError {
    SettingsError::new(setting, value, reason)
}

impl Keys {
    /// Loads keys for `algorithm` from `SIGNING_KEY` / `VERIFYING_KEY` values.
    /// For asymmetric algorithms an empty `signing_key` makes a verify-only backend.
    pub(crate) fn load(
        algorithm: Algorithm,
        signing_key: &str,
        verifying_key: Option<&str>,
    ) -> KeyResult<Self> {
        #[cfg(feature = "host-signatures")]
        if !algorithm.is_enabled() && !algorithm.is_hmac() {
            return Self::load_for_host(algorithm, signing_key, verifying_key);
        }
        if !algorithm.is_enabled() {
            return Err(key_error(
                "ALGORITHM",
                algorithm.as_str(),
                "not enabled in this build of edgejwt-core",
            ));
        }
        if algorithm.is_hmac() {
            return Self::load_hmac(algorithm, signing_key, "SIGNING_KEY");
        }
        let signing = (!signing_key.is_empty()).then_some(signing_key);
        if signing.is_none() && verifying_key.is_none() {
            return Err(key_error(
                "VERIFYING_KEY",
                "",
                "an asymmetric algorithm needs SIGNING_KEY or VERIFYING_KEY",
            ));
        }
        match algorithm {
            #[cfg(feature = "es256")]
            Algorithm::Es256 => {
                let (signing, verifying) =
                    load_pair(signing, verifying_key, es256::private, es256::public, |k| {
                        *k.verifying_key()
                    })?;
                Ok(Self::Es256 { signing, verifying })
            }
            #[cfg(feature = "es384")]
            Algorithm::Es384 => {
                let (signing, verifying) =
                    load_pair(signing, verifying_key, es384::private, es384::public, |k| {
                        k.public_key()
                    })?;
                Ok(Self::Es384 { signing, verifying })
            }
            #[cfg(feature = "es512")]
            Algorithm::Es512 => {
                let (signing, verifying) =
                    load_pair(signing, verifying_key, es512::private, es512::public, |k| {
                        k.public_key()
                    })?;
                Ok(Self::Es512 { signing, verifying })
            }
            #[cfg(feature = "eddsa")]
            Algorithm::EdDsa => {
                let (signing, verifying) = load_pair(
                    signing,
                    verifying_key,
                    eddsa::private,
                    eddsa::public,
                    ed25519_dalek::SigningKey::verifying_key,
                )?;
                Ok(Self::EdDsa { signing, verifying })
            }
            #[cfg(feature = "rsa")]
            Algorithm::Rs256
            | Algorithm::Rs384
            | Algorithm::Rs512
            | Algorithm::Ps256
            | Algorithm::Ps384
            | Algorithm::Ps512 => {
                let (signing, verifying) = load_pair(
                    signing,
                    verifying_key,
                    rsa_keys::private,
                    rsa_keys::public,
                    |k| k.to_public_key(),
                )?;
                let alg = jwt_compact::alg::Rsa::with_name(algorithm.as_str());
                Ok(Self::Rsa {
                    alg,
                    signing,
                    verifying,
                })
            }
            _ => Err(key_error(
                "ALGORITHM",
                algorithm.as_str(),
                "not enabled in this build of edgejwt-core",
            )),
        }
    }

    #[cfg_attr(edgejwt_size, optimize(size))]
    fn load_hmac(algorithm: Algorithm, secret: &str, setting: &'static str) -> KeyResult<Self> {
        let jwk = parse_jwk_value(secret).map_err(|reason| key_error(setting, secret, reason))?;
        let bytes_len = match &jwk {
            Some(JsonWebKey::Symmetric { secret: bytes }) => bytes.len(),
            Some(_) => {
                return Err(key_error(
                    setting,
                    secret,
                    "an HMAC algorithm needs an \"oct\" JWK",
                ))
            }
            None => secret.len(),
        };
        if bytes_len < algorithm.min_hmac_len() {
            return Err(key_error(
                setting,
                secret,
                match algorithm {
                    Algorithm::Hs384 => "HMAC secret too short: HS384 needs at least 48 bytes",
                    Algorithm::Hs512 => "HMAC secret too short: HS512 needs at least 64 bytes",
                    _ => "HMAC secret too short: HS256 needs at least 32 bytes",
                },
            ));
        }
        let bad_jwk = |_| key_error(setting, secret, "not a valid oct JWK");
        Ok(match (algorithm, jwk) {
            (Algorithm::Hs384, Some(jwk)) => {
                Self::Hs384(Hs384Key::try_from(&jwk).map_err(bad_jwk)?)
            }
            (Algorithm::Hs512, Some(jwk)) => {
                Self::Hs512(Hs512Key::try_from(&jwk).map_err(bad_jwk)?)
            }
            (_, Some(jwk)) => Self::Hs256(Hs256Key::try_from(&jwk).map_err(bad_jwk)?),
            (Algorithm::Hs384, None) => Self::Hs384(Hs384Key::new(secret)),
            (Algorithm::Hs512, None) => Self::Hs512(Hs512Key::new(secret)),
            (_, None) => Self::Hs256(Hs256Key::new(secret)),
        })
    }

    /// Loads the keys of `PREVIOUS_VERIFYING_KEYS`: a JSON array of keys (PEM strings, JWK
    /// objects or, for HMAC, secrets) or a JWK Set (`{"keys": [...]}`), each verify-only and
    /// with the same rules as `VERIFYING_KEY` (or, for HMAC, `SIGNING_KEY`). Each comes with
    /// the `kid` its JWK declares, if any.
    pub(crate) fn load_previous(
        algorithm: Algorithm,
        value: &str,
    ) -> KeyResult<Vec<(Self, Option<String>)>> {
        const SETTING: &str = "PREVIOUS_VERIFYING_KEYS";
        let error = |reason: &'static str| key_error(SETTING, value, reason);
        use crate::json::{read_key_list, KeyListError, ListedKey, Member};
        const LIST: &str = "expected a JSON array of keys or a JWK Set ({\"keys\": [...]})";
        let items = read_key_list(value.as_bytes(), MAX_PREVIOUS_KEYS).map_err(|e| {
            error(match e {
                KeyListError::NotAList => LIST,
                KeyListError::NotASet => "a JSON object must be a JWK Set ({\"keys\": [...]})",
                KeyListError::TooMany => "more than 16 previous keys",
            })
        })?;
        /// What a listed JWK declares: `alg`, `kid`.
        const DECLARED: crate::json::Fields = crate::json::Fields {
            names: &["alg", "kid"],
            skipped: 0,
        };
        items
            .into_iter()
            .map(|item| {
                let (text, kid) = match item {
                    ListedKey::Text(text) => (text.into_owned(), None),
                    ListedKey::Jwk(jwk) => {
                        let [alg, kid, ..] = crate::json::read_object(jwk.as_bytes(), DECLARED)
                            .ok_or_else(|| error("a JWK's \"alg\" and \"kid\" must be strings"))?;
                        if let Member::Str(alg) = alg {
                            if alg != algorithm.as_str() {
                                return Err(error("a key's \"alg\" is not ALGORITHM"));
                            }
                        }
                        (String::from(jwk), kid.into_str().map(Cow::into_owned))
                    }
                    ListedKey::Other => {
                        return Err(error("each key must be a PEM string, a JWK or a secret"))
                    }
                };
                let text: Zeroizing<String> = Zeroizing::new(text);
                Self::load_verifying(algorithm, &text, SETTING).map(|keys| (keys, kid))
            })
            .collect()
    }

    /// A verify-only key for `algorithm` from one value of `setting`.
    fn load_verifying(algorithm: Algorithm, value: &str, setting: &'static str) -> KeyResult<Self> {
        if algorithm.is_hmac() {
            return Self::load_hmac(algorithm, value, setting);
        }
        #[allow(unused_variables, reason = "unused when only HMAC is enabled")]
        let error = |reason: &'static str| key_error(setting, value, reason);
        #[cfg(feature = "host-signatures")]
        if !algorithm.is_enabled() {
            return crate::host_keys::HostKey::parse(algorithm, value)
                .map(Self::Host)
                .map_err(error);
        }
        match algorithm {
            #[cfg(feature = "es256")]
            Algorithm::Es256 => Ok(Self::Es256 {
                signing: None,
                verifying: es256::public(value).map_err(error)?,
            }),
            #[cfg(feature = "es384")]
            Algorithm::Es384 => Ok(Self::Es384 {
                signing: None,
                verifying: es384::public(value).map_err(error)?,
            }),
            #[cfg(feature = "es512")]
            Algorithm::Es512 => Ok(Self::Es512 {
                signing: None,
                verifying: es512::public(value).map_err(error)?,
            }),
            #[cfg(feature = "eddsa")]
            Algorithm::EdDsa => Ok(Self::EdDsa {
                signing: None,
                verifying: eddsa::public(value).map_err(error)?,
            }),
            #[cfg(feature = "rsa")]
            Algorithm::Rs256
            | Algorithm::Rs384
            | Algorithm::Rs512
            | Algorithm::Ps256
            | Algorithm::Ps384
            | Algorithm::Ps512 => Ok(Self::Rsa {
                alg: jwt_compact::alg::Rsa::with_name(algorithm.as_str()),
                signing: None,
                verifying: rsa_keys::public(value).map_err(error)?,
            }),
            _ => Err(key_error(
                "ALGORITHM",
                algorithm.as_str(),
                "not enabled in this build of edgejwt-core",
            )),
        }
    }

    /// The HMAC secret's bytes (HS* only), for its key id.
    pub(crate) fn hmac_secret(&self) -> Option<&[u8]> {
        match self {
            Self::Hs256(k) => Some(k.as_ref()),
            Self::Hs384(k) => Some(k.as_ref()),
            Self::Hs512(k) => Some(k.as_ref()),
            #[allow(unreachable_patterns, reason = "asymmetric variants are feature-gated")]
            _ => None,
        }
    }

    pub(crate) fn can_sign(&self) -> bool {
        match self {
            Self::Hs256(_) | Self::Hs384(_) | Self::Hs512(_) => true,
            #[cfg(feature = "es256")]
            Self::Es256 { signing, .. } => signing.is_some(),
            #[cfg(feature = "es384")]
            Self::Es384 { signing, .. } => signing.is_some(),
            #[cfg(feature = "es512")]
            Self::Es512 { signing, .. } => signing.is_some(),
            #[cfg(feature = "eddsa")]
            Self::EdDsa { signing, .. } => signing.is_some(),
            #[cfg(feature = "rsa")]
            Self::Rsa { signing, .. } => signing.is_some(),
            #[cfg(feature = "host-signatures")]
            Self::Host(_) => false,
        }
    }

    /// The public key as a JWK (for a JWKS endpoint); `None` for HMAC secrets.
    #[cfg_attr(edgejwt_size, optimize(size))]
    pub(crate) fn public_jwk(&self) -> Option<JsonWebKey<'_>> {
        match self {
            Self::Hs256(_) | Self::Hs384(_) | Self::Hs512(_) => None,
            #[cfg(feature = "es256")]
            Self::Es256 { verifying, .. } => Some(verifying.into()),
            #[cfg(feature = "es384")]
            Self::Es384 { verifying, .. } => Some(es384::jwk(verifying)),
            #[cfg(feature = "es512")]
            Self::Es512 { verifying, .. } => Some(es512::jwk(verifying)),
            #[cfg(feature = "eddsa")]
            Self::EdDsa { verifying, .. } => Some(verifying.into()),
            #[cfg(feature = "rsa")]
            Self::Rsa { verifying, .. } => Some(verifying.into()),
            #[cfg(feature = "host-signatures")]
            Self::Host(key) => Some(key.jwk()),
        }
    }
}

/// Most keys `PREVIOUS_VERIFYING_KEYS` may hold: a token without `kid` may be tried against
/// each previous HMAC secret, so the list bounds what one token can cost.
pub(crate) const MAX_PREVIOUS_KEYS: usize = 16;

/// The `kid` a JWK value declares (`{"kid": "...", ...}`), if any.
pub(crate) fn declared_kid(value: &str) -> Option<String> {
    const KID: crate::json::Fields = crate::json::Fields {
        names: &["kid"],
        skipped: 0,
    };
    let json = value.trim_start().starts_with('{').then_some(value)?;
    let [kid, ..] = crate::json::read_object(json.as_bytes(), KID)?;
    kid.into_str().map(Cow::into_owned)
}

/// Loads a signing key and/or a verifying key; when both are given they must match.
#[allow(dead_code, reason = "unused when only HMAC is enabled")]
fn load_pair<S, V: PartialEq>(
    signing: Option<&str>,
    verifying: Option<&str>,
    private: fn(&str) -> Result<S, &'static str>,
    public: fn(&str) -> Result<V, &'static str>,
    derive: fn(&S) -> V,
) -> KeyResult<(Option<S>, V)> {
    let signing = signing
        .map(|pem| private(pem).map_err(|reason| key_error("SIGNING_KEY", pem, reason)))
        .transpose()?;
    let verifying = verifying
        .map(|pem| public(pem).map_err(|reason| key_error("VERIFYING_KEY", pem, reason)))
        .transpose()?;
    match (signing, verifying) {
        (Some(s), Some(v)) => {
            if derive(&s) != v {
                return Err(key_error(
                    "VERIFYING_KEY",
                    "",
                    "is not the public half of SIGNING_KEY",
                ));
            }
            Ok((Some(s), v))
        }
        (Some(s), None) => {
            let v = derive(&s);
            Ok((Some(s), v))
        }
        (None, Some(v)) => Ok((None, v)),
        (None, None) => Err(key_error("VERIFYING_KEY", "", "missing")),
    }
}

/// A JWK if the value looks like one (`{...}`).
fn parse_jwk_value(value: &str) -> Result<Option<JsonWebKey<'_>>, &'static str> {
    if !value.trim_start().starts_with('{') {
        return Ok(None);
    }
    // RSA private JWKs need jwt-compact's reader; without `rsa`, the lean one (crate::jwk).
    #[cfg(all(feature = "host-signatures", not(feature = "rsa")))]
    let jwk = crate::jwk::parse(value);
    #[cfg(not(all(feature = "host-signatures", not(feature = "rsa"))))]
    let jwk = serde_json::from_str(value).ok();
    jwk.map(Some).ok_or("not a valid JWK")
}

#[cfg(any(
    feature = "es256",
    feature = "es384",
    feature = "es512",
    feature = "eddsa",
    feature = "rsa"
))]
fn require_pem(value: &str) -> Result<&str, &'static str> {
    if value.contains("-----BEGIN ") {
        Ok(value.trim())
    } else {
        Err("expected a PEM block (-----BEGIN ...) or a JWK ({...})")
    }
}

#[cfg(feature = "es256")]
mod es256 {
    use p256::{
        ecdsa::{SigningKey, VerifyingKey},
        pkcs8::{DecodePrivateKey, DecodePublicKey},
    };

    use super::{parse_jwk_value, require_pem};

    pub(super) fn private(value: &str) -> Result<SigningKey, &'static str> {
        if let Some(jwk) = parse_jwk_value(value)? {
            return SigningKey::try_from(&jwk).map_err(|_| "not a P-256 private JWK");
        }
        let pem = require_pem(value)?;
        if let Ok(key) = SigningKey::from_pkcs8_pem(pem) {
            return Ok(key);
        }
        p256::SecretKey::from_sec1_pem(pem)
            .map(SigningKey::from)
            .map_err(|_| "not a P-256 private key (PKCS#8 or SEC1 PEM)")
    }

    pub(super) fn public(value: &str) -> Result<VerifyingKey, &'static str> {
        if let Some(jwk) = parse_jwk_value(value)? {
            return VerifyingKey::try_from(&jwk).map_err(|_| "not a P-256 public JWK");
        }
        VerifyingKey::from_public_key_pem(require_pem(value)?)
            .map_err(|_| "not a P-256 public key (SPKI PEM)")
    }
}

/// ECDSA on a NIST curve jwt-compact has no algorithm for (P-384, P-521), on the RustCrypto
/// curve crates: keys as PEM or JWK, JWK output, and verification of JWS signatures
/// (`r || s`, fixed size) with the curve's hash (SHA-384 for P-384, SHA-512 for P-521).
#[cfg(any(feature = "es384", feature = "es512"))]
macro_rules! nist_ecdsa {
    ($module:ident, $curve:ident, $crv:literal) => {
        pub(crate) mod $module {
            use alloc::borrow::Cow;

            use jwt_compact::jwk::JsonWebKey;
            use $curve::{
                ecdsa::{signature::Verifier, Signature, VerifyingKey},
                elliptic_curve::sec1::{FromEncodedPoint, ToEncodedPoint},
                pkcs8::{DecodePrivateKey, DecodePublicKey},
                EncodedPoint, FieldBytes, PublicKey, SecretKey,
            };

            use super::{parse_jwk_value, require_pem};

            /// The public point of a JWK of this curve, from `x` and `y`.
            fn point(jwk: &JsonWebKey<'_>) -> Option<PublicKey> {
                let JsonWebKey::EllipticCurve { curve, x, y, .. } = jwk else {
                    return None;
                };
                let (mut fx, mut fy) = (FieldBytes::default(), FieldBytes::default());
                if curve != $crv || x.len() != fx.len() || y.len() != fy.len() {
                    return None;
                }
                fx.copy_from_slice(x);
                fy.copy_from_slice(y);
                let encoded = EncodedPoint::from_affine_coordinates(&fx, &fy, false);
                Option::from(PublicKey::from_encoded_point(&encoded))
            }

            pub(crate) fn private(value: &str) -> Result<SecretKey, &'static str> {
                const NOT: &str = concat!("not a ", $crv, " private JWK");
                if let Some(jwk) = parse_jwk_value(value)? {
                    let JsonWebKey::EllipticCurve {
                        secret: Some(d), ..
                    } = &jwk
                    else {
                        return Err(NOT);
                    };
                    let key = SecretKey::from_slice(d.as_ref()).map_err(|_| NOT)?;
                    // The public half it states must be its own.
                    if point(&jwk) != Some(key.public_key()) {
                        return Err(NOT);
                    }
                    return Ok(key);
                }
                let pem = require_pem(value)?;
                SecretKey::from_pkcs8_pem(pem)
                    .or_else(|_| SecretKey::from_sec1_pem(pem))
                    .map_err(|_| concat!("not a ", $crv, " private key (PKCS#8 or SEC1 PEM)"))
            }

            pub(crate) fn public(value: &str) -> Result<PublicKey, &'static str> {
                if let Some(jwk) = parse_jwk_value(value)? {
                    return point(&jwk).ok_or(concat!("not a ", $crv, " public JWK"));
                }
                PublicKey::from_public_key_pem(require_pem(value)?)
                    .map_err(|_| concat!("not a ", $crv, " public key (SPKI PEM)"))
            }

            pub(crate) fn jwk(key: &PublicKey) -> JsonWebKey<'static> {
                let point = key.to_encoded_point(false);
                let coordinate =
                    |c: Option<&FieldBytes>| Cow::Owned(c.map(|c| c.to_vec()).unwrap_or_default());
                JsonWebKey::EllipticCurve {
                    curve: Cow::Borrowed($crv),
                    x: coordinate(point.x()),
                    y: coordinate(point.y()),
                    secret: None,
                }
            }

            pub(crate) fn verify(key: &PublicKey, message: &[u8], signature: &[u8]) -> bool {
                let Ok(signature) = Signature::from_slice(signature) else {
                    return false;
                };
                VerifyingKey::from_affine(*key.as_affine())
                    .is_ok_and(|k| k.verify(message, &signature).is_ok())
            }
        }
    };
}

#[cfg(feature = "es384")]
nist_ecdsa!(es384, p384, "P-384");

/// ES384 signatures: deterministic (RFC 6979 with SHA-384, whose output is P-384's field size).
#[cfg(feature = "es384")]
pub(crate) fn sign_es384(key: &p384::SecretKey, message: &[u8]) -> Result<Vec<u8>, &'static str> {
    use p384::ecdsa::{signature::Signer, Signature, SigningKey};
    let signature: Signature = SigningKey::from(key)
        .try_sign(message)
        .map_err(|_| "signing failed")?;
    Ok(signature.to_bytes().to_vec())
}
#[cfg(feature = "es512")]
nist_ecdsa!(es512, p521, "P-521");

/// ES512 signatures, with a random nonce from the platform's CSPRNG (`getrandom`, as the
/// `rsa` feature's PSS salts): RFC 6979 does not apply as the `p521` crate implements it
/// (SHA-512's 64 bytes are not P-521's 66-byte field), and WebCrypto signs P-521 the same
/// randomized way.
#[cfg(feature = "es512")]
pub(crate) fn sign_es512(key: &p521::SecretKey, message: &[u8]) -> Result<Vec<u8>, &'static str> {
    use p521::ecdsa::{signature::RandomizedSigner, Signature, SigningKey};
    use zeroize::Zeroize;
    // The crate's SigningKey is made from bytes only; the copy is wiped at once.
    let mut bytes = key.to_bytes();
    let signing = SigningKey::from_bytes(&bytes);
    let copy: &mut [u8] = &mut bytes;
    copy.zeroize();
    let signing = signing.map_err(|_| "signing failed")?;
    let signature: Signature = signing
        .try_sign_with_rng(&mut rand_core::OsRng, message)
        .map_err(|_| "signing failed")?;
    Ok(signature.to_bytes().to_vec())
}

#[cfg(feature = "eddsa")]
mod eddsa {
    use ed25519_dalek::{
        pkcs8::{DecodePrivateKey, DecodePublicKey},
        SigningKey, VerifyingKey,
    };

    use super::{parse_jwk_value, require_pem};

    pub(super) fn private(value: &str) -> Result<SigningKey, &'static str> {
        if let Some(jwk) = parse_jwk_value(value)? {
            return SigningKey::try_from(&jwk).map_err(|_| "not an Ed25519 private JWK");
        }
        SigningKey::from_pkcs8_pem(require_pem(value)?)
            .map_err(|_| "not an Ed25519 private key (PKCS#8 PEM)")
    }

    pub(super) fn public(value: &str) -> Result<VerifyingKey, &'static str> {
        let key = if let Some(jwk) = parse_jwk_value(value)? {
            VerifyingKey::try_from(&jwk).map_err(|_| "not an Ed25519 public JWK")?
        } else {
            VerifyingKey::from_public_key_pem(require_pem(value)?)
                .map_err(|_| "not an Ed25519 public key (SPKI PEM)")?
        };
        // A small-order point verifies forged signatures for many messages.
        if key.is_weak() {
            return Err("weak Ed25519 public key (small order)");
        }
        Ok(key)
    }
}

#[cfg(feature = "rsa")]
mod rsa_keys {
    use jwt_compact::alg::{RsaPrivateKey, RsaPublicKey, StrongKey};
    use rsa::{
        pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey},
        pkcs8::{DecodePrivateKey, DecodePublicKey},
    };

    use super::{parse_jwk_value, require_pem};

    const WEAK: &str = "RSA key too short: at least 2048 bits are required";

    pub(super) fn private(value: &str) -> Result<RsaPrivateKey, &'static str> {
        let key = if let Some(jwk) = parse_jwk_value(value)? {
            RsaPrivateKey::try_from(&jwk).map_err(|_| "not an RSA private JWK")?
        } else {
            let pem = require_pem(value)?;
            RsaPrivateKey::from_pkcs8_pem(pem)
                .or_else(|_| RsaPrivateKey::from_pkcs1_pem(pem))
                .map_err(|_| "not an RSA private key (PKCS#8 or PKCS#1 PEM)")?
        };
        StrongKey::try_from(key)
            .map(StrongKey::into_inner)
            .map_err(|_| WEAK)
    }

    pub(super) fn public(value: &str) -> Result<RsaPublicKey, &'static str> {
        let key = if let Some(jwk) = parse_jwk_value(value)? {
            RsaPublicKey::try_from(&jwk).map_err(|_| "not an RSA public JWK")?
        } else {
            let pem = require_pem(value)?;
            RsaPublicKey::from_public_key_pem(pem)
                .or_else(|_| RsaPublicKey::from_pkcs1_pem(pem))
                .map_err(|_| "not an RSA public key (SPKI or PKCS#1 PEM)")?
        };
        StrongKey::try_from(key)
            .map(StrongKey::into_inner)
            .map_err(|_| WEAK)
    }
}
