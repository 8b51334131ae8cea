//! One tamper harness, run for every algorithm: each edit of a valid token must be refused
//! with the right error, and never with a panic.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail by panicking"
)]

mod common;

use base64ct::{Base64UrlUnpadded, Encoding};
use common::{access_token, backend, cases, NOW};
use edgejwt_core::{
    Algorithm, InvalidReason, Token, TokenBackend, TokenError, TokenType, MAX_TOKEN_LEN,
};
use jwt_compact::{alg::Hs256Key, AlgorithmExt, Claims, Header};
use serde_json::{json, Map, Value};

fn parts(token: &str) -> [String; 3] {
    let mut it = token.split('.').map(str::to_owned);
    [it.next().unwrap(), it.next().unwrap(), it.next().unwrap()]
}

fn decode_json(segment: &str) -> Value {
    serde_json::from_slice(&Base64UrlUnpadded::decode_vec(segment).unwrap()).unwrap()
}

fn encode_json(value: &Value) -> String {
    Base64UrlUnpadded::encode_string(&serde_json::to_vec(value).unwrap())
}

fn invalid(reason: InvalidReason) -> Result<(), TokenError> {
    Err(TokenError::Invalid(reason))
}

fn check(backend: &TokenBackend, token: &str) -> Result<(), TokenError> {
    backend.decode(token, NOW + 1).map(|_| ())
}

/// An algorithm name of the same family that the backend must not accept.
fn swapped(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::Hs256 => "HS512",
        Algorithm::Hs384 | Algorithm::Hs512 => "HS256",
        Algorithm::Rs256 => "PS256",
        Algorithm::Ps256 => "RS256",
        Algorithm::Rs384 | Algorithm::Rs512 | Algorithm::Ps384 | Algorithm::Ps512 => "RS256",
        Algorithm::Es256 => "ES384",
        Algorithm::Es384 => "ES256",
        Algorithm::EdDsa => "Ed25519",
        _ => "HS256",
    }
}

