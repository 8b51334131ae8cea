//! A minimal HS256 verifier built from the core, to measure its wasm size:
//! `scripts/core-wasm-size.sh` builds it for `wasm32-unknown-unknown` and reports raw and gzip.
//! It exports two functions and nothing else; the npm package's bindings live in `crates/wasm`.
#![allow(
    unsafe_code,
    reason = "a C ABI export over linear memory is the point of this probe"
)]

use edgejwt_core::{Settings, Token, TokenBackend, TokenType};

/// Buffer the host writes the token into (no allocator API is exported).
static mut INPUT: [u8; edgejwt_core::MAX_TOKEN_LEN] = [0; edgejwt_core::MAX_TOKEN_LEN];

/// The address of the input buffer.
#[no_mangle]
pub extern "C" fn input_ptr() -> *mut u8 {
    core::ptr::addr_of_mut!(INPUT).cast()
}

/// Verifies `len` bytes of the input buffer as an HS256 access token at `now`;
/// returns 0 when valid, else 1.
#[no_mangle]
pub extern "C" fn verify_access(len: usize, now: i64) -> u32 {
    // SAFETY: single-threaded wasm; the host wrote `len` bytes before calling.
    let input: &[u8] = unsafe { &*core::ptr::addr_of!(INPUT) };
    let Some(bytes) = input.get(..len) else {
        return 1;
    };
    let Ok(token) = core::str::from_utf8(bytes) else {
        return 1;
    };
    let mut settings = Settings::default();
    if settings
        .set(
            "SIGNING_KEY",
            "conformance-reference-signing-key-0123456789abcdef",
        )
        .is_err()
    {
        return 1;
    }
    let Ok(backend) = TokenBackend::from_settings(&settings) else {
        return 1;
    };
    let ok = backend
        .decode(token, now)
        .and_then(|p| Token::verify(TokenType::Access, p, &settings, now))
        .is_ok();
    u32::from(!ok)
}
