// D1's read replicas through its Sessions API (`D1_READ_REPLICAS`): off by default; on, every
// statement runs in a D1 session, answers carry the session's bookmark (`X-D1-Bookmark`), a
// request's bookmark starts its reads, and rotation keeps one winner. Miniflare's D1 has
// sessions and bookmarks but no replicas: the plumbing is tested here, replica lag is not.
// The SPA client carrying the bookmark is tested in tests/pkg/edge-client.test.mjs.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { assertOneRotationWins, claims, startIssuer } from "./harness.mjs";

const BOOKMARK = "x-d1-bookmark";
// D1's bookmarks are fixed-width hex groups, so their order is the order of the text.
const SHAPE = /^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32}$/;

describe("D1_READ_REPLICAS off (the default)", () => {
  let issuer;
  before(async () => (issuer = await startIssuer()));
  after(() => issuer.stop());

  test("no answer carries a bookmark, and one sent is ignored", async () => {
    const login = await issuer.call("POST", "/api/token/", { json: { username: "alice", password: "alice-password-1" } });
    assert.equal(login.status, 200);
    const headers = { "X-D1-Bookmark": "00000000-00000001-00000000-00000000000000000000000000000000" };
    const answers = [
      login,
      await issuer.call("POST", "/api/token/refresh/", { json: { refresh: login.json.refresh }, headers }),
      await issuer.call("POST", "/api/token/verify/", { json: { token: login.json.access }, headers }),
      await issuer.call("GET", "/api/protected/", { token: login.json.access, headers }),
    ];
    assert.deepEqual(answers.map((a) => a.status), [200, 200, 200, 200]);
    for (const a of answers) assert.equal(a.headers.get(BOOKMARK), null);
  });
});

describe("D1_READ_REPLICAS on", () => {
  let issuer;
  before(async () => (issuer = await startIssuer({ vars: { D1_READ_REPLICAS: "true", REFRESH_TOKEN_REUSE_INTERVAL: "0" } })));
  after(() => issuer.stop());

  const bookmark = (answer) => {
    const b = answer.headers.get(BOOKMARK);
    assert.match(b ?? "", SHAPE, `bookmark of a ${answer.status}`);
    return b;
  };

  test("writes move the bookmark forward; reads started from one answer one at least as recent", async () => {
    const login = await issuer.call("POST", "/api/token/", { json: { username: "alice", password: "alice-password-1" } });
    assert.equal(login.status, 200);
    const afterLogin = bookmark(login);
    const headers = { "X-D1-Bookmark": afterLogin };
    const rotated = await issuer.call("POST", "/api/token/refresh/", { json: { refresh: login.json.refresh }, headers });
    assert.equal(rotated.status, 200);
    const afterRotation = bookmark(rotated);
    assert.ok(afterRotation > afterLogin, `${afterRotation} after ${afterLogin}`);
    // Read-only views: the rotated-out token is blacklisted as seen from the bookmark on.
    const verify = await issuer.call("POST", "/api/token/verify/", { json: { token: login.json.refresh }, headers: { "X-D1-Bookmark": afterRotation } });
    assert.deepEqual([verify.status, verify.json], [400, { non_field_errors: ["Token is blacklisted"] }]);
    assert.ok(bookmark(verify) >= afterRotation);
    const protectedAnswer = await issuer.call("GET", "/api/protected/", { token: rotated.json.access, headers: { "X-D1-Bookmark": afterRotation } });
    assert.equal(protectedAnswer.status, 200);
    assert.ok(bookmark(protectedAnswer) >= afterRotation);
    const sessions = await issuer.call("GET", "/api/sessions/", { token: rotated.json.access, headers: { "X-D1-Bookmark": afterRotation } });
    assert.equal(sessions.status, 200);
    assert.deepEqual(sessions.json.map((s) => s.sid), [claims(rotated.json.refresh).sid]);
    // Logout is a write on the primary: its bookmark is past the rotation's.
    const logout = await issuer.call("POST", "/api/token/blacklist/", { json: { refresh: rotated.json.refresh }, headers: { "X-D1-Bookmark": afterRotation } });
    assert.equal(logout.status, 200);
    assert.ok(bookmark(logout) > afterRotation);
    const listed = await issuer.call("GET", "/api/sessions/", { token: rotated.json.access, headers: { "X-D1-Bookmark": bookmark(logout) } });
    assert.deepEqual([listed.status, listed.json], [200, []], "read from the logout's bookmark on: the session has ended");
    assert.ok(bookmark(listed) >= bookmark(logout));
  });

  test("a bookmark that is not D1's is ignored, never an error", async () => {
    const { access } = await issuer.login();
    for (const bad of ["not a bookmark", "'; DROP TABLE users; --", "f".repeat(129), "", "00000000-00000001", "0000000G-00000001-00000000-00000000000000000000000000000000", "00000000-00000001-00000000-00000000000000000000000000000000-0"]) {
      const r = await issuer.call("POST", "/api/token/verify/", { json: { token: access }, headers: { "X-D1-Bookmark": bad } });
      assert.equal(r.status, 200, JSON.stringify(bad));
      assert.equal(r.headers.get(BOOKMARK), null, "a verify of an access token reads nothing from D1");
      const p = await issuer.call("GET", "/api/protected/", { token: access, headers: { "X-D1-Bookmark": bad } });
      assert.equal(p.status, 200, JSON.stringify(bad));
      bookmark(p);
    }
  });

  test("a failed login and a 401 after a lookup carry the bookmark too", async () => {
    const failed = await issuer.call("POST", "/api/token/", { json: { username: "alice", password: "wrong" } });
    assert.equal(failed.status, 401);
    bookmark(failed);
    // No D1 statement at all (a 404, the JWK Set, a malformed token): no bookmark.
    assert.equal((await issuer.call("GET", "/nowhere/")).headers.get(BOOKMARK), null);
    const malformed = await issuer.call("POST", "/api/token/refresh/", { json: { refresh: "x.y.z" } });
    assert.equal(malformed.status, 401);
    assert.equal(malformed.headers.get(BOOKMARK), null);
  });

  test("one of 10 concurrent refreshes wins; the replays end the session", async () => {
    await assertOneRotationWins(issuer, 10);
  });
});

