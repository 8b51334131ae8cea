//! Django's password hashes (`pbkdf2_sha256`, and `pbkdf2_sha1` from older projects):
//! the rules live in [`edgejwt_core::password`], shared with the `edgejwt` CLI, so a user
//! the CLI imports as able to log in is one the issuer verifies.

pub use edgejwt_core::password::{
    check_dummy, check_password, make_password, salt_from_random, Checked,
};
