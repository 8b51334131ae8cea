#!/usr/bin/env node
// Records the simplejwt wire contract for the issuer's tests, from the real
// djangorestframework-simplejwt 5.5.1 reference (../shared/simplejwt-reference, or
// SIMPLEJWT_REFERENCE=DIR):
//
//   tests/fixtures/simplejwt-contract.json   the reference's contract.json (requests and
//                                            recorded responses), copied as is
//   tests/fixtures/simplejwt-observed.json   what the reference answers when the same
//                                            runner (tests/worker/contract-runner.mjs)
//                                            replays it, for every combination of
//                                            ROTATE_REFRESH_TOKENS and BLACKLIST_AFTER_ROTATION
//   tests/fixtures/simplejwt-parity-observed.json
//                                            the same for edgejwt's own examples
//                                            (tests/fixtures/parity-examples.json, written
//                                            by hand), replayed on a fresh reference
//
// Tests read only these files. Usage: node scripts/record-simplejwt-contract.mjs [contract] [parity]
// (both without arguments; `parity` alone leaves the contract fixtures as they are).
// run.sh writes .venv/ and var/ into the reference directory: point SIMPLEJWT_REFERENCE at a
// writable copy when the shared one is read-only.
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { runContract } from "../tests/worker/contract-runner.mjs";
import { freePort } from "../tests/worker/harness.mjs";

const ROOT = new URL("../", import.meta.url);
const REFERENCE = process.env.SIMPLEJWT_REFERENCE ?? new URL("../shared/simplejwt-reference/", ROOT).pathname;
const KEY = "conformance-reference-signing-key-0123456789abcdef";
export const CONFIGS = [
  { ROTATE_REFRESH_TOKENS: "true", BLACKLIST_AFTER_ROTATION: "true" },
  { ROTATE_REFRESH_TOKENS: "true", BLACKLIST_AFTER_ROTATION: "false" },
  { ROTATE_REFRESH_TOKENS: "false", BLACKLIST_AFTER_ROTATION: "false" },
  { ROTATE_REFRESH_TOKENS: "false", BLACKLIST_AFTER_ROTATION: "true" },
];


async function withReference(env, fn) {
  const port = await freePort();
  const child = spawn(`${REFERENCE}/reference/run.sh`, [String(port)], {
    env: { ...process.env, ...env, SIGNING_KEY: KEY },
    stdio: "ignore",
    detached: true,
  });
  const base = `http://127.0.0.1:${port}`;
  try {
    for (let i = 0; ; i++) {
      try {
        await fetch(`${base}/api/protected/`);
        break;
      } catch {
        if (i > 300) throw new Error("reference did not start");
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    return await fn(base);
  } finally {
    process.kill(-child.pid, "SIGTERM");
  }
}

const fixture = (name) => new URL(`tests/fixtures/${name}`, ROOT);
const ABOUT = "Recorded from djangorestframework-simplejwt 5.5.1 by scripts/record-simplejwt-contract.mjs";

/** Replays `examples` (contract.json's format) on a fresh reference for every configuration. */
async function record(examples, out) {
  const observed = {};
  for (const config of CONFIGS) {
    const name = `rotate=${config.ROTATE_REFRESH_TOKENS} blacklist_after_rotation=${config.BLACKLIST_AFTER_ROTATION}`;
    observed[name] = await withReference(config, (base) => runContract(base, examples, KEY));
    console.log(`recorded ${Object.keys(observed[name]).length} examples into ${out}: ${name}`);
  }
  writeFileSync(fixture(out), JSON.stringify({ about: ABOUT, observed }, null, 1) + "\n");
}

const which = process.argv.slice(2);
for (const w of which) if (w !== "contract" && w !== "parity") throw new Error(`unknown argument ${w}`);
if (which.length === 0 || which.includes("contract")) {
  const contract = JSON.parse(readFileSync(`${REFERENCE}/contract.json`, "utf8"));
  writeFileSync(fixture("simplejwt-contract.json"), JSON.stringify(contract, null, 1) + "\n");
  await record(contract, "simplejwt-observed.json");
}
if (which.length === 0 || which.includes("parity")) {
  await record(JSON.parse(readFileSync(fixture("parity-examples.json"), "utf8")), "simplejwt-parity-observed.json");
}
