//! `edgejwt inspect TOKEN`: the header and claims (times in UTC and relative to now),
//! and whether the token verifies under the given settings and key, through the core's
//! own decode and verify (its error code and simplejwt's message when it does not).

use std::fmt::Write as _;

use base64ct::{Base64UrlUnpadded, Encoding};
use chrono::DateTime;
use edgejwt_core::{Settings, Token, TokenBackend, TokenError, TokenType};
use serde_json::Value;

use crate::{config::Vars, Error, Result};

/// What the core says of a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// It verifies as the issuer would accept it (the blacklist aside, which is in D1).
    Valid(TokenType),
    /// It does not: the core's error code, simplejwt's message, and the reason.
    Invalid {
        /// The core's stable code (`token_expired`, `token_invalid`, …).
        code: &'static str,
        /// simplejwt's `detail`.
        detail: String,
        /// The core's reason, for the operator.
        reason: String,
    },
    /// It could not be checked (no key, bad settings), and why.
    Unchecked(String),
}

/// The decoded token and the core's verdict.
#[derive(Debug, Clone)]
pub struct Inspection {
    /// The JOSE header.
    pub header: Value,
    /// The claims.
    pub claims: Value,
    /// Whether it verifies.
    pub verdict: Verdict,
}

fn segment(part: Option<&str>, what: &str) -> Result<Value> {
    let part = part.ok_or_else(|| Error::new(format!("not a JWT: no {what} segment")))?;
    let bytes = Base64UrlUnpadded::decode_vec(part)
        .map_err(|_| Error::new(format!("not a JWT: the {what} is not base64url")))?;
    serde_json::from_slice(&bytes)
        .map_err(|_| Error::new(format!("not a JWT: the {what} is not JSON")))
}

/// Decodes `token` and verifies it under `vars` (settings and key) at `now`.
pub fn inspect(token: &str, vars: &Vars, now: i64) -> Result<Inspection> {
    let token = token.trim();
    let mut parts = token.split('.');
    let header = segment(parts.next(), "header")?;
    let claims = segment(parts.next(), "claims")?;
    let verdict = verdict(token, vars, now);
    Ok(Inspection {
        header,
        claims,
        verdict,
    })
}

fn verdict(token: &str, vars: &Vars, now: i64) -> Verdict {
    let settings = match vars.settings() {
        Ok(s) => s,
        Err(e) => return Verdict::Unchecked(format!("the settings are invalid: {e}")),
    };
    if vars.get("SIGNING_KEY").is_none() && vars.get("VERIFYING_KEY").is_none() {
        return Verdict::Unchecked(
            "no key: give --key FILE (the SIGNING_KEY, or a public key) or --secrets .dev.vars"
                .into(),
        );
    }
    let backend = match TokenBackend::from_settings(&settings) {
        Ok(b) => b,
        Err(e) => return Verdict::Unchecked(format!("the key cannot be used: {e}")),
    };
    match check(token, &backend, &settings, now) {
        Ok(token_type) => Verdict::Valid(token_type),
        Err(e) => Verdict::Invalid {
            code: e.code().as_str(),
            detail: e.detail().into_owned(),
            reason: e.to_string(),
        },
    }
}

/// The issuer's checks, in its order: signature and time claims, then the token's type.
fn check(
    token: &str,
    backend: &TokenBackend,
    settings: &Settings,
    now: i64,
) -> Result<TokenType, TokenError> {
    let payload = backend.decode(token, now)?;
    let token_type = payload
        .get_str(&settings.token_type_claim)
        .and_then(TokenType::from_claim)
        .ok_or(TokenError::NoType)?;
    Token::verify(token_type, payload, settings, now)?;
    Ok(token_type)
}

/// `in 4m 12s`, `3h 2m ago`.
pub fn relative(seconds: i64) -> String {
    let abs = seconds.unsigned_abs();
    let units = [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)];
    let mut parts = Vec::new();
    let mut rest = abs;
    for (name, size) in units {
        if rest >= size || (parts.is_empty() && size == 1) {
            parts.push(format!("{}{name}", rest / size));
            rest %= size;
        }
        if parts.len() == 2 {
            break;
        }
    }
    let span = parts.join(" ");
    match seconds {
        0 => "now".into(),
        s if s > 0 => format!("in {span}"),
        _ => format!("{span} ago"),
    }
}

