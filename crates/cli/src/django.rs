//! Reading a Django project's exports: `manage.py dumpdata auth.user` (or a custom user
//! model, its fields mapped by [`Mapping`]), `dumpdata token_blacklist` (simplejwt's
//! `OutstandingToken` and `BlacklistedToken`), and CSV exports of the user table
//! (`psql \copy`, `sqlite3 -csv -header`). Every element or row becomes a row here or a
//! [`Problem`] naming its file, line and index: nothing is dropped silently.

use std::{collections::BTreeMap, fmt, path::Path};

use chrono::{DateTime, NaiveDateTime};
use serde_json::{value::RawValue, Map, Value};

use crate::{Error, Result};

/// The `users` columns an import fills, in the table's order.
pub const COLUMNS: [&str; 11] = [
    "id",
    "username",
    "password",
    "email",
    "first_name",
    "last_name",
    "is_active",
    "is_staff",
    "is_superuser",
    "last_login",
    "date_joined",
];

/// Columns a row cannot do without: the id keeps tokens' `user_id` pointing at the same
/// user, and the username and hash are the login.
const REQUIRED: [&str; 3] = ["id", "username", "password"];

/// simplejwt's models in `dumpdata token_blacklist`.
const OUTSTANDING_MODEL: &str = "token_blacklist.outstandingtoken";
const BLACKLISTED_MODEL: &str = "token_blacklist.blacklistedtoken";

/// Which model holds the users, and which of its fields fill which `users` column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    /// The dumpdata model label, lowercase (`auth.user`, `accounts.user`).
    pub model: String,
    fields: BTreeMap<&'static str, String>,
}

impl Default for Mapping {
    fn default() -> Self {
        Self {
            model: "auth.user".into(),
            fields: BTreeMap::new(),
        }
    }
}

impl Mapping {
    /// `model` (default `auth.user`) and `COLUMN=FIELD` pairs (`username=email`).
    pub fn new(model: Option<&str>, pairs: &[String]) -> Result<Self> {
        let mut mapping = Self::default();
        if let Some(model) = model {
            if !model.contains('.') {
                return Err(Error::new(format!(
                    "--model {model:?}: expected a dumpdata label, app.model (e.g. accounts.user)"
                )));
            }
            mapping.model = model.to_ascii_lowercase();
        }
        for pair in pairs {
            let (column, field) = pair.split_once('=').ok_or_else(|| {
                Error::new(format!(
                    "--field {pair:?}: expected COLUMN=FIELD (e.g. username=email)"
                ))
            })?;
            let column = COLUMNS
                .iter()
                .find(|c| **c == column.trim())
                .ok_or_else(|| {
                    Error::new(format!(
                        "--field {pair:?}: {column:?} is not a users column (one of {})",
                        COLUMNS.join(", ")
                    ))
                })?;
            if field.trim().is_empty() {
                return Err(Error::new(format!("--field {pair:?}: no field name")));
            }
            mapping.fields.insert(column, field.trim().to_owned());
        }
        Ok(mapping)
    }

    /// The source field (or CSV column) of `column`.
    pub fn source<'a>(&'a self, column: &'a str) -> &'a str {
        self.fields.get(column).map_or(column, String::as_str)
    }
}

/// Where a row is: the file, its line, and for JSON its index in the top-level array
/// (dumpdata writes one line unless `--indent`, so the index is what finds it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file as given.
    pub file: String,
    /// 1-based line where the row starts.
    pub line: usize,
    /// 0-based index in a JSON array.
    pub index: Option<usize>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)?;
        if let Some(i) = self.index {
            write!(f, " (element {i})")?;
        }
        Ok(())
    }
}

/// A row that is not imported, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where it is.
    pub at: Location,
    /// What is wrong with it.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.at, self.message)
    }
}

