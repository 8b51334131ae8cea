// The bad-input catalogue, beyond issuer.test.mjs's: duplicate keys, claims out of range,
// JWE-shaped tokens, `kid` and usernames with path and SQL characters, hostile cookies and
// headers in cookie mode. Each is a 4xx in simplejwt's (DRF's) JSON shape, never a 5xx, and
// nothing stored changes (every table compared before and after the whole catalogue).
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { REFERENCE_KEY, startIssuer } from "./harness.mjs";

const b64 = (v) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");
/** A token signed with the issuer's key, header and claims exactly as given (claims may be raw JSON text). */
function sign(claims, header = { alg: "HS256", typ: "JWT" }) {
  const input = `${b64(header)}.${typeof claims === "string" ? Buffer.from(claims).toString("base64url") : b64(claims)}`;
  return `${input}.${createHmac("sha256", REFERENCE_KEY).update(input).digest("base64url")}`;
}

async function tables(db) {
  const out = {};
  for (const t of ["users", "outstanding_tokens", "blacklisted_tokens", "sessions"]) {
    out[t] = (await db.prepare(`SELECT * FROM ${t} ORDER BY 1`).all()).results;
  }
  // Failed logins are recorded by design; every other event would be a change.
  out.events = (await db.prepare("SELECT * FROM auth_events WHERE event != 'login_failed' ORDER BY id").all()).results;
  return out;
}

function assert4xx(res, what) {
  assert.ok(res.status >= 400 && res.status < 500, `${what}: ${res.status} ${JSON.stringify(res.json)}`);
  assert.match(res.headers.get("content-type") ?? "", /^application\/json/, what);
  assert.equal(typeof res.json, "object", what);
}

