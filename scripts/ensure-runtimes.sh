#!/usr/bin/env bash
# Installs Deno and Bun for the package's tests (tests/pkg/deno.test.mjs, bun.test.mjs), once:
# the npm packages `deno` and `bun` ship their binaries through the registry. Pinned, into
# $EDGEJWT_TOOLS (~/.cache/edgejwt) like the wasm-bindgen CLI, so a second run skips it and
# the repository's lockfile stays free of two ~100 MB binaries. Prints the bin directory.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

DENO_VERSION=2.9.6
BUN_VERSION=1.4.5
dir="$EDGEJWT_TOOLS/runtimes-deno$DENO_VERSION-bun$BUN_VERSION"
bin="$dir/node_modules/.bin"
if ! { "$bin/deno" --version 2>/dev/null | grep -q "^deno $DENO_VERSION " && "$bin/bun" --version 2>/dev/null | grep -qx "$BUN_VERSION"; }; then
  echo "ensure-runtimes: installing deno@$DENO_VERSION and bun@$BUN_VERSION into $dir" >&2
  mkdir -p "$dir"
  [ -f "$dir/package.json" ] || echo '{"private": true}' >"$dir/package.json"
  npm install --prefix "$dir" --no-audit --no-fund --loglevel=error --save-exact "deno@$DENO_VERSION" "bun@$BUN_VERSION" >&2
fi
echo "$bin"
