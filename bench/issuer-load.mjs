#!/usr/bin/env node
// Issuer throughput and latency under a bounded loopback load (wrk), against the simplejwt
// reference (gunicorn, one worker per core) and the peer a Workers developer would write by
// hand (bench/peer/: Hono + jose + D1, in the same workerd build) in the same run. The issuer is served by
// workerd through Miniflare (wrangler dev's proxy costs ~5×) on a socket of workerd's own
// (below: DIRECT), with real local D1 and KV. Each product runs with its own defaults (edgejwt: PBKDF2 100,000 iterations;
// Django 6.1: 1,500,000). Part of bench/run.sh.
import { execFile, spawn } from "node:child_process";
import { promisify } from "node:util";
import { createHmac, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { Miniflare } from "miniflare";
import { DIRECT_SOCKET, REFERENCE_KEY, directBase, djangoHash, prepareDatabase, startIssuer } from "../tests/worker/harness.mjs";
import { cpuMs, pidsOf } from "./proc.mjs";
import { peerWorker } from "./peer/options.mjs";

const ROOT = new URL("../", import.meta.url).pathname;
const REFERENCE = process.env.SIMPLEJWT_REFERENCE ?? join(ROOT, "../shared/simplejwt-reference");
const DURATION = process.env.BENCH_SECONDS ?? "8";
// Quick cells while iterating: BENCH_ONLY=floors,verify (default: every cell, every product);
const ONLY = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(",")) : null;
const wants = (cell) => !ONLY || ONLY.has(cell);
const dir = mkdtempSync(join(tmpdir(), "edgejwt-load-"));
// Every Worker is loaded through a socket of workerd's own, as in production: Miniflare's
// default socket goes through its entry Worker, a JS Worker that proxies each request, which
// cut an empty Worker's rate by 3.5× here (2026-12-07) and made every floor mostly its own.
const DIRECT = { host: "127.0.0.1", port: 0, ...DIRECT_SOCKET };

const b64 = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
function refreshToken() {
  const now = Math.floor(Date.now() / 1000);
  const input = `${b64({ alg: "HS256", typ: "JWT" })}.${b64({ token_type: "refresh", exp: now + 86400, iat: now, jti: randomBytes(16).toString("hex"), user_id: "1" })}`;
  return `${input}.${createHmac("sha256", REFERENCE_KEY).update(input).digest("base64url")}`;
}

/** A wrk Lua script: `bodies` cycle one per request (each refresh token used once). */
function script(name, { method = "POST", path, bodies = [], headers = {} }) {
  const file = join(dir, `${name}.lua`);
  const lua = [
    `wrk.method = "${method}"`,
    `wrk.path = "${path}"`,
    `wrk.headers["Content-Type"] = "application/json"`,
    ...Object.entries(headers).map(([k, v]) => `wrk.headers["${k}"] = "${v}"`),
    `local bodies = {${bodies.map((b) => JSON.stringify(JSON.stringify(b))).join(",\n")}}`,
    // Each wrk thread has its own Lua state: interleave them so no body is sent twice.
    `local threads = 0`,
    `function setup(thread) thread:set("id", threads); threads = threads + 1 end`,
    `local i = 0`,
    `request = function()`,
    `  if #bodies == 0 then return wrk.format() end`,
    `  local n = i * 2 + (id or 0)`,
    `  i = i + 1`,
    `  return wrk.format(nil, nil, nil, bodies[(n % #bodies) + 1])`,
    `end`,
  ].join("\n");
  writeFileSync(file, lua);
  return file;
}

