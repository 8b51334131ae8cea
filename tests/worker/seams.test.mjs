// Defects found where a rule was written twice or a request fails between two writes, each
// with the test that caught it: a logout whose KV write failed, an end of sessions whose KV
// write failed (logout everywhere, password change, DELETE, reuse detection), the flush
// inside LEEWAY, KV's 60-second floor, claim settings that overwrite registered claims, a
// non-string JTI_CLAIM, and 500 bodies that echoed settings.
// The issuer runs in workerd (Miniflare) with real local D1 and KV.
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { signHS256 } from "./contract-runner.mjs";
import { REFERENCE_KEY, claims, startIssuer, withIssuer } from "./harness.mjs";

const now = () => Math.floor(Date.now() / 1000);
const jti = () => crypto.randomUUID().replaceAll("-", "");

describe("a logout that failed half-way", () => {
  test("its retry writes the revocations the failed attempt did not", async () => {
    await withIssuer({ faultyKv: true }, async (issuer) => {
    const pair = await issuer.login();
    const { jti: id, sid } = claims(pair.refresh);
    await issuer.failKvPuts(true);
    const failed = await issuer.call("POST", "/api/token/blacklist/", { json: { refresh: pair.refresh } });
    assert.equal(failed.status, 500);
    assert.deepEqual(failed.json, { detail: "A server error occurred.", code: "server_error" });
    assert.equal(await issuer.kv.get(`revoked:${sid}`), null, "nothing reached KV");
    // D1 holds the blacklist row: the retry is simplejwt's "Token is blacklisted" …
    await issuer.failKvPuts(false);
    const retry = await issuer.call("POST", "/api/token/blacklist/", { json: { refresh: pair.refresh } });
    assert.equal(retry.status, 401);
    assert.deepEqual(retry.json, { detail: "Token is blacklisted", code: "token_not_valid" });
    // … and the session's tokens are now revoked for every verifier.
    assert.equal(await issuer.kv.get(`revoked:${id}`), "1");
    assert.equal(await issuer.kv.get(`revoked:${sid}`), "1");
    });
  });

  test("a token that is refused for another reason writes nothing", async () => {
    await withIssuer({}, async (issuer) => {
    const t = now();
    const access = signHS256({ token_type: "access", exp: t + 300, iat: t, jti: jti(), user_id: "1", sid: "s-access" }, REFERENCE_KEY);
    const r = await issuer.call("POST", "/api/token/blacklist/", { json: { refresh: access } });
    assert.deepEqual([r.status, r.json.detail], [401, "Token has wrong type"]);
    assert.equal(await issuer.kv.get("revoked:s-access"), null);
    });
  });
});

