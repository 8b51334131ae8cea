//! Settings from arbitrary `NAME=value` lines: simplejwt's settings (durations, booleans,
//! algorithms, keys as PEM or JWK, header types, claims), the browser settings (cookies,
//! origins, CORS lists, DRF rates) and the token backend built from them. Every bad value
//! must be a `SettingsError`, never a panic. The same text read as a JSON object of
//! settings (the npm package's form) too.
#![no_main]

use edgejwt_core::{browser::BrowserSettings, Settings, TokenBackend};
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let text = common::text(data);
    let pairs: Vec<(&str, &str)> = text.lines().filter_map(|l| l.split_once('=')).collect();
    let lookup = |name: &str| {
        pairs
            .iter()
            .rev()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| (*v).to_owned())
    };
    if let Ok(settings) = Settings::from_lookup(lookup) {
        if let Ok(backend) = TokenBackend::from_settings(&settings) {
            let _ = backend.public_jwk();
        }
        let _ = settings.www_authenticate();
    }
    let _ = BrowserSettings::from_lookup(lookup);
    if let Ok(settings) = Settings::from_json(&text) {
        let _ = TokenBackend::from_settings(&settings);
    }
});