#[test]
fn every_tampered_token_is_refused_for_every_algorithm() {
    for case in cases() {
        let alg = case.alg;
        let (settings, backend) = backend(alg, case.signing, case.verifying);
        let token = access_token(&settings, &backend);
        let [header, claims, signature] = parts(&token);
        let ctx = alg.as_str();

        // The untouched token verifies, as an access token, with the claims it was given.
        let payload = backend.decode(&token, NOW + 1).unwrap();
        assert_eq!(payload.get_str("user_id"), Some("1"), "{ctx}");
        assert_eq!(decode_json(&header)["alg"], json!(alg.as_str()), "{ctx}");
        Token::verify(TokenType::Access, payload, &settings, NOW + 1).unwrap();

        // Critical extensions (RFC 7515 §4.1.11): none is understood, so even a token whose
        // signature holds is refused, whatever `crit` says.
        for crit in [json!(["exp"]), json!([]), json!(null), json!("exp")] {
            let mut h = decode_json(&header);
            h["crit"] = crit.clone();
            let t = format!("{}.{claims}.{signature}", encode_json(&h));
            assert_eq!(
                backend
                    .decode_checked_by(&t, NOW + 1, |_, _, _| true)
                    .map(|_| ()),
                invalid(InvalidReason::Critical),
                "{ctx} crit {crit}"
            );
        }

        // Flipped signature bits, at the start, middle and end.
        let sig = Base64UrlUnpadded::decode_vec(&signature).unwrap();
        for i in [0, sig.len() / 2, sig.len() - 1] {
            for bit in [0x01, 0x80] {
                let mut bad = sig.clone();
                bad[i] ^= bit;
                let t = format!(
                    "{header}.{claims}.{}",
                    Base64UrlUnpadded::encode_string(&bad)
                );
                assert_eq!(
                    check(&backend, &t),
                    invalid(InvalidReason::Signature),
                    "{ctx} byte {i}"
                );
            }
        }
        // Truncated and extended signatures.
        let t = format!(
            "{header}.{claims}.{}",
            Base64UrlUnpadded::encode_string(&sig[..sig.len() - 1])
        );
        assert_eq!(
            check(&backend, &t),
            invalid(InvalidReason::Signature),
            "{ctx} short sig"
        );
        let mut long = sig.clone();
        long.push(0);
        let t = format!(
            "{header}.{claims}.{}",
            Base64UrlUnpadded::encode_string(&long)
        );
        assert_eq!(
            check(&backend, &t),
            invalid(InvalidReason::Signature),
            "{ctx} long sig"
        );

        // Edited header (same alg, extra field): the signature covers it.
        let mut h = decode_json(&header);
        h["kid"] = json!("attacker");
        let t = format!("{}.{claims}.{signature}", encode_json(&h));
        assert_eq!(
            check(&backend, &t),
            invalid(InvalidReason::Signature),
            "{ctx} header"
        );

        // Edited claims: another user, a later expiry.
        for (claim, value) in [("user_id", json!("2")), ("exp", json!(NOW + 86_400 * 365))] {
            let mut c = decode_json(&claims);
            c[claim] = value;
            let t = format!("{header}.{}.{signature}", encode_json(&c));
            assert_eq!(
                check(&backend, &t),
                invalid(InvalidReason::Signature),
                "{ctx} {claim}"
            );
        }

        // Swapped algorithm in the header.
        let mut h = decode_json(&header);
        h["alg"] = json!(swapped(alg));
        let t = format!("{}.{claims}.{signature}", encode_json(&h));
        assert_eq!(
            check(&backend, &t),
            invalid(InvalidReason::AlgorithmMismatch),
            "{ctx} swap"
        );

        // alg: none, with and without a signature; and other spellings of none.
        for none in ["none", "None", "NONE"] {
            let h = encode_json(&json!({"alg": none, "typ": "JWT"}));
            for sig in ["", signature.as_str()] {
                let t = format!("{h}.{claims}.{sig}");
                assert_eq!(
                    check(&backend, &t),
                    invalid(InvalidReason::AlgorithmMismatch),
                    "{ctx} {none}"
                );
            }
        }
        // A header that is not a JSON object, though it names the algorithm.
        for h in [json!([alg.as_str()]), json!(alg.as_str())] {
            let t = format!("{}.{claims}.{signature}", encode_json(&h));
            assert_eq!(
                check(&backend, &t),
                invalid(InvalidReason::Malformed),
                "{ctx} header {h}"
            );
        }
        // No alg at all.
        let t = format!(
            "{}.{claims}.{signature}",
            encode_json(&json!({"typ": "JWT"}))
        );
        assert_eq!(
            check(&backend, &t),
            invalid(InvalidReason::Malformed),
            "{ctx} no alg"
        );

        // Signed with another key of the same algorithm.
        let (_, other) = common::backend(alg, case.other_signing, None);
        let t = access_token(&settings, &other);
        assert_eq!(
            check(&backend, &t),
            invalid(InvalidReason::Signature),
            "{ctx} other key"
        );

        // Expired (exp == now is expired, as in PyJWT), and the wire text.
        assert_eq!(
            backend.decode(&token, NOW + 300).unwrap_err(),
            TokenError::Expired,
            "{ctx}"
        );
        assert_eq!(TokenError::Expired.detail(), "Token is expired");

        // Structure: garbage, missing parts, bad base64, non-JSON claims, oversize.
        for t in [
            String::new(),
            "garbage".into(),
            format!("{header}.{claims}"),
            format!("{header}.{claims}.{signature}.x"),
            format!("{header}!.{claims}.{signature}"),
            format!("{header}.{claims}.{signature}!"),
            format!(
                "{}.{claims}.{signature}",
                Base64UrlUnpadded::encode_string(b"not json")
            ),
            "a".repeat(MAX_TOKEN_LEN + 1),
        ] {
            let err = check(&backend, &t).unwrap_err();
            assert!(
                matches!(err, TokenError::Invalid(_)),
                "{ctx} {t:.40}: {err:?}"
            );
            assert_eq!(err.detail(), "Token is invalid");
        }
        let t = format!(
            "{header}.{}.{signature}",
            Base64UrlUnpadded::encode_string(b"[1,2]")
        );
        // As PyJWT: the signature is checked before the claims are parsed.
        assert_eq!(
            check(&backend, &t),
            invalid(InvalidReason::Signature),
            "{ctx} array claims, unsigned"
        );
        assert_eq!(
            backend
                .decode_checked_by(&t, NOW + 1, |_, _, _| true)
                .and_then(|d| d.into_payload())
                .map(|_| ()),
            invalid(InvalidReason::Claims),
            "{ctx} array claims, signature held"
        );
        // Registered time claims of the wrong type, or outside any calendar.
        for exp in [json!("soon"), json!(null), json!(1e300), json!(u64::MAX)] {
            let mut c = decode_json(&claims);
            c["exp"] = exp.clone();
            let t = format!("{header}.{}.{signature}", encode_json(&c));
            assert_eq!(
                backend
                    .decode_checked_by(&t, NOW + 1, |_, _, _| true)
                    .and_then(|d| d.into_payload())
                    .map(|_| ()),
                invalid(InvalidReason::Claims),
                "{ctx} exp {exp}"
            );
        }
        // A float exp is truncated, as Python's int() does.
        let mut c = decode_json(&claims);
        c["exp"] = json!(NOW as f64 + 10.9);
        let t = format!("{header}.{}.{signature}", encode_json(&c));
        let payload = backend
            .decode_checked_by(&t, NOW + 1, |_, _, _| true)
            .and_then(|d| d.into_payload())
            .unwrap();
        assert_eq!(payload.get_i64("exp"), Some(NOW + 10), "{ctx} float exp");
    }
}

