#!/usr/bin/env python3
"""Record Django's CSRF check for edgejwt-core's `browser::BrowserSettings::check_csrf`.

Runs the real `django.middleware.csrf.CsrfViewMiddleware` (as DRF's `CSRFCheck` and
dj-rest-auth's `JWTCookieAuthentication.enforce_csrf` run it) of the simplejwt reference's
Django (default ../shared/simplejwt-reference, override with SIMPLEJWT_REFERENCE=DIR; its
`.venv` is created by DIR/setup.sh if missing) over the POST requests below, and writes
every case's outcome (None = accepted, else Django's reason) to
crates/core/tests/fixtures/django-csrf.json. Tests read only that file. Usage:
    python3 scripts/record-django-csrf.py
"""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = Path(os.environ.get("SIMPLEJWT_REFERENCE", ROOT.parent / "shared" / "simplejwt-reference"))
FIXTURE = ROOT / "crates" / "core" / "tests" / "fixtures" / "django-csrf.json"


def reexec_in_reference_venv():
    python = REFERENCE / ".venv" / "bin" / "python"
    if Path(sys.prefix).resolve() == (REFERENCE / ".venv").resolve():
        return
    if not python.exists():
        subprocess.run([str(REFERENCE / "setup.sh")], check=True)
    os.execv(str(python), [str(python), __file__, *sys.argv[1:]])


reexec_in_reference_venv()

import django  # noqa: E402
from django.conf import settings  # noqa: E402

settings.configure(ALLOWED_HOSTS=["*"], SECRET_KEY="record-django-csrf", USE_TZ=True)
django.setup()

from django.middleware.csrf import CsrfViewMiddleware, _mask_cipher_secret  # noqa: E402
from django.test import RequestFactory, override_settings  # noqa: E402

SECRET = "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE"  # 32 allowed characters
OTHER = "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"
MASKED = _mask_cipher_secret(SECRET)
MASKED_OTHER = _mask_cipher_secret(OTHER)

BASE = {"secure": False, "host": "auth.example.com", "origin": None, "referer": None,
        "cookie": SECRET, "header": SECRET, "trusted": [], "cookie_domain": None,
        "header_name": "HTTP_X_CSRFTOKEN"}


def case(name, **over):
    c = dict(BASE)
    c.update(over)
    c["name"] = name
    return c


CASES = [
    case("same token, no origin, http"),
    case("masked header token", header=MASKED),
    case("masked cookie (Django < 4)", cookie=MASKED),
    case("both masked", cookie=MASKED, header=_mask_cipher_secret(SECRET)),
    case("masked other secret", header=MASKED_OTHER),
    case("no cookie", cookie=None),
    case("no header", header=None),
    case("empty header", header=""),
    case("empty cookie", cookie=""),
    case("incorrect", header=OTHER),
    case("short header", header=SECRET[:31]),
    case("long header", header=SECRET + "a"),
    case("header with invalid characters", header=SECRET[:31] + "-"),
    case("cookie with invalid characters", cookie=SECRET[:31] + "!"),
    case("short cookie", cookie="abc"),
    case("own origin", origin="http://auth.example.com"),
    case("own origin with port", host="localhost:8787", origin="http://localhost:8787"),
    case("own origin, other port", host="localhost:8787", origin="http://localhost:8788"),
    case("trusted origin", origin="http://localhost:8788", trusted=["http://localhost:8788"]),
    case("untrusted origin", origin="https://evil.example"),
    case("origin null", origin="null"),
    case("https own origin", secure=True, origin="https://auth.example.com"),
    case("https, http origin", secure=True, origin="http://auth.example.com"),
    case("wildcard trusted", secure=True, origin="https://app.example.com", trusted=["https://*.example.com"]),
    case("wildcard trusted, bare domain", secure=True, origin="https://example.com", trusted=["https://*.example.com"]),
    case("wildcard, other scheme", secure=True, origin="http://app.example.com", trusted=["https://*.example.com"]),
    case("wildcard, lookalike", secure=True, origin="https://evilexample.com", trusted=["https://*.example.com"]),
    case("origin checked before token", origin="https://evil.example", cookie=None),
    case("https, no origin, no referer", secure=True),
    case("https, referer own", secure=True, referer="https://auth.example.com/app/"),
    case("https, referer other", secure=True, referer="https://evil.example/x"),
    case("https, referer http", secure=True, referer="http://auth.example.com/"),
    case("https, referer malformed", secure=True, referer="not a url"),
    case("https, referer trusted", secure=True, referer="https://app.example.com/p", trusted=["https://app.example.com"]),
    case("https, referer wildcard", secure=True, referer="https://a.example.com/p", trusted=["https://*.example.com"]),
    case("https, referer cookie domain", secure=True, host="auth.example.com", referer="https://app.example.com/", cookie_domain=".example.com"),
    case("https, referer checked before token", secure=True, referer="https://evil.example/", header=None),
    case("custom header name", header_name="HTTP_X_XSRF_TOKEN", header=OTHER),
    case("custom header name, missing", header_name="HTTP_X_XSRF_TOKEN", header=None),
]


# Capture the reason the way DRF does (`reason = check.process_view(...)` is the response;
# DRF's CSRFCheck overrides _reject to return the reason itself).
class ReasonCheck(CsrfViewMiddleware):
    def _reject(self, request, reason):
        return reason


def outcome(c):
    factory = RequestFactory()
    meta = {"HTTP_HOST": c["host"]}
    if c["origin"] is not None:
        meta["HTTP_ORIGIN"] = c["origin"]
    if c["referer"] is not None:
        meta["HTTP_REFERER"] = c["referer"]
    if c["header"] is not None:
        meta[c["header_name"]] = c["header"]
    with override_settings(CSRF_TRUSTED_ORIGINS=c["trusted"], CSRF_COOKIE_DOMAIN=c["cookie_domain"],
                           CSRF_HEADER_NAME=c["header_name"]):
        request = factory.post("/api/token/refresh/", data="{}", content_type="application/json",
                               secure=c["secure"], **meta)
        if c["cookie"] is not None:
            request.COOKIES["csrftoken"] = c["cookie"]
        check = ReasonCheck(lambda r: None)
        check.process_request(request)
        return check.process_view(request, None, (), {})


def main():
    out = {"django": django.get_version(), "cases": []}
    for c in CASES:
        entry = {k: c[k] for k in ("name", "secure", "host", "origin", "referer", "cookie", "header",
                                   "trusted", "cookie_domain", "header_name")}
        entry["reason"] = outcome(c)
        out["cases"].append(entry)
    FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    FIXTURE.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {FIXTURE.relative_to(ROOT)}: {len(CASES)} cases from Django {django.get_version()}")


main()
