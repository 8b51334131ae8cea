//! The `edgejwt` binary: arguments (clap) to the library's commands, output, exit codes.
#![allow(clippy::print_stdout, reason = "a CLI: stdout is its output")]

use std::{
    io::{BufRead, IsTerminal, Read},
    path::{Path, PathBuf},
    process::ExitCode,
};

use clap::{Args, Parser, Subcommand};
use edgejwt_cli::{
    config::{self, Vars},
    django::{Export, Mapping},
    import, inspect,
    keygen::{self, KeyAlg},
    users::{self, NewUser},
    wrangler::Target,
    Error, Result,
};

/// edgejwt's operator tool: keys, tokens, users in D1, Django import, config checks.
#[derive(Debug, Parser)]
#[command(name = "edgejwt", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// A new SIGNING_KEY, its public JWK Set, and the commands to install it.
    Keygen(KeygenArgs),
    /// Decode a token and say whether it verifies (the core's reason if not).
    Inspect(InspectArgs),
    /// Users in D1.
    Users {
        #[command(subcommand)]
        command: UsersCommand,
    },
    /// Import users (and simplejwt's token tables) from Django exports.
    ImportDjango(ImportArgs),
    /// Validate the settings in wrangler.toml as the Worker will.
    CheckConfig(CheckArgs),
}

#[derive(Debug, Args)]
struct KeygenArgs {
    /// The algorithm (the ALGORITHM setting).
    #[arg(long, value_enum)]
    alg: KeyAlg,
    /// RSA modulus size.
    #[arg(long, default_value_t = 2048)]
    bits: usize,
    /// Write signing-key.pem (0600), jwks.json (and previous-verifying-keys.json) here
    /// instead of printing the key.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Rotate: retire the key in --current into PREVIOUS_VERIFYING_KEYS.
    #[arg(long, requires = "current")]
    rotate: bool,
    /// The SIGNING_KEY in use now (a file), with --rotate.
    #[arg(long, requires = "rotate")]
    current: Option<PathBuf>,
    /// The PREVIOUS_VERIFYING_KEYS value in use now (a file holding its JSON array;
    /// default: ./wrangler.toml's, if any).
    #[arg(long, requires = "rotate")]
    previous: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct InspectArgs {
    /// The token, or - to read it from stdin.
    token: String,
    /// wrangler.toml whose [vars] hold the settings (default: ./wrangler.toml if present).
    #[arg(long)]
    settings: Option<PathBuf>,
    /// The wrangler environment ([env.NAME.vars]).
    #[arg(long)]
    env: Option<String>,
    /// A file with the key: the SIGNING_KEY, or a public key (PEM or JWK).
    #[arg(long)]
    key: Option<PathBuf>,
    /// A .dev.vars-style secrets file (SIGNING_KEY=…).
    #[arg(long)]
    secrets: Option<PathBuf>,
    /// Override ALGORITHM.
    #[arg(long)]
    alg: Option<String>,
    /// Verify as of this time (Unix seconds or RFC 3339), e.g. when an incident happened.
    #[arg(long)]
    at: Option<String>,
}

#[derive(Debug, Args)]
struct TargetArgs {
    /// Use the remote D1 and KV (default: local, as wrangler dev).
    #[arg(long, conflicts_with = "local")]
    remote: bool,
    /// Use the local D1 and KV (the default).
    #[arg(long)]
    local: bool,
    /// Local state directory (wrangler --persist-to).
    #[arg(long, conflicts_with = "remote")]
    persist_to: Option<PathBuf>,
    /// wrangler.toml (bindings for wrangler, settings for the CLI).
    #[arg(long)]
    config: Option<PathBuf>,
    /// The wrangler environment.
    #[arg(long)]
    env: Option<String>,
    /// The D1 binding.
    #[arg(long, default_value = "DB")]
    database: String,
    /// The KV binding of revocations.
    #[arg(long, default_value = "REVOCATIONS")]
    kv_binding: String,
    /// Print the SQL instead of running it.
    #[arg(long)]
    sql: bool,
}

impl TargetArgs {
    fn target(&self) -> Target {
        Target {
            remote: self.remote,
            persist_to: self.persist_to.clone(),
            config: self.config.clone(),
            env: self.env.clone(),
            database: self.database.clone(),
            kv_binding: self.kv_binding.clone(),
        }
    }

