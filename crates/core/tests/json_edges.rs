//! How a token's header and claims JSON are read, pinned input by input: which headers are
//! malformed, which name another algorithm or a critical extension, which `kid` they carry,
//! and how the claims object is read (duplicates, non-objects). Written against the serde
//! derive reader these replaced, so the hand-written one refuses and accepts the same tokens.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail by panicking"
)]

mod common;

use base64ct::{Base64UrlUnpadded, Encoding};
use common::{backend, HMAC_KEY, NOW};
use edgejwt_core::{Algorithm, InvalidReason, TokenError};

const MALFORMED: TokenError = TokenError::Invalid(InvalidReason::Malformed);
const MISMATCH: TokenError = TokenError::Invalid(InvalidReason::AlgorithmMismatch);
const CRITICAL: TokenError = TokenError::Invalid(InvalidReason::Critical);
const SIGNATURE: TokenError = TokenError::Invalid(InvalidReason::Signature);
const CLAIMS: TokenError = TokenError::Invalid(InvalidReason::Claims);

/// A header and the `kid` it yields, or the token's error.
type HeaderCase<'a> = (&'a [u8], Result<Option<String>, TokenError>);
/// Claims and the `user_id` they yield, or the token's error.
type ClaimsCase<'a> = (&'a [u8], Result<Option<&'a str>, TokenError>);

fn token(header: &[u8], claims: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        Base64UrlUnpadded::encode_string(header),
        Base64UrlUnpadded::encode_string(claims),
        Base64UrlUnpadded::encode_string(b"signature")
    )
}

/// `[` nested `depth` deep and closed again.
fn nested(depth: usize) -> String {
    "[".repeat(depth) + &"]".repeat(depth)
}

