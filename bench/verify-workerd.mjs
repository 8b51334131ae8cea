#!/usr/bin/env node
// The verifier inside workerd: one Worker, bundled by wrangler from a project with the packed
// package and jose, verifies a token N times per request with either library. workerd's
// clock only moves on I/O, so time is taken outside: request time for N verifications minus
// an empty request, median of 7. Also the first request of a fresh runtime (wasm
// instantiate + first verify). Part of bench/run.sh.
import { execFileSync } from "node:child_process";
import { readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { Miniflare } from "miniflare";
import * as jose from "jose";
import { installPacked } from "../tests/pkg/packed.mjs";

const ROOT = new URL("../", import.meta.url).pathname;
// 20,000 a sample: at 2,000 (about 10 ms of ours) a request's own jitter moved our rate
// between 113,000 and 198,000 a second in three runs on one machine (2026-12-07).
const N = 20000;

export async function benchVerifyWorkerd() {
  const dir = installPacked();
  // jose as the repository's lockfile pins it (npm ci installed it): linked, so a fresh clone
  // needs no npm cache or network for it (an `npm install --offline jose` did).
  symlinkSync(join(ROOT, "node_modules/jose"), join(dir, "node_modules/jose"), "dir");
  writeFileSync(
    join(dir, "worker.mjs"),
    `import { createVerifier } from "edgejwt";
import * as jose from "jose";
let ours, joseKey, hmac;
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const n = Number(url.searchParams.get("n") ?? 0);
    const lib = url.searchParams.get("lib");
    const token = url.searchParams.get("token");
    if (lib === "edgejwt") {
      ours ??= await createVerifier({ SIGNING_KEY: env.SECRET });
      for (let i = 0; i < n; i++) await ours.verify(token);
    } else if (lib === "await") {
      // What any promise-returning verify pays per call here: the await alone.
      for (let i = 0; i < n; i++) await Promise.resolve(token);
    } else if (lib === "webcrypto") {
      // workerd's native HMAC alone, what a WebCrypto path could not go below: the key
      // imported, the signed bytes and the signature decoded once, only the check per call.
      if (!hmac) {
        const [header, payload, signature] = token.split(".");
        const bytes = (b64) => Uint8Array.from(atob(b64.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
        hmac = {
          key: await crypto.subtle.importKey("raw", new TextEncoder().encode(env.SECRET), { name: "HMAC", hash: "SHA-256" }, false, ["verify"]),
          data: new TextEncoder().encode(header + "." + payload),
          signature: bytes(signature),
        };
      }
      for (let i = 0; i < n; i++) if (!(await crypto.subtle.verify("HMAC", hmac.key, hmac.signature, hmac.data))) throw new Error("HMAC refused");
    } else if (lib === "jose") {
      joseKey ??= new TextEncoder().encode(env.SECRET);
      for (let i = 0; i < n; i++) await jose.jwtVerify(token, joseKey, { algorithms: ["HS256"] });
    }
    return new Response("ok");
  },
};
`,
  );
  writeFileSync(join(dir, "wrangler.toml"), `name = "bench"\nmain = "worker.mjs"\ncompatibility_date = "2025-06-01"\n`);
  execFileSync("node", [join(ROOT, "node_modules/wrangler/bin/wrangler.js"), "deploy", "--dry-run", "--outdir", "dist"], { cwd: dir, stdio: "ignore", env: { ...process.env, WRANGLER_SEND_METRICS: "false" } });
  const main = readdirSync(join(dir, "dist")).find((f) => f.endsWith(".js"));
  const secret = randomBytes(32).toString("base64url");
  const now = Math.floor(Date.now() / 1000);
  const token = await new jose.SignJWT({ token_type: "access", jti: randomBytes(16).toString("hex"), user_id: "1" })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" }).setIssuedAt(now).setExpirationTime(now + 3600).sign(new TextEncoder().encode(secret));
  const start = () =>
    new Miniflare({
      modules: true,
      scriptPath: join(dir, "dist", main),
      modulesRoot: join(dir, "dist"),
      modulesRules: [{ type: "ESModule", include: ["**/*.js"] }, { type: "CompiledWasm", include: ["**/*.wasm"] }],
      compatibilityDate: "2025-06-01",
      bindings: { SECRET: secret },
    });
  const time = async (mf, lib, n) => {
    const t = performance.now();
    const r = await mf.dispatchFetch(`http://bench/?lib=${lib}&n=${n}&token=${token}`);
    await r.text();
    return performance.now() - t;
  };
  const median = (xs) => xs.sort((a, b) => a - b)[xs.length >> 1];

  // First request of a fresh runtime: instantiate the wasm and verify once.
  const cold = [];
  for (let i = 0; i < 5; i++) {
    const mf = start();
    await mf.ready;
    // The runtime's own first request is slow too: the baseline is the third empty one.
    let empty;
    for (let j = 0; j < 3; j++) empty = await time(mf, "none", 0);
    const first = await time(mf, "edgejwt", 1);
    cold.push(first - empty);
    await mf.dispose();
  }

  const mf = start();
  await mf.ready;
  const rates = {};
  try {
    const libs = ["edgejwt", "jose", "webcrypto", "await"];
    for (const lib of libs) await time(mf, lib, N); // warm up: V8 tiers the JS and the wasm up
    // An await costs far less than a verify: N of them end within an empty request's own
    // jitter (the difference came out negative), so that loop runs 100 times longer.
    const count = { edgejwt: N, jose: N, webcrypto: N, await: 100 * N };
    for (const lib of libs) {
      const samples = [];
      for (let i = 0; i < 7; i++) {
        const base = await time(mf, "none", 0);
        samples.push((await time(mf, lib, count[lib])) - base);
      }
      rates[lib] = Math.round(count[lib] / (median(samples) / 1000));
    }
  } finally {
    await mf.dispose();
  }
  return (
    `HS256, ${N} verifications per request, median of 7, workerd from miniflare ${JSON.parse(execFileSync("npm", ["ls", "miniflare", "--json"], { cwd: ROOT, encoding: "utf8" })).dependencies.miniflare.version}:\n\n` +
    `| library | ops/s in workerd |\n|---|---:|\n| edgejwt | ${rates.edgejwt.toLocaleString("en-US")} |\n| jose | ${rates.jose.toLocaleString("en-US")} |\n| edgejwt / jose | ${(rates.edgejwt / rates.jose).toFixed(2)}× |\n| \`crypto.subtle.verify\` HMAC alone, on bytes decoded once (the floor of a WebCrypto HS256 path) | ${rates.webcrypto.toLocaleString("en-US")} |\n| \`await Promise.resolve()\` alone, ${(100 * N).toLocaleString("en-US")} per request (what any async verify pays per call) | ${rates.await.toLocaleString("en-US")} |\n\n` +
    `Of an edgejwt verify's ${(1e6 / rates.edgejwt).toFixed(2)} µs here, the await is ${(1e6 / rates.await).toFixed(2)} µs.\n\n` +
    `First request of a fresh workerd (wasm instantiate + createVerifier + one verify), minus an empty request (the third of a fresh runtime), median of 5: **${median(cold).toFixed(1)} ms**.\n`
  );
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await benchVerifyWorkerd());