async function wrk(base, scriptFile, connections, processName = "workerd", seconds = DURATION) {
  // Only one product runs at a time: workerd for a Worker (its HTTP layer, isolate and local
  // D1's SQLite in one process), gunicorn for simplejwt.
  // Only this bench's workerd (Miniflare's child): another workerd on the machine is not ours.
  const pids = () => pidsOf(processName, { children: processName === "workerd" });
  const cpuBefore = cpuMs(pids());
  // Not execFileSync: Miniflare relays workerd's console through this process, and a blocked
  // event loop lets that pipe fill until workerd's every log line (each 404) waits on it.
  const { stdout: out } = await promisify(execFile)("wrk", ["-t2", `-c${connections}`, `-d${seconds}s`, "--latency", "-s", scriptFile, base], { encoding: "utf8" });
  const num = (re) => Number((out.match(re) ?? [])[1] ?? NaN);
  const ms = (re) => {
    const m = out.match(re);
    if (!m) return NaN;
    const v = Number(m[1]);
    return m[2] === "us" ? v / 1000 : m[2] === "s" ? v * 1000 : v;
  };
  const cpu = cpuMs(pids()) - cpuBefore;
  const total = num(/(\d+) requests in/);
  return {
    cpuMs: total > 0 ? cpu / total : NaN,
    rps: num(/Requests\/sec:\s+([\d.]+)/),
    p50: ms(/50%\s+([\d.]+)(us|ms|s)/),
    p99: ms(/99%\s+([\d.]+)(us|ms|s)/),
    non2xx: num(/Non-2xx or 3xx responses:\s+(\d+)/) || 0,
    total,
  };
}

async function startReference() {
  if (!existsSync(join(REFERENCE, "reference/run.sh"))) return null;
  const port = 18000 + Math.floor(Math.random() * 1000);
  const child = spawn(join(REFERENCE, "reference/run.sh"), [String(port)], {
    env: { ...process.env, SIGNING_KEY: REFERENCE_KEY, GUNICORN_WORKERS: String(cpus().length) },
    stdio: "ignore",
    detached: true,
  });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 600; i++) {
    try {
      await fetch(`${base}/api/protected/`);
      return { base, stop: () => process.kill(-child.pid, "SIGTERM") };
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error("reference did not start");
}

/** The hand-written peer (bench/peer/worker.mjs) bundled with esbuild, on local D1. */
async function startPeer() {
  const mf = new Miniflare({ ...(await peerWorker(dir)), ...DIRECT });
  await mf.ready;
  const base = await directBase(mf);
  const db = await mf.getD1Database("DB");
  await prepareDatabase(db, { seed: false });
  await addAlice(db);
  // It must do the work it stands for: a pair, one rotation, the reuse refused.
  const first = await login(base);
  const rotate = (refresh) => fetch(`${base}/api/token/refresh/`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ refresh }) });
  if ((await rotate(first.refresh)).status !== 200 || (await rotate(first.refresh)).status !== 401) throw new Error("the peer does not rotate and blacklist");
  return { base, stop: () => mf.dispose() };
}

/** The user every product logs in as, at edgejwt's default PBKDF2 cost. */
function addAlice(db) {
  return db.prepare("INSERT INTO users (id, username, password) VALUES (1, 'alice', ?1)").bind(djangoHash("alice-password-1", 100_000)).run();
}

/** GET /api/protected/ with `access`. */
function protectedScript(id, access) {
  return script(`${id}-protected`, { method: "GET", path: "/api/protected/", headers: { Authorization: `Bearer ${access}` } });
}

async function login(base) {
  const r = await fetch(`${base}/api/token/`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ username: "alice", password: "alice-password-1" }) });
  return r.json();
}

/**
 * `wrk`, after 2 s of the same load unmeasured (not for a script whose bodies are spent, as
 * refresh's tokens): V8 tiers the wasm and JS up while serving,
 * and an 8 s cell measured cold read from 2,300 to 3,400 req/s for the same verify on one
 * machine (2026-12-07).
 */
async function warmed(base, scriptFile, connections, processName = "workerd") {
  await wrk(base, scriptFile, connections, processName, "2");
  return wrk(base, scriptFile, connections, processName);
}

