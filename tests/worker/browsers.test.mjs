// Browsers: cookie mode (dj-rest-auth's settings), Django's CSRF check, CORS
// (django-cors-headers' settings) and login throttling in a Durable Object — the issuer in
// workerd with real local D1, KV and a SQLite-backed Durable Object.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { claims, startIssuer, withIssuer } from "./harness.mjs";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const COOKIE = "refresh";
const COOKIE_MODE = { JWT_AUTH_REFRESH_COOKIE: COOKIE, CSRF_TRUSTED_ORIGINS: "http://localhost:8788" };

/** The cookies a response sets: name → { value, attributes (lower-cased names) }. */
function setCookies(res) {
  const out = {};
  for (const line of res.headers.getSetCookie()) {
    const [pair, ...attrs] = line.split(/;\s*/);
    const eq = pair.indexOf("=");
    const attributes = {};
    for (const a of attrs) {
      const [k, v = true] = a.split("=");
      attributes[k.toLowerCase()] = v;
    }
    out[pair.slice(0, eq)] = { value: pair.slice(eq + 1), attributes, line };
  }
  return out;
}

/** A browser's cookie jar, just enough for one origin. */
class Jar {
  cookies = {};
  take(res) {
    for (const [name, c] of Object.entries(setCookies(res))) {
      if (c.attributes["max-age"] === "0") delete this.cookies[name];
      else this.cookies[name] = c.value;
    }
    return res;
  }
  header() {
    return Object.entries(this.cookies).map(([k, v]) => `${k}=${v}`).join("; ");
  }
}

/** A browser's login, refresh and logout in cookie mode, from `origin` (the issuer's own by default). */
function browserOf(issuer, origin = issuer.base) {
  const jar = new Jar();
  const headers = (extra = {}) => ({ Origin: origin, Cookie: jar.header(), ...extra });
  return {
    jar,
    async login(username = "alice", password = "alice-password-1") {
      return jar.take(await issuer.call("POST", "/api/token/", { json: { username, password }, headers: headers() }));
    },
    async post(path, extra = {}) {
      const csrf = jar.cookies.csrftoken;
      const h = headers(csrf ? { "X-CSRFToken": csrf, ...extra } : extra);
      return jar.take(await issuer.call("POST", path, { json: {}, headers: h }));
    },
  };
}

