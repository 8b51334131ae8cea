#!/usr/bin/env python3
"""Record real Django exports for `edgejwt import-django`'s tests.

Runs the simplejwt reference's Django project (default ../shared/simplejwt-reference,
override with SIMPLEJWT_REFERENCE=DIR) on a fresh SQLite database of its own, with a
settings module that adds Django's PBKDF2-SHA1, Argon2 and BCrypt-SHA256 hashers and a
10-year refresh lifetime (so the recorded live token stays live for the tests). It then:

- creates users whose passwords are hashed by Django itself: pbkdf2_sha256 (Django's
  default, at its default cost), pbkdf2_sha1, an unusable password, argon2 and
  bcrypt_sha256 (with argon2-cffi and bcrypt installed; if either cannot be installed,
  a hand-built hash string in that hasher's format stands in, labelled "hand-built" in
  the manifest);
- issues simplejwt refresh tokens (`RefreshToken.for_user`): two stay outstanding and
  one is blacklisted (`token.blacklist()`), as Django's own views do;
- runs `manage.py dumpdata auth.user --indent 2` and `dumpdata token_blacklist` (one
  line, dumpdata's default), and exports auth_user as CSV (`sqlite3 -csv -header`'s
  shape: the table's columns, SQLite's datetime text);
- writes deliberately broken copies of the JSON and CSV exports, each bad row listed
  with the problem the import must report.

Writes crates/cli/tests/fixtures/django/: users.json, tokens.json, users.csv,
broken.json, broken.csv and manifest.json (passwords, tokens, signing key, expected
problems). Tests read only these files. Django and its hashers run in a virtualenv of
their own (~/.cache/edgejwt/django-export-venv, or EDGEJWT_DJANGO_VENV), made from the
reference's pinned requirements; the reference directory is only read.

Usage: python3 scripts/record-django-exports.py
"""
import csv
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = Path(os.environ.get("SIMPLEJWT_REFERENCE", ROOT.parent / "shared" / "simplejwt-reference"))
OUT = ROOT / "crates" / "cli" / "tests" / "fixtures" / "django"
VENV = Path(os.environ.get("EDGEJWT_DJANGO_VENV", Path.home() / ".cache" / "edgejwt" / "django-export-venv"))
HASHER_LIBS = ["argon2-cffi==25.1.0", "bcrypt==5.0.0"]


def runs_3_12(python):
    """True if `python` starts and is >= 3.12 (a pyenv shim may exist and not run)."""
    try:
        check = "import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)"
        return subprocess.run([python, "-c", check], capture_output=True).returncode == 0
    except OSError:
        return False


def newest_python():
    """Django 6.1 needs Python >= 3.12; 3.11 gets the reference's fallback pins."""
    candidates = [shutil.which(f"python3.{m}") for m in (14, 13, 12)]
    pyenv = Path.home() / ".pyenv" / "versions"
    if pyenv.is_dir():
        candidates += sorted((str(p / "bin" / "python") for p in pyenv.glob("3.1[2-9]*")), reverse=True)
    for c in candidates:
        if c and runs_3_12(c):
            return c, REFERENCE / "reference" / "requirements.txt"
    return sys.executable, REFERENCE / "reference" / "requirements-py311.txt"


def reexec_in_venv():
    if Path(sys.prefix).resolve() == VENV.resolve():
        return
    python = VENV / "bin" / "python"
    if not python.exists():
        base, requirements = newest_python()
        subprocess.run([base, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "-r", str(requirements)], check=True)
        # The hashers' libraries: without them the script hand-builds those hashes.
        subprocess.run([str(python), "-m", "pip", "install", "-q", *HASHER_LIBS], check=False)
    os.execv(str(python), [str(python), __file__, *sys.argv[1:]])


SETTINGS = '''
from datetime import timedelta
from refsite.settings import *  # noqa: F401,F403 (the reference project, unchanged)

DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": %(db)r}}
PASSWORD_HASHERS = %(hashers)r
SIMPLE_JWT = {**SIMPLE_JWT, "REFRESH_TOKEN_LIFETIME": timedelta(days=3650)}
'''

