//! JWKs read as jwt-compact's `JsonWebKey` deserializer reads them, without its serde
//! internally-tagged enum (feature `host-signatures`): that enum buffers every member in
//! serde's `Content` first, ~30 KiB of the npm package's wasm, where JWKs are only settings.
//!
//! Same accepted keys and members: `kty` one of `RSA`, `EC`, `oct`, `OKP`; that type's
//! required members, base64url-unpadded (base64ct, as jwt-compact); `d` of `EC`/`OKP`
//! checked when present; other members ignored. Two differences, both on keys no issuer
//! writes: RSA private members are not kept (`private_parts: None`: a host-checked key keeps
//! only its public half, and builds with the `rsa` feature use jwt-compact's reader), and a
//! member repeated is refused whatever the key type (jwt-compact refuses only its type's).

use alloc::borrow::Cow;

use base64ct::{Base64UrlUnpadded, Encoding};
use jwt_compact::{alg::SecretBytes, jwk::JsonWebKey};

/// Every member a `JsonWebKey` reads, of any key type: `kty` a string, the others strings
/// or `null` (as absent), as `#[derive(Deserialize)]` fields `Cow<str>` / `Option<Cow<str>>`.
const MEMBERS: crate::json::Fields = crate::json::Fields {
    names: &["kty", "n", "e", "crv", "x", "y", "d", "k"],
    skipped: 0,
};

