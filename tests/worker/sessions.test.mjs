// Sessions: reuse detection with a grace window, the absolute session lifetime, fresh claims,
// the session API and audit events — the issuer in workerd with real local D1 and KV.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { signHS256 } from "./contract-runner.mjs";
import { REFERENCE_KEY, claims, startIssuer, withIssuer } from "./harness.mjs";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const refresh = (issuer, token, headers) => issuer.call("POST", "/api/token/refresh/", { json: { refresh: token }, headers });
const BLACKLISTED = { detail: "Token is blacklisted", code: "token_not_valid" };

async function events(issuer, sid) {
  const rows = await issuer.db.prepare("SELECT event FROM auth_events WHERE sid = ?1 ORDER BY id").bind(sid).all();
  return rows.results.map((r) => r.event);
}

describe("reuse detection with a grace window", () => {
  let issuer;
  // A window wide enough for 20 concurrent requests on a loaded machine.
  before(async () => (issuer = await startIssuer({ vars: { REFRESH_TOKEN_REUSE_INTERVAL: "4" } })));
  after(() => issuer.stop());

  test("a parent replayed inside the interval gets the same child, byte for byte, and a new access token", async () => {
    const pair = await issuer.login();
    const first = await refresh(issuer, pair.refresh);
    assert.equal(first.status, 200);
    const again = await refresh(issuer, pair.refresh);
    assert.equal(again.status, 200, JSON.stringify(again.json));
    assert.equal(again.json.refresh, first.json.refresh, "the same child (HS256 is deterministic)");
    assert.notEqual(claims(again.json.access).jti, claims(first.json.access).jti, "a new access token");
    // Exactly one rotation happened, and the child still works.
    const children = await issuer.db.prepare("SELECT COUNT(*) AS n FROM outstanding_tokens WHERE parent_jti = ?1").bind(claims(pair.refresh).jti).first();
    assert.equal(children.n, 1);
    assert.equal((await refresh(issuer, first.json.refresh)).status, 200);
  });

  test("20 concurrent refreshes of one token inside the interval all get the same child", async () => {
    const pair = await issuer.login();
    const answers = await Promise.all(Array.from({ length: 20 }, () => refresh(issuer, pair.refresh)));
    assert.deepEqual(answers.map((a) => a.status), Array(20).fill(200), JSON.stringify(answers.find((a) => a.status !== 200)?.json));
    assert.equal(new Set(answers.map((a) => a.json.refresh)).size, 1, "one child for all");
    const children = await issuer.db.prepare("SELECT COUNT(*) AS n FROM outstanding_tokens WHERE parent_jti = ?1").bind(claims(pair.refresh).jti).first();
    assert.equal(children.n, 1, "exactly one rotation");
  });

  test("a replay after the interval revokes the whole session, its newest child and its access tokens", async () => {
    const pair = await issuer.login();
    const { sid } = claims(pair.refresh);
    const child = (await refresh(issuer, pair.refresh)).json;
    await sleep(5100); // past the 4 s interval, counted in whole seconds
    const replay = await refresh(issuer, pair.refresh);
    assert.deepEqual([replay.status, replay.json], [401, BLACKLISTED]);
    // The newest child dies too: the thief (or the victim) holds nothing of the session.
    const dead = await refresh(issuer, child.refresh);
    assert.deepEqual([dead.status, dead.json], [401, BLACKLISTED]);
    // Edge verifiers refuse the session's access tokens (the package reads this key).
    assert.equal(await issuer.kv.get(`revoked:${sid}`), "1");
    const row = await issuer.db.prepare("SELECT revoked_reason FROM sessions WHERE sid = ?1").bind(sid).first();
    assert.equal(row.revoked_reason, "reuse_detected");
    assert.deepEqual(await events(issuer, sid), ["login", "refresh", "reuse_detected"]);
  });

  test("a replay after the child was itself rotated revokes the session, even inside the interval", async () => {
    const pair = await issuer.login();
    const child = (await refresh(issuer, pair.refresh)).json;
    const grandchild = (await refresh(issuer, child.refresh)).json;
    const replay = await refresh(issuer, pair.refresh);
    assert.deepEqual([replay.status, replay.json], [401, BLACKLISTED]);
    assert.deepEqual((await refresh(issuer, grandchild.refresh)).json, BLACKLISTED);
  });

  test("a logged-out token is blacklisted without revoking anything more", async () => {
    const pair = await issuer.login();
    assert.equal((await issuer.call("POST", "/api/token/blacklist/", { json: { refresh: pair.refresh } })).status, 200);
    assert.deepEqual((await refresh(issuer, pair.refresh)).json, BLACKLISTED);
    const row = await issuer.db.prepare("SELECT revoked_reason FROM sessions WHERE sid = ?1").bind(claims(pair.refresh).sid).first();
    assert.equal(row.revoked_reason, "logout");
    assert.deepEqual(await events(issuer, claims(pair.refresh).sid), ["login", "logout"]);
  });
});

