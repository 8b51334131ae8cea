#!/usr/bin/env bash
# Runs edgejwt locally: the README's run command.
#
# Builds the issuer Worker, the npm package and the demo SPA, applies the D1 migrations to the embedded local D1, seeds the
# demo users (alice / alice-password-1, id 1, active; bob / bob-password-1, id 2, inactive)
# and serves on http://127.0.0.1:$PORT with `wrangler dev` (workerd, local D1 and KV; state
# kept in .wrangler/state across restarts), with the demo SPA (www/) at /.
#
# Overrides from the environment: PORT (8787), SIGNING_KEY (else a random key kept in
# .dev.vars), and every other setting the Worker reads (the SETTINGS list below);
# EDGEJWT_STATE (.wrangler/state) holds the local D1 and KV.
#
#   --cookie        cookie mode: the refresh token in an HttpOnly cookie (JWT_AUTH_REFRESH_COOKIE
#                   =refresh_token) with Django's CSRF check; the demo page starts in cookie mode.
#   --cross-origin  as a real deployment with the SPA elsewhere: cookie mode, the issuer on
#                   http://localhost:$PORT and the page on http://localhost:$PAGE_PORT (8788; same
#                   site, so the SameSite=Lax cookie is sent and the page reads the csrftoken
#                   cookie), with CORS_ALLOWED_ORIGINS, CORS_ALLOW_CREDENTIALS and
#                   CSRF_TRUSTED_ORIGINS naming the page (and CORS_EXPOSE_HEADERS=retry-after
#                   for the throttle's wait). Chromium takes Secure cookies on
#                   http://localhost, so JWT_AUTH_SECURE and CSRF_COOKIE_SECURE stay true.
set -euo pipefail
cd "$(dirname "$0")/.."
cookie="" cross=""
for arg in "$@"; do
  case "$arg" in
    --cookie) cookie=1 ;;
    --cross-origin) cookie=1 cross=1 ;;
    *) echo "usage: scripts/dev.sh [--cookie | --cross-origin]" >&2; exit 2 ;;
  esac
done
port="${PORT:-8787}"
page_port="${PAGE_PORT:-8788}"
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

# Every setting the Worker reads (edgejwt-core's SETTING_NAMES and BROWSER_SETTING_NAMES,
# then the issuer's own);
# a Rust test (crates/worker/src/config.rs) fails when this list drifts from the code.
SETTINGS="ACCESS_TOKEN_LIFETIME REFRESH_TOKEN_LIFETIME ROTATE_REFRESH_TOKENS BLACKLIST_AFTER_ROTATION UPDATE_LAST_LOGIN ALGORITHM SIGNING_KEY VERIFYING_KEY PREVIOUS_VERIFYING_KEYS AUDIENCE ISSUER LEEWAY AUTH_HEADER_TYPES AUTH_HEADER_NAME USER_ID_FIELD USER_ID_CLAIM TOKEN_TYPE_CLAIM JTI_CLAIM SLIDING_TOKEN_REFRESH_EXP_CLAIM SLIDING_TOKEN_LIFETIME SLIDING_TOKEN_REFRESH_LIFETIME AUTH_TOKEN_CLASSES CHECK_USER_IS_ACTIVE TOKEN_CLAIMS SESSION_CLAIM REFRESH_TOKEN_REUSE_INTERVAL SESSION_LIFETIME REFRESH_CLAIMS_FROM_USER CHECK_REVOKE_TOKEN LOGOUT_ON_PASSWORD_CHANGE JWT_AUTH_REFRESH_COOKIE JWT_AUTH_REFRESH_COOKIE_PATH JWT_AUTH_SECURE JWT_AUTH_SAMESITE JWT_AUTH_HTTPONLY JWT_AUTH_COOKIE_DOMAIN CSRF_COOKIE_NAME CSRF_HEADER_NAME CSRF_TRUSTED_ORIGINS CSRF_COOKIE_SECURE CSRF_COOKIE_DOMAIN CSRF_COOKIE_SAMESITE CORS_ALLOWED_ORIGINS CORS_ALLOW_ALL_ORIGINS CORS_ALLOW_CREDENTIALS CORS_ALLOW_HEADERS CORS_ALLOW_METHODS CORS_EXPOSE_HEADERS CORS_PREFLIGHT_MAX_AGE LOGIN_THROTTLE_RATE LOGIN_IP_THROTTLE_RATE PASSWORD_HASH_ITERATIONS DEFAULT_AUTHENTICATION_CLASSES D1_READ_REPLICAS AUTH_EVENTS_RETENTION LOG_LEVEL"
# The modes' settings, unless set in the environment (exported: the loop below passes them on).
if [ -n "$cookie" ]; then
  export JWT_AUTH_REFRESH_COOKIE="${JWT_AUTH_REFRESH_COOKIE-refresh_token}"