describe("an end of sessions whose KV write failed (kv_pending, the outbox in D1)", () => {
  // D1 ends the sessions, then the KV write fails (500). Found 2026-12-07: the retry found no
  // session left to end and wrote nothing, so verifiers with the REVOCATIONS binding accepted
  // those sessions' access tokens until they expired. Now the end marks the revocations pending
  // in its transaction; the retry, and the every-minute Cron Trigger, write what is pending.
  const pending = async (issuer) => {
    const s = await issuer.db.prepare("SELECT COUNT(*) AS n FROM sessions WHERE kv_pending = 1").first();
    const b = await issuer.db.prepare("SELECT COUNT(*) AS n FROM blacklisted_tokens WHERE kv_pending = 1").first();
    return s.n + b.n;
  };
  const minute = async (issuer) => (await issuer.mf.getWorker()).scheduled({ cron: "* * * * *" });
  const sid = (pair) => claims(pair.refresh).sid;

  test("logout everywhere: its retry writes the revocations the failed attempt did not", async () => {
    await withIssuer({ faultyKv: true }, async (issuer) => {
      const current = await issuer.login();
      const others = [await issuer.login(), await issuer.login()];
      await issuer.failKvPuts(true);
      const failed = await issuer.call("POST", "/api/sessions/revoke-all/", { token: current.access });
      assert.deepEqual([failed.status, failed.json], [500, { detail: "A server error occurred.", code: "server_error" }]);
      assert.equal(await issuer.kv.get(`revoked:${sid(others[0])}`), null, "nothing reached KV");
      assert.equal(await pending(issuer), 3, "the three ended sessions are marked in D1");
      await issuer.failKvPuts(false);
      // The retry ends nothing new (the sessions ended in D1) but writes what KV lacks.
      const retry = await issuer.call("POST", "/api/sessions/revoke-all/", { token: current.access });
      assert.deepEqual([retry.status, retry.json], [200, { revoked: 0 }]);
      for (const pair of [current, ...others]) assert.equal(await issuer.kv.get(`revoked:${sid(pair)}`), "1");
      assert.equal(await pending(issuer), 0, "written, the marks are cleared");
    });
  });

  test("a password change (no retry can follow: the old password changed): the minute's Cron writes them", async () => {
    await withIssuer({ faultyKv: true }, async (issuer) => {
      const current = await issuer.login();
      const other = await issuer.login();
      await issuer.failKvPuts(true);
      const json = { old_password: "alice-password-1", new_password1: "a-brand-new-Secret-9", new_password2: "a-brand-new-Secret-9" };
      const failed = await issuer.call("POST", "/api/password/change/", { token: current.access, json });
      assert.equal(failed.status, 500);
      await minute(issuer); // KV still failing: the marks stay
      assert.equal(await pending(issuer), 1);
      await issuer.failKvPuts(false);
      await minute(issuer);
      assert.equal(await issuer.kv.get(`revoked:${sid(other)}`), "1");
      assert.equal(await issuer.kv.get(`revoked:${sid(current)}`), null, "the current session stays");
      assert.equal(await pending(issuer), 0);
      assert.ok(issuer.logs().includes("edgejwt: wrote 1 pending revocations to KV"), "the Cron says what it wrote");
    });
  });

  test("the KV key written late expires as the one written on time would", async () => {
    await withIssuer({ faultyKv: true }, async (issuer) => {
      const current = await issuer.login();
      const other = await issuer.login();
      await issuer.failKvPuts(true);
      const t = now();
      assert.equal((await issuer.call("POST", "/api/sessions/revoke-all/", { token: current.access })).status, 500);
      await issuer.failKvPuts(false);
      await sleep(2100);
      await minute(issuer);
      const [key] = (await issuer.kv.list({ prefix: `revoked:${sid(other)}` })).keys;
      // A refresh and an access lifetime (86,400 + 300 s) from the end, not from the late write.
      assert.ok(key.expiration >= t + 86700 && key.expiration <= t + 86701, `expiration ${key.expiration - t}s after the end`);
    });
  });

  test("a revoked session (DELETE): the retry is 404, as the session is gone, and writes KV", async () => {
    await withIssuer({ faultyKv: true }, async (issuer) => {
      const current = await issuer.login();
      const other = await issuer.login();
      await issuer.failKvPuts(true);
      const path = `/api/sessions/${sid(other)}/`;
      assert.equal((await issuer.call("DELETE", path, { token: current.access })).status, 500);
      await issuer.failKvPuts(false);
      const retry = await issuer.call("DELETE", path, { token: current.access });
      assert.deepEqual([retry.status, retry.json], [404, { detail: "Not found." }]);
      assert.equal(await issuer.kv.get(`revoked:${sid(other)}`), "1");
      assert.equal(await pending(issuer), 0);
    });
  });

  test("reuse detection: the next replay of the ended session writes its revocation, before the minute's Cron", async () => {
    await withIssuer({ faultyKv: true, vars: { REFRESH_TOKEN_REUSE_INTERVAL: "0" } }, async (issuer) => {
      const pair = await issuer.login();
      const child = await issuer.call("POST", "/api/token/refresh/", { json: { refresh: pair.refresh } });
      assert.equal(child.status, 200);
      await issuer.failKvPuts(true);
      const replay = await issuer.call("POST", "/api/token/refresh/", { json: { refresh: pair.refresh } });
      assert.equal(replay.status, 500);
      const row = await issuer.db.prepare("SELECT revoked_reason FROM sessions WHERE sid = ?1").bind(sid(pair)).first();
      assert.equal(row.revoked_reason, "reuse_detected", "D1 ended the session");
      await issuer.failKvPuts(false);
      // Found 2026-12-07: this replay wrote nothing, so the session's access tokens passed
      // every verifier with the REVOCATIONS binding until the minute's Cron.
      const again = await issuer.call("POST", "/api/token/refresh/", { json: { refresh: pair.refresh } });
      assert.deepEqual([again.status, again.json.detail], [401, "Token is blacklisted"]);
      assert.equal(await issuer.kv.get(`revoked:${sid(pair)}`), "1");
      assert.equal(await pending(issuer), 0);
      const events = await issuer.db.prepare("SELECT COUNT(*) AS n FROM auth_events WHERE sid = ?1 AND event = 'reuse_detected'").bind(sid(pair)).first();
      assert.equal(events.n, 1, "the session was ended once");
    });
  });

  test("a replay of the ended session while KV still fails: 401, not 500, and the Cron writes it later", async () => {
    await withIssuer({ faultyKv: true, vars: { REFRESH_TOKEN_REUSE_INTERVAL: "0" } }, async (issuer) => {
      const pair = await issuer.login();
      assert.equal((await issuer.call("POST", "/api/token/refresh/", { json: { refresh: pair.refresh } })).status, 200);
      await issuer.failKvPuts(true);
      assert.equal((await issuer.call("POST", "/api/token/refresh/", { json: { refresh: pair.refresh } })).status, 500);
      const again = await issuer.call("POST", "/api/token/refresh/", { json: { refresh: pair.refresh } });
      assert.deepEqual([again.status, again.json.detail], [401, "Token is blacklisted"]);
      assert.equal(await issuer.kv.get(`revoked:${sid(pair)}`), null);
      assert.equal(await pending(issuer), 1);
      await issuer.failKvPuts(false);
      await minute(issuer);
      assert.equal(await issuer.kv.get(`revoked:${sid(pair)}`), "1");
      assert.equal(await pending(issuer), 0);
    });
  });

  // The same path for a session ended otherwise: logout everywhere whose KV write failed,
  // then a refresh with one of the ended sessions' tokens. Found 2026-12-07: without atomic
  // rotation the refresh did not look the session up, so it wrote nothing (the Cron did).
  const rotations = ["true", "false"].flatMap((r) => ["true", "false"].map((b) => ({ ROTATE_REFRESH_TOKENS: r, BLACKLIST_AFTER_ROTATION: b })));
  for (const vars of rotations) {
    test(`logout everywhere that failed, then a refresh with an ended session's token writes that session, ${JSON.stringify(vars)}`, async () => {
      await withIssuer({ faultyKv: true, vars }, async (issuer) => {
        const current = await issuer.login();
        const other = await issuer.login();
        await issuer.failKvPuts(true);
        const failed = await issuer.call("POST", "/api/sessions/revoke-all/", { token: current.access });
        assert.equal(failed.status, 500);
        assert.equal(await pending(issuer), 2);
        await issuer.failKvPuts(false);
        const r = await issuer.call("POST", "/api/token/refresh/", { json: { refresh: other.refresh } });
        assert.deepEqual([r.status, r.json], [401, { detail: "Token is blacklisted", code: "token_not_valid" }]);
        assert.equal(await issuer.kv.get(`revoked:${sid(other)}`), "1", "the refreshed session is written");
        assert.equal(await issuer.kv.get(`revoked:${sid(current)}`), null, "the other stays for its retry or the Cron");
        assert.equal(await pending(issuer), 1);
        const row = await issuer.db.prepare("SELECT revoked_reason FROM sessions WHERE sid = ?1").bind(sid(other)).first();
        assert.equal(row.revoked_reason, "logout_all", "the end's reason stands");
        const events = await issuer.db.prepare("SELECT event FROM auth_events WHERE sid = ?1 AND event IN ('logout_all', 'reuse_detected')").bind(sid(other)).all();
        assert.deepEqual(events.results.map((e) => e.event), ["logout_all"], "ended once, by the logout");
      });
    });
  }

  test("sessionless refresh tokens: the retry of logout everywhere writes their jti", async () => {
    await withIssuer({ faultyKv: true, vars: { SESSION_CLAIM: "" } }, async (issuer) => {
      const pairs = [await issuer.login(), await issuer.login()];
      await issuer.failKvPuts(true);
      assert.equal((await issuer.call("POST", "/api/sessions/revoke-all/", { token: pairs[0].access })).status, 500);
      assert.equal(await pending(issuer), 2);
      await issuer.failKvPuts(false);
      const retry = await issuer.call("POST", "/api/sessions/revoke-all/", { token: pairs[0].access });
      assert.deepEqual([retry.status, retry.json], [200, { revoked: 0 }]);
      for (const pair of pairs) assert.equal(await issuer.kv.get(`revoked:${claims(pair.refresh).jti}`), "1");
      assert.equal(await pending(issuer), 0);
    });
  });

  test("an end whose KV write worked leaves nothing pending; the minute's Cron does not flush", async () => {
    await withIssuer({ vars: { LEEWAY: "0" } }, async (issuer) => {
      const current = await issuer.login();
      await issuer.login();
      assert.equal((await issuer.call("POST", "/api/sessions/revoke-all/", { token: current.access })).status, 200);
      assert.equal(await pending(issuer), 0);
      const t = now();
      const expired = signHS256({ token_type: "refresh", exp: t - 10, iat: t - 3600, jti: jti(), user_id: "1" }, REFERENCE_KEY);
      await issuer.db.prepare("INSERT INTO outstanding_tokens (jti, user_id, created_at, expires_at) VALUES (?1, 1, ?2, ?3)")
        .bind(claims(expired).jti, t - 3600, t - 10).run();
      const count = async () => (await issuer.db.prepare("SELECT COUNT(*) AS n FROM outstanding_tokens WHERE jti = ?1").bind(claims(expired).jti).first()).n;
      await minute(issuer);
      assert.equal(await count(), 1, "the minute's run flushes nothing");
      await (await issuer.mf.getWorker()).scheduled({ cron: "17 3 * * *" });
      assert.equal(await count(), 0, "the daily one does");
    });
  });

  test("a backlog larger than one run (KV down a long time) drains over several runs, 200 sessions and 200 tokens each", async () => {
    await withIssuer({}, async (issuer) => {
      const t = now();
      // 450 ended sessions and 230 sessionless blacklisted tokens, all pending, as D1 holds them
      // after ends whose KV writes failed.
      const count = (n) => `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${n})`;
      await issuer.db.batch([
        issuer.db.prepare(`INSERT INTO sessions (sid, user_id, created_at, last_used_at, revoked_at, revoked_reason, kv_pending) ${count(450)} SELECT 'backlog-' || i, 1, ?1, ?1, ?1, 'logout_all', 1 FROM n`).bind(t),
        issuer.db.prepare(`INSERT INTO outstanding_tokens (jti, user_id, created_at, expires_at) ${count(230)} SELECT 'backlog-jti-' || i, 1, ?1, ?1 + 3600 FROM n`).bind(t),
        issuer.db.prepare(`INSERT INTO blacklisted_tokens (jti, blacklisted_at, expires_at, kv_pending) ${count(230)} SELECT 'backlog-jti-' || i, ?1, ?1 + 3600, 1 FROM n`).bind(t),
      ]);
      assert.equal(await pending(issuer), 680);
      const written = async () => (await issuer.kv.list({ prefix: "revoked:backlog-" })).keys.length;
      await minute(issuer);
      assert.deepEqual([await pending(issuer), await written()], [280, 400], "one run: 200 of each");
      await minute(issuer);
      assert.deepEqual([await pending(issuer), await written()], [50, 630], "the second: the 30 tokens left and 200 sessions");
      await minute(issuer);
      assert.deepEqual([await pending(issuer), await written()], [0, 680], "the third: the last 50 sessions");
      for (const key of ["revoked:backlog-1", "revoked:backlog-450", "revoked:backlog-jti-1", "revoked:backlog-jti-230"]) assert.equal(await issuer.kv.get(key), "1", key);
      assert.ok(issuer.logs().includes("edgejwt: wrote 400 pending revocations to KV"));
      await minute(issuer);
      assert.equal(await written(), 680, "a run with nothing pending writes nothing");
    });
  });
});

