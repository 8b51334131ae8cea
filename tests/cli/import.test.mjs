// `edgejwt import-django` and `edgejwt users` end to end: the CLI writes a real local D1
// and KV (wrangler --local --persist-to), then the issuer runs in workerd on that state
// with the signing key of the recorded Django project. The exports were recorded from a
// real Django 6.1 + simplejwt 5.5.1 project (scripts/record-django-exports.py).
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";

import { claims, startIssuer, TEST_ITERATIONS, withIssuer } from "../worker/harness.mjs";
import { planProblem } from "../worker/plans.mjs";
import { edgejwt, FIXTURES, ok, ROOT } from "./cli.mjs";

const manifest = JSON.parse(readFileSync(`${FIXTURES}manifest.json`, "utf8"));
const state = mkdtempSync(join(tmpdir(), "edgejwt-cli-"));
const target = ["--local", "--persist-to", state, "--config", "wrangler.toml"];
const vars = { SIGNING_KEY: manifest.signing_key };
const onState = (fn) => withIssuer({ persist: state, migrate: false, seed: false, vars }, fn);
const password = (name) => manifest.users[name].password;

/** The statements of a `--sql` printout (one per line, each ending in `;`), comments left out. */
const sqlStatements = (printed) =>
  printed.split(/;\n/).map((s) => s.trim().replace(/;$/, "")).filter((s) => s && !s.startsWith("--"));

async function login(issuer, username, pw = password(username)) {
  return issuer.call("POST", "/api/token/", { json: { username, password: pw } });
}

before(async () => {
  // The migrations, applied by the issuer's own harness to the state directory.
  const issuer = await startIssuer({ persist: state, seed: false, vars });
  await issuer.stop();
});
after(() => rmSync(state, { recursive: true, force: true }));

