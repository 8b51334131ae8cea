// The package's verifier (its browser entry, pkg/dist/browser.js, unbundled) in headless
// Chromium: every asymmetric algorithm is checked by WebCrypto (the wasm has none),
// cross-checked against jose's tokens (host-algorithms.mjs).
//
//   bash scripts/build-pkg.sh && bash scripts/ensure-chromium.sh
//   node --test tests/pkg/browser/verifier.test.mjs
import { cpSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { after, before, test } from "node:test";
import { assertHostChecks, hostCases, hostCheckSource } from "../host-algorithms.mjs";
import { ARTIFACTS, ROOT, launchChromium } from "./chromium.mjs";
import { startServer } from "./server.mjs";

const DIR = `${ARTIFACTS}/verifier`;
let server;
let browser;

before(async () => {
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
  cpSync(`${ROOT}pkg/dist`, `${DIR}/dist`, { recursive: true });
  writeFileSync(`${DIR}/index.html`, "<!doctype html><title>edgejwt verifier</title>\n");
  server = await startServer({ root: DIR });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close().catch(() => {});
  await server?.stop().catch(() => {});
});

test("Chromium: every asymmetric algorithm (jose's tokens) is checked by WebCrypto, never by wasm", async () => {
  const cases = await hostCases();
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e));
  try {
    await page.goto(`${server.base}/`);
    const out = await page.evaluate(
      async ([source, cases]) => {
        const { createVerifier } = await import("/dist/browser.js");
        // eslint-disable-next-line no-eval -- the shared check, as source (host-algorithms.mjs)
        return (0, eval)(`(${source})`)(createVerifier, cases);
      },
      [hostCheckSource, cases],
    );
    assertHostChecks(out, cases, "Chromium");
    if (errors.length) throw errors[0];
  } finally {
    await page.close();
  }
});
