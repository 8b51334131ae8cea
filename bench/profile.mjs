#!/usr/bin/env node
// A CPU profile of the issuer's isolate under load, taken through workerd's inspector (V8's
// sampling profiler over CDP): where a request's time in the isolate goes, by function, for
// the wasm (a build that keeps its function names), the JS glue and the runtime's own work.
// What it cannot see: workerd's HTTP layer and D1, outside the isolate (CPU ms/req in
// issuer-load.mjs counts those). By hand, not part of bench/run.sh:
//
//   node bench/profile.mjs                       # GET /nothing/ (the floor's 404)
//   PROFILE=verify node bench/profile.mjs        # POST /api/token/verify/ with an access token
//   PROFILE=protected node bench/profile.mjs     # GET /api/protected/ (the default D1 user read)
//   PROFILE=peer node bench/profile.mjs          # the same GET /api/protected/ in the Hono + jose peer (bench/peer/)
//   PROFILE=js404 node bench/profile.mjs         # the same 404 written in JS
//   PROFILE=hs256 node bench/profile.mjs         # the package's HS256 verify in a Worker (200 a request)
//   PROFILE_SECONDS=8 PROFILE_TOP=40 ...
import { execFileSync, execFile } from "node:child_process";
import { promisify } from "node:util";
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Miniflare } from "miniflare";
import WebSocket from "ws";
import { djangoHash, issuerWorker, prepareDatabase } from "../tests/worker/harness.mjs";
import { bundledWorker, installPacked } from "../tests/pkg/packed.mjs";
import { peerWorker } from "./peer/options.mjs";

const ROOT = new URL("../", import.meta.url).pathname;
const SECONDS = process.env.PROFILE_SECONDS ?? "6";
const TOP = Number(process.env.PROFILE_TOP ?? 30);
const CELL = process.env.PROFILE ?? "404";
const dir = mkdtempSync(join(tmpdir(), "edgejwt-profile-"));

// The release wasm through wasm-bindgen again, its name section kept (build-worker.sh drops it).
const named = join(dir, "worker");
execFileSync("wasm-bindgen", [join(ROOT, "target/wasm32-unknown-unknown/release/edgejwt_worker.wasm"), "--target", "module", "--out-dir", named, "--out-name", "index", "--no-typescript", "--experimental-reset-state-function"]);
const glue = join(named, "index.js");
writeFileSync(glue, readFileSync(glue, "utf8").replace(/^import source wasmModule from/m, "import wasmModule from"));
copyFileSync(join(ROOT, "crates/worker/js/shim.mjs"), join(named, "shim.mjs"));

const inspectorPort = await new Promise((resolve) => {
  const server = createServer().listen(0, "127.0.0.1", () => {
    const { port } = server.address();
    server.close(() => resolve(port));
  });
});
// PROFILE=js404: the same 404 written in JS (bench/issuer-load.mjs's floor), for comparison.
const JS_404 = `export default { fetch() {
  console.log("edgejwt: 404 not_found");
  return new Response('{"detail":"Not found."}', { status: 404, headers: [["Allow", "POST, OPTIONS"], ["Vary", "Accept"], ["X-Frame-Options", "DENY"], ["X-Content-Type-Options", "nosniff"], ["Referrer-Policy", "same-origin"], ["Cross-Origin-Opener-Policy", "same-origin"], ["Cache-Control", "no-store"], ["Content-Type", "application/json"]] });
} }`;
// PROFILE=hs256: the packed package in a Worker, as bench/verify-workerd.mjs runs it, with the
// package's release wasm through wasm-bindgen and wasm-opt again, names kept (build-pkg.sh drops them).
const SECRET = "profile-secret-of-thirty-two-bytes!!";
function hs256Worker() {
  const consumer = installPacked();
  const wasmDir = join(consumer, "node_modules/edgejwt/dist/wasm");
  execFileSync("wasm-bindgen", [join(ROOT, "target/wasm32-unknown-unknown/release-pkg/edgejwt_wasm.wasm"), "--target", "web", "--out-dir", wasmDir, "--out-name", "edgejwt", "--no-typescript"]);
  const bg = join(wasmDir, "edgejwt_bg.wasm");
  execFileSync(join(ROOT, "node_modules/.bin/wasm-opt"), ["-O3", "-g", "--enable-bulk-memory", "--enable-nontrapping-float-to-int", "--enable-sign-ext", "--enable-mutable-globals", bg, "-o", bg]);
  writeFileSync(join(consumer, "worker.mjs"), `import { createVerifier } from "edgejwt";
let ours;
export default { async fetch(request, env) {
  const token = new URL(request.url).searchParams.get("token");
  ours ??= await createVerifier({ SIGNING_KEY: env.SECRET });
  for (let i = 0; i < 200; i++) await ours.verify(token);
  return new Response("ok");
} };
`);
  return bundledWorker(consumer, "issuer", "worker.mjs", { bindings: { SECRET } });
}
const issuer = { ...issuerWorker({ PASSWORD_HASH_ITERATIONS: "10000" }), scriptPath: join(named, "shim.mjs"), modulesRoot: named };
const worker = CELL === "js404" ? { name: "issuer", modules: true, script: JS_404, compatibilityDate: "2025-06-01" } : CELL === "hs256" ? hs256Worker() : CELL === "peer" ? await peerWorker(dir, "issuer") : issuer;
const mf = new Miniflare({ host: "127.0.0.1", port: 0, inspectorPort, workers: [worker] });
const base = (await mf.ready).href.replace(/\/$/, "");
if (CELL !== "js404" && CELL !== "hs256") {
  const db = await mf.getD1Database("DB", "issuer");
  await prepareDatabase(db, { seed: false });
  await db.prepare("INSERT INTO users (id, username, password) VALUES (1, 'alice', ?1)").bind(djangoHash("alice-password-1", 10000)).run();
}