impl Inspection {
    /// The report `inspect` prints. `time_claims` are the claims holding Unix times.
    pub fn render(&self, time_claims: &[&str], now: i64) -> String {
        let mut out = String::new();
        let pretty = |v: &Value| serde_json::to_string_pretty(v).unwrap_or_default();
        let _ = writeln!(out, "header:\n{}", pretty(&self.header));
        let _ = writeln!(out, "claims:\n{}", pretty(&self.claims));
        let mut times = String::new();
        for claim in time_claims {
            if let Some(t) = self.claims.get(*claim).and_then(Value::as_i64) {
                let utc = DateTime::from_timestamp(t, 0).map_or_else(
                    || "out of range".into(),
                    |d| d.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
                );
                let _ = writeln!(times, "  {claim:<12} {utc} ({})", relative(t - now));
            }
        }
        if !times.is_empty() {
            let _ = write!(out, "times:\n{times}");
        }
        let _ = match &self.verdict {
            Verdict::Valid(t) => writeln!(
                out,
                "verifies: yes, a valid {t} token (the blacklist is in D1 and not checked here)"
            ),
            Verdict::Invalid {
                code,
                detail,
                reason,
            } => {
                writeln!(out, "verifies: no ({code}): {detail:?}, {reason}")
            }
            Verdict::Unchecked(why) => writeln!(out, "verifies: not checked: {why}"),
        };
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use edgejwt_core::Jti;

    const KEY: &str = "conformance-reference-signing-key-0123456789abcdef";
    const NOW: i64 = 1_700_000_000;

    fn vars(key: Option<&str>) -> Vars {
        let mut vars = Vars::empty();
        if let Some(key) = key {
            vars.set_secret("SIGNING_KEY", key.into());
        }
        vars
    }

    fn minted(issued: i64) -> String {
        let mut settings = Settings::default();
        settings.set("SIGNING_KEY", KEY).unwrap();
        let backend = TokenBackend::from_settings(&settings).unwrap();
        let token = Token::for_user(
            TokenType::Access,
            "1",
            &settings,
            issued,
            Jti::from_random_bytes([3; 16]),
        );
        backend.encode(token.payload()).unwrap()
    }

    #[test]
    fn valid_expired_tampered_and_wrong_key() {
        let token = minted(NOW);
        let ok = inspect(&token, &vars(Some(KEY)), NOW + 10).unwrap();
        assert_eq!(ok.verdict, Verdict::Valid(TokenType::Access));
        assert_eq!(ok.claims["user_id"], "1");
        let text = ok.render(&["exp", "iat"], NOW + 10);
        assert!(
            text.contains("exp          2023-11-14 22:18:20 UTC (in 4m 50s)"),
            "{text}"
        );
        assert!(text.contains("(10s ago)"), "{text}");

        let expired = inspect(&token, &vars(Some(KEY)), NOW + 3600).unwrap();
        assert!(
            matches!(
                expired.verdict,
                Verdict::Invalid {
                    code: "token_expired",
                    ..
                }
            ),
            "{:?}",
            expired.verdict
        );

        // One character of the signature changed (not the last: its low bits are padding).
        let (input, signature) = token.rsplit_once('.').unwrap();
        let flipped = if signature.starts_with('A') { 'B' } else { 'A' };
        let tampered = format!("{input}.{flipped}{}", &signature[1..]);
        let bad = inspect(&tampered, &vars(Some(KEY)), NOW).unwrap();
        assert!(
            matches!(&bad.verdict, Verdict::Invalid { code: "token_invalid", reason, .. } if reason.contains("signature")),
            "{:?}",
            bad.verdict
        );

        let other = inspect(
            &token,
            &vars(Some("another-signing-key-0123456789abcdef0123")),
            NOW,
        )
        .unwrap();
        assert!(matches!(
            other.verdict,
            Verdict::Invalid {
                code: "token_invalid",
                ..
            }
        ));

        let unchecked = inspect(&token, &vars(None), NOW).unwrap();
        assert!(matches!(unchecked.verdict, Verdict::Unchecked(_)));
    }

    #[test]
    fn not_a_token() {
        for bad in ["", "abc", "a.b.c", "e30.bm9wZQ.x"] {
            assert!(inspect(bad, &vars(None), NOW).is_err(), "{bad}");
        }
    }

    #[test]
    fn relative_times() {
        assert_eq!(relative(0), "now");
        assert_eq!(relative(59), "in 59s");
        assert_eq!(relative(-3_725), "1h 2m ago");
        assert_eq!(relative(90_061), "in 1d 1h");
    }
}
