// Fault injection against the issuer in workerd: D1 failing on the first, middle or last
// write of a rotation (a real SQLite error raised by a trigger inside the real local D1, so
// the batch's transaction really rolls back), the same for login and logout, and the login
// throttle's Durable Object unreachable. For each: a JSON error with a stable code, nothing
// half-written, and the next request (fault gone) succeeds as if the failed one never ran.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { claims, startIssuer, withIssuer } from "./harness.mjs";

/** Triggers that raise inside D1 while a fault is switched on (`faults` table). */
async function installFaults(db) {
  const statements = ["CREATE TABLE IF NOT EXISTS faults (name TEXT PRIMARY KEY)"];
  for (const [name, table] of [["outstanding", "outstanding_tokens"], ["blacklist", "blacklisted_tokens"], ["event", "auth_events"], ["session", "sessions"]]) {
    statements.push(
      `CREATE TRIGGER IF NOT EXISTS fault_${name} BEFORE INSERT ON ${table} ` +
        `WHEN EXISTS (SELECT 1 FROM faults WHERE name = '${name}') BEGIN SELECT RAISE(ABORT, 'injected fault: ${name}'); END`,
    );
  }
  statements.push(
    "CREATE TRIGGER IF NOT EXISTS fault_session_update BEFORE UPDATE ON sessions " +
      "WHEN EXISTS (SELECT 1 FROM faults WHERE name = 'session_update') BEGIN SELECT RAISE(ABORT, 'injected fault: session_update'); END",
  );
  await db.batch(statements.map((s) => db.prepare(s)));
}

const fault = (db, name, on) =>
  on ? db.prepare("INSERT OR IGNORE INTO faults (name) VALUES (?1)").bind(name).run() : db.prepare("DELETE FROM faults WHERE name = ?1").bind(name).run();

/** Row counts (and revoked sessions): what a failed request must leave unchanged. */
async function snapshot(db) {
  const one = async (sql) => (await db.prepare(sql).first()).n;
  return {
    outstanding: await one("SELECT COUNT(*) AS n FROM outstanding_tokens"),
    blacklisted: await one("SELECT COUNT(*) AS n FROM blacklisted_tokens"),
    sessions: await one("SELECT COUNT(*) AS n FROM sessions"),
    revoked: await one("SELECT COUNT(*) AS n FROM sessions WHERE revoked_at IS NOT NULL"),
    events: await one("SELECT COUNT(*) AS n FROM auth_events"),
    lastUsed: await one("SELECT COALESCE(SUM(last_used_at), 0) AS n FROM sessions"),
  };
}

function assertServerError(res) {
  assert.equal(res.status, 500);
  assert.match(res.headers.get("content-type"), /application\/json/);
  assert.deepEqual(res.json, { detail: "A server error occurred.", code: "server_error" });
}

