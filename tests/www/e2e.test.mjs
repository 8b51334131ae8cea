// The demo SPA end to end: the README's run command (scripts/dev.sh: wrangler dev with the
// issuer, local D1/KV and www/ as assets) driven by headless Chromium.
// Screenshots: artifacts/www/*.png.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { chromium } from "playwright-core";
import { freePort } from "../worker/harness.mjs";

const ROOT = new URL("../../", import.meta.url).pathname;
const ARTIFACTS = join(ROOT, "artifacts/www");
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const LIFETIME = 8;


let dev;
let state;
let base;
let browser;
before(async () => {
  if (!existsSync(CHROMIUM)) spawnSync("bash", [join(ROOT, "scripts/ensure-chromium.sh")], { stdio: "inherit" });
  mkdirSync(ARTIFACTS, { recursive: true });
  const port = await freePort();
  state = mkdtempSync(join(tmpdir(), "edgejwt-www-"));
  dev = spawn("bash", ["scripts/dev.sh"], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), EDGEJWT_STATE: state, ACCESS_TOKEN_LIFETIME: `${LIFETIME}s` },
    stdio: ["ignore", "ignore", "inherit"],
    detached: true,
  });
  base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${base}/`)).ok) break;
    } catch {}
    if (i > 1200) throw new Error("dev.sh did not serve the page");
    await new Promise((r) => setTimeout(r, 200));
  }
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
});
after(async () => {
  await browser?.close();
  if (dev) process.kill(-dev.pid, "SIGTERM");
  rmSync(state, { recursive: true, force: true });
});

async function signIn(page, username = "alice", password = "alice-password-1") {
  await page.goto(base + "/");
  await page.fill("input[name=username]", username);
  await page.fill("input[name=password]", password);
  await page.click("#login-form button[type=submit]");
}
const callApi = async (page) => {
  await page.click("#call");
  await page.waitForFunction(() => document.getElementById("call-result").textContent !== "");
  const text = await page.textContent("#call-result");
  await page.evaluate(() => (document.getElementById("call-result").textContent = ""));
  return text;
};
const refreshes = (page) => page.$$eval("#timeline li", (lis) => lis.filter((li) => li.textContent.includes("refresh:")).length);
const failures = (page) => page.$$eval("#timeline li", (lis) => lis.filter((li) => li.textContent.includes("auth failure")).length);
/** What the drawn timeline (SVG) shows: access-token bars and marks by kind. */
const chart = (page) =>
  page.$eval("#timeline-chart", (svg) => {
    const count = (kind) => svg.querySelectorAll(`.mark.${kind}`).length;
    return {
      bars: [...svg.querySelectorAll("rect.access[data-jti]")].map((r) => r.dataset.jti),
      login: count("login"), refresh: count("refresh"), rotation: count("rotation"), retry: count("retry"), revoked: count("revoked"), logout: count("logout"),
    };
  });
const claimsOf = async (page) => JSON.parse(await page.textContent("#claims"));
/** The demo's session table: one { sid, current, thisDevice } per row (sid: the row's full sid). */
const sessionRows = (page) =>
  page.$$eval("#sessions tbody tr", (trs) => trs.map((tr) => ({ sid: tr.dataset.sid, current: tr.classList.contains("current"), thisDevice: !!tr.querySelector(".this-device") })));
/** Waits until the page lists the session `sid` (or, with present=false, no longer lists it). */
const waitForSessionRow = (page, sid, present = true) =>
  page.waitForFunction(([s, p]) => !!document.querySelector(`#sessions tbody tr[data-sid="${s}"]`) === p, [sid, present], { timeout: 10_000 });

test("sign in, see the claims, live through expiry with silent refreshes, log out", { timeout: 90_000 }, async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page);
  await page.waitForSelector("body[data-state=signed-in]");
  const claims = JSON.parse(await page.textContent("#claims"));
  assert.equal(claims.user_id, "1");
  assert.equal(claims.token_type, "access");
  assert.equal(claims.exp - claims.iat, LIFETIME);
  await page.waitForFunction(() => /^\d+ s$/.test(document.getElementById("countdown").textContent));
  await page.screenshot({ path: join(ARTIFACTS, "1-signed-in.png") });

  // Past the first access token's expiry: refreshed silently, the API still answers.
  await page.waitForTimeout((LIFETIME + 2) * 1000);
  assert.ok((await refreshes(page)) >= 1, "a silent refresh happened");
  assert.equal(await callApi(page), '200 {"user_id":1,"username":"alice"}');
  const later = JSON.parse(await page.textContent("#claims"));
  assert.notEqual(later.jti, claims.jti);
  assert.equal(later.sid, claims.sid, "same session after rotation");
  // The timeline is drawn: a bar per access token, the refreshes and rotations marked.
  const drawn = await chart(page);
  assert.ok(drawn.bars.includes(claims.jti) && drawn.bars.includes(later.jti), JSON.stringify(drawn));
  assert.ok(drawn.bars.length >= 2 && drawn.login === 1 && drawn.refresh >= 1 && drawn.rotation >= 1, JSON.stringify(drawn));
  await page.screenshot({ path: join(ARTIFACTS, "2-after-refresh.png"), fullPage: true });

  await page.click("#logout");
  await page.waitForSelector("body[data-state=signed-out]");
  assert.match(await callApi(page), /^401 /);
  assert.equal(await failures(page), 0);
  assert.equal((await chart(page)).logout, 1);
  await page.screenshot({ path: join(ARTIFACTS, "3-signed-out.png") });
  await context.close();
});

