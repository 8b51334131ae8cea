//! Django's `pbkdf2_sha256` password hashes: `pbkdf2_sha256$<iterations>$<salt>$<base64 hash>`.
//!
//! Users imported from Django keep working at their stored cost; new hashes use the
//! configured cost, and a login rehashes when the stored cost differs.

use base64ct::{Base64, Encoding};
use pbkdf2::pbkdf2_hmac;
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// Django's algorithm name for PBKDF2-HMAC-SHA256.
pub const ALGORITHM: &str = "pbkdf2_sha256";

/// Alphabet of Django's `get_random_string` salts.
const SALT_CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// The outcome of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Checked {
    /// The password matches.
    pub valid: bool,
    /// The stored hash uses another cost (or is unusable) and should be replaced.
    pub needs_rehash: bool,
}

fn derive(password: &str, salt: &str, iterations: u32) -> [u8; 32] {
    let mut out = [0u8; 32];
    pbkdf2_hmac::<Sha256>(password.as_bytes(), salt.as_bytes(), iterations, &mut out);
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

/// Hashes `password` in Django's format.
pub fn make_password(password: &str, salt: &str, iterations: u32) -> String {
    let hash = Base64::encode_string(&derive(password, salt, iterations));
    format!("{ALGORITHM}${iterations}${salt}${hash}")
}

/// Stored costs above this are treated as unusable, not computed: a hash with a huge
/// iteration count (a corrupted row, a hostile import) must not cost a login minutes.
pub const MAX_ITERATIONS: u32 = 10_000_000;

/// Checks `password` against a stored Django hash in constant time. Unknown algorithms,
/// malformed hashes, costs over [`MAX_ITERATIONS`] and Django's unusable passwords (`!…`)
/// never match, and cost one hash at the configured cost like any other failure, so the
/// time of a login tells nothing about the account.
pub fn check_password(password: &str, encoded: &str, iterations_wanted: u32) -> Checked {
    let unusable = || {
        check_dummy(password, iterations_wanted);
        Checked {
            valid: false,
            needs_rehash: true,
        }
    };
    let mut parts = encoded.splitn(4, '$');
    let (Some(ALGORITHM), Some(iterations), Some(salt), Some(hash)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return unusable();
    };
    let (Ok(iterations), Ok(expected)) = (iterations.parse::<u32>(), Base64::decode_vec(hash))
    else {
        return unusable();
    };
    if iterations == 0 || iterations > MAX_ITERATIONS || expected.len() != 32 {
        return unusable();
    }
    let actual = derive(password, salt, iterations);
    Checked {
        valid: bool::from(actual.ct_eq(expected.as_slice())),
        needs_rehash: iterations != iterations_wanted,
    }
}

/// Spends the time of one check when there is no user, so an unknown username costs what
/// a wrong password costs (Django's `ModelBackend` does the same).
pub fn check_dummy(password: &str, iterations: u32) {
    let _ = derive(password, "edgejwtdummysaltvalue0", iterations);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Made by Django 6.1's `PBKDF2PasswordHasher().encode("alice-password-1",
    /// "abcdefghijklmnopqrstuv", iterations=1000)` (its default is 1,500,000).
    const DJANGO_1000: &str =
        "pbkdf2_sha256$1000$abcdefghijklmnopqrstuv$Hy7wj+/cbjDa0mGP752skvzagdMKQVNOb0iz7LPd7lk=";

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
    fn round_trip_and_salts() {
        let salt = salt_from_random(&[7u8; 32]);
        assert_eq!(salt.len(), 22);
        let hash = make_password("pw", &salt, 10);
        assert!(check_password("pw", &hash, 10).valid);
        assert!(!check_password("pW", &hash, 10).valid);
    }
}
