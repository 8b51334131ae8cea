//! `edgejwt keygen`: a new signing key for `wrangler secret put SIGNING_KEY`, its public
//! JWK Set, and on rotation the `PREVIOUS_VERIFYING_KEYS` value that keeps the old key's
//! tokens verifying until they expire. The public JWK (with its RFC 7638 `kid`) comes
//! from edgejwt-core's own `TokenBackend::public_jwk`, so it is the issuer's JWKS entry.

use base64ct::{Base64UrlUnpadded, Encoding};
use edgejwt_core::{Algorithm, Jti, Settings, Token, TokenBackend, TokenType};
use serde_json::{json, Value};

use crate::{Error, Result};

/// The algorithms `keygen` makes keys for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KeyAlg {
    /// Ed25519.
    #[value(name = "EdDSA")]
    EdDsa,
    /// ECDSA P-256.
    #[value(name = "ES256")]
    Es256,
    /// ECDSA P-384.
    #[value(name = "ES384")]
    Es384,
    /// ECDSA P-521.
    #[value(name = "ES512")]
    Es512,
    /// RSA PKCS#1 v1.5 with SHA-256.
    #[value(name = "RS256")]
    Rs256,
    /// HMAC-SHA256: a random secret.
    #[value(name = "HS256")]
    Hs256,
}

impl KeyAlg {
    /// The JOSE name (the `ALGORITHM` setting).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EdDsa => "EdDSA",
            Self::Es256 => "ES256",
            Self::Es384 => "ES384",
            Self::Es512 => "ES512",
            Self::Rs256 => "RS256",
            Self::Hs256 => "HS256",
        }
    }

    /// HMAC: one secret signs and verifies, and is never published.
    pub fn is_hmac(self) -> bool {
        self == Self::Hs256
    }
}

/// A key `keygen` made or read.
#[derive(Debug, Clone)]
pub struct Key {
    /// Its algorithm.
    pub alg: KeyAlg,
    /// `SIGNING_KEY`: PKCS#8 PEM, or the HMAC secret. Secret.
    pub signing_key: String,
    /// The public JWK (`kid`, `alg`, `use: sig`); `None` for HMAC.
    pub public_jwk: Option<Value>,
}

/// RSA moduli under 2048 bits are refused by the core.
pub const MIN_RSA_BITS: usize = 2048;

/// Makes a new key.
pub fn generate(alg: KeyAlg, rsa_bits: usize) -> Result<Key> {
    use p256::pkcs8::{EncodePrivateKey, LineEnding};
    use rand::RngCore;
    let mut rng = rand::rngs::OsRng;
    let pem_error = |e: &dyn std::fmt::Display| {
        Error::new(format!("cannot encode the {} key: {e}", alg.as_str()))
    };
    let signing_key = match alg {
        KeyAlg::EdDsa => ed25519_dalek::SigningKey::generate(&mut rng)
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| pem_error(&e))?
            .to_string(),
        KeyAlg::Es256 => p256::SecretKey::random(&mut rng)
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| pem_error(&e))?
            .to_string(),
        KeyAlg::Es384 => p384::SecretKey::random(&mut rng)
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| pem_error(&e))?
            .to_string(),
        KeyAlg::Es512 => p521::SecretKey::random(&mut rng)
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| pem_error(&e))?
            .to_string(),
        KeyAlg::Rs256 => {
            if rsa_bits < MIN_RSA_BITS {
                return Err(Error::new(format!(
                    "--bits {rsa_bits}: RSA keys under {MIN_RSA_BITS} bits are refused by edgejwt"
                )));
            }
            rsa::RsaPrivateKey::new(&mut rng, rsa_bits)
                .map_err(|e| Error::new(format!("cannot generate an RSA key: {e}")))?
                .to_pkcs8_pem(LineEnding::LF)
                .map_err(|e| pem_error(&e))?
                .to_string()
        }
        // 48 random bytes, base64url: 64 characters, above HS256's 32-byte minimum.
        KeyAlg::Hs256 => {
            let mut secret = [0u8; 48];
            rng.fill_bytes(&mut secret);
            Base64UrlUnpadded::encode_string(&secret)
        }
    };
    load(alg, signing_key)
}

/// Reads an existing `SIGNING_KEY` of `alg` (the key a rotation retires).
pub fn load(alg: KeyAlg, signing_key: String) -> Result<Key> {
    let signing_key = signing_key.trim().to_owned();
    match backend(alg, &signing_key) {
        Ok(backend) => {
            // The key signs and verifies with the core, as the issuer will use it.
            let token = Token::for_user(
                TokenType::Access,
                "1",
                &Settings::default(),
                0,
                Jti::from_random_bytes([1; 16]),
            );
            let encoded = backend
                .encode(token.payload())
                .map_err(|e| Error::new(format!("edgejwt-core cannot sign with this key: {e}")))?;
            backend.decode(&encoded, 1).map_err(|e| {
                Error::new(format!(
                    "edgejwt-core cannot verify its own token with this key: {e}"
                ))
            })?;
            let public_jwk = backend
                .public_jwk()
                .map(|jwk| serde_json::from_str(&jwk))
                .transpose()
                .map_err(|e| Error::new(format!("the core's JWK is not JSON: {e}")))?;
            Ok(Key {
                alg,
                signing_key,
                public_jwk,
            })
        }
        Err(CoreRefused::Unsupported) => Err(Error::new(format!(
            "edgejwt-core does not support {} in this build",
            alg.as_str()
        ))),
        Err(CoreRefused::Key(e)) => Err(Error::new(format!(
            "not a usable {} SIGNING_KEY: {}",
            alg.as_str(),
            e.reason
        ))),
    }
}