/// The JWK `value`, or `None` when jwt-compact would refuse it. For JSON objects only (callers
/// take `{...}` values as JWKs): jwt-compact also reads its enum from an array.
#[cfg_attr(edgejwt_size, optimize(size))]
pub(crate) fn parse(value: &str) -> Option<JsonWebKey<'static>> {
    let [kty, n, e, crv, x, y, d, k] =
        crate::json::read_object(value.as_bytes(), MEMBERS)?.map(crate::json::Member::into_str);
    let kty = kty?;
    let decode =
        |member: &Option<Cow<'_, str>>| Base64UrlUnpadded::decode_vec(member.as_deref()?).ok();
    let bytes = |member: &Option<Cow<'_, str>>| decode(member).map(Cow::Owned);
    // An optional secret: absent (or null) is none; present, it must decode.
    let secret = |member: &Option<Cow<'_, str>>| -> Option<Option<SecretBytes<'static>>> {
        match member {
            None => Some(None),
            Some(_) => decode(member).map(|b| Some(SecretBytes::owned(b))),
        }
    };
    let curve = |member: Option<Cow<'_, str>>| member.map(|c| Cow::Owned(c.into_owned()));
    Some(match &*kty {
        "RSA" => JsonWebKey::Rsa {
            modulus: bytes(&n)?,
            public_exponent: bytes(&e)?,
            private_parts: None,
        },
        "EC" => JsonWebKey::EllipticCurve {
            x: bytes(&x)?,
            y: bytes(&y)?,
            secret: secret(&d)?,
            curve: curve(crv)?,
        },
        "oct" => JsonWebKey::Symmetric {
            secret: SecretBytes::owned(decode(&k)?),
        },
        "OKP" => JsonWebKey::KeyPair {
            x: bytes(&x)?,
            secret: secret(&d)?,
            curve: curve(crv)?,
        },
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What jwt-compact's reader makes of `value`, RSA private members dropped as here.
    fn reference(value: &str) -> Option<JsonWebKey<'static>> {
        let jwk: JsonWebKey<'_> = serde_json::from_str(value).ok()?;
        Some(match jwk {
            JsonWebKey::Rsa {
                modulus,
                public_exponent,
                ..
            } => JsonWebKey::Rsa {
                modulus: Cow::Owned(modulus.into_owned()),
                public_exponent: Cow::Owned(public_exponent.into_owned()),
                private_parts: None,
            },
            JsonWebKey::EllipticCurve {
                curve,
                x,
                y,
                secret,
            } => JsonWebKey::EllipticCurve {
                curve: Cow::Owned(curve.into_owned()),
                x: Cow::Owned(x.into_owned()),
                y: Cow::Owned(y.into_owned()),
                secret: secret.map(|s| SecretBytes::owned(s.to_vec())),
            },
            JsonWebKey::Symmetric { secret } => JsonWebKey::Symmetric {
                secret: SecretBytes::owned(secret.to_vec()),
            },
            JsonWebKey::KeyPair { curve, x, secret } => JsonWebKey::KeyPair {
                curve: Cow::Owned(curve.into_owned()),
                x: Cow::Owned(x.into_owned()),
                secret: secret.map(|s| SecretBytes::owned(s.to_vec())),
            },
            _ => return None,
        })
    }

    #[test]
    fn reads_jwks_as_jwt_compact() {
        for value in [
            r#"{"kty":"oct","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"}"#,
            r#"{"kty":"oct","k":"c2VjcmV0","kid":"a","alg":"HS256","use":"sig"}"#,
            r#"{"kty":"oct","k":"c2VjcmV0="}"#,
            r#"{"kty":"oct","k":"c2VjcmV0+"}"#,
            r#"{"kty":"oct","k":"c2VjcmV1"}"#,
            r#"{"kty":"oct","k":"c2VjcmVw"}"#,
            r#"{"kty":"oct","k":null}"#,
            r#"{"kty":"oct","k":7}"#,
            r#"{"kty":"oct"}"#,
            r#"{"kty":"OCT","k":"c2VjcmV0"}"#,
            r#"{"k":"c2VjcmV0"}"#,
            r#"{"kty":null,"k":"c2VjcmV0"}"#,
            r#"{"kty":"oct","k":"c2Vj\u0063mV0"}"#,
            r#"{"kty":"RSA","n":"AQAB","e":"AQAB"}"#,
            r#"{"kty":"RSA","n":"AQAB","e":"AQAB","d":"AQ","p":"AQ","q":"AQ"}"#,
            r#"{"kty":"RSA","n":"AQAB","e":"AQAB","d":"!!"}"#,
            r#"{"kty":"RSA","n":"AQAB"}"#,
            r#"{"kty":"EC","crv":"P-256","x":"AQ","y":"Ag"}"#,
            r#"{"kty":"EC","crv":"P-256","x":"AQ","y":"Ag","d":"Aw"}"#,
            r#"{"kty":"EC","crv":"P-256","x":"AQ","y":"Ag","d":null}"#,
            r#"{"kty":"EC","crv":"P-256","x":"AQ","y":"Ag","d":"!"}"#,
            r#"{"kty":"EC","crv":"P-256","x":"AQ"}"#,
            r#"{"kty":"EC","x":"AQ","y":"Ag"}"#,
            r#"{"kty":"EC","crv":1,"x":"AQ","y":"Ag"}"#,
            r#"{"kty":"OKP","crv":"Ed25519","x":"AQ"}"#,
            r#"{"kty":"OKP","crv":"Ed25519","x":"AQ","d":"Ag"}"#,
            r#"{"kty":"OKP","crv":"Ed25519"}"#,
            r#"{"kty":"OKP","crv":"Ed25519","x":"AQ","kty":"OKP"}"#,
            r#"{"kty":"OKP","crv":"Ed25519","x":"AQ","x":"AQ"}"#,
            r#"{"kty":"oct","k":"c2VjcmV0"} x"#,
            r#"{"kty":"oct","k":"c2VjcmV0","#,
        ] {
            assert_eq!(parse(value), reference(value), "{value}");
        }
    }

    /// Inputs the reader takes or refuses as before its serde derive was replaced: members
    /// it reads are checked in full and refused when repeated; others are only skipped
    /// (JSON syntax checked), even where jwt-compact, which buffers them, would refuse.
    #[test]
    fn reads_jwks_as_before() {
        let deep = alloc::format!(
            r#"{{"kty":"oct","k":"c2VjcmV0","z":{}{}}}"#,
            "[".repeat(300),
            "]".repeat(300)
        );
        for (value, accepted) in [
            (r#" {"kty":"oct","k":"c2VjcmV0"} "#, true),
            (r#"{"kt\u0079":"oct","\u006b":"c2VjcmV0"}"#, true),
            (r#"{"kty":"oct","k":"c2VjcmV0","kid":"a","kid":"b"}"#, true),
            (r#"{"kty":"oct","k":"c2VjcmV0","d":null,"n":null}"#, true),
            (r#"{"kty":"oct","k":"c2VjcmV0","z":1e400}"#, true),
            (r#"{"kty":"oct","k":"c2VjcmV0","z":"\ud800"}"#, true),
            (deep.as_str(), true),
            (r#"{"kty":"oct","k":"c2VjcmV0","k":"c2VjcmV0"}"#, false),
            (r#"{"kty":"oct","kty":"oct","k":"c2VjcmV0"}"#, false),
            (r#"{"kty":"oct","k":"c2VjcmV0","n":null,"n":null}"#, false),
            (r#"{"kty":"oct","k":"c2VjcmV0","n":5}"#, false),
            (r#"{"kty":"oct","k":"c2VjcmV0","x":"\ud800"}"#, false),
            (r#"{"kty":"oct","k":"c2VjcmV0","z":01}"#, false),
            (r#"{"kty":"oct","k":"c2VjcmV0"}{}"#, false),
            (r#"["oct"]"#, false),
            (r#""oct""#, false),
            ("null", false),
            ("", false),
        ] {
            assert_eq!(parse(value).is_some(), accepted, "{value}");
        }
    }
}
