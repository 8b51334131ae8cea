//! Any string as a token, for every algorithm: decode (signature by the core), the host
//! signature path (`signed_parts` + `decode_checked_by`, as the package's WebCrypto path; the
//! host's verdict "valid" lets arbitrary claims reach claim validation), then every token
//! type's `verify`. Must never panic; a token only verifies if its signature does.
#![no_main]

use std::sync::OnceLock;

use edgejwt_core::{Settings, Token, TokenBackend, TokenType};
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

static BACKENDS: OnceLock<Vec<(Settings, TokenBackend)>> = OnceLock::new();
const NOW: i64 = 1_700_000_000;

fuzz_target!(|data: &[u8]| {
    let Ok(token) = std::str::from_utf8(data) else {
        return;
    };
    for (settings, backend) in BACKENDS.get_or_init(common::backends) {
        if let Ok(payload) = backend.decode(token, NOW) {
            for t in [TokenType::Access, TokenType::Refresh, TokenType::Sliding] {
                let _ = Token::verify(t, payload.clone(), settings, NOW);
            }
        }
        if let Ok(parts) = backend.signed_parts(token) {
            let _ = (
                parts.signing_input.len(),
                parts.signature.len(),
                parts.key_id,
            );
            if let Ok(decoded) = backend.decode_checked_by(token, NOW, |_, _, _| true) {
                // The rules read the claims as signed (a verifier) and as a payload (the
                // issuer) alike: the same verdicts, keys and user from both.
                let payload = decoded.clone().into_payload().expect("decoded claims are a payload");
                assert_eq!(
                    edgejwt_core::revocation_keys(&decoded, settings),
                    edgejwt_core::revocation_keys(&payload, settings)
                );
                assert_eq!(
                    edgejwt_core::stateless_user_id(&decoded, settings),
                    edgejwt_core::stateless_user_id(&payload, settings)
                );
                for t in [TokenType::Access, TokenType::Refresh, TokenType::Sliding] {
                    assert_eq!(
                        Token::check(t, &decoded, settings, NOW),
                        Token::verify(t, payload.clone(), settings, NOW).map(|_| ())
                    );
                }
                assert_eq!(
                    edgejwt_core::validated_type(Ok(&decoded), false, settings, NOW),
                    edgejwt_core::get_validated_token(Ok(payload), false, settings, NOW)
                        .map(|t| t.token_type())
                );
            }
        }
    }
});
