#!/usr/bin/env bash
# Builds the demo SPA into www/dist (served by the issuer's wrangler.toml [assets]).
# Needs the built package (scripts/build-pkg.sh): the page imports edgejwt/client from it.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf www/dist && mkdir -p www/dist
npx esbuild www/src/app.ts --bundle --format=esm --target=es2022 --outfile=www/dist/app.js --log-level=warning
cp www/index.html www/style.css www/dist/
echo "built www/dist: $(stat -c %s www/dist/app.js) bytes app.js" >&2