describe("cookie mode", () => {
  let issuer;
  before(async () => (issuer = await startIssuer({ vars: { ...COOKIE_MODE, REFRESH_TOKEN_REUSE_INTERVAL: "0" } })));
  after(() => issuer.stop());

  test("login sets the refresh cookie (HttpOnly; Secure; SameSite=Lax; Path=/api/; Max-Age = its life) and a csrftoken readable by scripts; the body has no refresh token", async () => {
    const res = await browserOf(issuer).login();
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.equal(res.json.refresh, "", "dj-rest-auth's body with JWT_AUTH_HTTPONLY");
    assert.equal(claims(res.json.access).token_type, "access");
    const set = setCookies(res);
    const refresh = set[COOKIE];
    assert.equal(claims(refresh.value).token_type, "refresh");
    assert.equal(claims(refresh.value).sid, claims(res.json.access).sid);
    assert.deepEqual(
      { ...refresh.attributes },
      { httponly: true, secure: true, samesite: "Lax", path: "/api/", "max-age": "86400" },
      refresh.line,
    );
    const csrf = set.csrftoken;
    assert.match(csrf.value, /^[a-zA-Z0-9]{32}$/);
    assert.deepEqual({ ...csrf.attributes }, { secure: true, samesite: "Lax", path: "/", "max-age": "31449600" }, csrf.line);
    assert.notEqual(setCookies(await browserOf(issuer).login()).csrftoken.value, csrf.value, "a new CSRF token each login");
  });

  test("refresh by cookie rotates: a new cookie, the access token in the body, no refresh token in it", async () => {
    const b = browserOf(issuer);
    await b.login();
    const first = b.jar.cookies[COOKIE];
    const res = await b.post("/api/token/refresh/");
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.deepEqual(Object.keys(res.json), ["access"]);
    const rotated = setCookies(res)[COOKIE];
    assert.notEqual(rotated.value, first);
    assert.equal(claims(rotated.value).sid, claims(first).sid, "the same session");
    assert.equal(rotated.attributes.httponly, true);
    const me = await issuer.call("GET", "/api/protected/", { token: res.json.access });
    assert.equal(me.status, 200);
    // The rotated-out cookie is blacklisted (reuse interval 0: reuse ends the session).
    const replay = await issuer.call("POST", "/api/token/refresh/", {
      json: {},
      headers: { Origin: issuer.base, Cookie: `${COOKIE}=${first}; csrftoken=${b.jar.cookies.csrftoken}`, "X-CSRFToken": b.jar.cookies.csrftoken },
    });
    assert.equal(replay.status, 401);
    assert.equal(replay.json.detail, "Token is blacklisted");
  });

  test("a refresh token in the body gets simplejwt's unchanged answer, with no cookie", async () => {
    const b = browserOf(issuer);
    await b.login();
    const res = await issuer.call("POST", "/api/token/refresh/", { json: { refresh: b.jar.cookies[COOKIE] } });
    assert.equal(res.status, 200);
    assert.deepEqual(Object.keys(res.json).sort(), ["access", "refresh"]);
    assert.deepEqual(res.headers.getSetCookie(), []);
  });

  test("no cookie and no body field: 401 with dj-rest-auth's text", async () => {
    const res = await issuer.call("POST", "/api/token/refresh/", { json: {} });
    assert.equal(res.status, 401);
    assert.deepEqual(res.json, { detail: "No valid refresh token found.", code: "token_not_valid" });
    const blank = await issuer.call("POST", "/api/token/refresh/", { json: { refresh: "" } });
    assert.deepEqual(blank.json, { detail: "No valid refresh token found.", code: "token_not_valid" });
  });

  test("logout by cookie blacklists the token and clears the cookie", async () => {
    const b = browserOf(issuer);
    await b.login();
    const token = b.jar.cookies[COOKIE];
    const res = await b.post("/api/token/blacklist/");
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.deepEqual(res.json, {});
    const cleared = setCookies(res)[COOKIE];
    assert.equal(cleared.value, "");
    assert.equal(cleared.attributes["max-age"], "0");
    assert.equal(cleared.attributes.path, "/api/");
    assert.equal(b.jar.cookies[COOKIE], undefined);
    const again = await issuer.call("POST", "/api/token/refresh/", { json: { refresh: token } });
    assert.equal(again.json.detail, "Token is blacklisted");
  });

  test("revoking one's own session, or all, clears the cookie; another session's does not", async () => {
    const b = browserOf(issuer);
    const other = browserOf(issuer);
    const access = (await b.login()).json.access;
    const otherSid = claims((await other.login()).json.access).sid;
    const foreign = await issuer.call("DELETE", `/api/sessions/${otherSid}/`, { token: access });
    assert.equal(foreign.status, 204);
    assert.deepEqual(foreign.headers.getSetCookie(), []);
    const own = await issuer.call("DELETE", `/api/sessions/${claims(access).sid}/`, { token: access });
    assert.equal(own.status, 204);
    assert.equal(setCookies(own)[COOKIE].attributes["max-age"], "0");
    const c = browserOf(issuer);
    const all = await issuer.call("POST", "/api/sessions/revoke-all/", { token: (await c.login()).json.access, json: {} });
    assert.equal(all.status, 200);
    assert.equal(setCookies(all)[COOKIE].attributes["max-age"], "0");
  });

  test("each CSRF failure is 403 with Django's reason, and nothing rotates", async () => {
    const b = browserOf(issuer);
    await b.login();
    const { [COOKIE]: refresh, csrftoken } = b.jar.cookies;
    const attempt = (headers) => issuer.call("POST", "/api/token/refresh/", { json: {}, headers });
    const cases = [
      [{ Origin: "https://evil.example", Cookie: `${COOKIE}=${refresh}; csrftoken=${csrftoken}`, "X-CSRFToken": csrftoken },
        "Origin checking failed - https://evil.example does not match any trusted origins."],
      [{ Origin: issuer.base, Cookie: `${COOKIE}=${refresh}`, "X-CSRFToken": csrftoken }, "CSRF cookie not set."],
      [{ Origin: issuer.base, Cookie: `${COOKIE}=${refresh}; csrftoken=${csrftoken}` }, "CSRF token missing."],
      [{ Origin: issuer.base, Cookie: `${COOKIE}=${refresh}; csrftoken=${csrftoken}`, "X-CSRFToken": "x".repeat(32) },
        "CSRF token from the 'X-Csrftoken' HTTP header incorrect."],
      [{ Origin: issuer.base, Cookie: `${COOKIE}=${refresh}; csrftoken=${csrftoken}`, "X-CSRFToken": "short" },
        "CSRF token from the 'X-Csrftoken' HTTP header has incorrect length."],
    ];
    for (const [headers, reason] of cases) {
      const res = await attempt(headers);
      assert.equal(res.status, 403, reason);
      assert.deepEqual(res.json, { detail: `CSRF Failed: ${reason}` });
      assert.deepEqual(res.headers.getSetCookie(), []);
    }
    const logout = await issuer.call("POST", "/api/token/blacklist/", { json: {}, headers: cases[2][0] });
    assert.deepEqual(logout.json, { detail: "CSRF Failed: CSRF token missing." });
    const rows = await issuer.db.prepare("SELECT COUNT(*) AS n FROM outstanding_tokens WHERE parent_jti = ?1").bind(claims(refresh).jti).first();
    assert.equal(rows.n, 0, "no refresh happened");
    // The trusted page's request (CSRF_TRUSTED_ORIGINS) still works with the same cookie.
    const ok = await attempt({ Origin: "http://localhost:8788", Cookie: `${COOKIE}=${refresh}; csrftoken=${csrftoken}`, "X-CSRFToken": csrftoken });
    assert.equal(ok.status, 200, JSON.stringify(ok.json));
  });

  test("a login from an untrusted origin is refused (login CSRF); from a trusted one it works", async () => {
    const evil = await browserOf(issuer, "https://evil.example").login();
    assert.equal(evil.status, 403);
    assert.deepEqual(evil.json, { detail: "CSRF Failed: Origin checking failed - https://evil.example does not match any trusted origins." });
    assert.deepEqual(evil.headers.getSetCookie(), []);
    assert.equal((await browserOf(issuer, "http://localhost:8788").login()).status, 200);
    // A non-browser client (no Origin) is not a CSRF vector.
    assert.equal((await issuer.call("POST", "/api/token/", { json: { username: "alice", password: "alice-password-1" } })).status, 200);
  });

  test("JWT_AUTH_HTTPONLY=false keeps the refresh token in the bodies too", async () => {
    await withIssuer({ vars: { ...COOKIE_MODE, JWT_AUTH_HTTPONLY: "false" } }, async (iss) => {
      const b = browserOf(iss);
      const login = await b.login();
      assert.equal(login.json.refresh, b.jar.cookies[COOKIE]);
      const res = await b.post("/api/token/refresh/");
      assert.equal(res.json.refresh, b.jar.cookies[COOKIE]);
    });
  });
});

