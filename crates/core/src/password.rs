//! Django's PBKDF2 password hashes, as the issuer checks and makes them:
//! `pbkdf2_sha256$<iterations>$<salt>$<base64 hash>` (Django's default hasher) and
//! `pbkdf2_sha1$…` (Django's `PBKDF2SHA1PasswordHasher`, still in older projects).
//!
//! Users imported from Django keep working at their stored cost; new hashes are always
//! `pbkdf2_sha256` at the configured cost, and a login rehashes when the stored hash is
//! SHA-1 or its cost differs. Here (not in the issuer) so the issuer and the `edgejwt` CLI
//! share one parser: what the CLI's import calls usable is exactly what the issuer verifies.

use alloc::{format, string::String, vec::Vec};

use base64ct::{Base64, Encoding};
use pbkdf2::pbkdf2_hmac;
use sha1::Sha1;
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::error::SettingsError;

/// Django's algorithm name for PBKDF2-HMAC-SHA256, the one new hashes use.
pub const ALGORITHM: &str = "pbkdf2_sha256";

/// Django's algorithm name for PBKDF2-HMAC-SHA1 (verified, never made).
pub const ALGORITHM_SHA1: &str = "pbkdf2_sha1";

/// Alphabet of Django's `get_random_string` salts.
const SALT_CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// Stored costs above this are treated as unusable, not computed: a hash with a huge
/// iteration count (a corrupted row, a hostile import) must not cost a login minutes.
pub const MAX_ITERATIONS: u32 = 10_000_000;

/// PBKDF2-SHA256 iterations for new password hashes (`PASSWORD_HASH_ITERATIONS` unset).
/// Django 6.1 uses 1,500,000, which costs seconds of Worker CPU per login; this keeps a
/// login near the CPU a Worker request should use, and imported Django hashes still
/// verify at their own cost. Measured and justified in the README ("Passwords").
pub const DEFAULT_ITERATIONS: u32 = 100_000;

/// The least `PASSWORD_HASH_ITERATIONS` accepted.
pub const MIN_ITERATIONS: u32 = 10_000;

/// The issuer's `PASSWORD_HASH_ITERATIONS` setting from its raw value (`None`: unset):
/// the cost of new hashes, and the cost a stored hash is rehashed to when it differs.
pub fn hash_iterations(value: Option<&str>) -> Result<u32, SettingsError> {
    let Some(value) = value else {
        return Ok(DEFAULT_ITERATIONS);
    };
    value
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|n| (MIN_ITERATIONS..=MAX_ITERATIONS).contains(n))
        .ok_or_else(|| {
            SettingsError::new(
                "PASSWORD_HASH_ITERATIONS",
                value,
                "expected a whole number from 10000 to 10000000",
            )
        })
}

/// The PBKDF2 digests the issuer verifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Digest {
    /// `pbkdf2_sha256`: 32-byte hashes.
    Sha256,
    /// `pbkdf2_sha1`: 20-byte hashes.
    Sha1,
}

impl Digest {
    /// Django's algorithm name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sha256 => ALGORITHM,
            Self::Sha1 => ALGORITHM_SHA1,
        }
    }

    fn len(self) -> usize {
        match self {
            Self::Sha256 => 32,
            Self::Sha1 => 20,
        }
    }
}