/// A Django user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRow {
    /// Where it was read.
    pub at: Location,
    /// `id` (Django's pk).
    pub id: i64,
    /// `username` (or the mapped field).
    pub username: String,
    /// The stored hash, verbatim.
    pub password: String,
    /// `email`.
    pub email: String,
    /// `first_name`.
    pub first_name: String,
    /// `last_name`.
    pub last_name: String,
    /// `is_active`.
    pub is_active: bool,
    /// `is_staff`.
    pub is_staff: bool,
    /// `is_superuser`.
    pub is_superuser: bool,
    /// `last_login`, Unix seconds.
    pub last_login: Option<i64>,
    /// `date_joined`, Unix seconds (`None`: not in the export; the import's time is used).
    pub date_joined: Option<i64>,
}

/// The user an outstanding token names: a pk, or a natural key (`--natural-foreign`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserRef {
    /// The user's pk.
    Id(i64),
    /// The user's username (natural key).
    Username(String),
}

/// simplejwt's `OutstandingToken` (its raw `token` is never kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRow {
    /// Where it was read.
    pub at: Location,
    /// Its pk (what `BlacklistedToken.token` refers to).
    pub pk: i64,
    /// `jti`.
    pub jti: String,
    /// `user`.
    pub user: Option<UserRef>,
    /// `created_at`, Unix seconds.
    pub created_at: Option<i64>,
    /// `expires_at`, Unix seconds.
    pub expires_at: i64,
}

/// simplejwt's `BlacklistedToken`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlacklistRow {
    /// Where it was read.
    pub at: Location,
    /// The outstanding token's pk.
    pub token: i64,
    /// `blacklisted_at`, Unix seconds.
    pub blacklisted_at: i64,
}

/// Everything read from one or more export files.
#[derive(Debug, Clone, Default)]
pub struct Export {
    /// Users to import.
    pub users: Vec<UserRow>,
    /// Outstanding tokens to import.
    pub tokens: Vec<TokenRow>,
    /// Blacklist entries to import.
    pub blacklisted: Vec<BlacklistRow>,
    /// Rows not imported, each with its reason.
    pub problems: Vec<Problem>,
    /// Elements of other models (not imported), counted per model.
    pub skipped: BTreeMap<String, usize>,
    /// Optional columns absent from a row, filled with Django's defaults, per column.
    pub defaulted: BTreeMap<&'static str, usize>,
}

