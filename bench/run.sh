#!/usr/bin/env bash
# The `bench` command: measures edgejwt against the tools people would pick instead, in
# one run on this machine, and writes bench/RESULTS.md. Not part of the test command.
#
#   bash bench/run.sh            # BENCH_SECONDS=8 per load cell by default
#
# Needs the simplejwt reference for the issuer comparison (../shared/simplejwt-reference or
# SIMPLEJWT_REFERENCE=DIR; its column is left out without it) and wrk (installed from Debian).
# Run it on a quiet machine: figures are ratios measured in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_npm
ensure_wasm_bindgen
command -v wrk >/dev/null || { apt-get install -y wrk >/dev/null 2>&1 || sudo apt-get install -y wrk >/dev/null; }
bash scripts/build-worker.sh
bash scripts/build-pkg.sh

# A bench script's output without the issuer's own log lines (workerd's stdout and stderr,
# relayed by Miniflare: a 4xx is a console.warn): they are not part of the tables, nor of the
# terminal's output.
without_issuer_logs() {
  node "$@" 2> >(grep -v '^edgejwt: ' >&2) | grep -v '^edgejwt: '
}

out=bench/RESULTS.md
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
{
  echo "# edgejwt benchmarks"
  echo
  echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores ($cpu), $(node --version), $(rustc --version | cut -d' ' -f1-2)."
  echo "Reproduce: \`bash bench/run.sh\` (see its header). Ratios compare tools measured in the same run."
  echo
  echo "## Verify in Node (ops/s, same process, same tokens)"
  echo
  node bench/verify-node.mjs
  echo
  echo "## Verify inside workerd"
  echo
  node bench/verify-workerd.mjs
  echo
  echo "### What an HS256 verify is made of, in workerd and in Node"
  echo
  node bench/hs256-pieces.mjs
  echo
  echo "## Size and cold start"
  echo
  node bench/sizes.mjs
  echo
  echo "### What the verifier \`.wasm\` is made of"
  echo
  names=$(mktemp -d)
  wasm-bindgen target/wasm32-unknown-unknown/release-pkg/edgejwt_wasm.wasm --target web \
    --out-dir "$names" --out-name edgejwt
  node bench/wasm-breakdown.mjs "$names/edgejwt_bg.wasm"
  rm -rf "$names"
  echo
  echo "## Issuer under load: edgejwt in workerd vs a hand-written Hono + jose + D1 Worker and simplejwt"
  echo
  without_issuer_logs bench/issuer-load.mjs
  echo
  echo "## Login throttling's cost (the Durable Object)"
  echo
  # The issuer's own log lines (workerd's stdout) are not part of the table.
  without_issuer_logs bench/throttle-cost.mjs
  echo
  echo "## Costs that grow (tables of 1 vs 100,000 rows, one session rotated 10,000 times)"
  echo
  without_issuer_logs bench/growth.mjs
  echo
  echo "## Login's CPU: WebCrypto's PBKDF2 against the pure-Rust one"
  echo
  without_issuer_logs bench/login-cost.mjs
  echo
  echo "## Native core (criterion, ns per operation)"
  echo
  echo "| operation | ns |"
  echo "|---|---:|"
  cargo bench -q -p edgejwt-core --all-features --bench tokens -- --output-format bencher 2>/dev/null \
    | sed -n 's/^test \(.*\) \.\.\. bench: *\([0-9,]*\) ns\/iter.*/| \1 | \2 |/p'
} > "$out.tmp"
# The issue's targets, each read back from the tables of this run, go first.
{
  head -n 5 "$out.tmp"
  echo "## Targets, from the tables below"
  echo
  node bench/targets.mjs "$out.tmp"
  echo
  tail -n +6 "$out.tmp"
} > "$out"
rm "$out.tmp"
echo "wrote $out" >&2
node bench/chart.mjs "$out" bench/results.svg
