#!/usr/bin/env bash
# Builds the issuer Worker into build/worker/: Rust → wasm32 → wasm-bindgen → shim.mjs,
# the `main` of wrangler.toml. Also wrangler's [build] command.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_rust_targets wasm32-unknown-unknown
ensure_wasm_bindgen

cargo build -q --release --target wasm32-unknown-unknown -p edgejwt-worker
out=build/worker
rm -rf "$out" && mkdir -p "$out"
wasm-bindgen target/wasm32-unknown-unknown/release/edgejwt_worker.wasm \
  --target module --out-dir "$out" --out-name index --no-typescript \
  --experimental-reset-state-function --remove-name-section --remove-producers-section
# workerd and wrangler's bundler import compiled wasm modules with a plain import.
sed -i 's/^import source wasmModule from/import wasmModule from/' "$out/index.js"
cp crates/worker/js/shim.mjs "$out/shim.mjs"
echo "built $out: $(stat -c %s "$out/index_bg.wasm") bytes wasm, $(gzip -9 -c "$out/index_bg.wasm" | wc -c) gzip" >&2
