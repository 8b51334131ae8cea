//! Property tests: settings parsing, and sign → verify round trips.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail by panicking"
)]

mod common;

use common::{backend, cases, NOW};
use edgejwt_core::{settings::parse_duration, Payload, Settings, TokenError, SETTING_NAMES};
use proptest::prelude::*;
use serde_json::Value;

const UNITS: [(char, u64); 5] = [
    ('s', 1),
    ('m', 60),
    ('h', 3_600),
    ('d', 86_400),
    ('w', 604_800),
];

proptest! {
    #[test]
    fn durations_parse_to_the_sum_of_their_parts(parts in prop::collection::vec((0u64..1_000, 0usize..5), 1..5)) {
        let text: String = parts.iter().map(|(n, u)| format!("{n}{}", UNITS[*u].0)).collect();
        let expected: u64 = parts.iter().map(|(n, u)| n * UNITS[*u].1).sum();
        prop_assert_eq!(parse_duration("ACCESS_TOKEN_LIFETIME", &text), Ok(expected));
        prop_assert_eq!(parse_duration("ACCESS_TOKEN_LIFETIME", &expected.to_string()), Ok(expected));
    }

    #[test]
    fn any_setting_value_is_accepted_or_refused_by_name(name in prop::sample::select(SETTING_NAMES), value in "\\PC{0,40}") {
        let mut settings = Settings::default();
        match settings.set(name, &value) {
            Ok(()) => {}
            Err(err) => {
                prop_assert_eq!(err.setting, name);
                prop_assert!(err.to_string().contains(name));
            }
        }
    }

    #[test]
    fn sign_then_verify_returns_the_same_claims(
        user in "[0-9]{1,12}",
        extra in prop::collection::btree_map("[a-z_]{1,12}", prop_oneof![
            any::<i64>().prop_map(Value::from),
            "\\PC{0,20}".prop_map(Value::from),
            any::<bool>().prop_map(Value::from),
        ], 0..6),
        case_index in 0usize..cases().len(),
        flip in any::<prop::sample::Index>(),
    ) {
        let case = &cases()[case_index];
        let (_, backend) = backend(case.alg, case.signing, case.verifying);
        let mut payload = Payload::default();
        for (k, v) in extra {
            if !["exp", "iat", "nbf", "aud", "iss", "jti", "sub"].contains(&k.as_str()) {
                payload.insert(k, v);
            }
        }
        payload.insert("user_id", user);
        payload.insert("exp", NOW + 60);
        payload.insert("iat", NOW);
        let token = backend.encode(&payload).unwrap();
        prop_assert_eq!(&backend.decode(&token, NOW).unwrap(), &payload);

        // Any single changed character makes the token invalid (or, at most, identical
        // after base64 canonicalisation of trailing bits, which must still verify the same).
        let bytes = token.as_bytes();
        let i = flip.index(bytes.len());
        let replacement = if bytes[i] == b'A' { 'B' } else { 'A' };
        let mut tampered = token.clone();
        tampered.replace_range(i..=i, &replacement.to_string());
        match backend.decode(&tampered, NOW) {
            Err(TokenError::Invalid(_)) => {}
            Ok(p) => prop_assert_eq!(p, payload, "tampered token verified with other claims"),
            Err(other) => prop_assert!(false, "unexpected error {other:?}"),
        }
    }
}
