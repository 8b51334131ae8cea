//! Helpers shared by the core's integration tests.
#![allow(dead_code)]

use edgejwt_core::{Algorithm, Jti, Settings, Token, TokenBackend, TokenType};

/// simplejwt reference server's default HS256 key (refsite/settings.py).
pub const REFERENCE_KEY: &str = "conformance-reference-signing-key-0123456789abcdef";
/// Another HMAC secret, long enough for HS512.
pub const HMAC_KEY: &str = "edgejwt-test-hmac-secret-0123456789abcdef-0123456789abcdef-01234567";
pub const OTHER_HMAC_KEY: &str =
    "edgejwt-other-hmac-secret-0123456789abcdef-0123456789abcdef-0123456";

pub const NOW: i64 = 1_700_000_000;

macro_rules! key {
    ($name:literal) => {
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/keys/", $name))
    };
}

/// Keys for one algorithm: a signing key, its public half, and an unrelated signing key.
pub struct Case {
    pub alg: Algorithm,
    pub signing: &'static str,
    pub verifying: Option<&'static str>,
    pub other_signing: &'static str,
}

/// Whether this build has `alg` (optional algorithms are behind features).
pub fn enabled(alg: Algorithm) -> bool {
    match alg {
        Algorithm::Es256 => cfg!(feature = "es256"),
        Algorithm::Es384 => cfg!(feature = "es384"),
        Algorithm::Es512 => cfg!(feature = "es512"),
        Algorithm::EdDsa => cfg!(feature = "eddsa"),
        Algorithm::Hs256 | Algorithm::Hs384 | Algorithm::Hs512 => true,
        _ => cfg!(feature = "rsa"),
    }
}

/// One case per algorithm this build has.
pub fn cases() -> Vec<Case> {
    Algorithm::ALL
        .into_iter()
        .filter(|alg| enabled(*alg))
        .map(|alg| {
            let (signing, verifying, other_signing) = match alg {
                Algorithm::Hs256 | Algorithm::Hs384 | Algorithm::Hs512 => {
                    (HMAC_KEY, None, OTHER_HMAC_KEY)
                }
                Algorithm::Es256 => (
                    key!("p256.pem"),
                    Some(key!("p256.pub.pem")),
                    key!("p256b.pem"),
                ),
                Algorithm::Es384 => (
                    key!("p384.pem"),
                    Some(key!("p384.pub.pem")),
                    key!("p384b.pem"),
                ),
                Algorithm::Es512 => (
                    key!("p521.pem"),
                    Some(key!("p521.pub.pem")),
                    key!("p521b.pem"),
                ),
                Algorithm::EdDsa => (
                    key!("ed25519.pem"),
                    Some(key!("ed25519.pub.pem")),
                    key!("ed25519b.pem"),
                ),
                _ => (
                    key!("rsa2048.pem"),
                    Some(key!("rsa2048.pub.pem")),
                    key!("rsa2048b.pem"),
                ),
            };
            Case {
                alg,
                signing,
                verifying,
                other_signing,
            }
        })
        .collect()
}

pub fn rsa_public_pem() -> &'static str {
    key!("rsa2048.pub.pem")
}

pub fn key_file(name: &str) -> &'static str {
    match name {
        "rsa1024.pem" => key!("rsa1024.pem"),
        "rsa1024.pub.pem" => key!("rsa1024.pub.pem"),
        "p384.pem" => key!("p384.pem"),
        "p384.pub.pem" => key!("p384.pub.pem"),
        "p256.sec1.pem" => key!("p256.sec1.pem"),
        "p256.pem" => key!("p256.pem"),
        "p256b.pub.pem" => key!("p256b.pub.pem"),
        "ed25519.pem" => key!("ed25519.pem"),
        "ed25519b.pub.pem" => key!("ed25519b.pub.pem"),
        "rsa2048.pem" => key!("rsa2048.pem"),
        "rsa2048b.pub.pem" => key!("rsa2048b.pub.pem"),
        other => panic!("unknown key {other}"),
    }
}

pub fn settings(alg: Algorithm, signing: &str, verifying: Option<&str>) -> Settings {
    let mut s = Settings::default();
    s.set("ALGORITHM", alg.as_str()).unwrap();
    s.set("SIGNING_KEY", signing).unwrap();
    if let Some(v) = verifying {
        s.set("VERIFYING_KEY", v).unwrap();
    }
    s
}

pub fn backend(alg: Algorithm, signing: &str, verifying: Option<&str>) -> (Settings, TokenBackend) {
    let s = settings(alg, signing, verifying);
    let b = TokenBackend::from_settings(&s).unwrap();
    (s, b)
}

pub fn jti(n: u8) -> Jti {
    Jti::from_random_bytes([n; 16])
}

/// An encoded access token for user 1 issued at `NOW`.
pub fn access_token(settings: &Settings, backend: &TokenBackend) -> String {
    let token = Token::for_user(TokenType::Access, "1", settings, NOW, jti(1));
    backend.encode(token.payload()).unwrap()
}