describe("hostile input: a 4xx, nothing stored changed", () => {
  let issuer, pair, snapshot;
  const now = Math.floor(Date.now() / 1000);
  const base = { token_type: "refresh", exp: now + 600, iat: now, jti: "h".repeat(32), user_id: "1" };
  before(async () => {
    issuer = await startIssuer({ vars: { JWT_AUTH_REFRESH_COOKIE: "refresh", JWT_AUTH_HTTPONLY: "false" } });
    pair = await issuer.login();
    snapshot = await tables(issuer.db);
  });
  after(() => issuer.stop());

  test("duplicate keys: the last wins, as in Python's json (and DRF)", async () => {
    const r = await issuer.call("POST", "/api/token/", {
      body: '{"username":"alice","password":"alice-password-1","password":"wrong"}',
      headers: { "Content-Type": "application/json" },
    });
    assert.equal(r.status, 401);
    assert.deepEqual(r.json, { detail: "No active account found with the given credentials" });
  });

  test("usernames with SQL, path and control characters are just wrong usernames", async () => {
    for (const username of ["alice' OR '1'='1", "alice\"; DROP TABLE users; --", "../../etc/passwd", "%", "_", "alice%", "ALICE", "a".repeat(5000), "\u202ealice", "alice\u0000"]) {
      const r = await issuer.call("POST", "/api/token/", { json: { username, password: "alice-password-1" } });
      assert4xx(r, username.slice(0, 20));
    }
  });

  test("claims out of range: exp, iat and nbf huge, negative, fractional, exponent, not numbers", async () => {
    const cases = [
      ["exp 1e400 (infinity)", `{"token_type":"refresh","exp":1e400,"iat":${now},"jti":"a","user_id":"1"}`],
      ["exp 2^63", `{"token_type":"refresh","exp":9223372036854775808,"iat":${now},"jti":"a","user_id":"1"}`],
      ["exp 2^64 + 1", `{"token_type":"refresh","exp":18446744073709551617,"iat":${now},"jti":"a","user_id":"1"}`],
      ["exp -1", { ...base, exp: -1 }],
      ["exp NaN-like string", { ...base, exp: "NaN" }],
      ["exp true", { ...base, exp: true }],
      ["exp null", { ...base, exp: null }],
      ["iat 1e308", `{"token_type":"refresh","exp":${now + 600},"iat":1e308,"jti":"a","user_id":"1"}`],
      ["nbf far future", { ...base, nbf: 4e18 }],
      ["nbf -9e18", { ...base, nbf: -9e18, exp: -1 }],
      ["exp fractional past", { ...base, exp: now - 0.5 }],
      ["claims with a BOM", "\ufeff" + JSON.stringify(base)],
      ["claims nested 2000 deep", `{"token_type":"refresh","exp":${now + 600},"x":${"[".repeat(2000)}${"]".repeat(2000)}}`],
    ];
    for (const [name, claims] of cases) {
      const token = sign(claims);
      for (const [path, field] of [["/api/token/refresh/", "refresh"], ["/api/token/verify/", "token"], ["/api/token/blacklist/", "refresh"]]) {
        const r = await issuer.call("POST", path, { json: { [field]: token } });
        assert4xx(r, `${name} at ${path}`);
        assert.equal(r.json.code, "token_not_valid", `${name} at ${path}: ${JSON.stringify(r.json)}`);
      }
      assert.equal((await issuer.call("GET", "/api/protected/", { token })).status, 401, name);
    }
  });

  test("JWE-shaped, unsigned and header-tampered tokens", async () => {
    const jwe = `${b64({ alg: "RSA-OAEP", enc: "A256GCM" })}.${"a".repeat(40)}.${"b".repeat(16)}.${"c".repeat(40)}.${"d".repeat(22)}`;
    const cases = [
      ["JWE (5 parts)", jwe],
      ["JWE header, 3 parts", sign(base, { alg: "dir", enc: "A256GCM" })],
      ["alg none", `${b64({ alg: "none" })}.${b64(base)}.`],
      ["kid with a path", sign(base, { alg: "HS256", kid: "../../../../dev/null" }).replace(/.$/, (c) => (c === "A" ? "B" : "A"))],
      ["kid with SQL", sign(base, { alg: "HS256", kid: "' UNION SELECT password FROM users --" }).replace(/.$/, (c) => (c === "A" ? "B" : "A"))],
      ["crit", sign(base, { alg: "HS256", crit: ["exp"], exp: 1 })],
      ["jku and x5u", sign(base, { alg: "HS256", jku: "https://evil.example/jwks.json", x5u: "https://evil.example/x" }).slice(0, -2) + "zz"],
      ["header not JSON", `${Buffer.from("{alg:HS256}").toString("base64url")}.${b64(base)}.sig`],
      ["header an array", `${b64(["HS256"])}.${b64(base)}.sig`],
      ["padding in segments", sign(base).replace(/\./, "==.")],
      ["standard base64 alphabet", sign(base).replace(/-/g, "+").replace(/_/g, "/") + "+/"],
    ];
    for (const [name, token] of cases) {
      const r = await issuer.call("POST", "/api/token/refresh/", { json: { refresh: token } });
      assert4xx(r, name);
      assert.equal(r.status, 401, name);
      assert.equal(r.json.code, "token_not_valid", `${name}: ${JSON.stringify(r.json)}`);
    }
  });

  test("hostile cookies and CSRF headers in cookie mode", async () => {
    const refresh = (headers) => issuer.call("POST", "/api/token/refresh/", { json: {}, headers });
    const csrf = "a".repeat(32);
    const cases = [
      ["8 KiB of cookie garbage", { Cookie: "x".repeat(8 * 1024) }, 401],
      ["many cookies", { Cookie: Array.from({ length: 300 }, (_, i) => `c${i}=${i}`).join("; ") }, 401],
      ["an empty refresh cookie", { Cookie: "refresh=" }, 401],
      ["a garbage refresh cookie", { Cookie: `refresh=garbage; csrftoken=${csrf}`, "X-CSRFToken": csrf }, 401],
      ["a quoted refresh cookie", { Cookie: `refresh="${pair.refresh}x"; csrftoken=${csrf}`, "X-CSRFToken": csrf }, 401],
      ["semicolons and equals", { Cookie: `refresh==;=;;;==refresh; csrftoken=${csrf}`, "X-CSRFToken": csrf }, 401],
      ["Latin-1 CSRF token", { Cookie: `refresh=${pair.refresh}; csrftoken=${csrf}`, "X-CSRFToken": "é".repeat(32) }, 403],
      ["a CSRF token of 100 KiB", { Cookie: `refresh=${pair.refresh}; csrftoken=${csrf}`, "X-CSRFToken": "a".repeat(64 * 1024) }, 403],
      ["Origin with control characters", { Cookie: `refresh=${pair.refresh}; csrftoken=${csrf}`, "X-CSRFToken": csrf, Origin: "http://a\tb" }, 403],
      ["Origin null", { Cookie: `refresh=${pair.refresh}; csrftoken=${csrf}`, "X-CSRFToken": csrf, Origin: "null" }, 403],
    ];
    for (const [name, headers, status] of cases) {
      const r = await refresh(headers);
      assert4xx(r, name);
      assert.equal(r.status, status, `${name}: ${JSON.stringify(r.json)}`);
    }
  });

  test("hostile paths and methods", async () => {
    for (const [method, path] of [["GET", "/api/sessions/'%20OR%201=1/"], ["DELETE", "/api/sessions/%00/"], ["DELETE", "/api/sessions/../token/"], ["GET", "/api/token/%2e%2e/"], ["POST", "/api//token//"], ["PROPFIND", "/api/token/"], ["GET", "/" + "a/".repeat(2000)]]) {
      const r = await issuer.call(method, path, { token: pair.access });
      assert4xx(r, `${method} ${path.slice(0, 40)}`);
    }
  });

  test("every table is as it was (failed logins aside, which are recorded by design)", async () => {
    assert.deepEqual(await tables(issuer.db), snapshot);
    assert.equal((await issuer.call("POST", "/api/token/refresh/", { json: { refresh: pair.refresh } })).status, 200);
  });
});
