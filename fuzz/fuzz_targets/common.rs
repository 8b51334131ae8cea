//! Shared by the fuzz targets: backends for every algorithm, built once from the core's test
//! keys, and a splitter for multi-field inputs.
#![allow(dead_code)]

use edgejwt_core::{Settings, TokenBackend};

pub const HMAC_SECRET: &str =
    "fuzzing-signing-key-0123456789abcdef-0123456789abcdef-0123456789abcdef";

pub fn settings(pairs: &[(&str, &str)]) -> Settings {
    let mut s = Settings::default();
    for (name, value) in pairs {
        s.set(name, value).expect("valid fuzz settings");
    }
    s
}

/// One backend per algorithm family (HMAC, EdDSA, ECDSA P-256, P-384 and P-521, RSA PKCS#1 and PSS).
pub fn backends() -> Vec<(Settings, TokenBackend)> {
    let keys: &[(&str, &str)] = &[
        ("HS256", HMAC_SECRET),
        ("HS512", HMAC_SECRET),
        (
            "EdDSA",
            include_str!("../../crates/core/tests/keys/ed25519.pem"),
        ),
        (
            "ES256",
            include_str!("../../crates/core/tests/keys/p256.pem"),
        ),
        (
            "ES384",
            include_str!("../../crates/core/tests/keys/p384.pem"),
        ),
        (
            "ES512",
            include_str!("../../crates/core/tests/keys/p521.pem"),
        ),
        (
            "RS256",
            include_str!("../../crates/core/tests/keys/rsa2048.pem"),
        ),
        (
            "PS256",
            include_str!("../../crates/core/tests/keys/rsa2048.pem"),
        ),
    ];
    keys.iter()
        .map(|(alg, key)| {
            let s = settings(&[("ALGORITHM", alg), ("SIGNING_KEY", key), ("LEEWAY", "5")]);
            let backend = TokenBackend::from_settings(&s).expect("test keys load");
            (s, backend)
        })
        .collect()
}

/// Splits `data` into `N` fields at 0xFF bytes (missing fields are empty).
pub fn fields<const N: usize>(data: &[u8]) -> [&[u8]; N] {
    let mut out = [&data[..0]; N];
    let mut rest = data;
    for slot in out.iter_mut().take(N - 1) {
        match rest.iter().position(|b| *b == 0xFF) {
            Some(i) => {
                *slot = &rest[..i];
                rest = &rest[i + 1..];
            }
            None => {
                *slot = rest;
                rest = &rest[rest.len()..];
            }
        }
    }
    out[N - 1] = rest;
    out
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
