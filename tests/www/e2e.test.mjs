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
  await page.click("button[type=submit]");
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
  await page.screenshot({ path: join(ARTIFACTS, "2-after-refresh.png") });

  await page.click("#logout");
  await page.waitForSelector("body[data-state=signed-out]");
  assert.match(await callApi(page), /^401 /);
  assert.equal(await failures(page), 0);
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
