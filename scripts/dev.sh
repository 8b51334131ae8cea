#!/usr/bin/env bash
# Runs edgejwt locally: the README's run command.
#
# Builds the issuer Worker, the npm package and the demo SPA, applies the D1 migrations to the embedded local D1, seeds the
# demo users (alice / alice-password-1, id 1, active; bob / bob-password-1, id 2, inactive)
# and serves on http://127.0.0.1:$PORT with `wrangler dev` (workerd, local D1 and KV; state
# kept in .wrangler/state across restarts), with the demo SPA (www/) at /.
#
# Overrides from the environment: PORT (8787), SIGNING_KEY (else a random key kept in
# .dev.vars), ROTATE_REFRESH_TOKENS, BLACKLIST_AFTER_ROTATION, ACCESS_TOKEN_LIFETIME,
# REFRESH_TOKEN_LIFETIME, and any other setting in wrangler.toml's [vars]; EDGEJWT_STATE
# (.wrangler/state) holds the local D1 and KV.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_npm
bash scripts/build-worker.sh
bash scripts/build-pkg.sh
bash scripts/build-www.sh

if [ ! -f .dev.vars ]; then
  echo "SIGNING_KEY=\"$(node -e 'console.log(require("crypto").randomBytes(48).toString("base64url"))')\"" > .dev.vars
  echo "dev: wrote a random SIGNING_KEY to .dev.vars" >&2
fi

state="${EDGEJWT_STATE:-.wrangler/state}"
npx wrangler d1 migrations apply DB --local --persist-to "$state" >/dev/null
for user in "alice alice-password-1 --id 1" "bob bob-password-1 --id 2 --inactive"; do
  set -- $user
  node scripts/createuser.mjs --local --persist-to "$state" "$1" --password "$2" "${@:3}" --email "$1@example.com"
done

vars=()
for name in SIGNING_KEY ROTATE_REFRESH_TOKENS BLACKLIST_AFTER_ROTATION ACCESS_TOKEN_LIFETIME REFRESH_TOKEN_LIFETIME \
            SLIDING_TOKEN_LIFETIME SLIDING_TOKEN_REFRESH_LIFETIME ALGORITHM VERIFYING_KEY UPDATE_LAST_LOGIN TOKEN_CLAIMS; do
  if [ -n "${!name:-}" ]; then vars+=(--var "$name:${!name}"); fi
done
port="${PORT:-8787}"
echo "dev: edgejwt demo on http://127.0.0.1:$port/ (sign in as alice / alice-password-1); API under /api/" >&2
# The demo SPA (www/) is served next to the API, same origin, in local runs only.
exec npx wrangler dev --ip 127.0.0.1 --port "$port" --local --persist-to "$state" --assets www/dist "${vars[@]}"