/// What a stored Django password field holds, as far as the issuer is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredPassword<'a> {
    /// A hash the issuer verifies.
    Pbkdf2 {
        /// Its digest.
        digest: Digest,
        /// Its cost.
        iterations: u32,
        /// Its salt.
        salt: &'a str,
        /// The expected derived key.
        hash: Vec<u8>,
    },
    /// Django's unusable password (`set_unusable_password()`: `!` and random text).
    Unusable,
    /// Another Django hasher (`argon2`, `bcrypt_sha256`, `scrypt`, `md5`, …): named here,
    /// never verified; the user must reset their password.
    OtherHasher(&'a str),
    /// A PBKDF2 hash that cannot be used, and why.
    Malformed(&'static str),
}

impl<'a> StoredPassword<'a> {
    /// Reads a stored password field.
    pub fn parse(encoded: &'a str) -> Self {
        if encoded.starts_with('!') {
            return Self::Unusable;
        }
        let Some((algorithm, rest)) = encoded.split_once('$') else {
            return Self::Malformed("not in Django's <algorithm>$… format");
        };
        let digest = match algorithm {
            ALGORITHM => Digest::Sha256,
            ALGORITHM_SHA1 => Digest::Sha1,
            "" => return Self::Malformed("no algorithm name"),
            other => return Self::OtherHasher(other),
        };
        let mut parts = rest.splitn(3, '$');
        let (Some(iterations), Some(salt), Some(hash)) = (parts.next(), parts.next(), parts.next())
        else {
            return Self::Malformed("expected <algorithm>$<iterations>$<salt>$<hash>");
        };
        let Ok(iterations) = iterations.parse::<u32>() else {
            return Self::Malformed("the iteration count is not a number");
        };
        if iterations == 0 || iterations > MAX_ITERATIONS {
            return Self::Malformed("the iteration count is 0 or over 10,000,000");
        }
        match Base64::decode_vec(hash) {
            Ok(hash) if hash.len() == digest.len() => Self::Pbkdf2 {
                digest,
                iterations,
                salt,
                hash,
            },
            Ok(_) => Self::Malformed("the hash has the wrong length for its digest"),
            Err(_) => Self::Malformed("the hash is not base64"),
        }
    }
}

/// The outcome of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Checked {
    /// The password matches.
    pub valid: bool,
    /// The stored hash uses another cost or digest (or is unusable) and should be replaced.
    pub needs_rehash: bool,
}

fn derive_sha256(password: &str, salt: &str, iterations: u32) -> [u8; 32] {
    let mut out = [0u8; 32];
    pbkdf2_hmac::<Sha256>(password.as_bytes(), salt.as_bytes(), iterations, &mut out);
    out
}

fn derive_sha1(password: &str, salt: &str, iterations: u32) -> [u8; 20] {
    let mut out = [0u8; 20];
    pbkdf2_hmac::<Sha1>(password.as_bytes(), salt.as_bytes(), iterations, &mut out);
    out
}

/// A Django salt (22 characters of `[a-zA-Z0-9]`, about 131 bits) from random bytes.
pub fn salt_from_random(random: &[u8; 32]) -> String {
    // 62 does not divide 256: drop bytes >= 248 to avoid bias; 32 bytes leave plenty.
    random
        .iter()
        .filter(|b| **b < 248)
        .take(22)
        .filter_map(|b| {
            SALT_CHARS
                .get(usize::from(*b % 62))
                .copied()
                .map(char::from)
        })
        .collect()
}

/// Hashes `password` in Django's `pbkdf2_sha256` format.
pub fn make_password(password: &str, salt: &str, iterations: u32) -> String {
    let hash = Base64::encode_string(&derive_sha256(password, salt, iterations));
    format!("{ALGORITHM}${iterations}${salt}${hash}")
}

/// Checks `password` against a stored Django hash in constant time. Other hashers,
/// malformed hashes, costs over [`MAX_ITERATIONS`] and Django's unusable passwords (`!…`)
/// never match, and cost one hash at the configured cost like any other failure, so the
/// time of a login tells nothing about the account.
pub fn check_password(password: &str, encoded: &str, iterations_wanted: u32) -> Checked {
    let StoredPassword::Pbkdf2 {
        digest,
        iterations,
        salt,
        hash,
    } = StoredPassword::parse(encoded)
    else {
        check_dummy(password, iterations_wanted);
        return Checked {
            valid: false,
            needs_rehash: true,
        };
    };
    let valid = match digest {
        Digest::Sha256 => derive_sha256(password, salt, iterations).ct_eq(hash.as_slice()),
        Digest::Sha1 => derive_sha1(password, salt, iterations).ct_eq(hash.as_slice()),
    };
    Checked {
        valid: bool::from(valid),
        needs_rehash: digest != Digest::Sha256 || iterations != iterations_wanted,
    }
}

