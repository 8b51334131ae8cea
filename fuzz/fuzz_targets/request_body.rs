//! Request bodies as the issuer parses them (DRF's JSON and form parsers, Python's JSON error
//! texts, `CharField` validation), from the issuer's own source file. Must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../crates/worker/src/parse.rs"]
#[allow(dead_code)]
mod parse;

/// The issuer's body limit (crates/worker/src/config.rs).
const MAX_BODY_BYTES: usize = 16 * 1024;

fuzz_target!(|data: &[u8]| {
    let (kind, body) = data.split_first().unwrap_or((&0, data));
    if body.len() > MAX_BODY_BYTES {
        return;
    }
    let media = match kind % 4 {
        0 => "application/json",
        1 => "application/x-www-form-urlencoded",
        2 => "application/json; charset=utf-8",
        _ => "text/plain",
    };
    if let Some(Ok(data)) = parse::parse_body(media, body) {
        let _ = parse::char_fields(&data, ["username", "password"]);
        let _ = parse::char_fields(&data, ["refresh"]);
    }
});