describe("revocations and the flush follow LEEWAY and KV's limits", () => {
  test("the daily flush keeps a blacklisted token until exp + LEEWAY", async () => {
    await withIssuer({ vars: { LEEWAY: "120" } }, async (issuer) => {
    const t = now();
    // Expired 60 s ago: still accepted inside the 120 s leeway, so still blacklisted.
    const refresh = signHS256({ token_type: "refresh", exp: t - 60, iat: t - 3600, jti: jti(), user_id: "1" }, REFERENCE_KEY);
    const out = await issuer.call("POST", "/api/token/blacklist/", { json: { refresh } });
    assert.equal(out.status, 200, JSON.stringify(out.json));
    await (await issuer.mf.getWorker()).scheduled({ cron: "17 3 * * *" });
    const again = await issuer.call("POST", "/api/token/refresh/", { json: { refresh } });
    assert.deepEqual([again.status, again.json.detail], [401, "Token is blacklisted"]);
    });
  });

  test("a token that expires in 30 s is revoked in KV (above KV's 60 s floor)", async () => {
    await withIssuer({}, async (issuer) => {
    const t = now();
    const refresh = signHS256({ token_type: "refresh", exp: t + 30, iat: t, jti: jti(), user_id: "1", sid: `s-${jti()}` }, REFERENCE_KEY);
    const out = await issuer.call("POST", "/api/token/blacklist/", { json: { refresh } });
    assert.equal(out.status, 200, JSON.stringify(out.json));
    const { jti: id, sid } = claims(refresh);
    assert.equal(await issuer.kv.get(`revoked:${id}`), "1");
    const listed = await issuer.kv.list({ prefix: `revoked:${sid}` });
    assert.equal(listed.keys.length, 1);
    // The session outlives its refresh token by one access lifetime (access tokens derived
    // just before logout): its revocation lasts at least that long.
    assert.ok(listed.keys[0].expiration >= t + 300, `expiration ${listed.keys[0].expiration - t}s ahead`);
    });
  });
});