/// Spends the time of one check when there is no user, so an unknown username costs what
/// a wrong password costs (Django's `ModelBackend` does the same).
pub fn check_dummy(password: &str, iterations: u32) {
    let _ = derive_sha256(password, "edgejwtdummysaltvalue0", iterations);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Made by Django 6.1's `PBKDF2PasswordHasher().encode("alice-password-1",
    /// "abcdefghijklmnopqrstuv", iterations=1000)` (its default is 1,500,000).
    const DJANGO_1000: &str =
        "pbkdf2_sha256$1000$abcdefghijklmnopqrstuv$Hy7wj+/cbjDa0mGP752skvzagdMKQVNOb0iz7LPd7lk=";

    /// Made by Django 6.1's `PBKDF2SHA1PasswordHasher().encode("alice-password-1",
    /// "abcdefghijklmnopqrstuv", iterations=1000)`.
    const DJANGO_SHA1_1000: &str =
        "pbkdf2_sha1$1000$abcdefghijklmnopqrstuv$8kkQBN6y/9Jqt7yt/gWtcqopXhw=";

    #[test]
    fn verifies_django_hashes_and_flags_other_costs() {
        let ok = check_password("alice-password-1", DJANGO_1000, 1000);
        assert_eq!(
            ok,
            Checked {
                valid: true,
                needs_rehash: false
            }
        );
        let rehash = check_password("alice-password-1", DJANGO_1000, 2000);
        assert_eq!(
            rehash,
            Checked {
                valid: true,
                needs_rehash: true
            }
        );
        assert!(!check_password("alice-password-2", DJANGO_1000, 1000).valid);
        for bad in [
            "",
            "!unusable",
            "md5$x$y",
            "pbkdf2_sha256$x$salt$aGFzaA==",
            "pbkdf2_sha256$0$s$",
            // A cost over the cap is refused without being computed.
            "pbkdf2_sha256$4000000000$abcdefghijklmnopqrstuv$Hy7wj+/cbjDa0mGP752skvzagdMKQVNOb0iz7LPd7lk=",
        ] {
            assert!(
                !check_password("alice-password-1", bad, 1000).valid,
                "{bad}"
            );
        }
    }

    #[test]
    fn verifies_django_sha1_hashes_and_always_rehashes_them() {
        let checked = check_password("alice-password-1", DJANGO_SHA1_1000, 1000);
        assert_eq!(
            checked,
            Checked {
                valid: true,
                needs_rehash: true
            }
        );
        assert!(!check_password("alice-password-2", DJANGO_SHA1_1000, 1000).valid);
        // A SHA-256-length hash under the SHA-1 name is malformed, not verified.
        let swapped = DJANGO_1000.replacen(ALGORITHM, ALGORITHM_SHA1, 1);
        assert!(matches!(
            StoredPassword::parse(&swapped),
            StoredPassword::Malformed(_)
        ));
    }

    #[test]
    fn names_what_it_cannot_verify() {
        assert_eq!(StoredPassword::parse("!Xy12abc"), StoredPassword::Unusable);
        assert_eq!(
            StoredPassword::parse("argon2$argon2id$v=19$m=102400,t=2,p=8$c2FsdA$aGFzaA"),
            StoredPassword::OtherHasher("argon2")
        );
        assert_eq!(
            StoredPassword::parse("bcrypt_sha256$$2b$12$abc"),
            StoredPassword::OtherHasher("bcrypt_sha256")
        );
        assert!(matches!(
            StoredPassword::parse("plaintext"),
            StoredPassword::Malformed(_)
        ));
    }

    #[test]
    fn iterations_setting() {
        assert_eq!(hash_iterations(None), Ok(DEFAULT_ITERATIONS));
        assert_eq!(hash_iterations(Some(" 20000 ")), Ok(20_000));
        for bad in ["", "9999", "1e5", "-1", "10000001"] {
            let err = hash_iterations(Some(bad)).unwrap_err();
            assert_eq!(err.setting, "PASSWORD_HASH_ITERATIONS", "{bad}");
        }
    }

    #[test]
    fn round_trip_and_salts() {
        let salt = salt_from_random(&[7u8; 32]);
        assert_eq!(salt.len(), 22);
        let hash = make_password("pw", &salt, 10);
        assert!(check_password("pw", &hash, 10).valid);
        assert!(!check_password("pW", &hash, 10).valid);
    }
}