test("two tabs stay signed in across rotations; logging out in one signs out both", { timeout: 90_000 }, async () => {
  const context = await browser.newContext();
  const [a, b] = [await context.newPage(), await context.newPage()];
  await signIn(a);
  await a.waitForSelector("body[data-state=signed-in]");
  await b.goto(base + "/");
  await b.waitForSelector("body[data-state=signed-in]");
  // Two access lifetimes: both tabs refresh, and neither reuses a rotated-out token.
  await a.waitForTimeout(2 * LIFETIME * 1000 + 1000);
  for (const page of [a, b]) {
    assert.equal(await page.getAttribute("body", "data-state"), "signed-in");
    assert.equal(await failures(page), 0);
    assert.equal(await callApi(page), '200 {"user_id":1,"username":"alice"}');
  }
  await b.screenshot({ path: join(ARTIFACTS, "4-second-tab.png") });
  await a.click("#logout");
  await b.waitForSelector("body[data-state=signed-out]");
  assert.match(await callApi(b), /^401 /);
  await context.close();
});

test("a refresh answer lost after the issuer handled it: a grace-window retry, drawn, and still signed in", { timeout: 60_000 }, async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  let calls = 0;
  let handled = null;
  await page.route("**/api/token/refresh/", async (route) => {
    if (calls++ === 0) {
      const res = await route.fetch(); // the issuer rotates the refresh token...
      handled = res.status();
      await route.abort(); // ...and the answer never reaches the page
    } else await route.continue();
  });
  await signIn(page);
  await page.waitForSelector("body[data-state=signed-in]");
  const first = await claimsOf(page);
  // The first refresh (about LIFETIME/2 in) loses its answer; the retry gets the same child.
  await page.waitForFunction(() => document.querySelector("#timeline-chart .mark.retry") !== null, null, { timeout: LIFETIME * 1000 + 5_000 });
  await page.waitForFunction((jti) => JSON.parse(document.getElementById("claims").textContent || "{}").jti !== jti, first.jti, { timeout: 5_000 });
  assert.equal(handled, 200, "the issuer handled the dropped refresh");
  assert.match(await page.textContent("#timeline"), /grace-window retry 1/);
  assert.equal(await callApi(page), '200 {"user_id":1,"username":"alice"}');
  // Not revoked: the next refreshes (with the child) work too.
  const before = await refreshes(page);
  await page.waitForFunction((n) => [...document.querySelectorAll("#timeline li")].filter((li) => li.textContent.includes("refresh:")).length > n, before, { timeout: LIFETIME * 1000 + 5_000 });
  assert.equal(await page.getAttribute("body", "data-state"), "signed-in");
  assert.equal(await failures(page), 0);
  const drawn = await chart(page);
  assert.ok(drawn.retry >= 1 && drawn.revoked === 0 && drawn.bars.length >= 3, JSON.stringify(drawn));
  assert.equal((await claimsOf(page)).sid, first.sid);
  await page.screenshot({ path: join(ARTIFACTS, "6-grace-retry.png"), fullPage: true });
  await page.click("#logout");
  await page.waitForSelector("body[data-state=signed-out]");
  await context.close();
});

