//! Request bodies as the issuer parses them (DRF's JSON and form parsers, the 16 KiB limit,
//! Python's JSON error texts, `CharField` validation). Must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (kind, body) = data.split_first().unwrap_or((&0, data));
    let media = match kind % 4 {
        0 => "application/json",
        1 => "application/x-www-form-urlencoded",
        2 => "application/json; charset=utf-8",
        _ => "text/plain",
    };
    edgejwt_worker::fuzzing::body(media, body);
});