enum CoreRefused {
    Unsupported,
    Key(edgejwt_core::SettingsError),
}

fn backend(alg: KeyAlg, signing_key: &str) -> Result<TokenBackend, CoreRefused> {
    let algorithm: Algorithm = alg
        .as_str()
        .parse()
        .map_err(|()| CoreRefused::Unsupported)?;
    if !algorithm.is_enabled() {
        return Err(CoreRefused::Unsupported);
    }
    let mut settings = Settings::default();
    settings
        .set("ALGORITHM", alg.as_str())
        .map_err(CoreRefused::Key)?;
    settings
        .set("SIGNING_KEY", signing_key)
        .map_err(CoreRefused::Key)?;
    TokenBackend::from_settings(&settings).map_err(CoreRefused::Key)
}

/// The JWK Set verifiers fetch: the current key, then previous public keys.
pub fn jwks(current: &Key, previous: &[Value]) -> Value {
    let keys: Vec<Value> = current
        .public_jwk
        .iter()
        .chain(previous.iter().filter(|v| v.is_object()))
        .cloned()
        .collect();
    json!({ "keys": keys })
}

/// `PREVIOUS_VERIFYING_KEYS` after retiring `retired`: a JSON array, newest first, of
/// public JWKs (for HMAC: of the previous secrets, so the value is then a secret).
/// `existing` is the setting's current value, if any; an entry already present (same
/// `kid`, or the same secret) is not repeated.
pub fn previous_keys(retired: &Key, existing: Option<&str>) -> Result<Vec<Value>> {
    let mut keys: Vec<Value> = match existing.map(str::trim).filter(|s| !s.is_empty()) {
        None => Vec::new(),
        Some(text) => match serde_json::from_str(text) {
            Ok(Value::Array(keys)) => keys,
            _ => {
                return Err(Error::new(
                    "the previous PREVIOUS_VERIFYING_KEYS is not a JSON array",
                ))
            }
        },
    };
    let entry = match &retired.public_jwk {
        Some(jwk) => jwk.clone(),
        None => Value::String(retired.signing_key.clone()),
    };
    let same = |a: &Value, b: &Value| match (a.get("kid"), b.get("kid")) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    };
    keys.retain(|k| !same(k, &entry));
    keys.insert(0, entry);
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_algorithm_makes_a_key_the_core_loads() {
        for alg in [
            KeyAlg::EdDsa,
            KeyAlg::Es256,
            KeyAlg::Es384,
            KeyAlg::Es512,
            KeyAlg::Hs256,
        ] {
            let key = generate(alg, MIN_RSA_BITS).unwrap();
            assert!(!key.signing_key.is_empty());
            match &key.public_jwk {
                None => assert!(alg.is_hmac()),
                Some(jwk) => {
                    assert_eq!(jwk["alg"], alg.as_str());
                    assert_eq!(jwk["use"], "sig");
                    assert_eq!(jwk["kid"].as_str().unwrap().len(), 43, "{jwk}");
                    assert!(jwk.get("d").is_none(), "no private part in {jwk}");
                }
            }
            let again = load(alg, key.signing_key.clone()).unwrap();
            assert_eq!(again.public_jwk, key.public_jwk);
        }
        assert!(generate(KeyAlg::Rs256, 1024).is_err());
    }

    /// RFC 8037 A.1's Ed25519 key, whose RFC 8037 A.3 thumbprint is known.
    #[test]
    fn kid_is_the_rfc_7638_thumbprint() {
        let pem = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n-----END PRIVATE KEY-----\n";
        let key = load(KeyAlg::EdDsa, pem.into()).unwrap();
        assert_eq!(
            key.public_jwk.unwrap()["kid"],
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
    }

    #[test]
    fn rotation_keeps_previous_keys_newest_first() {
        let old = generate(KeyAlg::EdDsa, 0).unwrap();
        let older = generate(KeyAlg::EdDsa, 0).unwrap();
        let existing = serde_json::to_string(&[older.public_jwk.clone().unwrap()]).unwrap();
        let keys = previous_keys(&old, Some(&existing)).unwrap();
        assert_eq!(keys.len(), 2);
        assert_eq!(keys[0]["kid"], old.public_jwk.as_ref().unwrap()["kid"]);
        // Retiring the same key twice does not list it twice.
        let again = previous_keys(&old, Some(&serde_json::to_string(&keys).unwrap())).unwrap();
        assert_eq!(again, keys);
        assert!(previous_keys(&old, Some("{}")).is_err());
        let new = generate(KeyAlg::EdDsa, 0).unwrap();
        assert_eq!(jwks(&new, &keys)["keys"].as_array().unwrap().len(), 3);
        // HMAC: the previous secret itself, never in the JWK Set.
        let hs = generate(KeyAlg::Hs256, 0).unwrap();
        let keys = previous_keys(&hs, None).unwrap();
        assert_eq!(keys, [Value::String(hs.signing_key.clone())]);
        assert_eq!(
            jwks(&generate(KeyAlg::Hs256, 0).unwrap(), &keys)["keys"],
            json!([])
        );
    }

    #[test]
    fn refuses_keys_of_another_algorithm() {
        let ed = generate(KeyAlg::EdDsa, 0).unwrap();
        let err = load(KeyAlg::Es256, ed.signing_key.clone()).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("not a usable ES256 SIGNING_KEY"),
            "{err}"
        );
        assert!(!err.to_string().contains("PRIVATE"), "{err}");
        assert!(load(KeyAlg::Hs256, "short".into()).is_err());
    }
}
