//! Settings as the Worker will see them: `wrangler.toml`'s `[vars]` (or
//! `[env.NAME.vars]`), plus secrets from a `.dev.vars`-style file, read through the same
//! parsers the Worker uses (edgejwt-core's [`Settings::from_lookup`] and
//! [`TokenBackend::from_settings`], the issuer's `PASSWORD_HASH_ITERATIONS` rule in
//! [`edgejwt_core::password::hash_iterations`]). `check-config` runs every [`GROUPS`] entry.

use std::{
    collections::BTreeMap,
    fmt,
    path::{Path, PathBuf},
};

use edgejwt_core::{
    authentication::AUTHENTICATION_CLASSES,
    browser::{BrowserSettings, BROWSER_SETTING_NAMES},
    password,
    settings::{
        auth_events_retention, d1_read_replicas, log_level, AUTH_EVENTS_RETENTION,
        D1_READ_REPLICAS, ISSUER_SETTING_NAMES, LOG_LEVEL,
    },
    Settings, SettingsError, TokenBackend, UserAuthentication, SETTING_NAMES,
};

use crate::{Error, Result};

/// Where a value came from, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A `[vars]` (or `[env.NAME.vars]`) entry of `wrangler.toml`: plain text, in the repository.
    Var,
    /// A secrets file (`.dev.vars`, `KEY=value` lines): what `wrangler secret put` holds.
    Secret,
}

/// One setting's raw value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A string: what the Worker reads.
    Text(String, Source),
    /// A TOML value of another type (the TOML type's name): the Worker sees a JSON value,
    /// not a string, and reads the setting as unset.
    NotText(&'static str),
}

/// The settings a Worker would get, by name.
#[derive(Debug, Clone, Default)]
pub struct Vars {
    /// What was read, for messages (`wrangler.toml [vars]`).
    pub origin: String,
    values: BTreeMap<String, Value>,
}

impl Vars {
    /// No settings (simplejwt's defaults everywhere).
    pub fn empty() -> Self {
        Self {
            origin: "no wrangler.toml".into(),
            values: BTreeMap::new(),
        }
    }

    /// `[vars]`, or `[env.NAME.vars]` with `env`. wrangler does not inherit `vars` into an
    /// environment, so an environment's table is read alone.
    pub fn from_toml(text: &str, env: Option<&str>, file: &str) -> Result<Self> {
        let doc: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| Error::new(format!("{file} is not valid TOML: {e}")))?;
        let (vars, origin) = match env {
            None => (doc.get("vars"), format!("{file} [vars]")),
            Some(name) => {
                let env = doc
                    .get("env")
                    .and_then(|e| e.get(name))
                    .ok_or_else(|| Error::new(format!("{file} has no [env.{name}]")))?;
                let origin = match env.get("vars") {
                    Some(_) => format!("{file} [env.{name}.vars]"),
                    None => format!(
                        "{file} [env.{name}], which has no vars (wrangler does not inherit [vars] into an environment)"
                    ),
                };
                (env.get("vars"), origin)
            }
        };
        let mut values = BTreeMap::new();
        if let Some(vars) = vars {
            let table = vars
                .as_table()
                .ok_or_else(|| Error::new(format!("{origin} is not a table")))?;
            for (name, value) in table {
                let value = match value {
                    toml::Value::String(s) => Value::Text(s.clone(), Source::Var),
                    other => Value::NotText(other.type_str()),
                };
                values.insert(name.clone(), value);
            }
        }
        Ok(Self { origin, values })
    }

    /// Reads `path` (a `wrangler.toml`).
    pub fn read(path: &Path, env: Option<&str>) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::new(format!("cannot read {}: {e}", path.display())))?;
        Self::from_toml(&text, env, &path.display().to_string())
    }

    /// `path` if given, else `./wrangler.toml` if there is one, else no settings.
    pub fn read_default(path: Option<&Path>, env: Option<&str>) -> Result<Self> {
        match path {
            Some(path) => Self::read(path, env),
            None if Path::new("wrangler.toml").exists() => {
                Self::read(Path::new("wrangler.toml"), env)
            }
            None => Ok(Self::empty()),
        }
    }

    /// Adds secrets from a `.dev.vars` file (`KEY=value`, `KEY="multi-line value"`);
    /// they override vars of the same name, as a Worker's secrets do.
    pub fn add_secrets_file(&mut self, path: &Path) -> Result<()> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::new(format!("cannot read {}: {e}", path.display())))?;
        for (name, value) in parse_dotenv(&text)
            .map_err(|line| Error::new(format!("{}:{line}: expected KEY=value", path.display())))?
        {
            self.values.insert(name, Value::Text(value, Source::Secret));
        }
        self.origin = format!("{} + {}", self.origin, path.display());
        Ok(())
    }

    /// Sets one value as a secret (e.g. a key given with `--key`).
    pub fn set_secret(&mut self, name: &str, value: String) {
        self.values
            .insert(name.to_owned(), Value::Text(value, Source::Secret));
    }

    /// The string value of `name`, as the Worker's `env` gives it.
    pub fn get(&self, name: &str) -> Option<String> {
        match self.values.get(name)? {
            Value::Text(s, _) => Some(s.clone()),
            Value::NotText(_) => None,
        }
    }

    /// The raw entry.
    pub fn value(&self, name: &str) -> Option<&Value> {
        self.values.get(name)
    }

    /// Every name present.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.values.keys().map(String::as_str)
    }

    /// The token settings, exactly as the Worker parses them.
    pub fn settings(&self) -> Result<Settings> {
        Ok(Settings::from_lookup(|name| self.get(name))?)
    }

    /// The issuer's `PASSWORD_HASH_ITERATIONS`, by the issuer's rule.
    pub fn password_hash_iterations(&self) -> Result<u32> {
        Ok(password::hash_iterations(
            self.get("PASSWORD_HASH_ITERATIONS").as_deref(),
        )?)
    }
}

