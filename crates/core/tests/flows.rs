//! simplejwt's flows on the core: refresh with and without rotation, sliding refresh,
//! JWTAuthentication, and the wire bodies of each error.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail by panicking"
)]

mod common;

use common::{backend, jti, HMAC_KEY, NOW};
use edgejwt_core::{
    authenticate, refresh, refresh_sliding, Account, Algorithm, AuthenticationError, Found,
    Settings, Token, TokenBackend, TokenError, TokenType,
};

/// The two steps of `JWTAuthentication` with storage's answers: the blacklist says
/// `blacklisted` and user 1 exists and is active. `Ok(None)`: not authenticated.
fn authenticate_with(
    header: Option<&str>,
    backend: &TokenBackend,
    settings: &Settings,
    now: i64,
    blacklisted: bool,
) -> Result<Option<(Token, String)>, AuthenticationError> {
    let plan = match authenticate(header, backend, settings, now) {
        Err(AuthenticationError::NotAuthenticated) => return Ok(None),
        other => other?,
    };
    let user = plan.lookups().user.map(|_| Account {
        id: 1,
        username: "alice".into(),
        is_active: true,
        ..Default::default()
    });
    let found = Found {
        blacklisted: blacklisted && plan.lookups().blacklisted.is_some(),
        user,
        ..Default::default()
    };
    let out = plan.decide(found, settings, now)?;
    Ok(Some((out.token, out.user_id)))
}
use serde_json::json;

#[test]
fn refresh_without_rotation_copies_claims_except_type_exp_jti_iat() {
    let (settings, _) = backend(Algorithm::Hs256, HMAC_KEY, None);
    let mut old = Token::for_user(TokenType::Refresh, "1", &settings, NOW, jti(1));
    old.payload_mut().insert("foo", "bar");
    let out = refresh(&old, &settings, NOW + 100, jti(2), jti(3));
    assert!(out.refresh.is_none() && out.blacklist.is_none());
    let access = out.access.payload();
    assert_eq!(access.get_str("token_type"), Some("access"));
    assert_eq!(access.get_str("foo"), Some("bar"));
    assert_eq!(access.get_str("user_id"), Some("1"));
    assert_eq!(access.get_i64("iat"), Some(NOW + 100));
    assert_eq!(access.get_i64("exp"), Some(NOW + 100 + 300));
    assert_eq!(access.get_str("jti"), Some(jti(2).as_str()));
}

#[test]
fn rotation_names_the_jti_to_blacklist() {
    let (mut settings, _) = backend(Algorithm::Hs256, HMAC_KEY, None);
    settings.rotate_refresh_tokens = true;
    let old = Token::for_user(TokenType::Refresh, "1", &settings, NOW, jti(1));
    let out = refresh(&old, &settings, NOW + 10, jti(2), jti(3));
    let new = out.refresh.unwrap();
    assert_eq!(new.jti(&settings), Some(jti(3).as_str()));
    assert_eq!(new.exp(), Some(NOW + 10 + 86_400));
    assert_eq!(new.payload().get_str("user_id"), Some("1"));
    assert_eq!(out.blacklist, None, "BLACKLIST_AFTER_ROTATION is off");

    settings.blacklist_after_rotation = true;
    let old_token = old;
    let out = refresh(&old_token, &settings, NOW + 10, jti(2), jti(3));
    let old = out.blacklist.unwrap();
    assert_eq!(
        (old.jti.as_str(), old.expires_at),
        (jti(1).as_str(), NOW + 86_400)
    );
    // Verifiers that accept access tokens only never read a refresh token's jti: no KV write.
    assert_eq!(out.revoke, None);
    settings.auth_token_classes = vec![TokenType::Access, TokenType::Refresh];
    let revoke = refresh(&old_token, &settings, NOW + 10, jti(2), jti(3))
        .revoke
        .unwrap();
    assert_eq!(
        (revoke.key, revoke.until),
        (format!("revoked:{}", jti(1)), NOW + 86_400)
    );
}

