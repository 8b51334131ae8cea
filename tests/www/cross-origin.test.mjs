// The demo SPA on another origin than the issuer, as deployed: `scripts/dev.sh --cross-origin`
// (the issuer in cookie mode under wrangler dev on http://localhost:$PORT with CORS and
// CSRF_TRUSTED_ORIGINS for the page, the page on http://localhost:$PAGE_PORT), driven by
// headless Chromium. Screenshots: artifacts/www/cross-origin-*.png.
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
const REFRESH_COOKIE = "refresh_token"; // dev.sh's JWT_AUTH_REFRESH_COOKIE

let dev;
let state;
let page_base;
let issuer_base;
let browser;
before(async () => {
  if (!existsSync(CHROMIUM)) spawnSync("bash", [join(ROOT, "scripts/ensure-chromium.sh")], { stdio: "inherit" });
  mkdirSync(ARTIFACTS, { recursive: true });
  const [port, pagePort] = [await freePort(), await freePort()];
  state = mkdtempSync(join(tmpdir(), "edgejwt-www-cross-"));
  dev = spawn("bash", ["scripts/dev.sh", "--cross-origin"], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), PAGE_PORT: String(pagePort), EDGEJWT_STATE: state, ACCESS_TOKEN_LIFETIME: `${LIFETIME}s` },
    stdio: ["ignore", "ignore", "inherit"],
    detached: true,
  });
  page_base = `http://localhost:${pagePort}`;
  issuer_base = `http://localhost:${port}`;
  for (let i = 0; ; i++) {
    try {
      const [page, issuer] = await Promise.all([fetch(`${page_base}/`), fetch(`${issuer_base}/api/token/jwks/`)]);
      if (page.ok && issuer.ok) break;
    } catch {}
    if (i > 1200) throw new Error("dev.sh --cross-origin did not serve the page and the issuer");
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
const claimsOf = async (page) => JSON.parse(await page.textContent("#claims"));
const refreshCookie = async (context) => (await context.cookies()).find((c) => c.name === REFRESH_COOKIE);
/** Records the page's requests to the issuer: [method, path, Origin, status]. */
function issuerRequests(page) {
  const seen = [];
  page.on("response", async (res) => {
    const req = res.request();
    if (req.url().startsWith(issuer_base)) seen.push([req.method(), new URL(req.url()).pathname, (await req.allHeaders()).origin ?? null, res.status()]);
  });
  return seen;
}

test("cross-origin demo in cookie mode: sign in over CORS, the page reads the CSRF token and no refresh token, silent refresh, reload, log out", { timeout: 90_000 }, async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const seen = issuerRequests(page);
  await page.goto(`${page_base}/`);
  await page.waitForSelector("body[data-state=signed-out]");
  assert.equal(await page.isChecked("#mode-cookie"), true, "dev.sh --cross-origin starts the page in cookie mode");
  assert.match(await page.textContent("#issuer"), new RegExp(`Issuer: ${issuer_base} \\(another origin: CORS\\), in cookie mode\\.`));
  await signIn(page);
  await page.waitForSelector("body[data-state=signed-in]");
  const claims = await claimsOf(page);
  assert.equal(claims.exp - claims.iat, LIFETIME);
  // The cookies: the refresh token HttpOnly (for the issuer's /api/), the CSRF token readable.
  const cookie = await refreshCookie(context);
  assert.deepEqual([cookie.domain, cookie.path, cookie.httpOnly, cookie.secure, cookie.sameSite], ["localhost", "/api/", true, true, "Lax"]);
  assert.equal(await page.getAttribute("#csrf-state", "data-present"), "true");
  assert.equal(await page.getAttribute("#refresh-state", "data-visible"), "false");
  const shown = await page.textContent("#cookie-view");
  assert.match(shown, /^document\.cookie = "csrftoken=[A-Za-z0-9]{32}"$/);
  assert.ok(!shown.includes(cookie.value));
  assert.deepEqual(await page.evaluate(() => Object.keys(localStorage)), [], "nothing in localStorage");
  assert.equal(await callApi(page), '200 {"user_id":1,"username":"alice"}');
  await page.screenshot({ path: join(ARTIFACTS, "cross-origin-1-signed-in.png"), fullPage: true });

  // Past the first access token's expiry: refreshed by the cookie, across origins.
  await page.waitForTimeout((LIFETIME + 2) * 1000);
  const refreshed = seen.filter(([m, p]) => m === "POST" && p === "/api/token/refresh/");
  assert.ok(refreshed.length >= 1, JSON.stringify(seen));
  assert.deepEqual(refreshed.map((r) => [r[2], r[3]]), refreshed.map(() => [page_base, 200]));
  assert.equal(await callApi(page), '200 {"user_id":1,"username":"alice"}');
  assert.notEqual((await refreshCookie(context)).value, cookie.value, "the cookie rotated");

  // A reload keeps the session: restored from the cookie.
  await page.reload();
  await page.waitForSelector("body[data-state=signed-in]");
  assert.equal((await claimsOf(page)).sid, claims.sid);
  assert.match(await page.textContent("#timeline"), /session restored from the refresh cookie/);
  assert.equal(await callApi(page), '200 {"user_id":1,"username":"alice"}');

  await page.click("#logout");
  await page.waitForSelector("body[data-state=signed-out]");
  assert.equal(await refreshCookie(context), undefined, "logout cleared the refresh cookie");
  assert.match(await callApi(page), /^401 /);
  await page.reload();
  await page.waitForSelector("body[data-state=signed-out]");
  await page.screenshot({ path: join(ARTIFACTS, "cross-origin-2-signed-out.png"), fullPage: true });
  // Every request to the issuer came from the page's origin.
  assert.deepEqual([...new Set(seen.map((r) => r[2]))], [page_base]);
  await context.close();
});

