// Costs that must not grow with the tables: every SQL statement the issuer runs (recorded by a
// meter around its D1 binding while it serves every endpoint) is explained by SQLite against
// the migrated local D1 and may not SCAN a table nor walk an index by a range alone; and the
// rows D1 reports read and written per request stay the same when the tables hold thousands
// of other users, sessions, tokens, blacklist rows and events, and after many rotations of one
// session. The timings are bench/growth.mjs's; docs/SCALING.md has the figures.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { D1Meter } from "./d1-meter.mjs";
import { planProblem } from "./plans.mjs";
import { claims, djangoHash, startIssuer } from "./harness.mjs";

const post = (issuer, path, json, headers) => issuer.call("POST", path, { json, headers });

/** The answer of `fn()` (asserted below `below`) and the D1 work it did (meter.take()). */
async function metered(meter, name, fn, below = 500) {
  meter.take();
  const r = await fn();
  assert.ok(r.status < below, `${name}: ${r.status} ${JSON.stringify(r.json)}`);
  return { r, work: meter.take() };
}

/** One request of each kind the issuer serves, with the D1 work of each (meter.take()). */
async function everyEndpoint(issuer, meter) {
  const work = {};
  const step = async (name, fn) => {
    const { r, work: w } = await metered(meter, name, fn);
    work[name] = w;
    return r;
  };
  const login = (await step("login", () => post(issuer, "/api/token/", { username: "alice", password: "alice-password-1" }))).json;
  await step("failed login", () => post(issuer, "/api/token/", { username: "alice", password: "wrong" }));
  await step("unknown user", () => post(issuer, "/api/token/", { username: "nobody", password: "wrong" }));
  await step("refresh", () => post(issuer, "/api/token/refresh/", { refresh: login.refresh }));
  await step("replayed refresh", () => post(issuer, "/api/token/refresh/", { refresh: login.refresh }));
  const second = await issuer.login();
  await step("verify access", () => post(issuer, "/api/token/verify/", { token: second.access }));
  await step("verify refresh", () => post(issuer, "/api/token/verify/", { token: second.refresh }));
  await step("protected", () => issuer.call("GET", "/api/protected/", { token: second.access }));
  await step("sessions", () => issuer.call("GET", "/api/sessions/", { token: second.access }));
  const third = await issuer.login();
  await step("revoke session", () => issuer.call("DELETE", `/api/sessions/${claims(third.refresh).sid}/`, { token: second.access }));
  await step("logout", () => post(issuer, "/api/token/blacklist/", { refresh: second.refresh }));
  const sliding = (await step("sliding login", () => post(issuer, "/api/token/sliding/", { username: "alice", password: "alice-password-1" }))).json;
  await step("sliding refresh", () => post(issuer, "/api/token/sliding/refresh/", { token: sliding.token }));
  const fourth = await issuer.login();
  await step("password change", () => post(issuer, "/api/password/change/",
    { old_password: "alice-password-1", new_password1: "a-brand-new-Secret-9", new_password2: "a-brand-new-Secret-9" },
    { Authorization: `Bearer ${fourth.access}` }));
  const fifth = await issuer.login("alice", "a-brand-new-Secret-9");
  await step("revoke all", () => post(issuer, "/api/sessions/revoke-all/", {}, { Authorization: `Bearer ${fifth.access}` }));
  meter.take();
  await (await issuer.mf.getWorker()).scheduled({ cron: "17 3 * * *" });
  work.flush = meter.take();
  // The every-minute run that writes pending KV revocations (none pending here).
  await (await issuer.mf.getWorker()).scheduled({ cron: "* * * * *" });
  work["minute cron"] = meter.take();
  return work;
}

/** `n` rows of other users in every table (user ids from 3: alice and bob are 1 and 2). */
async function fill(db, n) {
  const now = Math.floor(Date.now() / 1000);
  const series = `WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < ${n}) SELECT n FROM c`;
  await db.batch([
    db.prepare(`INSERT INTO users (username, password) SELECT 'filler-' || n, 'pbkdf2_sha256$1$salt$x' FROM (${series})`),
    db.prepare(`INSERT INTO sessions (sid, user_id, created_at, last_used_at, revoked_at, revoked_reason)
      SELECT 'filler-sid-' || n, n + 2, ?1, ?1, CASE WHEN n % 2 = 0 THEN ?1 END, CASE WHEN n % 2 = 0 THEN 'logout' END FROM (${series})`).bind(now),
    db.prepare(`INSERT INTO outstanding_tokens (jti, user_id, created_at, expires_at, sid)
      SELECT 'filler-jti-' || n, n + 2, ?1, ?1 + 86400, 'filler-sid-' || n FROM (${series})`).bind(now),
    db.prepare(`INSERT INTO blacklisted_tokens (jti, blacklisted_at, expires_at)
      SELECT 'filler-jti-' || n, ?1, ?1 + 86400 FROM (${series}) WHERE n % 2 = 0`).bind(now),
    db.prepare(`INSERT INTO auth_events (at, user_id, sid, event) SELECT ?1, n + 2, 'filler-sid-' || n, 'login' FROM (${series})`).bind(now),
  ]);
}

