//! Sign and verify per algorithm through the core (`TokenBackend`), next to a raw
//! HMAC-SHA256 of the same signing input (the floor for HS256). `bench/run.sh` runs it.
#![allow(missing_docs, clippy::unwrap_used, reason = "a benchmark binary")]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use edgejwt_core::{Algorithm, Jti, Settings, Token, TokenBackend, TokenType};
use hmac::{Hmac, Mac};
use sha2::Sha256;

const NOW: i64 = 1_700_000_000;
const HMAC_KEY: &str = "edgejwt-bench-hmac-secret-0123456789abcdef-0123456789abcdef-0123456";

macro_rules! key {
    ($name:literal) => {
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/keys/", $name))
    };
}

fn backend(alg: Algorithm) -> (Settings, TokenBackend) {
    let signing = match alg {
        Algorithm::Es256 => key!("p256.pem"),
        Algorithm::EdDsa => key!("ed25519.pem"),
        a if a.is_hmac() => HMAC_KEY,
        _ => key!("rsa2048.pem"),
    };
    let mut s = Settings::default();
    s.set("ALGORITHM", alg.as_str()).unwrap();
    s.set("SIGNING_KEY", signing).unwrap();
    let b = TokenBackend::from_settings(&s).unwrap();
    (s, b)
}

fn tokens(c: &mut Criterion) {
    for alg in [
        Algorithm::Hs256,
        Algorithm::Hs512,
        Algorithm::EdDsa,
        Algorithm::Es256,
        Algorithm::Rs256,
        Algorithm::Ps256,
    ] {
        let (settings, backend) = backend(alg);
        let token = Token::for_user(
            TokenType::Access,
            "1",
            &settings,
            NOW,
            Jti::from_random_bytes([7; 16]),
        );
        let encoded = backend.encode(token.payload()).unwrap();
        c.bench_function(&format!("{alg} sign"), |b| {
            b.iter(|| backend.encode(black_box(token.payload())).unwrap())
        });
        c.bench_function(&format!("{alg} verify"), |b| {
            b.iter(|| {
                let p = backend.decode(black_box(&encoded), NOW + 1).unwrap();
                Token::verify(TokenType::Access, p, &settings, NOW + 1).unwrap()
            })
        });
        if alg == Algorithm::Hs256 {
            let input = encoded.rsplit_once('.').unwrap().0.to_owned();
            c.bench_function("raw HMAC-SHA256 of the signing input", |b| {
                b.iter(|| {
                    let mut mac = Hmac::<Sha256>::new_from_slice(HMAC_KEY.as_bytes()).unwrap();
                    mac.update(black_box(input.as_bytes()));
                    mac.finalize().into_bytes()
                })
            });
        }
    }
}

criterion_group!(benches, tokens);
criterion_main!(benches);
