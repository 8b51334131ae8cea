//! Public keys of the asymmetric algorithms this build leaves to its host (feature
//! `host-signatures`, for an algorithm whose own feature is off): the host (node:crypto,
//! WebCrypto) checks their signatures through [`TokenBackend::decode_checked_by`], and the
//! core keeps everything else: structure, `alg`, the key chosen by `kid`, the claims.
//!
//! The core validates what it can without the curve arithmetic (key type, curve, sizes,
//! RSA's 2048-bit floor, Ed25519's small-order points) and keeps the key as a public JWK:
//! for its `kid` (the RFC 7638 thumbprint), the JWK Set, and the host's `importKey`, which
//! checks that an EC point is on its curve. Keys arrive as JWKs: PEM is the host's to
//! convert (its `importKey`/`createPublicKey` parse DER), so no DER parser ships here.
//! [`TokenBackend::decode_verbatim`], which has no host check, refuses their tokens.
//!
//! [`TokenBackend::decode_checked_by`]: crate::TokenBackend::decode_checked_by
//! [`TokenBackend::decode_verbatim`]: crate::TokenBackend::decode_verbatim

use alloc::borrow::Cow;

use jwt_compact::jwk::JsonWebKey;

use crate::{
    algorithm::{Algorithm, Keys},
    error::SettingsError,
};

/// A validated public key (no private members) of a host-checked algorithm.
#[derive(Clone, PartialEq)]
pub(crate) struct HostKey(JsonWebKey<'static>);

/// The canonical encodings of Ed25519's small-order points and of their non-canonical
/// aliases (`y ≥ p`), sign bit excluded: the list libsodium's `has_small_order` checks. A key
/// among them verifies forged signatures for many messages.
const ED25519_SMALL_ORDER: [[u8; 32]; 7] = [
    // 0 (order 4)
    [0; 32],
    // 1 (order 1)
    [
        0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0,
    ],
    // order 8
    [
        0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98,
        0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53,
        0xfc, 0x05,
    ],
    // order 8
    [
        0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67,
        0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac,
        0x03, 0x7a,
    ],
    // p - 1 (order 2)
    [
        0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0x7f,
    ],
    // p, non-canonical 0 (order 4)
    [
        0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0x7f,
    ],
    // p + 1, non-canonical 1 (order 1)
    [
        0xee, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0x7f,
    ],
];

/// Whether `x` (an Ed25519 public key's 32 bytes) is a small-order point.
pub(crate) fn ed25519_small_order(x: &[u8]) -> bool {
    ED25519_SMALL_ORDER.iter().any(|point| {
        x.len() == 32
            && x.iter()
                .zip(point)
                .enumerate()
                .all(|(i, (a, b))| if i == 31 { a & 0x7f == *b } else { a == b })
    })
}

/// Bits of a big-endian unsigned integer (leading zero bytes allowed).
fn bits(be: &[u8]) -> usize {
    let be = be
        .iter()
        .position(|&b| b != 0)
        .and_then(|start| be.get(start..))
        .unwrap_or_default();
    be.first()
        .map_or(0, |&top| be.len() * 8 - top.leading_zeros() as usize)
}

impl HostKey {
    /// The public key `value` (a JWK, public or private: only its public members are kept)
    /// names for `algorithm`, or why it is none.
    #[cfg_attr(edgejwt_size, optimize(size))]
    pub(crate) fn parse(algorithm: Algorithm, value: &str) -> Result<Self, &'static str> {
        if !value.trim_start().starts_with('{') {
            return Err(
                "expected a JWK ({...}): this build leaves ALGORITHM to the host, which turns the PEM keys its crypto reads into JWKs",
            );
        }
        let jwk = crate::jwk::parse(value).ok_or("not a valid JWK")?;
        let owned = |bytes: &Cow<'_, [u8]>| Cow::Owned(bytes.to_vec());
        let curve = |name: &'static str| Cow::Borrowed(name);
        let key = match (algorithm, &jwk) {
            (
                Algorithm::Rs256
                | Algorithm::Rs384
                | Algorithm::Rs512
                | Algorithm::Ps256
                | Algorithm::Ps384
                | Algorithm::Ps512,
                JsonWebKey::Rsa {
                    modulus,
                    public_exponent,
                    ..
                },
            ) => {
                if bits(modulus) < 2048 {
                    return Err("RSA key too short: at least 2048 bits are required");
                }
                if public_exponent.is_empty() || public_exponent.len() > 8 {
                    return Err("not an RSA public JWK");
                }
                JsonWebKey::Rsa {
                    modulus: owned(modulus),
                    public_exponent: owned(public_exponent),
                    private_parts: None,
                }
            }
            (
                Algorithm::Es256 | Algorithm::Es384 | Algorithm::Es512,
                JsonWebKey::EllipticCurve {
                    curve: crv, x, y, ..
                },
            ) => {
                let (name, size) = match algorithm {
                    Algorithm::Es256 => ("P-256", 32),
                    Algorithm::Es384 => ("P-384", 48),
                    _ => ("P-521", 66),
                };
                if crv != name || x.len() != size || y.len() != size {
                    return Err(match algorithm {
                        Algorithm::Es256 => "not a P-256 public JWK",
                        Algorithm::Es384 => "not a P-384 public JWK",
                        _ => "not a P-521 public JWK",
                    });
                }
                JsonWebKey::EllipticCurve {
                    curve: curve(name),
                    x: owned(x),
                    y: owned(y),
                    secret: None,
                }
            }
            (Algorithm::EdDsa, JsonWebKey::KeyPair { curve: crv, x, .. }) => {
                if crv != "Ed25519" || x.len() != 32 {
                    return Err("not an Ed25519 public JWK");
                }
                if ed25519_small_order(x) {
                    return Err("weak Ed25519 public key (small order)");
                }
                JsonWebKey::KeyPair {
                    curve: curve("Ed25519"),
                    x: owned(x),
                    secret: None,
                }
            }
            _ => return Err("not a JWK of ALGORITHM's key type"),
        };
        Ok(Self(key))
    }

    /// The key as a public JWK.
    pub(crate) fn jwk(&self) -> JsonWebKey<'_> {
        self.0.clone()
    }
}