/** The runtime's own floor: an empty JS Worker, the issuer's 404 written in JS, and the issuer's. */
async function runFloors(issuerBase) {
  // The same 404 written in JS (its headers, body and log line): what the answer itself
  // costs, so that the rest of the gap is the issuer's.
  const drf404 = (log) => `export default { fetch() {
    ${log ? 'console.log("edgejwt: 404 not_found");' : ""}
    return new Response('{"detail":"Not found."}', { status: 404, headers: { "Allow": "POST, OPTIONS", "Vary": "Accept", "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin", "Cross-Origin-Opener-Policy": "same-origin", "Cache-Control": "no-store", "Content-Type": "application/json" } });
  } }`;
  const measure = (base, lua) => warmed(base, lua, 16);
  const jsWorker = async (name, source) => {
    const mf = new Miniflare({ modules: true, script: source, compatibilityDate: "2025-06-01", ...DIRECT });
    try {
      await mf.ready;
      return await measure(await directBase(mf), script(name, { method: "GET", path: "/", bodies: [] }));
    } finally {
      await mf.dispose();
    }
  };
  return {
    bare: await jsWorker("floor-bare", 'export default { fetch() { return new Response("") } }'),
    js404Quiet: await jsWorker("floor-js-404-quiet", drf404(false)),
    js404: await jsWorker("floor-js-404", drf404(true)),
    notFound: await measure(issuerBase, script("floor-404", { method: "GET", path: "/nothing/", bodies: [] })),
  };
}

async function run(name, base, processName = "workerd") {
  const { access } = await login(base);
  const refreshes = Array.from({ length: 40000 }, () => ({ refresh: refreshToken() }));
  const id = name.replace(/\W+/g, "-");
  const cell = (ep, fn) => (wants(ep) ? fn() : null);
  const verify = script(`${id}-verify`, { path: "/api/token/verify/", bodies: [{ token: access }] });
  // Warmed by verify, which sends one body: a warm-up of refresh would spend its tokens.
  return {
    name,
    verify: await cell("verify", () => warmed(base, verify, 16, processName)),
    protected: await cell("protected", () => wrk(base, protectedScript(id, access), 16, processName)),
    refresh: await cell("refresh", () => wrk(base, script(`${id}-refresh`, { path: "/api/token/refresh/", bodies: refreshes }), 16, processName)),
    obtain: await cell("obtain", () => wrk(base, script(`${id}-obtain`, { path: "/api/token/", bodies: [{ username: "alice", password: "alice-password-1" }] }), 4, processName)),
  };
}

