#!/usr/bin/env bash
# Runs every edgejwt test. This is the README's test command and what CI runs (.ci/run).
# Installs what a fresh machine lacks (rustup targets) and skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "toolchain"
installed=$(rustup target list --installed)
for target in wasm32-unknown-unknown wasm32v1-none; do
  grep -qx "$target" <<<"$installed" || rustup target add "$target"
done
rustup component list --installed | grep -q '^rustfmt' || rustup component add rustfmt
rustup component list --installed | grep -q '^clippy' || rustup component add clippy

step "rustfmt"
cargo fmt --all -- --check

step "clippy (host, every feature set of the core)"
cargo clippy --workspace --all-targets --all-features -- -D warnings
cargo clippy -p edgejwt-core --all-targets --no-default-features -- -D warnings
step "clippy (wasm32-unknown-unknown, wasm32v1-none)"
cargo clippy -p edgejwt-core -p edgejwt-size-probe --target wasm32-unknown-unknown -- -D warnings
cargo clippy -p edgejwt-core --target wasm32v1-none -- -D warnings

step "edgejwt-core tests (unit, integration, doctests)"
cargo test -p edgejwt-core --all-features

step "edgejwt-core builds without std (wasm32v1-none)"
cargo build -p edgejwt-core --release --target wasm32v1-none

printf '\nall tests passed\n'