impl Keys {
    /// [`Keys::load`] for an algorithm left to the host: `SIGNING_KEY` (a private JWK here, of
    /// which only the public half is kept: the verifier never signs) and/or `VERIFYING_KEY`.
    /// Whether `d` matches the public members is for the host's crypto to say: without the
    /// curve the core cannot, so when both are given they must name the same public key.
    pub(crate) fn load_for_host(
        algorithm: Algorithm,
        signing_key: &str,
        verifying_key: Option<&str>,
    ) -> Result<Self, SettingsError> {
        let parse = |setting: &'static str, value: &str| {
            HostKey::parse(algorithm, value)
                .map_err(|reason| SettingsError::new(setting, value, reason))
        };
        let signing = (!signing_key.is_empty())
            .then(|| parse("SIGNING_KEY", signing_key))
            .transpose()?;
        let verifying = verifying_key
            .map(|value| parse("VERIFYING_KEY", value))
            .transpose()?;
        match (signing, verifying) {
            (Some(s), Some(v)) if s != v => Err(SettingsError::new(
                "VERIFYING_KEY",
                "",
                "is not the public half of SIGNING_KEY",
            )),
            (_, Some(key)) | (Some(key), None) => Ok(Self::Host(key)),
            (None, None) => Err(SettingsError::new(
                "VERIFYING_KEY",
                "",
                "an asymmetric algorithm needs SIGNING_KEY or VERIFYING_KEY",
            )),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]
mod tests {
    use alloc::{format, vec};

    use super::*;

    #[test]
    fn rsa_bits() {
        assert_eq!(bits(&[]), 0);
        assert_eq!(bits(&[0, 0, 1]), 1);
        assert_eq!(bits(&[0, 0x80, 0]), 16);
        assert_eq!(bits(&[0xff; 256]), 2048);
        assert_eq!(bits(&[0x7f; 256]), 2047);
    }

    /// The list agrees with ed25519-dalek's `is_weak` (the check of builds with `eddsa`) on
    /// every entry, with either sign bit, that dalek decodes; and random keys are not weak.
    #[test]
    fn small_order_list_agrees_with_ed25519_dalek() {
        for point in ED25519_SMALL_ORDER {
            for sign in [0, 0x80] {
                let mut bytes = point;
                bytes[31] |= sign;
                assert!(ed25519_small_order(&bytes));
                if let Ok(key) = ed25519_dalek::VerifyingKey::from_bytes(&bytes) {
                    assert!(key.is_weak(), "{bytes:02x?}");
                }
            }
        }
        let mut rng = rand::thread_rng();
        for _ in 0..64 {
            let key = ed25519_dalek::SigningKey::generate(&mut rng).verifying_key();
            assert!(!ed25519_small_order(key.as_bytes()));
        }
    }

    #[test]
    fn keys_are_checked_for_their_algorithm() {
        let b64 = |bytes: &[u8]| {
            use base64ct::{Base64UrlUnpadded, Encoding};
            Base64UrlUnpadded::encode_string(bytes)
        };
        let rsa = |n: &[u8]| format!(r#"{{"kty":"RSA","n":"{}","e":"AQAB"}}"#, b64(n));
        assert!(HostKey::parse(Algorithm::Rs256, &rsa(&[0xff; 256])).is_ok());
        assert!(HostKey::parse(Algorithm::Ps512, &rsa(&[0x7f; 256])).is_err());
        assert!(HostKey::parse(Algorithm::Es256, &rsa(&[0xff; 256])).is_err());
        let okp = |x: &[u8]| {
            format!(
                r#"{{"kty":"OKP","crv":"Ed25519","x":"{}","d":"{}"}}"#,
                b64(x),
                b64(&[1; 32])
            )
        };
        let key = HostKey::parse(Algorithm::EdDsa, &okp(&[9; 32])).unwrap();
        assert!(
            matches!(key.jwk(), JsonWebKey::KeyPair { secret: None, .. }),
            "private members dropped"
        );
        assert!(HostKey::parse(Algorithm::EdDsa, &okp(&[0; 32])).is_err());
        assert!(HostKey::parse(Algorithm::EdDsa, &okp(&[9; 31])).is_err());
        let ec = |crv: &str, n: usize| {
            format!(
                r#"{{"kty":"EC","crv":"{crv}","x":"{}","y":"{}"}}"#,
                b64(&vec![1; n]),
                b64(&vec![2; n])
            )
        };
        assert!(HostKey::parse(Algorithm::Es384, &ec("P-384", 48)).is_ok());
        assert!(HostKey::parse(Algorithm::Es512, &ec("P-521", 66)).is_ok());
        assert!(HostKey::parse(Algorithm::Es512, &ec("P-384", 48)).is_err());
        assert!(HostKey::parse(Algorithm::Es256, &ec("P-256", 31)).is_err());
        assert!(HostKey::parse(Algorithm::Es256, "-----BEGIN PUBLIC KEY-----").is_err());
    }

    #[test]
    fn small_order_ignores_the_sign_bit() {
        let mut one = [0u8; 32];
        one[0] = 1;
        assert!(ed25519_small_order(&one));
        one[31] = 0x80;
        assert!(ed25519_small_order(&one));
        one[1] = 1;
        assert!(!ed25519_small_order(&one));
    }
}
