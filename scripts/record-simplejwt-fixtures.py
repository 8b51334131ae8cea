#!/usr/bin/env python3
"""Record the simplejwt interop fixtures for edgejwt-core's tests.

Starts the real simplejwt 5.5.1 reference server (default ../shared/simplejwt-reference,
override with SIMPLEJWT_REFERENCE=DIR), then records, in both directions:

- tokens the reference mints (obtain pair, sliding, refresh with rotation), with their
  header and claims decoded here, independently of edgejwt;
- tokens edgejwt-core mints (`cargo run --example mint`), and how the reference answers
  them on /api/token/verify/, /api/protected/, /api/token/refresh/ and
  /api/token/sliding/refresh/.

Writes crates/core/tests/fixtures/simplejwt-interop.json. The test
crates/core/tests/simplejwt_interop.rs checks the recording against the core at run time,
without the reference. Usage: python3 scripts/record-simplejwt-fixtures.py
"""
import base64
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = Path(os.environ.get("SIMPLEJWT_REFERENCE", ROOT.parent / "shared" / "simplejwt-reference"))
OUT = ROOT / "crates" / "core" / "tests" / "fixtures" / "simplejwt-interop.json"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def b64json(segment):
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def decoded(token):
    header, claims, _ = token.split(".")
    return {"token": token, "header": b64json(header), "claims": b64json(claims)}


def call(base, method, path, body=None, token=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as err:
        status, raw = err.code, err.read()
    return {"method": method, "path": path, "status": status, "json": json.loads(raw or b"null")}


def main():
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([str(REFERENCE / "reference" / "run.sh"), str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    try:
        for _ in range(600):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.2)
        else:
            sys.exit("reference did not start")

        recorded_at = int(time.time())
        pair = call(base, "POST", "/api/token/", {"username": "alice", "password": "alice-password-1"})
        sliding = call(base, "POST", "/api/token/sliding/", {"username": "alice", "password": "alice-password-1"})
        rotated = call(base, "POST", "/api/token/refresh/", {"refresh": pair["json"]["refresh"]})
        reference_minted = {
            "access": decoded(pair["json"]["access"]),
            "refresh": decoded(pair["json"]["refresh"]),
            "sliding": decoded(sliding["json"]["token"]),
            "rotated_access": decoded(rotated["json"]["access"]),
            "rotated_refresh": decoded(rotated["json"]["refresh"]),
        }

        # Mint with the core at the same second; the test re-mints from `recorded_at`.
        minted = json.loads(subprocess.run(
            ["cargo", "run", "-q", "-p", "edgejwt-core", "--example", "mint", "--", str(recorded_at)],
            cwd=ROOT, check=True, capture_output=True, text=True).stdout)
        core_minted = {name: {**decoded(tok), "reference": []} for name, tok in minted.items()}
        for name, entry in core_minted.items():
            tok = entry["token"]
            entry["reference"].append(call(base, "POST", "/api/token/verify/", {"token": tok}))
            if name.startswith("access"):
                entry["reference"].append(call(base, "GET", "/api/protected/", token=tok))
        ref = core_minted["refresh"]["reference"]
        ref.append(call(base, "POST", "/api/token/refresh/", {"refresh": core_minted["refresh"]["token"]}))
        # Rotation blacklisted our refresh token in the reference: reuse is refused.
        ref.append(call(base, "POST", "/api/token/refresh/", {"refresh": core_minted["refresh"]["token"]}))
        core_minted["sliding"]["reference"].append(
            call(base, "POST", "/api/token/sliding/refresh/", {"token": core_minted["sliding"]["token"]}))

        fixture = {
            "about": "Recorded by scripts/record-simplejwt-fixtures.py against djangorestframework-simplejwt 5.5.1 "
                     "(HS256, its default SIGNING_KEY, ROTATE_REFRESH_TOKENS and BLACKLIST_AFTER_ROTATION on).",
            "recorded_at": recorded_at,
            "reference_minted": reference_minted,
            "core_minted": core_minted,
        }
        OUT.parent.mkdir(parents=True, exist_ok=True)
        OUT.write_text(json.dumps(fixture, indent=2, sort_keys=True) + "\n")
        print(f"wrote {OUT.relative_to(ROOT)}")
    finally:
        os.killpg(server.pid, 15)
        server.wait()


if __name__ == "__main__":
    main()
