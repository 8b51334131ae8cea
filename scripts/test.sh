#!/usr/bin/env bash
# Runs every edgejwt test. This is the README's test command and what CI runs (.ci/run).
# Installs what a fresh machine lacks (rustup targets, the pinned wasm-bindgen CLI, npm
# packages, Debian's chromium) and skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

step() { printf '\n== %s\n' "$*"; }

# Test files are found by name, so a new one cannot be left out. The groups run after the
# builds they need; helper scripts next to them (harness.mjs, packed.mjs, ...) are not
# tests, which is why `node --test DIR` is not used.
shopt -s nullglob
WORKER_TESTS=(tests/worker/*.test.mjs)
PKG_TESTS=(tests/pkg/*.test.mjs)
BROWSER_TESTS=(tests/pkg/browser/*.test.mjs tests/www/*.test.mjs)
CLI_TESTS=(tests/cli/*.test.mjs)
grouped=" ${WORKER_TESTS[*]} ${PKG_TESTS[*]} ${BROWSER_TESTS[*]} ${CLI_TESTS[*]} "
for group in WORKER_TESTS PKG_TESTS BROWSER_TESTS CLI_TESTS; do
  declare -n files=$group
  [ ${#files[@]} -gt 0 ] || { echo "no test files in $group" >&2; exit 1; }
done
while read -r file; do
  [[ $grouped == *" $file "* ]] || { echo "$file is in no test group of scripts/test.sh" >&2; exit 1; }
done < <(find tests -name node_modules -prune -o -name '*.test.mjs' -print | sort)

step "toolchain"
ensure_rust_targets wasm32-unknown-unknown wasm32v1-none
rustup component list --installed | grep -q '^rustfmt' || rustup component add rustfmt
rustup component list --installed | grep -q '^clippy' || rustup component add clippy
ensure_wasm_bindgen
ensure_npm

step "rustfmt"
cargo fmt --all -- --check

# Clippy lints inside the builds below instead of in builds of its own: as cargo's wrapper
# for workspace crates, clippy-driver is rustc plus clippy's lints (what `cargo clippy` runs),
# so every crate is compiled once per target and profile. A separate `cargo clippy` compiles
# every dependency again in check mode, for the host and for wasm: a third of CI's time.
# CLIPPY_ARGS is how cargo-clippy hands its arguments to the driver.
RUSTC_WORKSPACE_WRAPPER="$(rustup which clippy-driver)"
export RUSTC_WORKSPACE_WRAPPER
export CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"

step "clippy (the core without default features; every other build below is linted)"
cargo clippy -p edgejwt-core --no-default-features -- -D warnings

step "Rust tests, linted (edgejwt-core: every target, doctests, and the npm package's feature set; worker: unit; cli)"
cargo test -p edgejwt-core --all-features --all-targets
# The npm package's wasm builds the core with only `host-signatures` (crates/wasm).
cargo test -p edgejwt-core --no-default-features --features host-signatures
cargo test -p edgejwt-core --all-features --doc
cargo test -p edgejwt-worker --lib
cargo test -p edgejwt-cli

step "fuzz targets (cargo fuzz, ${FUZZ_SECONDS:-10} s each, seeded from the fixtures)"
bash scripts/fuzz.sh

step "edgejwt-core builds without std (wasm32v1-none), linted"
cargo build -p edgejwt-core --release --target wasm32v1-none

step "issuer Worker (linted wasm build) in workerd (Miniflare, local D1 and KV)"
bash scripts/build-worker.sh
node --test --test-concurrency=1 "${WORKER_TESTS[@]}"

step "edgejwt CLI against local D1 and KV (wrangler --local), then the issuer on that state"
cargo build -q -p edgejwt-cli
node --test --test-concurrency=1 "${CLI_TESTS[@]}"

step "npm package: Node, workerd, Deno and Bun (installed from npm pack)"
bash scripts/build-pkg.sh
EDGEJWT_RUNTIMES="$(bash scripts/ensure-runtimes.sh)"
export EDGEJWT_RUNTIMES
node --test --test-concurrency=1 "${PKG_TESTS[@]}"

step "SPA client and demo SPA in headless Chromium"
bash scripts/ensure-chromium.sh
bash scripts/build-www.sh
node --test --test-concurrency=1 "${BROWSER_TESTS[@]}"

printf '\nall tests passed\n'
