//! Key rotation: tokens name their key (`kid`), the current key signs, previous keys
//! (`PREVIOUS_VERIFYING_KEYS`) still verify, and every token whose key is unknown, removed or
//! of another algorithm is refused as an invalid token.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail by panicking"
)]

mod common;

use base64ct::{Base64UrlUnpadded, Encoding};
use common::{cases, Case, HMAC_KEY, NOW, OTHER_HMAC_KEY, REFERENCE_KEY};
use edgejwt_core::{
    Algorithm, InvalidReason, Jti, Settings, SettingsError, Token, TokenBackend, TokenError,
    TokenType,
};
use serde_json::{json, Value};

fn settings(alg: Algorithm, signing: &str, previous: Option<&str>) -> Settings {
    let mut s = Settings::default();
    s.set("ALGORITHM", alg.as_str()).unwrap();
    s.set("SIGNING_KEY", signing).unwrap();
    if let Some(p) = previous {
        s.set("PREVIOUS_VERIFYING_KEYS", p).unwrap();
    }
    s
}

fn backend(alg: Algorithm, signing: &str, previous: Option<&str>) -> TokenBackend {
    TokenBackend::from_settings(&settings(alg, signing, previous)).unwrap()
}

fn try_backend(alg: Algorithm, previous: &str) -> Result<TokenBackend, SettingsError> {
    let signing = cases().into_iter().find(|c| c.alg == alg).unwrap().signing;
    TokenBackend::from_settings(&settings(alg, signing, Some(previous)))
}

fn access(backend: &TokenBackend, alg: Algorithm) -> String {
    let s = settings(alg, HMAC_KEY, None);
    let token = Token::for_user(
        TokenType::Access,
        "1",
        &s,
        NOW,
        Jti::from_random_bytes([7; 16]),
    );
    backend.encode(token.payload()).unwrap()
}

fn header(token: &str) -> Value {
    let part = token.split('.').next().unwrap();
    serde_json::from_slice(&Base64UrlUnpadded::decode_vec(part).unwrap()).unwrap()
}

/// `token` with its header replaced by `header` (the signature no longer matches unless the
/// header is the one signed; a key lookup happens before the signature is checked).
fn with_header(token: &str, header: &Value) -> String {
    let (_, rest) = token.split_once('.').unwrap();
    let h = Base64UrlUnpadded::encode_string(header.to_string().as_bytes());
    format!("{h}.{rest}")
}

const INVALID: TokenError = TokenError::Invalid(InvalidReason::Signature);

/// What a previous key is written as: the public key for asymmetric algorithms, the secret
/// for HMAC.
fn previous_value(case: &Case) -> String {
    public_or_secret(case.alg, case.signing)
}

fn public_or_secret(alg: Algorithm, signing: &str) -> String {
    if alg.is_hmac() {
        signing.to_owned()
    } else {
        // The public half of `signing`, derived by a backend that has it.
        backend(alg, signing, None).public_jwk().unwrap()
    }
}

/// A kid-less HMAC token over `header` and the claims of `token`, as simplejwt mints them.
fn sign_hmac(alg: Algorithm, secret: &str, header: &Value, token: &str) -> String {
    use hmac::{Hmac, Mac};
    let claims = token.split('.').nth(1).unwrap();
    let input = format!(
        "{}.{claims}",
        Base64UrlUnpadded::encode_string(header.to_string().as_bytes())
    );
    let tag = match alg {
        Algorithm::Hs384 => {
            let mut m = Hmac::<sha2::Sha384>::new_from_slice(secret.as_bytes()).unwrap();
            m.update(input.as_bytes());
            m.finalize().into_bytes().to_vec()
        }
        Algorithm::Hs512 => {
            let mut m = Hmac::<sha2::Sha512>::new_from_slice(secret.as_bytes()).unwrap();
            m.update(input.as_bytes());
            m.finalize().into_bytes().to_vec()
        }
        _ => {
            let mut m = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
            m.update(input.as_bytes());
            m.finalize().into_bytes().to_vec()
        }
    };
    format!("{input}.{}", Base64UrlUnpadded::encode_string(&tag))
}

