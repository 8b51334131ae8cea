//! Published test vectors, each naming its source.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail by panicking"
)]

mod common;

use edgejwt_core::{InvalidReason, Settings, TokenBackend, TokenError};
use serde_json::json;

/// RFC 7515 A.1-A.3 share this payload: `{"iss":"joe","exp":1300819380,"http://example.com/is_root":true}`.
const RFC7515_EXP: i64 = 1_300_819_380;

fn backend(alg: &str, signing: &str, verifying: Option<&str>) -> TokenBackend {
    let mut s = Settings::default();
    s.set("ALGORITHM", alg).unwrap();
    if !signing.is_empty() {
        s.set("SIGNING_KEY", signing).unwrap();
    }
    if let Some(v) = verifying {
        s.set("VERIFYING_KEY", v).unwrap();
    }
    TokenBackend::from_settings(&s).unwrap()
}

fn assert_rfc7515_payload(backend: &TokenBackend, token: &str) {
    let payload = backend.decode(token, RFC7515_EXP - 1).unwrap();
    assert_eq!(
        serde_json::Value::Object(payload.into_map()),
        json!({"iss": "joe", "exp": RFC7515_EXP, "http://example.com/is_root": true})
    );
    assert_eq!(
        backend.decode(token, RFC7515_EXP).unwrap_err(),
        TokenError::Expired
    );
    // One changed signature character must fail.
    let mut bad = token.to_owned();
    let last = bad.pop().unwrap();
    bad.push(if last == 'A' { 'B' } else { 'A' });
    assert!(matches!(
        backend.decode(&bad, RFC7515_EXP - 1),
        Err(TokenError::Invalid(_))
    ));
}

/// RFC 7515 Appendix A.1: HS256 with the JWK of A.1.1.
#[test]
fn rfc7515_a1_hs256() {
    const TOKEN: &str = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const JWK: &str = r#"{"kty":"oct","k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"}"#;
    let backend = backend("HS256", JWK, None);
    assert_rfc7515_payload(&backend, TOKEN);
    // The same key configured for HS512 is refused at load (64 bytes is enough) and its
    // tokens are refused by algorithm.
    let hs512 = self::backend("HS512", JWK, None);
    assert_eq!(
        hs512.decode(TOKEN, RFC7515_EXP - 1).unwrap_err(),
        TokenError::Invalid(InvalidReason::AlgorithmMismatch)
    );
}

/// RFC 7515 Appendix A.2: RS256 with the public part (n, e) of the A.2.1 key.
#[cfg(feature = "rsa")]
#[test]
fn rfc7515_a2_rs256() {
    const TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";
    const JWK: &str = r#"{"kty":"RSA","e":"AQAB","n":"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ"}"#;
    let backend = backend("RS256", "", Some(JWK));
    assert!(!backend.can_sign());
    assert_rfc7515_payload(&backend, TOKEN);
    // The same key under PS256 refuses the RS256 token.
    let ps = self::backend("PS256", "", Some(JWK));
    assert_eq!(
        ps.decode(TOKEN, RFC7515_EXP - 1).unwrap_err(),
        TokenError::Invalid(InvalidReason::AlgorithmMismatch)
    );
}

/// RFC 7515 Appendix A.3: ES256 with the JWK of A.3.1 (private and public forms).
#[cfg(feature = "es256")]
#[test]
fn rfc7515_a3_es256() {
    const TOKEN: &str = "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";
    const PUBLIC: &str = r#"{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}"#;
    const PRIVATE: &str = r#"{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","d":"jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"}"#;
    assert_rfc7515_payload(&backend("ES256", "", Some(PUBLIC)), TOKEN);
    let both = backend("ES256", PRIVATE, Some(PUBLIC));
    assert_rfc7515_payload(&both, TOKEN);
    let jwk: serde_json::Value = serde_json::from_str(&both.public_jwk().unwrap()).unwrap();
    assert_eq!(
        jwk["x"],
        json!("f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU")
    );
    assert_eq!(jwk["alg"], json!("ES256"));
}

