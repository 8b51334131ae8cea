// The SPA client in cookie mode (`mode: "cookie"`, dj-rest-auth's HttpOnly refresh cookie
// with Django's CSRF check) in headless Chromium against the real issuer (workerd via
// Miniflare) in cookie mode, with CORS for one other origin.
//
// Three origins on 127.0.0.1, all same-site (cookies do not tell ports apart), as a SPA and its
// API on sibling hosts would be:
//   api: the test page and a logging proxy of /api/* to the issuer (the issuer's origin for
//        the browser; in CSRF_TRUSTED_ORIGINS, since the issuer behind the proxy sees its own host);
//   app: the same page from another origin, trusted (CSRF_TRUSTED_ORIGINS, CORS_ALLOWED_ORIGINS);
//   evil: the same page from an untrusted origin, which can read the CSRF cookie (same host).
//
//   node --test tests/pkg/browser/cookie.test.mjs
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startIssuer } from "../../worker/harness.mjs";
import { ARTIFACTS, buildPage, inContexts, launchChromium, refreshBursts, sleep, until, withoutWebLocks } from "./chromium.mjs";
import { startServer } from "./server.mjs";

const WWW = `${ARTIFACTS}/www-cookie`;
const ALICE = ["alice", "alice-password-1"];
const REFRESH_COOKIE = "refresh_token";
const ACCESS_LIFETIME_S = 4;
const BLACKLISTED = { detail: "Token is blacklisted", code: "token_not_valid" };

let issuer;
let api;
let app;
let evil;
let browser;

before(async () => {
  const size = await buildPage(WWW);
  console.log(`client.ts bundle (esbuild --minify): ${size.bytes} bytes, ${size.gzip} gzip`);
  [api, app, evil] = await Promise.all([0, 1, 2].map(() => startServer({ root: WWW })));
  issuer = await startIssuer({
    vars: {
      ACCESS_TOKEN_LIFETIME: `${ACCESS_LIFETIME_S}s`,
      JWT_AUTH_REFRESH_COOKIE: REFRESH_COOKIE,
      CSRF_TRUSTED_ORIGINS: `${api.base},${app.base}`,
      CORS_ALLOWED_ORIGINS: app.base,
      CORS_ALLOW_CREDENTIALS: "true",
      LOGIN_THROTTLE_RATE: "5/min", // the shipped rate (the harness turns it off); no CORS_EXPOSE_HEADERS
    },
  });
  api.setUpstream(issuer.base);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close().catch(() => {});
  for (const server of [api, app, evil]) await server?.stop().catch(() => {});
  await issuer?.stop().catch(() => {});
});

/** `name=value` of a Set-Cookie header → [name, value]. */
const nameValue = (setCookie) => setCookie.split(";")[0].split(/=(.*)/s).slice(0, 2);
/** The refresh cookie's value as a Set-Cookie of `entry` set it (`""` when cleared), or undefined. */
const refreshSet = (entry) => entry.setCookies?.map(nameValue).find(([n]) => n === REFRESH_COOKIE)?.[1];
/** A Set-Cookie header with its value redacted, to print what the issuer sends. */
const redacted = (setCookie) => setCookie.replace(/^([^=]+)=([^;]*)/, (all, n, v) => (v && v !== '""' ? `${n}=<${n === REFRESH_COOKIE ? "refresh token" : "value"}>` : all));
const refreshes = (server, mark) => server.since(mark).filter((e) => e.method === "POST" && e.path === "/api/token/refresh/");
const jarCookie = async (page, name) => (await page.context().cookies()).find((c) => c.name === name);
/** The number of refresh tokens the issuer has issued in session `sid`. */
const issuedIn = async (sid) => (await issuer.db.prepare("SELECT COUNT(*) AS n FROM outstanding_tokens WHERE sid = ?1").bind(sid).first()).n;

/** Logs alice in with a cookie-mode client named "tab" in `page`; its claims. */
const login = (page, options = {}) =>
  page.evaluate(
    async ([o, [username, password]]) => {
      const { client } = makeClient("tab", { mode: "cookie", ...o });
      await client.ready;
      await client.login(username, password);
      return client.claims;
    },
    [options, ALICE],
  );

