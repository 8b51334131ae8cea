//! `import-django` on exports recorded from a real Django 6.1 + simplejwt 5.5.1 project
//! (`scripts/record-django-exports.py`; `tests/fixtures/django/manifest.json` says what
//! each holds): what is imported, who must reset, the SQL, and every bad row reported
//! with its line or index.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail by panicking"
)]

use std::path::{Path, PathBuf};

use edgejwt_cli::{
    django::{parse_datetime, Export, Mapping, UserRef},
    import,
};
use edgejwt_core::{password, Settings};
use serde_json::Value;

const NOW: i64 = 1_800_000_000;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/django")
        .join(name)
}

fn manifest() -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixture("manifest.json")).unwrap()).unwrap()
}

fn read(files: &[&str], mapping: &Mapping) -> Export {
    let mut export = Export::default();
    for f in files {
        export.read_file(&fixture(f), mapping).unwrap();
    }
    export.finish();
    export
}

#[test]
fn real_dumpdata_users_and_tokens() {
    let export = read(&["users.json", "tokens.json"], &Mapping::default());
    assert!(export.problems.is_empty(), "{:?}", export.problems);
    assert!(export.skipped.is_empty());
    assert_eq!(export.users.len(), 7);
    assert_eq!(export.tokens.len(), 3);
    assert_eq!(export.blacklisted.len(), 1);
    let manifest = manifest();
    for user in &export.users {
        let recorded = &manifest["users"][&user.username];
        assert_eq!(
            user.id,
            recorded["id"].as_i64().unwrap(),
            "{}",
            user.username
        );
        assert!(user.date_joined.unwrap() > 1_700_000_000);
    }
    let alice = &export.users[0];
    assert_eq!(
        (
            alice.username.as_str(),
            alice.email.as_str(),
            alice.first_name.as_str(),
            alice.is_staff,
            alice.is_active
        ),
        ("alice", "alice@example.com", "Alice", true, true)
    );
    assert!(!export.users[1].is_active, "bob is inactive in Django");
    assert!(export.users[6].last_login.is_some());
    // The blacklisted entry points at the token Django blacklisted.
    let blacklisted = export.jti_of(export.blacklisted[0].token).unwrap();
    let revoked = manifest["tokens"]["blacklisted_refresh"].as_str().unwrap();
    assert!(claims(revoked)["jti"] == blacklisted.jti.as_str());
    assert_eq!(blacklisted.user, Some(UserRef::Id(1)));

    let plan = import::plan(&export, &Settings::default(), NOW);
    let hashers: Vec<(&str, usize)> = plan.hashers.iter().map(|(h, n)| (h.as_str(), *n)).collect();
    assert_eq!(
        hashers,
        [
            ("argon2", 1),
            ("bcrypt_sha256", 1),
            ("pbkdf2_sha1", 1),
            ("pbkdf2_sha256", 3),
            ("unusable", 1)
        ]
    );
    assert_eq!(plan.can_log_in, 4);
    let reset: Vec<&str> = plan
        .must_reset
        .iter()
        .map(|u| u.username.as_str())
        .collect();
    assert_eq!(reset, ["dave", "erin", "frank"]);
    assert_eq!(plan.counts, (7, 3, 1));
    // The blacklisted token is live for years: mirrored in KV as the issuer would.
    assert_eq!(plan.kv.len(), 1);
    assert_eq!(plan.kv[0].key, format!("revoked:{}", blacklisted.jti));
    assert_eq!(plan.kv[0].expiration, blacklisted.expires_at);
    // Raw tokens are never written; O'Hara's quote is escaped.
    assert!(!plan.sql.contains("eyJ"));
    assert!(plan.sql.contains("'o''hara'"));
}

fn claims(token: &str) -> Value {
    use base64ct::{Base64UrlUnpadded, Encoding};
    let part = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&Base64UrlUnpadded::decode_vec(part).unwrap()).unwrap()
}

/// What the import calls usable is what the issuer verifies: one parser, the core's.
/// (Verifying the recorded hashes, at Django's 1,500,000 iterations, is the end-to-end
/// test's job: tests/cli/import.test.mjs logs alice and carol in at the issuer.)
#[test]
fn the_cores_parser_decides_who_can_log_in() {
    let export = read(&["users.json"], &Mapping::default());
    for user in &export.users {
        let usable = matches!(
            password::StoredPassword::parse(&user.password),
            password::StoredPassword::Pbkdf2 {
                iterations: 1_500_000,
                ..
            }
        );
        let hasher = &manifest()["users"][&user.username]["hasher"];
        assert_eq!(
            usable,
            hasher.as_str().unwrap().starts_with("pbkdf2"),
            "{}",
            user.username
        );
    }
}

