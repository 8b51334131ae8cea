#!/usr/bin/env python3
"""Record Django's default password validators for edgejwt-core's password_validation.

Runs the real `django.contrib.auth.password_validation.validate_password` of the simplejwt
reference's Django (default ../shared/simplejwt-reference, override with
SIMPLEJWT_REFERENCE=DIR; its `.venv` is created by DIR/setup.sh if missing) with the
default AUTH_PASSWORD_VALIDATORS of `django-admin startproject` over the cases below, and
writes, all from that Django and its Python:

- crates/core/tests/fixtures/django-password-validation.json: every case's messages and
  codes, in Django's order;
- crates/core/tests/fixtures/python-unicode.json: `str.lower()` of every code point it
  changes and the `str.isspace()` code points (checked against our own lowering);
- crates/core/data/common-passwords.txt: Django's common-passwords.txt.gz, decompressed,
  stripped, sorted by code point, one a line (BSD-3-Clause, Django Software Foundation:
  crates/core/data/common-passwords.LICENSE is Django's LICENSE);
- crates/core/data/python_unicode.rs: the code point ranges of Python's `re` `\\w` and of
  `str.isdigit()`.

Tests read only these committed files. Usage:
    python3 scripts/record-django-password-validation.py
Re-run and `git diff --exit-code` to check nothing drifted.
"""
import gzip
import json
import os
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = Path(os.environ.get("SIMPLEJWT_REFERENCE", ROOT.parent / "shared" / "simplejwt-reference"))
CORE = ROOT / "crates" / "core"
FIXTURE = CORE / "tests" / "fixtures" / "django-password-validation.json"
UNICODE_FIXTURE = CORE / "tests" / "fixtures" / "python-unicode.json"
COMMON = CORE / "data" / "common-passwords.txt"
COMMON_LICENSE = CORE / "data" / "common-passwords.LICENSE"
TABLES = CORE / "data" / "python_unicode.rs"


def reexec_in_reference_venv():
    """Run under the reference's venv (its Django), creating it with setup.sh if needed."""
    python = REFERENCE / ".venv" / "bin" / "python"
    if Path(sys.prefix).resolve() == (REFERENCE / ".venv").resolve():
        return
    if not python.exists():
        subprocess.run([str(REFERENCE / "setup.sh")], check=True)
    os.execv(str(python), [str(python), __file__, *sys.argv[1:]])


reexec_in_reference_venv()

import django  # noqa: E402
from django.conf import settings  # noqa: E402

# The validators `django-admin startproject` writes into settings.py, in its order.
DEFAULT_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
settings.configure(
    INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes"],
    AUTH_PASSWORD_VALIDATORS=DEFAULT_VALIDATORS,
    LANGUAGE_CODE="en-us",
    USE_I18N=True,
)
django.setup()

from django.contrib.auth import password_validation  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.core.exceptions import ValidationError  # noqa: E402

USERS = {
    "nobody": {"username": "", "first_name": "", "last_name": "", "email": ""},
    "alice": {
        "username": "alice",
        "first_name": "Alice",
        "last_name": "Liddell",
        "email": "alice.liddell@example.com",
    },
    "jsmith": {
        "username": "jsmith_1984",
        "first_name": "John",
        "last_name": "Smith-Jones",
        "email": "john.smith+news@mail.example.org",
    },
    "long": {
        "username": "abcdefghij",
        "first_name": "Maximilian",
        "last_name": "Wolfeschlegelsteinhausenbergerdorff",
        "email": "max@w.de",
    },
    "short": {"username": "ab", "first_name": "Al", "last_name": "X", "email": "a@b."},
    "dotted": {"username": "user.", "first_name": "", "last_name": "", "email": ""},
    "unicode": {
        "username": "jürgen",
        "first_name": "Jürgen",
        "last_name": "Müller",
        "email": "jürgen.müller@exämple.de",
    },
    "greek": {"username": "ΟΔΟΣ", "first_name": "Σοφία", "last_name": "Παπαδοπούλου", "email": ""},
    "turkish": {"username": "İstanbul", "first_name": "Işık", "last_name": "", "email": ""},
    "devanagari": {"username": "नमस्ते", "first_name": "", "last_name": "", "email": ""},
    "combining": {"username": "cafe\u0301", "first_name": "", "last_name": "", "email": ""},
    # U+1C89 and U+A7CB became uppercase letters after Unicode 15.1 (Python 3.13's).
    "new-letters": {"username": "\u1c8a\u1c8a\u1c8a\u1c8a", "first_name": "\u0264\u0264\u0264", "last_name": "", "email": ""},
    "cjk": {"username": "山田太郎", "first_name": "太郎", "last_name": "山田", "email": "taro@例え.jp"},
    "underscore": {"username": "__init__", "first_name": "", "last_name": "", "email": "x_y@z"},
}