describe("AuthClient in cookie mode, in Chromium against the issuer", { concurrency: false }, () => {
  test("C1. login: the refresh token is an HttpOnly cookie the page never sees; the CSRF token is readable; tabs share only access tokens", { timeout: 30_000 }, () =>
    inContexts(browser, { name: "c1-cookie-login", base: api.base, counts: [2] }, async ([[page, other]]) => {
      // The other tab listens on the channel as any script of the origin could.
      await other.evaluate(() => {
        window.heard = [];
        new BroadcastChannel("c1").onmessage = (e) => window.heard.push(e.data);
        void makeClient("tab", { mode: "cookie", channelName: "c1" });
      });
      const mark = api.mark();
      // Django's spelling of CSRF_HEADER_NAME works as well as the header's.
      await login(page, { channelName: "c1", csrfHeaderName: "HTTP_X_CSRFTOKEN" });
      await page.evaluate(() => clients.tab.client.refresh());
      const seen = await page.evaluate(() => ({
        cookie: document.cookie,
        storage: JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }),
        access: clients.tab.client.accessToken,
      }));

      const [obtain] = api.since(mark).filter((e) => e.path === "/api/token/");
      assert.equal(obtain.status, 200);
      assert.deepEqual(obtain.request, { username: "alice", password: "alice-password-1" });
      assert.equal(obtain.response.refresh, "", "dj-rest-auth's body under JWT_AUTH_HTTPONLY");
      console.log(`login Set-Cookie: ${JSON.stringify(obtain.setCookies.map(redacted))}`);
      const refresh = await jarCookie(page, REFRESH_COOKIE);
      const csrf = await jarCookie(page, "csrftoken");
      assert.deepEqual(refreshes(api, mark).map((r) => [r.status, r.csrf]), [[200, csrf.value]]);
      assert.deepEqual([refresh.httpOnly, refresh.secure, refresh.sameSite, refresh.path], [true, true, "Lax", "/api/"]);
      assert.ok(refresh.expires > Date.now() / 1000, "a persistent cookie (Max-Age)");
      assert.match(csrf.value, /^[A-Za-z0-9]{32}$/);
      assert.deepEqual([csrf.httpOnly, csrf.path], [false, "/"]);
      // The page reads the CSRF token, never the refresh token; nothing stores or carries it.
      assert.match(seen.cookie, new RegExp(`(^|; )csrftoken=${csrf.value}(;|$)`));
      assert.ok(!seen.cookie.includes(REFRESH_COOKIE) && !seen.cookie.includes(refresh.value));
      assert.ok(!seen.storage.includes(refresh.value), "no refresh token in web storage");
      await other.waitForFunction((a) => clients.tab.client.accessToken === a, seen.access, { timeout: 5_000 });
      const heard = await other.evaluate(() => window.heard);
      const sessions = heard.filter((m) => m.type === "session");
      assert.ok(sessions.length >= 2, JSON.stringify(heard.map((m) => m.type)));
      for (const m of sessions) assert.equal(m.session.refresh, "", "a broadcast session carries no refresh token");
      assert.ok(!JSON.stringify(heard).includes(refresh.value));
      // A broadcast session that does carry a refresh token is not taken in cookie mode.
      const forged = await other.evaluate(() => {
        const { client, events } = clients.tab;
        const before = { access: client.accessToken, events: events.length };
        const [h, p, sig] = before.access.split(".");
        const access = [h, p, (sig[0] === "A" ? "B" : "A") + sig.slice(1)].join(".");
        new BroadcastChannel("c1").postMessage({ type: "session", kind: "login", session: { access, refresh: before.access, v: Date.now() + 1_000, skew: 0 } });
        return new Promise((resolve) => setTimeout(() => resolve({ kept: client.accessToken === before.access, events: events.length - before.events }), 300));
      });
      assert.deepEqual(forged, { kept: true, events: 0 }, "a session with a refresh token was taken");
      for (const tab of [page, other]) await tab.evaluate(() => clients.tab.client.close());
    }));

  test("C2. silent refresh by cookie + CSRF header rotates the cookie; a reload keeps the session; logout clears it", { timeout: 40_000 }, () =>
    inContexts(browser, { name: "c2-cookie-reload", base: api.base, counts: [1] }, async ([[page]]) => {
      const mark = api.mark();
      const claims = await login(page, { refreshLeeway: 1, channelName: "c2" });
      const first = refreshSet(api.since(mark).find((e) => e.path === "/api/token/"));
      assert.ok(first);
      await page.evaluate(() => startPolling("tab", "/api/protected/", 300));
      // The timer refreshes before the access token expires.
      await until(() => refreshes(api, mark).some((e) => e.done), (ACCESS_LIFETIME_S + 3) * 1000, "the timer's refresh");
      await sleep(ACCESS_LIFETIME_S * 1000); // and lives past the first access token's expiry
      await page.evaluate(() => (stopPolling("tab"), clients.tab.client.close())); // no timer from here on
      await until(() => refreshes(api, mark).every((e) => e.done), 5_000, "the refreshes in flight");
      const csrf = (await jarCookie(page, "csrftoken")).value;
      const done = refreshes(api, mark).filter((e) => e.done);
      assert.ok(done.length >= 1);
      let expected = first;
      for (const r of done) {
        assert.equal(r.status, 200, JSON.stringify(r.response));
        assert.deepEqual(r.request, {}, "no refresh token in the body");
        assert.equal(r.csrf, csrf, "the CSRF header is the CSRF cookie");
        assert.equal(r.origin, api.base);
        assert.equal(r.cookies[REFRESH_COOKIE], expected, "the newest cookie was sent");
        assert.deepEqual(Object.keys(r.response), ["access"]);
        expected = refreshSet(r);
        assert.ok(expected && expected !== r.cookies[REFRESH_COOKIE], "the cookie rotated");
      }
      console.log(`refresh Set-Cookie: ${JSON.stringify(done[0].setCookies.map(redacted))}`);
      assert.equal((await jarCookie(page, REFRESH_COOKIE)).value, expected);
      const polls = await page.evaluate(() => snapshot("tab").polls);
      assert.ok(polls.length >= 10);
      assert.deepEqual(polls.filter((p) => p.status !== 200), []);

      // A reload: the new page holds nothing, and restores the session from the cookie.
      await page.reload();
      await page.waitForFunction(() => window.edgejwtReady === true);
      const reload = api.mark();
      const restored = await page.evaluate(async () => {
        const { client } = makeClient("tab", { mode: "cookie", channelName: "c2" });
        await client.ready;
        const res = await client.fetch("/api/protected/");
        return { authed: client.isAuthenticated, sid: client.claims?.sid, status: res.status, events: snapshot("tab").events.map((e) => e.type) };
      });
      assert.deepEqual(restored, { authed: true, sid: claims.sid, status: 200, events: ["login"] });
      assert.deepEqual(refreshes(api, reload).map((r) => [r.status, r.cookies[REFRESH_COOKIE] === expected]), [[200, true]]);
      const newest = refreshSet(refreshes(api, reload)[0]);

      // Logout: blacklisted by the cookie, the cookie cleared.
      const out = api.mark();
      await page.evaluate(() => clients.tab.client.logout());
      const [blacklist] = api.since(out).filter((e) => e.path === "/api/token/blacklist/");
      assert.deepEqual([blacklist.status, blacklist.request, blacklist.response], [200, {}, {}]);
      assert.equal(blacklist.cookies[REFRESH_COOKIE], newest);
      assert.equal(blacklist.csrf, csrf);
      console.log(`logout Set-Cookie: ${JSON.stringify(blacklist.setCookies.map(redacted))}`);
      assert.equal(await jarCookie(page, REFRESH_COOKIE), undefined, "the refresh cookie is gone");
      assert.deepEqual((await issuer.call("POST", "/api/token/refresh/", { json: { refresh: newest } })).json, BLACKLISTED);
      const after = await page.evaluate(async () => ({ authed: clients.tab.client.isAuthenticated, status: (await clients.tab.client.fetch("/api/protected/")).status }));
      assert.deepEqual(after, { authed: false, status: 401 });

      // A reload after logout: the restore finds no cookie and stays signed out, quietly.
      await page.reload();
      await page.waitForFunction(() => window.edgejwtReady === true);
      const again = api.mark();
      const signedOut = await page.evaluate(async () => {
        const { client } = makeClient("tab", { mode: "cookie", channelName: "c2" });
        await client.ready;
        return { authed: client.isAuthenticated, events: snapshot("tab").events };
      });
      assert.deepEqual(signedOut, { authed: false, events: [] });
      assert.deepEqual(refreshes(api, again).map((r) => [r.status, r.response]), [[401, { detail: "No valid refresh token found.", code: "token_not_valid" }]]);
    }));

  test("C3. a page on an untrusted origin cannot use the victim's cookie: 403 for a simple POST, the preflight refused, nothing rotates", { timeout: 30_000 }, () =>
    inContexts(browser, { name: "c3-csrf", base: api.base, counts: [1] }, async ([[victim]]) => {
      const claims = await login(victim, { channelName: "c3" });
      const cookie = (await jarCookie(victim, REFRESH_COOKIE)).value;
      const issued = await issuedIn(claims.sid);
      // The victim opens the attacker's page in the same browser (same cookie jar).
      const attacker = await victim.context().newPage();
      await attacker.goto(`${evil.base}/`);
      const mark = api.mark();
      const tried = await attacker.evaluate(async (target) => {
        const csrf = document.cookie.match(/(?:^|; )csrftoken=([^;]*)/)?.[1] ?? null;
        const simple = (path) => fetch(target + path, { method: "POST", mode: "no-cors", credentials: "include", body: new URLSearchParams() }).then((r) => r.type, (e) => String(e));
        const cors = await fetch(`${target}/api/token/refresh/`, {
          method: "POST",
          credentials: "include",
          headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
          body: "{}",
        }).then((r) => `answered ${r.status}`, (e) => e.name);
        return { cookie: document.cookie, csrf, refresh: await simple("/api/token/refresh/"), blacklist: await simple("/api/token/blacklist/"), cors };
      }, api.base);
      await attacker.close();
      // Same host: the attacker reads the CSRF cookie (so the double submit alone would not
      // help), but not the refresh cookie.
      assert.ok(tried.csrf, "the attacker's page reads the CSRF cookie");
      assert.ok(!tried.cookie.includes(REFRESH_COOKIE));
      assert.deepEqual([tried.refresh, tried.blacklist, tried.cors], ["opaque", "opaque", "TypeError"]);
      const seen = api.since(mark);
      const denied = { detail: `CSRF Failed: Origin checking failed - ${evil.base} does not match any trusted origins.` };
      for (const path of ["/api/token/refresh/", "/api/token/blacklist/"]) {
        const posts = seen.filter((e) => e.method === "POST" && e.path === path);
        assert.equal(posts.length, 1, `${path}: ${JSON.stringify(seen.map((e) => [e.method, e.path]))}`);
        assert.equal(posts[0].origin, evil.base);
        assert.equal(posts[0].cookies[REFRESH_COOKIE], cookie, "the browser did send the victim's cookie");
        assert.deepEqual([posts[0].status, posts[0].response], [403, denied]);
        assert.equal(refreshSet(posts[0]), undefined, "no Set-Cookie");
      }
      // The request with the stolen CSRF token never left the browser: its preflight got no CORS headers.
      const preflight = seen.filter((e) => e.method === "OPTIONS");
      assert.equal(preflight.length, 1);
      assert.equal(preflight[0].headers["access-control-allow-origin"], undefined);
      assert.equal(seen.filter((e) => e.csrf !== null).length, 0, "no request with the CSRF header reached the issuer");
      // Nothing rotated or ended: the issuer issued no token, the victim's cookie still refreshes.
      assert.equal(await issuedIn(claims.sid), issued);
      assert.equal((await jarCookie(victim, REFRESH_COOKIE)).value, cookie);
      const next = api.mark();
      assert.equal(await victim.evaluate(() => clients.tab.client.refresh().then(() => "ok", (e) => e.code)), "ok");
      assert.deepEqual(refreshes(api, next).map((r) => [r.status, r.cookies[REFRESH_COOKIE] === cookie]), [[200, true]]);
      assert.equal(await issuedIn(claims.sid), issued + 1);
    }));

  test("C4. a SPA on another origin (CORS with credentials): login, API, refresh, reload, logout; the bearer goes only to the issuer and apiOrigins", { timeout: 40_000 }, () =>
    inContexts(browser, { name: "c4-cross-origin", base: app.base, counts: [1] }, async ([[page]]) => {
      const options = { baseUrl: api.base, apiOrigins: [app.base], channelName: "c4" };
      const mark = api.mark();
      const claims = await login(page, options);
      const seen = api.since(mark);
      const preflight = seen.find((e) => e.method === "OPTIONS" && e.path === "/api/token/");
      assert.equal(preflight?.status, 200);
      assert.equal(preflight.headers["access-control-allow-origin"], app.base);
      assert.equal(preflight.headers["access-control-allow-credentials"], "true");
      assert.match(preflight.headers["access-control-allow-headers"], /x-csrftoken/);
      const obtain = seen.find((e) => e.method === "POST" && e.path === "/api/token/");
      assert.deepEqual([obtain.status, obtain.origin, obtain.headers["access-control-allow-origin"]], [200, app.base, app.base]);
      assert.match(obtain.headers.vary ?? "", /origin/i);
      assert.ok(refreshSet(obtain), "the login set the refresh cookie");
      const call = (url) =>
        page.evaluate((u) => clients.tab.client.fetch(u).then(async (r) => ({ status: r.status, body: await r.text() }), (e) => e.name), url);
      assert.deepEqual(await call("/api/protected/"), { status: 200, body: '{"user_id":1,"username":"alice"}' });
      // Refresh across origins, with the cookie and the CSRF header.
      let next = api.mark();
      assert.equal(await page.evaluate(() => clients.tab.client.refresh().then(() => "ok", (e) => e.code)), "ok");
      const [refresh] = refreshes(api, next);
      assert.deepEqual([refresh.status, refresh.origin, refresh.headers["access-control-allow-origin"]], [200, app.base, app.base]);
      assert.ok(refresh.csrf && refresh.cookies[REFRESH_COOKIE] === refreshSet(obtain));

      // The bearer: to the issuer and the listed origin, never to another one.
      const access = await page.evaluate(() => clients.tab.client.accessToken);
      const [appMark, evilMark] = [app.mark(), evil.mark()];
      assert.deepEqual(await call(`${app.base}/api/data/`), { status: 404, body: "not found" });
      assert.deepEqual(await call(`${evil.base}/api/data/`), { status: 404, body: "not found" });
      assert.deepEqual(app.since(appMark).map((e) => [e.method, e.auth]), [["GET", `Bearer ${access}`]]);
      assert.deepEqual(evil.since(evilMark).map((e) => [e.method, e.auth]), [["GET", null]], "no Authorization (and so no preflight)");

      // A reload restores the session across origins.
      await page.reload();
      await page.waitForFunction(() => window.edgejwtReady === true);
      next = api.mark();
      const restored = await page.evaluate(async (o) => {
        const { client } = makeClient("tab", { mode: "cookie", ...o });
        await client.ready;
        return { authed: client.isAuthenticated, sid: client.claims?.sid };
      }, options);
      assert.deepEqual(restored, { authed: true, sid: claims.sid });
      assert.deepEqual(refreshes(api, next).map((r) => r.status), [200]);
      assert.deepEqual(await call("/api/protected/"), { status: 200, body: '{"user_id":1,"username":"alice"}' });

      next = api.mark();
      await page.evaluate(() => clients.tab.client.logout());
      const [blacklist] = api.since(next).filter((e) => e.method === "POST" && e.path === "/api/token/blacklist/");
      assert.deepEqual([blacklist.status, blacklist.origin], [200, app.base]);
      assert.notEqual(refreshSet(blacklist), undefined, "a Set-Cookie clears the cookie");
      assert.equal(await jarCookie(page, REFRESH_COOKIE), undefined);
    }));

  test("C5. without Web Locks, three tabs take turns through the localStorage lease: one refresh per burst, each cookie sent once", { timeout: 40_000 }, () =>
    inContexts(browser, { name: "c5-no-locks", base: api.base, counts: [3], init: withoutWebLocks }, async ([tabs]) => {
      assert.equal(await tabs[0].evaluate(() => typeof navigator.locks), "undefined");
      const options = { mode: "cookie", channelName: "c5", refreshLeeway: 0 };
      for (const tab of tabs.slice(1)) await tab.evaluate((o) => void makeClient("tab", o), options);
      const mark = api.mark();
      await login(tabs[0], options);
      for (const tab of tabs) await tab.waitForFunction(() => clients.tab.client.isAuthenticated, null, { timeout: 5_000 });
      const results = await refreshBursts(tabs, 4);
      assert.deepEqual(results, Array(4).fill(["ok", "ok", "ok"]));
      const sent = refreshes(api, mark);
      assert.deepEqual(sent.map((r) => r.status), [200, 200, 200, 200], "one refresh per burst of three");
      let expected = refreshSet(api.since(mark).find((e) => e.path === "/api/token/"));
      for (const r of sent) {
        assert.equal(r.cookies[REFRESH_COOKIE], expected, "each refresh sent the newest cookie, once");
        expected = refreshSet(r);
      }
      const access = await Promise.all(tabs.map((tab) => tab.evaluate(() => clients.tab.client.accessToken)));
      assert.deepEqual(access, Array(3).fill(sent.at(-1).response.access), "every tab holds the newest access token");
      for (const tab of tabs) {
        const events = await tab.evaluate(() => snapshot("tab").events.map((e) => e.type));
        assert.deepEqual(events.filter((t) => t !== "login" && t !== "refresh"), []);
      }
    }));
  test("C6. logout everywhere from another origin clears the refresh cookie too ('revoked', then signed out after a reload)", { timeout: 30_000 }, () =>
    inContexts(browser, { name: "c6-logout-everywhere", base: app.base, counts: [1] }, async ([[page]]) => {
      const options = { baseUrl: api.base, channelName: "c6" };
      const claims = await login(page, options);
      const mark = api.mark();
      const out = await page.evaluate(() => outcome("tab", (c) => c.logoutEverywhere()));
      assert.equal(out.ok, true, JSON.stringify(out));
      const [revokeAll] = api.since(mark).filter((e) => e.method === "POST" && e.path === "/api/sessions/revoke-all/");
      assert.deepEqual([revokeAll.status, revokeAll.origin, revokeAll.headers["access-control-allow-credentials"]], [200, app.base, "true"]);
      assert.notEqual(refreshSet(revokeAll), undefined, "a Set-Cookie clears the cookie");
      assert.equal(await jarCookie(page, REFRESH_COOKIE), undefined, "the browser took it across origins");
      const events = await page.evaluate(() => snapshot("tab").events.map((e) => [e.type, e.sid ?? null]));
      assert.deepEqual(events, [["login", null], ["revoked", claims.sid], ["logout", null]]);
      await page.reload();
      await page.waitForFunction(() => window.edgejwtReady === true);
      const after = await page.evaluate(async (o) => {
        const { client } = makeClient("tab", { mode: "cookie", ...o });
        await client.ready;
        return client.isAuthenticated;
      }, options);
      assert.equal(after, false);
    }));
  test("C7. throttled across origins: retryAfter from DRF's detail when Retry-After is not exposed to the page", { timeout: 30_000 }, () =>
    inContexts(browser, { name: "c7-throttled-cross-origin", base: app.base, counts: [1] }, async ([[page]]) => {
      const mark = api.mark();
      const tries = await page.evaluate(async (baseUrl) => {
        makeClient("tab", { mode: "cookie", baseUrl, channelName: "c7" });
        const out = [];
        for (let i = 1; i <= 6; i++) out.push(await outcome("tab", (c) => c.login("mallory", `guess-${i}`)));
        return out;
      }, api.base);
      assert.deepEqual(tries.slice(0, 5).map((t) => [t.code, t.status]), Array(5).fill(["invalid_credentials", 401]));
      const { code, status, retryAfter, detail } = tries[5];
      assert.deepEqual([code, status], ["throttled", 429]);
      const answered = api.since(mark).filter((e) => e.method === "POST" && e.path === "/api/token/").at(-1);
      assert.equal(answered.headers["access-control-expose-headers"], undefined, "the page cannot read Retry-After");
      assert.equal(retryAfter, Number(answered.headers["retry-after"]));
      assert.match(detail, new RegExp(`^Request was throttled\\. Expected available in ${retryAfter} seconds?\\.$`));
    }));
});
