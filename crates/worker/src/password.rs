//! Django's password hashes (`pbkdf2_sha256`, and `pbkdf2_sha1` from older projects),
//! derived by the runtime's native WebCrypto PBKDF2 where it accepts the cost, in wasm
//! above it. The rules (what matches, what must be rehashed) are
//! [`edgejwt_core::password`]'s, shared with the `edgejwt` CLI; this module only computes.

use edgejwt_core::password::{self, Derivation, Digest, PasswordCheck};
use js_sys::{Array, ArrayBuffer, Object, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{CryptoKey, Pbkdf2Params, SubtleCrypto, WorkerGlobalScope};
use zeroize::Zeroizing;

pub use edgejwt_core::password::{salt_from_random, Checked};

/// The most iterations workerd's WebCrypto PBKDF2 accepts (it refuses more). Costs above
/// it (hashes imported from Django, whose default is far higher, or a
/// `PASSWORD_HASH_ITERATIONS` above it) are derived in wasm.
pub const NATIVE_MAX_ITERATIONS: u32 = 100_000;

/// The derived key: natively when the runtime accepts the cost (a login at 100,000 costs
/// about a fifth of the CPU it costs in wasm: bench/login-cost.mjs), else, or if the
/// runtime fails, in pure Rust (the same bytes).
async fn derive(derivation: &Derivation<'_>, password: &str) -> Zeroizing<Vec<u8>> {
    if derivation.iterations <= NATIVE_MAX_ITERATIONS {
        match derive_natively(derivation, password).await {
            Ok(key) => return key,
            // The runtime's error names neither the password nor the key.
            Err(e) => crate::log::error!("edgejwt: WebCrypto PBKDF2 failed, using wasm: {e:?}"),
        }
    }
    derivation.derive(password)
}

/// `crypto.subtle.deriveBits({name: "PBKDF2", hash, salt, iterations}, key, bits)`.
async fn derive_natively(
    derivation: &Derivation<'_>,
    password: &str,
) -> Result<Zeroizing<Vec<u8>>, JsValue> {
    let subtle: SubtleCrypto = js_sys::global()
        .unchecked_into::<WorkerGlobalScope>()
        .crypto()?
        .subtle();
    let secret = Uint8Array::from(password.as_bytes());
    let imported = subtle.import_key_with_str(
        "raw",
        &secret,
        "PBKDF2",
        false,
        &Array::of1(&"deriveBits".into()),
    );
    // importKey has copied the bytes: clear the JS copy of the password.
    secret.fill(0, 0, secret.length());
    let key: CryptoKey = JsFuture::from(imported?).await?.unchecked_into();
    let hash = match derivation.digest {
        Digest::Sha256 => "SHA-256",
        Digest::Sha1 => "SHA-1",
    };
    let salt = Uint8Array::from(derivation.salt.as_bytes());
    let params = Pbkdf2Params::new_with_str("PBKDF2", hash, derivation.iterations, &salt);
    let bits = u32::try_from(derivation.key_len() * 8).unwrap_or(u32::MAX);
    let derived = subtle.derive_bits_with_object(&Object::from(params), &key, bits)?;
    let derived = Uint8Array::new(
        &JsFuture::from(derived)
            .await?
            .unchecked_into::<ArrayBuffer>(),
    );
    let mut out = Zeroizing::new(vec![0u8; derived.length() as usize]);
    derived.copy_to(&mut out);
    derived.fill(0, 0, derived.length());
    Ok(out)
}

/// Checks `password` against a stored Django hash ([`PasswordCheck`]).
pub async fn check_password(password: &str, encoded: &str, iterations_wanted: u32) -> Checked {
    let check = PasswordCheck::new(encoded, iterations_wanted);
    let derived = derive(&check.derivation(), password).await;
    check.finish(&derived)
}

/// One check's cost when there is no user ([`PasswordCheck::no_user`]).
pub async fn check_dummy(password: &str, iterations: u32) {
    let check = PasswordCheck::no_user(iterations);
    let _ = derive(&check.derivation(), password).await;
}

/// A new `pbkdf2_sha256` hash of `password` at `iterations`.
pub async fn make_password(password: &str, salt: &str, iterations: u32) -> String {
    let derived = derive(&password::new_hash(salt, iterations), password).await;
    password::encode_password(salt, iterations, &derived)
}
