//! Any `Authorization` header value under several `AUTH_HEADER_TYPES`: simplejwt's header
//! parsing, then authentication's first step. Must never panic.
#![no_main]

use std::sync::OnceLock;

use edgejwt_core::{authenticate, get_raw_token, Settings, TokenBackend};
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

static SETUP: OnceLock<Vec<(Settings, TokenBackend)>> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let header = common::text(data);
    let setups = SETUP.get_or_init(|| {
        ["Bearer", "Bearer,JWT", "Token"]
            .iter()
            .map(|types| {
                let s = common::settings(&[
                    ("SIGNING_KEY", common::HMAC_SECRET),
                    ("AUTH_HEADER_TYPES", types),
                ]);
                let b = TokenBackend::from_settings(&s).expect("backend");
                (s, b)
            })
            .collect()
    });
    for (settings, backend) in setups {
        if let Ok(Some(raw)) = get_raw_token(&header, settings) {
            assert!(header.contains(raw));
        }
        let _ = authenticate(Some(&header), backend, settings, 1_700_000_000)
            .map(|a| a.lookups().blacklisted.map(str::len));
    }
});