fi
if [ -n "$cross" ]; then
  page_origin="http://localhost:$page_port"
  export CORS_ALLOWED_ORIGINS="${CORS_ALLOWED_ORIGINS-$page_origin}"
  export CORS_ALLOW_CREDENTIALS="${CORS_ALLOW_CREDENTIALS-true}"
  export CSRF_TRUSTED_ORIGINS="${CSRF_TRUSTED_ORIGINS-$page_origin}"
  # A throttled login's Retry-After, readable by the page.
  export CORS_EXPOSE_HEADERS="${CORS_EXPOSE_HEADERS-retry-after}"
fi
# What the demo page is told: where the issuer is, and the mode it runs in.
issuer_url="" mode_name=bearer
[ -n "$cross" ] && issuer_url="http://localhost:$port"
[ -n "$cookie" ] && mode_name=cookie
printf '{"issuer": "%s", "mode": "%s"}\n' "$issuer_url" "$mode_name" > www/dist/config.json

vars=()
for name in $SETTINGS; do
  # Set (even to empty: SESSION_CLAIM= turns sessions off) → passed through.
  if [ -n "${!name+x}" ]; then vars+=(--var "$name:${!name}"); fi
done
if [ -n "$cross" ]; then
  # The page from its own origin: a static server for www/dist, stopped with this script.
  PAGE_PORT="$page_port" node --input-type=module -e '
    import { createServer } from "node:http";
    import { readFile } from "node:fs/promises";
    const types = { html: "text/html", js: "text/javascript", css: "text/css", json: "application/json" };
    createServer(async (req, res) => {
      const path = new URL(req.url, "http://x").pathname.replace(/^\/$/, "/index.html");
      const file = path.match(/^\/[\w.-]+$/) ? await readFile("www/dist" + path).catch(() => null) : null;
      if (!file) return res.writeHead(404).end("not found");
      res.writeHead(200, { "Content-Type": (types[path.split(".").pop()] ?? "application/octet-stream") + "; charset=utf-8", "Cache-Control": "no-store" });
      res.end(file);
    }).listen(Number(process.env.PAGE_PORT), "127.0.0.1");
  ' &
  page_pid=$!
  trap 'kill "$page_pid" 2>/dev/null' EXIT
  echo "dev: edgejwt demo on http://localhost:$page_port/ (sign in as alice / alice-password-1), issuer on http://localhost:$port/api/ (CORS, cookie mode)" >&2
  npx wrangler dev --ip 127.0.0.1 --port "$port" --local --persist-to "$state" "${vars[@]}"
  exit
fi
echo "dev: edgejwt demo on http://127.0.0.1:$port/ (sign in as alice / alice-password-1); API under /api/${cookie:+ (cookie mode)}" >&2
# The demo SPA (www/) is served next to the API, same origin, in local runs only.
exec npx wrangler dev --ip 127.0.0.1 --port "$port" --local --persist-to "$state" --assets www/dist "${vars[@]}"