describe("REFRESH_TOKEN_REUSE_INTERVAL=0", () => {
  test("turns the grace window off: any replay revokes the session", async () => {
    await withIssuer({ vars: { REFRESH_TOKEN_REUSE_INTERVAL: "0" } }, async (issuer) => {
    const pair = await issuer.login();
    const child = (await refresh(issuer, pair.refresh)).json;
    assert.deepEqual((await refresh(issuer, pair.refresh)).json, BLACKLISTED);
    assert.deepEqual((await refresh(issuer, child.refresh)).json, BLACKLISTED);
    });
  });
});

describe("SESSION_LIFETIME", () => {
  test("ends a session that keeps refreshing", async () => {
    await withIssuer({ vars: { SESSION_LIFETIME: "6s" } }, async (issuer) => {
    const pair = await issuer.login();
    const start = claims(pair.refresh).iat;
    assert.ok(claims(pair.refresh).exp <= start + 6);
    let token = pair.refresh;
    for (let i = 0; i < 2; i++) {
      await sleep(1000);
      const r = await refresh(issuer, token);
      assert.equal(r.status, 200, JSON.stringify(r.json));
      assert.ok(claims(r.json.refresh).exp <= start + 6, "no refresh token outlives the session");
      token = r.json.refresh;
    }
    await sleep((start + 7) * 1000 - Date.now());
    const r = await refresh(issuer, token);
    assert.deepEqual([r.status, r.json], [401, { detail: "Token is expired", code: "token_not_valid" }]);
    // The daily flush records that the session expired, once.
    const worker = await issuer.mf.getWorker();
    await worker.scheduled({ cron: "17 3 * * *" });
    await worker.scheduled({ cron: "17 3 * * *" });
    assert.deepEqual(await events(issuer, claims(pair.refresh).sid), ["login", "refresh", "refresh", "session_expired"]);
    });
  });
});

describe("fresh claims", () => {
  test("a role change reaches the next refresh (REFRESH_CLAIMS_FROM_USER)", async () => {
    await withIssuer({ vars: { TOKEN_CLAIMS: "roles,is_staff" } }, async (issuer) => {
    await issuer.db.prepare("UPDATE users SET claims = ?1, is_staff = 1 WHERE id = 1").bind(JSON.stringify({ roles: ["admin"] })).run();
    const pair = await issuer.login();
    assert.deepEqual([claims(pair.access).roles, claims(pair.access).is_staff], [["admin"], true]);
    await issuer.db.prepare("UPDATE users SET claims = '{}', is_staff = 0 WHERE id = 1").run();
    const r = await refresh(issuer, pair.refresh);
    assert.equal(r.status, 200);
    for (const t of [r.json.access, r.json.refresh]) {
      assert.equal(claims(t).roles, undefined, "the demoted admin lost the role");
      assert.equal(claims(t).is_staff, false);
    }
    });
  });

  test("REFRESH_CLAIMS_FROM_USER=false keeps the login's claims", async () => {
    await withIssuer({ vars: { TOKEN_CLAIMS: "roles", REFRESH_CLAIMS_FROM_USER: "false" } }, async (issuer) => {
    await issuer.db.prepare("UPDATE users SET claims = ?1 WHERE id = 1").bind(JSON.stringify({ roles: ["admin"] })).run();
    const pair = await issuer.login();
    await issuer.db.prepare("UPDATE users SET claims = '{}' WHERE id = 1").run();
    const r = await refresh(issuer, pair.refresh);
    assert.deepEqual(claims(r.json.access).roles, ["admin"]);
    });
  });
});