def cases():
    """(user, password) pairs; every kind the brief names, then systematic grids."""
    out = []
    add = lambda user, *passwords: out.extend((user, p) for p in passwords)  # noqa: E731

    # Length: empty, around 8, long; with and without a user.
    add("nobody", "", "a", "ab", "abcdefg", "abcdefgh", "abcdefghi", "x" * 200, "Zq9!vW2#")
    add("nobody", "é" * 7, "é" * 8, "e\u0301" * 4, "😀" * 7, "😀" * 8, "\U0001F468\u200d\U0001F469" * 2)
    # Numeric: ASCII, other scripts' digits, superscripts, vulgar fractions, mixed.
    add("nobody", "1", "1234567", "12345678", "98765432109876543210", "12345678 ", " 12345678", "1234567a")
    add("nobody", "١٢٣٤٥٦٧٨", "१२३४५६७८", "²³⁴⁵⁶⁷⁸⁹", "½½½½½½½½", "ⅠⅡⅢⅣⅤⅥⅦⅧ", "①②③④⑤⑥⑦⑧", "１２３４５６７８")
    add("nobody", "0000000000", "31415926", "8675309", "4815162342")
    # Common: the list's head, case and whitespace variants, Python's wider strip().
    add("nobody", "123456", "password", "Password", "PASSWORD", " password ", "password\n", "\tqwerty\t")
    add("nobody", "password\u00a0", "\u3000password\u3000", "\x1cpassword\x1f", "\u200bpassword", "\u0085password")
    add("nobody", "password1", "passw0rd", "iloveyou", "trustno1", "letmein!", "fallen_angel", "mama12")
    add("nobody", "dragon", "monkey", "qwertyuiop", "1q2w3e4r", "zaq12wsx", "starwars", "p@ssw0rd", "correcthorse")
    add("nobody", "пароль", "ПАРОЛЬ", "Привет", "любовь", "йцукен", "я", "пїѕпїѕпїѕпїѕ", "ПЇЅПЇЅПЇЅПЇЅ")
    add("nobody", ".", "!", "m", "2", "PaSsWoRd", "pass word", "password ")
    # Similarity to each attribute, its \W+ parts, case variants.
    add("alice", "alice", "ALICE", "alice123", "alice1234", "Alice!!!", "liddell", "Liddell1", "LIDDELL99")
    add("alice", "alice.liddell", "alice.liddell@example.com", "example", "example1", "example.com", "exemplar1")
    add("alice", "ecila", "cilae123", "lewis carroll", "wonderland", "rabbit-hole", "com", "liddellalice")
    add("jsmith", "jsmith_1984", "jsmith", "smith1984", "john", "johnjohn", "smithjones", "smith-jones", "jones123")
    add("jsmith", "news", "newsnews", "mail.example", "example.org", "john.smith", "1984", "19841984", "jsmith_19")
    add("long", "abcdefghij", "jihgfedcba", "abcdefg123", "abcdexyzuv", "abcdefghijklmnopqrstuvwxyz")
    add("long", "maximilian", "Wolfeschlegel", "wolfeschlegelsteinhausen", "max@w.de", "maxmaxmax", "wdewdewde")
    # The length pre-check: a value at most a tenth of the password (skipped), around it.
    add("short", "ab" * 10, "ab" * 9 + "a", "ab" + "z" * 18, "ab" + "z" * 17, "a" + "z" * 9, "a" * 10, "b" * 20)
    add("short", "abab", "alal", "", "x", "12345678", "password")
    # Empty value parts ("a@b." splits into a, b and ""): only the empty password matches them.
    add("dotted", "", "user", "user.", "users", "x" * 8)
    add("underscore", "__init__", "init", "x_y@z", "x_y", "xyz12345", "")
    # Unicode attributes and passwords.
    add("unicode", "jürgen", "JÜRGEN", "jurgen", "müller", "mueller", "exämple", "example", "jürgen.müller")
    add("greek", "ΟΔΟΣ", "οδος", "οδοσ", "οδος1234", "ΟΔΟΣΟΔΟΣ", "σοφία", "ΣΟΦΊΑ", "παπαδοπούλου", "ΠΑΠΑΔΟΠΟΎΛΟΥ")
    add("greek", "ΣΑΣ", "ΣΑΣ ΣΑΣ", "Σ", "AΣ1", "AΣ.Σ", "ΑΣ\u0301Β")
    add("turkish", "İstanbul", "istanbul", "ISTANBUL", "i̇stanbul", "İİİİ", "ışık", "IŞIK", "isik")
    add("devanagari", "नमस्ते", "नमस्", "नम", "ते", "नमस्तेनमस्ते", "नमस्ते12")
    add("combining", "cafe\u0301", "café", "cafe", "CAFE\u0301", "\u0301\u0301\u0301\u0301")
    add("new-letters", "\u1c89\u1c89\u1c89\u1c89", "\u1c8a\u1c8a\u1c8a\u1c8a", "\ua7cb\ua7cb\ua7cb", "\u0264\u0264\u0264")
    add("cjk", "山田太郎", "山田", "太郎太郎", "例え", "taro", "yamada-taro", "山田太郎1234")
    # Every validator at once, and none.
    add("alice", "", "alice", "1234", "Tr0ub4dor&3", "correct horse battery staple")

    # Similarity around 0.7: a password of n letters sharing k with a 10-letter username.
    for n in range(4, 17, 2):
        for k in range(2, min(n, 10) + 1):
            add("long", "abcdefghij"[:k] + ("xyzuvwrstq" * 2)[: n - k])
    # Borderline ratios with the attribute as a word inside the email.
    for extra in range(0, 8):
        add("alice", "liddell" + "7" * extra, "example" + "q" * extra)
    return out


