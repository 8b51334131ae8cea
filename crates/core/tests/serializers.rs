//! The token views' two-step decisions (decode → storage → decide): which error wins, what
//! storage is asked, and what is left to write. These rules were written three times in
//! the worker before; here they are tested once, in the core.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail by panicking"
)]

mod common;

use common::{backend, jti, HMAC_KEY, NOW};
use edgejwt_core::{
    serializers::{self, BlacklistStorage, RefreshStorage},
    Account, Algorithm, AuthenticationError, Child, Found, Settings, Token, TokenBackend,
    TokenError, TokenType, TokenViewError, UserKey,
};

fn setup(rotate: bool, blacklist: bool) -> (Settings, TokenBackend) {
    let (mut settings, _) = backend(Algorithm::Hs256, HMAC_KEY, None);
    settings.rotate_refresh_tokens = rotate;
    settings.blacklist_after_rotation = blacklist;
    let backend = TokenBackend::from_settings(&settings).unwrap();
    (settings, backend)
}

fn encode(backend: &TokenBackend, token: &Token) -> String {
    backend.encode(token.payload()).unwrap()
}

fn alice(active: bool) -> Option<Account> {
    Some(Account {
        id: 1,
        username: "alice".into(),
        is_active: active,
        ..Default::default()
    })
}

fn refresh_token(settings: &Settings, user: &str) -> Token {
    let mut t = Token::for_user(TokenType::Refresh, user, settings, NOW, jti(1));
    t.payload_mut().insert("sid", "session-1");
    t
}

#[test]
fn rotation_is_one_atomic_write_and_a_lost_race_is_blacklisted() {
    let (settings, backend) = setup(true, true);
    let raw = encode(&backend, &refresh_token(&settings, "1"));
    let plan = serializers::refresh(&raw, &backend, &settings, NOW + 1, jti(2), jti(3)).unwrap();
    let RefreshStorage::Rotate {
        old,
        new,
        user,
        require_active,
    } = plan.storage(&settings)
    else {
        panic!("rotation with blacklisting must be atomic");
    };
    assert_eq!(old.jti, jti(1).as_str());
    assert_eq!(new.jti, jti(3).as_str());
    assert_eq!(user, Some(&UserKey::Id(1)));
    assert!(require_active);

    let won = Found {
        user: alice(true),
        child: Some(Child {
            jti: jti(3).as_str().into(),
            created_at: NOW + 1,
            expires_at: NOW + 1 + 86_400,
            blacklisted: false,
        }),
        ..Default::default()
    };
    let out = serializers::refresh(&raw, &backend, &settings, NOW + 1, jti(2), jti(3))
        .unwrap()
        .decide(won.clone(), Some(true), &settings)
        .unwrap();
    assert!(out.outstanding.is_none(), "the rotation recorded it");
    assert_eq!(out.revoke, None, "no verifier accepts refresh tokens");
    // Verifiers that accept refresh tokens learn of the rotated-out one.
    let mut accepting = settings.clone();
    accepting.auth_token_classes = vec![TokenType::Access, TokenType::Refresh];
    let out = serializers::refresh(&raw, &backend, &accepting, NOW + 1, jti(2), jti(3))
        .unwrap()
        .decide(won.clone(), Some(true), &accepting)
        .unwrap();
    assert_eq!(out.revoke.unwrap().key, format!("revoked:{}", jti(1)));
    // A lost race inside the reuse interval gets the winner's child (same jti and exp).
    let lost = serializers::refresh(&raw, &backend, &settings, NOW + 2, jti(4), jti(5))
        .unwrap()
        .decide(won.clone(), Some(false), &settings)
        .unwrap();
    let child = lost.refresh.unwrap();
    assert_eq!(child.jti(&settings), Some(jti(3).as_str()));
    assert_eq!(child.exp(), Some(NOW + 1 + 86_400));
    assert!(lost.revoke.is_none() && lost.outstanding.is_none());
    // … and outside it, reuse: "Token is blacklisted", and the session must end.
    let late = NOW + 1 + 11;
    let plan = serializers::refresh(&raw, &backend, &settings, late, jti(4), jti(5)).unwrap();
    assert_eq!(
        plan.reuse_detected(&won, Some(false), &settings),
        Some("session-1")
    );
    assert_eq!(
        plan.decide(won.clone(), Some(false), &settings)
            .unwrap_err(),
        TokenViewError::Token(TokenError::Blacklisted)
    );
    // A child that was itself rotated: reuse even inside the interval.
    let mut used = won.clone();
    if let Some(child) = used.child.as_mut() {
        child.blacklisted = true;
    }
    let plan = serializers::refresh(&raw, &backend, &settings, NOW + 2, jti(4), jti(5)).unwrap();
    assert_eq!(
        plan.reuse_detected(&used, Some(false), &settings),
        Some("session-1")
    );
    // No child: a logged-out (not rotated) token is only blacklisted.
    let logged_out = Found {
        blacklisted: true,
        user: alice(true),
        ..Default::default()
    };
    let plan = serializers::refresh(&raw, &backend, &settings, NOW + 2, jti(4), jti(5)).unwrap();
    assert_eq!(
        plan.reuse_detected(&logged_out, Some(false), &settings),
        None
    );
    assert_eq!(plan.unmirrored_session(&logged_out), None);
    // A session ended already is not ended again; one whose KV write is pending is told.
    let ended = Found {
        session_revoked: true,
        ..won.clone()
    };
    assert_eq!(plan.reuse_detected(&ended, Some(false), &settings), None);
    assert_eq!(plan.unmirrored_session(&ended), None);
    let unmirrored = Found {
        session_unmirrored: true,
        ..ended
    };
    assert_eq!(plan.unmirrored_session(&unmirrored), Some("session-1"));
}

