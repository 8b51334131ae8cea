#!/usr/bin/env bash
# Installs Debian's chromium (/usr/bin/chromium) for the browser tests, once.
# Does nothing when it is already there. `npx playwright install` cannot be used (it downloads
# browsers from a CDN); playwright-core drives the Debian build through `executablePath`.
set -euo pipefail

CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1; then
  SUDO=(sudo)
else
  echo "ensure-chromium: $CHROMIUM is missing and neither root nor sudo is available" >&2
  echo "ensure-chromium: install it with: apt-get install -y chromium" >&2
  exit 1
fi

echo "ensure-chromium: installing chromium with apt-get" >&2
export DEBIAN_FRONTEND=noninteractive
if ! "${SUDO[@]}" apt-get install -y --no-install-recommends chromium; then
  # Stale package lists: refresh them once and retry.
  "${SUDO[@]}" apt-get update
  "${SUDO[@]}" apt-get install -y --no-install-recommends chromium
fi

if [ ! -x "$CHROMIUM" ]; then
  echo "ensure-chromium: apt-get finished but $CHROMIUM is still missing" >&2
  exit 1
fi
"$CHROMIUM" --version >&2 || true