/// `KEY=value` lines; `#` comments; values in double quotes may span lines (a PEM).
/// `Err(line)` names the first line that is neither.
fn parse_dotenv(text: &str) -> Result<Vec<(String, String)>, usize> {
    let mut out = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((n, line)) = lines.next() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, value) = line.split_once('=').ok_or(n + 1)?;
        let (name, value) = (name.trim(), value.trim());
        let value = if let Some(rest) = value.strip_prefix('"') {
            let mut value = rest.to_owned();
            while !value.ends_with('"') {
                let (_, next) = lines.next().ok_or(n + 1)?;
                value.push('\n');
                value.push_str(next);
            }
            value.pop();
            value.replace("\\n", "\n")
        } else {
            value.trim_matches('\'').to_owned()
        };
        out.push((name.to_owned(), value));
    }
    Ok(out)
}

/// A problem `check-config` found: the setting and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The setting's name.
    pub setting: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.setting, self.message)
    }
}

/// What `check-config` found.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Settings the Worker would refuse (a 500 naming the setting) or misread.
    pub problems: Vec<Problem>,
    /// Things worth knowing that are not errors (a secret not in the file, an unknown name).
    pub notes: Vec<String>,
}

impl Report {
    fn problem(&mut self, setting: &str, message: impl Into<String>) {
        self.problems.push(Problem {
            setting: setting.to_owned(),
            message: message.into(),
        });
    }
}

/// A group of settings one host component reads, and how it validates them.
#[derive(Debug)]
pub struct Group {
    /// For the report.
    pub name: &'static str,
    /// The names it reads (unknown names are reported).
    pub settings: &'static [&'static str],
    /// Validates the group's settings the way its reader will.
    pub check: fn(&Vars, &mut Report),
}

/// Every group of settings, checked in order. A new settings group is one more line here.
pub const GROUPS: &[Group] = &[
    Group {
        name: "tokens (edgejwt-core)",
        settings: SETTING_NAMES,
        check: check_tokens,
    },
    Group {
        name: "browsers (edgejwt-core browser)",
        settings: BROWSER_SETTING_NAMES,
        check: |vars, report| {
            each_problem(vars, report, |lookup| BrowserSettings::from_lookup(lookup));
        },
    },
    Group {
        name: "issuer",
        settings: ISSUER_SETTING_NAMES,
        check: check_issuer,
    },
];