test("sessions: this device marked; revoke another; log out everywhere signs out the other browser", { timeout: 90_000 }, async () => {
  const [ctxA, ctxB] = [await browser.newContext(), await browser.newContext()];
  const [a, b] = [await ctxA.newPage(), await ctxB.newPage()];
  for (const page of [a, b]) {
    await signIn(page);
    await page.waitForSelector("body[data-state=signed-in]");
  }
  const sidA = (await claimsOf(a)).sid;
  let sidB = (await claimsOf(b)).sid;
  await a.click("#sessions-reload");
  await waitForSessionRow(a, sidB);
  const rows = await sessionRows(a);
  assert.deepEqual(rows.filter((r) => r.current), [{ sid: sidA, current: true, thisDevice: true }], JSON.stringify(rows));
  assert.deepEqual(rows.find((r) => r.sid === sidB), { sid: sidB, current: false, thisDevice: false });
  assert.equal(rows[0].sid, sidB, "newest first");
  assert.match(await a.textContent(`#sessions tbody tr[data-sid="${sidA}"]`), /Chrom/, "the user agent is shown");
  await a.screenshot({ path: join(ARTIFACTS, "7-sessions.png"), fullPage: true });

  // Revoke B's session from A: gone from A's list; B is signed out at its next refresh.
  await a.click(`#sessions tbody tr[data-sid="${sidB}"] button.revoke`);
  await waitForSessionRow(a, sidB, false);
  assert.equal(await a.getAttribute("body", "data-state"), "signed-in");
  await b.waitForSelector("body[data-state=signed-out]", { timeout: LIFETIME * 1000 + 5_000 });
  await b.waitForSelector("#revoked-notice:not([hidden])");
  assert.match(await b.textContent("#revoked-notice"), /ended elsewhere/);
  assert.equal((await chart(b)).revoked, 1);
  assert.match(await b.textContent("#timeline"), /revoked: session .* ended by the issuer \(Token is blacklisted\)/);
  await b.screenshot({ path: join(ARTIFACTS, "8-revoked-elsewhere.png"), fullPage: true });
  assert.equal(await callApi(a), '200 {"user_id":1,"username":"alice"}');

  // B signs in again; "Log out everywhere" in A signs out A now and B at its next refresh.
  await signIn(b);
  await b.waitForSelector("body[data-state=signed-in]");
  sidB = (await claimsOf(b)).sid;
  await a.click("#logout-everywhere");
  await a.waitForSelector("body[data-state=signed-out]");
  assert.match(await a.textContent("#timeline"), /logged out everywhere: \d+ sessions? revoked/);
  assert.equal((await chart(a)).revoked, 1);
  await b.waitForSelector("body[data-state=signed-out]", { timeout: LIFETIME * 1000 + 5_000 });
  await b.waitForSelector("#revoked-notice:not([hidden])");
  assert.match(await callApi(b), /^401 /);
  await b.screenshot({ path: join(ARTIFACTS, "9-logged-out-everywhere.png"), fullPage: true });
  await ctxA.close();
  await ctxB.close();
});

test("login errors are clear: wrong password, inactive user", { timeout: 30_000 }, async () => {
  const page = await browser.newPage();
  for (const [user, password] of [["alice", "wrong"], ["bob", "bob-password-1"]]) {
    await signIn(page, user, password);
    await page.waitForSelector("#login-error:not([hidden])");
    assert.match(await page.textContent("#login-error"), /Wrong username or password, or the account is inactive/);
    assert.equal(await page.getAttribute("body", "data-state"), "signed-out");
  }
  await page.screenshot({ path: join(ARTIFACTS, "5-login-error.png") });
  await page.close();
});

test("change password: the issuer's errors per field; then the other sessions are signed out, this one stays", { timeout: 90_000 }, async () => {
  const NEW = "Correct-horse-battery-42";
  const [ctxA, ctxB] = [await browser.newContext(), await browser.newContext()];
  const [a, b] = [await ctxA.newPage(), await ctxB.newPage()];
  for (const page of [a, b]) {
    await signIn(page);
    await page.waitForSelector("body[data-state=signed-in]");
  }
  const submit = async (oldPassword, new1, new2) => {
    await a.fill("input[name=old_password]", oldPassword);
    await a.fill("input[name=new_password1]", new1);
    await a.fill("input[name=new_password2]", new2);
    await a.evaluate(() => (document.getElementById("password-form").dataset.state = ""));
    await a.click("#password-form button[type=submit]");
    await a.waitForSelector("#password-form[data-state=done]");
    return a.$$eval(".field-error:not([hidden])", (ps) => Object.fromEntries(ps.map((p) => [p.dataset.field, p.textContent])));
  };
  assert.deepEqual(await submit("not-the-password", NEW, NEW), { old_password: "Your old password was entered incorrectly. Please enter it again." });
  assert.deepEqual(await submit("alice-password-1", NEW, NEW + "x"), { new_password2: "The two password fields didn’t match." });
  const weak = await submit("alice-password-1", "12345678", "12345678");
  assert.deepEqual(Object.keys(weak), ["new_password2"], JSON.stringify(weak));
  await a.screenshot({ path: join(ARTIFACTS, "10-password-errors.png"), fullPage: true });
  assert.deepEqual(await submit("alice-password-1", NEW, NEW), {});
  assert.match(await a.textContent("#password-result"), /New password has been saved/);

  // B is signed out at its next refresh; A keeps its session through its refreshes.
  await b.waitForSelector("body[data-state=signed-out]", { timeout: LIFETIME * 1000 + 5_000 });
  await b.waitForSelector("#revoked-notice:not([hidden])");
  const n = await refreshes(a);
  await a.waitForFunction((k) => [...document.querySelectorAll("#timeline li")].filter((li) => li.textContent.includes("refresh:")).length > k, n, { timeout: LIFETIME * 1000 + 5_000 });
  assert.equal(await a.getAttribute("body", "data-state"), "signed-in");
  assert.equal(await callApi(a), '200 {"user_id":1,"username":"alice"}');
  // The old password no longer signs in; the new one does.
  await signIn(b, "alice", "alice-password-1");
  await b.waitForSelector("#login-error:not([hidden])");
  await signIn(b, "alice", NEW);
  await b.waitForSelector("body[data-state=signed-in]");
  await a.screenshot({ path: join(ARTIFACTS, "11-password-changed.png"), fullPage: true });
  // Put it back, through the form.
  assert.deepEqual(await submit(NEW, "alice-password-1", "alice-password-1"), {});
  await ctxA.close();
  await ctxB.close();
});