describe("import-django", () => {
  test("the recorded Django export imports, twice, without duplicates", async () => {
    const files = [`${FIXTURES}users.json`, `${FIXTURES}tokens.json`];
    const first = await ok(["import-django", ...files, ...target]);
    assert.match(first.stdout, /users: 7 \(argon2 1, bcrypt_sha256 1, pbkdf2_sha1 1, pbkdf2_sha256 3, unusable 1\): 4 can log in with their Django password, 3 must reset/);
    for (const name of ["dave", "erin", "frank"]) assert.match(first.stdout, new RegExp(`must reset: ${name} \\(id \\d\\)`));
    assert.match(first.stdout, /simplejwt tokens: 3 outstanding, 1 blacklisted \(1 revocations for KV\)/);
    await ok(["import-django", ...files, ...target]);
    await onState(async ({ db, kv }) => {
      const count = async (table) => (await db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).first()).n;
      assert.deepEqual([await count("users"), await count("outstanding_tokens"), await count("blacklisted_tokens")], [7, 3, 1]);
      const grace = await db.prepare("SELECT * FROM users WHERE id = 7").first();
      assert.equal(grace.username, "o'hara");
      assert.equal(grace.last_name, "O'Hara");
      assert.equal(grace.is_superuser, 1);
      assert.ok(grace.last_login > 1_700_000_000);
      const jti = claims(manifest.tokens.blacklisted_refresh).jti;
      assert.equal(await kv.get(`revoked:${jti}`), "1");
    });
  });

  test("pbkdf2_sha256 and pbkdf2_sha1 users log in with their Django passwords; must-reset users cannot", async () => {
    await onState(async (issuer) => {
      // Two of Django's 1,500,000-iteration hashes (~1 s of wasm each): SHA-256 and SHA-1.
      for (const name of ["alice", "carol"]) {
        const r = await login(issuer, name);
        assert.equal(r.status, 200, `${name}: ${JSON.stringify(r.json)}`);
        assert.equal(claims(r.json.access).user_id, String(manifest.users[name].id));
      }
      // Rehashed at the next login: SHA-1 and Django's 1,500,000 iterations become the issuer's.
      const { password: carol } = await issuer.db.prepare("SELECT password FROM users WHERE username = 'carol'").first();
      assert.match(carol, new RegExp(`^pbkdf2_sha256\\$${TEST_ITERATIONS}\\$`));
      assert.equal((await login(issuer, "carol")).status, 200);
      for (const name of ["dave", "erin", "frank"]) {
        const r = await login(issuer, name, password(name) ?? "anything");
        assert.equal(r.status, 401, name);
        assert.equal(r.json.detail, "No active account found with the given credentials");
      }
      assert.equal((await login(issuer, "bob")).status, 401, "inactive in Django, inactive here");
    });
  });

  test("a token blacklisted in Django stays refused; a live Django refresh token keeps refreshing", async () => {
    await onState(async (issuer) => {
      const refused = await issuer.call("POST", "/api/token/refresh/", { json: { refresh: manifest.tokens.blacklisted_refresh } });
      assert.equal(refused.status, 401);
      assert.equal(refused.json.detail, "Token is blacklisted");
      const refreshed = await issuer.call("POST", "/api/token/refresh/", { json: { refresh: manifest.tokens.outstanding_refresh } });
      assert.equal(refreshed.status, 200, JSON.stringify(refreshed.json));
      assert.equal(claims(refreshed.json.access).user_id, "1");
      const me = await issuer.call("GET", "/api/protected/", { token: refreshed.json.access });
      assert.deepEqual(me.json, { user_id: 1, username: "alice" });
    });
  });

  test("a broken export: every bad row reported with its place", async () => {
    // --sql: the report is the same, and the state of the other tests stays as it is.
    for (const [file, expected, where] of [
      ["broken.json", manifest.broken.json, ({ index }) => `(element ${index}):`],
      ["broken.csv", manifest.broken.csv, ({ line }) => `broken.csv:${line}:`],
    ]) {
      const r = await edgejwt(["import-django", `${FIXTURES}${file}`, "--sql", ...target]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`bad rows, not imported: ${expected.length}\n`));
      const lines = r.stderr.split("\n");
      for (const want of expected) {
        const line = lines.find((l) => l.includes(`${file}:`) && l.includes(where(want)));
        assert.ok(line?.includes(want.contains), `${where(want)} ${want.contains}\n${r.stderr}`);
      }
      assert.match(r.stdout, /^INSERT INTO users /, "the good row is still written");
    }
  });
});