#[test]
fn every_token_names_its_key_and_the_jwk_set_uses_the_same_id() {
    for case in cases() {
        let b = backend(case.alg, case.signing, None);
        let token = access(&b, case.alg);
        let h = header(&token);
        assert_eq!(h["kid"], json!(b.key_id()), "{}", case.alg);
        assert_eq!(h["typ"], "JWT");
        // Stable: another backend from the same key names it the same.
        assert_eq!(backend(case.alg, case.signing, None).key_id(), b.key_id());
        assert_ne!(
            backend(case.alg, case.other_signing, None).key_id(),
            b.key_id()
        );
        if case.alg.is_hmac() {
            assert!(
                b.public_jwks().is_empty(),
                "HMAC secrets are never published"
            );
            assert_eq!(b.public_jwk_set(), r#"{"keys":[]}"#);
        } else {
            let jwk: Value = serde_json::from_str(&b.public_jwks()[0]).unwrap();
            assert_eq!(jwk["kid"], json!(b.key_id()));
            assert_eq!(jwk["alg"], case.alg.as_str());
            assert_eq!(jwk["use"], "sig");
        }
    }
}

/// An HMAC key id is 16 base64url characters (96 bits) of a domain-separated hash: not the
/// secret, not its plain SHA-256, and the same for one secret under every HMAC size.
#[test]
fn hmac_key_ids_reveal_nothing_of_the_secret() {
    use sha2::Digest;
    let kid = backend(Algorithm::Hs256, REFERENCE_KEY, None)
        .key_id()
        .to_owned();
    assert_eq!(kid.len(), 16);
    assert!(kid
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    let plain = Base64UrlUnpadded::encode_string(&sha2::Sha256::digest(REFERENCE_KEY));
    assert!(!plain.starts_with(&kid));
    assert!(!REFERENCE_KEY.contains(&kid));
    assert_eq!(backend(Algorithm::Hs512, HMAC_KEY, None).key_id(), {
        backend(Algorithm::Hs256, HMAC_KEY, None)
            .key_id()
            .to_owned()
    });
}

#[test]
fn previous_keys_verify_until_removed_and_never_sign() {
    for case in cases() {
        let alg = case.alg;
        let old = backend(alg, case.signing, None);
        let old_token = access(&old, alg);

        let prev = previous_value(&case);
        let list = json!([prev]).to_string();
        let rotated = backend(alg, case.other_signing, Some(&list));
        // The old key's tokens still verify, chosen by their kid...
        rotated.decode(&old_token, NOW + 1).unwrap();
        // ...new tokens are signed by the current key...
        let new_token = access(&rotated, alg);
        assert_eq!(header(&new_token)["kid"], json!(rotated.key_id()));
        assert_ne!(rotated.key_id(), old.key_id());
        rotated.decode(&new_token, NOW + 1).unwrap();
        // ...which the old backend does not know.
        assert_eq!(
            old.decode(&new_token, NOW + 1).unwrap_err(),
            INVALID,
            "{alg}"
        );
        assert_eq!(
            rotated.key_ids().collect::<Vec<_>>(),
            [rotated.key_id(), old.key_id()]
        );

        // A key removed from the list: its tokens are refused.
        let removed = backend(alg, case.other_signing, None);
        assert_eq!(
            removed.decode(&old_token, NOW + 1).unwrap_err(),
            INVALID,
            "{alg}"
        );

        // Host checks are told which key the core chose: 1, the first previous key.
        let parts = rotated.signed_parts(&old_token).unwrap();
        assert_eq!(parts.key, Some(1));
        assert_eq!(rotated.signed_parts(&new_token).unwrap().key, Some(0));
        let mut asked = None;
        rotated
            .decode_checked_by(&old_token, NOW + 1, |key, _, _| {
                asked = Some(key);
                true
            })
            .unwrap();
        assert_eq!(asked, Some(1));

        if !alg.is_hmac() {
            // The JWK Set publishes both, the current key first.
            let set: Value = serde_json::from_str(&rotated.public_jwk_set()).unwrap();
            let kids: Vec<&str> = set["keys"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k["kid"].as_str().unwrap())
                .collect();
            assert_eq!(kids, [rotated.key_id(), old.key_id()]);
            assert_eq!(rotated.public_jwks().len(), 2);
        }
    }
}

#[test]
fn unknown_and_hostile_key_ids_are_invalid_tokens() {
    for case in cases() {
        let alg = case.alg;
        let list = json!([previous_value(&case)]).to_string();
        let rotated = backend(alg, case.other_signing, Some(&list));
        let token = access(&rotated, alg);
        for kid in [
            json!("unknown"),
            json!("../../../etc/passwd"),
            json!("' OR 1=1 --"),
            json!(""),
            json!("x".repeat(4000)),
        ] {
            let mut h = header(&token);
            h["kid"] = kid.clone();
            let forged = with_header(&token, &h);
            assert_eq!(
                rotated.decode(&forged, NOW + 1).unwrap_err(),
                INVALID,
                "{alg} {kid}"
            );
            assert_eq!(rotated.signed_parts(&forged).unwrap().key, None);
            // The host is never asked about a key the token does not name.
            let err = rotated
                .decode_checked_by(&forged, NOW + 1, |_, _, _| panic!("asked"))
                .unwrap_err();
            assert_eq!(err, INVALID);
        }
        // A kid that is not a string is a malformed header.
        let mut h = header(&token);
        h["kid"] = json!(["a"]);
        assert_eq!(
            rotated
                .decode(&with_header(&token, &h), NOW + 1)
                .unwrap_err(),
            TokenError::Invalid(InvalidReason::Malformed)
        );
        // The kid of a previous key on a token signed by the current one: refused.
        let mut h = header(&token);
        h["kid"] = json!(rotated.key_ids().nth(1).unwrap());
        let swapped = with_header(&token, &h);
        assert!(rotated.decode(&swapped, NOW + 1).is_err(), "{alg}");
    }
}

/// simplejwt's tokens carry no `kid`: the current key checks them, and for HMAC the
/// previous secrets too (a hash each).
#[test]
fn tokens_without_kid_use_the_current_key_and_previous_secrets() {
    for case in cases() {
        let alg = case.alg;
        let list = json!([previous_value(&case)]).to_string();
        let rotated = backend(alg, case.other_signing, Some(&list));
        let token = access(&rotated, alg);
        let mut plain = header(&token);
        plain.as_object_mut().unwrap().remove("kid");
        if alg.is_hmac() {
            for secret in [case.signing, case.other_signing] {
                let t = sign_hmac(alg, secret, &plain, &token);
                rotated.decode(&t, NOW + 1).unwrap();
            }
            let stranger = sign_hmac(alg, REFERENCE_KEY_512, &plain, &token);
            assert_eq!(rotated.decode(&stranger, NOW + 1).unwrap_err(), INVALID);
        } else {
            // The current key's signature over a kid-less header is checked by the current
            // key only (asked about key 0).
            let unsigned = with_header(&token, &plain);
            let mut asked = None;
            let _ = rotated.decode_checked_by(&unsigned, NOW + 1, |key, _, _| {
                asked = Some(key);
                false
            });
            assert_eq!(asked, Some(0), "{alg}");
        }
    }
}

const REFERENCE_KEY_512: &str =
    "a-stranger-hmac-secret-0123456789abcdef-0123456789abcdef-0123456789";

#[test]
fn previous_keys_as_pem_jwk_or_jwk_set() {
    for case in cases().into_iter().filter(|c| !c.alg.is_hmac()) {
        let alg = case.alg;
        let old = backend(alg, case.signing, None);
        let token = access(&old, alg);
        let jwk: Value = serde_json::from_str(&old.public_jwk().unwrap()).unwrap();
        for list in [
            json!([case.verifying.unwrap()]),
            json!([jwk.clone()]),
            json!({ "keys": [jwk.clone()] }),
            // The current key listed again is ignored, not an error.
            json!([
                case.verifying.unwrap(),
                public_or_secret(alg, case.other_signing)
            ]),
        ] {
            let rotated = backend(alg, case.other_signing, Some(&list.to_string()));
            rotated.decode(&token, NOW + 1).unwrap();
            assert_eq!(rotated.key_ids().count(), 2, "{alg} {list}");
        }
    }
    // HMAC: strings, or oct JWKs.
    let old = backend(Algorithm::Hs256, REFERENCE_KEY, None);
    let token = access(&old, Algorithm::Hs256);
    let k = Base64UrlUnpadded::encode_string(REFERENCE_KEY.as_bytes());
    for list in [
        json!([REFERENCE_KEY]),
        json!([{ "kty": "oct", "k": k }]),
        json!({ "keys": [{ "kty": "oct", "k": k }] }),
    ] {
        let rotated = backend(Algorithm::Hs256, OTHER_HMAC_KEY, Some(&list.to_string()));
        rotated.decode(&token, NOW + 1).unwrap();
    }
}

/// A JWK's own `kid` names it (a third party's JWK Set), not its thumbprint. Needs an
/// asymmetric algorithm this build signs with.
#[cfg(any(
    feature = "es256",
    feature = "es384",
    feature = "es512",
    feature = "eddsa",
    feature = "rsa"
))]
#[test]
fn a_declared_kid_is_the_key_id() {
    let case = cases().into_iter().find(|c| !c.alg.is_hmac()).unwrap();
    let mut jwk: Value =
        serde_json::from_str(&backend(case.alg, case.signing, None).public_jwk().unwrap()).unwrap();
    jwk["kid"] = json!("2026-rotation");
    let rotated = backend(
        case.alg,
        case.other_signing,
        Some(&json!([jwk]).to_string()),
    );
    assert_eq!(rotated.key_ids().nth(1), Some("2026-rotation"));
    let mut s = Settings::default();
    s.set("ALGORITHM", case.alg.as_str()).unwrap();
    s.set("VERIFYING_KEY", &jwk.to_string()).unwrap();
    assert_eq!(
        TokenBackend::from_settings(&s).unwrap().key_id(),
        "2026-rotation"
    );
}

