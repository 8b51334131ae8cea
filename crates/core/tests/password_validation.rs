//! Django's default password validators, against Django itself: every case recorded by
//! `scripts/record-django-password-validation.py` (Django 6.1's `validate_password`, re-run
//! it to refresh), then a few cases by hand, each naming the rule it pins (their answers
//! were checked against the same Django).

#![cfg(feature = "password-validation")]
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail by panicking"
)]

use edgejwt_core::{
    validate_password, PasswordError, UserAttribute, UserAttributes, MAX_SIMILARITY, MIN_LENGTH,
};
use serde_json::Value;

const FIXTURE: &str = include_str!("fixtures/django-password-validation.json");

fn messages(password: &str, user: &UserAttributes<'_>) -> Vec<String> {
    match validate_password(password, user) {
        Ok(()) => vec![],
        Err(errors) => errors.iter().map(|e| e.message().into_owned()).collect(),
    }
}

fn codes(password: &str, user: &UserAttributes<'_>) -> Vec<&'static str> {
    validate_password(password, user)
        .err()
        .unwrap_or_default()
        .iter()
        .map(|e| e.code())
        .collect()
}

#[test]
fn every_recorded_django_case_matches() {
    let fixture: Value = serde_json::from_str(FIXTURE).unwrap();
    let users = fixture["users"].as_object().unwrap();
    let cases = fixture["cases"].as_array().unwrap();
    assert!(cases.len() >= 200, "only {} recorded cases", cases.len());
    let mut mismatches = vec![];
    for case in cases {
        let user = &users[case["user"].as_str().unwrap()];
        let field = |name: &str| user[name].as_str().unwrap();
        let attributes = UserAttributes {
            username: field("username"),
            first_name: field("first_name"),
            last_name: field("last_name"),
            email: field("email"),
        };
        let password = case["password"].as_str().unwrap();
        let expected: Vec<&str> = case["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m.as_str().unwrap())
            .collect();
        let expected_codes: Vec<&str> = case["codes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m.as_str().unwrap())
            .collect();
        let got = messages(password, &attributes);
        let got_codes = codes(password, &attributes);
        if got != expected || got_codes != expected_codes {
            mismatches.push(format!(
                "user {} password {password:?}: Django {expected:?} {expected_codes:?}, ours {got:?} {got_codes:?}",
                case["user"]
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} cases differ from Django:\n{}",
        mismatches.len(),
        cases.len(),
        mismatches.join("\n")
    );
}

#[test]
fn defaults_are_djangos() {
    assert_eq!(MIN_LENGTH, 8);
    assert!((MAX_SIMILARITY - 0.7).abs() < f64::EPSILON);
}

#[test]
fn messages_come_in_djangos_validator_order() {
    let nobody = UserAttributes::default();
    // Short, common and numeric at once: length, then common, then numeric.
    assert_eq!(
        messages("123456", &nobody),
        [
            "This password is too short. It must contain at least 8 characters.",
            "This password is too common.",
            "This password is entirely numeric.",
        ]
    );
    // Similarity comes first.
    let user = UserAttributes {
        username: "zorbq",
        ..UserAttributes::default()
    };
    assert_eq!(
        codes("zorbq", &user),
        ["password_too_similar", "password_too_short"]
    );
}

#[test]
fn only_the_first_similar_attribute_is_reported() {
    // Django raises at the first attribute over max_similarity: username before email.
    let user = UserAttributes {
        username: "quillonby",
        email: "quillonby@example.com",
        ..UserAttributes::default()
    };
    assert_eq!(
        validate_password("quillonby", &user),
        Err(vec![PasswordError::TooSimilar(UserAttribute::Username)])
    );
}

#[test]
fn similarity_checks_each_part_of_the_email() {
    // "example" is a \W+-separated part of the email; the whole address is far longer.
    let user = UserAttributes {
        email: "someone@example.com",
        ..UserAttributes::default()
    };
    assert_eq!(
        messages("Example12", &user),
        ["The password is too similar to the email address."]
    );
}

#[test]
fn similarity_is_quick_ratio_so_order_does_not_matter() {
    // quick_ratio compares multisets of characters: a reversed username is as similar.
    let user = UserAttributes {
        first_name: "Margaret",
        ..UserAttributes::default()
    };
    assert_eq!(
        messages("teragram", &user),
        ["The password is too similar to the first name."]
    );
}

#[test]
fn common_check_lowercases_and_strips_like_python() {
    let nobody = UserAttributes::default();
    for password in [
        "PASSWORD",
        " password\t",
        "\u{3000}password",
        "\u{1c}password",
    ] {
        assert_eq!(
            messages(password, &nobody),
            ["This password is too common."],
            "{password:?}"
        );
    }
    // U+200B is not whitespace to Python's strip().
    assert_eq!(messages("\u{200b}password", &nobody), Vec::<String>::new());
}

#[test]
fn numeric_is_pythons_isdigit() {
    let nobody = UserAttributes::default();
    assert_eq!(codes("٣١٤١٥٩٢٦", &nobody), ["password_entirely_numeric"]);
    assert_eq!(codes("²³⁴⁵⁶⁷⁸⁹", &nobody), ["password_entirely_numeric"]);
    // Vulgar fractions are numeric but not digits.
    assert_eq!(codes("½½½½½½½½", &nobody), Vec::<&str>::new());
}

#[test]
fn length_counts_code_points_not_bytes() {
    let nobody = UserAttributes::default();
    assert_eq!(codes("ééééééé", &nobody), ["password_too_short"]);
    assert_eq!(codes("éééééééé", &nobody), Vec::<&str>::new());
}

#[test]
fn too_short_message_uses_djangos_plural() {
    assert_eq!(
        PasswordError::TooShort { min_length: 1 }.message(),
        "This password is too short. It must contain at least 1 character."
    );
    assert_eq!(
        PasswordError::TooShort { min_length: 12 }.to_string(),
        "This password is too short. It must contain at least 12 characters."
    );
}