def record(user_name, password):
    user = User(**USERS[user_name])
    try:
        password_validation.validate_password(password, user)
        return {"user": user_name, "password": password, "messages": [], "codes": []}
    except ValidationError as err:
        return {
            "user": user_name,
            "password": password,
            "messages": list(err.messages),
            "codes": [e.code for e in err.error_list],
        }


def ranges(predicate):
    out, start = [], None
    for cp in range(0x110000 + 1):
        ok = cp < 0x110000 and predicate(chr(cp))
        if ok and start is None:
            start = cp
        elif not ok and start is not None:
            out.append((start, cp - 1))
            start = None
    return out


def write_tables():
    word = re.compile(r"\w")
    lines = [
        "// Generated by scripts/record-django-password-validation.py from Python "
        f"{sys.version.split()[0]} (Unicode {unicodedata.unidata_version}): do not edit.",
        "",
    ]
    for name, doc, rs in [
        ("WORD_RANGES", "Code points Python's `re` matches with `\\w` (`str.isalnum()` or `_`).",
         ranges(lambda c: word.match(c) is not None)),
        ("DIGIT_RANGES", "Code points for which Python's `str.isdigit()` is true.",
         ranges(str.isdigit)),
    ]:
        lines.append(f"/// {doc}")
        lines.append(f"const {name}: &[(u32, u32)] = &[")
        lines.extend(f"    (0x{a:04X}, 0x{b:04X})," for a, b in rs)
        lines.append("];")
        lines.append("")
    TABLES.parent.mkdir(parents=True, exist_ok=True)
    TABLES.write_text("\n".join(lines))


def write_unicode_fixture():
    lower = {}
    for cp in range(0x110000):
        c = chr(cp)
        if 0xD800 <= cp <= 0xDFFF:
            continue
        if c.lower() != c:
            lower[f"{cp:X}"] = " ".join(f"{ord(x):X}" for x in c.lower())
    data = {
        "python": sys.version.split()[0],
        "unicode": unicodedata.unidata_version,
        "lower": lower,
        "space": [f"{cp:X}" for cp in range(0x110000) if chr(cp).isspace()],
    }
    UNICODE_FIXTURE.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")


def write_common_passwords():
    path = Path(password_validation.__file__).resolve().parent / "common-passwords.txt.gz"
    with gzip.open(path, "rt", encoding="utf-8") as f:
        passwords = {x.strip() for x in f}
    passwords.discard("")
    assert all("\n" not in p for p in passwords)
    COMMON.parent.mkdir(parents=True, exist_ok=True)
    COMMON.write_text("".join(p + "\n" for p in sorted(passwords)), encoding="utf-8")
    license_path = Path(django.__file__).resolve().parent.parent / f"django-{django.__version__}.dist-info" / "licenses" / "LICENSE"
    COMMON_LICENSE.write_text(
        "common-passwords.txt is Django's django/contrib/auth/common-passwords.txt.gz\n"
        f"(Django {django.__version__}), decompressed and sorted. Django's license:\n\n"
        + license_path.read_text()
    )
    return len(passwords)


def main():
    all_cases = cases()
    seen, unique = set(), []
    for case in all_cases:
        if case not in seen:
            seen.add(case)
            unique.append(case)
    records = [record(u, p) for u, p in unique]
    FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    FIXTURE.write_text(
        json.dumps(
            {
                "source": "django.contrib.auth.password_validation.validate_password with the "
                "startproject default AUTH_PASSWORD_VALIDATORS "
                "(scripts/record-django-password-validation.py)",
                "django": django.__version__,
                "python": sys.version.split()[0],
                "unicode": unicodedata.unidata_version,
                "users": USERS,
                "cases": records,
            },
            indent=1,
            ensure_ascii=False,
        )
        + "\n",
        encoding="utf-8",
    )
    write_tables()
    write_unicode_fixture()
    count = write_common_passwords()
    failing = sum(1 for r in records if r["messages"])
    print(f"{len(records)} cases ({failing} refused), {count} common passwords, "
          f"Django {django.__version__}, Python {sys.version.split()[0]}", file=sys.stderr)


if __name__ == "__main__":
    main()
