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
use zeroize::Zeroizing;

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
    /// The stored hash uses another cost or digest (or is unusable) and should be replaced
    /// (Django's `must_update`).
    pub needs_rehash: bool,
}

/// One PBKDF2 derivation: what a host computes, natively or with [`Derivation::derive`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Derivation<'a> {
    /// The PRF's digest; the derived key has its length ([`Derivation::len`]).
    pub digest: Digest,
    /// The cost.
    pub iterations: u32,
    /// The salt, used as its UTF-8 bytes (as Django does).
    pub salt: &'a str,
}

/// The salt a check without a usable hash derives with, so it costs what a real one does.
const DUMMY_SALT: &str = "edgejwtdummysaltvalue0";

impl Derivation<'_> {
    /// Bytes of the derived key (32 for SHA-256, 20 for SHA-1).
    pub fn key_len(&self) -> usize {
        self.digest.len()
    }

    /// The derived key, in pure Rust (zeroized on drop).
    pub fn derive(&self, password: &str) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(alloc::vec![0u8; self.key_len()]);
        let (password, salt) = (password.as_bytes(), self.salt.as_bytes());
        match self.digest {
            Digest::Sha256 => pbkdf2_hmac::<Sha256>(password, salt, self.iterations, &mut out),
            Digest::Sha1 => pbkdf2_hmac::<Sha1>(password, salt, self.iterations, &mut out),
        }
        out
    }
}

/// A password check in two steps, for a host that derives the key itself (the issuer
/// uses its runtime's native PBKDF2): [`PasswordCheck::derivation`] says what to derive,
/// [`PasswordCheck::finish`] compares in constant time and decides the rehash. The rules
/// (what matches, what must be updated) stay here; [`check_password`] is both steps.
#[derive(Debug)]
pub struct PasswordCheck<'a> {
    derivation: Derivation<'a>,
    /// The stored key; `None`: nothing can match (no user, unusable or malformed hash).
    expected: Option<Vec<u8>>,
    needs_rehash: bool,
}

impl<'a> PasswordCheck<'a> {
    /// Checks against a stored Django hash; new hashes are made at `iterations_wanted`.
    /// Other hashers, malformed hashes, costs over [`MAX_ITERATIONS`] and Django's unusable
    /// passwords (`!…`) never match and cost one derivation at `iterations_wanted`, like any
    /// other failure, so the time of a login tells nothing about the account.
    pub fn new(encoded: &'a str, iterations_wanted: u32) -> Self {
        let StoredPassword::Pbkdf2 {
            digest,
            iterations,
            salt,
            hash,
        } = StoredPassword::parse(encoded)
        else {
            return Self {
                needs_rehash: true,
                ..Self::no_user(iterations_wanted)
            };
        };
        Self {
            derivation: Derivation {
                digest,
                iterations,
                salt,
            },
            expected: Some(hash),
            // Django's must_update: another digest or another cost.
            needs_rehash: digest != Digest::Sha256 || iterations != iterations_wanted,
        }
    }

    /// A check when there is no user: one derivation at `iterations_wanted` that never
    /// matches, so an unknown username costs what a wrong password costs (Django's
    /// `ModelBackend` does the same).
    pub fn no_user(iterations_wanted: u32) -> Self {
        Self {
            derivation: new_hash(DUMMY_SALT, iterations_wanted),
            expected: None,
            needs_rehash: false,
        }
    }

    /// What to derive from the password.
    pub fn derivation(&self) -> Derivation<'a> {
        self.derivation
    }

    /// The verdict for the key derived with [`PasswordCheck::derivation`].
    pub fn finish(self, derived: &[u8]) -> Checked {
        let valid = self
            .expected
            .as_deref()
            .is_some_and(|expected| bool::from(derived.ct_eq(expected)));
        Checked {
            valid,
            needs_rehash: self.needs_rehash,
        }
    }
}

/// What a new hash at `iterations` derives: `pbkdf2_sha256` with `salt`.
pub fn new_hash(salt: &str, iterations: u32) -> Derivation<'_> {
    Derivation {
        digest: Digest::Sha256,
        iterations,
        salt,
    }
}