    fn vars(&self) -> Result<Vars> {
        Vars::read_default(self.config.as_deref(), self.env.as_deref())
    }

    fn place(&self) -> &'static str {
        if self.remote {
            "remote"
        } else {
            "local"
        }
    }
}

#[derive(Debug, Subcommand)]
enum UsersCommand {
    /// Create a user (the password from --password-stdin or $EDGEJWT_PASSWORD).
    Create {
        /// The user's username (as they log in).
        username: String,
        #[arg(long, default_value = "")]
        email: String,
        #[arg(long, default_value = "")]
        first_name: String,
        #[arg(long, default_value = "")]
        last_name: String,
        /// users.id (default: the next one).
        #[arg(long)]
        id: Option<i64>,
        #[arg(long)]
        staff: bool,
        #[arg(long)]
        superuser: bool,
        #[arg(long)]
        inactive: bool,
        /// Extra token claims, a JSON object (e.g. '{"roles":["admin"]}').
        #[arg(long, default_value = "{}")]
        claims: String,
        /// Read the password from the first line of stdin.
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        target: TargetArgs,
    },
    /// Set a user's password (also the way to reset an imported "must reset" user).
    Passwd {
        /// The user's username (as they log in).
        username: String,
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        target: TargetArgs,
    },
    /// Deactivate a user and end every session of theirs (D1 and KV).
    Deactivate {
        /// The user's username (as they log in).
        username: String,
        #[command(flatten)]
        target: TargetArgs,
    },
    /// Activate a user.
    Activate {
        /// The user's username (as they log in).
        username: String,
        #[command(flatten)]
        target: TargetArgs,
    },
    /// End every session of a user (D1 and KV): logout everywhere.
    RevokeSessions {
        /// The user's username (as they log in).
        username: String,
        #[command(flatten)]
        target: TargetArgs,
    },
}

#[derive(Debug, Args)]
struct ImportArgs {
    /// dumpdata JSON (auth.user or a custom model, token_blacklist) or CSV files.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// The user model's dumpdata label.
    #[arg(long)]
    model: Option<String>,
    /// COLUMN=FIELD: fill a users column from another field (e.g. username=email).
    #[arg(long = "field")]
    fields: Vec<String>,
    #[command(flatten)]
    target: TargetArgs,
}

#[derive(Debug, Args)]
struct CheckArgs {
    /// wrangler.toml.
    path: Option<PathBuf>,
    /// Check [env.NAME.vars] instead of [vars].
    #[arg(long)]
    env: Option<String>,
    /// A .dev.vars-style secrets file, to check SIGNING_KEY too.
    #[arg(long)]
    secrets: Option<PathBuf>,
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("edgejwt: {e}");
            ExitCode::FAILURE
        }
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path)
        .map_err(|e| Error::new(format!("cannot read {}: {e}", path.display())))
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Keygen(args) => keygen_cmd(args),
        Command::Inspect(args) => inspect_cmd(args),
        Command::Users { command } => users_cmd(command),
        Command::ImportDjango(args) => import_cmd(args),
        Command::CheckConfig(args) => check_cmd(args),
    }
}

fn write_file(path: &Path, contents: &str, secret: bool) -> Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = secret;
    options
        .open(path)
        .and_then(|mut f| f.write_all(contents.as_bytes()))
        .map_err(|e| Error::new(format!("cannot write {}: {e}", path.display())))
}

