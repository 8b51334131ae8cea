// The issuer in workerd with real local D1 and KV: atomic rotation under real concurrency,
// revocations in KV, persistence across restarts, the Cron flush, passwords, custom
// claims, and bad input of every kind answered with a 4xx, never a 500.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { signHS256 } from "./contract-runner.mjs";
import { REFERENCE_KEY, assertOneRotationWins, claims, djangoHash, startIssuer } from "./harness.mjs";

/** A rotated-out token is revoked in KV after the response (waitUntil): wait up to 2 s. */
async function revokedSoon(issuer, id) {
  for (let i = 0; i < 40; i++) {
    if ((await issuer.kv.get(`revoked:${id}`)) === "1") return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

describe("rotation under concurrency", () => {
  let issuer;
  before(async () => (issuer = await startIssuer()));
  after(() => issuer.stop());

  for (const n of [2, 10, 50]) {
    test(`${n} concurrent refreshes of one token: exactly one rotation, every request the same new pair`, async () => {
      const { refresh } = await issuer.login();
      const results = await Promise.all(
        Array.from({ length: n }, () => issuer.call("POST", "/api/token/refresh/", { json: { refresh } })),
      );
      // Inside the reuse interval every concurrent request gets the one child (a client that
      // lost the race loses nothing); exactly one rotation happened.
      assert.deepEqual(results.map((r) => r.status), Array(n).fill(200));
      const children = new Set(results.map((r) => r.json.refresh));
      console.log(`concurrency: ${children.size} child of ${n} refreshes`);
      assert.equal(children.size, 1);
      const old = claims(refresh);
      const fresh = claims(results[0].json.refresh);
      const rows = await issuer.db.prepare("SELECT jti FROM outstanding_tokens WHERE parent_jti = ?1").bind(old.jti).all();
      assert.deepEqual(rows.results, [{ jti: fresh.jti }]);
      // The old one is blacklisted once, in D1 only (no verifier here accepts refresh tokens).
      const bl = await issuer.db.prepare("SELECT jti, expires_at FROM blacklisted_tokens WHERE jti = ?1").bind(old.jti).all();
      assert.deepEqual(bl.results, [{ jti: old.jti, expires_at: old.exp }]);
      // The child works.
      assert.equal((await issuer.call("POST", "/api/token/refresh/", { json: { refresh: results[0].json.refresh } })).status, 200);
      assert.equal(await issuer.kv.get(`revoked:${old.jti}`), null);
    });
  }

  test("without a reuse interval, one of 10 concurrent refreshes wins and the replays end the session", async () => {
    const strict = await startIssuer({ vars: { REFRESH_TOKEN_REUSE_INTERVAL: "0" } });
    try {
      await assertOneRotationWins(strict, 10);
    } finally {
      await strict.stop();
    }
  });

  test("logout revokes the whole session in KV: its access tokens die too", async () => {
    const pair = await issuer.login();
    const sid = claims(pair.refresh).sid;
    assert.match(sid, /^[0-9a-f]{32}$/);
    assert.notEqual(sid, claims(pair.refresh).jti);
    assert.equal(claims(pair.access).sid, sid);
    const rotated = (await issuer.call("POST", "/api/token/refresh/", { json: { refresh: pair.refresh } })).json;
    assert.equal(claims(rotated.refresh).sid, sid, "rotation keeps the session");
    assert.equal(claims(rotated.access).sid, sid);
    // Verifiers accept access tokens only (AUTH_TOKEN_CLASSES): the rotated-out refresh
    // token's jti is not worth a KV write (the issuer's D1 blacklist refuses it).
    assert.equal(await revokedSoon(issuer, claims(pair.refresh).jti), false, "the rotated-out token stays out of KV");
    assert.equal(await issuer.kv.get(`revoked:${sid}`), null, "the session is not revoked");
    assert.equal((await issuer.call("POST", "/api/token/blacklist/", { json: { refresh: rotated.refresh } })).status, 200);
    assert.equal(await issuer.kv.get(`revoked:${sid}`), "1", "logout revokes the session");
  });

  test("with refresh tokens among AUTH_TOKEN_CLASSES, a rotated-out refresh token reaches KV", async () => {
    const accepting = await startIssuer({ vars: { AUTH_TOKEN_CLASSES: "AccessToken,RefreshToken" } });
    try {
      const pair = await accepting.login();
      const results = await Promise.all(
        Array.from({ length: 10 }, () => accepting.call("POST", "/api/token/refresh/", { json: { refresh: pair.refresh } })),
      );
      assert.deepEqual(results.map((r) => r.status), Array(10).fill(200));
      const old = claims(pair.refresh);
      assert.ok(await revokedSoon(accepting, old.jti), "verifiers accepting refresh tokens refuse it");
      const { expiration } = (await accepting.kv.list({ prefix: `revoked:${old.jti}` })).keys[0];
      assert.equal(expiration, old.exp, "until it would have expired");
      assert.equal(await accepting.kv.get(`revoked:${claims(pair.refresh).sid}`), null, "the session lives on");
    } finally {
      await accepting.stop();
    }
  });

  test("blacklist (logout) is also single-winner and revokes in KV", async () => {
    const { refresh } = await issuer.login();
    const results = await Promise.all(Array.from({ length: 10 }, () => issuer.call("POST", "/api/token/blacklist/", { json: { refresh } })));
    assert.equal(results.filter((r) => r.status === 200).length, 1);
    assert.equal(await issuer.kv.get(`revoked:${claims(refresh).jti}`), "1");
  });
});

describe("state survives a restart of the runtime", () => {
  const dir = mkdtempSync(join(tmpdir(), "edgejwt-persist-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("a blacklisted refresh token stays refused; a rotated one keeps working", async () => {
    let issuer = await startIssuer({ persist: dir });
    const first = await issuer.login();
    const loggedOut = await issuer.login();
    assert.equal((await issuer.call("POST", "/api/token/blacklist/", { json: { refresh: loggedOut.refresh } })).status, 200);
    const rotated = (await issuer.call("POST", "/api/token/refresh/", { json: { refresh: first.refresh } })).json;
    await issuer.stop();

    issuer = await startIssuer({ persist: dir, migrate: false, seed: false });
    try {
      const reuse = await issuer.call("POST", "/api/token/refresh/", { json: { refresh: loggedOut.refresh } });
      assert.equal(reuse.status, 401);
      assert.equal(reuse.json.detail, "Token is blacklisted");
      assert.equal(await issuer.kv.get(`revoked:${claims(loggedOut.refresh).jti}`), "1");
      assert.equal(await issuer.kv.get(`revoked:${claims(first.refresh).jti}`), null, "rotated out: D1 only");
      const ok = await issuer.call("POST", "/api/token/refresh/", { json: { refresh: rotated.refresh } });
      assert.equal(ok.status, 200);
      assert.equal((await issuer.call("GET", "/api/protected/", { token: ok.json.access })).json.username, "alice");
    } finally {
      await issuer.stop();
    }
  });
});

describe("Cron flush (flushexpiredtokens)", () => {
  test("deletes expired outstanding and blacklisted tokens, keeps live ones", async () => {
    const issuer = await startIssuer();
    try {
      const now = Math.floor(Date.now() / 1000);
      const insert = (jti, exp) => issuer.db.prepare("INSERT INTO outstanding_tokens (jti, user_id, created_at, expires_at) VALUES (?1, 1, ?2, ?3)").bind(jti, now - 100, exp);
      const bl = (jti, exp) => issuer.db.prepare("INSERT INTO blacklisted_tokens (jti, blacklisted_at, expires_at) VALUES (?1, ?2, ?3)").bind(jti, now - 50, exp);
      await issuer.db.batch([insert("expired-a", now - 10), insert("expired-b", now - 10), bl("expired-b", now - 10), insert("live", now + 1000), bl("live", now + 1000)]);
      const worker = await issuer.mf.getWorker();
      await worker.scheduled({ cron: "17 3 * * *" });
      const left = await issuer.db.prepare("SELECT jti FROM outstanding_tokens WHERE jti IN ('expired-a','expired-b','live')").all();
      assert.deepEqual(left.results, [{ jti: "live" }]);
      const blLeft = await issuer.db.prepare("SELECT jti FROM blacklisted_tokens").all();
      assert.deepEqual(blLeft.results, [{ jti: "live" }]);
    } finally {
      await issuer.stop();
    }
  });
});

describe("retention: sessions go with their last token, audit events after AUTH_EVENTS_RETENTION", () => {
  for (const [retention, keptDays] of [[undefined, 90], ["7d", 7], ["0", null]]) {
    test(`AUTH_EVENTS_RETENTION=${retention ?? "(default)"}: events ${keptDays ? `older than ${keptDays} days` : "never"} deleted`, async () => {
      const issuer = await startIssuer(retention === undefined ? {} : { vars: { AUTH_EVENTS_RETENTION: retention } });
      try {
        const now = Math.floor(Date.now() / 1000);
        const day = 86400;
        // A session whose tokens all expired (one revoked, one not), a live one, and events
        // either side of the limits.
        const session = (sid, revoked) => issuer.db.prepare("INSERT INTO sessions (sid, user_id, created_at, last_used_at, revoked_at) VALUES (?1, 1, ?2, ?2, ?3)").bind(sid, now - 10 * day, revoked ? now - 9 * day : null);
        const token = (jti, sid, exp) => issuer.db.prepare("INSERT INTO outstanding_tokens (jti, user_id, created_at, expires_at, sid) VALUES (?1, 1, ?2, ?3, ?4)").bind(jti, now - 10 * day, exp, sid);
        const event = (at, sid) => issuer.db.prepare("INSERT INTO auth_events (at, user_id, sid, event) VALUES (?1, 1, ?2, 'refresh')").bind(at, sid);
        await issuer.db.batch([
          session("s-ended", false), token("t-ended-1", "s-ended", now - 9 * day), token("t-ended-2", "s-ended", now - 60),
          session("s-revoked", true), token("t-revoked", "s-revoked", now - 60),
          session("s-live", false), token("t-old", "s-live", now - 60), token("t-live", "s-live", now + day),
          event(now - 200 * day, "s-ended"), event(now - 30 * day, "s-ended"), event(now - 3 * day, "s-live"),
        ]);
        const pair = await issuer.login();
        await (await issuer.mf.getWorker()).scheduled({ cron: "17 3 * * *" });
        const sids = (await issuer.db.prepare("SELECT sid FROM sessions ORDER BY sid").all()).results.map((r) => r.sid);
        assert.deepEqual(sids.filter((s) => s.startsWith("s-")), ["s-live"], "sessions whose last token went are gone");
        assert.ok(sids.includes(claims(pair.refresh).sid), "a new login's session stays");
        const ats = (await issuer.db.prepare("SELECT at FROM auth_events WHERE event = 'refresh' ORDER BY at").all()).results.map((r) => Math.round((now - r.at) / day));
        const expected = [200, 30, 3].filter((age) => keptDays === null || age < keptDays);
        assert.deepEqual(ats.sort((a, b) => b - a), expected);
        // The ended session's expiry is on record before it went; the login's event stays.
        const ended = await issuer.db.prepare("SELECT event FROM auth_events WHERE sid = 's-ended' AND event = 'session_expired'").all();
        assert.equal(ended.results.length, 1);
        assert.equal((await issuer.db.prepare("SELECT COUNT(*) AS n FROM auth_events WHERE event = 'login'").first()).n, 1);
        // The live session still refreshes; the flushed one's tokens are gone, the live one's kept.
        const left = (await issuer.db.prepare("SELECT jti FROM outstanding_tokens WHERE jti LIKE 't-%'").all()).results.map((r) => r.jti);
        assert.deepEqual(left, ["t-live"]);
        assert.equal((await issuer.call("POST", "/api/token/refresh/", { json: { refresh: pair.refresh } })).status, 200);
      } finally {
        await issuer.stop();
      }
    });
  }
});

describe("passwords and users", () => {
  let issuer;
  before(async () => (issuer = await startIssuer({ vars: { UPDATE_LAST_LOGIN: "true", TOKEN_CLAIMS: "username,email,is_staff,roles" } })));
  after(() => issuer.stop());

  test("a Django hash at another cost logs in and is rehashed at the configured cost", async () => {
    // Django 6.1's default cost is 1,500,000; here an imported hash at 30,000.
    await issuer.db.prepare("INSERT INTO users (username, password, claims, is_staff) VALUES ('carol', ?1, ?2, 1)").bind(djangoHash("carol-pw-1", 30_000), JSON.stringify({ roles: ["admin", "ops"] })).run();
    const pair = await issuer.login("carol", "carol-pw-1");
    const row = await issuer.db.prepare("SELECT password, last_login FROM users WHERE username = 'carol'").first();
    assert.match(row.password, /^pbkdf2_sha256\$20000\$[A-Za-z0-9]{22}\$[A-Za-z0-9+/]{43}=$/);
    assert.ok(Math.abs(row.last_login - Date.now() / 1000) < 60);
    // The new hash still logs in; the configured user claims are in both tokens.
    await issuer.login("carol", "carol-pw-1");
    for (const t of [pair.access, pair.refresh]) {
      const c = claims(t);
      assert.equal(c.username, "carol");
      assert.equal(c.email, "");
      assert.equal(c.is_staff, true);
      assert.deepEqual(c.roles, ["admin", "ops"]);
    }
    // A refreshed access token keeps them (copied from the refresh token).
    const refreshed = await issuer.call("POST", "/api/token/refresh/", { json: { refresh: pair.refresh } });
    assert.deepEqual(claims(refreshed.json.access).roles, ["admin", "ops"]);
  });

  test("wrong password, unknown user and inactive user get one identical answer", async () => {
    const answers = await Promise.all([
      issuer.call("POST", "/api/token/", { json: { username: "alice", password: "wrong" } }),
      issuer.call("POST", "/api/token/", { json: { username: "nobody", password: "alice-password-1" } }),
      issuer.call("POST", "/api/token/", { json: { username: "bob", password: "bob-password-1" } }),
      issuer.call("POST", "/api/token/", { json: { username: "ALICE", password: "alice-password-1" } }),
    ]);
    for (const a of answers) {
      assert.equal(a.status, 401);
      assert.deepEqual(a.json, { detail: "No active account found with the given credentials" });
      assert.equal(a.headers.get("www-authenticate"), 'Bearer realm="api"');
    }
  });

  test("refresh for a deleted or deactivated user is refused (401, not simplejwt's 500)", async () => {
    await issuer.db.prepare("INSERT INTO users (username, password) VALUES ('dave', ?1)").bind(djangoHash("dave-pw-1")).run();
    const pair = await issuer.login("dave", "dave-pw-1");
    await issuer.db.prepare("UPDATE users SET is_active = 0 WHERE username = 'dave'").run();
    const r = await issuer.call("POST", "/api/token/refresh/", { json: { refresh: pair.refresh } });
    assert.equal(r.status, 401);
    assert.deepEqual(r.json, { detail: "No active account found for the given token." });
    const p = await issuer.call("GET", "/api/protected/", { token: pair.access });
    assert.deepEqual(p.json, { detail: "User is inactive", code: "user_inactive" });
    await issuer.db.prepare("DELETE FROM users WHERE username = 'dave'").run();
    assert.equal((await issuer.call("POST", "/api/token/refresh/", { json: { refresh: pair.refresh } })).status, 401);
    assert.deepEqual((await issuer.call("GET", "/api/protected/", { token: pair.access })).json, { detail: "User not found", code: "user_not_found" });
  });

  test("a blacklisted refresh token of a deactivated user is reported blacklisted, as simplejwt checks the blacklist first", async () => {
    await issuer.db.prepare("INSERT INTO users (username, password) VALUES ('erin', ?1)").bind(djangoHash("erin-pw-1")).run();
    const pair = await issuer.login("erin", "erin-pw-1");
    assert.equal((await issuer.call("POST", "/api/token/blacklist/", { json: { refresh: pair.refresh } })).status, 200);
    await issuer.db.prepare("UPDATE users SET is_active = 0 WHERE username = 'erin'").run();
    const r = await issuer.call("POST", "/api/token/refresh/", { json: { refresh: pair.refresh } });
    assert.equal(r.status, 401);
    assert.deepEqual(r.json, { detail: "Token is blacklisted", code: "token_not_valid" });
    // An access token is never outstanding, so never blacklisted: verify accepts it
    // without a lookup; the blacklisted refresh token is refused there.
    assert.deepEqual((await issuer.call("POST", "/api/token/verify/", { json: { token: pair.access } })).json, {});
    const v = await issuer.call("POST", "/api/token/verify/", { json: { token: pair.refresh } });
    assert.equal(v.status, 400);
    assert.deepEqual(v.json, { non_field_errors: ["Token is blacklisted"] });
  });
});

describe("bad input is a 4xx in simplejwt's shape, never a 500", () => {
  let issuer;
  let pair;
  before(async () => {
    issuer = await startIssuer();
    pair = await issuer.login();
  });
  after(() => issuer.stop());

  const endpoints = ["/api/token/", "/api/token/refresh/", "/api/token/verify/", "/api/token/blacklist/", "/api/token/sliding/", "/api/token/sliding/refresh/"];
  const json = { "Content-Type": "application/json" };
  const bodies = [
    ["empty JSON body", "", json, 400],
    ["truncated JSON", "{", json, 400],
    ["JSON with a bare key", '{"a":}', json, 400],
    ["invalid UTF-8", Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), json, 400],
    ["deeply nested JSON", "[".repeat(5000) + "]".repeat(5000), json, 400],
    ["JSON string", '"x"', json, 400],
    ["JSON null", "null", json, 400],
    ["JSON number", "12", json, 400],
    ["object fields", '{"username":{},"password":[],"refresh":{},"token":[1]}', json, 400],
    ["text/plain", "username=alice", { "Content-Type": "text/plain" }, 415],
    ["XML", "<a/>", { "Content-Type": "application/xml" }, 415],
    ["a body with no content type", "{}", {}, 415],
    ["over 16 KiB", JSON.stringify({ refresh: "a".repeat(17 * 1024) }), json, 413],
  ];
  for (const path of endpoints) {
    for (const [name, body, headers, status] of bodies) {
      test(`${path}: ${name} → ${status}`, async () => {
        const r = await issuer.call("POST", path, { body, headers });
        assert.equal(r.status, status, JSON.stringify(r.json));
        assert.equal(r.headers.get("content-type"), "application/json");
        assert.equal(typeof r.json, "object");
      });
    }
  }

  const now = Math.floor(Date.now() / 1000);
  const tokens = [
    ["garbage", "garbage"],
    ["three empty parts", ".."],
    ["a 10 KB token", "a".repeat(5000) + "." + "b".repeat(5000) + ".c"],
    ["non-ASCII", "ключ.ключ.ключ"],
    ["HS512 header", signHS256({ token_type: "access", exp: now + 60, iat: now, jti: "x".repeat(32), user_id: "1" }, REFERENCE_KEY, { alg: "HS512", typ: "JWT" })],
    ["claims not an object", signHS256([1, 2], REFERENCE_KEY)],
    ["exp as a string", signHS256({ token_type: "access", exp: "tomorrow", iat: now, jti: "x", user_id: "1" }, REFERENCE_KEY)],
    ["iat in the future", signHS256({ token_type: "access", exp: now + 600, iat: now + 300, jti: "x", user_id: "1" }, REFERENCE_KEY)],
    ["user_id an object", signHS256({ token_type: "refresh", exp: now + 600, iat: now, jti: "z".repeat(32), user_id: { id: 1 } }, REFERENCE_KEY), { verify: 200, code: undefined }],
    ["a number as jti", signHS256({ token_type: "refresh", exp: now + 600, iat: now, jti: 5, user_id: "1" }, REFERENCE_KEY)],
    ["no exp", signHS256({ token_type: "refresh", iat: now, jti: "y".repeat(32), user_id: "1" }, REFERENCE_KEY)],
  ];
  for (const [name, token, special] of tokens) {
    test(`malformed token (${name}) → 4xx everywhere`, async () => {
      // A validly signed token whose user id is an object: the verify view (which does not
      // look at users, as in simplejwt) accepts it; the refresh view must not mint from it.
      if (special) {
        assert.equal((await issuer.call("POST", "/api/token/verify/", { json: { token } })).status, special.verify);
        const r = await issuer.call("POST", "/api/token/refresh/", { json: { refresh: token } });
        assert.deepEqual([r.status, r.json], [401, { detail: "No active account found for the given token." }]);
        return;
      }
      for (const [path, field] of [["/api/token/refresh/", "refresh"], ["/api/token/verify/", "token"], ["/api/token/blacklist/", "refresh"], ["/api/token/sliding/refresh/", "token"]]) {
        const r = await issuer.call("POST", path, { json: { [field]: token } });
        assert.ok(r.status >= 400 && r.status < 500, `${path} ${r.status} ${JSON.stringify(r.json)}`);
        assert.equal(r.json.code, "token_not_valid", `${path} ${JSON.stringify(r.json)}`);
      }
      // Header values are bytes: a non-Latin-1 token cannot even be sent there.
      if (/^[\x00-\xff]*$/.test(token)) {
        const p = await issuer.call("GET", "/api/protected/", { token });
        assert.equal(p.status, 401);
      }
    });
  }

  test("authorization headers of every shape", async () => {
    for (const header of ["", " ", "Bearer", "Bearer  ", `Bearer ${pair.access} extra`, "Basic dXNlcjpwYXNz", "Bearer\t\t", "Bearer " + "x".repeat(9000), `JWT ${pair.access}`]) {
      const r = await issuer.call("GET", "/api/protected/", { headers: { Authorization: header } });
      assert.equal(r.status, 401, header.slice(0, 30));
      assert.equal(r.headers.get("www-authenticate"), 'Bearer realm="api"');
    }
  });

  test("unknown paths and methods", async () => {
    for (const path of ["/", "/api/", "/api/token", "/api/token/unknown/", "/../etc/passwd"]) {
      const r = await issuer.call("GET", path);
      assert.equal(r.status, 404, path);
      assert.deepEqual(r.json, { detail: "Not found." });
    }
    for (const method of ["PUT", "PATCH", "DELETE"]) {
      const r = await issuer.call(method, "/api/token/refresh/", { json: {} });
      assert.equal(r.status, 405);
      assert.deepEqual(r.json, { detail: `Method "${method}" not allowed.` });
    }
    const o = await issuer.call("OPTIONS", "/api/token/");
    assert.equal(o.status, 200);
    assert.equal(o.headers.get("allow"), "POST, OPTIONS");
  });

  test("nothing stored was lost or corrupted by all of the above", async () => {
    const r = await issuer.call("POST", "/api/token/refresh/", { json: { refresh: pair.refresh } });
    assert.equal(r.status, 200);
    const users = await issuer.db.prepare("SELECT username, is_active FROM users ORDER BY id").all();
    assert.deepEqual(users.results, [{ username: "alice", is_active: 1 }, { username: "bob", is_active: 0 }]);
  });
});

describe("settings", () => {
  test("a bad setting is a clear error naming it, never a crash", async () => {
    for (const [vars, setting] of [
      [{ ACCESS_TOKEN_LIFETIME: "5 minutes" }, "ACCESS_TOKEN_LIFETIME"],
      [{ SIGNING_KEY: "tiny-secret-value" }, "SIGNING_KEY"],
      [{ ALGORITHM: "none" }, "ALGORITHM"],
      [{ PASSWORD_HASH_ITERATIONS: "10" }, "PASSWORD_HASH_ITERATIONS"],
      [{ AUTH_EVENTS_RETENTION: "soon" }, "AUTH_EVENTS_RETENTION"],
      [{ LOG_LEVEL: "loud" }, "LOG_LEVEL"],
    ]) {
      const issuer = await startIssuer({ vars, seed: false });
      try {
        const r = await issuer.call("POST", "/api/token/", { json: { username: "a", password: "b" } });
        assert.equal(r.status, 500);
        assert.equal(r.json.code, "improperly_configured");
        assert.match(r.json.detail, new RegExp(setting));
        assert.doesNotMatch(r.json.detail, /tiny-secret-value/, "secret echoed");
        // The log names the setting too, and its value unless it is a key.
        assert.ok(await issuer.logged(new RegExp(`edgejwt: 500 improperly_configured: .*${setting}`)), "logged");
        assert.doesNotMatch(issuer.logs(), /tiny-secret-value/, "key logged");
      } finally {
        await issuer.stop();
      }
    }
  });

  // django.request's levels: a 4xx is a WARNING line, a 5xx an ERROR line (a D1 write that
  // fails); LOG_LEVEL is the least level written, INFO when unset.
  for (const [level, informs, warns, errs] of [[undefined, true, true, true], ["WARNING", false, true, true], ["error", false, false, true], ["CRITICAL", false, false, false]]) {
    test(`LOG_LEVEL=${level ?? "(unset)"}: the flush's report ${informs ? "written" : "not written"}, a 404's line ${warns ? "written" : "not written"}, a 500's ${errs ? "written" : "not written"}`, async () => {
      const issuer = await startIssuer({ vars: level === undefined ? {} : { LOG_LEVEL: level } });
      try {
        // The daily flush (INFO), first: it reads the configuration as a request does.
        await (await issuer.mf.getWorker()).scheduled({ cron: "17 3 * * *" });
        // The answers are the same at every level.
        const missing = await issuer.call("GET", "/nothing/");
        assert.equal(missing.status, 404);
        await issuer.db.prepare("CREATE TRIGGER logs_fault BEFORE INSERT ON sessions BEGIN SELECT RAISE(ABORT, 'injected fault: logs'); END").run();
        const failed = await issuer.call("POST", "/api/token/", { json: { username: "alice", password: "alice-password-1" } });
        assert.deepEqual([failed.status, failed.json], [500, { detail: "A server error occurred.", code: "server_error" }]);
        // Wait for the 500's line (written after the 404's), or a while when none is expected.
        assert.equal(await issuer.logged(/edgejwt: 500 server_error: [\s\S]*injected fault: logs/, errs ? 10000 : 1000), errs, "the 500's line");
        assert.equal(issuer.logs().includes("edgejwt: 404 not_found"), warns, "the 404's line");
        assert.equal(await issuer.logged(/edgejwt: flushed \d+ expired tokens/, informs ? 5000 : 0), informs, "the flush's report");
        assert.doesNotMatch(issuer.logs(), /alice-password-1/, "no password in the log");
      } finally {
        await issuer.stop();
      }
    });
  }

  test("lifetimes, header types and JWKS follow the settings", async () => {
    const issuer = await startIssuer({ vars: { ACCESS_TOKEN_LIFETIME: "90s", REFRESH_TOKEN_LIFETIME: "2h", AUTH_HEADER_TYPES: "JWT,Bearer" } });
    try {
      const pair = await issuer.login();
      const [a, r] = [claims(pair.access), claims(pair.refresh)];
      assert.equal(a.exp - a.iat, 90);
      assert.equal(r.exp - r.iat, 7200);
      assert.equal((await issuer.call("GET", "/api/protected/", { headers: { Authorization: `JWT ${pair.access}` } })).status, 200);
      const denied = await issuer.call("GET", "/api/protected/");
      assert.equal(denied.headers.get("www-authenticate"), 'JWT realm="api"');
      assert.deepEqual((await issuer.call("GET", "/api/token/jwks/")).json, { keys: [] });
    } finally {
      await issuer.stop();
    }
  });

  test("USER_ID_FIELD=username: tokens name the username; refresh rotates and checks that user", async () => {
    const issuer = await startIssuer({ vars: { USER_ID_FIELD: "username", REFRESH_TOKEN_REUSE_INTERVAL: "0" } });
    try {
      const pair = await issuer.login();
      assert.equal(claims(pair.access).user_id, "alice");
      assert.deepEqual((await issuer.call("GET", "/api/protected/", { token: pair.access })).json, { user_id: 1, username: "alice" });
      const r = await issuer.call("POST", "/api/token/refresh/", { json: { refresh: pair.refresh } });
      assert.equal(r.status, 200);
      assert.equal(claims(r.json.refresh).user_id, "alice");
      await issuer.db.prepare("UPDATE users SET is_active = 0 WHERE username = 'alice'").run();
      const inactive = await issuer.call("POST", "/api/token/refresh/", { json: { refresh: r.json.refresh } });
      assert.equal(inactive.status, 401);
      assert.deepEqual(inactive.json, { detail: "No active account found for the given token." });
      // The refused refresh wrote no blacklist row: reactivated, the token works once.
      await issuer.db.prepare("UPDATE users SET is_active = 1 WHERE username = 'alice'").run();
      assert.equal((await issuer.call("POST", "/api/token/refresh/", { json: { refresh: r.json.refresh } })).status, 200);
      // The first token, replayed: blacklisted (and, with no reuse interval, the session ends).
      const reuse = await issuer.call("POST", "/api/token/refresh/", { json: { refresh: pair.refresh } });
      assert.deepEqual(reuse.json, { detail: "Token is blacklisted", code: "token_not_valid" });
    } finally {
      await issuer.stop();
    }
  });
});