#[test]
fn blacklisted_beats_every_error_after_decoding_and_the_user_comes_last() {
    let (settings, backend) = setup(true, true);
    // An access token at the refresh view: wrong type, unless blacklisted.
    let access = Token::for_user(TokenType::Access, "1", &settings, NOW, jti(1));
    let raw = encode(&backend, &access);
    let decide = |found: Found| {
        let plan = serializers::refresh(&raw, &backend, &settings, NOW, jti(2), jti(3)).unwrap();
        let RefreshStorage::Lookup(lookups) = plan.storage(&settings) else {
            panic!("an invalid token is never rotated");
        };
        assert_eq!(lookups.blacklisted, Some(jti(1).as_str()));
        assert_eq!(
            lookups.user, None,
            "no user lookup for a token that fails anyway"
        );
        plan.decide(found, None, &settings).unwrap_err()
    };
    assert_eq!(decide(Found::default()), TokenError::WrongType.into());
    assert_eq!(
        decide(Found {
            blacklisted: true,
            ..Default::default()
        }),
        TokenError::Blacklisted.into()
    );

    // An inactive user: "No active account found for the given token.", unless blacklisted.
    let raw = encode(&backend, &refresh_token(&settings, "1"));
    let inactive = |blacklisted| {
        serializers::refresh(&raw, &backend, &settings, NOW, jti(2), jti(3))
            .unwrap()
            .decide(
                Found {
                    blacklisted,
                    user: alice(false),
                    ..Default::default()
                },
                Some(false),
                &settings,
            )
            .unwrap_err()
    };
    assert_eq!(
        inactive(false),
        AuthenticationError::NoActiveAccountForToken.into()
    );
    assert_eq!(inactive(true), TokenError::Blacklisted.into());

    // A user id claim that names no user (not a string or number; an id that is no number).
    for user_id in [serde_json::json!({"id": 1}), serde_json::json!("alice")] {
        let mut t = refresh_token(&settings, "1");
        t.payload_mut().insert("user_id", user_id);
        let raw = encode(&backend, &t);
        let err = serializers::refresh(&raw, &backend, &settings, NOW, jti(2), jti(3))
            .unwrap()
            .decide(Found::default(), None, &settings)
            .unwrap_err();
        assert_eq!(err, AuthenticationError::NoActiveAccountForToken.into());
    }
}

#[test]
fn refresh_without_blacklisting_leaves_the_new_token_to_record() {
    let (settings, backend) = setup(true, false);
    let raw = encode(&backend, &refresh_token(&settings, "1"));
    let plan = serializers::refresh(&raw, &backend, &settings, NOW, jti(2), jti(3)).unwrap();
    let RefreshStorage::Lookup(lookups) = plan.storage(&settings) else {
        panic!("no atomic rotation without blacklisting");
    };
    // The session is looked up, so that one ended with its KV write pending is written.
    assert_eq!(lookups.session, Some("session-1"));
    let ended = Found {
        blacklisted: true,
        session_revoked: true,
        session_unmirrored: true,
        ..Default::default()
    };
    assert_eq!(plan.unmirrored_session(&ended), Some("session-1"));
    let out = plan
        .decide(
            Found {
                user: alice(true),
                ..Default::default()
            },
            None,
            &settings,
        )
        .unwrap();
    assert_eq!(out.outstanding.unwrap().jti, jti(3).as_str());
    assert!(out.revoke.is_none() && out.blacklist.is_none());
}