/// Validates every setting in `vars`, naming each problem.
pub fn check_config(vars: &Vars) -> Report {
    let mut report = Report::default();
    for name in vars.names() {
        let known = GROUPS.iter().any(|g| g.settings.contains(&name));
        match vars.value(name) {
            Some(Value::NotText(kind)) if known => report.problem(
                name,
                format!(
                    "is a TOML {kind}; the Worker reads settings as strings and would see it as unset: quote it"
                ),
            ),
            _ if !known => report.notes.push(format!(
                "{name} is not a setting edgejwt reads (a typo, or your own variable?)"
            )),
            _ => {}
        }
    }
    for group in GROUPS {
        (group.check)(vars, &mut report);
    }
    report
}

/// Runs a group's own parser over `vars`, naming every bad setting: the parsers stop at
/// the first, so it is set aside (read as unset) and the rest parsed again, until the
/// parser accepts what is left. `None` when any was set aside.
fn each_problem<T>(
    vars: &Vars,
    report: &mut Report,
    parse: impl Fn(&dyn Fn(&str) -> Option<String>) -> Result<T, SettingsError>,
) -> Option<T> {
    let mut set_aside: Vec<&'static str> = Vec::new();
    loop {
        let lookup = |name: &str| {
            if set_aside.contains(&name) {
                None
            } else {
                vars.get(name)
            }
        };
        match parse(&lookup) {
            Ok(parsed) => return set_aside.is_empty().then_some(parsed),
            Err(e) => {
                report.problem(e.setting, e.reason.into_owned());
                if set_aside.contains(&e.setting) || vars.get(e.setting).is_none() {
                    // Not a value that can be set aside (a rule across settings, or an
                    // error the parser raises again): reported once, the group stops.
                    return None;
                }
                set_aside.push(e.setting);
            }
        }
    }
}

/// The core's settings, then its key loading, as `Config::from_env` does. Keys are checked
/// only when every token setting parsed: with the algorithm or a key setting refused, the
/// check would say nothing true.
fn check_tokens(vars: &Vars, report: &mut Report) {
    let Some(settings) = each_problem(vars, report, |lookup| Settings::from_lookup(lookup)) else {
        return;
    };
    if matches!(vars.value("SIGNING_KEY"), Some(Value::Text(_, Source::Var))) {
        report.problem(
            "SIGNING_KEY",
            "is a plain [vars] entry, readable by anyone with the repository: remove it and run `npx wrangler secret put SIGNING_KEY`",
        );
    }
    if vars.get("SIGNING_KEY").is_none() {
        report.notes.push(
            "SIGNING_KEY is not set here: it is a secret (`npx wrangler secret put SIGNING_KEY`); \
             its checks are skipped (give the secrets with --secrets .dev.vars to check it)"
                .into(),
        );
        if settings.algorithm.is_hmac() || settings.verifying_key.is_none() {
            return;
        }
    }
    match TokenBackend::from_settings(&settings) {
        Err(e) => report.problem(e.setting, e.reason.into_owned()),
        Ok(backend) if !backend.can_sign() && vars.get("SIGNING_KEY").is_some() => {
            report.problem("SIGNING_KEY", "the issuer needs a signing key");
        }
        Ok(_) => {}
    }
}

fn check_issuer(vars: &Vars, report: &mut Report) {
    if let Err(e) = password::hash_iterations(vars.get("PASSWORD_HASH_ITERATIONS").as_deref()) {
        report.problem(e.setting, e.reason.into_owned());
    }
    let classes = vars.get(AUTHENTICATION_CLASSES);
    if let Err(e) = UserAuthentication::from_setting(classes.as_deref()) {
        report.problem(e.setting, e.reason.into_owned());
    }
    if let Err(e) = d1_read_replicas(vars.get(D1_READ_REPLICAS).as_deref()) {
        report.problem(e.setting, e.reason.into_owned());
    }
    if let Err(e) = auth_events_retention(vars.get(AUTH_EVENTS_RETENTION).as_deref()) {
        report.problem(e.setting, e.reason.into_owned());
    }
    if let Err(e) = log_level(vars.get(LOG_LEVEL).as_deref()) {
        report.problem(e.setting, e.reason.into_owned());
    }
}