fn keygen_cmd(args: KeygenArgs) -> Result<ExitCode> {
    let key = keygen::generate(args.alg, args.bits)?;
    let previous = match &args.current {
        Some(current) => {
            let retired = keygen::load(args.alg, read(current)?)
                .map_err(|e| Error::new(format!("--current {}: {e}", current.display())))?;
            // The value in use: --previous, else ./wrangler.toml's [vars] (asymmetric keys
            // are public and may live there; previous HMAC secrets are secrets: --previous).
            let existing = match args.previous.as_deref() {
                Some(path) => Some(read(path)?),
                None => Vars::read_default(None, None)?.get("PREVIOUS_VERIFYING_KEYS"),
            };
            Some(keygen::previous_keys(&retired, existing.as_deref())?)
        }
        None => None,
    };
    let jwks = keygen::jwks(&key, previous.as_deref().unwrap_or_default());
    let jwks = serde_json::to_string_pretty(&jwks).unwrap_or_default();
    let previous_json = previous
        .as_ref()
        .map(|p| serde_json::to_string(p).unwrap_or_default());
    let alg = args.alg.as_str();
    let key_file = match &args.out {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::new(format!("cannot create {}: {e}", dir.display())))?;
            let key_path = dir.join(if args.alg.is_hmac() {
                "signing-key.txt"
            } else {
                "signing-key.pem"
            });
            write_file(&key_path, &key.signing_key, true)?;
            write_file(&dir.join("jwks.json"), &format!("{jwks}\n"), false)?;
            if let Some(previous) = &previous_json {
                write_file(
                    &dir.join("previous-verifying-keys.json"),
                    previous,
                    args.alg.is_hmac(),
                )?;
            }
            println!(
                "wrote {} (secret, mode 0600) and {}",
                key_path.display(),
                dir.join("jwks.json").display()
            );
            key_path.display().to_string()
        }
        None => {
            println!("# SIGNING_KEY ({alg}); secret: save it to a file, e.g. signing-key.pem, mode 0600\n{}", key.signing_key);
            println!("\n# public JWK Set (what /.well-known/jwks.json serves)\n{jwks}");
            if let Some(previous) = &previous_json {
                println!("\n# PREVIOUS_VERIFYING_KEYS\n{previous}");
            }
            if args.alg.is_hmac() {
                "signing-key.txt"
            } else {
                "signing-key.pem"
            }
            .to_owned()
        }
    };
    println!("\n# then:");
    println!("npx wrangler secret put SIGNING_KEY < {key_file}");
    println!("# wrangler.toml [vars]: ALGORITHM = \"{alg}\"");
    if let Some(previous) = &previous_json {
        if args.alg.is_hmac() {
            // Previous HMAC secrets verify and sign alike: they are secrets too.
            let file = args
                .out
                .as_ref()
                .map_or("previous-verifying-keys.json".into(), |d| {
                    d.join("previous-verifying-keys.json").display().to_string()
                });
            println!("npx wrangler secret put PREVIOUS_VERIFYING_KEYS < {file}   # previous HMAC secrets: never a plain var");
        } else {
            println!("# wrangler.toml [vars]: PREVIOUS_VERIFYING_KEYS = '{previous}'");
        }
    }
    println!("npx wrangler deploy");
    Ok(ExitCode::SUCCESS)
}

fn inspect_cmd(args: InspectArgs) -> Result<ExitCode> {
    let token = if args.token == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| Error::new(format!("cannot read the token from stdin: {e}")))?;
        s
    } else {
        args.token.clone()
    };
    let mut vars = Vars::read_default(args.settings.as_deref(), args.env.as_deref())?;
    if let Some(secrets) = &args.secrets {
        vars.add_secrets_file(secrets)?;
    }
    if let Some(alg) = &args.alg {
        vars.set_secret("ALGORITHM", alg.clone());
    }
    if let Some(key) = &args.key {
        let key = read(key)?.trim().to_owned();
        // A private key or HMAC secret is a SIGNING_KEY; a public key a VERIFYING_KEY.
        let public = key.contains("PUBLIC KEY") || (key.starts_with('{') && !key.contains("\"d\""));
        vars.set_secret(
            if public {
                "VERIFYING_KEY"
            } else {
                "SIGNING_KEY"
            },
            key,
        );
    }
    let now = match &args.at {
        None => now(),
        Some(at) => edgejwt_cli::django::parse_datetime(at).ok_or_else(|| {
            Error::new(format!(
                "--at {at:?}: expected Unix seconds or a date and time (2026-12-01T12:00:00Z)"
            ))
        })?,
    };
    let inspection = inspect::inspect(&token, &vars, now)?;
    let refresh_exp = vars
        .settings()
        .map(|s| s.sliding_token_refresh_exp_claim)
        .unwrap_or_else(|_| "refresh_exp".into());
    print!(
        "{}",
        inspection.render(&["exp", "iat", "nbf", &refresh_exp], now)
    );
    Ok(match inspection.verdict {
        inspect::Verdict::Valid(_) => ExitCode::SUCCESS,
        _ => ExitCode::FAILURE,
    })
}

