#!/usr/bin/env bash
# Size of a minimal HS256 verifier built from edgejwt-core for wasm32-unknown-unknown
# (release profile: opt-level z, LTO, one codegen unit, stripped). Prints raw and gzip bytes.
set -euo pipefail
cd "$(dirname "$0")/.."
features="${1:-}"   # e.g. "--no-default-features" for HS* only
cargo build -q --release -p edgejwt-size-probe --target wasm32-unknown-unknown $features
wasm=target/wasm32-unknown-unknown/release/edgejwt_size_probe.wasm
raw=$(stat -c %s "$wasm")
gz=$(gzip -9 -c "$wasm" | wc -c)
echo "minimal verifier (${features:-default features}): ${raw} bytes raw, ${gz} bytes gzip -9"