#[test]
fn logout_orders_its_revocations_again_when_repeated() {
    let (settings, backend) = setup(true, true);
    let raw = encode(&backend, &refresh_token(&settings, "1"));
    let plan = serializers::blacklist(&raw, &backend, &settings, NOW).unwrap();
    assert!(matches!(plan.storage(), BlacklistStorage::Blacklist(_)));
    let first = plan.decide(Found::default(), Some(true));
    assert!(first.answer.is_ok());
    let keys: Vec<_> = first.revoke.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(
        keys,
        [format!("revoked:{}", jti(1)).as_str(), "revoked:session-1"]
    );
    // The session's revocation outlives the refresh token by an access lifetime at most.
    assert_eq!(first.revoke[1].until, (NOW + 86_400).max(NOW + 300));

    // Blacklisted already (the retry of a logout whose KV write failed): simplejwt's 401,
    // and the same idempotent revocations.
    let again = serializers::blacklist(&raw, &backend, &settings, NOW)
        .unwrap()
        .decide(Found::default(), Some(false));
    assert_eq!(again.answer.unwrap_err(), TokenError::Blacklisted.into());
    assert_eq!(again.revoke, first.revoke);

    // A token refused for another reason orders nothing.
    let access = encode(
        &backend,
        &Token::for_user(TokenType::Access, "1", &settings, NOW, jti(4)),
    );
    let plan = serializers::blacklist(&access, &backend, &settings, NOW).unwrap();
    let BlacklistStorage::Lookup(lookups) = plan.storage() else {
        panic!("no write for an invalid token")
    };
    assert_eq!(lookups.blacklisted, Some(jti(4).as_str()));
    let out = plan.decide(Found::default(), None);
    assert_eq!(out.answer.unwrap_err(), TokenError::WrongType.into());
    assert!(out.revoke.is_empty());
}

#[test]
fn verify_checks_the_blacklist_last_and_answers_400() {
    let (settings, backend) = setup(true, true);
    let raw = encode(&backend, &refresh_token(&settings, "1"));
    let plan = serializers::verify(&raw, &backend, &settings, NOW).unwrap();
    assert_eq!(plan.lookups().blacklisted, Some(jti(1).as_str()));
    assert_eq!(
        plan.decide(Found {
            blacklisted: true,
            ..Default::default()
        }),
        Err(TokenViewError::NonField("Token is blacklisted"))
    );
    // Access tokens are never outstanding: no lookup.
    let access = encode(
        &backend,
        &Token::for_user(TokenType::Access, "1", &settings, NOW, jti(2)),
    );
    let plan = serializers::verify(&access, &backend, &settings, NOW).unwrap();
    assert_eq!(plan.lookups().blacklisted, None);
    // Without BLACKLIST_AFTER_ROTATION simplejwt does not look.
    let (settings, backend) = setup(true, false);
    let plan = serializers::verify(&raw, &backend, &settings, NOW).unwrap();
    assert_eq!(plan.lookups().blacklisted, None);
}

#[test]
fn login_is_one_error_for_unknown_wrong_and_inactive() {
    struct U(bool);
    impl edgejwt_core::User for U {
        fn id(&self) -> i64 {
            1
        }
        fn username(&self) -> &str {
            "alice"
        }
        fn is_active(&self) -> bool {
            self.0
        }
        fn claim(&self, _: &str) -> Option<serde_json::Value> {
            None
        }
    }
    let no = AuthenticationError::NoActiveAccount;
    assert_eq!(serializers::login(None::<U>, true).err(), Some(no.clone()));
    assert_eq!(
        serializers::login(Some(U(true)), false).err(),
        Some(no.clone())
    );
    assert_eq!(serializers::login(Some(U(false)), true).err(), Some(no));
    assert!(serializers::login(Some(U(true)), true).is_ok());
}

#[test]
fn claim_settings_cannot_overwrite_token_claims() {
    let mut settings = Settings::default();
    for (name, value) in [
        ("TOKEN_CLAIMS", "email,user_id"),
        ("TOKEN_CLAIMS", "token_type"),
        ("TOKEN_CLAIMS", "jti"),
        ("TOKEN_CLAIMS", "exp"),
        ("TOKEN_CLAIMS", "sid"),
        ("SESSION_CLAIM", "user_id"),
        ("SESSION_CLAIM", "iat"),
    ] {
        let mut s = settings.clone();
        s.set(name, value).unwrap();
        let err = s.check().unwrap_err();
        assert_eq!(err.setting, name, "{name}={value}");
    }
    assert_eq!(
        settings.set("USER_ID_FIELD", "email").unwrap_err().setting,
        "USER_ID_FIELD"
    );
    settings.set("TOKEN_CLAIMS", "email,roles").unwrap();
    settings.set("SESSION_CLAIM", "").unwrap();
    assert!(settings.check().is_ok());
    assert_eq!(settings.session_claim, None);
}