#[test]
fn whole_app_dump_reports_what_it_skips() {
    let export = read(&["auth.json"], &Mapping::default());
    assert!(export.problems.is_empty());
    assert_eq!(export.users.len(), 7);
    let skipped: Vec<(&str, usize)> = export
        .skipped
        .iter()
        .map(|(m, n)| (m.as_str(), *n))
        .collect();
    assert_eq!(skipped, [("auth.group", 1), ("auth.permission", 32)]);
}

#[test]
fn csv_export_matches_the_json_one() {
    let json = read(&["users.json"], &Mapping::default());
    let csv = read(&["users.csv"], &Mapping::default());
    assert!(csv.problems.is_empty(), "{:?}", csv.problems);
    assert_eq!(csv.users.len(), json.users.len());
    for (c, j) in csv.users.iter().zip(&json.users) {
        assert_eq!(
            (
                c.id,
                &c.username,
                &c.password,
                &c.email,
                &c.first_name,
                &c.last_name
            ),
            (
                j.id,
                &j.username,
                &j.password,
                &j.email,
                &j.first_name,
                &j.last_name
            )
        );
        assert_eq!(
            (c.is_active, c.is_staff, c.is_superuser),
            (j.is_active, j.is_staff, j.is_superuser)
        );
        assert_eq!((c.date_joined, c.last_login), (j.date_joined, j.last_login));
        assert_eq!(
            c.at.line,
            usize::try_from(c.id).unwrap() + 1,
            "CSV rows are reported by line"
        );
    }
}

/// Every bad element of the deliberately broken export (each listed, with the text the
/// import must say, by the recording script) is reported at its index, and nothing else.
#[test]
fn every_bad_row_is_reported_where_it_is() {
    let manifest = manifest();
    let export = read(&["broken.json"], &Mapping::default());
    let expected = manifest["broken"]["json"].as_array().unwrap();
    assert_eq!(
        export.problems.len(),
        expected.len(),
        "{:#?}",
        export.problems
    );
    for want in expected {
        let index = want["index"].as_u64().unwrap() as usize;
        let text = want["contains"].as_str().unwrap();
        let found = export.problems.iter().find(|p| p.at.index == Some(index));
        let found = found.unwrap_or_else(|| panic!("no problem at element {index} ({text})"));
        assert!(
            found.message.contains(text),
            "element {index}: {found} lacks {text:?}"
        );
        assert!(
            found.at.line > 1
                && found
                    .to_string()
                    .starts_with(&fixture("broken.json").display().to_string())
        );
    }
    assert_eq!(export.users.len(), 1, "the good row is still imported");
    assert_eq!(export.skipped.get("auth.group"), Some(&1));

    let export = read(&["broken.csv"], &Mapping::default());
    let expected = manifest["broken"]["csv"].as_array().unwrap();
    assert_eq!(
        export.problems.len(),
        expected.len(),
        "{:#?}",
        export.problems
    );
    for want in expected {
        let line = want["line"].as_u64().unwrap() as usize;
        let text = want["contains"].as_str().unwrap();
        let found = export.problems.iter().find(|p| p.at.line == line);
        let found = found.unwrap_or_else(|| panic!("no problem at line {line} ({text})"));
        assert!(
            found.message.contains(text),
            "line {line}: {found} lacks {text:?}"
        );
    }
    assert_eq!(export.users.len(), 1);
}

#[test]
fn unreadable_files_are_errors_naming_them() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "truncated.json",
            "[{\"model\": \"auth.user\",",
            "not a dumpdata JSON array",
        ),
        (
            "object.json",
            "{\"model\": \"auth.user\"}",
            "not a dumpdata JSON array",
        ),
        (
            "noname.csv",
            "id,password,email\n1,x,y\n",
            "no \"username\" column",
        ),
    ];
    for (name, text, message) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let err = Export::default()
            .read_file(&path, &Mapping::default())
            .unwrap_err();
        assert!(
            err.to_string().contains(message) && err.to_string().contains(name),
            "{err}"
        );
    }
    let err = Export::default()
        .read_file(&dir.path().join("missing.json"), &Mapping::default())
        .unwrap_err();
    assert!(err.to_string().starts_with("cannot read"), "{err}");
}

