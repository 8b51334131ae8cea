#!/usr/bin/env node
// The soak: a bounded loopback run of mixed traffic against the issuer in workerd (real local
// D1, KV and the login throttle's Durable Object) with a second Worker that verifies with the
// packed npm package: logins (some wrong), refreshes with rotation, grace-window retries,
// token reuse that ends sessions, verifies, logouts and password changes. Checks: no 5xx;
// every answer the one the client's state predicts (or refused for the documented reason);
// D1 row counts equal what the traffic created; the Cron flush brings them back down;
// each isolate's memory flat (V8's heap and its ArrayBuffers, wasm memory included, read
// through workerd's inspector). Not part of the test command (it runs for minutes).
//
//   SOAK_SECONDS=60 SOAK_CLIENTS=16 node bench/soak.mjs     # prints markdown (bench/SOAK.md)
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createServer } from "node:net";
import { Miniflare } from "miniflare";
import WebSocket from "ws";
import { pidsOf, rssMiB } from "./proc.mjs";
import { KV_ID, REFERENCE_KEY, djangoHash, issuerWorker, prepareDatabase } from "../tests/worker/harness.mjs";
import { bundledWorker, installPacked } from "../tests/pkg/packed.mjs";

const SECONDS = Number(process.env.SOAK_SECONDS ?? 60);
const CLIENTS = Number(process.env.SOAK_CLIENTS ?? 16);
const USERS = 20;
const REUSE_INTERVAL = 2;
const REFRESH_LIFETIME = Math.max(20, Math.floor(SECONDS / 3));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const claims = (t) => JSON.parse(Buffer.from(t.split(".")[1], "base64url"));

// The verifying Worker: the packed package, the issuer's KV for revocations.
const dir = installPacked();
writeFileSync(
  join(dir, "worker.mjs"),
  `import { createVerifier, withAuth } from "edgejwt";
let verifier;
const get = async (env) => (verifier ??= await createVerifier({ SIGNING_KEY: env.SIGNING_KEY }, { revocations: env.REVOCATIONS }));
export default { fetch: withAuth(get, (request, env, ctx, auth) => Response.json({ userId: auth.userId })) };
`,
);
// A free port for workerd's inspector (Miniflare needs a number).
const inspectorPort = await new Promise((resolve) => {
  const server = createServer().listen(0, "127.0.0.1", () => {
    const { port } = server.address();
    server.close(() => resolve(port));
  });
});
const mf = new Miniflare({
  host: "127.0.0.1",
  port: 0,
  inspectorPort,
  workers: [
    issuerWorker({
      REFRESH_TOKEN_REUSE_INTERVAL: String(REUSE_INTERVAL),
      REFRESH_TOKEN_LIFETIME: String(REFRESH_LIFETIME),
      ACCESS_TOKEN_LIFETIME: "60",
      LOGIN_THROTTLE_RATE: "5/min",
      LOGIN_IP_THROTTLE_RATE: "30/min",
    }),
    bundledWorker(dir, "consumer", "worker.mjs", { kvNamespaces: { REVOCATIONS: KV_ID }, bindings: { SIGNING_KEY: REFERENCE_KEY } }),
  ],
});
await mf.ready;
const db = await mf.getD1Database("DB", "issuer");
await prepareDatabase(db, { seed: false });
const passwords = new Map();
for (let id = 1; id <= USERS; id++) {
  passwords.set(`user${id}`, `soak-password-${id}-v0`);
  await db.prepare("INSERT INTO users (id, username, password, is_active) VALUES (?1, ?2, ?3, 1)").bind(id, `user${id}`, djangoHash(`soak-password-${id}-v0`)).run();
}
const issuer = await mf.getWorker("issuer");
const consumer = await mf.getWorker("consumer");

const stats = { requests: 0, fiveXX: 0, unexpected: [], byAction: {}, logins: 0, rotations: 0, graceRetries: 0, reuses: 0, logouts: 0, passwordChanges: 0, throttled: 0, verifies: 0, verifyRefusedRevoked: 0 };
const count = (action, status) => {
  stats.requests++;
  if (status >= 500) stats.fiveXX++;
  const k = `${action} ${status}`;
  stats.byAction[k] = (stats.byAction[k] ?? 0) + 1;
};
const unexpected = (what) => stats.unexpected.length < 20 && stats.unexpected.push(what);

