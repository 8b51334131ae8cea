//! `GET /api/token/jwks/`: the public signing key as a JWK Set (empty for HMAC).

use serde_json::{json, Value};

use crate::config::Config;

pub async fn jwks(app: &crate::handlers::App, _: crate::view::Input) -> super::Result<Value> {
    let config: &Config = &app.config;
    let keys: Vec<Value> = config
        .backend
        .public_jwk()
        .and_then(|jwk| serde_json::from_str(&jwk).ok())
        .into_iter()
        .collect();
    Ok(json!({ "keys": keys }))
}
