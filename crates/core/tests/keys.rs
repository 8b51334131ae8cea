//! Key loading: formats accepted, weak and mismatched keys refused with the setting named.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail by panicking"
)]

mod common;

#[cfg(any(feature = "rsa", all(feature = "es256", feature = "eddsa")))]
use common::key_file;
use edgejwt_core::{Algorithm, Settings, SettingsError, TokenBackend};

fn load(
    alg: Algorithm,
    signing: &str,
    verifying: Option<&str>,
) -> Result<TokenBackend, SettingsError> {
    let mut s = Settings::default();
    s.set("ALGORITHM", alg.as_str()).unwrap();
    if !signing.is_empty() {
        s.set("SIGNING_KEY", signing).unwrap();
    }
    if let Some(v) = verifying {
        s.set("VERIFYING_KEY", v).unwrap();
    }
    TokenBackend::from_settings(&s)
}

#[test]
fn short_hmac_secrets_are_refused_and_not_echoed() {
    for (alg, min) in [
        (Algorithm::Hs256, 32),
        (Algorithm::Hs384, 48),
        (Algorithm::Hs512, 64),
    ] {
        let short = "s".repeat(min - 1);
        let err = load(alg, &short, None).unwrap_err();
        assert_eq!(err.setting, "SIGNING_KEY");
        assert!(!err.to_string().contains(&short), "secret leaked: {err}");
        load(alg, &"s".repeat(min), None).unwrap();
    }
    // No key at all (the default empty secret).
    assert_eq!(
        load(Algorithm::Hs256, "", None).unwrap_err().setting,
        "SIGNING_KEY"
    );
}

#[cfg(all(feature = "es256", feature = "eddsa"))]
#[test]
fn pem_and_jwk_forms_load() {
    // ES256 from PKCS#8 and SEC1 PEM; its JWK round-trips into a verify-only backend.
    let es = load(Algorithm::Es256, key_file("p256.pem"), None).unwrap();
    load(Algorithm::Es256, key_file("p256.sec1.pem"), None).unwrap();
    let jwk = es.public_jwk().unwrap();
    let verifier = load(Algorithm::Es256, "", Some(&jwk)).unwrap();
    assert!(es.can_sign() && !verifier.can_sign());
    let token = es.encode(&edgejwt_core::Payload::default()).unwrap();
    verifier.decode(&token, 0).unwrap();
    // A verify-only backend cannot sign.
    assert!(verifier.encode(&edgejwt_core::Payload::default()).is_err());

    let ed = load(Algorithm::EdDsa, key_file("ed25519.pem"), None).unwrap();
    load(Algorithm::EdDsa, "", Some(&ed.public_jwk().unwrap())).unwrap();
}

#[cfg(all(feature = "es256", feature = "eddsa"))]
#[test]
fn wrong_curves_and_mismatched_pairs_are_refused() {
    let err = load(Algorithm::Es256, key_file("p384.pem"), None).unwrap_err();
    assert_eq!(err.setting, "SIGNING_KEY");
    let err = load(Algorithm::Es256, "", Some(key_file("p384.pub.pem"))).unwrap_err();
    assert_eq!(err.setting, "VERIFYING_KEY");
    let err = load(
        Algorithm::Es256,
        key_file("p256.pem"),
        Some(key_file("p256b.pub.pem")),
    )
    .unwrap_err();
    assert_eq!(err.setting, "VERIFYING_KEY");
    let err = load(
        Algorithm::EdDsa,
        key_file("ed25519.pem"),
        Some(key_file("ed25519b.pub.pem")),
    )
    .unwrap_err();
    assert_eq!(err.setting, "VERIFYING_KEY");
    // An Ed25519 key for ES256, an EC key for EdDSA.
    assert!(load(Algorithm::Es256, key_file("ed25519.pem"), None).is_err());
    assert!(load(Algorithm::EdDsa, key_file("p256.pem"), None).is_err());
    // Not a key at all.
    let err = load(Algorithm::Es256, "not a key", None).unwrap_err();
    assert!(err.reason.contains("PEM"), "{err}");
    assert_eq!(err.value, "<redacted>");
    // An asymmetric algorithm with no keys.
    assert_eq!(
        load(Algorithm::Es256, "", None).unwrap_err().setting,
        "VERIFYING_KEY"
    );
    // A small-order Ed25519 public key (the identity point) is refused.
    let identity =
        r#"{"kty":"OKP","crv":"Ed25519","x":"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}"#;
    assert!(load(Algorithm::EdDsa, "", Some(identity)).is_err());
}

#[cfg(feature = "rsa")]
#[test]
fn weak_rsa_keys_are_refused() {
    for alg in [Algorithm::Rs256, Algorithm::Ps256] {
        let err = load(alg, key_file("rsa1024.pem"), None).unwrap_err();
        assert_eq!(err.setting, "SIGNING_KEY");
        assert!(err.reason.contains("2048"), "{err}");
        let err = load(alg, "", Some(key_file("rsa1024.pub.pem"))).unwrap_err();
        assert_eq!(err.setting, "VERIFYING_KEY");
        load(alg, key_file("rsa2048.pem"), None).unwrap();
        let err = load(
            alg,
            key_file("rsa2048.pem"),
            Some(key_file("rsa2048b.pub.pem")),
        )
        .unwrap_err();
        assert_eq!(err.setting, "VERIFYING_KEY");
    }
}
