//! Stored Django password fields (`pbkdf2_sha256$…`, `pbkdf2_sha1$…`, other hashers,
//! unusable `!…`, anything): the parser the issuer and the CLI's import share, and the check
//! for cheap hashes. Must never panic; only the right password matches a hash it made.
#![no_main]

use edgejwt_core::password::{check_password, hash_iterations, make_password, StoredPassword};
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let [encoded, password] = common::fields::<2>(data);
    let (encoded, password) = (common::text(encoded), common::text(password));
    let _ = hash_iterations(Some(&encoded));
    match StoredPassword::parse(&encoded) {
        // Only cheap hashes are checked here: a fuzzed cost up to 10,000,000 is the
        // issuer's documented worst case, not a bug.
        StoredPassword::Pbkdf2 { iterations, .. } if iterations <= 1_000 => {
            let _ = check_password(&password, &encoded, 1_000);
        }
        _ => {}
    }
    if !password.is_empty() && password.len() < 256 {
        let made = make_password(&password, "fuzzsalt", 1);
        assert!(check_password(&password, &made, 1).valid);
        assert!(!check_password(&format!("{password}x"), &made, 1).valid);
    }
});
