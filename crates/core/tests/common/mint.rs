//! Tokens the core mints for the simplejwt interop fixtures. Shared by the recorder
//! (`examples/mint.rs`) and the test that checks the recording, so both mint the same bytes.

use edgejwt_core::{Jti, Settings, Token, TokenBackend, TokenType};

/// simplejwt reference server's default HS256 key (refsite/settings.py).
pub const REFERENCE_KEY: &str = "conformance-reference-signing-key-0123456789abcdef";

pub fn reference_settings() -> Settings {
    let mut s = Settings::default();
    s.set("SIGNING_KEY", REFERENCE_KEY).expect("valid key");
    s
}

/// (name, encoded token) minted at `now` with fixed ids.
pub fn core_tokens(now: i64) -> Vec<(&'static str, String)> {
    let settings = reference_settings();
    let backend = TokenBackend::from_settings(&settings).expect("valid settings");
    let mint = |token_type, user: &str, id: u8, extra: Option<(&str, &str)>| {
        let mut token = Token::for_user(
            token_type,
            user,
            &settings,
            now,
            Jti::from_random_bytes([id; 16]),
        );
        if let Some((k, v)) = extra {
            token.payload_mut().insert(k, v);
        }
        backend.encode(token.payload()).expect("signs")
    };
    vec![
        ("access", mint(TokenType::Access, "1", 0x11, None)),
        (
            "refresh",
            mint(TokenType::Refresh, "1", 0x12, Some(("foo", "bar"))),
        ),
        ("sliding", mint(TokenType::Sliding, "1", 0x13, None)),
        (
            "access_inactive_user",
            mint(TokenType::Access, "2", 0x14, None),
        ),
    ]
}