describe("users", () => {
  test("create, passwd (a must-reset user), deactivate, activate, revoke-sessions", async () => {
    const run = (args, input) => ok(["users", ...args, ...target], { input });
    const created = await run(["create", "zed", "--email", "zed@example.com", "--claims", '{"roles":["ops"]}', "--password-stdin"], "zed-password-1\n");
    assert.match(created.stdout, /user "zed" created \(id \d+\)/);
    await run(["passwd", "dave", "--password-stdin"], "dave-new-password-1\n");
    const again = await edgejwt(["users", "create", "zed", "--password-stdin", ...target], { input: "x\n" });
    assert.equal(again.code, 1);
    assert.match(again.stderr, /UNIQUE constraint failed: users\.username/);
    const missing = await edgejwt(["users", "deactivate", "nobody", ...target]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no user named "nobody" in the local D1/);

    let zedTokens, aliceTokens;
    await onState(async (issuer) => {
      assert.equal((await login(issuer, "dave", "dave-new-password-1")).status, 200, "reset by users passwd");
      const zed = await login(issuer, "zed", "zed-password-1");
      assert.equal(zed.status, 200);
      zedTokens = zed.json;
      aliceTokens = (await login(issuer, "alice")).json;
    });

    const revoked = await run(["revoke-sessions", "alice"]);
    // alice's sessions so far (three logins here and above) and the refresh token imported
    // from Django (no session) are ended.
    assert.match(revoked.stdout, /user "alice" sessions revoked \(local D1\): [1-9]\d* sessions ended, [1-9]\d* refresh tokens blacklisted/);
    const deactivated = await run(["deactivate", "zed"]);
    assert.match(deactivated.stdout, /user "zed" deactivated \(local D1\): 1 sessions ended/);

    await onState(async (issuer) => {
      const sid = claims(aliceTokens.access).sid;
      assert.equal(await issuer.kv.get(`revoked:${sid}`), "1", "edge verifiers refuse the session's access tokens");
      assert.equal(await issuer.kv.get(`revoked:${claims(zedTokens.access).sid}`), "1");
      const marks = await issuer.db.prepare("SELECT (SELECT COUNT(*) FROM sessions WHERE kv_pending = 1) + (SELECT COUNT(*) FROM blacklisted_tokens WHERE kv_pending = 1) AS n").first();
      assert.equal(marks.n, 0, "the CLI cleared the marks of what it wrote to KV");
      const r = await issuer.call("POST", "/api/token/refresh/", { json: { refresh: aliceTokens.refresh } });
      assert.equal(r.json.detail, "Token is blacklisted");
      assert.equal((await login(issuer, "zed", "zed-password-1")).status, 401, "deactivated");
      assert.equal((await login(issuer, "alice")).status, 200, "revoking sessions is not deactivating");
      const event = await issuer.db.prepare("SELECT event, user_agent FROM auth_events WHERE sid = ?1 AND event = 'revoked'").bind(claims(zedTokens.access).sid).first();
      assert.deepEqual(event, { event: "revoked", user_agent: "edgejwt-cli" });
    });
    await run(["activate", "zed"]);
    await onState(async (issuer) => {
      const zed = await login(issuer, "zed", "zed-password-1");
      assert.equal(zed.status, 200);
      assert.deepEqual(claims(zed.json.access).user_id, (await issuer.db.prepare("SELECT id FROM users WHERE username = 'zed'").first()).id.toString());
    });
  });

  // The remote D1 and KV need a Cloudflare account: a wrangler in front of the real one
  // records each call and runs it on this test's local state instead (`--remote` rewritten
  // to `--local --persist-to`), so the CLI's whole remote path runs and only the flag differs.
  test("--remote: every wrangler call the CLI makes is --remote, never --local or --persist-to", async () => {
    const calls = join(state, "wrangler-calls.jsonl");
    const wrapper = join(state, "wrangler-remote.mjs");
    writeFileSync(
      wrapper,
      `#!/usr/bin/env node
import { appendFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
const args = process.argv.slice(2);
appendFileSync(${JSON.stringify(calls)}, JSON.stringify(args) + "\\n");
const local = args.flatMap((a) => (a === "--remote" ? ["--local", "--persist-to", ${JSON.stringify(state)}] : [a]));
process.exitCode = spawnSync(${JSON.stringify(join(ROOT, "node_modules/.bin/wrangler"))}, local, { stdio: "inherit" }).status ?? 1;
`,
    );
    chmodSync(wrapper, 0o755);
    const remote = (args, input) => ok(["users", ...args, "--remote", "--config", "wrangler.toml"], { input, env: { EDGEJWT_WRANGLER: wrapper } });
    const created = await remote(["create", "remy", "--password-stdin"], "remy-password-1\n");
    assert.match(created.stdout, /user "remy" created/);
    let tokens;
    await onState(async (issuer) => {
      tokens = (await login(issuer, "remy", "remy-password-1")).json;
    });
    const revoked = await remote(["revoke-sessions", "remy"]);
    assert.match(revoked.stdout, /user "remy" sessions revoked \(remote D1\): 1 sessions ended, 1 refresh tokens blacklisted, 2 ids revoked in KV/);
    const made = readFileSync(calls, "utf8").trim().split("\n").map((line) => JSON.parse(line));
    // create; revoke-sessions: its statements, the KV writes, the pending marks cleared.
    assert.deepEqual(made.map((args) => args.slice(0, 2).join(" ")), ["d1 execute", "d1 execute", "kv bulk", "d1 execute"]);
    for (const args of made) {
      assert.ok(args.includes("--remote"), args.join(" "));
      assert.ok(!args.includes("--local") && !args.includes("--persist-to"), args.join(" "));
    }
    await onState(async (issuer) => {
      assert.equal(await issuer.kv.get(`revoked:${claims(tokens.access).sid}`), "1", "the remote path's KV write landed");
      const r = await issuer.call("POST", "/api/token/refresh/", { json: { refresh: tokens.refresh } });
      assert.equal(r.json.detail, "Token is blacklisted");
    });
    // Local state and the remote database cannot both be meant.
    const both = await edgejwt(["users", "revoke-sessions", "remy", "--remote", "--persist-to", state]);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /'--remote' cannot be used with '--persist-to/);
  });

  test("revoke-sessions ends only the sessions still active, not those the issuer ended in the same second", async () => {
    // carol's sessions ended by the issuer (DELETE /api/sessions/<sid>/: "revoked", the
    // CLI's reason too) in every second of the next 90, each with a live token never
    // blacklisted: whichever second the CLI ends her sessions in, selecting the ended ones
    // by (revoked_at, revoked_reason) would blacklist those tokens and audit them again.
    let live, active;
    await onState(async (issuer) => {
      live = claims((await login(issuer, "carol")).json.refresh).sid;
      const now = Math.floor(Date.now() / 1000);
      const id = (await issuer.db.prepare("SELECT id FROM users WHERE username = 'carol'").first()).id;
      active = (await issuer.db.prepare("SELECT sid FROM sessions WHERE user_id = ?1 AND revoked_at IS NULL ORDER BY sid").bind(id).all()).results;
      assert.ok(active.some((row) => row.sid === live));
      const seconds = "WITH RECURSIVE c(k) AS (SELECT -2 UNION ALL SELECT k + 1 FROM c WHERE k < 90) SELECT k FROM c";
      await issuer.db.batch([
        issuer.db.prepare(`INSERT INTO sessions (sid, user_id, created_at, last_used_at, revoked_at, revoked_reason)
          SELECT 'ended-' || k, ?1, ?2, ?2, ?2 + k, 'revoked' FROM (${seconds})`).bind(id, now),
        issuer.db.prepare(`INSERT INTO outstanding_tokens (jti, user_id, created_at, expires_at, sid)
          SELECT 'ended-jti-' || k, ?1, ?2, ?2 + 86400, 'ended-' || k FROM (${seconds})`).bind(id, now),
      ]);
    });
    const revoked = await ok(["users", "revoke-sessions", "carol", ...target]);
    assert.match(revoked.stdout, new RegExp(`user "carol" sessions revoked \\(local D1\\): ${active.length} sessions ended`));
    await onState(async ({ db, kv }) => {
      const rows = async (sql) => (await db.prepare(sql).all()).results;
      assert.deepEqual(await rows("SELECT jti FROM blacklisted_tokens WHERE jti LIKE 'ended-%'"), []);
      assert.deepEqual(await rows("SELECT sid FROM auth_events WHERE sid LIKE 'ended-%'"), []);
      // Each session that was active: ended, and audited once.
      assert.deepEqual(await rows("SELECT sid FROM auth_events WHERE user_agent = 'edgejwt-cli' AND sid IN (SELECT sid FROM sessions WHERE user_id = (SELECT id FROM users WHERE username = 'carol')) ORDER BY sid"), active);
      assert.deepEqual(await rows(`SELECT sid FROM sessions WHERE sid IN (${active.map((r) => `'${r.sid}'`).join()}) AND revoked_reason = 'revoked' ORDER BY sid`), active);
      assert.equal(await kv.get(`revoked:${live}`), "1");
      assert.equal(await kv.get("revoked:ended-jti-0"), null);
    });
  });

  test("revoke-sessions reads the user's rows, not every user's imported tokens", async () => {
    // 3,000 sid-less tokens (as imported from Django) of another user, alive.
    await onState(async ({ db }) => {
      const dave = (await db.prepare("SELECT id FROM users WHERE username = 'dave'").first()).id;
      const now = Math.floor(Date.now() / 1000);
      await db.prepare(`INSERT INTO outstanding_tokens (jti, user_id, created_at, expires_at)
        WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 3000)
        SELECT 'imported-' || n, ?1, ?2, ?2 + 86400 FROM c`).bind(dave, now).run();
    });
    // The statements the CLI runs, run here through the D1 binding for D1's own rows_read.
    const printed = (await ok(["users", "revoke-sessions", "erin", "--sql", ...target])).stdout;
    const statements = sqlStatements(printed);
    assert.ok(statements.length >= 4, printed);
    await onState(async ({ db }) => {
      const results = await db.batch(statements.map((sql) => db.prepare(sql)));
      const read = results.map((r, i) => [r.meta.rows_read, statements[i].slice(0, 90)]);
      assert.deepEqual(read.filter(([rows]) => rows > 100), [], JSON.stringify(read));
      const dave = await db.prepare("SELECT COUNT(*) AS n FROM blacklisted_tokens WHERE jti LIKE 'imported-%'").first();
      assert.equal(dave.n, 0, "none of dave's");
    });
  });

  test("--sql's statements, run by hand, leave the KV writes to the issuer's every-minute Cron (kv_pending)", async () => {
    let sid;
    await onState(async (issuer) => (sid = claims((await login(issuer, "alice")).json.refresh).sid));
    const statements = sqlStatements((await ok(["users", "revoke-sessions", "alice", "--sql", ...target])).stdout);
    await onState(async (issuer) => {
      await issuer.db.batch(statements.map((sql) => issuer.db.prepare(sql)));
      assert.equal(await issuer.kv.get(`revoked:${sid}`), null, "no KV write yet");
      await (await issuer.mf.getWorker()).scheduled({ cron: "* * * * *" });
      assert.equal(await issuer.kv.get(`revoked:${sid}`), "1");
      const left = await issuer.db.prepare("SELECT COUNT(*) AS n FROM sessions WHERE kv_pending = 1").first();
      assert.equal(left.n, 0);
    });
  });

  test("every statement the CLI runs uses an index (EXPLAIN QUERY PLAN, as the issuer's)", async () => {
    const printed = [
      await ok(["users", "create", "yan", "--password-stdin", "--sql", ...target], { input: "yan-password-1\n" }),
      await ok(["users", "passwd", "dave", "--password-stdin", "--sql", ...target], { input: "dave-password-2\n" }),
      await ok(["users", "deactivate", "alice", "--sql", ...target]),
      await ok(["users", "activate", "alice", "--sql", ...target]),
      await ok(["users", "revoke-sessions", "alice", "--sql", ...target]),
      await ok(["import-django", `${FIXTURES}users.json`, `${FIXTURES}tokens.json`, "--sql", ...target]),
    ].map((r) => r.stdout);
    const statements = new Set(printed.flatMap(sqlStatements));
    assert.ok(statements.size >= 10, `${statements.size} statements`);
    const problems = [];
    await onState(async ({ db }) => {
      for (const sql of statements) {
        for (const { detail } of (await db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all()).results) {
          const problem = planProblem(detail, sql);
          if (problem) problems.push(`${problem}: ${detail}\n    in ${sql.slice(0, 200)}`);
        }
      }
    });
    assert.deepEqual(problems, []);
  });

  test("--sql prints the statements and touches nothing", async () => {
    const r = await ok(["users", "deactivate", "alice", "--sql", ...target]);
    assert.match(r.stdout, /^UPDATE users SET is_active = 0 WHERE username = 'alice'/);
    assert.match(r.stderr, /revoked:<id> to KV/);
    const imported = await ok(["import-django", `${FIXTURES}users.csv`, "--sql", ...target]);
    assert.match(imported.stdout, /INSERT INTO users .* ON CONFLICT \(id\) DO UPDATE/);
    await onState(async ({ db }) => {
      assert.equal((await db.prepare("SELECT is_active FROM users WHERE username = 'alice'").first()).is_active, 1);
    });
  });
});