describe("CORS", () => {
  let issuer;
  const APP = "http://localhost:8788";
  before(async () => (issuer = await startIssuer({ vars: { ...COOKIE_MODE, CORS_ALLOWED_ORIGINS: APP, CORS_ALLOW_CREDENTIALS: "true" } })));
  after(() => issuer.stop());

  const preflight = (origin) =>
    fetch(`${issuer.base}/api/token/refresh/`, {
      method: "OPTIONS",
      headers: { Origin: origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type, x-csrftoken" },
    });

  test("a preflight from an allowed origin gets django-cors-headers' answer", async () => {
    const res = await preflight(APP);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "");
    assert.equal(res.headers.get("access-control-allow-origin"), APP);
    assert.equal(res.headers.get("access-control-allow-credentials"), "true");
    assert.equal(res.headers.get("access-control-allow-methods"), "DELETE, GET, OPTIONS, PATCH, POST, PUT");
    assert.equal(res.headers.get("access-control-allow-headers"), "accept, authorization, content-type, user-agent, x-csrftoken, x-requested-with");
    assert.equal(res.headers.get("access-control-max-age"), "86400");
    assert.match(res.headers.get("vary"), /Origin/);
  });

  test("other origins get no CORS headers, preflight or not", async () => {
    const res = await preflight("https://evil.example");
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("access-control-allow-origin"), null);
    assert.equal(res.headers.get("access-control-allow-credentials"), null);
    const post = await browserOf(issuer, "https://evil.example").login();
    assert.equal(post.headers.get("access-control-allow-origin"), null);
    assert.match(post.headers.get("vary"), /Origin/, "the answer varies on Origin for caches");
  });

  test("a credentialed login and refresh from the allowed origin carry the CORS headers", async () => {
    const b = browserOf(issuer, APP);
    const login = await b.login();
    assert.equal(login.status, 200);
    assert.equal(login.headers.get("access-control-allow-origin"), APP);
    assert.equal(login.headers.get("access-control-allow-credentials"), "true");
    const res = await b.post("/api/token/refresh/");
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.equal(res.headers.get("access-control-allow-origin"), APP);
    // Errors carry them too, so the page can read the 401.
    const bad = await issuer.call("POST", "/api/token/verify/", { json: { token: "x" }, headers: { Origin: APP } });
    assert.equal(bad.status, 401);
    assert.equal(bad.headers.get("access-control-allow-origin"), APP);
  });

  test("without CORS settings there are no CORS headers and OPTIONS stays DRF's metadata", async () => {
    await withIssuer({}, async (plain) => {
      const res = await fetch(`${plain.base}/api/token/`, { method: "OPTIONS", headers: { Origin: APP, "Access-Control-Request-Method": "POST" } });
      assert.equal(res.headers.get("access-control-allow-origin"), null);
      assert.equal((await res.json()).name, "Token Obtain Pair");
    });
  });
});

