#!/usr/bin/env bash
# Runs every fuzz target (fuzz/, cargo fuzz + libFuzzer, AddressSanitizer) for a bounded time,
# each from the seeds fuzz/seed.mjs makes out of the test fixtures plus the corpus earlier runs
# kept (fuzz/corpus/, not committed). A crash fails the run and leaves its input in
# fuzz/artifacts/<target>/; it then becomes a regression test.
#
#   bash scripts/fuzz.sh            # 10 s per target (the test command runs this)
#   FUZZ_SECONDS=3600 bash scripts/fuzz.sh token_decode   # a long run of one target
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_cargo_fuzz
ensure_npm

seconds="${FUZZ_SECONDS:-10}"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cd fuzz && nightly_cargo fuzz list)
fi
node fuzz/seed.mjs
# The fuzz build keeps its own target dir, fuzz/target (nightly, sanitizer flags: nothing
# to share with the stable builds).
(cd fuzz && nightly_cargo fuzz build -O)
for target in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$target" "fuzz/seeds/$target"
  log=$(mktemp)
  if ! (cd fuzz && nightly_cargo fuzz run -O "$target" "corpus/$target" "seeds/$target" -- \
      -max_total_time="$seconds" -rss_limit_mb=4096 -timeout=10 -print_final_stats=1) >"$log" 2>&1; then
    tail -40 "$log" >&2
    echo "fuzz: $target failed; the input is in fuzz/artifacts/$target/" >&2
    exit 1
  fi
  runs=$(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  echo "fuzz: $target: $runs executions in ${seconds}s, no crash"
  rm -f "$log"
done