#[test]
fn sliding_refresh_keeps_jti_and_respects_refresh_exp() {
    let (settings, backend) = backend(Algorithm::Hs256, HMAC_KEY, None);
    let token = Token::for_user(TokenType::Sliding, "1", &settings, NOW, jti(4));
    assert_eq!(token.payload().get_i64("refresh_exp"), Some(NOW + 86_400));
    let later = NOW + 200;
    let payload = backend
        .decode(&backend.encode(token.payload()).unwrap(), later)
        .unwrap();
    let verified = Token::verify(TokenType::Sliding, payload, &settings, later).unwrap();
    let refreshed = refresh_sliding(verified, &settings, later).unwrap();
    assert_eq!(refreshed.jti(&settings), Some(jti(4).as_str()));
    assert_eq!(refreshed.exp(), Some(later + 300));
    assert_eq!(
        refreshed.payload().get_i64("refresh_exp"),
        Some(NOW + 86_400)
    );

    // refresh_exp passed (simulated with a token whose exp is still ahead).
    let mut stale = token.clone();
    stale.payload_mut().insert("refresh_exp", NOW - 1);
    let err = refresh_sliding(stale, &settings, NOW).unwrap_err();
    assert_eq!(err.detail(), "Token 'refresh_exp' claim has expired");
    let mut missing = token;
    missing.payload_mut().remove("refresh_exp");
    let err = refresh_sliding(missing, &settings, NOW).unwrap_err();
    assert_eq!(err.detail(), "Token has no 'refresh_exp' claim");
}

#[test]
fn authentication_matches_simplejwt() {
    let (mut settings, backend) = backend(Algorithm::Hs256, HMAC_KEY, None);
    let access = backend
        .encode(Token::for_user(TokenType::Access, "1", &settings, NOW, jti(1)).payload())
        .unwrap();
    let refresh = backend
        .encode(Token::for_user(TokenType::Refresh, "1", &settings, NOW, jti(2)).payload())
        .unwrap();
    let auth = |header: &str, settings: &edgejwt_core::Settings| {
        authenticate_with(Some(header), &backend, settings, NOW + 1, false)
    };

    let (token, user) = auth(&format!("Bearer {access}"), &settings)
        .unwrap()
        .unwrap();
    assert_eq!(
        (token.token_type(), user.as_str()),
        (TokenType::Access, "1")
    );
    // Tabs and repeated spaces are whitespace to Python's split().
    assert!(auth(&format!("Bearer \t {access}  "), &settings)
        .unwrap()
        .is_some());
    // Not ours: no header, another scheme, lowercase scheme.
    assert_eq!(
        authenticate_with(None, &backend, &settings, NOW, false),
        Ok(None)
    );
    assert_eq!(auth("Token x", &settings), Ok(None));
    assert_eq!(auth(&format!("bearer {access}"), &settings), Ok(None));
    assert_eq!(auth("", &settings), Ok(None));
    // Ours but malformed.
    for header in ["Bearer", "Bearer a b"] {
        let err = auth(header, &settings).unwrap_err();
        assert_eq!(
            serde_json::to_value(err.to_body()).unwrap(),
            json!({"detail": "Authorization header must contain two space-delimited values", "code": "bad_authorization_header"})
        );
    }
    // A refresh token where an access token is required.
    let err = auth(&format!("Bearer {refresh}"), &settings).unwrap_err();
    assert_eq!(
        serde_json::to_value(err.to_body()).unwrap(),
        json!({"detail": "Given token not valid for any token type", "code": "token_not_valid",
               "messages": [{"token_class": "AccessToken", "token_type": "access", "message": "Token has wrong type"}]})
    );
    // Expired.
    let err = authenticate_with(
        Some(&format!("Bearer {access}")),
        &backend,
        &settings,
        NOW + 300,
        false,
    )
    .unwrap_err();
    let AuthenticationError::InvalidToken(messages) = err else {
        panic!()
    };
    assert_eq!(messages[0].error, TokenError::Expired);

    // AUTH_TOKEN_CLASSES with sliding tokens consults the blacklist; one message per class.
    settings
        .set("AUTH_TOKEN_CLASSES", "AccessToken,SlidingToken")
        .unwrap();
    settings.set("AUTH_HEADER_TYPES", "Bearer,JWT").unwrap();
    let sliding = backend
        .encode(Token::for_user(TokenType::Sliding, "1", &settings, NOW, jti(3)).payload())
        .unwrap();
    assert!(auth(&format!("JWT {sliding}"), &settings)
        .unwrap()
        .is_some());
    let err = authenticate_with(
        Some(&format!("JWT {sliding}")),
        &backend,
        &settings,
        NOW + 1,
        true,
    )
    .unwrap_err();
    let body = serde_json::to_value(err.to_body()).unwrap();
    assert_eq!(
        body["messages"][0]["message"],
        json!("Token has wrong type")
    );
    assert_eq!(
        body["messages"][1],
        json!({"token_class": "SlidingToken", "token_type": "sliding", "message": "Token is blacklisted"})
    );

    // No user id claim.
    let mut anonymous = Token::new(TokenType::Access, &settings, NOW, jti(5));
    anonymous.payload_mut().insert("sub", "x");
    let t = backend.encode(anonymous.payload()).unwrap();
    let err = auth(&format!("Bearer {t}"), &settings).unwrap_err();
    assert_eq!(
        serde_json::to_value(err.to_body()).unwrap(),
        json!({"detail": "Token contained no recognizable user identification", "code": "token_not_valid"})
    );
}

