//! # edgejwt-cli
//!
//! The `edgejwt` operator tool, on edgejwt-core: the same settings parser, token backend
//! and password rules as the issuer Worker, so what the CLI accepts the Worker accepts.
//!
//! - [`keygen`]: signing keys, their JWK Set, and the previous-keys value of a rotation.
//! - [`inspect`]: a token's header and claims, and the core's verdict on it.
//! - [`users`]: users in D1 (create, password, deactivate, activate, revoke sessions), the
//!   sessions ended and revoked in KV as the issuer ends them.
//! - [`django`] + [`import`]: Django's `dumpdata` (users, simplejwt's token tables) and CSV
//!   exports, into D1 with UPSERTs.
//! - [`config`]: `check-config`, every settings group validated as its reader will.
//!
//! D1 and KV are reached only through `wrangler` ([`wrangler`]), locally or remotely; with
//! `--sql` the statements are printed instead.

pub mod config;
pub mod django;
pub mod error;
pub mod import;
pub mod inspect;
pub mod keygen;
pub mod sql;
pub mod users;
pub mod wrangler;

pub use error::{Error, Result};