describe("login throttling (a Durable Object per client address)", () => {
  let issuer;
  before(async () => (issuer = await startIssuer({ vars: { LOGIN_THROTTLE_RATE: "5/min", LOGIN_IP_THROTTLE_RATE: "30/min" } })));
  after(() => issuer.stop());
  const login = (username, password, ip) =>
    issuer.call("POST", "/api/token/", { json: { username, password }, headers: { "CF-Connecting-IP": ip } });

  test("the 6th failure of one username from one address is 429 with DRF's text and Retry-After, before any hash", async () => {
    for (let i = 0; i < 5; i++) assert.equal((await login("alice", "wrong", "203.0.113.1")).status, 401);
    const res = await login("alice", "wrong", "203.0.113.1");
    assert.equal(res.status, 429);
    const wait = Number(res.headers.get("retry-after"));
    assert.ok(wait >= 55 && wait <= 60, `Retry-After ${wait}`);
    assert.deepEqual(res.json, { detail: `Request was throttled. Expected available in ${wait} seconds.` });
    // The right password from the same address waits too ...
    assert.equal((await login("alice", "alice-password-1", "203.0.113.1")).status, 429);
    // ... but not from another address: the attacker's failures do not lock the user out.
    assert.equal((await login("alice", "alice-password-1", "198.51.100.7")).status, 200);
    // Another username from the attacker's address is counted on its own.
    assert.equal((await login("bob", "wrong", "203.0.113.1")).status, 401);
  });

  test("20 concurrent wrong passwords: exactly 5 are tried, 15 are throttled (no race)", async () => {
    const answers = await Promise.all(Array.from({ length: 20 }, () => login("alice", "wrong", "203.0.113.2")));
    const statuses = answers.map((a) => a.status).sort();
    assert.deepEqual(statuses, [...Array(5).fill(401), ...Array(15).fill(429)]);
    assert.equal((await login("alice", "alice-password-1", "203.0.113.2")).status, 429);
  });

  test("successful logins are not counted as failures", async () => {
    for (let i = 0; i < 8; i++) assert.equal((await login("alice", "alice-password-1", "203.0.113.3")).status, 200);
    for (let i = 0; i < 5; i++) assert.equal((await login("alice", "wrong", "203.0.113.3")).status, 401);
    assert.equal((await login("alice", "wrong", "203.0.113.3")).status, 429);
  });

  test("one address is limited across usernames (LOGIN_IP_THROTTLE_RATE)", async () => {
    for (let i = 0; i < 30; i++) assert.equal((await login(`nobody${i}`, "wrong", "203.0.113.4")).status, 401, `attempt ${i}`);
    const res = await login("someone-else", "wrong", "203.0.113.4");
    assert.equal(res.status, 429);
    assert.ok(Number(res.headers.get("retry-after")) > 0);
  });

  test("the counter resets after the window", async () => {
    await withIssuer({ vars: { LOGIN_THROTTLE_RATE: "2/s", LOGIN_IP_THROTTLE_RATE: "" } }, async (iss) => {
      const attempt = (password) => iss.call("POST", "/api/token/", { json: { username: "alice", password }, headers: { "CF-Connecting-IP": "192.0.2.9" } });
      assert.equal((await attempt("wrong")).status, 401);
      assert.equal((await attempt("wrong")).status, 401);
      const throttled = await attempt("wrong");
      assert.equal(throttled.status, 429);
      assert.deepEqual(throttled.json, { detail: "Request was throttled. Expected available in 1 second." });
      assert.equal(throttled.headers.get("retry-after"), "1");
      await sleep(1100);
      assert.equal((await attempt("alice-password-1")).status, 200);
    });
  });

  test("a wrong old password on password change counts as a failed login (a stolen access token cannot guess it)", async () => {
    await withIssuer({ vars: { LOGIN_THROTTLE_RATE: "5/min", LOGIN_IP_THROTTLE_RATE: "" } }, async (iss) => {
      const ip = (address) => ({ "CF-Connecting-IP": address });
      const { access } = (await iss.call("POST", "/api/token/", { json: { username: "alice", password: "alice-password-1" }, headers: ip("198.51.100.20") })).json;
      const change = (old, address) =>
        iss.call("POST", "/api/password/change/", { token: access, headers: ip(address), json: { old_password: old, new_password1: "a-new-passphrase-42", new_password2: "a-new-passphrase-42" } });
      for (let i = 0; i < 5; i++) {
        const r = await change("guess", "203.0.113.20");
        assert.deepEqual([r.status, r.json], [400, { old_password: ["Your old password was entered incorrectly. Please enter it again."] }]);
      }
      const throttled = await change("alice-password-1", "203.0.113.20");
      assert.equal(throttled.status, 429, "throttled before the old password is checked");
      assert.match(throttled.json.detail, /^Request was throttled\. Expected available in \d+ seconds\.$/);
      // The same counts as logins: alice's login from that address waits too ...
      assert.equal((await iss.call("POST", "/api/token/", { json: { username: "alice", password: "alice-password-1" }, headers: ip("203.0.113.20") })).status, 429);
      // ... and from another address the right old password changes it (and is not counted).
      assert.equal((await change("alice-password-1", "198.51.100.21")).status, 200);
      assert.equal((await iss.call("POST", "/api/token/", { json: { username: "alice", password: "a-new-passphrase-42" }, headers: ip("198.51.100.21") })).status, 200);
    });
  });

  test("a rate that is not DRF's format is a configuration error naming it", async () => {
    await withIssuer({ vars: { LOGIN_THROTTLE_RATE: "5 per minute" } }, async (iss) => {
      const res = await iss.call("POST", "/api/token/", { json: { username: "alice", password: "x" } });
      assert.equal(res.status, 500);
      assert.match(res.json.detail, /LOGIN_THROTTLE_RATE/);
    });
  });
});
