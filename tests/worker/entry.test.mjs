// The issuer's own entry path (crates/worker/src/lib.rs, response.rs): the route table (a
// `match` on the path with matchit's rules), answers returned synchronously when no I/O is
// awaited and as a Promise otherwise, and the Response made in JS from wasm's status,
// headers and body.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startIssuer } from "./harness.mjs";

/** Every route and its view's DRF name (OPTIONS answers it before anything else). */
const ROUTES = {
  "/api/token/": "Token Obtain Pair",
  "/api/token/refresh/": "Token Refresh",
  "/api/token/verify/": "Token Verify",
  "/api/token/blacklist/": "Token Blacklist",
  "/api/token/sliding/": "Token Obtain Sliding",
  "/api/token/sliding/refresh/": "Token Refresh Sliding",
  "/api/protected/": "Protected",
  "/api/token/jwks/": "JWKS",
  "/.well-known/jwks.json": "JWKS",
  "/api/sessions/": "Sessions",
  "/api/sessions/revoke-all/": "Revoke All Sessions",
  "/api/sessions/3f2a9c/": "Session",
  "/api/password/change/": "Password Change",
};

/** What every answer carries, as a Django + DRF project sends it. */
const DRF_HEADERS = {
  vary: "Accept",
  "x-frame-options": "DENY",
  "x-content-type-options": "nosniff",
  "referrer-policy": "same-origin",
  "cross-origin-opener-policy": "same-origin",
  "cache-control": "no-store",
};

function assertDrfHeaders(headers, allow, what) {
  for (const [name, value] of Object.entries(DRF_HEADERS)) assert.equal(headers.get(name), value, `${what}: ${name}`);
  assert.equal(headers.get("allow"), allow, `${what}: allow`);
}

let issuer;
before(async () => (issuer = await startIssuer()));
after(() => issuer.stop());

describe("the route table", () => {
  for (const [path, name] of Object.entries(ROUTES)) {
    test(`${path} is the ${name} view`, async () => {
      const r = await issuer.call("OPTIONS", path);
      assert.equal(r.status, 200);
      assert.equal(r.json.name, name);
    });
  }

  test("a query string does not change the route", async () => {
    assert.equal((await issuer.call("OPTIONS", "/api/token/verify/?next=/x/&a=1")).json.name, "Token Verify");
  });

  test("near misses are DRF's 404 with every header: no trailing slash, another case, an extra or empty segment", async () => {
    const misses = ["/", "/api/token", "/API/TOKEN/", "/api/token/x/", "/api/token//", "/api/sessions//", "/api/sessions/a/b/", "/api/sessions/a", "/.well-known/jwks.json/", "/api/token%2F"];
    for (const path of misses) {
      const r = await issuer.call("GET", path);
      assert.equal(r.status, 404, path);
      assert.deepEqual(r.json, { detail: "Not found." }, path);
      assert.equal(r.headers.get("content-type"), "application/json", path);
      assertDrfHeaders(r.headers, "POST, OPTIONS", path);
    }
  });
});