describe("settings that would overwrite token claims, or name nothing, are refused", () => {
  for (const [vars, setting] of [
    [{ TOKEN_CLAIMS: "email,user_id" }, "TOKEN_CLAIMS"],
    [{ TOKEN_CLAIMS: "token_type" }, "TOKEN_CLAIMS"],
    [{ TOKEN_CLAIMS: "exp" }, "TOKEN_CLAIMS"],
    [{ TOKEN_CLAIMS: "jti" }, "TOKEN_CLAIMS"],
    [{ SESSION_CLAIM: "user_id" }, "SESSION_CLAIM"],
    [{ SESSION_CLAIM: "jti" }, "SESSION_CLAIM"],
    [{ SESSION_CLAIM: "exp" }, "SESSION_CLAIM"],
    [{ USER_ID_FIELD: "email" }, "USER_ID_FIELD"],
  ]) {
    test(`${JSON.stringify(vars)} → 500 improperly_configured naming ${setting}`, async () => {
      await withIssuer({ vars, seed: false }, async (issuer) => {
      const r = await issuer.call("POST", "/api/token/", { json: { username: "a", password: "b" } });
      assert.equal(r.status, 500);
      assert.equal(r.json.code, "improperly_configured");
      assert.match(r.json.detail, new RegExp(`^edgejwt is misconfigured: ${setting}: `));
      });
    });
  }

  test("the 500 body never carries a setting's value (a private key pasted into VERIFYING_KEY)", async () => {
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const pem = privateKey.export({ type: "pkcs8", format: "pem" });
    const { privateKey: signing } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    for (const vars of [
      { ALGORITHM: "ES256", SIGNING_KEY: signing.export({ type: "pkcs8", format: "pem" }), VERIFYING_KEY: pem },
      { ACCESS_TOKEN_LIFETIME: "five-minutes-please" },
      { AUDIENCE: "api", USER_ID_CLAIM: "exp-but-not-really!!" },
    ]) {
      await withIssuer({ vars, seed: false }, async (issuer) => {
      const r = await issuer.call("POST", "/api/token/", { json: { username: "a", password: "b" } });
      assert.equal(r.status, 500);
      const text = JSON.stringify(r.json);
      for (const value of Object.values(vars)) {
        for (const line of value.split("\n").filter((l) => l.length > 8 && !l.startsWith("-----"))) {
          assert.ok(!text.includes(line), `${text} echoes a setting's value`);
        }
      }
      assert.equal(r.json.code, "improperly_configured");
      });
    }
  });
});