test("a SPA on another origin may send the bookmark and read it (CORS), only with D1_READ_REPLICAS on", async () => {
  const origin = "https://app.example";
  const preflight = { Origin: origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type, x-d1-bookmark" };
  for (const on of [true, false]) {
    const vars = { CORS_ALLOWED_ORIGINS: origin, ...(on ? { D1_READ_REPLICAS: "true" } : {}) };
    const issuer = await startIssuer({ vars });
    try {
      const options = await issuer.call("OPTIONS", "/api/token/refresh/", { headers: preflight });
      assert.equal(options.status, 200);
      const allowed = (options.headers.get("access-control-allow-headers") ?? "").split(", ");
      assert.equal(allowed.includes(BOOKMARK), on, `allowed: ${allowed}`);
      const login = await issuer.call("POST", "/api/token/", { json: { username: "alice", password: "alice-password-1" }, headers: { Origin: origin } });
      assert.equal(login.status, 200);
      assert.equal(login.headers.get("access-control-expose-headers"), on ? "X-D1-Bookmark" : null);
      assert.equal(login.headers.get(BOOKMARK) !== null, on);
    } finally {
      await issuer.stop();
    }
  }
});

test("D1_READ_REPLICAS must be a boolean: anything else names the setting (500, improperly configured)", async () => {
  const issuer = await startIssuer({ vars: { D1_READ_REPLICAS: "sometimes" } });
  try {
    const r = await issuer.call("POST", "/api/token/", { json: { username: "alice", password: "alice-password-1" } });
    assert.equal(r.status, 500);
    assert.equal(r.json.code, "improperly_configured");
    assert.match(r.json.detail, /D1_READ_REPLICAS/);
    assert.doesNotMatch(JSON.stringify(r.json), /sometimes/, "the value is not echoed");
  } finally {
    await issuer.stop();
  }
});