describe("the session API", () => {
  let issuer;
  before(async () => (issuer = await startIssuer({ vars: { CHECK_REVOKE_TOKEN: "true" } })));
  after(() => issuer.stop());
  const ua = (name) => ({ "User-Agent": name });
  const login = async (agent) => (await issuer.call("POST", "/api/token/", { json: { username: "alice", password: "alice-password-1" }, headers: ua(agent) })).json;

  test("lists the user's active sessions, newest first, this one marked", async () => {
    const a = await login("Browser A");
    const b = await login("Browser B");
    const r = await issuer.call("GET", "/api/sessions/", { token: b.access });
    assert.equal(r.status, 200);
    const mine = r.json.filter((s) => [claims(a.refresh).sid, claims(b.refresh).sid].includes(s.sid));
    assert.deepEqual(mine.map((s) => [s.user_agent, s.current]), [["Browser B", true], ["Browser A", false]]);
    for (const s of mine) {
      assert.match(s.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      assert.match(s.last_used_at, /Z$/);
      assert.match(s.expires_at, /Z$/);
    }
    assert.deepEqual((await issuer.call("GET", "/api/sessions/")).json, { detail: "Authentication credentials were not provided." });
  });

  test("revokes one session: 204; its tokens die; another user's or an unknown one is 404", async () => {
    const a = await login("A");
    const b = await login("B");
    const sid = claims(a.refresh).sid;
    const r = await issuer.call("DELETE", `/api/sessions/${sid}/`, { token: b.access });
    assert.equal(r.status, 204);
    assert.equal(r.json, "");
    assert.deepEqual((await refresh(issuer, a.refresh)).json, BLACKLISTED);
    assert.equal(await issuer.kv.get(`revoked:${sid}`), "1");
    assert.deepEqual(await events(issuer, sid), ["login", "revoked"]);
    // CHECK_REVOKE_TOKEN: the issuer's own authentication refuses its access token.
    const p = await issuer.call("GET", "/api/protected/", { token: a.access });
    assert.equal(p.status, 401);
    assert.equal(p.json.messages[0].message, "Token is blacklisted");
    for (const other of [sid, "no-such-session"]) {
      const again = await issuer.call("DELETE", `/api/sessions/${other}/`, { token: b.access });
      assert.deepEqual([again.status, again.json], [404, { detail: "Not found." }]);
    }
    // Bob's sessions are not Alice's to end.
    await issuer.db.prepare("UPDATE users SET is_active = 1 WHERE id = 2").run();
    const bob = (await issuer.call("POST", "/api/token/", { json: { username: "bob", password: "bob-password-1" } })).json;
    const denied = await issuer.call("DELETE", `/api/sessions/${claims(bob.refresh).sid}/`, { token: b.access });
    assert.equal(denied.status, 404);
    assert.equal((await refresh(issuer, bob.refresh)).status, 200);
    await issuer.db.prepare("UPDATE users SET is_active = 0 WHERE id = 2").run();
  });

  test("revoke-all logs out everywhere, this session included", async () => {
    const a = await login("A");
    const b = await login("B");
    const r = await issuer.call("POST", "/api/sessions/revoke-all/", { token: b.access });
    assert.equal(r.status, 200);
    assert.ok(r.json.revoked >= 2, JSON.stringify(r.json));
    for (const t of [a, b]) {
      assert.deepEqual((await refresh(issuer, t.refresh)).json, BLACKLISTED);
      assert.equal(await issuer.kv.get(`revoked:${claims(t.refresh).sid}`), "1");
    }
    assert.equal((await issuer.call("GET", "/api/sessions/", { token: b.access })).status, 401);
    const fresh = await login("C");
    const list = await issuer.call("GET", "/api/sessions/", { token: fresh.access });
    assert.deepEqual(list.json.map((s) => s.user_agent), ["C"]);
    assert.deepEqual(await events(issuer, claims(a.refresh).sid), ["login", "logout_all"]);
  });
});

// An ended session is the authority, not only its blacklist: a refresh token of it that D1
// never recorded (as one a concurrent refresh records after the logout's transaction, which
// its blacklist could not hold) is refused too, in every rotation setting.
describe("a refresh token of an ended session that escaped its blacklist", () => {
  const settings = ["true", "false"].flatMap((r) => ["true", "false"].map((b) => ({ ROTATE_REFRESH_TOKENS: r, BLACKLIST_AFTER_ROTATION: b })));
  for (const vars of settings) {
    test(`ROTATE_REFRESH_TOKENS=${vars.ROTATE_REFRESH_TOKENS}, BLACKLIST_AFTER_ROTATION=${vars.BLACKLIST_AFTER_ROTATION}: refused`, async () => {
      await withIssuer({ vars }, async (issuer) => {
        const pair = await issuer.login();
        const signed = claims(pair.refresh);
        const escaped = signHS256({ ...signed, jti: randomBytes(16).toString("hex") }, REFERENCE_KEY);
        // Its twin, before the session ends: the token itself is good.
        assert.equal((await refresh(issuer, signHS256({ ...signed, jti: randomBytes(16).toString("hex") }, REFERENCE_KEY))).status, 200);
        assert.equal((await issuer.call("POST", "/api/sessions/revoke-all/", { token: pair.access })).status, 200);
        const blacklisted = await issuer.db.prepare("SELECT COUNT(*) AS n FROM blacklisted_tokens WHERE jti = ?1").bind(claims(escaped).jti).first();
        assert.equal(blacklisted.n, 0, "not on the blacklist");
        const r = await refresh(issuer, escaped);
        assert.deepEqual([r.status, r.json], [401, BLACKLISTED]);
      });
    });
  }
});

describe("audit events", () => {
  test("logins, failed logins and refreshes are recorded with the client", async () => {
    await withIssuer({}, async (issuer) => {
    const headers = { "User-Agent": "audit-test", "CF-Connecting-IP": "203.0.113.7" };
    await issuer.call("POST", "/api/token/", { json: { username: "alice", password: "wrong" }, headers });
    const pair = (await issuer.call("POST", "/api/token/", { json: { username: "alice", password: "alice-password-1" }, headers })).json;
    await refresh(issuer, pair.refresh, headers);
    const rows = await issuer.db.prepare("SELECT user_id, event, client_ip, user_agent FROM auth_events ORDER BY id").all();
    assert.deepEqual(rows.results, [
      { user_id: 1, event: "login_failed", client_ip: "203.0.113.7", user_agent: "audit-test" },
      { user_id: 1, event: "login", client_ip: "203.0.113.7", user_agent: "audit-test" },
      { user_id: 1, event: "refresh", client_ip: "203.0.113.7", user_agent: "audit-test" },
    ]);
    });
  });
});

describe("password change (dj-rest-auth's PasswordChangeView)", () => {
  const change = (issuer, token, body) => issuer.call("POST", "/api/password/change/", { token, json: body });
  const body = (old_password, new_password1, new_password2 = new_password1) => ({ old_password, new_password1, new_password2 });

  test("Django's texts and validators, in Django's order", async () => {
    await withIssuer({}, async (issuer) => {
    const { access } = await issuer.login();
    const cases = [
      [body("wrong-password", "a-new-Secret-9", "different-Secret-9"), { old_password: ["Your old password was entered incorrectly. Please enter it again."] }],
      [body("alice-password-1", "a-new-Secret-9", "different-Secret-9"), { new_password2: ["The two password fields didn’t match."] }],
      [body("alice-password-1", "12345678"), { new_password2: ["This password is too common.", "This password is entirely numeric."] }],
      [body("alice-password-1", "x7!k"), { new_password2: ["This password is too short. It must contain at least 8 characters."] }],
      [body("alice-password-1", "alice@example.com"), { new_password2: ["The password is too similar to the email address."] }],
      [{ new_password1: "a", new_password2: "" }, { old_password: ["This field is required."], new_password2: ["This field may not be blank."] }],
      [body("alice-password-1", "x".repeat(129)), { new_password1: ["Ensure this field has no more than 128 characters."], new_password2: ["Ensure this field has no more than 128 characters."] }],
    ];
    for (const [json, expected] of cases) {
      const r = await change(issuer, access, json);
      assert.deepEqual([r.status, r.json], [400, expected], JSON.stringify(json).slice(0, 80));
    }
    assert.deepEqual((await change(issuer, undefined, body("a", "b"))).json, { detail: "Authentication credentials were not provided." });
    // Nothing changed: the old password still logs in.
    await issuer.login();
    });
  });

  test("saves the new password; every other session ends, this one stays", async () => {
    await withIssuer({}, async (issuer) => {
    const other = await issuer.login();
    const current = await issuer.login();
    const r = await change(issuer, current.access, body("alice-password-1", "a-brand-new-Secret-9"));
    assert.deepEqual([r.status, r.json], [200, { detail: "New password has been saved." }]);
    assert.deepEqual((await refresh(issuer, other.refresh)).json, BLACKLISTED);
    assert.equal(await issuer.kv.get(`revoked:${claims(other.refresh).sid}`), "1");
    assert.equal((await refresh(issuer, current.refresh)).status, 200);
    assert.equal(await issuer.kv.get(`revoked:${claims(current.refresh).sid}`), null);
    await issuer.login("alice", "a-brand-new-Secret-9");
    const old = await issuer.call("POST", "/api/token/", { json: { username: "alice", password: "alice-password-1" } });
    assert.equal(old.status, 401);
    assert.deepEqual(await events(issuer, claims(other.refresh).sid), ["login", "password_change"]);
    });
  });

  test("LOGOUT_ON_PASSWORD_CHANGE ends the current session too", async () => {
    await withIssuer({ vars: { LOGOUT_ON_PASSWORD_CHANGE: "true" } }, async (issuer) => {
    const current = await issuer.login();
    assert.equal((await change(issuer, current.access, body("alice-password-1", "a-brand-new-Secret-9"))).status, 200);
    assert.deepEqual((await refresh(issuer, current.refresh)).json, BLACKLISTED);
    });
  });
});

describe("SESSION_CLAIM empty (sessions off)", () => {
  test("rotation, the grace window and reuse refusal work without a session", async () => {
    await withIssuer({ vars: { SESSION_CLAIM: "", REFRESH_TOKEN_REUSE_INTERVAL: "2" } }, async (issuer) => {
    const pair = await issuer.login();
    assert.equal(claims(pair.refresh).sid, undefined);
    const child = await refresh(issuer, pair.refresh);
    assert.equal(child.status, 200);
    assert.equal((await refresh(issuer, pair.refresh)).json.refresh, child.json.refresh, "grace without a session");
    await sleep(3100); // past the 2 s interval, counted in whole seconds
    assert.deepEqual((await refresh(issuer, pair.refresh)).json, BLACKLISTED);
    // No session to end: the child lives on (simplejwt's behaviour).
    assert.equal((await refresh(issuer, child.json.refresh)).status, 200);
    });
  });
});

describe("refresh tokens of no session (imported from Django, or SESSION_CLAIM off)", () => {
  /** A live simplejwt refresh token of user 1 (alice) with no `sid`, recorded as `import-django` does. */
  async function importedRefresh(issuer) {
    const now = Math.floor(Date.now() / 1000);
    const payload = { token_type: "refresh", exp: now + 86400, iat: now, jti: randomBytes(16).toString("hex"), user_id: "1" };
    await issuer.db
      .prepare("INSERT INTO outstanding_tokens (jti, user_id, created_at, expires_at) VALUES (?1, 1, ?2, ?3)")
      .bind(payload.jti, payload.iat, payload.exp)
      .run();
    return signHS256(payload, REFERENCE_KEY);
  }
  const change = (issuer, token, password) =>
    issuer.call("POST", "/api/password/change/", { token, json: { old_password: "alice-password-1", new_password1: password, new_password2: password } });

  test("a password change blacklists them (and their rotated children); the current session stays", async () => {
    await withIssuer({}, async (issuer) => {
      const imported = await importedRefresh(issuer);
      const child = await refresh(issuer, imported);
      assert.equal(child.status, 200, JSON.stringify(child.json));
      assert.equal(claims(child.json.refresh).sid, undefined, "a rotation starts no session");
      const other = await importedRefresh(issuer);
      const current = await issuer.login();
      assert.equal((await change(issuer, current.access, "a-brand-new-Secret-9")).status, 200);
      assert.deepEqual((await refresh(issuer, child.json.refresh)).json, BLACKLISTED);
      assert.deepEqual((await refresh(issuer, other)).json, BLACKLISTED);
      assert.equal(await issuer.kv.get(`revoked:${claims(other).jti}`), "1");
      assert.equal((await refresh(issuer, current.refresh)).status, 200);
    });
  });

  test("revoke-all blacklists them, with SESSION_CLAIM off too; another user's are left alone", async () => {
    await withIssuer({ vars: { SESSION_CLAIM: "" } }, async (issuer) => {
      await issuer.db.prepare("UPDATE users SET is_active = 1 WHERE username = 'bob'").run();
      const mine = [await issuer.login(), await issuer.login()];
      const bobs = await issuer.login("bob", "bob-password-1");
      assert.equal(claims(mine[0].refresh).sid, undefined);
      const r = await issuer.call("POST", "/api/sessions/revoke-all/", { token: mine[0].access });
      assert.deepEqual([r.status, r.json], [200, { revoked: 0 }], "no session to count");
      for (const pair of mine) {
        assert.deepEqual((await refresh(issuer, pair.refresh)).json, BLACKLISTED);
        // In KV too, for verifiers that accept refresh tokens (AUTH_TOKEN_CLASSES).
        assert.equal(await issuer.kv.get(`revoked:${claims(pair.refresh).jti}`), "1");
      }
      assert.equal(await issuer.kv.get(`revoked:${claims(bobs.refresh).jti}`), null);
      assert.equal((await refresh(issuer, bobs.refresh)).status, 200);
    });
  });
});
