// The SPA client (pkg/src/client.ts) in headless Chromium against the real issuer (workerd via
// Miniflare, real local D1 and KV). The page and the issuer's API share one origin through
// server.mjs, whose proxy log is how the tests count refreshes and see the tokens sent.
//
//   bash scripts/ensure-chromium.sh        # once: Debian's chromium at /usr/bin/chromium
//   node --test tests/pkg/browser/client.test.mjs
//
// Screenshots: artifacts/browser/*.png. The served page and bundle: artifacts/browser/www/.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { after, before, describe, test } from "node:test";
import { build } from "esbuild";
import { chromium } from "playwright-core";
import { startIssuer } from "../../worker/harness.mjs";
import { startServer } from "./server.mjs";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const ARTIFACTS = `${ROOT}artifacts/browser`;
const WWW = `${ARTIFACTS}/www`;
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const ALICE = ["alice", "alice-password-1"];
const ACCESS_LIFETIME_S = 4;
const BLACKLISTED = { detail: "Token is blacklisted", code: "token_not_valid" };

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** Polls `fn` until it returns a truthy value; fails after `ms` with `what`. */
async function until(fn, ms, what) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(100);
  }
}

let issuer;
let server;
let browser;

before(async () => {
  if (!existsSync(`${ROOT}build/worker/shim.mjs`)) throw new Error("build/worker is missing: run `bash scripts/build-worker.sh`");
  if (!existsSync(CHROMIUM)) {
    const r = spawnSync("bash", [`${ROOT}scripts/ensure-chromium.sh`], { stdio: "inherit" });
    if (r.status !== 0 || !existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run \`bash scripts/ensure-chromium.sh\``);
  }
  rmSync(WWW, { recursive: true, force: true });
  mkdirSync(WWW, { recursive: true });
  cpSync(fileURLToPath(new URL("./page/", import.meta.url)), WWW, { recursive: true });
  await build({
    entryPoints: [`${ROOT}pkg/src/client.ts`],
    bundle: true,
    format: "esm",
    target: "es2022",
    platform: "browser",
    outfile: `${WWW}/client.js`,
    sourcemap: "linked",
    logLevel: "warning",
  });
  const min = await build({
    entryPoints: [`${ROOT}pkg/src/client.ts`],
    bundle: true,
    format: "esm",
    target: "es2022",
    minify: true,
    write: false,
    logLevel: "warning",
  });
  const bytes = min.outputFiles[0].contents;
  console.log(`client.ts bundle (esbuild --minify): ${bytes.length} bytes, ${gzipSync(bytes, { level: 9 }).length} gzip`);
  // A lint of the bundle: the client must stay wasm-free and dependency-free.
  assert.doesNotMatch(readFileSync(`${WWW}/client.js`, "utf8"), /WebAssembly|\bimport\s*\(|from\s*["']/);

  issuer = await startIssuer({ vars: { ACCESS_TOKEN_LIFETIME: `${ACCESS_LIFETIME_S}s` } });
  server = await startServer({ root: WWW, upstream: issuer.base });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
});

after(async () => {
  await browser?.close().catch(() => {});
  await server?.stop().catch(() => {});
  await issuer?.stop().catch(() => {});
});

/**
 * Runs `fn(...pages)` with `pages` tabs of one fresh browser context (one origin, shared
 * storage, locks and BroadcastChannel), screenshots every tab into artifacts/browser/ and
 * closes the context whatever happens. Uncaught page errors fail the test.
 */
async function inBrowser(name, pages, fn) {
  const context = await browser.newContext({ viewport: { width: 900, height: 420 } });
  const tabs = [];
  const errors = [];
  try {
    for (let i = 0; i < pages; i++) {
      const page = await context.newPage();
      page.on("pageerror", (err) => errors.push(`tab ${i + 1}: ${err.message}`));
      if (process.env.EDGEJWT_DEBUG) page.on("console", (m) => console.log(`[tab ${i + 1}] ${m.type()}: ${m.text()}`));
      await page.goto(`${server.base}/`);
      await page.waitForFunction(() => window.edgejwtReady === true);
      tabs.push(page);
    }
    await fn(...tabs);
    assert.deepEqual(errors, [], "uncaught errors in the page");
  } finally {
    mkdirSync(ARTIFACTS, { recursive: true });
    for (const [i, page] of tabs.entries()) {
      const file = `${ARTIFACTS}/${name}${tabs.length > 1 ? `-tab${i + 1}` : ""}.png`;
      await page.screenshot({ path: file, fullPage: true }).catch((err) => console.log(`screenshot ${file}: ${err.message}`));
    }
    await context.close().catch(() => {});
  }
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

  test("3. rotation: the client keeps the newest refresh token; the old ones are blacklisted", { timeout: 30_000 }, () =>
    inBrowser("3-rotation", 1, async (page) => {
      const mark = server.mark();
      const seen = await page.evaluate(async ([username, password]) => {
        const { client, storage } = makeClient("tab", { storage: "recording", refreshLeeway: 0 });
        await client.login(username, password);
        await client.refresh();
        await Promise.all([client.refresh(), client.refresh(), client.refresh()]); // single-flight: one request
        const res = await client.fetch("/api/protected/");
        return { history: storage.history.map((s) => s && s.refresh), status: res.status };
      }, ALICE);
      const [r0, r1, r2] = seen.history;
      assert.equal(seen.history.length, 3, "login + two rotations were stored");
      assert.equal(new Set([r0, r1, r2]).size, 3);
      assert.equal(seen.status, 200);
      const refreshes = server.refreshes(mark);
      assert.deepEqual(refreshes.map((r) => r.request.refresh), [r0, r1], "each refresh token was sent once");
      assert.deepEqual(refreshes.map((r) => r.response.refresh), [r1, r2]);
      for (const old of [r0, r1]) {
        const reuse = await refreshAtIssuer(old);
        assert.equal(reuse.status, 401);
        assert.deepEqual(reuse.json, BLACKLISTED);
      }
      // The client holds r2: its next refresh sends r2 and succeeds.
      const next = server.mark();
      await page.evaluate(() => clients.tab.client.refresh());
      assert.deepEqual(server.refreshes(next).map((r) => [r.request.refresh, r.status]), [[r2, 200]]);
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
          setTimeout(() => post.call(this, message), 500);
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
});