async function call(worker, action, path, { json, token, ip } = {}) {
  const headers = { "Content-Type": "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (ip) headers["CF-Connecting-IP"] = ip;
  const res = await worker.fetch(`http://soak${path}`, { method: json ? "POST" : "GET", headers, body: json ? JSON.stringify(json) : undefined });
  const text = await res.text();
  let body;
  try { body = JSON.parse(text); } catch { body = text; }
  count(action, res.status);
  if (res.status >= 500) unexpected(`${action}: ${res.status} ${text.slice(0, 200)}`);
  return { status: res.status, json: body };
}

// One virtual client: a user signed in on one device, doing what users and attackers do.
async function client(n, deadline) {
  const username = `user${(n % USERS) + 1}`;
  const ip = `10.1.${n >> 8}.${n & 255}`;
  let state = null; // { refresh, access, parent, rotatedAt }
  const login = async () => {
    const r = await call(issuer, "login", "/api/token/", { json: { username, password: passwords.get(username) }, ip });
    if (r.status === 200) {
      stats.logins++;
      state = { refresh: r.json.refresh, access: r.json.access, parent: null, rotatedAt: 0 };
    } else if (r.status === 429) stats.throttled++;
    else unexpected(`login ${r.status} ${JSON.stringify(r.json)}`);
  };
  while (Date.now() < deadline) {
    if (!state) {
      await login();
      continue;
    }
    const dice = Math.random();
    if (dice < 0.35) {
      const r = await call(issuer, "refresh", "/api/token/refresh/", { json: { refresh: state.refresh } });
      if (r.status === 200) {
        stats.rotations++;
        state = { refresh: r.json.refresh, access: r.json.access, parent: state.refresh, rotatedAt: Date.now() };
      } else if (r.status === 401 && r.json.detail === "Token is blacklisted") state = null; // ended elsewhere (password change of this user)
      else unexpected(`refresh ${r.status} ${JSON.stringify(r.json)}`);
    } else if (dice < 0.45 && state.parent && Date.now() - state.rotatedAt < (REUSE_INTERVAL - 1) * 1000) {
      // A lost response retried inside the interval: the same child.
      const r = await call(issuer, "grace", "/api/token/refresh/", { json: { refresh: state.parent } });
      if (r.status === 200 && r.json.refresh === state.refresh) stats.graceRetries++;
      else if (r.status === 401 && r.json.detail === "Token is blacklisted") state = null; // the child was used already: reuse
      else unexpected(`grace ${r.status} ${JSON.stringify(r.json).slice(0, 120)}`);
    } else if (dice < 0.5 && state.parent) {
      // Reuse after the interval (counted in whole seconds: past it by one second at least):
      // the whole session ends, the current token too.
      await sleep((REUSE_INTERVAL + 1) * 1000 + 200);
      const r = await call(issuer, "reuse", "/api/token/refresh/", { json: { refresh: state.parent } });
      if (r.status !== 401 || r.json.detail !== "Token is blacklisted") unexpected(`reuse ${r.status} ${JSON.stringify(r.json)}`);
      const after = await call(issuer, "after-reuse", "/api/token/refresh/", { json: { refresh: state.refresh } });
      if (after.status !== 401) unexpected(`after reuse ${after.status}`);
      const v = await call(consumer, "verify-revoked", "/", { token: state.access });
      if (v.status !== 401) unexpected(`access token of a reused session still verifies: ${v.status}`);
      else stats.verifyRefusedRevoked++;
      stats.reuses++;
      state = null;
    } else if (dice < 0.85) {
      const v = await call(consumer, "verify", "/", { token: state.access });
      stats.verifies++;
      if (v.status === 200) {
        if (v.json.userId !== String((n % USERS) + 1)) unexpected(`verify says user ${v.json.userId}`);
      } else if (v.status === 401) state = null; // revoked by a password change of this user elsewhere
      else unexpected(`verify ${v.status}`);
    } else if (dice < 0.9) {
      const r = await call(issuer, "wrong-password", "/api/token/", { json: { username, password: "wrong" }, ip: `10.2.${n >> 8}.${n & 255}` });
      if (r.status === 429) stats.throttled++;
      else if (r.status !== 401) unexpected(`wrong password ${r.status}`);
    } else if (dice < 0.98) {
      const r = await call(issuer, "logout", "/api/token/blacklist/", { json: { refresh: state.refresh } });
      if (r.status === 200) {
        stats.logouts++;
        const v = await call(consumer, "verify-logged-out", "/", { token: state.access });
        if (v.status !== 401) unexpected(`access token after logout verifies: ${v.status}`);
      } else if (r.status !== 401) unexpected(`logout ${r.status}`);
      state = null;
    } else {
      const old = passwords.get(username);
      const next = `${old.replace(/-v\d+$/, "")}-v${Date.now()}`;
      const r = await call(issuer, "password-change", "/api/password/change/", {
        token: state.access,
        json: { old_password: old, new_password1: next, new_password2: next },
      });
      if (r.status === 200) {
        passwords.set(username, next);
        stats.passwordChanges++;
      } else if (r.status !== 400 && r.status !== 401) unexpected(`password change ${r.status} ${JSON.stringify(r.json)}`);
      state = null;
    }
  }
}

// workerd's resident memory (the runtime Miniflare started), sampled during the run.
const workerdRss = () => rssMiB(pidsOf("workerd"));

// Each Worker's isolate through workerd's inspector (CDP). Runtime.queryObjects finds every
// live WebAssembly.Memory (it collects garbage first) and gives its size: the wasm instance's
// linear memory, which only grows, so a leak in Rust is growth that never stops. After that
// collection, Runtime.getHeapUsage's usedSize is what of V8's JS heap survives.
async function isolate(name) {
  const targets = await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json();
  const target = targets.find((t) => t.id === `core:user:${name}`);
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
  let id = 0;
  let contextId;
  const pending = new Map();
  ws.on("message", (m) => {
    const msg = JSON.parse(m);
    // workerd names no default context: the Worker's is the one its scripts were parsed in.
    if (msg.method === "Debugger.scriptParsed") contextId ??= msg.params.executionContextId;
    const done = pending.get(msg.id);
    pending.delete(msg.id);
    if (done) msg.error ? done.reject(new Error(`${name}: ${msg.error.message}`)) : done.resolve(msg.result);
  });
  const call = (method, params = {}) =>
    new Promise((resolve, reject) => {
      pending.set(++id, { resolve, reject });
      ws.send(JSON.stringify({ id, method, params }));
    });
  await call("Debugger.enable");
  await call("Debugger.disable");
  return {
    async usage() {
      const proto = await call("Runtime.evaluate", { expression: "WebAssembly.Memory.prototype", contextId, objectGroup: "soak" });
      const found = await call("Runtime.queryObjects", { prototypeObjectId: proto.result.objectId, objectGroup: "soak" });
      const sizes = await call("Runtime.callFunctionOn", {
        objectId: found.objects.objectId,
        functionDeclaration: "function () { return this.reduce((n, m) => n + m.buffer.byteLength, 0); }",
        returnByValue: true,
      });
      await call("Runtime.releaseObjectGroup", { objectGroup: "soak" });
      const heap = await call("Runtime.getHeapUsage");
      return { wasm: sizes.result.value / 2 ** 20, js: heap.usedSize / 2 ** 20 };
    },
    close: () => ws.close(),
  };
}
const isolates = { issuer: await isolate("issuer"), consumer: await isolate("consumer") };
const heap = { issuer: [], consumer: [] };

const started = Date.now();
const memory = [];
const sampler = setInterval(() => memory.push([Math.round((Date.now() - started) / 1000), workerdRss()]), 5000);
let sampling = false;
const heapSampler = setInterval(async () => {
  if (sampling) return;
  sampling = true;
  const t = (Date.now() - started) / 1000;
  for (const [name, inspector] of Object.entries(isolates)) heap[name].push({ t, ...(await inspector.usage()) });
  sampling = false;
}, 5000);
await Promise.all(Array.from({ length: CLIENTS }, (_, n) => client(n, started + SECONDS * 1000)));
clearInterval(sampler);
clearInterval(heapSampler);
for (const inspector of Object.values(isolates)) inspector.close();

// Flat: the run in thirds (the first is warm-up). wasm memory in the last third no larger
// than in the middle third, and the JS heap after collection (its median) in the last third
// at most 25% above the middle third's.
function flatness(samples) {
  const third = (i) => samples.filter((s) => s.t >= (SECONDS * i) / 3 && s.t < (SECONDS * (i + 1)) / 3);
  const [middle, last] = [third(1), third(2)];
  const median = (xs) => xs.map((s) => s.js).sort((a, b) => a - b)[xs.length >> 1];
  const most = (xs) => Math.max(...xs.map((s) => s.wasm));
  const r = { js: [median(middle), median(last)], wasm: [most(middle), most(last)] };
  r.flat = middle.length > 0 && last.length > 0 && r.js[1] <= r.js[0] * 1.25 && r.wasm[1] <= r.wasm[0];
  return r;
}
const flat = { issuer: flatness(heap.issuer), consumer: flatness(heap.consumer) };
const elapsed = (Date.now() - started) / 1000;

const rows = async () => ({
  outstanding: (await db.prepare("SELECT COUNT(*) AS n FROM outstanding_tokens").first()).n,
  blacklisted: (await db.prepare("SELECT COUNT(*) AS n FROM blacklisted_tokens").first()).n,
  sessions: (await db.prepare("SELECT COUNT(*) AS n FROM sessions").first()).n,
});
const before = await rows();
// Every login and every rotation recorded exactly one outstanding token; grace retries none.
const expectedOutstanding = stats.logins + stats.rotations;
const live = (await db.prepare("SELECT COUNT(*) AS n FROM outstanding_tokens WHERE expires_at > ?1").bind(Math.floor(Date.now() / 1000)).first()).n;
// The flush (simplejwt's flushexpiredtokens, the daily Cron) once every token of the run
// has expired: it must bring the token tables, and the sessions with them, back to empty.
await sleep((REFRESH_LIFETIME + 2) * 1000);
await issuer.scheduled({ cron: "17 3 * * *" });
const afterFlush = await rows();
await mf.dispose();

const ok = flat.issuer.flat && flat.consumer.flat && stats.fiveXX === 0 && stats.unexpected.length === 0 && before.outstanding === expectedOutstanding && before.sessions === stats.logins && afterFlush.outstanding === 0 && afterFlush.blacklisted === 0 && afterFlush.sessions === 0;
const rate = (n) => (n / elapsed).toFixed(0);
console.log(`Soak run ${new Date().toISOString().slice(0, 10)}: ${elapsed.toFixed(0)} s, ${CLIENTS} clients, ${USERS} users, reuse interval ${REUSE_INTERVAL} s, refresh lifetime ${REFRESH_LIFETIME} s. Reproduce: \`SOAK_SECONDS=${SECONDS} SOAK_CLIENTS=${CLIENTS} node bench/soak.mjs\` (after \`bash scripts/build-worker.sh && bash scripts/build-pkg.sh\`).`);
console.log();
console.log("| figure | value |");
console.log("|---|---:|");
for (const [k, v] of [
  ["requests", `${stats.requests} (${rate(stats.requests)}/s)`],
  ["5xx", stats.fiveXX],
  ["answers the client's state did not predict", stats.unexpected.length],
  ["logins", stats.logins],
  ["rotations", stats.rotations],
  ["grace-window retries (the same child)", stats.graceRetries],
  ["reuses (session ended, its access token refused by the second Worker)", `${stats.reuses} (${stats.verifyRefusedRevoked} refused)`],
  ["verifies in the second Worker", stats.verifies],
  ["logouts", stats.logouts],
  ["password changes", stats.passwordChanges],
  ["throttled logins (429)", stats.throttled],
  ["outstanding tokens: D1 / logins + rotations", `${before.outstanding} / ${expectedOutstanding}`],
  ["sessions: D1 / logins", `${before.sessions} / ${stats.logins}`],
  ["blacklisted tokens", before.blacklisted],
  ["after the flush (outstanding, blacklisted, sessions)", `${afterFlush.outstanding}, ${afterFlush.blacklisted}, ${afterFlush.sessions} (live tokens before it: ${live})`],
  ...Object.entries(flat).map(([name, f]) => [
    `${name} isolate, MiB: wasm memory (most), middle → last third; JS heap after GC (median), middle → last third`,
    `${f.wasm.map((x) => x.toFixed(1)).join(" → ")}; ${f.js.map((x) => x.toFixed(1)).join(" → ")} (${f.flat ? "flat" : "GROWS"})`,
  ]),
  ...Object.entries(heap).map(([name, samples]) => [
    `${name} isolate, every 5 s (t s: wasm MiB / JS MiB)`,
    samples.map((x) => `${x.t.toFixed(0)}: ${x.wasm.toFixed(1)}/${x.js.toFixed(1)}`).join(", "),
  ]),
  ["workerd RSS, MiB (t s: MiB; the process: isolates, SQLite, caches)", memory.map(([t, m]) => `${t}: ${m.toFixed(0)}`).join(", ")],
]) console.log(`| ${k} | ${v} |`);
console.log();
console.log("| action status | count |");
console.log("|---|---:|");
for (const [k, v] of Object.entries(stats.byAction).sort()) console.log(`| ${k} | ${v} |`);
if (stats.unexpected.length) {
  console.log();
  for (const u of stats.unexpected) console.log(`- unexpected: ${u}`);
}
console.log();
console.log(ok ? "Result: **pass**." : "Result: **FAIL**.");
process.exit(ok ? 0 : 1);