/// RFC 7515 Appendix A.4: ES512 (P-521) with the public JWK of A.4.1. Its payload is the
/// text `Payload`, not claims: the signature verifies and the claims are then refused as
/// malformed; a changed signature is refused as a bad signature. With the private JWK of
/// A.4.1 as the signing key, a token edgejwt signs verifies under the public JWK alone.
#[cfg(feature = "es512")]
#[test]
fn rfc7515_a4_es512() {
    const TOKEN: &str = "eyJhbGciOiJFUzUxMiJ9.UGF5bG9hZA.AdwMgeerwtHoh-l192l60hp9wAHZFVJbLfD_UxMi70cwnZOYaRI1bKPWROc-mZZqwqT2SI-KGDKB34XO0aw_7XdtAG8GaSwFKdCAPZgoXD2YBJZCPEX3xKpRwcdOO8KpEHwJjyqOgzDO7iKvU8vcnwNrmxYbSW9ERBXukOXolLzeO_Jn";
    const X: &str =
        "AekpBQ8ST8a8VcfVOTNl353vSrDCLLJXmPk06wTjxrrjcBpXp5EOnYG_NjFZ6OvLFV1jSfS9tsz4qUxcWceqwQGk";
    const Y: &str =
        "ADSmRA43Z1DSNx_RvcLI87cdL07l6jQyyBXMoxVg_l2Th-x3S1WDhjDly79ajL4Kkd0AZMaZmh9ubmf63e3kyMj2";
    const D: &str =
        "AY5pb7A0UFiB3RELSD64fTLOSV_jazdF7fLYyuTw8lOfRhWg6Y6rUrPAxerEzgdRhajnu0ferB0d53vM9mE15j2C";
    let public = json!({"kty": "EC", "crv": "P-521", "x": X, "y": Y}).to_string();
    let private = json!({"kty": "EC", "crv": "P-521", "x": X, "y": Y, "d": D}).to_string();
    {
        let b = backend("ES512", "", Some(&public));
        assert!(!b.can_sign());
        assert_eq!(
            b.decode(TOKEN, 0).unwrap_err(),
            TokenError::Invalid(InvalidReason::Claims)
        );
        let mut bad = TOKEN.to_owned();
        bad.pop();
        bad.push('o');
        assert_eq!(
            b.decode(&bad, 0).unwrap_err(),
            TokenError::Invalid(InvalidReason::Signature)
        );
        let jwk: serde_json::Value = serde_json::from_str(&b.public_jwk().unwrap()).unwrap();
        assert_eq!((jwk["x"].as_str(), jwk["y"].as_str()), (Some(X), Some(Y)));
        assert_eq!(jwk["alg"], json!("ES512"));
    }
    let signer = backend("ES512", &private, None);
    assert!(signer.can_sign());
    let claims = || {
        let serde_json::Value::Object(map) = json!({"user_id": 1, "exp": 4_000_000_000_i64}) else {
            unreachable!()
        };
        edgejwt_core::Payload::from_map(map)
    };
    let token = signer.encode(&claims()).unwrap();
    let verifier = backend("ES512", "", Some(&public));
    assert_eq!(
        verifier.decode(&token, 0).unwrap().get_i64("user_id"),
        Some(1)
    );
    // A random nonce: the same claims signed twice give two signatures, both valid.
    let again = signer.encode(&claims()).unwrap();
    assert_ne!(token, again);
    assert!(verifier.decode(&again, 0).is_ok());
    // A P-256 key is not a P-521 key.
    let p256 = r#"{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}"#;
    let mut s = Settings::default();
    s.set("ALGORITHM", "ES512").unwrap();
    s.set("VERIFYING_KEY", p256).unwrap();
    assert_eq!(
        TokenBackend::from_settings(&s).unwrap_err().setting,
        "VERIFYING_KEY"
    );
}

/// RFC 8037 Appendix A.1, A.2 and A.4: the Ed25519 key and the signature of
/// "Example of Ed25519 signing" under `{"alg":"EdDSA"}`.
#[cfg(feature = "eddsa")]
#[test]
fn rfc8037_eddsa() {
    use base64ct::{Base64UrlUnpadded, Encoding};
    use ed25519_dalek::{Signature, Verifier, VerifyingKey};

    const PRIVATE: &str = r#"{"kty":"OKP","crv":"Ed25519","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#;
    const PUBLIC: &str =
        r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#;
    const SIGNING_INPUT: &str = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
    const SIGNATURE: &str =
        "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";

    // The vector itself (A.4): the RFC's public key verifies the RFC's signature.
    let x = Base64UrlUnpadded::decode_vec("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo").unwrap();
    let public = VerifyingKey::from_bytes(&x.try_into().unwrap()).unwrap();
    let sig = Base64UrlUnpadded::decode_vec(SIGNATURE).unwrap();
    let sig = Signature::from_slice(&sig).unwrap();
    public.verify(SIGNING_INPUT.as_bytes(), &sig).unwrap();

    // The core loads the A.1 private JWK, derives the A.2 public key from it, and accepts
    // it as VERIFYING_KEY (a mismatched one is refused).
    let core = backend("EdDSA", PRIVATE, Some(PUBLIC));
    let jwk: serde_json::Value = serde_json::from_str(&core.public_jwk().unwrap()).unwrap();
    assert_eq!(
        jwk["x"],
        json!("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
    );
    assert_eq!(jwk["crv"], json!("Ed25519"));

    // A token the core signs with the RFC key verifies with the RFC public key, outside the core.
    let mut payload = edgejwt_core::Payload::default();
    payload.insert("sub", "rfc8037");
    let token = core.encode(&payload).unwrap();
    let (input, sig) = token.rsplit_once('.').unwrap();
    let sig = Signature::from_slice(&Base64UrlUnpadded::decode_vec(sig).unwrap()).unwrap();
    public.verify(input.as_bytes(), &sig).unwrap();
    // Ed25519 is deterministic: the same input signs the same.
    assert_eq!(core.encode(&payload).unwrap(), token);
    // And a verify-only backend with the RFC public JWK accepts it.
    let verifier = backend("EdDSA", "", Some(PUBLIC));
    assert_eq!(
        verifier.decode(&token, 0).unwrap().get_str("sub"),
        Some("rfc8037")
    );
    assert_eq!(verifier.algorithm(), edgejwt_core::Algorithm::EdDsa);
}