/// One field of a row, whatever the format.
#[derive(Debug, Clone, Copy)]
enum Field<'a> {
    Missing,
    Null,
    Text(&'a str),
    Json(&'a Value),
}

impl<'a> Field<'a> {
    fn of_json(value: Option<&'a Value>) -> Self {
        match value {
            None => Self::Missing,
            Some(Value::Null) => Self::Null,
            Some(Value::String(s)) => Self::Text(s),
            Some(other) => Self::Json(other),
        }
    }

    /// A CSV cell: empty is NULL for the columns where Django allows it (`last_login`).
    fn of_csv(cell: Option<&'a str>) -> Self {
        cell.map_or(Self::Missing, Self::Text)
    }

    fn absent(self) -> bool {
        matches!(self, Self::Missing | Self::Null)
    }
}

fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn text(field: Field<'_>) -> Result<&str, String> {
    let s = match field {
        Field::Text(s) => s,
        Field::Json(v) => return Err(format!("is {}, expected text", describe(v))),
        Field::Missing => return Err("is missing".into()),
        Field::Null => return Err("is null".into()),
    };
    if s.contains('\0') {
        return Err("contains a NUL character".into());
    }
    Ok(s)
}

fn int(field: Field<'_>) -> Result<i64, String> {
    match field {
        Field::Json(Value::Number(n)) => n
            .as_i64()
            .ok_or_else(|| format!("{n} is not a whole number")),
        Field::Text(s) => s
            .trim()
            .parse()
            .map_err(|_| format!("{s:?} is not a whole number")),
        Field::Json(v) => Err(format!("is {}, expected a whole number", describe(v))),
        Field::Missing => Err("is missing".into()),
        Field::Null => Err("is null".into()),
    }
}

fn boolean(field: Field<'_>) -> Result<bool, String> {
    match field {
        Field::Json(Value::Bool(b)) => Ok(*b),
        Field::Json(Value::Number(n)) if n.as_i64() == Some(0) => Ok(false),
        Field::Json(Value::Number(n)) if n.as_i64() == Some(1) => Ok(true),
        Field::Text(s) => match s.trim().to_ascii_lowercase().as_str() {
            "t" | "true" | "1" => Ok(true),
            "f" | "false" | "0" => Ok(false),
            _ => Err(format!("{s:?} is not a boolean (true/false, t/f, 1/0)")),
        },
        Field::Json(v) => Err(format!("is {}, expected a boolean", describe(v))),
        Field::Missing => Err("is missing".into()),
        Field::Null => Err("is null".into()),
    }
}

/// A date and time as Django serializes it (`2026-12-01T11:05:34.123Z`), as databases
/// export it (`2026-12-01 11:05:34.123456+00`, naive values read as UTC), or Unix seconds.
pub fn parse_datetime(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(n) = s.parse::<i64>() {
        return Some(n);
    }
    let mut s = s.to_owned();
    // `2026-12-01 11:05:34`: the date/time separator of SQL exports.
    if s.get(10..11) == Some(" ") {
        s.replace_range(10..11, "T");
    }
    // PostgreSQL writes whole-hour offsets as `+00`; RFC 3339 needs `+00:00`.
    let len = s.len();
    let sign = s.get(len.saturating_sub(3)..len.saturating_sub(2));
    let hours = s.get(len.saturating_sub(2)..).unwrap_or_default();
    if len > 19 && matches!(sign, Some("+" | "-")) && hours.bytes().all(|b| b.is_ascii_digit()) {
        s.push_str(":00");
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(&s) {
        return Some(dt.timestamp());
    }
    NaiveDateTime::parse_from_str(&s, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|dt| dt.and_utc().timestamp())
}

fn datetime(field: Field<'_>) -> Result<Option<i64>, String> {
    match field {
        Field::Missing | Field::Null => Ok(None),
        Field::Text(s) if s.trim().is_empty() => Ok(None),
        Field::Text(s) => parse_datetime(s)
            .map(Some)
            .ok_or_else(|| format!("{s:?} is not a date and time")),
        Field::Json(Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| format!("{n} is not a date and time")),
        Field::Json(v) => Err(format!("is {}, expected a date and time", describe(v))),
    }
}

/// The fields of one row, by source name.
trait Fields {
    fn field(&self, name: &str) -> Field<'_>;
}

impl Fields for Map<String, Value> {
    fn field(&self, name: &str) -> Field<'_> {
        Field::of_json(self.get(name))
    }
}

struct CsvRow<'a> {
    headers: &'a csv::StringRecord,
    record: &'a csv::StringRecord,
}

impl Fields for CsvRow<'_> {
    fn field(&self, name: &str) -> Field<'_> {
        let cell = self
            .headers
            .iter()
            .position(|h| h == name)
            .and_then(|i| self.record.get(i));
        Field::of_csv(cell)
    }
}

/// Collects one row's field errors, so a row is reported once with all of them.
#[derive(Default)]
struct RowErrors(Vec<String>);

impl RowErrors {
    fn take<T>(&mut self, column: &str, result: Result<T, String>) -> Option<T> {
        result
            .map_err(|e| self.0.push(format!("{column} {e}")))
            .ok()
    }
}

/// An optional column: absent (or null) means Django's default, counted in the summary
/// (a custom user model may have no first_name or is_staff; a nullable email exports null).
fn optional<'a>(
    field: Field<'a>,
    column: &'static str,
    defaulted: &mut BTreeMap<&'static str, usize>,
) -> Option<Field<'a>> {
    if field.absent() {
        *defaulted.entry(column).or_default() += 1;
        return None;
    }
    Some(field)
}