describe("JTI_CLAIM", () => {
  test("a token whose JTI_CLAIM is not a string is invalid, so it cannot skip the blacklist", async () => {
    await withIssuer({ vars: { JTI_CLAIM: "token_id" } }, async (issuer) => {
    const t = now();
    for (const id of [12345, { x: 1 }, ["a"], true]) {
      const refresh = signHS256({ token_type: "refresh", exp: t + 3600, iat: t, token_id: id, user_id: "1" }, REFERENCE_KEY);
      for (const path of ["/api/token/refresh/", "/api/token/blacklist/"]) {
        const r = await issuer.call("POST", path, { json: { refresh } });
        assert.deepEqual([r.status, r.json], [401, { detail: "Token is invalid", code: "token_not_valid" }], `${path} ${JSON.stringify(id)}`);
      }
    }
    // A string one works, and logging out blacklists it for good.
    const pair = await issuer.login();
    assert.equal(typeof claims(pair.refresh).token_id, "string");
    assert.equal((await issuer.call("POST", "/api/token/blacklist/", { json: { refresh: pair.refresh } })).status, 200);
    const r = await issuer.call("POST", "/api/token/refresh/", { json: { refresh: pair.refresh } });
    assert.deepEqual([r.status, r.json.detail], [401, "Token is blacklisted"]);
    });
  });
});
