// The SPA client (pkg/src/client.ts) in bearer mode in headless Chromium against the real
// issuer (workerd via Miniflare, real local D1, KV and the login throttle's Durable Object).
// The page and the issuer's API share one origin through server.mjs, whose proxy log is how
// the tests count refreshes and see the tokens sent; a second server is "another origin".
// Cookie mode: cookie.test.mjs. Shared set-up: chromium.mjs.
//
//   bash scripts/ensure-chromium.sh        # once: Debian's chromium at /usr/bin/chromium
//   node --test tests/pkg/browser/client.test.mjs
//
// Screenshots: artifacts/browser/*.png. The served page and bundle: artifacts/browser/www/.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startIssuer } from "../../worker/harness.mjs";
import { ARTIFACTS, buildPage, inContexts, launchChromium, refreshBursts, sleep, until, withoutWebLocks } from "./chromium.mjs";
import { startServer } from "./server.mjs";

const WWW = `${ARTIFACTS}/www`;
const ALICE = ["alice", "alice-password-1"];
const ACCESS_LIFETIME_S = 4;
const BLACKLISTED = { detail: "Token is blacklisted", code: "token_not_valid" };

let issuer;
let server;
let other; // another origin: the same page, no API (records what is sent to its /api/)
let browser;

before(async () => {
  const size = await buildPage(WWW);
  console.log(`client.ts bundle (esbuild --minify): ${size.bytes} bytes, ${size.gzip} gzip`);
  // The shipped login throttle (per username and address; the harness turns it off).
  issuer = await startIssuer({ vars: { ACCESS_TOKEN_LIFETIME: `${ACCESS_LIFETIME_S}s`, LOGIN_THROTTLE_RATE: "5/min" } });
  server = await startServer({ root: WWW, upstream: issuer.base });
  other = await startServer({ root: WWW });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close().catch(() => {});
  await server?.stop().catch(() => {});
  await other?.stop().catch(() => {});
  await issuer?.stop().catch(() => {});
});

/**
 * Runs `fn(...pages)` with `pages` tabs of one fresh browser context (one origin, shared
 * storage, locks and BroadcastChannel); see inContexts (chromium.mjs).
 */
const inBrowser = (name, pages, fn, init) => inContexts(browser, { name, base: server.base, counts: [pages], init }, ([tabs]) => fn(...tabs));

/**
 * As inBrowser, with one fresh browser context per entry of `counts` (separate browsers to
 * the issuer: separate storage and channels, so separate logins): `fn([tabs of context 1], …)`.
 */
const inBrowsers = (name, counts, fn) => inContexts(browser, { name, base: server.base, counts }, fn);

/** Logs alice in with one client ("tab") in each page, in turn: the session ids. */
async function loginEach(tabs, options) {
  const sids = [];
  for (const tab of tabs) {
    sids.push(await tab.evaluate(async ([o, [username, password]]) => {
      const { client } = makeClient("tab", o);
      await client.login(username, password);
      return client.claims.sid;
    }, [options, ALICE]));
  }
  return sids;
}

/** POSTs a refresh token to the issuer directly (not through the client). */
const refreshAtIssuer = (refresh) => issuer.call("POST", "/api/token/refresh/", { json: { refresh } });

