// Shared by the browser test files: the test page with the client bundled from
// pkg/src/client.ts, headless Chromium, and tabs in fresh browser contexts.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { chromium } from "playwright-core";

export const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
export const ARTIFACTS = `${ROOT}artifacts/browser`;
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** Polls `fn` until it returns a truthy value; fails after `ms` with `what`. */
export async function until(fn, ms, what) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(100);
  }
}

/** Writes the test page and the client bundle into `dir`; returns the minified bundle's size. */
export async function buildPage(dir) {
  if (!existsSync(`${ROOT}build/worker/shim.mjs`)) throw new Error("build/worker is missing: run `bash scripts/build-worker.sh`");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  cpSync(fileURLToPath(new URL("./page/", import.meta.url)), dir, { recursive: true });
  const common = { entryPoints: [`${ROOT}pkg/src/client.ts`], bundle: true, format: "esm", target: "es2022", logLevel: "warning" };
  await build({ ...common, platform: "browser", outfile: `${dir}/client.js`, sourcemap: "linked" });
  const min = await build({ ...common, minify: true, write: false });
  const bytes = min.outputFiles[0].contents;
  // A lint of the bundle: the client must stay wasm-free and dependency-free.
  assert.doesNotMatch(readFileSync(`${dir}/client.js`, "utf8"), /WebAssembly|\bimport\s*\(|from\s*["']/);
  return { bytes: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
}

/** Headless Chromium (Debian's), installed on first use. */
export async function launchChromium() {
  if (!existsSync(CHROMIUM)) {
    const r = spawnSync("bash", [`${ROOT}scripts/ensure-chromium.sh`], { stdio: "inherit" });
    if (r.status !== 0 || !existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run \`bash scripts/ensure-chromium.sh\``);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

/**
 * Runs `fn([tabs of context 1], …)` with one fresh browser context per entry of `counts`
 * (separate browsers to the issuer), each tab on the test page at `base`. `init` runs in every
 * page before its scripts (e.g. to take Web Locks away). Screenshots every tab into
 * artifacts/browser/, closes the contexts whatever happens; uncaught page errors fail the test.
 */
export async function inContexts(browser, { name, base, counts, init }, fn) {
  const contexts = [];
  const groups = [];
  const errors = [];
  try {
    for (const [c, pages] of counts.entries()) {
      const context = await browser.newContext({ viewport: { width: 900, height: 420 } });
      if (init) await context.addInitScript(init);
      contexts.push(context);
      const tabs = [];
      groups.push(tabs);
      for (let i = 0; i < pages; i++) {
        const label = counts.length > 1 ? `browser ${c + 1} tab ${i + 1}` : `tab ${i + 1}`;
        const page = await context.newPage();
        page.on("pageerror", (err) => errors.push(`${label}: ${err.message}`));
        if (process.env.EDGEJWT_DEBUG) page.on("console", (m) => console.log(`[${label}] ${m.type()}: ${m.text()}`));
        await page.goto(`${base}/`);
        await page.waitForFunction(() => window.edgejwtReady === true);
        tabs.push(page);
      }
    }
    await fn(groups);
    assert.deepEqual(errors, [], "uncaught errors in the page");
  } finally {
    mkdirSync(ARTIFACTS, { recursive: true });
    for (const [c, tabs] of groups.entries()) {
      for (const [i, page] of tabs.entries()) {
        const file = `${ARTIFACTS}/${name}${groups.length > 1 ? `-browser${c + 1}` : ""}${tabs.length > 1 ? `-tab${i + 1}` : ""}.png`;
        await page.screenshot({ path: file, fullPage: true }).catch((err) => console.log(`screenshot ${file}: ${err.message}`));
      }
    }
    for (const context of contexts) await context.close().catch(() => {});
  }
}

/** Takes the Web Locks API away (an init script): the client must fall back to its localStorage lease. */
export const withoutWebLocks = () => {
  delete Navigator.prototype.locks;
};

/**
 * Starts each tab's `client.refresh()` at one moment, `rounds` times, waiting for all in
 * between: the outcomes per round (`"ok"` or the error code).
 */
export async function refreshBursts(tabs, rounds) {
  const results = [];
  for (let round = 0; round < rounds; round++) {
    const at = Date.now() + 400;
    results.push(
      await Promise.all(
        tabs.map((tab) =>
          tab.evaluate(
            (t) => new Promise((resolve) => setTimeout(() => clients.tab.client.refresh().then(() => resolve("ok"), (e) => resolve(e.code ?? String(e))), t - Date.now())),
            at,
          ),
        ),
      ),
    );
    await sleep(300);
  }
  return results;
}