/// Django's `pbkdf2_sha256$<iterations>$<salt>$<hash>` for a key derived with
/// [`new_hash`]`(salt, iterations)`.
pub fn encode_password(salt: &str, iterations: u32, derived: &[u8]) -> String {
    let hash = Base64::encode_string(derived);
    format!("{ALGORITHM}${iterations}${salt}${hash}")
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

/// Hashes `password` in Django's `pbkdf2_sha256` format, in pure Rust.
pub fn make_password(password: &str, salt: &str, iterations: u32) -> String {
    encode_password(
        salt,
        iterations,
        &new_hash(salt, iterations).derive(password),
    )
}

/// Checks `password` against a stored Django hash in constant time, in pure Rust
/// ([`PasswordCheck`] in one step).
pub fn check_password(password: &str, encoded: &str, iterations_wanted: u32) -> Checked {
    let check = PasswordCheck::new(encoded, iterations_wanted);
    let derived = check.derivation().derive(password);
    check.finish(&derived)
}

/// Spends the time of one check when there is no user ([`PasswordCheck::no_user`]).
pub fn check_dummy(password: &str, iterations: u32) {
    let check = PasswordCheck::no_user(iterations);
    let _ = check.derivation().derive(password);
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
    fn two_steps_decide_as_one() {
        // What a host derives natively goes through the same comparison and rehash rule.
        let check = PasswordCheck::new(DJANGO_1000, 100_000);
        let d = check.derivation();
        assert_eq!(
            (d.digest, d.iterations, d.salt, d.key_len()),
            (Digest::Sha256, 1000, "abcdefghijklmnopqrstuv", 32)
        );
        let derived = d.derive("alice-password-1");
        assert_eq!(
            check.finish(&derived),
            Checked {
                valid: true,
                needs_rehash: true
            }
        );
        let sha1 = PasswordCheck::new(DJANGO_SHA1_1000, 1000);
        assert_eq!(sha1.derivation().key_len(), 20);
        // A key of the wrong length or from another password never matches.
        let derived = sha1.derivation().derive("alice-password-1");
        assert!(
            !PasswordCheck::new(DJANGO_SHA1_1000, 1000)
                .finish(derived.split_at(19).0)
                .valid
        );
        assert!(sha1.finish(&derived).valid);
        // No user, or an unusable hash: the configured cost, and never a match even for
        // the key that derivation gives.
        for check in [
            PasswordCheck::no_user(20_000),
            PasswordCheck::new("!x", 20_000),
        ] {
            let d = check.derivation();
            assert_eq!((d.digest, d.iterations), (Digest::Sha256, 20_000));
            let derived = d.derive("pw");
            assert!(!check.finish(&derived).valid);
        }
        assert!(!PasswordCheck::no_user(10).finish(&[]).needs_rehash);
        assert!(PasswordCheck::new("md5$x$y", 10).finish(&[]).needs_rehash);
        // encode_password is make_password's format.
        let d = new_hash("saltsaltsalt", 10);
        assert_eq!(
            encode_password("saltsaltsalt", 10, &d.derive("pw")),
            make_password("pw", "saltsaltsalt", 10)
        );
    }

    /// Cross-checks with the issuer's native path (WebCrypto in workerd), both ways:
    /// `tests/worker/passwords.test.mjs` logs in with `CORE_100K` (checked natively), and
    /// `NATIVE_100K` is a rehash the issuer made natively (workerd, 2026-12-01).
    #[test]
    fn webcrypto_vectors() {
        const CORE_100K: &str = "pbkdf2_sha256$100000$edgejwtcorevector00001$DCQkkKK6NqUShZFfjb+HiNaylh9nd4ixKaWgsOdaOXE=";
        const NATIVE_100K: &str = "pbkdf2_sha256$100000$usFNOhcmHwXTkDHMZ0LDmm$FIDsEy/D7rL07kOy3+YQ/k+wAX3jqljG52/CucW+cNM=";
        assert_eq!(
            make_password("carol-password-1", "edgejwtcorevector00001", 100_000),
            CORE_100K
        );
        let ok = Checked {
            valid: true,
            needs_rehash: false,
        };
        assert_eq!(
            check_password("native-password-1", NATIVE_100K, 100_000),
            ok
        );
        assert!(!check_password("native-password-2", NATIVE_100K, 100_000).valid);
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