/// A user from its fields; `pk` is the JSON element's `pk` (CSV has an `id` column).
fn user_row(
    at: Location,
    row: &dyn Fields,
    pk: Option<Field<'_>>,
    mapping: &Mapping,
    defaulted: &mut BTreeMap<&'static str, usize>,
) -> Result<UserRow, Problem> {
    let mut errors = RowErrors::default();
    let get = |column: &str| {
        let source = mapping.source(column);
        match pk {
            Some(pk) if column == "id" && source == "id" => pk,
            _ => row.field(source),
        }
    };
    let id = errors.take("id", int(get("id")));
    let username = errors.take("username", text(get("username")).and_then(check_username));
    let password = errors.take("password", text(get("password")).map(str::to_owned));
    let mut strings = [
        ("email", String::new()),
        ("first_name", String::new()),
        ("last_name", String::new()),
    ];
    for (column, value) in &mut strings {
        if let Some(field) = optional(get(column), column, defaulted) {
            *value = errors
                .take(column, text(field).map(str::to_owned))
                .unwrap_or_default();
        }
    }
    let [(_, email), (_, first_name), (_, last_name)] = strings;
    let mut flags = [
        ("is_active", true),
        ("is_staff", false),
        ("is_superuser", false),
    ];
    for (column, value) in &mut flags {
        if let Some(field) = optional(get(column), column, defaulted) {
            *value = errors.take(column, boolean(field)).unwrap_or(*value);
        }
    }
    let [(_, is_active), (_, is_staff), (_, is_superuser)] = flags;
    let last_login = errors
        .take("last_login", datetime(get("last_login")))
        .flatten();
    let date_joined = optional(get("date_joined"), "date_joined", defaulted)
        .and_then(|f| errors.take("date_joined", datetime(f)).flatten());
    match (id, username, password) {
        (Some(id), Some(username), Some(password)) if errors.0.is_empty() => Ok(UserRow {
            at,
            id,
            username,
            password,
            email,
            first_name,
            last_name,
            is_active,
            is_staff,
            is_superuser,
            last_login,
            date_joined,
        }),
        _ => Err(Problem {
            at,
            message: errors.0.join("; "),
        }),
    }
}

fn check_username(s: &str) -> Result<String, String> {
    crate::users::check_username(s)
        .map(|()| s.to_owned())
        .map_err(|e| e.to_string().trim_start_matches("the username ").to_owned())
}

fn token_row(
    at: Location,
    pk: Field<'_>,
    fields: &Map<String, Value>,
) -> Result<TokenRow, Problem> {
    let mut errors = RowErrors::default();
    let pk = errors.take("pk", int(pk));
    let jti = errors.take(
        "jti",
        text(fields.field("jti")).and_then(|s| {
            if s.is_empty() {
                Err("is empty".into())
            } else {
                Ok(s.to_owned())
            }
        }),
    );
    let user = match fields.get("user") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => errors.take(
            "user",
            n.as_i64()
                .map(UserRef::Id)
                .ok_or_else(|| format!("{n} is not a user id")),
        ),
        // `dumpdata --natural-foreign`: the user's natural key, `[username]`.
        Some(Value::Array(key)) => errors.take(
            "user",
            match key.as_slice() {
                [Value::String(name)] => Ok(UserRef::Username(name.clone())),
                _ => Err("is a natural key that is not [username]".into()),
            },
        ),
        Some(other) => errors.take(
            "user",
            Err::<UserRef, _>(format!("is {}, expected a user id", describe(other))),
        ),
    };
    let created_at = errors
        .take("created_at", datetime(fields.field("created_at")))
        .flatten();
    let expires_at = errors.take(
        "expires_at",
        datetime(fields.field("expires_at")).and_then(|t| t.ok_or_else(|| "is missing".into())),
    );
    match (pk, jti, expires_at) {
        (Some(pk), Some(jti), Some(expires_at)) if errors.0.is_empty() => Ok(TokenRow {
            at,
            pk,
            jti,
            user,
            created_at,
            expires_at,
        }),
        _ => Err(Problem {
            at,
            message: errors.0.join("; "),
        }),
    }
}