/// The `wrangler.toml` path a command was given, or the default.
pub fn wrangler_toml(path: Option<&PathBuf>) -> PathBuf {
    path.cloned()
        .unwrap_or_else(|| PathBuf::from("wrangler.toml"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(toml: &str, env: Option<&str>) -> Report {
        check_config(&Vars::from_toml(toml, env, "wrangler.toml").unwrap())
    }

    fn settings_named(report: &Report) -> Vec<&str> {
        report.problems.iter().map(|p| p.setting.as_str()).collect()
    }

    #[test]
    fn the_shipped_wrangler_toml_is_valid_without_its_secret() {
        let report = check(include_str!("../../../wrangler.toml"), None);
        assert!(report.problems.is_empty(), "{:?}", report.problems);
        assert!(report
            .notes
            .iter()
            .any(|n| n.contains("SIGNING_KEY is not set")));
    }

    #[test]
    fn names_every_bad_setting() {
        let report = check(
            r#"
[vars]
ACCESS_TOKEN_LIFETIME = "5 minutes"
ROTATE_REFRESH_TOKENS = "maybe"
LEEWAY = 5
ALGORITHM = "HS256"
PASSWORD_HASH_ITERATIONS = "100"
D1_READ_REPLICAS = "sometimes"
ACCES_TOKEN_LIFETIME = "5m"
"#,
            None,
        );
        assert_eq!(
            settings_named(&report),
            [
                "LEEWAY",
                "ACCESS_TOKEN_LIFETIME",
                "ROTATE_REFRESH_TOKENS",
                "PASSWORD_HASH_ITERATIONS",
                "D1_READ_REPLICAS"
            ]
        );
        assert!(report
            .problems
            .first()
            .unwrap()
            .message
            .contains("TOML integer"));
        assert!(report
            .notes
            .iter()
            .any(|n| n.starts_with("ACCES_TOKEN_LIFETIME")));
    }

    #[test]
    fn cross_setting_and_key_rules_are_the_cores() {
        let report = check("[vars]\nUSER_ID_CLAIM = \"exp\"\n", None);
        assert_eq!(settings_named(&report), ["USER_ID_CLAIM"]);
        // A weak HMAC secret, given as a secret: refused at load as the Worker would.
        let mut vars = Vars::from_toml("[vars]\nALGORITHM = \"HS256\"\n", None, "t").unwrap();
        vars.set_secret("SIGNING_KEY", "short".into());
        let report = check_config(&vars);
        assert_eq!(settings_named(&report), ["SIGNING_KEY"]);
        // A key committed as a plain var is named even when it is strong.
        let report = check(
            "[vars]\nSIGNING_KEY = \"conformance-reference-signing-key-0123456789abcdef\"\n",
            None,
        );
        assert_eq!(settings_named(&report), ["SIGNING_KEY"]);
    }

    #[test]
    fn browser_settings_are_checked_by_the_cores_parser() {
        let report = check(
            "[vars]\nJWT_AUTH_REFRESH_COOKIE = \"refresh\"\nJWT_AUTH_SAMESITE = \"None\"\nJWT_AUTH_SECURE = \"false\"\nCORS_ALLOW_CREDENTIALS = \"perhaps\"\n",
            None,
        );
        assert_eq!(
            settings_named(&report),
            ["JWT_AUTH_SAMESITE", "CORS_ALLOW_CREDENTIALS"],
            "{:?}",
            report.problems
        );
    }

    #[test]
    fn environments_do_not_inherit_vars() {
        let toml = "[vars]\nLEEWAY = \"x\"\n[env.staging.vars]\nLEEWAY = \"5\"\n";
        assert_eq!(settings_named(&check(toml, None)), ["LEEWAY"]);
        assert!(check(toml, Some("staging")).problems.is_empty());
        let err = Vars::from_toml(toml, Some("prod"), "wrangler.toml").unwrap_err();
        assert_eq!(err.to_string(), "wrangler.toml has no [env.prod]");
    }

    #[test]
    fn dotenv_values() {
        let parsed = parse_dotenv("# c\nA=1\nB=\"-----BEGIN\nx\n-----END\"\nC='q'\n").unwrap();
        assert_eq!(
            parsed,
            [
                ("A".into(), "1".into()),
                ("B".into(), "-----BEGIN\nx\n-----END".into()),
                ("C".into(), "q".into())
            ]
        );
        assert_eq!(parse_dotenv("A=1\nnonsense\n"), Err(2));
    }
}