# username, password, hasher (None: unusable), extra fields
USERS = [
    ("alice", "alice-password-1", "pbkdf2_sha256", {"email": "alice@example.com", "first_name": "Alice", "last_name": "Liddell", "is_staff": True}),
    ("bob", "bob-password-1", "pbkdf2_sha256", {"email": "bob@example.com", "is_active": False}),
    ("carol", "carol-password-1", "pbkdf2_sha1", {"email": "carol@example.com", "first_name": "Carol"}),
    ("dave", None, None, {"email": "dave@example.com"}),
    ("erin", "erin-password-1", "argon2", {"email": "erin@example.com"}),
    ("frank", "frank-password-1", "bcrypt_sha256", {"email": "frank@example.com"}),
    ("o'hara", "grace-password-1", "pbkdf2_sha256", {"email": "grace@example.com", "first_name": "Grace", "last_name": "O'Hara", "is_superuser": True, "is_staff": True}),
]


def hand_built(hasher):
    """A hash string in the hasher's format when its library is missing (never verified)."""
    return {
        "argon2": "argon2$argon2id$v=19$m=102400,t=2,p=8$aGFuZGJ1aWx0c2FsdA$aGFuZC1idWlsdC1ub3QtYS1yZWFsLWhhc2g",
        "bcrypt_sha256": "bcrypt_sha256$$2b$12$handbuiltsaltxxxxxxxxuhandbuilthashnotrealxxxxxxxxxxxx",
    }[hasher]


def main():
    reexec_in_venv()
    tmp = Path(tempfile.mkdtemp(prefix="edgejwt-django-"))
    try:
        record(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def record(tmp):
    sys.dont_write_bytecode = True  # the reference directory is read-only to us
    db = tmp / "django.sqlite3"
    available = {"pbkdf2_sha256": True, "pbkdf2_sha1": True}
    for name, module in (("argon2", "argon2"), ("bcrypt_sha256", "bcrypt")):
        try:
            __import__(module)
            available[name] = True
        except ImportError:
            available[name] = False
    hashers = ["django.contrib.auth.hashers.PBKDF2PasswordHasher", "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher"]
    if available["argon2"]:
        hashers.append("django.contrib.auth.hashers.Argon2PasswordHasher")
    if available["bcrypt_sha256"]:
        hashers.append("django.contrib.auth.hashers.BCryptSHA256PasswordHasher")
    (tmp / "exportsite.py").write_text(SETTINGS % {"db": str(db), "hashers": hashers})
    sys.path[:0] = [str(tmp), str(REFERENCE / "reference")]
    os.environ["DJANGO_SETTINGS_MODULE"] = "exportsite"

    import django
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.utils import timezone

    django.setup()
    from django.contrib.auth.models import Group, User
    from rest_framework_simplejwt.tokens import RefreshToken

    call_command("migrate", verbosity=0, interactive=False)
    made = {}
    for username, password, hasher, extra in USERS:
        user = User(username=username, **extra)
        if hasher is None:
            user.set_unusable_password()
            source = "Django set_unusable_password()"
        elif available[hasher]:
            user.password = make_password(password, hasher=hasher)
            source = f"Django make_password(hasher={hasher!r})"
        else:
            user.password = hand_built(hasher)
            source = f"hand-built {hasher} string ({hasher} library not installed)"
        if username == "o'hara":
            user.last_login = timezone.now()
        user.save()
        made[username] = {"id": user.id, "password": password, "hasher": hasher or "unusable", "hash_source": source}
    # A group, so dumpdata of a whole app has elements the import skips (and reports).
    Group.objects.create(name="editors")

    alice = User.objects.get(username="alice")
    carol = User.objects.get(username="carol")
    live = RefreshToken.for_user(alice)
    live_carol = RefreshToken.for_user(carol)
    revoked = RefreshToken.for_user(alice)
    revoked.blacklist()

    def dump(*labels, indent=None):
        out = io.StringIO()
        call_command("dumpdata", *labels, indent=indent, stdout=out)
        return out.getvalue()

    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "users.json").write_text(dump("auth.user", indent=2) + "\n")
    (OUT / "tokens.json").write_text(dump("token_blacklist") + "\n")
    (OUT / "auth.json").write_text(dump("auth") + "\n")
    with sqlite3.connect(db) as conn:
        cur = conn.execute(
            "SELECT * FROM auth_user ORDER BY id"
        )
        rows = cur.fetchall()
        header = [d[0] for d in cur.description]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    (OUT / "users.csv").write_text(buf.getvalue())

    broken_problems = write_broken(json.loads((OUT / "users.json").read_text()), json.loads((OUT / "tokens.json").read_text()), header, rows)

    manifest = {
        "recorded_with": {
            "django": django.get_version(),
            "simplejwt": __import__("importlib.metadata").metadata.version("djangorestframework_simplejwt"),
            "python": sys.version.split()[0],
            "hashers": hashers,
        },
        "signing_key": __import__("django.conf").conf.settings.SIMPLE_JWT["SIGNING_KEY"],
        "users": made,
        "tokens": {
            "outstanding_refresh": str(live),
            "outstanding_refresh_carol": str(live_carol),
            "blacklisted_refresh": str(revoked),
        },
        "broken": broken_problems,
    }
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {OUT}: {len(made)} users, 3 tokens (1 blacklisted), {len(broken_problems['json']) + len(broken_problems['csv'])} broken rows", file=sys.stderr)