fn blacklist_row(at: Location, fields: &Map<String, Value>) -> Result<BlacklistRow, Problem> {
    let mut errors = RowErrors::default();
    let token = errors.take("token", int(fields.field("token")));
    let blacklisted_at = errors.take(
        "blacklisted_at",
        datetime(fields.field("blacklisted_at")).and_then(|t| t.ok_or_else(|| "is missing".into())),
    );
    match (token, blacklisted_at) {
        (Some(token), Some(blacklisted_at)) if errors.0.is_empty() => Ok(BlacklistRow {
            at,
            token,
            blacklisted_at,
        }),
        _ => Err(Problem {
            at,
            message: errors.0.join("; "),
        }),
    }
}

impl Export {
    /// Reads one file: JSON (`.json`, or text starting with `[`) or CSV.
    pub fn read_file(&mut self, path: &Path, mapping: &Mapping) -> Result<()> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::new(format!("cannot read {}: {e}", path.display())))?;
        let name = path.display().to_string();
        let is_json = match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("json") => true,
            Some(e) if e.eq_ignore_ascii_case("csv") => false,
            _ => text.trim_start().starts_with('['),
        };
        if is_json {
            self.read_json(&name, &text, mapping)
        } else {
            self.read_csv(&name, &text, mapping)
        }
    }

    /// Reads a `dumpdata` JSON array.
    pub fn read_json(&mut self, file: &str, text: &str, mapping: &Mapping) -> Result<()> {
        let elements: Vec<&RawValue> = serde_json::from_str(text).map_err(|e| {
            Error::new(format!(
                "{file}:{}: not a dumpdata JSON array ({e}); nothing imported from it",
                e.line()
            ))
        })?;
        for (index, raw) in elements.into_iter().enumerate() {
            // The element's position in the file: its text is a slice of `text`.
            let offset = (raw.get().as_ptr() as usize).saturating_sub(text.as_ptr() as usize);
            let line = text.get(..offset).map_or(0, |t| t.matches('\n').count()) + 1;
            let at = Location {
                file: file.to_owned(),
                line,
                index: Some(index),
            };
            self.json_element(at, raw.get(), mapping);
        }
        Ok(())
    }

    fn json_element(&mut self, at: Location, raw: &str, mapping: &Mapping) {
        let problem = |at: Location, message: &str| Problem {
            at,
            message: message.to_owned(),
        };
        let Ok(Value::Object(element)) = serde_json::from_str::<Value>(raw) else {
            return self.problems.push(problem(at, "is not an object"));
        };
        let Some(model) = element.get("model").and_then(Value::as_str) else {
            return self.problems.push(problem(at, "has no \"model\""));
        };
        let model = model.to_ascii_lowercase();
        let Some(Value::Object(fields)) = element.get("fields") else {
            return self.problems.push(problem(at, "has no \"fields\" object"));
        };
        let pk = Field::of_json(element.get("pk"));
        if model == mapping.model {
            if pk.absent() && mapping.source("id") == "id" {
                // `dumpdata --natural-primary` drops user pks, which tokens refer to.
                return self.problems.push(problem(
                    at,
                    "has no pk (exported with --natural-primary?): user ids must be kept",
                ));
            }
            match user_row(at, fields, Some(pk), mapping, &mut self.defaulted) {
                Ok(user) => self.users.push(user),
                Err(p) => self.problems.push(p),
            }
        } else if model == OUTSTANDING_MODEL {
            match token_row(at, pk, fields) {
                Ok(token) => self.tokens.push(token),
                Err(p) => self.problems.push(p),
            }
        } else if model == BLACKLISTED_MODEL {
            match blacklist_row(at, fields) {
                Ok(row) => self.blacklisted.push(row),
                Err(p) => self.problems.push(p),
            }
        } else {
            *self.skipped.entry(model).or_default() += 1;
        }
    }

    /// Reads a CSV export of the user table, with a header row.
    pub fn read_csv(&mut self, file: &str, text: &str, mapping: &Mapping) -> Result<()> {
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .from_reader(text.as_bytes());
        let headers = reader
            .headers()
            .map_err(|e| Error::new(format!("{file}:1: cannot read the CSV header: {e}")))?
            .clone();
        for column in REQUIRED {
            let source = mapping.source(column);
            if !headers.iter().any(|h| h == source) {
                return Err(Error::new(format!(
                    "{file}:1: the CSV header has no {source:?} column (map one with --field {column}=COLUMN); nothing imported from it"
                )));
            }
        }
        let mut record = csv::StringRecord::new();
        loop {
            let at = |line: u64| Location {
                file: file.to_owned(),
                line: usize::try_from(line).unwrap_or(usize::MAX),
                index: None,
            };
            let line = reader.position().line();
            match reader.read_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => {
                    let line = e.position().map_or(line, csv::Position::line);
                    self.problems.push(Problem {
                        at: at(line),
                        message: format!("is not valid CSV: {e}"),
                    });
                    continue;
                }
            }
            let at = at(record.position().map_or(line, csv::Position::line));
            if record.len() != headers.len() {
                self.problems.push(Problem {
                    at,
                    message: format!(
                        "has {} fields, the header has {}",
                        record.len(),
                        headers.len()
                    ),
                });
                continue;
            }
            let row = CsvRow {
                headers: &headers,
                record: &record,
            };
            match user_row(at, &row, None, mapping, &mut self.defaulted) {
                Ok(user) => self.users.push(user),
                Err(p) => self.problems.push(p),
            }
        }
        Ok(())
    }

    /// Checks across rows and files, after every file is read: a user id or username, a
    /// token pk or jti, seen twice (the later row is reported), and blacklist entries
    /// whose outstanding token is not in the export.
    pub fn finish(&mut self) {
        let mut ids = BTreeMap::new();
        let mut names = BTreeMap::new();
        let mut problems = Vec::new();
        self.users.retain(|u| {
            let clash = ids
                .get(&u.id)
                .map(|at: &Location| format!("has id {}, as the user at {at}", u.id))
                .or_else(|| {
                    names.get(&u.username).map(|at: &Location| {
                        format!("has username {:?}, as the user at {at}", u.username)
                    })
                });
            if let Some(message) = clash {
                problems.push(Problem {
                    at: u.at.clone(),
                    message,
                });
                return false;
            }
            ids.insert(u.id, u.at.clone());
            names.insert(u.username.clone(), u.at.clone());
            true
        });
        let mut pks = BTreeMap::new();
        let mut jtis = BTreeMap::new();
        self.tokens.retain(|t| {
            let clash = pks
                .get(&t.pk)
                .map(|at: &Location| format!("has pk {}, as the token at {at}", t.pk))
                .or_else(|| {
                    jtis.get(&t.jti)
                        .map(|at: &Location| format!("has jti {}, as the token at {at}", t.jti))
                });
            if let Some(message) = clash {
                problems.push(Problem {
                    at: t.at.clone(),
                    message,
                });
                return false;
            }
            pks.insert(t.pk, t.at.clone());
            jtis.insert(t.jti.clone(), t.at.clone());
            true
        });
        let mut seen = BTreeMap::new();
        self.blacklisted.retain(|b| {
            let message = if !pks.contains_key(&b.token) {
                format!("blacklists outstanding token pk {}, which is not in the export (dumpdata token_blacklist exports both)", b.token)
            } else if let Some(at) = seen.get(&b.token) {
                format!("blacklists token pk {} again (first at {at})", b.token)
            } else {
                seen.insert(b.token, b.at.clone());
                return true;
            };
            problems.push(Problem {
                at: b.at.clone(),
                message,
            });
            false
        });
        self.problems.extend(problems);
        self.problems.sort_by(|a, b| {
            (&a.at.file, a.at.line, a.at.index).cmp(&(&b.at.file, b.at.line, b.at.index))
        });
    }

    /// The jti of the outstanding token `pk`.
    pub fn jti_of(&self, pk: i64) -> Option<&TokenRow> {
        self.tokens.iter().find(|t| t.pk == pk)
    }
}
