//! A fixed HS256 verify loop for instruction counts, repeatable whatever the machine does:
//! `cargo build --release -p edgejwt-core --example verify_loop &&
//!  valgrind --tool=callgrind target/release/examples/verify_loop`
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::print_stdout,
    reason = "a profiling binary"
)]

use edgejwt_core::{validated_type, Jti, Settings, Token, TokenBackend, TokenType};

fn main() {
    let mut s = Settings::default();
    s.set(
        "SIGNING_KEY",
        "edgejwt-bench-hmac-secret-0123456789abcdef-0123456789abcdef",
    )
    .unwrap();
    let backend = TokenBackend::from_settings(&s).unwrap();
    let now = 1_700_000_000;
    let token = Token::for_user(
        TokenType::Access,
        "1",
        &s,
        now,
        Jti::from_random_bytes([7; 16]),
    );
    let encoded = backend.encode(token.payload()).unwrap();
    let mut bytes = 0;
    for _ in 0..20_000 {
        let decoded = backend.decode_verbatim(std::hint::black_box(&encoded), now + 1);
        // What the npm package's verify does: the rules on the claims as signed, JSON out.
        validated_type(decoded.as_ref(), false, &s, now + 1).unwrap();
        bytes += decoded.unwrap().into_claims_json().len();
    }
    println!("{bytes}");
}
