#!/usr/bin/env bash
# Runs edgejwt locally. This is the README's run command.
# Today it builds the core and mints and verifies a token pair with it; the issuer Worker
# (wrangler dev on 127.0.0.1:8787 with local D1 and KV, seeded users, the demo SPA)
# takes over this command when it lands.
set -euo pipefail
cd "$(dirname "$0")/.."
now=$(date +%s)
echo "edgejwt-core: tokens minted now with the simplejwt reference's demo key (HS256):"
cargo run -q -p edgejwt-core --example mint -- "$now" | python3 -c '
import base64, json, sys
for name, token in json.load(sys.stdin).items():
    claims = token.split(".")[1]
    padded = claims + "=" * (-len(claims) % 4)
    print("\n%s:\n  %s\n  claims: %s" % (name, token, base64.urlsafe_b64decode(padded).decode()))
'
