//! Interop with the real djangorestframework-simplejwt 5.5.1, both directions, from the
//! recording made by `scripts/record-simplejwt-fixtures.py` (re-run it to refresh).

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail by panicking"
)]

mod common;
#[path = "common/mint.rs"]
mod mint;

use edgejwt_core::{
    refresh, AuthenticationError, InvalidReason, Jti, Token, TokenBackend, TokenError, TokenType,
};
use serde_json::{json, Value};

const FIXTURE: &str = include_str!("fixtures/simplejwt-interop.json");

fn fixture() -> Value {
    serde_json::from_str(FIXTURE).unwrap()
}

fn reference_backend() -> (edgejwt_core::Settings, TokenBackend) {
    let settings = mint::reference_settings();
    let backend = TokenBackend::from_settings(&settings).unwrap();
    (settings, backend)
}

fn token_type(name: &str) -> TokenType {
    match name {
        "access" => TokenType::Access,
        "refresh" => TokenType::Refresh,
        "sliding" => TokenType::Sliding,
        other => panic!("unknown type {other}"),
    }
}

/// Every token simplejwt minted verifies in the core with exactly the claims simplejwt
/// wrote (decoded by the recorder, not by us), and only within its lifetime.
#[test]
fn tokens_minted_by_simplejwt_verify_in_the_core() {
    let f = fixture();
    let (settings, backend) = reference_backend();
    let (_, stranger) = common::backend(edgejwt_core::Algorithm::Hs256, common::HMAC_KEY, None);
    let minted = f["reference_minted"].as_object().unwrap();
    assert_eq!(minted.len(), 5);
    for (name, entry) in minted {
        let token = entry["token"].as_str().unwrap();
        let claims = &entry["claims"];
        assert_eq!(
            entry["header"],
            json!({"alg": "HS256", "typ": "JWT"}),
            "{name}"
        );
        let iat = claims["iat"].as_i64().unwrap();
        let exp = claims["exp"].as_i64().unwrap();

        let payload = backend.decode(token, iat).unwrap();
        assert_eq!(Value::Object(payload.as_map().clone()), *claims, "{name}");
        let kind = token_type(claims["token_type"].as_str().unwrap());
        let verified = Token::verify(kind, payload, &settings, iat).unwrap();
        assert_eq!(verified.user_id(&settings).as_deref(), Some("1"), "{name}");
        assert_eq!(claims["jti"].as_str().unwrap().len(), 32);

        assert_eq!(
            backend.decode(token, exp),
            Err(TokenError::Expired),
            "{name}"
        );
        assert_eq!(
            stranger.decode(token, iat),
            Err(TokenError::Invalid(InvalidReason::Signature)),
            "{name}"
        );
    }

    // The core derives from simplejwt's refresh token what simplejwt derives.
    let r = &minted["refresh"];
    let now = r["claims"]["iat"].as_i64().unwrap();
    let payload = backend.decode(r["token"].as_str().unwrap(), now).unwrap();
    let old = Token::verify(TokenType::Refresh, payload, &settings, now).unwrap();
    let out = refresh(
        &old,
        &settings,
        now,
        Jti::from_random_bytes([1; 16]),
        Jti::from_random_bytes([2; 16]),
    );
    let ours = out.access.payload().as_map();
    let theirs = minted["rotated_access"]["claims"].as_object().unwrap();
    let keys = |m: &serde_json::Map<String, Value>| m.keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(ours), keys(theirs));
    assert_eq!(ours["user_id"], theirs["user_id"]);
    assert_eq!(
        theirs["exp"].as_i64().unwrap() - theirs["iat"].as_i64().unwrap(),
        ours["exp"].as_i64().unwrap() - ours["iat"].as_i64().unwrap()
    );
}

/// The core mints, byte for byte, the tokens that simplejwt accepted when recorded, and
/// simplejwt's answers to them are the ones the core's own rules give.
#[test]
fn tokens_minted_by_the_core_were_accepted_by_simplejwt() {
    let f = fixture();
    let (settings, backend) = reference_backend();
    let recorded_at = f["recorded_at"].as_i64().unwrap();
    let core = f["core_minted"].as_object().unwrap();

    for (name, token) in mint::core_tokens(recorded_at) {
        assert_eq!(
            core[name]["token"],
            json!(token),
            "{name}: the core's encoding changed; re-record"
        );
        let verify = &core[name]["reference"][0];
        assert_eq!(
            (verify["path"].as_str(), verify["status"].as_i64()),
            (Some("/api/token/verify/"), Some(200)),
            "{name}"
        );
        assert_eq!(verify["json"], json!({}));
    }

    let protected = &core["access"]["reference"][1];
    assert_eq!(protected["status"], 200);
    assert_eq!(
        protected["json"],
        json!({"user_id": 1, "username": "alice"})
    );
    let inactive = &core["access_inactive_user"]["reference"][1];
    assert_eq!(inactive["status"], 401);
    assert_eq!(
        inactive["json"],
        serde_json::to_value(AuthenticationError::UserInactive.to_body()).unwrap()
    );

    // simplejwt refreshed our refresh token: its new pair verifies in the core and kept our
    // custom claim; reusing ours was refused with the body the core renders.
    let refreshed = &core["refresh"]["reference"][1];
    assert_eq!(
        (refreshed["path"].as_str(), refreshed["status"].as_i64()),
        (Some("/api/token/refresh/"), Some(200))
    );
    for (field, kind) in [
        ("access", TokenType::Access),
        ("refresh", TokenType::Refresh),
    ] {
        let t = refreshed["json"][field].as_str().unwrap();
        assert_eq!(
            backend.decode(t, i64::MAX / 2).err(),
            Some(TokenError::Expired)
        );
        let now = recorded_at + 5;
        let payload = backend.decode(t, now).unwrap();
        assert_eq!(payload.get_str("foo"), Some("bar"), "{field}");
        Token::verify(kind, payload, &settings, now).unwrap();
    }
    let reuse = &core["refresh"]["reference"][2];
    assert_eq!(reuse["status"], 401);
    assert_eq!(
        reuse["json"],
        serde_json::to_value(TokenError::Blacklisted.to_body()).unwrap()
    );

    // simplejwt slid our sliding token: same jti and refresh_exp, new exp.
    let slid = &core["sliding"]["reference"][1];
    assert_eq!(slid["status"], 200);
    let now = recorded_at + 5;
    let payload = backend
        .decode(slid["json"]["token"].as_str().unwrap(), now)
        .unwrap();
    let original = &core["sliding"]["claims"];
    assert_eq!(payload.get("jti"), original.get("jti"));
    assert_eq!(payload.get("refresh_exp"), original.get("refresh_exp"));
    Token::verify(TokenType::Sliding, payload, &settings, now).unwrap();
}