#[test]
fn headers_are_read_as_before() {
    let (_, backend) = backend(Algorithm::Hs256, HMAC_KEY, None);
    let deep = format!(r#"{{"alg":"HS256","x":{}}}"#, nested(300));
    let deep_crit = format!(r#"{{"alg":"HS256","crit":{}}}"#, nested(300));
    let deep_kid = format!(r#"{{"alg":"HS256","kid":{}}}"#, nested(300));
    let ok = |kid: Option<&str>| Ok(kid.map(String::from));
    let cases: Vec<HeaderCase<'_>> = vec![
        (br#"{"alg":"HS256"}"#, ok(None)),
        (b" \n\t\r{ \"alg\" : \"HS256\" } \n", ok(None)),
        (br#"{"alg":"HS256","typ":"JWT","kid":"k1"}"#, ok(Some("k1"))),
        (br#"{"alg":"HS\u0032\u00356"}"#, ok(None)),
        (br#"{"a\u006cg":"HS256"}"#, ok(None)),
        (br#"{"alg":"HS256","kid":"\u0061b\n"}"#, ok(Some("ab\n"))),
        (br#"{"alg":"HS256","kid":""}"#, ok(Some(""))),
        (br#"{"alg":"HS256","kid":null}"#, ok(None)),
        // Not an object.
        (br#"["HS256"]"#, Err(MALFORMED)),
        (br#"[{"alg":"HS256"}]"#, Err(MALFORMED)),
        (br#""HS256""#, Err(MALFORMED)),
        (b"null", Err(MALFORMED)),
        (b"1", Err(MALFORMED)),
        (b"", Err(MALFORMED)),
        (b"  ", Err(MALFORMED)),
        (b"\xef\xbb\xbf{\"alg\":\"HS256\"}", Err(MALFORMED)),
        // Not JSON, or more than one value.
        (br#"{"alg":"HS256"} x"#, Err(MALFORMED)),
        (br#"{"alg":"HS256"}{}"#, Err(MALFORMED)),
        (br#"{"alg":"HS256""#, Err(MALFORMED)),
        (br#"{"alg":"HS256",}"#, Err(MALFORMED)),
        (br#"{"alg" "HS256"}"#, Err(MALFORMED)),
        (br#"{alg:"HS256"}"#, Err(MALFORMED)),
        (b"{\"alg\":\"HS256\",\"\xff\":1}", Err(MALFORMED)),
        // alg missing or not a string.
        (b"{}", Err(MALFORMED)),
        (br#"{"ALG":"HS256"}"#, Err(MALFORMED)),
        (br#"{"alg":null}"#, Err(MALFORMED)),
        (br#"{"alg":256}"#, Err(MALFORMED)),
        (br#"{"alg":2.5}"#, Err(MALFORMED)),
        (br#"{"alg":true}"#, Err(MALFORMED)),
        (br#"{"alg":["HS256"]}"#, Err(MALFORMED)),
        (br#"{"alg":{"alg":"HS256"}}"#, Err(MALFORMED)),
        // Another algorithm.
        (br#"{"alg":"HS512"}"#, Err(MISMATCH)),
        (br#"{"alg":"hs256"}"#, Err(MISMATCH)),
        (br#"{"alg":"none","kid":"k1"}"#, Err(MISMATCH)),
        (br#"{"alg":"HS512","crit":[]}"#, Err(MISMATCH)),
        (br#"{"alg":"HS512","cty":"jwt"}"#, Err(MISMATCH)),
        // A member named twice: the ones read are refused, the others ignored.
        (br#"{"alg":"HS256","alg":"HS256"}"#, Err(MALFORMED)),
        (br#"{"alg":"none","alg":"HS256"}"#, Err(MALFORMED)),
        (br#"{"alg":"HS256","\u0061lg":"HS256"}"#, Err(MALFORMED)),
        (br#"{"alg":"HS256","kid":"a","kid":"a"}"#, Err(MALFORMED)),
        (br#"{"alg":"HS256","kid":null,"kid":"a"}"#, Err(MALFORMED)),
        (
            br#"{"alg":"HS256","cty":"JSON","cty":"JSON"}"#,
            Err(MALFORMED),
        ),
        (br#"{"alg":"HS256","crit":[],"crit":[]}"#, Err(MALFORMED)),
        (br#"{"alg":"HS256","typ":"JWT","typ":"JWS"}"#, ok(None)),
        // kid not a string.
        (br#"{"alg":"HS256","kid":5}"#, Err(MALFORMED)),
        (br#"{"alg":"HS256","kid":["a"]}"#, Err(MALFORMED)),
        (br#"{"alg":"HS256","kid":{}}"#, Err(MALFORMED)),
        (br#"{"alg":"HS256","kid":false}"#, Err(MALFORMED)),
        (deep_kid.as_bytes(), Err(MALFORMED)),
        // cty: absent, null or "json" in any case; anything else is malformed.
        (br#"{"alg":"HS256","cty":"json"}"#, ok(None)),
        (br#"{"alg":"HS256","cty":"JsOn"}"#, ok(None)),
        (br#"{"alg":"HS256","cty":null}"#, ok(None)),
        (br#"{"alg":"HS256","cty":"JWT"}"#, Err(MALFORMED)),
        (br#"{"alg":"HS256","cty":""}"#, Err(MALFORMED)),
        (br#"{"alg":"HS256","cty":1}"#, Err(MALFORMED)),
        (br#"{"alg":"HS256","cty":"jwt","crit":[]}"#, Err(MALFORMED)),
        // crit, whatever its value, once the algorithm and cty hold.
        (br#"{"alg":"HS256","crit":[]}"#, Err(CRITICAL)),
        (br#"{"alg":"HS256","crit":["exp"]}"#, Err(CRITICAL)),
        (br#"{"alg":"HS256","crit":null}"#, Err(CRITICAL)),
        (br#"{"alg":"HS256","crit":"exp"}"#, Err(CRITICAL)),
        (br#"{"alg":"HS256","crit":{}}"#, Err(CRITICAL)),
        (br#"{"alg":"HS256","crit":0}"#, Err(CRITICAL)),
        (br#"{"alg":"HS256","crit":false}"#, Err(CRITICAL)),
        (br#"{"alg":"HS256","crit":1e400}"#, Err(CRITICAL)),
        (deep_crit.as_bytes(), Err(CRITICAL)),
        (br#"{"alg":"HS256","crit":[}"#, Err(MALFORMED)),
        // Other members are skipped, checked only for JSON syntax.
        (br#"{"alg":"HS256","x":1e400}"#, ok(None)),
        (br#"{"alg":"HS256","x":-0.0e-999}"#, ok(None)),
        (br#"{"alg":"HS256","x":"\ud800"}"#, ok(None)),
        (b"{\"alg\":\"HS256\",\"x\":\"\xff\"}", ok(None)),
        (deep.as_bytes(), ok(None)),
        (
            br#"{"alg":"HS256","x":{"kid":"k1","alg":"none"}}"#,
            ok(None),
        ),
        (br#"{"alg":"HS256","x":01}"#, Err(MALFORMED)),
        (br#"{"alg":"HS256","x":-}"#, Err(MALFORMED)),
        (b"{\"alg\":\"HS256\",\"x\":\"a\tb\"}", Err(MALFORMED)),
        (br#"{"alg":"HS256","x":"\q"}"#, Err(MALFORMED)),
        (br#"{"alg":"HS256","x":nul}"#, Err(MALFORMED)),
        (br#"{"alg":"HS256","x":[1,]}"#, Err(MALFORMED)),
        // Strings read are checked in full.
        (br#"{"alg":"HS256","kid":"\ud800"}"#, Err(MALFORMED)),
        (b"{\"alg\":\"HS256\",\"kid\":\"\xff\"}", Err(MALFORMED)),
        (b"{\"alg\":\"HS256\",\"kid\":\"a\tb\"}", Err(MALFORMED)),
    ];
    for (header, expected) in cases {
        let t = token(header, br#"{"user_id":"1"}"#);
        let got = backend.signed_parts(&t).map(|p| p.key_id);
        assert_eq!(got, expected, "{}", String::from_utf8_lossy(header));
        // The full decode refuses the same headers (the signature is the host's here); a
        // `kid` naming no key of the backend fails its signature check.
        let decoded = backend.decode_checked_by(&t, NOW, |_, _, _| true);
        match expected {
            Ok(None) => assert!(decoded.is_ok(), "{}", String::from_utf8_lossy(header)),
            Ok(Some(_)) => assert_eq!(decoded.unwrap_err(), SIGNATURE),
            Err(e) => assert_eq!(decoded.unwrap_err(), e),
        }
    }
}

#[test]
fn claims_are_read_as_before() {
    let (_, backend) = backend(Algorithm::Hs256, HMAC_KEY, None);
    let deep = format!(r#"{{"user_id":"1","x":{}}}"#, nested(300));
    let shallow = format!(r#"{{"user_id":"1","x":{}}}"#, nested(100));
    let cases: Vec<ClaimsCase<'_>> = vec![
        (br#"{"user_id":"1"}"#, Ok(Some("1"))),
        (b" {\"user_id\" : \"1\"}\n", Ok(Some("1"))),
        (br#"{}"#, Ok(None)),
        // The last of a repeated member wins.
        (br#"{"user_id":"1","user_id":"2"}"#, Ok(Some("2"))),
        (br#"{"user_id":"1","user_\u0069d":"3"}"#, Ok(Some("3"))),
        (br#"{"jti":5,"jti":"a","user_id":"1"}"#, Ok(Some("1"))),
        (br#"{"jti":"a","jti":5}"#, Err(CLAIMS)),
        (shallow.as_bytes(), Ok(Some("1"))),
        // Not an object, not JSON, or numbers and strings JSON cannot hold.
        (b"[]", Err(CLAIMS)),
        (br#"[{"user_id":"1"}]"#, Err(CLAIMS)),
        (b"null", Err(CLAIMS)),
        (br#""x""#, Err(CLAIMS)),
        (b"1", Err(CLAIMS)),
        (b"1.5", Err(CLAIMS)),
        (b"true", Err(CLAIMS)),
        (b"", Err(CLAIMS)),
        (br#"{"user_id":"1"} x"#, Err(CLAIMS)),
        (br#"{"user_id":"1"}{}"#, Err(CLAIMS)),
        (br#"{"user_id":"1","x":1e400}"#, Err(CLAIMS)),
        (br#"{"user_id":"1","x":"\ud800"}"#, Err(CLAIMS)),
        (b"{\"user_id\":\"1\",\"x\":\"\xff\"}", Err(CLAIMS)),
        (deep.as_bytes(), Err(CLAIMS)),
        // Registered claims of the wrong type.
        (br#"{"user_id":"1","exp":"soon"}"#, Err(CLAIMS)),
        (br#"{"user_id":"1","sub":1}"#, Err(CLAIMS)),
    ];
    for (claims, expected) in cases {
        let t = token(br#"{"alg":"HS256"}"#, claims);
        let got = backend
            .decode_checked_by(&t, NOW, |_, _, _| true)
            .and_then(|d| d.into_payload())
            .map(|p| p.get_str("user_id").map(String::from));
        assert_eq!(
            got,
            expected.map(|u| u.map(String::from)),
            "{}",
            String::from_utf8_lossy(claims)
        );
    }
}