/**
 * Per request: its round trips and statements with the rows each wrote, and each statement's
 * rows read within a margin of `slack` over `base`'s: an index lookup may read one neighbouring
 * entry that an empty table lacks, and AUTOINCREMENT reads its sqlite_sequence row once it
 * exists. A statement that grew with the tables would read hundreds or thousands more.
 */
function sameWork(work, base, slack = 2) {
  const out = {};
  for (const [step, w] of Object.entries(work)) {
    out[step] = {
      roundTrips: w.roundTrips,
      statements: w.statements.map((s, i) => {
        const before = base[step].statements[i]?.rows_read ?? 0;
        const read = s.rows_read >= before && s.rows_read <= before + slack ? "as before" : s.rows_read;
        return `read ${read}, wrote ${s.rows_written}: ${s.sql.slice(0, 100)}`;
      }),
    };
  }
  return out;
}

describe("the issuer's SQL uses indexes and its D1 work does not grow with the tables", () => {
  const meter = new D1Meter();
  let issuer, empty;
  before(async () => {
    issuer = await startIssuer({ meterD1: meter });
    empty = await everyEndpoint(issuer, meter);
  });
  after(() => issuer?.stop());

  test("no statement scans a table or walks an index by a range (EXPLAIN QUERY PLAN)", async () => {
    const statements = new Map();
    for (const work of Object.values(empty)) for (const s of work.statements) statements.set(s.sql, s.params);
    assert.ok(statements.size >= 20, `${statements.size} distinct statements seen`);
    const problems = [];
    for (const [sql, params] of statements) {
      const plan = await issuer.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).bind(...params).all();
      for (const { detail } of plan.results) {
        const problem = planProblem(detail, sql);
        if (problem) problems.push(`${problem}: ${detail}\n    in ${sql}`);
      }
    }
    assert.deepEqual(problems, []);
  });

  test("every foreign key's child column leads an index (a parent's delete looks its children up)", async () => {
    const tables = (await issuer.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name <> 'd1_migrations'").all()).results;
    const missing = [];
    for (const { name } of tables) {
      const fks = (await issuer.db.prepare(`SELECT "from" FROM pragma_foreign_key_list('${name}')`).all()).results;
      const indexes = (await issuer.db.prepare(`SELECT name FROM pragma_index_list('${name}')`).all()).results;
      const leading = new Set();
      for (const index of indexes) {
        const first = await issuer.db.prepare(`SELECT name FROM pragma_index_info('${index.name}') WHERE seqno = 0`).first();
        if (first) leading.add(first.name);
      }
      for (const fk of fks) if (!leading.has(fk.from)) missing.push(`${name}.${fk.from}`);
    }
    assert.deepEqual(missing, []);
  });

  test("rows read and written per request are the same with 3,000 rows of others in every table", async () => {
    await fill(issuer.db, 3000);
    // Another user's session, rotated 40 times, is part of the crowd.
    await issuer.db.prepare("INSERT INTO users (username, password) VALUES ('carol', ?1)").bind(djangoHash("carol-password-1")).run();
    let token = (await issuer.login("carol", "carol-password-1")).refresh;
    for (let i = 0; i < 40; i++) token = (await post(issuer, "/api/token/refresh/", { refresh: token })).json.refresh;
    // alice's sessions of the first round are ended (revoke all) and stay in the table; her
    // password is the one the first round changed it to: back to the first, same hash cost.
    await issuer.db.prepare("UPDATE users SET password = ?1 WHERE id = 1").bind(djangoHash("alice-password-1")).run();
    const crowded = await everyEndpoint(issuer, meter);
    const { flush: _e, ...perRequestEmpty } = empty;
    const { flush: _c, ...perRequestCrowded } = crowded;
    assert.deepEqual(sameWork(perRequestCrowded, perRequestEmpty), sameWork(perRequestEmpty, perRequestEmpty));
    // The daily flush reads the live sessions (its job); it must not read every event per session.
    assert.ok(crowded.flush.rowsRead < 10 * 3000, `flush read ${crowded.flush.rowsRead} rows (before: ${empty.flush.rowsRead})`);
  });

  test("ending sessions reads and blacklists only the sessions it ends, not others ended in the same second", async () => {
    // erin's sessions were ended in every second of the next minute, for every reason, and
    // each still has a live token that was never blacklisted. Whatever second frank's
    // requests land in, selecting the ended sessions by (revoked_at, revoked_reason) would
    // read some of erin's and blacklist their tokens.
    const now = Math.floor(Date.now() / 1000);
    const reasons = ["logout", "revoked", "logout_all", "reuse_detected", "password_change"];
    const erin = (await issuer.db.prepare("INSERT INTO users (username, password) VALUES ('erin', 'pbkdf2_sha256$1$salt$x') RETURNING id").first()).id;
    const seconds = `WITH RECURSIVE c(k) AS (SELECT -2 UNION ALL SELECT k + 1 FROM c WHERE k < 60) SELECT k FROM c`;
    const statements = [];
    for (const reason of reasons) {
      statements.push(
        issuer.db.prepare(`INSERT INTO sessions (sid, user_id, created_at, last_used_at, revoked_at, revoked_reason)
          SELECT 'erin-' || ?3 || '-' || k, ?1, ?2, ?2, ?2 + k, ?3 FROM (${seconds})`).bind(erin, now, reason),
        issuer.db.prepare(`INSERT INTO outstanding_tokens (jti, user_id, created_at, expires_at, sid)
          SELECT 'erin-jti-' || ?3 || '-' || k, ?1, ?2, ?2 + 86400, 'erin-' || ?3 || '-' || k FROM (${seconds})`).bind(erin, now, reason),
      );
    }
    await issuer.db.batch(statements);
    await issuer.db.prepare("INSERT INTO users (username, password) VALUES ('frank', ?1)").bind(djangoHash("frank-password-1")).run();
    const ends = {};
    const step = async (name, fn) => {
      const { work } = await metered(meter, name, fn, 300);
      ends[name] = Math.max(...work.statements.map((st) => st.rows_read));
    };
    let a = await issuer.login("frank", "frank-password-1");
    let b = await issuer.login("frank", "frank-password-1");
    await step("logout", () => post(issuer, "/api/token/blacklist/", { refresh: b.refresh }));
    b = await issuer.login("frank", "frank-password-1");
    await step("revoke session", () => issuer.call("DELETE", `/api/sessions/${claims(b.refresh).sid}/`, { token: a.access }));
    b = await issuer.login("frank", "frank-password-1");
    await step("password change", () => post(issuer, "/api/password/change/",
      { old_password: "frank-password-1", new_password1: "a-brand-new-Secret-9", new_password2: "a-brand-new-Secret-9" },
      { Authorization: `Bearer ${a.access}` }));
    a = await issuer.login("frank", "a-brand-new-Secret-9");
    await step("revoke all", () => post(issuer, "/api/sessions/revoke-all/", {}, { Authorization: `Bearer ${a.access}` }));
    const blacklisted = await issuer.db.prepare("SELECT jti FROM blacklisted_tokens WHERE jti LIKE 'erin-%'").all();
    assert.deepEqual(blacklisted.results, [], "none of erin's tokens");
    // Each statement reads a few rows of frank's; the 315 of erin's would show.
    for (const [name, rows] of Object.entries(ends)) assert.ok(rows < 20, `${name}: a statement read ${rows} rows`);
  });

  test("a refresh reads and writes the same after 1 and after 60 rotations of its session", async () => {
    await issuer.db.prepare("INSERT INTO users (username, password) VALUES ('dave', ?1)").bind(djangoHash("dave-password-1")).run();
    let token = (await issuer.login("dave", "dave-password-1")).refresh;
    const work = [];
    for (let i = 0; i < 60; i++) {
      meter.take();
      const r = await post(issuer, "/api/token/refresh/", { refresh: token });
      assert.equal(r.status, 200);
      token = r.json.refresh;
      work.push(meter.take());
    }
    assert.deepEqual(sameWork({ refresh: work[59] }, { refresh: work[1] }), sameWork({ refresh: work[1] }, { refresh: work[1] }));
  });
});