#[test]
fn error_bodies_are_simplejwt_bodies() {
    let body = |e: TokenError| serde_json::to_value(e.to_body()).unwrap();
    assert_eq!(
        body(TokenError::Blacklisted),
        json!({"detail": "Token is blacklisted", "code": "token_not_valid"})
    );
    assert_eq!(
        body(TokenError::WrongType),
        json!({"detail": "Token has wrong type", "code": "token_not_valid"})
    );
    assert_eq!(
        body(TokenError::NoId),
        json!({"detail": "Token has no id", "code": "token_not_valid"})
    );
    let auth = |e: AuthenticationError| serde_json::to_value(e.to_body()).unwrap();
    assert_eq!(
        auth(AuthenticationError::NoActiveAccount),
        json!({"detail": "No active account found with the given credentials"})
    );
    assert_eq!(
        auth(AuthenticationError::NoActiveAccountForToken),
        json!({"detail": "No active account found for the given token."})
    );
    assert_eq!(
        auth(AuthenticationError::NotAuthenticated),
        json!({"detail": "Authentication credentials were not provided."})
    );
    assert_eq!(
        auth(AuthenticationError::UserInactive),
        json!({"detail": "User is inactive", "code": "user_inactive"})
    );
    assert_eq!(
        auth(AuthenticationError::UserNotFound),
        json!({"detail": "User not found", "code": "user_not_found"})
    );
}

#[test]
fn audience_issuer_and_leeway() {
    let (mut settings, _) = backend(Algorithm::Hs256, HMAC_KEY, None);
    settings.set("AUDIENCE", "api.example").unwrap();
    settings.set("ISSUER", "https://issuer.example").unwrap();
    settings.set("LEEWAY", "30").unwrap();
    let b = edgejwt_core::TokenBackend::from_settings(&settings).unwrap();
    let t = b
        .encode(Token::for_user(TokenType::Access, "1", &settings, NOW, jti(1)).payload())
        .unwrap();
    let p = b.decode(&t, NOW + 300 + 29).unwrap();
    assert_eq!(p.get_str("aud"), Some("api.example"));
    assert_eq!(p.get_str("iss"), Some("https://issuer.example"));
    assert_eq!(b.decode(&t, NOW + 300 + 30), Err(TokenError::Expired));
    // iat in the future beyond leeway is invalid.
    assert!(matches!(
        b.decode(&t, NOW - 31),
        Err(TokenError::Invalid(_))
    ));
    assert!(b.decode(&t, NOW - 30).is_ok());

    // A backend expecting another audience or issuer refuses it; one without accepts it.
    for (name, value) in [("AUDIENCE", "other"), ("ISSUER", "https://evil.example")] {
        let mut s = settings.clone();
        s.set(name, value).unwrap();
        let other = edgejwt_core::TokenBackend::from_settings(&s).unwrap();
        assert!(
            matches!(other.decode(&t, NOW), Err(TokenError::Invalid(_))),
            "{name}"
        );
    }
    let (_, plain) = backend(Algorithm::Hs256, HMAC_KEY, None);
    assert!(plain.decode(&t, NOW).is_ok());
}
