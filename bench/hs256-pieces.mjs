#!/usr/bin/env node
// What one HS256 verify of the package is made of, in workerd and in Node, for the same
// token and the same build (pkg/dist; bash scripts/build-pkg.sh): the whole `verify`, then
// its parts, each timed alone over many calls (`perCall`; in workerd, as in verify-workerd.mjs,
// request time minus an empty request's: its clock stands still). Part of bench/run.sh.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { Miniflare } from "miniflare";
import { signHS256 } from "../tests/worker/contract-runner.mjs";

const DIST = new URL("../pkg/dist/", import.meta.url).pathname;
const N = 20000;
// The small parts run 10 times as often: a sample must stand above a request's jitter.
const count = (piece) => (/^(TextEncoder|TextDecoder|JSON|Date)/.test(piece) ? 10 * N : N);

/**
 * µs per call of `piece`: the least of 7 samples (on a shared machine, noise only ever adds
 * time) after one unmeasured, which lets V8 tier the JS and the wasm up. `sample(piece, n)`
 * answers the ms that n calls took.
 */
async function perCall(piece, sample) {
  await sample(piece, count(piece));
  const samples = [];
  for (let i = 0; i < 7; i++) samples.push(await sample(piece, count(piece)));
  return (Math.min(...samples) * 1000) / count(piece);
}

// The pieces, as a module both runtimes load: each runs its part `n` times.
const PIECES = `
export function pieces(wasm, memory, Core, verifier, secret, token) {
  const core = new Core(wasm, memory);
  const coreVerifier = core.verifier({ SIGNING_KEY: secret });
  const raw = wasm.create(core.write(JSON.stringify({ SIGNING_KEY: secret })));
  const now = Math.floor(Date.now() / 1000);
  const decoder = new TextDecoder();
  const written = () => core.write(token);
  return {
    "the package's verify (awaited)": async (n) => { for (let i = 0; i < n; i++) await verifier.verify(token); },
    "the core's verify, text in and out (no promise, no JSON.parse)": async (n) => { for (let i = 0; i < n; i++) coreVerifier.verify(token, now); },
    "the wasm's verify alone (HMAC, base64, claims; the token written once)": async (n) => { const len = written(); for (let i = 0; i < n; i++) if (raw.verify(len, now, 0) < 0) throw new Error("refused"); },
    "TextEncoder.encodeInto of the token into the wasm's memory": async (n) => { for (let i = 0; i < n; i++) written(); },
    "TextDecoder.decode of the claims out of it": async (n) => { const k = raw.verify(written(), now, 0); for (let i = 0; i < n; i++) decoder.decode(new Uint8Array(memory.buffer, wasm.outputPointer(), k)); },
    "JSON.parse of the claims": async (n) => { const claims = coreVerifier.verify(token, now); for (let i = 0; i < n; i++) JSON.parse(claims); },
    "Date.now()": async (n) => { let x = 0; for (let i = 0; i < n; i++) x += Date.now(); return x; },
  };
}`;

const WORKER = `
import wasmModule from "./wasm/edgejwt_bg.wasm";
import * as wasm from "./wasm/edgejwt.js";
import { Core } from "./core.js";
import { createVerifier } from "./workerd.js";
import { pieces } from "./pieces.mjs";
let run;
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (!run) {
      const verifier = await createVerifier({ SIGNING_KEY: env.SECRET });
      const { memory } = wasm.initSync({ module: wasmModule }); // the instance workerd.js made
      run = pieces(wasm, memory, Core, verifier, env.SECRET, url.searchParams.get("token"));
    }
    const piece = url.searchParams.get("piece");
    if (piece) await run[piece](Number(url.searchParams.get("n")));
    return new Response("ok");
  },
};`;

export async function benchHs256Pieces() {
  const dir = mkdtempSync(join(tmpdir(), "edgejwt-pieces-"));
  cpSync(DIST, dir, { recursive: true });
  writeFileSync(join(dir, "pieces.mjs"), PIECES);
  writeFileSync(join(dir, "worker.mjs"), WORKER);
  const secret = randomBytes(32).toString("base64url");
  const now = Math.floor(Date.now() / 1000);
  const token = signHS256({ token_type: "access", exp: now + 3600, iat: now, jti: randomBytes(16).toString("hex"), user_id: "1" }, secret);

  const wasm = await import(join(dir, "wasm/edgejwt.js"));
  const { memory } = wasm.initSync({ module: new WebAssembly.Module(readFileSync(join(dir, "wasm/edgejwt_bg.wasm"))) });
  const { Core } = await import(join(dir, "core.js"));
  const { createVerifier } = await import(join(dir, "node.js"));
  const { pieces } = await import(join(dir, "pieces.mjs"));
  const run = pieces(wasm, memory, Core, await createVerifier({ SIGNING_KEY: secret }), secret, token);
  const names = Object.keys(run);
  const inNode = {};
  for (const piece of names) {
    inNode[piece] = await perCall(piece, async (piece, n) => {
      const t = performance.now();
      await run[piece](n);
      return performance.now() - t;
    });
  }
  const mf = new Miniflare({
    modules: true,
    scriptPath: join(dir, "worker.mjs"),
    modulesRoot: dir,
    modulesRules: [{ type: "ESModule", include: ["**/*.js", "**/*.mjs"] }, { type: "CompiledWasm", include: ["**/*.wasm"] }],
    compatibilityDate: "2025-06-01",
    bindings: { SECRET: secret },
  });
  const inWorkerd = {};
  try {
    await mf.ready;
    const time = async (piece, n) => {
      const t = performance.now();
      await (await mf.dispatchFetch(`http://bench/?piece=${encodeURIComponent(piece)}&n=${n}&token=${token}`)).text();
      return performance.now() - t;
    };
    await time("", 0);
    for (const piece of names) inWorkerd[piece] = await perCall(piece, async (piece, n) => {
      const base = await time("", 0);
      return (await time(piece, n)) - base;
    });
  } finally {
    await mf.dispose();
  }

  let md = `HS256, the package's build, ${N.toLocaleString("en-US")} calls per sample (the last four parts: ${(10 * N).toLocaleString("en-US")}), least of 7 samples (µs per call; the parts overlap: the core's verify includes the wasm's, the encode and the decode):\n\n`;
  md += "| part | workerd µs | Node µs |\n|---|---:|---:|\n";
  for (const piece of names) md += `| ${piece} | ${inWorkerd[piece].toFixed(2)} | ${inNode[piece].toFixed(2)} |\n`;
  return md;
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await benchHs256Pieces());