export async function benchIssuerLoad() {
  const issuer = await startIssuer({ vars: { PASSWORD_HASH_ITERATIONS: "100000" }, seed: false, direct: true });
  await addAlice(issuer.db);
  const results = [];
  let floors;
  try {
    results.push(await run("edgejwt (workerd)", issuer.base));
    if (wants("floors")) floors = await runFloors(issuer.base);
  } finally {
    await issuer.stop();
  }
  // The same 404 at LOG_LEVEL=ERROR: no log line for a client's error (the issuer's own knob).
  if (floors) {
    const quiet = await startIssuer({ vars: { LOG_LEVEL: "ERROR" }, seed: false, direct: true });
    try {
      floors.notFoundQuiet = await warmed(quiet.base, script("floor-404-quiet", { method: "GET", path: "/nothing/", bodies: [] }), 16);
    } finally {
      await quiet.stop();
    }
  }
  // simplejwt's JWTStatelessUserAuthentication: the user from the token's claims, no D1 read
  let statelessProtected = null;
  if (wants("protected")) {
    const stateless = await startIssuer({ vars: { DEFAULT_AUTHENTICATION_CLASSES: "JWTStatelessUserAuthentication" }, seed: false, direct: true });
    try {
      await addAlice(stateless.db);
      const { access } = await login(stateless.base);
      statelessProtected = await warmed(stateless.base, protectedScript("stateless", access), 16);
    } finally {
      await stateless.stop();
    }
  }
  // BENCH_ONLY without "peer" / "reference" measures the issuer alone.
  const product = (name) => !ONLY || ONLY.has(name);
  let peerResult = null;
  if (product("peer")) {
    const peer = await startPeer();
    try {
      peerResult = await run("Hono + jose + D1 (workerd)", peer.base);
      results.push(peerResult);
    } finally {
      await peer.stop();
    }
  }
  let ref = null;
  const reference = product("reference") ? await startReference() : null;
  if (reference) {
    try {
      ref = await run(`simplejwt (gunicorn × ${cpus().length})`, reference.base, "gunicorn");
      results.push(ref);
    } finally {
      reference.stop();
    }
  }
  const [ours] = results;
  /** A product's cells for one endpoint: req/s (and any non-2xx), p50, p99, CPU ms/req. */
  const cell = (x) =>
    `${Math.round(x.rps).toLocaleString("en-US")}${x.non2xx ? ` (${x.non2xx} non-2xx)` : ""} | ${x.p50.toFixed(2)} | ${x.p99.toFixed(2)} | ${Number.isFinite(x.cpuMs) ? x.cpuMs.toFixed(2) : "n/a"}`;
  const row = (name, x) => `| ${name} | ${Math.round(x.rps).toLocaleString("en-US")} | ${x.p50.toFixed(2)} | ${x.p99.toFixed(2)} | ${x.cpuMs.toFixed(3)} |\n`;
  let md = `wrk -t2, ${DURATION} s per cell, 16 connections (obtain: 4); refresh rotates and blacklists (every request a new token). CPU ms/req: the serving processes' user + system CPU over the cell (/proc; workerd's HTTP layer, isolate and local D1 together; gunicorn's workers) per request. protected (stateless): the issuer with \`DEFAULT_AUTHENTICATION_CLASSES=JWTStatelessUserAuthentication\` (simplejwt's TokenUser from the claims, no user read), its ratios against the others' protected, which read the user.\n\n`;
  md += "| endpoint | " + results.map((r) => `${r.name} req/s | p50 ms | p99 ms | CPU ms/req`).join(" | ") + " | edgejwt / peer | edgejwt / simplejwt |\n";
  md += "|---|" + results.map(() => "---:|---:|---:|---:").join("|") + "|---:|---:|\n";
  for (const ep of ["verify", "protected", "refresh", "obtain"].filter((ep) => ours[ep])) {
    const cells = results.map((r) => cell(r[ep]));
    const ratio = (other) => (other?.[ep]?.rps > 0 ? `${(ours[ep].rps / other[ep].rps).toFixed(2)}×` : "n/a");
    md += `| ${ep} | ${cells.join(" | ")} | ${ratio(peerResult)} | ${ratio(ref)} |\n`;
  }
  if (statelessProtected) {
    // Ours without the user read, against the others' protected (each reads its user).
    const x = statelessProtected;
    const others = results.slice(1).map(() => "— | — | — | —");
    const over = (other) => (other?.protected?.rps > 0 ? `${(x.rps / other.protected.rps).toFixed(2)}×` : "n/a");
    md += `| protected (stateless) | ${[cell(x), ...others].join(" | ")} | ${over(peerResult)} | ${over(ref)} |\n`;
  }
  if (floors) {
    md += "\nFloors in the same workerd and load (16 connections): what any Worker pays before token work.\n\n";
    md += "| request | req/s | p50 ms | p99 ms | CPU ms/req |\n|---|---:|---:|---:|---:|\n";
    md += row("an empty JS Worker (`new Response(\"\")`)", floors.bare);
    md += row("the issuer's 404 written in JS, without its log line (headers and body)", floors.js404Quiet);
    md += row("the issuer's 404 written in JS (same headers, body and log line)", floors.js404);
    md += row("the issuer's 404 (wasm, DRF headers; no token, no storage)", floors.notFound);
    md += row("the issuer's 404 at `LOG_LEVEL=ERROR` (no log line)", floors.notFoundQuiet);
    md += `\nIssuer 404 / empty JS Worker: ${(floors.notFound.rps / floors.bare.rps).toFixed(2)}×; / the same 404 in JS: ${(floors.notFound.rps / floors.js404.rps).toFixed(2)}×. At \`LOG_LEVEL=ERROR\`: ${(floors.notFoundQuiet.rps / floors.bare.rps).toFixed(2)}× the empty Worker; / the same 404 in JS without its log line: ${(floors.notFoundQuiet.rps / floors.js404Quiet.rps).toFixed(2)}×\n`;
  }
  return md;
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await benchIssuerLoad());