#[test]
fn bad_previous_keys_are_settings_errors_that_name_the_setting_not_the_key() {
    let mut bad: Vec<(Algorithm, String, &str)> = vec![
        (Algorithm::Hs256, "not json".into(), "JSON array"),
        (
            Algorithm::Hs256,
            r#""a-single-string""#.into(),
            "JSON array",
        ),
        (Algorithm::Hs256, r#"{"kty":"oct"}"#.into(), "JWK Set"),
        (
            Algorithm::Hs256,
            json!(["short-secret"]).to_string(),
            "too short",
        ),
        (
            Algorithm::Hs512,
            json!([REFERENCE_KEY]).to_string(),
            "HS512 needs at least 64",
        ),
        (Algorithm::Hs256, json!([42]).to_string(), "PEM string"),
        (
            Algorithm::Hs256,
            json!([{ "kty": "oct", "k": "c2hvcnQ" }]).to_string(),
            "too short",
        ),
        (
            Algorithm::Hs256,
            json!([{ "kty": "oct", "k": "x", "alg": "HS512" }]).to_string(),
            "alg",
        ),
        (
            Algorithm::Hs256,
            json!(vec![REFERENCE_KEY; 17]).to_string(),
            "16",
        ),
    ];
    for case in cases().into_iter().filter(|c| !c.alg.is_hmac()) {
        // A private key where a public one belongs, garbage, and another algorithm's key.
        bad.push((
            case.alg,
            json!(["-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"]).to_string(),
            "public key",
        ));
        bad.push((case.alg, json!([HMAC_KEY]).to_string(), "PEM"));
        bad.push((
            case.alg,
            json!([{ "kty": "oct", "k": "c2VjcmV0" }]).to_string(),
            "JWK",
        ));
    }
    #[cfg(feature = "rsa")]
    bad.push((
        Algorithm::Rs256,
        json!([common::key_file("rsa1024.pub.pem")]).to_string(),
        "2048 bits",
    ));
    for (alg, value, reason) in bad {
        let err = try_backend(alg, &value).unwrap_err();
        assert_eq!(err.setting, "PREVIOUS_VERIFYING_KEYS", "{alg} {value}");
        assert!(err.reason.contains(reason), "{alg} {value}: {}", err.reason);
        let shown = format!("{err} {err:?} {}", err.to_body().to_json());
        assert!(!shown.contains(&value) || value.len() < 8, "{shown}");
        for secret in [REFERENCE_KEY, HMAC_KEY, "short-secret", "AAAA"] {
            assert!(!shown.contains(secret), "{alg}: {shown}");
        }
    }
}

/// The setting's value is never printed by the settings' `Debug`.
#[test]
fn previous_secrets_are_redacted_in_debug() {
    let s = settings(
        Algorithm::Hs256,
        OTHER_HMAC_KEY,
        Some(&json!([REFERENCE_KEY]).to_string()),
    );
    assert!(!format!("{s:?}").contains(REFERENCE_KEY));
    let b = TokenBackend::from_settings(&s).unwrap();
    assert!(!format!("{b:?}").contains(REFERENCE_KEY));
}

/// A backend keeps the verdicts of the headers most tokens carry (its own for each key,
/// PyJWT's and jose's): tokens of both keys, with and without `kid`, interleaved with refused
/// and forged headers, get the verdict and the key of a backend that never saw another token.
#[test]
fn interleaved_headers_get_the_verdicts_of_a_fresh_backend() {
    for case in cases() {
        let alg = case.alg;
        let list = json!([previous_value(&case)]).to_string();
        let rotated = || backend(alg, case.other_signing, Some(&list));
        let shared = rotated();
        let current = access(&shared, alg);
        let previous = access(&backend(alg, case.signing, None), alg);
        let mut tokens = vec![current.clone(), previous.clone()];
        // PyJWT's header, which names no key, and the same JSON spaced out.
        let plain = json!({"alg": alg.as_str(), "typ": "JWT"});
        if alg.is_hmac() {
            tokens.push(sign_hmac(alg, case.signing, &plain, &current));
            let spaced = format!("{{ \"alg\" : \"{alg}\" }}");
            let (_, rest) = current.split_once('.').unwrap();
            tokens.push(format!(
                "{}.{rest}",
                Base64UrlUnpadded::encode_string(spaced.as_bytes())
            ));
        }
        for (token, kid) in [(&current, 1), (&previous, 0)] {
            // The other key's kid, an unknown one, another algorithm, a `crit`.
            let mut h = header(token);
            h["kid"] = json!(shared.key_ids().nth(kid).unwrap());
            tokens.push(with_header(token, &h));
            h["kid"] = json!("unknown");
            tokens.push(with_header(token, &h));
            let mut h = header(token);
            h["alg"] = json!(if alg.is_hmac() { "none" } else { "HS256" });
            tokens.push(with_header(token, &h));
            let mut h = header(token);
            h["crit"] = json!(["exp"]);
            tokens.push(with_header(token, &h));
        }
        let fresh: Vec<_> = tokens
            .iter()
            .map(|t| {
                let b = rotated();
                (b.decode(t, NOW + 1), b.signed_parts(t).map(|p| p.key))
            })
            .collect();
        assert!(fresh[0].0.is_ok() && fresh[1].0.is_ok(), "{alg}");
        for round in 0..3 {
            for (i, token) in tokens.iter().enumerate().rev().skip(round) {
                let got = (
                    shared.decode(token, NOW + 1),
                    shared.signed_parts(token).map(|p| p.key),
                );
                assert_eq!(got, fresh[i], "{alg} token {i} round {round}");
            }
        }
    }
}
