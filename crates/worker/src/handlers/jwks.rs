//! `GET /.well-known/jwks.json` and `GET /api/token/jwks/`: the public keys that verify the
//! issuer's tokens as a JWK Set — the current signing key first, then the previous ones
//! (`PREVIOUS_VERIFYING_KEYS`) — each with `kid`, `alg` and `use`. Empty for HMAC: secrets
//! are never published.

use crate::view::Reply;

/// `Cache-Control` of the set. Five minutes: verifiers and HTTP caches may keep a set that
/// long, so a key removed after a compromise is gone everywhere within five minutes, while a
/// new key needs no wait at all (a token naming an unknown `kid` makes the package's verifier
/// refetch at once). Rotations keep the old key listed for at least the tokens' lifetime.
const CACHE_CONTROL: &str = "public, max-age=300";

pub async fn jwks(app: &crate::handlers::App, _: crate::view::Input) -> super::Result<Reply> {
    let set: serde_json::Value = serde_json::from_str(&app.config.backend.public_jwk_set())
        .map_err(|e| crate::error::ApiError::Internal(format!("JWK Set: {e}")))?;
    Ok(Reply::from(set).with_header("Cache-Control", CACHE_CONTROL.to_owned()))
}
