//! D1 and KV through `wrangler`: the CLI holds no Cloudflare credentials of its own and
//! works wherever `wrangler d1 execute` does (`--local [--persist-to DIR]` or `--remote`).
//! `EDGEJWT_WRANGLER` names the wrangler binary (default `npx wrangler`).

use std::{
    io::Write,
    path::PathBuf,
    process::{Command, Stdio},
};

use serde_json::Value;

use crate::{Error, Result};

/// Which D1 database and KV namespace, and how to reach them.
#[derive(Debug, Clone, Default)]
pub struct Target {
    /// `--remote` (else `--local`).
    pub remote: bool,
    /// `--persist-to DIR` for local state.
    pub persist_to: Option<PathBuf>,
    /// `--config FILE` (wrangler's own default: `./wrangler.toml`).
    pub config: Option<PathBuf>,
    /// `--env NAME`.
    pub env: Option<String>,
    /// The D1 binding (`DB`).
    pub database: String,
    /// The KV binding of revocations (`REVOCATIONS`).
    pub kv_binding: String,
}

/// One KV write for `wrangler kv bulk put`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct KvPut {
    /// The key (`revoked:<id>`).
    pub key: String,
    /// The value (`1`, as the issuer writes).
    pub value: String,
    /// Unix seconds when KV drops the key.
    pub expiration: i64,
}

/// The results of each statement of one `d1 execute`, in order.
pub type StatementResults = Vec<Vec<Value>>;

impl Target {
    fn command(&self) -> Command {
        let mut cmd = match std::env::var_os("EDGEJWT_WRANGLER") {
            Some(bin) => Command::new(bin),
            None => {
                let mut npx = Command::new("npx");
                npx.arg("wrangler");
                npx
            }
        };
        cmd.env("WRANGLER_SEND_METRICS", "false");
        cmd
    }

    fn common_args(&self, cmd: &mut Command) {
        cmd.arg(if self.remote { "--remote" } else { "--local" });
        if let Some(dir) = &self.persist_to {
            cmd.arg("--persist-to").arg(dir);
        }
        if let Some(config) = &self.config {
            cmd.arg("--config").arg(config);
        }
        if let Some(env) = &self.env {
            cmd.arg("--env").arg(env);
        }
    }

    /// Runs `sql` (statements separated by `;`) with `wrangler d1 execute --file` and
    /// returns each statement's rows.
    pub fn d1_execute(&self, sql: &str) -> Result<StatementResults> {
        let file = temp_file("sql", sql)?;
        let mut cmd = self.command();
        cmd.args(["d1", "execute", &self.database, "--json", "--yes", "--file"])
            .arg(&file.0);
        self.common_args(&mut cmd);
        let output = run(&mut cmd, "wrangler d1 execute")?;
        parse_d1_output(&output.stdout, output.status.success())
    }

    /// Writes `puts` with `wrangler kv bulk put`.
    pub fn kv_put(&self, puts: &[KvPut]) -> Result<()> {
        if puts.is_empty() {
            return Ok(());
        }
        let json = serde_json::to_string(puts)
            .map_err(|e| Error::new(format!("cannot write the KV file: {e}")))?;
        let file = temp_file("json", &json)?;
        let mut cmd = self.command();
        cmd.args(["kv", "bulk", "put"])
            .arg(&file.0)
            .args(["--binding", &self.kv_binding]);
        self.common_args(&mut cmd);
        let output = run(&mut cmd, "wrangler kv bulk put")?;
        if !output.status.success() {
            return Err(Error::new(format!(
                "wrangler kv bulk put failed: {}",
                tail(&output.stderr, &output.stdout)
            )));
        }
        Ok(())
    }
}

fn run(cmd: &mut Command, what: &str) -> Result<std::process::Output> {
    cmd.stdin(Stdio::null()).output().map_err(|e| {
        Error::new(format!(
            "cannot run {what} (is wrangler installed? set EDGEJWT_WRANGLER): {e}"
        ))
    })
}

/// The last lines of wrangler's output, for an error message.
fn tail(stderr: &[u8], stdout: &[u8]) -> String {
    let text = String::from_utf8_lossy(if stderr.is_empty() { stdout } else { stderr });
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let skip = lines.len().saturating_sub(5);
    lines.into_iter().skip(skip).collect::<Vec<_>>().join("\n")
}

/// wrangler's `--json` answer: an array of `{results, success, meta}`, one per
/// statement, or `{"error": {"text": …}}`.
pub fn parse_d1_output(stdout: &[u8], success: bool) -> Result<StatementResults> {
    let value: Value = serde_json::from_slice(stdout).map_err(|_| {
        Error::new(format!(
            "wrangler d1 execute {}: {}",
            if success {
                "answered no JSON"
            } else {
                "failed"
            },
            tail(&[], stdout)
        ))
    })?;
    if let Some(error) = value.get("error") {
        let text = error
            .get("text")
            .and_then(Value::as_str)
            .unwrap_or("unknown error");
        return Err(Error::new(format!("D1 refused the statements: {text}")));
    }
    let statements = value
        .as_array()
        .ok_or_else(|| Error::new("wrangler d1 execute answered an unexpected JSON shape"))?;
    Ok(statements
        .iter()
        .map(|s| {
            s.get("results")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        })
        .collect())
}

/// A file removed on drop (SQL and KV payloads are handed to wrangler as files).
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn temp_file(ext: &str, contents: &str) -> Result<TempFile> {
    let name = format!(
        "edgejwt-{}-{}.{ext}",
        std::process::id(),
        rand::random::<u64>()
    );
    let path = std::env::temp_dir().join(name);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        // Password hashes pass through this file: readable by us only.
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(&path)
        .map_err(|e| Error::new(format!("cannot create {}: {e}", path.display())))?;
    file.write_all(contents.as_bytes())
        .map_err(|e| Error::new(format!("cannot write {}: {e}", path.display())))?;
    Ok(TempFile(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_wranglers_answers() {
        let ok = br#"[{"results":[{"sid":"a"}],"success":true,"meta":{}},{"results":[],"success":true}]"#;
        let results = parse_d1_output(ok, true).unwrap();
        assert_eq!(results.len(), 2);
        assert_eq!(results[0][0]["sid"], "a");
        let err = br#"{"error":{"text":"UNIQUE constraint failed: users.username"}}"#;
        assert_eq!(
            parse_d1_output(err, false).unwrap_err().to_string(),
            "D1 refused the statements: UNIQUE constraint failed: users.username"
        );
        assert!(parse_d1_output(b"not json", false).is_err());
    }
}
