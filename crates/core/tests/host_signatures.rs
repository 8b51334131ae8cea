//! The core with an algorithm left to its host (feature `host-signatures`, the algorithm's own
//! feature off: the npm package's build). Run as the package builds the core:
//!
//! ```text
//! cargo test -p edgejwt-core --no-default-features --features host-signatures --test host_signatures
//! ```
//!
//! With `--all-features` every algorithm is the core's own, so this file has nothing to test.
#![cfg(all(feature = "host-signatures", not(feature = "es512")))]
#![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]

use base64ct::{Base64UrlUnpadded, Encoding};
use edgejwt_core::{InvalidReason, Settings, TokenBackend, TokenError};

const NOW: i64 = 1_700_000_000;

/// A P-521 public JWK (RFC 7520 §3.1's key, public members only).
const P521: &str = r#"{"kty":"EC","crv":"P-521","x":"AHKZLLOsCOzz5cY97ewNUajB957y-C-U88c3v13nmGZx6sYl_oJXu9A5RkTKqjqvjyekWF-7ytDyRXYgCF5cj0Kt","y":"AdymlHvOiLxXkEhayXQnNCvDX4h9htZaCJN34kfmC6pV5OhQHiraVySsUdaQkAgDPrwQrJmbnX9cwlGfP-HqHZR1"}"#;
/// The same key with its private scalar: a verifier keeps only the public members.
const P521_PRIVATE: &str = r#"{"kty":"EC","crv":"P-521","x":"AHKZLLOsCOzz5cY97ewNUajB957y-C-U88c3v13nmGZx6sYl_oJXu9A5RkTKqjqvjyekWF-7ytDyRXYgCF5cj0Kt","y":"AdymlHvOiLxXkEhayXQnNCvDX4h9htZaCJN34kfmC6pV5OhQHiraVySsUdaQkAgDPrwQrJmbnX9cwlGfP-HqHZR1","d":"AAhRON2r9cqXX1hg-RoI6R1tX5p2rUAYdmpHZoC1XNM56KtscrX6zbKipQrCW9CGZH3T4ubpnoTKLDYJ_fF3_rJt"}"#;

fn backend(pairs: &[(&str, &str)]) -> Result<TokenBackend, edgejwt_core::SettingsError> {
    let mut settings = Settings::default();
    settings.set("ALGORITHM", "ES512")?;
    for (name, value) in pairs {
        settings.set(name, value)?;
    }
    TokenBackend::from_settings(&settings)
}

fn token(kid: Option<&str>) -> String {
    let header = match kid {
        Some(kid) => format!(r#"{{"alg":"ES512","typ":"JWT","kid":"{kid}"}}"#),
        None => r#"{"alg":"ES512","typ":"JWT"}"#.to_owned(),
    };
    let claims = format!(
        r#"{{"token_type":"access","exp":{},"iat":{NOW},"jti":"j","user_id":"1"}}"#,
        NOW + 300
    );
    format!(
        "{}.{}.{}",
        Base64UrlUnpadded::encode_string(header.as_bytes()),
        Base64UrlUnpadded::encode_string(claims.as_bytes()),
        Base64UrlUnpadded::encode_string(&[7; 132]),
    )
}

#[test]
fn the_host_decides_the_signature_and_the_core_the_rest() {
    let b = backend(&[("VERIFYING_KEY", P521)]).unwrap();
    assert!(b.host_checked());
    assert!(!b.can_sign());
    let t = token(Some(b.key_id()));
    let mut seen = None;
    let decoded = b
        .decode_checked_by(&t, NOW + 1, |key, input, signature| {
            seen = Some((key, input.len(), signature.len()));
            true
        })
        .unwrap();
    assert_eq!(decoded.into_payload().unwrap().as_map()["user_id"], "1");
    assert_eq!(seen, Some((0, t.rsplit_once('.').unwrap().0.len(), 132)));
    // The host's "no" is a bad signature; claims are still the core's (expiry).
    assert_eq!(
        b.decode_checked_by(&t, NOW + 1, |_, _, _| false),
        Err(TokenError::Invalid(InvalidReason::Signature))
    );
    assert_eq!(
        b.decode_checked_by(&t, NOW + 301, |_, _, _| true),
        Err(TokenError::Expired)
    );
    // No host check: refused, never accepted (the core has no P-521 code in this build).
    assert_eq!(
        b.decode_verbatim(&t, NOW + 1),
        Err(TokenError::Invalid(InvalidReason::Signature))
    );
    // An unknown kid reaches no check.
    assert_eq!(
        b.decode_checked_by(&token(Some("other")), NOW + 1, |_, _, _| true),
        Err(TokenError::Invalid(InvalidReason::Signature))
    );
}

#[test]
fn the_key_is_published_as_its_public_jwk_with_its_thumbprint() {
    let b = backend(&[("SIGNING_KEY", P521_PRIVATE)]).unwrap();
    let jwk: serde_json::Value = serde_json::from_str(&b.public_jwk().unwrap()).unwrap();
    assert_eq!(jwk["crv"], "P-521");
    assert!(jwk.get("d").is_none(), "no private member leaves the core");
    assert_eq!(jwk["alg"], "ES512");
    // RFC 7638: the same id as from the public JWK alone.
    assert_eq!(
        b.key_id(),
        backend(&[("VERIFYING_KEY", P521)]).unwrap().key_id()
    );
    backend(&[("SIGNING_KEY", P521_PRIVATE), ("VERIFYING_KEY", P521)]).unwrap();
}

#[test]
fn bad_keys_are_refused_at_load_naming_the_setting() {
    let refused = |pairs: &[(&str, &str)]| backend(pairs).unwrap_err();
    let pem = "-----BEGIN PUBLIC KEY-----\nMIGbMBAGByqGSM49AgEGBSuBBAAjA4GGAAQ=\n-----END PUBLIC KEY-----";
    assert_eq!(refused(&[("VERIFYING_KEY", pem)]).setting, "VERIFYING_KEY");
    let p384 = r#"{"kty":"EC","crv":"P-384","x":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","y":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}"#;
    assert_eq!(refused(&[("VERIFYING_KEY", p384)]).setting, "VERIFYING_KEY");
    assert_eq!(
        refused(&[("VERIFYING_KEY", r#"{"kty":"oct","k":"c2VjcmV0"}"#)]).setting,
        "VERIFYING_KEY"
    );
    let other = P521.replace("AHKZ", "AHKY");
    let mismatch = refused(&[("SIGNING_KEY", P521_PRIVATE), ("VERIFYING_KEY", &other)]);
    assert_eq!(mismatch.reason, "is not the public half of SIGNING_KEY");
    assert_eq!(refused(&[]).setting, "VERIFYING_KEY");
    // Previous keys follow the same rules.
    assert_eq!(
        refused(&[
            ("VERIFYING_KEY", P521),
            ("PREVIOUS_VERIFYING_KEYS", &format!("[{p384}]"))
        ])
        .setting,
        "PREVIOUS_VERIFYING_KEYS"
    );
    let rotated = backend(&[
        ("VERIFYING_KEY", P521),
        ("PREVIOUS_VERIFYING_KEYS", &format!("[{other}]")),
    ])
    .unwrap();
    assert_eq!(rotated.public_jwks().len(), 2);
}
