//! Arbitrary header and claims JSON, correctly signed (HS256): everything after the signature
//! check — claim types and ranges (`exp`, `iat`, `nbf` huge, negative, fractional or not
//! numbers), `aud`/`iss`, `crit`, the token types, authentication's two steps, rotation.
//! Must never panic.
#![no_main]

use std::sync::OnceLock;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use edgejwt_core::{
    authenticate, refresh, stateless_user_id, Found, Jti, Settings, Token, TokenBackend, TokenType,
};
use hmac::{Hmac, Mac};
use libfuzzer_sys::fuzz_target;
use sha2::Sha256;

#[path = "common.rs"]
mod common;

const NOW: i64 = 1_700_000_000;

/// The 16 settings the flags choose among, built once: loading settings per input made this
/// target five times slower without reaching more of the code it is for.
static VARIANTS: OnceLock<Vec<(Settings, TokenBackend)>> = OnceLock::new();

fn variant(flags: u8) -> &'static (Settings, TokenBackend) {
    let variants = VARIANTS.get_or_init(|| {
        (0u8..16)
            .map(|flags| {
                let mut pairs = vec![("SIGNING_KEY", common::HMAC_SECRET)];
                if flags & 1 != 0 {
                    pairs.push(("AUDIENCE", "api"));
                }
                if flags & 2 != 0 {
                    pairs.push(("ISSUER", "edgejwt"));
                }
                if flags & 4 != 0 {
                    pairs.push(("AUTH_TOKEN_CLASSES", "AccessToken,SlidingToken"));
                }
                if flags & 8 != 0 {
                    pairs.push(("CHECK_REVOKE_TOKEN", "true"));
                }
                let settings = common::settings(&pairs);
                let backend = TokenBackend::from_settings(&settings).expect("HS256 backend");
                (settings, backend)
            })
            .collect()
    });
    &variants[usize::from(flags & 15)]
}

fuzz_target!(|data: &[u8]| {
    let [header, claims, flags] = common::fields::<3>(data);
    let (settings, backend) = variant(flags.first().copied().unwrap_or(0));
    // A valid header unless the input brings its own.
    let header = if header.is_empty() {
        br#"{"alg":"HS256","typ":"JWT"}"#.as_slice()
    } else {
        header
    };
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims)
    );
    let mut mac =
        Hmac::<Sha256>::new_from_slice(common::HMAC_SECRET.as_bytes()).expect("any key length");
    mac.update(input.as_bytes());
    let token = format!(
        "{input}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    );
    if let Ok(payload) = backend.decode(&token, NOW) {
        for t in [TokenType::Access, TokenType::Refresh, TokenType::Sliding] {
            if let Ok(verified) = Token::verify(t, payload.clone(), settings, NOW) {
                let _ = verified.user_id(settings);
                let _ = stateless_user_id(verified.payload(), settings);
                if t == TokenType::Refresh {
                    let out = refresh(
                        &verified,
                        settings,
                        NOW,
                        Jti::from_random_bytes([1; 16]),
                        Jti::from_random_bytes([2; 16]),
                    );
                    let _ = backend.encode(out.access.payload());
                }
            }
        }
    }
    if let Ok(auth) = authenticate(Some(&format!("Bearer {token}")), backend, settings, NOW) {
        let _ = auth.lookups();
        let _ = auth.decide(Found::default(), settings, NOW);
    }
});