let lua = `wrk.method = "GET"\nwrk.path = "/nothing/"\n`;
if (CELL === "verify" || CELL === "protected" || CELL === "peer") {
  const r = await fetch(`${base}/api/token/`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ username: "alice", password: "alice-password-1" }) });
  const { access } = await r.json();
  lua =
    CELL === "verify"
      ? `wrk.method = "POST"\nwrk.path = "/api/token/verify/"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = ${JSON.stringify(JSON.stringify({ token: access }))}\n`
      : `wrk.method = "GET"\nwrk.path = "/api/protected/"\nwrk.headers["Authorization"] = "Bearer ${access}"\n`;
}
if (CELL === "hs256") {
  const { createHmac, randomBytes } = await import("node:crypto");
  const b64 = (x) => Buffer.from(typeof x === "string" ? x : JSON.stringify(x)).toString("base64url");
  const now = Math.floor(Date.now() / 1000);
  const input = `${b64({ alg: "HS256", typ: "JWT" })}.${b64({ token_type: "access", exp: now + 3600, iat: now, jti: randomBytes(16).toString("hex"), user_id: "1" })}`;
  lua = `wrk.method = "GET"\nwrk.path = "/?token=${input}.${createHmac("sha256", SECRET).update(input).digest("base64url")}"\n`;
}
const luaFile = join(dir, "cell.lua");
writeFileSync(luaFile, lua);
const load = (seconds) => promisify(execFile)("wrk", ["-t2", "-c16", `-d${seconds}s`, "-s", luaFile, base], { encoding: "utf8" });

const targets = await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json();
const ws = new WebSocket(targets.find((t) => t.id === "core:user:issuer").webSocketDebuggerUrl);
await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
let id = 0;
const pending = new Map();
ws.on("message", (m) => {
  const msg = JSON.parse(m);
  const done = pending.get(msg.id);
  pending.delete(msg.id);
  if (done) msg.error ? done.reject(new Error(msg.error.message)) : done.resolve(msg.result);
});
const call = (method, params = {}) =>
  new Promise((resolve, reject) => {
    pending.set(++id, { resolve, reject });
    ws.send(JSON.stringify({ id, method, params }));
  });

console.log("warm, not profiled:", (await load(2)).stdout.match(/(\d+) requests in/)[1], "requests in 2 s"); // warm: V8's optimized code, as a long-running isolate has it
await call("Profiler.enable");
await call("Profiler.setSamplingInterval", { interval: 50 });
await call("Profiler.start");
const out = (await load(SECONDS)).stdout;
const { profile } = await call("Profiler.stop");
ws.close();
await mf.dispose();

// Per verify in the hs256 cell (200 a request), per request otherwise.
const requests = Number((out.match(/(\d+) requests in/) ?? [])[1]) * (CELL === "hs256" ? 200 : 1);
// Self time per function (V8's samples), and by where the code lives.
const byNode = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map();
for (const sample of profile.samples) {
  const { functionName, url, lineNumber } = byNode.get(sample).callFrame;
  const where = url.startsWith("wasm://") ? "wasm" : url ? url.split("/").pop() : "";
  const key = `${functionName || "(anonymous)"}\t${where}${where && !url.startsWith("wasm://") ? `:${lineNumber + 1}` : ""}`;
  self.set(key, (self.get(key) ?? 0) + 1);
}
const total = profile.samples.length;
const span = (profile.endTime - profile.startTime) / 1000;
const us = (n) => ((n / total) * span * 1000) / requests;
const groups = new Map();
for (const [key, n] of self) {
  const [name, where] = key.split("\t");
  const group = name === "(idle)" ? "idle (isolate waiting)" : where === "wasm" ? "wasm" : where ? `JS (${where.split(":")[0]})` : `runtime ${name}`;
  groups.set(group, (groups.get(group) ?? 0) + n);
}
const busy = total - (groups.get("idle (isolate waiting)") ?? 0);
console.log(`# ${CELL}: ${requests} requests in ${SECONDS} s; ${total} samples over ${span.toFixed(0)} ms; isolate busy ${((busy / total) * 100).toFixed(1)}%, ${us(busy).toFixed(1)} µs per request\n`);
console.log("| where | µs/request | % of busy |\n|---|---:|---:|");
for (const [group, n] of [...groups].sort((a, b) => b[1] - a[1])) {
  if (group.startsWith("idle")) continue;
  console.log(`| ${group} | ${us(n).toFixed(2)} | ${((n / busy) * 100).toFixed(1)} |`);
}
console.log(`\n| function (self time) | where | µs/request | % of busy |\n|---|---|---:|---:|`);
for (const [key, n] of [...self].sort((a, b) => b[1] - a[1]).slice(0, TOP)) {
  const [name, where] = key.split("\t");
  if (name === "(idle)") continue;
  console.log(`| \`${name.replace(/\|/g, "\\|").slice(0, 90)}\` | ${where} | ${us(n).toFixed(2)} | ${((n / busy) * 100).toFixed(1)} |`);
}