/// A custom user model (`accounts.user`, email as the login, no names or is_staff) from
/// the real export's rows: mapped by flags, Django's defaults counted, not guessed.
#[test]
fn custom_user_model_mapped_by_flags() {
    let users: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(fixture("users.json")).unwrap()).unwrap();
    let custom: Vec<Value> = users
        .iter()
        .map(|u| {
            let f = &u["fields"];
            serde_json::json!({
                "model": "accounts.User", "pk": u["pk"],
                "fields": {"email": f["email"], "password": f["password"], "is_active": f["is_active"], "date_joined": f["date_joined"]}
            })
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("accounts.json");
    std::fs::write(&path, serde_json::to_string(&custom).unwrap()).unwrap();
    let mapping = Mapping::new(Some("accounts.user"), &["username=email".into()]).unwrap();
    let mut export = Export::default();
    export.read_file(&path, &mapping).unwrap();
    export.finish();
    assert!(export.problems.is_empty(), "{:?}", export.problems);
    assert_eq!(export.users[0].username, "alice@example.com");
    assert_eq!(export.defaulted.get("first_name"), Some(&7));
    assert_eq!(export.defaulted.get("is_staff"), Some(&7));
    // Without the mapping, auth.user finds nothing and every element is reported skipped.
    let mut plain = Export::default();
    plain.read_file(&path, &Mapping::default()).unwrap();
    assert_eq!(
        (plain.users.len(), plain.skipped.get("accounts.user")),
        (0, Some(&7))
    );

    for bad in [vec!["username"], vec!["login=email"], vec!["username="]] {
        let pairs: Vec<String> = bad.iter().map(|s| (*s).to_owned()).collect();
        assert!(Mapping::new(None, &pairs).is_err(), "{bad:?}");
    }
    assert!(Mapping::new(Some("user"), &[]).is_err());
}

/// `dumpdata --natural-foreign`: tokens name their user by `[username]`.
#[test]
fn natural_foreign_keys() {
    let tokens = std::fs::read_to_string(fixture("tokens.json")).unwrap();
    let natural = tokens.replace("\"user\": 1,", "\"user\": [\"alice\"],");
    let mut export = Export::default();
    export
        .read_json("natural.json", &natural, &Mapping::default())
        .unwrap();
    export.finish();
    assert_eq!(
        export.tokens[0].user,
        Some(UserRef::Username("alice".into()))
    );
    let plan = import::plan(&export, &Settings::default(), NOW);
    assert!(plan
        .sql
        .contains("(SELECT id FROM users WHERE username = 'alice')"));
}

/// Re-running an import writes the same UPSERTs: every statement is keyed by the user id
/// or the token's jti, so a second run updates rows instead of adding them (run twice
/// against a real local D1 by tests/cli/import.test.mjs).
#[test]
fn import_sql_is_upserts() {
    let export = read(&["users.json", "tokens.json"], &Mapping::default());
    let first = import::plan(&export, &Settings::default(), NOW);
    let again = import::plan(&export, &Settings::default(), NOW);
    assert_eq!(first.sql, again.sql);
    let statements: Vec<&str> = first.sql.lines().collect();
    assert_eq!(statements.len(), 7 + 3 + 1);
    for s in &statements {
        assert!(s.contains(" ON CONFLICT ("), "{s}");
    }
}

#[test]
fn datetimes_as_django_and_databases_write_them() {
    let t = 1_764_588_334; // 2025-12-01T11:25:34Z
    for s in [
        "2025-12-01T11:25:34Z",
        "2025-12-01T11:25:34.123Z",
        "2025-12-01T11:25:34.123456+00:00",
        "2025-12-01 11:25:34.123456",
        "2025-12-01 11:25:34.123456+00",
        "2025-12-01 12:25:34+01",
        "2025-12-01T06:25:34-05:00",
        "1764588334",
    ] {
        assert_eq!(parse_datetime(s), Some(t), "{s}");
    }
    for s in ["", "yesterday", "2025-12-01", "31/12/2025 10:00"] {
        assert_eq!(parse_datetime(s), None, "{s}");
    }
}
