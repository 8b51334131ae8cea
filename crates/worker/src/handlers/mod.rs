//! One module per simplejwt view. Each is the same three steps: parse the request, let
//! edgejwt-core decide what storage must do, do it, let the core decide the answer. Token
//! rules live in edgejwt-core; storage in [`crate::storage`]; HTTP in [`crate::view`].

pub mod blacklist;
pub mod jwks;
pub mod obtain;
pub mod password_change;
pub mod protected;
pub mod refresh;
pub mod sessions;
pub mod sliding;
pub mod verify;

use std::rc::Rc;

use edgejwt_core::{Jti, Token};

use crate::{
    config::Config,
    error::ApiError,
    storage::{Revocations, Store},
};

/// What a request works with.
pub struct App {
    pub config: Rc<Config>,
    /// The request's context: work that need not delay the response (`waitUntil`).
    pub ctx: Rc<worker::Context>,
    pub store: Store,
    pub revocations: Revocations,
    /// Unix seconds, from the runtime's clock.
    pub now: i64,
}

pub type Result<T> = std::result::Result<T, ApiError>;

/// Host randomness (`crypto.getRandomValues`).
pub fn random<const N: usize>() -> Result<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::getrandom(&mut bytes).map_err(|e| ApiError::Internal(format!("getrandom: {e}")))?;
    Ok(bytes)
}

/// A fresh token id.
pub fn new_jti() -> Result<Jti> {
    Ok(Jti::from_random_bytes(random()?))
}

impl App {
    /// Signs a token the core issued.
    pub fn encode(&self, token: &Token) -> Result<String> {
        self.config
            .backend
            .encode(token.payload())
            .map_err(|e| ApiError::Internal(e.to_string()))
    }
}