def write_broken(users, tokens, header, rows):
    """Copies of the real exports with one defect per listed row; returns, per file, the
    element index (JSON) or line (CSV) of each defect and what the import must say."""
    good = users[0]
    elements, expected = [], []

    def add(element, problem):
        if problem:
            expected.append({"index": len(elements), "contains": problem})
        elements.append(element)

    def edit(pk, **fields):
        e = json.loads(json.dumps(good))
        e["pk"] = pk
        e["fields"]["username"] = f"user{pk}"
        e["fields"].update(fields)
        return e

    add(good, None)
    add(edit(100, username=None), "username is null")
    add(edit(101, date_joined="yesterday"), 'date_joined "yesterday" is not a date and time')
    add(edit(102, is_active="maybe"), 'is_active "maybe" is not a boolean')
    add(edit(103, username=good["fields"]["username"]), "has username")
    add({k: v for k, v in edit(104).items() if k != "pk"}, "has no pk")
    add("not an object", "is not an object")
    add(edit("x"), "id \"x\" is not a whole number")
    add({"model": "auth.group", "pk": 1, "fields": {"name": "editors", "permissions": []}}, None)
    outstanding = next(t for t in tokens if t["model"] == "token_blacklist.outstandingtoken")
    no_exp = json.loads(json.dumps(outstanding))
    no_exp["pk"] = 900
    no_exp["fields"]["jti"] = "f" * 32
    del no_exp["fields"]["expires_at"]
    add(no_exp, "expires_at is missing")
    add({"model": "token_blacklist.blacklistedtoken", "pk": 900, "fields": {"token": 999, "blacklisted_at": outstanding["fields"]["created_at"]}},
        "outstanding token pk 999, which is not in the export")
    (OUT / "broken.json").write_text(json.dumps(elements, indent=2) + "\n")

    csv_expected = []
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerow(rows[0])
    col = {name: i for i, name in enumerate(header)}

    def row_edit(pk, **fields):
        r = list(rows[0])
        r[col["id"]] = pk
        r[col["username"]] = f"user{pk}"
        for k, v in fields.items():
            r[col[k]] = v
        return r

    line = 3
    for r, problem in [
        (row_edit(200, is_staff="yes please"), 'is_staff "yes please" is not a boolean'),
        (row_edit(201, last_login="31/12/2025"), 'last_login "31/12/2025" is not a date and time'),
        (row_edit("two-hundred-two"), 'id "two-hundred-two" is not a whole number'),
        (row_edit(203)[:5], "has 5 fields, the header has 11"),
        (row_edit(rows[0][col["id"]]), "has id"),
    ]:
        writer.writerow(r)
        csv_expected.append({"line": line, "contains": problem})
        line += 1
    (OUT / "broken.csv").write_text(buf.getvalue())
    return {"json": expected, "csv": csv_expected}


if __name__ == "__main__":
    main()