describe("D1 fails inside a rotation", () => {
  let issuer;
  before(async () => {
    issuer = await startIssuer({ vars: { REFRESH_TOKEN_REUSE_INTERVAL: "0" } });
    await installFaults(issuer.db);
  });
  after(() => issuer.stop());

  // The rotation batch's writes, in order: the old token recorded as outstanding (first), its
  // blacklisting (second), the new token (third), the session's last use (fourth), the
  // refresh event (last).
  for (const [where, name] of [["first", "outstanding"], ["second", "blacklist"], ["fourth", "session_update"], ["last", "event"]]) {
    test(`on its ${where} write (${name}): 500 JSON, nothing written, the same token refreshes afterwards`, async () => {
      const pair = await issuer.login();
      const refresh = () => issuer.call("POST", "/api/token/refresh/", { json: { refresh: pair.refresh } });
      const before = await snapshot(issuer.db);
      await fault(issuer.db, name, true);
      try {
        assertServerError(await refresh());
        assertServerError(await refresh());
      } finally {
        await fault(issuer.db, name, false);
      }
      assert.deepEqual(await snapshot(issuer.db), before, "the transaction rolled back");
      const ok = await refresh();
      assert.equal(ok.status, 200, JSON.stringify(ok.json));
      assert.equal(claims(ok.json.refresh).sid, claims(pair.refresh).sid, "the session lives on");
      const revoked = await issuer.db.prepare("SELECT revoked_at FROM sessions WHERE sid = ?1").bind(claims(pair.refresh).sid).first();
      assert.equal(revoked.revoked_at, null, "no session revoked by the failure");
      assert.equal((await issuer.call("POST", "/api/token/refresh/", { json: { refresh: ok.json.refresh } })).status, 200);
    });
  }

  test("login failing on any of its writes leaves no session, token or event behind", async () => {
    for (const name of ["session", "outstanding", "event"]) {
      const before = await snapshot(issuer.db);
      await fault(issuer.db, name, true);
      try {
        assertServerError(await issuer.call("POST", "/api/token/", { json: { username: "alice", password: "alice-password-1" } }));
      } finally {
        await fault(issuer.db, name, false);
      }
      assert.deepEqual(await snapshot(issuer.db), before, name);
    }
    assert.ok((await issuer.login()).refresh);
  });

  test("logout failing on its blacklist write: 500, nothing revoked, the retry logs out", async () => {
    const pair = await issuer.login();
    const logout = () => issuer.call("POST", "/api/token/blacklist/", { json: { refresh: pair.refresh } });
    const before = await snapshot(issuer.db);
    await fault(issuer.db, "blacklist", true);
    try {
      assertServerError(await logout());
    } finally {
      await fault(issuer.db, "blacklist", false);
    }
    assert.deepEqual(await snapshot(issuer.db), before);
    assert.equal((await logout()).status, 200);
    const after = await issuer.call("POST", "/api/token/refresh/", { json: { refresh: pair.refresh } });
    assert.equal(after.json.detail, "Token is blacklisted");
  });
});

describe("D1 fails inside a password change", () => {
  // Found 2026-12-07: the new hash and the end of the other sessions were two round trips. When
  // the second failed, the password had changed and the sessions lived on, and the user could
  // not retry: the old password was gone.
  test("ending the other sessions fails: the password is unchanged, and the retry with the old one ends them", async () => {
    await withIssuer({}, async (issuer) => {
      await installFaults(issuer.db);
      const current = await issuer.login();
      const other = await issuer.login();
      const json = { old_password: "alice-password-1", new_password1: "a-brand-new-Secret-9", new_password2: "a-brand-new-Secret-9" };
      const change = () => issuer.call("POST", "/api/password/change/", { token: current.access, json });
      const hash = async () => (await issuer.db.prepare("SELECT password FROM users WHERE username = 'alice'").first()).password;
      const before = [await snapshot(issuer.db), await hash()];
      await fault(issuer.db, "session_update", true);
      try {
        assertServerError(await change());
      } finally {
        await fault(issuer.db, "session_update", false);
      }
      assert.deepEqual([await snapshot(issuer.db), await hash()], before, "one transaction, rolled back");
      const retry = await change();
      assert.deepEqual([retry.status, retry.json], [200, { detail: "New password has been saved." }]);
      const dead = await issuer.call("POST", "/api/token/refresh/", { json: { refresh: other.refresh } });
      assert.deepEqual([dead.status, dead.json.detail], [401, "Token is blacklisted"]);
      assert.equal((await issuer.call("POST", "/api/token/refresh/", { json: { refresh: current.refresh } })).status, 200);
    });
  });
});

describe("the login throttle's Durable Object is unreachable", () => {
  test("logins answer 503 throttle_unavailable (fail closed) and write nothing", async () => {
    await withIssuer({ brokenThrottle: true, vars: { LOGIN_THROTTLE_RATE: "5/min", LOGIN_IP_THROTTLE_RATE: "30/min" } }, async (issuer) => {
      const before = await snapshot(issuer.db);
      for (const password of ["alice-password-1", "wrong"]) {
        const res = await issuer.call("POST", "/api/token/", { json: { username: "alice", password } });
        assert.equal(res.status, 503, JSON.stringify(res.json));
        assert.match(res.headers.get("content-type"), /application\/json/);
        assert.equal(res.json.code, "throttle_unavailable");
      }
      assert.deepEqual(await snapshot(issuer.db), before);
      // A malformed body is still the 400 it always was (the throttle is asked after parsing).
      assert.equal((await issuer.call("POST", "/api/token/", { json: {} })).status, 400);
    });
  });
});