/// The classic key-confusion attack: an HS256 token whose HMAC key is the server's RSA
/// (or EC, Ed25519) public key. Refused because the algorithm is fixed by the settings.
#[test]
fn hs256_signed_with_the_public_key_is_refused() {
    for case in cases().into_iter().filter(|c| !c.alg.is_hmac()) {
        let (_, backend) = backend(case.alg, case.signing, case.verifying);
        let public_pem = case.verifying.unwrap();
        let mut claims = Map::new();
        claims.insert("token_type".into(), json!("access"));
        claims.insert("jti".into(), json!("a".repeat(32)));
        claims.insert("user_id".into(), json!("1"));
        let claims = Claims::new(claims);
        for secret in [public_pem, public_pem.trim()] {
            let t = jwt_compact::alg::Hs256
                .token(
                    &Header::empty().with_token_type("JWT"),
                    &claims,
                    &Hs256Key::new(secret),
                )
                .unwrap();
            assert_eq!(
                check(&backend, &t),
                invalid(InvalidReason::AlgorithmMismatch),
                "{}",
                case.alg
            );
        }
    }
}

/// What a decoded token must also pass: `Token.verify`'s id and type checks.
#[test]
fn token_verify_checks_id_and_type() {
    let (settings, backend) = backend(Algorithm::Hs256, common::HMAC_KEY, None);
    let mut token = Token::for_user(TokenType::Refresh, "1", &settings, NOW, common::jti(2));
    let encoded = backend.encode(token.payload()).unwrap();
    let payload = backend.decode(&encoded, NOW).unwrap();
    assert_eq!(
        Token::verify(TokenType::Access, payload.clone(), &settings, NOW),
        Err(TokenError::WrongType)
    );
    assert_eq!(
        Token::verify_with_blacklist(TokenType::Refresh, payload.clone(), true, &settings, NOW),
        Err(TokenError::Blacklisted)
    );
    // Blacklisting does not apply to access tokens (simplejwt has no access blacklist).
    assert_eq!(
        Token::verify_with_blacklist(TokenType::Access, payload, true, &settings, NOW),
        Err(TokenError::WrongType)
    );

    token.payload_mut().remove("jti");
    let payload = backend
        .decode(&backend.encode(token.payload()).unwrap(), NOW)
        .unwrap();
    assert_eq!(
        Token::verify(TokenType::Refresh, payload, &settings, NOW),
        Err(TokenError::NoId)
    );

    token.payload_mut().insert("jti", "x");
    token.payload_mut().remove("token_type");
    let payload = backend
        .decode(&backend.encode(token.payload()).unwrap(), NOW)
        .unwrap();
    assert_eq!(
        Token::verify(TokenType::Refresh, payload, &settings, NOW),
        Err(TokenError::NoType)
    );

    token.payload_mut().insert("token_type", "refresh");
    token.payload_mut().remove("exp");
    let payload = backend
        .decode(&backend.encode(token.payload()).unwrap(), NOW)
        .unwrap();
    let err = Token::verify(TokenType::Refresh, payload, &settings, NOW).unwrap_err();
    assert_eq!(err.detail(), "Token has no 'exp' claim");
}

/// The external-signature path (WebCrypto in JS hosts) applies the same structure,
/// algorithm and claim checks, and refuses whatever the host says is badly signed.
#[test]
fn external_signature_check_path() {
    for case in cases() {
        let (_, backend) = backend(case.alg, case.signing, case.verifying);
        let (settings, _) = common::backend(case.alg, case.signing, case.verifying);
        let token = access_token(&settings, &backend);
        let parts = backend.signed_parts(&token).unwrap();
        let (input, sig) = token.rsplit_once('.').unwrap();
        assert_eq!(parts.signing_input, input);
        assert_eq!(Base64UrlUnpadded::encode_string(&parts.signature), sig);
        assert_eq!(
            backend
                .decode_checked_by(&token, NOW + 1, |_, _, _| true)
                .and_then(|d| d.into_payload()),
            backend.decode(&token, NOW + 1)
        );
        assert_eq!(
            backend
                .decode_checked_by(&token, NOW + 1, |_, _, _| false)
                .and_then(|d| d.into_payload()),
            Err(TokenError::Invalid(InvalidReason::Signature))
        );
        assert_eq!(
            backend
                .decode_checked_by(&token, NOW + 300, |_, _, _| true)
                .and_then(|d| d.into_payload()),
            Err(TokenError::Expired)
        );
        let none = format!(
            "{}.{}.",
            encode_json(&json!({"alg": "none"})),
            parts.signing_input.split_once('.').unwrap().1
        );
        assert_eq!(
            backend.signed_parts(&none).unwrap_err(),
            TokenError::Invalid(InvalidReason::AlgorithmMismatch)
        );
        assert_eq!(
            backend
                .decode_checked_by(&none, NOW, |_, _, _| true)
                .and_then(|d| d.into_payload()),
            Err(TokenError::Invalid(InvalidReason::AlgorithmMismatch))
        );
    }
}