describe("answers built in JS from wasm's status, headers and body", () => {
  test("a 405 names the method and the view's Allow", async () => {
    const r = await issuer.call("PUT", "/api/token/verify/", { json: {} });
    assert.equal(r.status, 405);
    assert.deepEqual(r.json, { detail: 'Method "PUT" not allowed.' });
    assertDrfHeaders(r.headers, "POST, OPTIONS", "405");
  });

  test("HEAD: GET's status and headers, no body", async () => {
    const get = await fetch(`${issuer.base}/api/token/jwks/`);
    const head = await fetch(`${issuer.base}/api/token/jwks/`, { method: "HEAD" });
    assert.equal(head.status, get.status);
    assert.equal(await head.text(), "");
    assert.notEqual(await get.text(), "");
    // Framing headers aside (the runtime's to choose), the same headers.
    const framing = ["content-length", "transfer-encoding", "content-encoding"];
    const own = (headers) => [...headers].filter(([name]) => !framing.includes(name));
    assert.deepEqual(own(head.headers), own(get.headers));
    assert.equal(head.headers.get("allow"), "GET, HEAD, OPTIONS");
  });

  test("a 401 carries WWW-Authenticate; a body's length is its UTF-8 bytes'", async () => {
    const r = await issuer.call("GET", "/api/protected/", { headers: { Authorization: "Bearer not-a-token" } });
    assert.equal(r.status, 401);
    assert.equal(r.headers.get("www-authenticate"), 'Bearer realm="api"');
    // Without Accept-Encoding (Miniflare would gzip and chunk the answer).
    const bad = await fetch(`${issuer.base}/api/token/`, { method: "POST", headers: { "Content-Type": "application/json", "Accept-Encoding": "identity" }, body: JSON.stringify({ username: "zoë ☃ 𝄞", password: "wrong-password" }) });
    const text = await bad.text();
    assert.equal(bad.status, 401, text);
    assert.equal(bad.headers.get("content-length"), String(Buffer.byteLength(text)));
  });

  test("answers with and without I/O, interleaved, each get their own", async () => {
    const { access, refresh } = await issuer.login();
    const kinds = [
      [() => issuer.call("GET", "/nothing/"), (r) => r.status === 404 && r.json.detail === "Not found."],
      [() => issuer.call("OPTIONS", "/api/token/refresh/"), (r) => r.status === 200 && r.json.name === "Token Refresh"],
      [() => issuer.call("POST", "/api/token/verify/", { json: { token: access } }), (r) => r.status === 200 && JSON.stringify(r.json) === "{}"],
      [() => issuer.call("POST", "/api/token/verify/", { json: { token: access + "x" } }), (r) => r.status === 401 && r.json.code === "token_not_valid"],
      [() => issuer.call("GET", "/api/protected/", { token: access }), (r) => r.status === 200 && r.json.username === "alice"],
      [() => issuer.call("POST", "/api/token/", { body: "{", headers: { "Content-Type": "application/json" } }), (r) => r.status === 400 && r.json.detail.startsWith("JSON parse error")],
    ];
    const sent = Array.from({ length: 60 }, (_, i) => kinds[i % kinds.length]);
    const answers = await Promise.all(sent.map(([send]) => send()));
    answers.forEach((r, i) => assert.ok(sent[i][1](r), `request ${i}: ${r.status} ${JSON.stringify(r.json)}`));
    // And one that writes (a rotation: D1 and KV), then a synchronous answer right after.
    const rotated = await issuer.call("POST", "/api/token/refresh/", { json: { refresh } });
    assert.equal(rotated.status, 200, JSON.stringify(rotated.json));
    assert.notEqual(rotated.json.refresh, refresh);
    assert.equal((await issuer.call("GET", "/nothing/")).status, 404);
  });
});

describe("several values of one header", () => {
  let browser;
  before(async () => (browser = await startIssuer({ vars: { JWT_AUTH_REFRESH_COOKIE: "refresh", CSRF_TRUSTED_ORIGINS: "https://app.example", CORS_ALLOWED_ORIGINS: "https://app.example", CORS_ALLOW_CREDENTIALS: "true" } })));
  after(() => browser.stop());

  test("two cookies are two Set-Cookie headers; CORS adds Origin to Vary and its own headers", async () => {
    const r = await browser.call("POST", "/api/token/", { json: { username: "alice", password: "alice-password-1" }, headers: { Origin: "https://app.example" } });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    const cookies = r.headers.getSetCookie().map((c) => c.split("=")[0]).sort();
    assert.deepEqual(cookies, ["csrftoken", "refresh"]);
    assert.equal(r.headers.get("vary"), "Accept, Origin");
    assert.equal(r.headers.get("access-control-allow-origin"), "https://app.example");
    assert.equal(r.headers.get("access-control-allow-credentials"), "true");
  });

  test("a preflight is answered before any view: 200, no body, CORS headers only", async () => {
    const r = await fetch(`${browser.base}/nothing/`, { method: "OPTIONS", headers: { Origin: "https://app.example", "Access-Control-Request-Method": "POST" } });
    assert.equal(r.status, 200);
    assert.equal(await r.text(), "");
    assert.equal(r.headers.get("vary"), "Origin");
    assert.equal(r.headers.get("access-control-allow-origin"), "https://app.example");
    assert.equal(r.headers.get("allow"), null);
  });
});