test("the sixth failed sign-in is throttled: the message counts the wait down and sign-in stays disabled", { timeout: 60_000 }, async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${page_base}/`);
  await page.waitForSelector("body[data-state=signed-out]");
  for (let i = 1; i <= 5; i++) {
    await signIn(page, "mallory", `guess-${i}`);
    await page.waitForFunction((n) => [...document.querySelectorAll("#timeline li")].filter((li) => li.textContent.includes("login failed")).length >= n, i);
    assert.equal(await page.isHidden("#throttle"), true);
  }
  const answer = page.waitForResponse((r) => r.url() === `${issuer_base}/api/token/` && r.request().method() === "POST");
  await signIn(page, "mallory", "guess-6");
  const headers = (await answer).headers();
  await page.waitForSelector("#throttle:not([hidden])");
  const first = Number(await page.getAttribute("#throttle", "data-remaining"));
  assert.ok(first >= 1 && first <= 60, `wait ${first} s`);
  // dev.sh exposes Retry-After to the page (CORS_EXPOSE_HEADERS), and the page counts down from it.
  assert.match(headers["access-control-expose-headers"] ?? "", /retry-after/i);
  assert.ok(Math.abs(Number(headers["retry-after"]) - first) <= 1, `Retry-After ${headers["retry-after"]}, shown ${first}`);
  assert.match(await page.textContent("#throttle"), new RegExp(`Too many failed sign-ins: try again in ${first} s\\.`));
  assert.equal(await page.isDisabled("#login-form button[type=submit]"), true);
  await page.screenshot({ path: join(ARTIFACTS, "cross-origin-3-throttled.png"), fullPage: true });
  await page.waitForTimeout(2_100);
  const later = Number(await page.getAttribute("#throttle", "data-remaining"));
  assert.ok(later <= first - 2 && later >= first - 3, `counted down from ${first} to ${later}`);
  assert.match(await page.textContent("#timeline"), /Request was throttled\. Expected available in \d+ seconds?\./);
  await context.close();
});

test("the switch to bearer mode against this cookie-mode issuer says why sign-in is refused", { timeout: 30_000 }, async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${page_base}/`);
  await page.waitForSelector("body[data-state=signed-out]");
  await Promise.all([page.waitForNavigation(), page.check("#mode-bearer")]);
  await page.waitForSelector("body[data-state=signed-out]");
  assert.equal(await page.isChecked("#mode-bearer"), true);
  assert.match(await page.textContent("#issuer"), /Sign-in in bearer mode will be refused/);
  await signIn(page);
  await page.waitForSelector("#login-error:not([hidden])");
  assert.match(await page.textContent("#login-error"), /the refresh token is in an HttpOnly cookie: use mode: "cookie"/);
  await context.close();
});
