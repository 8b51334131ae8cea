#!/usr/bin/env bash
# Builds the npm package into pkg/dist: the core's wasm bindings (crates/wasm) through
# wasm-bindgen --target web, then the TypeScript wrapper with tsc.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_rust_targets wasm32-unknown-unknown
ensure_wasm_bindgen
ensure_npm

cargo build -q --profile release-pkg --target wasm32-unknown-unknown -p edgejwt-wasm
rm -rf pkg/src/wasm pkg/dist
wasm-bindgen target/wasm32-unknown-unknown/release-pkg/edgejwt_wasm.wasm \
  --target web --out-dir pkg/src/wasm --out-name edgejwt \
  --remove-name-section --remove-producers-section
npx tsc -p pkg/tsconfig.json
mkdir -p pkg/dist/wasm
cp pkg/src/wasm/edgejwt.js pkg/src/wasm/edgejwt.d.ts pkg/src/wasm/edgejwt_bg.wasm pkg/dist/wasm/
wasm=pkg/dist/wasm/edgejwt_bg.wasm
echo "built pkg/dist: $(stat -c %s "$wasm") bytes wasm, $(gzip -9 -c "$wasm" | wc -c) gzip" >&2