fn password(from_stdin: bool) -> Result<String> {
    let password = if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| Error::new(format!("cannot read the password from stdin: {e}")))?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    } else if let Ok(p) = std::env::var("EDGEJWT_PASSWORD") {
        p
    } else if std::io::stdin().is_terminal() {
        return Err(Error::new(
            "give the password with --password-stdin (e.g. from a password manager) or in $EDGEJWT_PASSWORD, never as an argument",
        ));
    } else {
        return Err(Error::new(
            "no password: use --password-stdin or $EDGEJWT_PASSWORD",
        ));
    };
    if password.is_empty() {
        return Err(Error::new("the password is empty"));
    }
    Ok(password)
}

/// Runs `sql` (or prints it with --sql); `None` when printed.
fn execute(
    target: &TargetArgs,
    sql: &str,
) -> Result<Option<edgejwt_cli::wrangler::StatementResults>> {
    if target.sql {
        println!("{sql}");
        return Ok(None);
    }
    target.target().d1_execute(sql).map(Some)
}

fn no_user(username: &str, target: &TargetArgs) -> Error {
    Error::new(format!(
        "no user named {username:?} in the {} D1",
        target.place()
    ))
}

fn users_cmd(command: UsersCommand) -> Result<ExitCode> {
    match command {
        UsersCommand::Create {
            username,
            email,
            first_name,
            last_name,
            id,
            staff,
            superuser,
            inactive,
            claims,
            password_stdin,
            target,
        } => {
            users::check_username(&username)?;
            users::check_claims(&claims)?;
            let iterations = target.vars()?.password_hash_iterations()?;
            let encoded = users::hash_password(&password(password_stdin)?, iterations)?;
            let user = NewUser {
                id,
                username: username.clone(),
                email,
                first_name,
                last_name,
                is_active: !inactive,
                is_staff: staff,
                is_superuser: superuser,
                claims,
            };
            if let Some(results) = execute(&target, &users::create_sql(&user, &encoded, now()))? {
                let id = users::found_user(&results)
                    .map_or_else(String::new, |id| format!(" (id {id})"));
                println!("user {username:?} created{id} in the {} D1", target.place());
            }
        }
        UsersCommand::Passwd {
            username,
            password_stdin,
            target,
        } => {
            let iterations = target.vars()?.password_hash_iterations()?;
            let encoded = users::hash_password(&password(password_stdin)?, iterations)?;
            if let Some(results) = execute(&target, &users::passwd_sql(&username, &encoded))? {
                users::found_user(&results).ok_or_else(|| no_user(&username, &target))?;
                println!("password of {username:?} set ({} D1); sessions are kept: `edgejwt users revoke-sessions {username}` ends them", target.place());
            }
        }
        UsersCommand::Activate { username, target } => {
            if let Some(results) = execute(&target, &users::set_active_sql(&username, true))? {
                users::found_user(&results).ok_or_else(|| no_user(&username, &target))?;
                println!("user {username:?} activated ({} D1)", target.place());
            }
        }
        UsersCommand::Deactivate { username, target } => {
            let first = users::set_active_sql(&username, false);
            end_sessions(&username, &target, &first, "deactivated")?;
        }
        UsersCommand::RevokeSessions { username, target } => {
            let first = format!(
                "SELECT id FROM users WHERE username = {};",
                edgejwt_cli::sql::text(&username)
            );
            end_sessions(&username, &target, &first, "sessions revoked")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `first` (which finds the user: `RETURNING id`), then the issuer's session ending, then
/// the KV revocations of what it ended.
fn end_sessions(username: &str, target: &TargetArgs, first: &str, done: &str) -> Result<()> {
    let settings = target.vars()?.settings()?;
    let now = now();
    let sql = format!("{first}\n{}", users::end_sessions_sql(username, now));
    let Some(results) = execute(target, &sql)? else {
        eprintln!("-- they mark what they end kv_pending: the issuer's every-minute Cron Trigger then writes revoked:<id> to KV ({}) for it; or write it yourself for every sid and jti they return (RETURNING), as `edgejwt users` does without --sql", target.kv_binding);
        return Ok(());
    };
    users::found_user(&results).ok_or_else(|| no_user(username, target))?;
    let ended = users::revocations(&results, 1, &settings, now);
    target.target().kv_put(&ended.kv)?;
    // Failing here leaves marks only: the issuer's Cron writes those keys again, idempotently.
    if let Some(sql) = users::mirrored_sql(&ended) {
        if let Err(e) = target.target().d1_execute(&sql) {
            eprintln!("edgejwt: KV written; the kv_pending marks stay for the issuer's Cron: {e}");
        }
    }
    println!(
        "user {username:?} {done} ({} D1): {} sessions ended, {} refresh tokens blacklisted, {} ids revoked in KV {}",
        target.place(),
        ended.sessions.len(),
        ended.tokens.len(),
        ended.kv.len(),
        target.kv_binding
    );
    Ok(())
}

fn import_cmd(args: ImportArgs) -> Result<ExitCode> {
    let mapping = Mapping::new(args.model.as_deref(), &args.fields)?;
    let settings = args.target.vars()?.settings()?;
    let mut export = Export::default();
    for file in &args.files {
        export.read_file(file, &mapping)?;
    }
    export.finish();
    let now = now();
    let plan = import::plan(&export, &settings, now);
    // With --sql the statements go to stdout, the summary to stderr.
    let mut summary = String::new();
    let (users, tokens, blacklisted) = plan.counts;
    let hashers: Vec<String> = plan
        .hashers
        .iter()
        .map(|(h, n)| format!("{h} {n}"))
        .collect();
    summary.push_str(&format!(
        "users: {users} ({}): {} can log in with their Django password, {} must reset\n",
        if hashers.is_empty() {
            "none".into()
        } else {
            hashers.join(", ")
        },
        plan.can_log_in,
        plan.must_reset.len()
    ));
    for user in &plan.must_reset {
        summary.push_str(&format!(
            "  must reset: {} (id {}): {}\n",
            user.username, user.id, user.reason
        ));
    }
    if !plan.must_reset.is_empty() {
        summary.push_str("  (they log in once given a password: `edgejwt users passwd USERNAME`, or a reset flow)\n");
    }
    summary.push_str(&format!("simplejwt tokens: {tokens} outstanding, {blacklisted} blacklisted ({} revocations for KV)\n", plan.kv.len()));
    for (column, n) in &export.defaulted {
        summary.push_str(&format!(
            "  {column}: not in {n} rows, Django's default used\n"
        ));
    }
    for (model, n) in &export.skipped {
        summary.push_str(&format!("  not imported: {n} elements of {model}\n"));
    }
    if !export.problems.is_empty() {
        summary.push_str(&format!(
            "bad rows, not imported: {}\n",
            export.problems.len()
        ));
        for problem in &export.problems {
            summary.push_str(&format!("  {problem}\n"));
        }
    }
    if args.target.sql {
        println!("{}", plan.sql);
        eprint!("{summary}");
        if !plan.kv.is_empty() {
            eprintln!(
                "-- and KV ({}): {}",
                args.target.kv_binding,
                serde_json::to_string(&plan.kv).unwrap_or_default()
            );
        }
    } else {
        if !plan.sql.is_empty() {
            let target = args.target.target();
            target.d1_execute(&plan.sql)?;
            target.kv_put(&plan.kv)?;
        }
        print!("{summary}");
        println!("imported into the {} D1", args.target.place());
    }
    Ok(if export.problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

fn check_cmd(args: CheckArgs) -> Result<ExitCode> {
    let path = config::wrangler_toml(args.path.as_ref());
    let mut vars = Vars::read(&path, args.env.as_deref())?;
    if let Some(secrets) = &args.secrets {
        vars.add_secrets_file(secrets)?;
    }
    let report = config::check_config(&vars);
    println!("checked {}", vars.origin);
    for note in &report.notes {
        println!("  note: {note}");
    }
    for problem in &report.problems {
        println!("  problem: {problem}");
    }
    if report.problems.is_empty() {
        println!("ok: the Worker will accept these settings");
        Ok(ExitCode::SUCCESS)
    } else {
        println!("{} problem(s)", report.problems.len());
        Ok(ExitCode::FAILURE)
    }
}