describe("AuthClient in Chromium against the issuer", { concurrency: false }, () => {
  test("1. login, then the timer refreshes before expiry: no 401, rotation stored", { timeout: 30_000 }, () =>
    inBrowser("1-expiry-refresh", 1, async (page) => {
      const mark = server.mark();
      const start = await page.evaluate(async ([username, password]) => {
        const { client } = makeClient("tab", { storage: "localStorage", storageKey: "t1", refreshLeeway: 1 });
        await client.login(username, password);
        startPolling("tab", "/api/protected/", 250);
        return { access: client.accessToken, exp: client.claims.exp, refresh: JSON.parse(localStorage.getItem("t1")).refresh };
      }, ALICE);
      assert.ok(start.exp * 1000 > Date.now(), "the first access token is still valid");

      // Keep calling until the first access token has expired at the issuer.
      await sleep(start.exp * 1000 - Date.now() + 1_200);
      const end = await page.evaluate(async () => {
        stopPolling("tab");
        const { client } = clients.tab;
        const res = await client.fetch("/api/protected/");
        const out = { status: res.status, body: await res.json() };
        client.close();
        return out;
      });
      await sleep(300); // a refresh in flight at close() still lands in storage and the log
      Object.assign(end, await page.evaluate(() => ({ refresh: JSON.parse(localStorage.getItem("t1")).refresh, ...snapshot("tab") })));

      const refreshes = server.refreshes(mark);
      assert.ok(refreshes.length >= 1, "the timer refreshed");
      assert.ok(refreshes[0].at < start.exp * 1000, `first refresh ${start.exp * 1000 - refreshes[0].at} ms before exp`);
      assert.equal(refreshes[0].request.refresh, start.refresh);
      assert.deepEqual(refreshes.map((r) => r.status), refreshes.map(() => 200));
      // No request ever met a 401: the token was renewed ahead of time.
      const calls = server.since(mark).filter((e) => e.path === "/api/protected/");
      assert.ok(calls.length >= 10, `${calls.length} protected calls`);
      assert.deepEqual(calls.filter((e) => e.status !== 200).map((e) => e.status), []);
      assert.ok(end.polls.length >= 10);
      assert.deepEqual(end.polls.filter((p) => p.status !== 200), []);
      // After the first access token expired, the client still gets in; the old token does not.
      assert.equal(end.status, 200);
      assert.deepEqual(end.body, { user_id: 1, username: "alice" });
      assert.equal((await issuer.call("GET", "/api/protected/", { token: start.access })).status, 401);
      assert.ok(end.claims.exp > start.exp);
      // Rotation: storage holds the newest refresh token, the one the issuer handed out last.
      assert.notEqual(end.refresh, start.refresh);
      assert.equal(end.refresh, refreshes.at(-1).response.refresh);
      assert.deepEqual(end.events.map((e) => e.type), ["login", ...refreshes.map(() => "refresh")]);
    }));

  test("2. ten concurrent calls with a dead access token: exactly one refresh, all succeed", { timeout: 30_000 }, () =>
    inBrowser("2-concurrent-401", 1, async (page) => {
      // (a) An access token the issuer refuses (bad signature, exp still in the future):
      // ten 401s, one refresh, ten retries.
      await page.evaluate(async ([username, password]) => {
        const setup = makeClient("setup", { storage: "localStorage", storageKey: "t2" }).client;
        await setup.login(username, password);
        setup.close();
        const stored = JSON.parse(localStorage.getItem("t2"));
        const [h, p, sig] = stored.access.split(".");
        stored.access = [h, p, (sig[0] === "A" ? "B" : "A") + sig.slice(1)].join(".");
        localStorage.setItem("t2", JSON.stringify(stored));
      }, ALICE);
      let mark = server.mark();
      const tampered = await page.evaluate(async () => {
        const { client } = makeClient("tampered", { storage: "localStorage", storageKey: "t2", refreshLeeway: 0 });
        await client.ready;
        const results = await Promise.all(
          Array.from({ length: 10 }, () => client.fetch("/api/protected/").then(async (r) => ({ status: r.status, body: await r.json() }))),
        );
        const events = snapshot("tampered").events.map((e) => e.type);
        client.close();
        return { results, events };
      });
      assert.equal(server.refreshCount(mark), 1, "one refresh for ten 401s");
      assert.deepEqual(tampered.results, Array(10).fill({ status: 200, body: { user_id: 1, username: "alice" } }));
      const calls = server.since(mark).filter((e) => e.path === "/api/protected/");
      assert.equal(calls.filter((e) => e.status === 401).length, 10, "each call met the 401 once");
      assert.equal(calls.filter((e) => e.status === 200).length, 10, "each call was retried once");
      assert.deepEqual(tampered.events, ["refresh"]);

      // (b) An access token that has expired (stored by an earlier page load): the client
      // notices `exp` before sending, and ten callers share one refresh; no 401 at all.
      const exp = await page.evaluate(async ([username, password]) => {
        const setup = makeClient("setup2", { storage: "localStorage", storageKey: "t2b" }).client;
        await setup.login(username, password);
        setup.close();
        return setup.claims.exp;
      }, ALICE);
      await sleep(exp * 1000 - Date.now() + 1_200);
      mark = server.mark();
      const expired = await page.evaluate(async () => {
        const { client } = makeClient("expired", { storage: "localStorage", storageKey: "t2b", refreshLeeway: 0 });
        const results = await Promise.all(Array.from({ length: 10 }, () => client.fetch("/api/protected/").then((r) => r.status)));
        client.close();
        return results;
      });
      assert.deepEqual(expired, Array(10).fill(200));
      assert.equal(server.refreshCount(mark), 1, "one refresh for ten callers");
      assert.deepEqual(server.since(mark).filter((e) => e.status === 401), []);
    }));

  test("3. rotation: the client keeps the newest refresh token; old ones are refused, and replaying one ends the session ('revoked')", { timeout: 30_000 }, () =>
    inBrowser("3-rotation", 1, async (page) => {
      const mark = server.mark();
      const seen = await page.evaluate(async ([username, password]) => {
        const { client, storage } = makeClient("tab", { storage: "recording", refreshLeeway: 0 });
        await client.login(username, password);
        await client.refresh();
        await Promise.all([client.refresh(), client.refresh(), client.refresh()]); // single-flight: one request
        const res = await client.fetch("/api/protected/");
        return { history: storage.history.map((s) => s && s.refresh), status: res.status, sid: client.claims.sid };
      }, ALICE);
      const [r0, r1, r2] = seen.history;
      assert.equal(seen.history.length, 3, "login + two rotations were stored");
      assert.equal(new Set([r0, r1, r2]).size, 3);
      assert.equal(seen.status, 200);
      const refreshes = server.refreshes(mark);
      assert.deepEqual(refreshes.map((r) => r.request.refresh), [r0, r1], "each refresh token was sent once");
      assert.deepEqual(refreshes.map((r) => r.response.refresh), [r1, r2]);
      // The client holds r2: its next refresh sends r2 and succeeds.
      let next = server.mark();
      await page.evaluate(() => clients.tab.client.refresh());
      assert.deepEqual(server.refreshes(next).map((r) => [r.request.refresh, r.status]), [[r2, 200]]);
      const r3 = server.refreshes(next)[0].response.refresh;
      // The rotated-out tokens are refused, and replaying one is reuse: the issuer ends the
      // whole session (reuse detection)...
      for (const old of [r0, r1]) {
        const reuse = await refreshAtIssuer(old);
        assert.equal(reuse.status, 401);
        assert.deepEqual(reuse.json, BLACKLISTED);
      }
      // ...so the client's next refresh, with the newest token, is refused too: `revoked`.
      next = server.mark();
      const refused = await page.evaluate(() => outcome("tab", (c) => c.refresh()));
      assert.deepEqual([refused.code, refused.status, refused.detail], ["refresh_failed", 401, "Token is blacklisted"]);
      assert.deepEqual(server.refreshes(next).map((r) => r.request.refresh), [r3]);
      const s = await page.evaluate(() => snapshot("tab"));
      assert.deepEqual(s.events.map((e) => e.type).slice(-2), ["revoked", "authfailure"]);
      assert.equal(s.events.at(-2).sid, seen.sid);
      assert.equal(s.isAuthenticated, false);
      await page.evaluate(() => clients.tab.client.close());
    }));

  test("4. logout blacklists the refresh token, clears storage, fires 'logout'", { timeout: 30_000 }, () =>
    inBrowser("4-logout", 1, async (page) => {
      const mark = server.mark();
      const result = await page.evaluate(async ([username, password]) => {
        const { client } = makeClient("tab", { storage: "localStorage", storageKey: "t4" });
        await client.login(username, password);
        const before = { refresh: JSON.parse(localStorage.getItem("t4")).refresh, access: client.accessToken, status: (await client.fetch("/api/protected/")).status };
        await client.logout();
        const res = await client.fetch("/api/protected/");
        return { before, stored: localStorage.getItem("t4"), status: res.status, body: await res.json(), ...snapshot("tab") };
      }, ALICE);
      assert.equal(result.before.status, 200);
      const blacklist = server.since(mark).filter((e) => e.path === "/api/token/blacklist/");
      assert.deepEqual(blacklist.map((e) => [e.request, e.status]), [[{ refresh: result.before.refresh }, 200]]);
      const reuse = await refreshAtIssuer(result.before.refresh);
      assert.equal(reuse.status, 401);
      assert.deepEqual(reuse.json, BLACKLISTED);
      assert.equal(result.status, 401, "protected call after logout");
      assert.equal(result.body.detail, "Authentication credentials were not provided.");
      assert.equal(result.stored, null);
      assert.equal(result.isAuthenticated, false);
      assert.equal(result.accessToken, null);
      assert.deepEqual(result.events.map((e) => e.type), ["login", "logout"]);
      // The access token itself lives on at the issuer until it expires (simplejwt's contract).
      const old = await issuer.call("GET", "/api/protected/", { token: result.before.access });
      console.log(`old access token after logout: ${old.status} (expires by itself within ${ACCESS_LIFETIME_S}s)`);
    }));

  for (const storage of ["localStorage", "memory"]) {
    test(`5. two tabs share one session across rotations (${storage}); logout signs out both`, { timeout: 45_000 }, () =>
      inBrowser(`5-two-tabs-${storage}`, 2, async (tabA, tabB) => {
        const options = { storage, storageKey: "t5", channelName: `t5-${storage}`, refreshLeeway: 1 };
        const mark = server.mark();
        // localStorage: tab B is open before the login and hears of it. memory: tab B opens
        // after the login and asks tab A for the session.
        if (storage === "localStorage") await tabB.evaluate((o) => void makeClient("tab", o), options);
        await tabA.evaluate(
          async ([o, [username, password]]) => {
            const { client } = makeClient("tab", o);
            await client.ready;
            await client.login(username, password);
          },
          [options, ALICE],
        );
        if (storage === "memory") {
          assert.equal(await tabB.evaluate(async (o) => (await makeClient("tab", o).client.ready, clients.tab.client.isAuthenticated), options), true);
        }
        await tabB.waitForFunction(() => clients.tab.client.isAuthenticated, null, { timeout: 5_000 });
        for (const tab of [tabA, tabB]) await tab.evaluate(() => startPolling("tab", "/api/protected/", 300));

        // Both tabs' timers come due together, every ~2-3 s: wait for four rotations.
        await until(() => server.refreshCount(mark) >= 4, 25_000, "four rotations");
        // Look in a quiet moment: 300 ms after a rotation (so both tabs have the pair), well
        // before the next one is due.
        const latest = await until(() => {
          const last = server.refreshes(mark).at(-1);
          return last.done && Date.now() - last.done > 300 && last;
        }, 5_000, "a settled rotation");
        for (const tab of [tabA, tabB]) await tab.evaluate(() => stopPolling("tab"));
        const [a, b] = await Promise.all([tabA, tabB].map((tab) => tab.evaluate(() => snapshot("tab"))));

        // Never the same refresh token twice, never a refusal: a chain of rotations.
        const refreshes = server.refreshes(mark).filter((r) => r.status !== undefined);
        assert.deepEqual(refreshes.map((r) => [r.status, r.response.code ?? "ok"]), refreshes.map(() => [200, "ok"]));
        const sent = refreshes.map((r) => r.request.refresh);
        assert.equal(new Set(sent).size, sent.length, "a refresh token was sent twice");
        for (let i = 1; i < refreshes.length; i++) assert.equal(sent[i], refreshes[i - 1].response.refresh, `refresh ${i} used the newest token`);
        // Both tabs stayed signed in, saw the rotations, and agree on the newest access token.
        for (const [tab, s] of [["A", a], ["B", b]]) {
          assert.deepEqual(s.events.filter((e) => e.type === "authfailure" || e.type === "logout"), [], `tab ${tab} events`);
          assert.ok(s.events.filter((e) => e.type === "refresh").length >= 3, `tab ${tab} saw the rotations`);
          assert.ok(s.polls.length >= 10, `tab ${tab} made ${s.polls.length} calls`);
          assert.deepEqual(s.polls.filter((p) => p.status !== 200), [], `tab ${tab} calls`);
          assert.equal(s.isAuthenticated, true);
        }
        assert.equal(a.accessToken, b.accessToken);
        assert.equal(a.accessToken, latest.response.access);
        const calls = server.since(mark).filter((e) => e.path === "/api/protected/" && e.done);
        assert.deepEqual(calls.filter((e) => e.status !== 200).map((e) => e.status), []);

        // A logout in tab A blacklists the newest refresh token and signs out tab B.
        const beforeLogout = server.mark();
        await tabA.evaluate(() => clients.tab.client.logout());
        const newest = server.refreshes(mark).at(-1).response.refresh;
        assert.deepEqual(
          server.since(beforeLogout).filter((e) => e.path === "/api/token/blacklist/").map((e) => [e.request.refresh, e.status]),
          [[newest, 200]],
        );
        await tabB.waitForFunction(() => !clients.tab.client.isAuthenticated && clients.tab.events.some((e) => e.type === "logout"), null, { timeout: 5_000 });
        const afterB = await tabB.evaluate(async () => ({ status: (await clients.tab.client.fetch("/api/protected/")).status, stored: localStorage.getItem("t5") }));
        assert.deepEqual(afterB, { status: 401, stored: null });
        assert.deepEqual((await refreshAtIssuer(newest)).json, BLACKLISTED, "the newest refresh token was blacklisted");
        const final = await Promise.all([tabA, tabB].map((tab) => tab.evaluate(() => snapshot("tab").events.map((e) => e.type))));
        for (const events of final) assert.equal(events.at(-1), "logout");
      }));
  }

  test("6. a wrong password rejects with AuthError('invalid_credentials')", { timeout: 30_000 }, () =>
    inBrowser("6-bad-login", 1, async (page) => {
      const result = await page.evaluate(async () => {
        const { client } = makeClient("tab", { storage: "localStorage", storageKey: "t6" });
        try {
          await client.login("alice", "not-the-password");
          return { resolved: true };
        } catch (err) {
          return {
            isAuthError: err instanceof edgejwt.AuthError,
            name: err.name,
            code: err.code,
            status: err.status,
            detail: err.detail,
            isAuthenticated: client.isAuthenticated,
            stored: localStorage.getItem("t6"),
          };
        }
      });
      assert.deepEqual(result, {
        isAuthError: true,
        name: "AuthError",
        code: "invalid_credentials",
        status: 401,
        detail: "No active account found with the given credentials",
        isAuthenticated: false,
        stored: null,
      });
    }));

  test("7. a slow BroadcastChannel: the other tab waits for the rotated pair instead of spending a dead token", { timeout: 30_000 }, () =>
    inBrowser("7-slow-channel", 2, async (tabA, tabB) => {
      // Memory storage, so the pair can only travel by message, and tab A's messages take
      // 500 ms: tab B gets the refresh lock while A's new pair is still on its way. Only the
      // Web Lock "<channel>:gen:<version>" that A holds tells B the pair exists.
      await tabA.evaluate(() => {
        const post = BroadcastChannel.prototype.postMessage;
        BroadcastChannel.prototype.postMessage = function (message) {
          // Late, so it may land after close(): posting to a closed channel throws, which the
          // client's own post() catches but this delayed one must too.
          setTimeout(() => {
            try {
              post.call(this, message);
            } catch {}
          }, 500);
        };
      });
      const options = { storage: "memory", channelName: "t7" };
      await tabB.evaluate(async (o) => void (await makeClient("tab", o).client.ready), options);
      await tabA.evaluate(async ([o, [username, password]]) => {
        const { client } = makeClient("tab", o);
        await client.ready;
        await client.login(username, password);
      }, [options, ALICE]);
      await tabB.waitForFunction(() => clients.tab.client.isAuthenticated, null, { timeout: 5_000 });
      const mark = server.mark();
      const first = tabA.evaluate(() => clients.tab.client.refresh().then(() => "ok", (e) => e.code));
      await until(() => server.refreshCount(mark) === 1, 5_000, "tab A's refresh"); // A holds the lock
      const second = tabB.evaluate(() => clients.tab.client.refresh().then(() => "ok", (e) => e.code));
      assert.deepEqual([await first, await second], ["ok", "ok"]);
      assert.deepEqual(server.refreshes(mark).map((r) => r.status), [200], "one refresh, no dead token spent");
      const [a, b] = await Promise.all([tabA, tabB].map((tab) => tab.evaluate(() => snapshot("tab"))));
      assert.equal(b.accessToken, a.accessToken);
      assert.equal(a.accessToken, server.refreshes(mark)[0].response.access);
      assert.deepEqual(b.events.map((e) => e.type), ["login", "refresh"]);
      for (const tab of [tabA, tabB]) await tab.evaluate(() => clients.tab.client.close());
    }));
  test("8. a refresh whose answer was lost is resent with the same token: same child, still signed in everywhere, not revoked", { timeout: 30_000 }, () =>
    inBrowser("8-lost-refresh-answer", 2, async (tabA, tabB) => {
      // The issuer handles the first refresh (rotating the token), then the answer is dropped:
      // the client's only copy of the new refresh token is gone. Within the issuer's
      // REFRESH_TOKEN_REUSE_INTERVAL (default 10 s) the same token must get the same child.
      let calls = 0;
      await tabA.context().route("**/api/token/refresh/", async (route) => {
        if (calls++ === 0) {
          await route.fetch(); // reaches the issuer (through the proxy, which logs it)
          await route.abort(); // the page sees a network error
        } else await route.continue();
      });
      const options = { storage: "localStorage", storageKey: "t8", channelName: "t8", refreshLeeway: 0 };
      await tabB.evaluate((o) => void makeClient("tab", o), options);
      await tabA.evaluate(async ([o, [username, password]]) => {
        const { client } = makeClient("tab", o);
        await client.ready;
        await client.login(username, password);
      }, [options, ALICE]);
      await tabB.waitForFunction(() => clients.tab.client.isAuthenticated, null, { timeout: 5_000 });
      const loginRefresh = await tabA.evaluate(() => JSON.parse(localStorage.getItem("t8")).refresh);

      const mark = server.mark();
      assert.equal(await tabA.evaluate(() => clients.tab.client.refresh().then(() => "ok", (e) => e.code)), "ok");
      const [lost, resent] = server.refreshes(mark);
      assert.equal(lost.status, 200, "the issuer handled the first refresh");
      assert.equal(resent.request.refresh, loginRefresh, "the same refresh token was resent");
      assert.equal(lost.request.refresh, loginRefresh);
      assert.equal(resent.status, 200, `grace window: ${JSON.stringify(resent.response)}`);
      assert.equal(resent.response.refresh, lost.response.refresh, "the same child refresh token");
      assert.notEqual(resent.response.access, lost.response.access, "a new access token");

      await tabB.waitForFunction((access) => clients.tab.client.accessToken === access, resent.response.access, { timeout: 5_000 });
      const [a, b] = await Promise.all([tabA, tabB].map((tab) => tab.evaluate(() => snapshot("tab"))));
      assert.deepEqual(a.events.map((e) => e.type), ["login", "refreshretry", "refresh"]);
      assert.equal(a.events[1].attempt, 1);
      assert.equal(a.events[1].error.code, "network_error");
      assert.deepEqual(b.events.map((e) => e.type), ["login", "refresh"]);
      assert.equal(await tabA.evaluate(() => JSON.parse(localStorage.getItem("t8")).refresh), resent.response.refresh);

      // Signed in, protected calls work, and the session was not revoked: the child refreshes.
      for (const tab of [tabA, tabB]) {
        assert.equal(await tab.evaluate(async () => (await clients.tab.client.fetch("/api/protected/")).status), 200);
      }
      const next = server.mark();
      assert.equal(await tabB.evaluate(() => clients.tab.client.refresh().then(() => "ok", (e) => e.code)), "ok");
      const later = server.refreshes(next);
      assert.ok(later.length >= 1);
      assert.equal(later[0].request.refresh, resent.response.refresh, "the child was sent next");
      assert.deepEqual(later.map((r) => r.status), later.map(() => 200));
      for (const tab of [tabA, tabB]) {
        const s = await tab.evaluate(() => snapshot("tab"));
        assert.equal(s.isAuthenticated, true);
        assert.deepEqual(s.events.filter((e) => ["revoked", "authfailure", "logout"].includes(e.type)), []);
      }
      for (const tab of [tabA, tabB]) await tab.evaluate(() => clients.tab.client.close());
    }));

  test("9. logout everywhere in one browser signs out another: its next refresh fails, 'revoked' in every tab", { timeout: 30_000 }, () =>
    inBrowsers("9-logout-everywhere", [2, 2], async ([[one, oneB], [two, twoB]]) => {
      const options = { storage: "localStorage", storageKey: "t9", channelName: "t9", refreshLeeway: 0 };
      for (const tab of [oneB, twoB]) await tab.evaluate((o) => void makeClient("tab", o), options);
      const sid = {};
      for (const [name, tab] of [["one", one], ["two", two]]) {
        sid[name] = await tab.evaluate(async ([o, [username, password]]) => {
          const { client } = makeClient("tab", o);
          await client.ready;
          await client.login(username, password);
          return client.claims.sid;
        }, [options, ALICE]);
      }
      for (const tab of [oneB, twoB]) await tab.waitForFunction(() => clients.tab.client.isAuthenticated, null, { timeout: 5_000 });
      assert.ok(sid.one && sid.two && sid.one !== sid.two, "two logins, two sessions");

      // Each browser lists both sessions, newest first, and marks its own.
      const lists = {};
      for (const [name, tab] of [["one", one], ["two", two]]) {
        lists[name] = await tab.evaluate(async () =>
          (await clients.tab.client.sessions()).map((s) => ({
            sid: s.sid,
            current: s.current,
            dates: [s.created_at, s.last_used_at, s.expires_at].map((d) => d instanceof Date && !Number.isNaN(d.getTime())),
            user_agent: s.user_agent,
          })),
        );
      }
      for (const [name, other] of [["one", "two"], ["two", "one"]]) {
        const mine = lists[name].find((s) => s.sid === sid[name]);
        const theirs = lists[name].find((s) => s.sid === sid[other]);
        assert.ok(mine && theirs, `browser ${name} lists both sessions: ${JSON.stringify(lists[name])}`);
        assert.equal(mine.current, true);
        assert.equal(theirs.current, false);
        assert.deepEqual(mine.dates, [true, true, true], "created_at, last_used_at, expires_at are dates");
        assert.match(mine.user_agent, /Chrom/);
        assert.equal(lists[name].filter((s) => s.current).length, 1);
      }
      assert.ok(lists.two.findIndex((s) => s.sid === sid.two) < lists.two.findIndex((s) => s.sid === sid.one), "newest first");

      const mark = server.mark();
      const revoked = await one.evaluate(() => outcome("tab", (c) => c.logoutEverywhere()));
      assert.equal(revoked.ok, true, JSON.stringify(revoked));
      assert.ok(revoked.value >= 2, `revoked ${revoked.value} sessions`);
      assert.deepEqual(server.since(mark).filter((e) => e.path === "/api/sessions/revoke-all/").map((e) => [e.status, e.response]), [[200, { revoked: revoked.value }]]);
      // Browser one: signed out in both tabs, with `revoked` then `logout`.
      await oneB.waitForFunction(() => !clients.tab.client.isAuthenticated, null, { timeout: 5_000 });
      for (const tab of [one, oneB]) {
        const s = await tab.evaluate(() => ({ ...snapshot("tab"), stored: localStorage.getItem("t9") }));
        assert.equal(s.isAuthenticated, false);
        assert.equal(s.stored, null);
        const ends = s.events.filter((e) => e.type !== "login" && e.type !== "refresh").map((e) => [e.type, e.sid ?? null]);
        // The tab that called it: `revoked`, then `logout`. The other tab may learn of the end
        // from storage (`logout`) a moment before the message that says why (`revoked`).
        if (tab === one) assert.deepEqual(ends, [["revoked", sid.one], ["logout", null]]);
        else assert.deepEqual(ends.sort(), [["logout", null], ["revoked", sid.one]]);
      }

      // Browser two knows nothing yet; its next refresh is refused as blacklisted.
      const heldRefresh = await two.evaluate(() => JSON.parse(localStorage.getItem("t9")).refresh);
      const refreshed = await two.evaluate(() => outcome("tab", (c) => c.refresh()));
      assert.equal(refreshed.ok, false);
      assert.ok(["refresh_failed", "not_authenticated"].includes(refreshed.code), refreshed.code); // or the timer got there first
      const refused = server.since(mark).filter((e) => e.path === "/api/token/refresh/" && e.request?.refresh === heldRefresh);
      assert.deepEqual(refused.map((e) => [e.status, e.response]), [[401, BLACKLISTED]]);
      await twoB.waitForFunction(() => !clients.tab.client.isAuthenticated && clients.tab.events.some((e) => e.type === "revoked"), null, { timeout: 5_000 });
      for (const tab of [two, twoB]) {
        const s = await tab.evaluate(() => ({ ...snapshot("tab"), stored: localStorage.getItem("t9") }));
        assert.equal(s.isAuthenticated, false);
        assert.equal(s.stored, null);
        const revokedEvents = s.events.filter((e) => e.type === "revoked");
        assert.deepEqual(revokedEvents.map((e) => e.sid), [sid.two], "one 'revoked', naming the session");
        for (const e of revokedEvents) if (e.error) assert.deepEqual([e.error.status, e.error.detail], [401, "Token is blacklisted"]);
        assert.ok(s.events.some((e) => e.type === "authfailure" || e.type === "logout"), "and the session ended");
        assert.equal(await tab.evaluate(async () => (await clients.tab.client.fetch("/api/protected/")).status), 401);
      }
      // The tab whose refresh was refused (this one, or the other's timer): `revoked`, then `authfailure`.
      const firsts = await Promise.all([two, twoB].map((tab) => tab.evaluate(() => snapshot("tab").events.filter((e) => e.type !== "login" && e.type !== "refresh").map((e) => e.type))));
      assert.ok(firsts.some((types) => types.join() === "revoked,authfailure"), JSON.stringify(firsts));
    }));

  test("10. revoke one session from another browser; an unknown sid is not_found; revoking this one ends it here", { timeout: 30_000 }, () =>
    inBrowsers("10-revoke-one", [1, 1], async ([[one], [two]]) => {
      const options = { storage: "localStorage", storageKey: "t10", channelName: "t10", refreshLeeway: 0 };
      const sid = await loginEach([one, two], options);
      // Revoke browser two's session from browser one: two's next refresh is refused.
      assert.deepEqual(await one.evaluate((s) => outcome("tab", (c) => c.revokeSession(s)), sid[1]), { ok: true });
      const listed = await one.evaluate(async () => (await clients.tab.client.sessions()).map((s) => s.sid));
      assert.ok(!listed.includes(sid[1]) && listed.includes(sid[0]), JSON.stringify(listed));
      assert.equal((await two.evaluate(() => outcome("tab", (c) => c.refresh()))).ok, false);
      const twoEvents = await two.evaluate(() => snapshot("tab").events.map((e) => [e.type, e.sid ?? e.error?.detail ?? null]));
      assert.deepEqual(twoEvents.slice(-2), [["revoked", sid[1]], ["authfailure", "Token is blacklisted"]]);
      assert.equal(await one.evaluate(() => outcome("tab", (c) => c.refresh()).then((r) => r.ok)), true, "browser one's session lives on");
      for (const unknown of [sid[1], "no-such-session"]) {
        assert.deepEqual(await one.evaluate((s) => outcome("tab", (c) => c.revokeSession(s)), unknown), {
          ok: false, name: "AuthError", code: "not_found", status: 404, detail: "Not found.", fields: null,
        });
      }
      // Revoking this client's own session ends it here: `revoked`, then `logout`.
      assert.deepEqual(await one.evaluate((s) => outcome("tab", (c) => c.revokeSession(s)), sid[0]), { ok: true });
      const oneEvents = await one.evaluate(() => snapshot("tab").events.map((e) => [e.type, e.sid ?? null]));
      assert.deepEqual(oneEvents.slice(-2), [["revoked", sid[0]], ["logout", null]]);
      assert.equal(await one.evaluate(() => clients.tab.client.isAuthenticated), false);
      assert.equal(await one.evaluate(() => localStorage.getItem("t10")), null);
    }));

  test("11. change the password: field errors as `fields`; the other sessions are revoked, this one kept", { timeout: 40_000 }, async () => {
    const NEW_PASSWORD = "Correct-horse-battery-42";
    let changed = false;
    try {
      await inBrowsers("11-password-change", [1, 1], async ([[one], [two]]) => {
        const options = { storage: "localStorage", storageKey: "t11", channelName: "t11", refreshLeeway: 0 };
        const sid = await loginEach([one, two], options);
        const change = (tab, args) => tab.evaluate((a) => outcome("tab", (c) => c.changePassword(...a)), args);
        const wrongOld = await change(one, ["not-the-password", NEW_PASSWORD, NEW_PASSWORD]);
        assert.deepEqual([wrongOld.code, wrongOld.status, wrongOld.fields], ["invalid", 400, { old_password: ["Your old password was entered incorrectly. Please enter it again."] }]);
        const mismatch = await change(one, [ALICE[1], NEW_PASSWORD, NEW_PASSWORD + "x"]);
        assert.deepEqual([mismatch.code, mismatch.status, mismatch.fields], ["invalid", 400, { new_password2: ["The two password fields didn’t match."] }]);
        const weak = await change(one, [ALICE[1], "12345678", "12345678"]);
        assert.deepEqual([weak.code, weak.status, Object.keys(weak.fields ?? {})], ["invalid", 400, ["new_password2"]], JSON.stringify(weak));
        console.log(`validator messages for "12345678": ${JSON.stringify(weak.fields)}`);
        assert.deepEqual(await change(one, [ALICE[1], NEW_PASSWORD, NEW_PASSWORD]), { ok: true });
        changed = true;
        // This session stays; browser two's was revoked.
        assert.equal(await one.evaluate(() => outcome("tab", (c) => c.refresh()).then((r) => r.ok)), true);
        assert.equal(await one.evaluate(async () => (await clients.tab.client.fetch("/api/protected/")).status), 200);
        assert.equal((await two.evaluate(() => outcome("tab", (c) => c.refresh()))).ok, false);
        assert.deepEqual(await two.evaluate(() => snapshot("tab").events.filter((e) => e.type === "revoked").map((e) => e.sid)), [sid[1]]);
        assert.equal((await issuer.call("POST", "/api/token/", { json: { username: "alice", password: ALICE[1] } })).status, 401, "the old password is refused");
        const events = await one.evaluate(() => snapshot("tab").events.map((e) => e.type));
        assert.deepEqual(events.filter((t) => t !== "login" && t !== "refresh"), [], "no end in browser one");
      });
    } finally {
      if (changed) {
        // Put alice's password back for the other tests.
        const { access } = await issuer.login("alice", NEW_PASSWORD);
        const back = await issuer.call("POST", "/api/password/change/", {
          token: access,
          json: { old_password: NEW_PASSWORD, new_password1: ALICE[1], new_password2: ALICE[1] },
        });
        assert.equal(back.status, 200, JSON.stringify(back.json));
      }
    }
  });
  test("12. the bearer goes only to the issuer's origin and apiOrigins, never to another URL", { timeout: 30_000 }, () =>
    inBrowser("12-bearer-origins", 1, async (page) => {
      const mark = other.mark();
      const out = await page.evaluate(async ([username, password, otherBase]) => {
        const call = (client, input) => client.fetch(input).then((r) => r.status, (e) => e.name);
        const plain = makeClient("plain", { channelName: "t12" }).client;
        await plain.login(username, password);
        const listed = makeClient("listed", { channelName: "t12", apiOrigins: [otherBase] }).client;
        await listed.ready; // it has the session from the other client, over the channel
        return {
          access: [plain.accessToken, listed.accessToken],
          own: [await call(plain, "/api/protected/"), await call(plain, `${location.origin}/api/protected/`)],
          elsewhere: [await call(plain, `${otherBase}/api/data/`), await call(plain, new Request(`${otherBase}/api/request/`))],
          listed: await call(listed, `${otherBase}/api/listed/`),
        };
      }, [...ALICE, other.base]);
      assert.equal(out.access[0], out.access[1]);
      assert.deepEqual(out.own, [200, 200]);
      assert.deepEqual([...out.elsewhere, out.listed], [404, 404, 404]);
      // Unlisted: sent as given, no Authorization (so no preflight either); listed: the bearer.
      assert.deepEqual(other.since(mark).map((e) => [e.method, e.path, e.auth]), [
        ["GET", "/api/data/", null],
        ["GET", "/api/request/", null],
        ["OPTIONS", "/api/listed/", null],
        ["GET", "/api/listed/", `Bearer ${out.access[0]}`],
      ]);
      await page.evaluate(() => Object.values(clients).forEach((c) => c.client.close()));
    }));

  test("13. forged, malformed and stale BroadcastChannel messages are ignored", { timeout: 30_000 }, () =>
    inBrowser("13-channel-checks", 2, async (tabA, tabB) => {
      const options = { storage: "memory", channelName: "t13" };
      await tabB.evaluate((o) => {
        window.heard = [];
        new BroadcastChannel(o.channelName).onmessage = (e) => window.heard.push(e.data);
        void makeClient("tab", o);
      }, options);
      await tabA.evaluate(async ([o, [username, password]]) => {
        const { client } = makeClient("tab", o);
        await client.ready;
        await client.login(username, password);
        await client.refresh();
      }, [options, ALICE]);
      const held = await tabA.evaluate(() => clients.tab.client.accessToken);
      await tabB.waitForFunction((a) => clients.tab.client.accessToken === a, held, { timeout: 5_000 });
      const result = await tabB.evaluate(async (name) => {
        const { client, events } = clients.tab;
        const before = { access: client.accessToken, events: events.length };
        const jwt = before.access;
        const later = Date.now() + 1_000;
        const stale = window.heard.find((m) => m.type === "session" && m.kind === "login");
        const session = (fields) => ({ type: "session", kind: "login", session: { access: jwt, refresh: jwt, v: later, skew: 0, ...fields } });
        const messages = [
          null, 42, "session", [], {}, { type: "session" }, { type: "session", kind: "login", session: "x" },
          session({ access: "not-a-jwt" }),
          session({ refresh: "" }), // a bearer session needs a refresh token
          session({ v: 1e300 }), // an impossible version would outrank every real one
          session({ v: Number.MAX_SAFE_INTEGER }),
          session({ v: -1 }),
          session({ v: "9" }),
          session({ skew: "0" }),
          { ...session({}), kind: "takeover" },
          { type: "end", v: Number.MAX_SAFE_INTEGER, reason: "logout" },
          { type: "end", v: "1", reason: "logout" },
          { type: "end", v: later, reason: "bye" },
          { type: "end", v: later, reason: "logout", status: "401" },
          stale, // the login's own message, replayed: older than the session held
          { type: "end", v: stale.session.v, reason: "logout" }, // the end of that older version
        ];
        const spy = new BroadcastChannel(name);
        for (const m of messages) spy.postMessage(m);
        await new Promise((resolve) => setTimeout(resolve, 500));
        return { stale: !!stale, kept: client.accessToken === before.access, authed: client.isAuthenticated, events: events.slice(before.events).map((e) => e.type) };
      }, options.channelName);
      assert.deepEqual(result, { stale: true, kept: true, authed: true, events: [] });
      // The channel still carries real news: a rotation in tab A reaches tab B.
      await tabA.evaluate(() => clients.tab.client.refresh());
      const newest = await tabA.evaluate(() => clients.tab.client.accessToken);
      await tabB.waitForFunction((a) => clients.tab.client.accessToken === a, newest, { timeout: 5_000 });
      for (const tab of [tabA, tabB]) await tab.evaluate(() => clients.tab.client.close());
    }));

  test("14. without Web Locks, three tabs take turns through the localStorage lease: one refresh per burst, each refresh token sent once", { timeout: 40_000 }, () =>
    inBrowser("14-no-locks", 3, async (...tabs) => {
      assert.equal(await tabs[0].evaluate(() => typeof navigator.locks), "undefined");
      const options = { storage: "localStorage", storageKey: "t14", channelName: "t14", refreshLeeway: 0 };
      for (const tab of tabs.slice(1)) await tab.evaluate((o) => void makeClient("tab", o), options);
      const mark = server.mark();
      await tabs[0].evaluate(async ([o, [username, password]]) => {
        const { client } = makeClient("tab", o);
        await client.ready;
        await client.login(username, password);
      }, [options, ALICE]);
      for (const tab of tabs) await tab.waitForFunction(() => clients.tab.client.isAuthenticated, null, { timeout: 5_000 });
      const results = await refreshBursts(tabs, 4);
      assert.deepEqual(results, Array(4).fill(["ok", "ok", "ok"]));
      const sent = server.refreshes(mark);
      assert.deepEqual(sent.map((r) => r.status), [200, 200, 200, 200], "one refresh per burst of three");
      let expected = server.since(mark).find((e) => e.path === "/api/token/").response.refresh;
      for (const r of sent) {
        assert.equal(r.request.refresh, expected, "each refresh sent the newest token, once");
        expected = r.response.refresh;
      }
      const held = await Promise.all(tabs.map((tab) => tab.evaluate(() => [clients.tab.client.accessToken, JSON.parse(localStorage.getItem("t14")).refresh])));
      assert.deepEqual(held, Array(3).fill([sent.at(-1).response.access, expected]), "every tab holds the newest pair");
    }, withoutWebLocks));
  test("15. past the login throttle: AuthError('throttled') with retryAfter, DRF's wait in seconds", { timeout: 30_000 }, () =>
    inBrowser("15-throttled", 1, async (page) => {
      const mark = server.mark();
      const tries = await page.evaluate(async () => {
        makeClient("tab", { channelName: "t15" });
        const out = [];
        for (let i = 1; i <= 6; i++) out.push(await outcome("tab", (c) => c.login("mallory", `guess-${i}`)));
        return out;
      });
      for (const t of tries.slice(0, 5)) assert.deepEqual([t.code, t.status, t.retryAfter], ["invalid_credentials", 401, undefined]);
      const throttled = tries[5];
      assert.deepEqual([throttled.name, throttled.code, throttled.status], ["AuthError", "throttled", 429]);
      assert.ok(Number.isInteger(throttled.retryAfter) && throttled.retryAfter >= 1 && throttled.retryAfter <= 60, `retryAfter ${throttled.retryAfter}`);
      const unit = throttled.retryAfter === 1 ? "second" : "seconds";
      assert.equal(throttled.detail, `Request was throttled. Expected available in ${throttled.retryAfter} ${unit}.`);
      const answered = server.since(mark).filter((e) => e.path === "/api/token/").at(-1);
      assert.equal(answered.headers["retry-after"], String(throttled.retryAfter), "retryAfter is the issuer's Retry-After");
    }));

  test("16. the issuer answering 503 and 500, and the network failing, during the timer's refreshes: still signed in, the timer backs off and recovers", { timeout: 40_000 }, () =>
    inBrowser("16-issuer-failing", 1, async (page) => {
      // The first six refresh requests never reach the issuer: 503, 503, a network error,
      // 500, 503, a network error (as an outage looks from a page). Then the issuer is back.
      const failures = [
        (r) => r.fulfill({ status: 503, contentType: "application/json", body: '{"detail":"Service unavailable"}' }),
        (r) => r.fulfill({ status: 503, contentType: "text/html", body: "<h1>503</h1>" }),
        (r) => r.abort("connectionreset"),
        (r) => r.fulfill({ status: 500, contentType: "application/json", body: '{"detail":"A server error occurred.","code":"server_error"}' }),
        (r) => r.fulfill({ status: 503, body: "" }),
        (r) => r.abort("internetdisconnected"),
      ];
      const attempts = [];
      await page.context().route("**/api/token/refresh/", async (route) => {
        attempts.push(Date.now());
        const fail = failures[attempts.length - 1];
        if (fail) await fail(route);
        else await route.continue();
      });
      const options = { storage: "localStorage", storageKey: "t16", channelName: "t16", refreshLeeway: 0 };
      const mark = server.mark();
      await page.evaluate(async ([o, [username, password]]) => {
        const { client } = makeClient("tab", o);
        await client.login(username, password);
      }, [options, ALICE]);
      const loginRefresh = await page.evaluate(() => JSON.parse(localStorage.getItem("t16")).refresh);
      // The timer fires at the access token's expiry (4 s), fails, and retries with backoff.
      await page.waitForFunction(() => clients.tab.events.some((e) => e.type === "refresh"), null, { timeout: 30_000 });
      const s = await page.evaluate(() => snapshot("tab"));
      assert.equal(s.isAuthenticated, true);
      assert.deepEqual(s.events.filter((e) => ["revoked", "authfailure", "logout"].includes(e.type)), [], "never signed out");
      assert.ok(s.events.filter((e) => e.type === "refreshretry").length >= 2, "answers lost: resent");
      assert.equal(attempts.length, failures.length + 1, "each failure retried, then one success");
      const gaps = attempts.slice(1).map((t, i) => t - attempts[i]);
      assert.ok(Math.max(...gaps) >= 900, `the timer backed off between rounds: gaps ${gaps}`);
      // Only the seventh request reached the issuer, with the login's refresh token: one rotation.
      const reached = server.refreshes(mark);
      assert.equal(reached.length, 1);
      assert.equal(reached[0].request.refresh, loginRefresh);
      assert.equal(reached[0].status, 200);
      assert.equal(await page.evaluate(() => JSON.parse(localStorage.getItem("t16")).refresh), reached[0].response.refresh);
      assert.equal(await page.evaluate(async () => (await clients.tab.client.fetch("/api/protected/")).status), 200);
      await page.evaluate(() => clients.tab.client.close());
    }));
});
