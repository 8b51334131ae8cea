// Runs the built issuer (build/worker) in workerd through Miniflare, with real local D1
// and KV, and seeds the reference's demo users. Shared by the worker tests.
import assert from "node:assert/strict";
import { pbkdf2Sync, randomBytes } from "node:crypto";
import { readFileSync, readdirSync } from "node:fs";
import { createServer } from "node:net";
import { Miniflare } from "miniflare";
import { meterWorker } from "./d1-meter.mjs";

const ROOT = new URL("../../", import.meta.url);
export const REFERENCE_KEY = "conformance-reference-signing-key-0123456789abcdef";
export const TEST_ITERATIONS = 20_000;

/** Django's pbkdf2_sha256 format, made with node:crypto (an implementation independent of ours). */
export function djangoHash(password, iterations = TEST_ITERATIONS, salt = randomBytes(16).toString("hex").slice(0, 22)) {
  const hash = pbkdf2Sync(password, salt, iterations, 32, "sha256").toString("base64");
  return `pbkdf2_sha256$${iterations}$${salt}$${hash}`;
}

/** The statements of migrations/*.sql, in order. */
export function migrationStatements() {
  const dir = new URL("migrations/", ROOT);
  return readdirSync(dir)
    .filter((f) => f.endsWith(".sql"))
    .sort()
    .flatMap((f) =>
      readFileSync(new URL(f, dir), "utf8")
        .split("\n")
        .filter((line) => !line.trim().startsWith("--"))
        .map((line) => line.replace(/\s+--.*$/, ""))
        .join("\n")
        .split(";")
        .map((s) => s.trim())
        .filter(Boolean),
    );
}

export const DEMO_USERS = [
  { id: 1, username: "alice", password: "alice-password-1", is_active: 1, email: "alice@example.com" },
  { id: 2, username: "bob", password: "bob-password-1", is_active: 0, email: "bob@example.com" },
];

/**
 * Starts the issuer. `vars` override settings; `persist` is a directory for D1/KV state
 * (in memory without it); `migrate`/`seed` prepare the database.
 */
/** How Miniflare loads the built Workers: modules and compiled wasm. */
export const MODULE_RULES = [
  { type: "ESModule", include: ["**/*.js", "**/*.mjs"] },
  { type: "CompiledWasm", include: ["**/*.wasm"] },
];
/** The issuer's REVOCATIONS namespace id: Workers of one Miniflare binding it share it. */
export const KV_ID = "00000000000000000000000000000000";

/**
 * The built issuer as one Worker of a Miniflare that runs other Workers next to it (a
 * verifier, a Hono app, a backend-for-frontend): real local D1, the REVOCATIONS KV (shared by
 * id) and the login throttle's Durable Object. `bindings` override the tests' settings.
 */
export function issuerWorker(bindings = {}) {
  return {
    name: "issuer",
    modules: true,
    scriptPath: new URL("build/worker/shim.mjs", ROOT).pathname,
    modulesRoot: new URL("build/worker", ROOT).pathname,
    modulesRules: MODULE_RULES,
    compatibilityDate: "2025-06-01",
    d1Databases: { DB: "00000000-0000-4000-8000-000000000000" },
    kvNamespaces: { REVOCATIONS: KV_ID },
    durableObjects: { LOGIN_THROTTLE: { className: "LoginThrottle", useSQLite: true } },
    bindings: {
      SIGNING_KEY: REFERENCE_KEY,
      PASSWORD_HASH_ITERATIONS: String(TEST_ITERATIONS),
      ROTATE_REFRESH_TOKENS: "true",
      BLACKLIST_AFTER_ROTATION: "true",
      ...bindings,
    },
  };
}

/** Miniflare's options for a Worker served on a socket of workerd's own (`directBase`). */
export const DIRECT_SOCKET = { unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }] };

/** The base URL of `worker`'s direct socket (`DIRECT_SOCKET`), without a trailing slash. */
export async function directBase(mf, worker) {
  return (await mf.unsafeGetDirectURL(worker)).href.replace(/\/$/, "");
}

/** Applies the migrations to the issuer's D1 and, unless `seed` is false, adds the demo users. */
export async function prepareDatabase(db, { seed = true } = {}) {
  await db.batch(migrationStatements().map((s) => db.prepare(s)));
  if (!seed) return;
  for (const u of DEMO_USERS) {
    await db
      .prepare("INSERT INTO users (id, username, password, email, is_active) VALUES (?1, ?2, ?3, ?4, ?5)")
      .bind(u.id, u.username, djangoHash(u.password), u.email, u.is_active)
      .run();
  }
}

export async function startIssuer(options = {}) {
  // Miniflare's synchronous proxy (`db.prepare`) can lose a reply under load (an assertion
  // in its SynchronousFetcher, seen once in CI), which breaks that instance for good: the
  // set-up is retried on a fresh runtime instead of failing a whole suite.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startIssuerOnce(options);
    } catch (error) {
      if (attempt === 3) throw error;
      console.error(`# startIssuer attempt ${attempt} failed, retrying: ${error.message}`);
    }
  }
}

/**
 * Fault injection for the issuer's KV: the real local namespace, wrapped so that `put`
 * fails while the key `fault:put` is set in it (`issuer.failKvPuts(true)`).
 */
const FAULTY_KV = `
export default function (env) {
  const kv = env.KV;
  return {
    get: (...a) => kv.get(...a),
    getWithMetadata: (...a) => kv.getWithMetadata(...a),
    list: (...a) => kv.list(...a),
    delete: (...a) => kv.delete(...a),
    put: async (...a) => {
      if (await kv.get("fault:put")) throw new Error("injected KV put failure");
      return kv.put(...a);
    },
  };
}`;

/** A login throttle that cannot be reached (`brokenThrottle`): every request to it throws. */
const BROKEN_THROTTLE = `
export class Broken {
  async fetch() { throw new Error("injected Durable Object failure"); }
}
export default { fetch: () => new Response("unused") };`;

/**
 * The issuer's entry with WebCrypto's PBKDF2 failing (`failingPbkdf2`): `deriveBits` rejects
 * for PBKDF2, as a runtime without it or with a lower cap would, so the issuer must derive in
 * wasm. GET /__pbkdf2_failures says how many derivations were refused, proving the fault fired.
 */
const FAILING_PBKDF2 = `
import shim from "./shim.mjs";
export * from "./shim.mjs";
let failures = 0;
const deriveBits = SubtleCrypto.prototype.deriveBits;
SubtleCrypto.prototype.deriveBits = function (params, ...rest) {
  if (params?.name === "PBKDF2") {
    failures++;
    return Promise.reject(new DOMException("injected PBKDF2 failure", "OperationError"));
  }
  return deriveBits.call(this, params, ...rest);
};
export default {
  ...shim,
  fetch(request, env, ctx) {
    if (new URL(request.url).pathname === "/__pbkdf2_failures") return new Response(String(failures));
    return shim.fetch(request, env, ctx);
  },
};`;

/** The issuer's D1 database id. */
const D1_ID = "00000000-0000-4000-8000-000000000000";

/**
 * `meterD1`: a `D1Meter` (d1-meter.mjs): the issuer's `DB` is then the meter around the same
 * local D1, and every round trip is recorded in it.
 */
async function startIssuerOnce({ vars = {}, persist, migrate = true, seed = true, faultyKv = false, brokenThrottle = false, meterD1, failingPbkdf2 = false, direct = false }) {
  // What the runtime prints, kept for assertions on logs (and still shown).
  const logs = [];
  const keep = (stream, out) => stream.on("data", (chunk) => (logs.push(String(chunk)), out.write(chunk)));
  const wrapped = {
    ...(faultyKv ? { REVOCATIONS: { scriptName: "faulty-kv" } } : {}),
    ...(meterD1 ? { DB: { scriptName: "d1-meter" } } : {}),
  };
  const issuer = {
    name: "issuer",
    modules: true,
    ...(failingPbkdf2
      ? { script: FAILING_PBKDF2, scriptPath: new URL("build/worker/failing-pbkdf2.mjs", ROOT).pathname }
      : { scriptPath: new URL("build/worker/shim.mjs", ROOT).pathname }),
    modulesRules: MODULE_RULES,
    compatibilityDate: "2025-06-01",
    ...(meterD1 ? {} : { d1Databases: { DB: D1_ID } }),
    ...(faultyKv ? {} : { kvNamespaces: { REVOCATIONS: KV_ID } }),
    wrappedBindings: wrapped,
    // `direct`: a socket of workerd's own for the issuer, past Miniflare's entry Worker (a
    // JS Worker that proxies every request: bench/issuer-load.mjs).
    ...(direct ? DIRECT_SOCKET : {}),
    durableObjects: {
      LOGIN_THROTTLE: brokenThrottle
        ? { className: "Broken", scriptName: "broken-throttle" }
        : { className: "LoginThrottle", useSQLite: true },
    },
    bindings: {
      SIGNING_KEY: REFERENCE_KEY,
      ROTATE_REFRESH_TOKENS: "true",
      BLACKLIST_AFTER_ROTATION: "true",
      PASSWORD_HASH_ITERATIONS: String(TEST_ITERATIONS),
      // Login throttling is off unless a test turns it on (browsers.test.mjs tests it with
      // the shipped rates): the contract suites log in wrongly more than 5 times a minute.
      LOGIN_THROTTLE_RATE: "",
      LOGIN_IP_THROTTLE_RATE: "",
      ...vars,
    },
  };
  const faulty = { name: "faulty-kv", modules: true, script: FAULTY_KV, kvNamespaces: { KV: "00000000000000000000000000000000" } };
  const broken = { name: "broken-throttle", modules: true, script: BROKEN_THROTTLE, durableObjects: { BROKEN: "Broken" } };
  const mf = new Miniflare({
    workers: [
      issuer,
      ...(faultyKv ? [faulty] : []),
      ...(brokenThrottle ? [broken] : []),
      ...(meterD1 ? [meterWorker(D1_ID, meterD1.record)] : []),
    ],
    ...(persist
      ? { d1Persist: `${persist}/v3/d1`, kvPersist: `${persist}/v3/kv`, durableObjectsPersist: `${persist}/v3/do` }
      : {}),
    host: "127.0.0.1",
    port: 0,
    handleRuntimeStdio: (stdout, stderr) => (keep(stdout, process.stdout), keep(stderr, process.stderr)),
  });
  let url, db, kv;
  try {
    url = await mf.ready;
    db = meterD1 ? await mf.getD1Database("DB", "d1-meter") : await mf.getD1Database("DB");
    kv = faultyKv ? await mf.getKVNamespace("KV", "faulty-kv") : await mf.getKVNamespace("REVOCATIONS");
    if (migrate) await prepareDatabase(db, { seed });
  } catch (error) {
    await mf.dispose().catch(() => {});
    throw error;
  }
  const base = direct ? await directBase(mf, "issuer") : url.href.replace(/\/$/, "");
  return {
    mf,
    db,
    kv,
    base,
    /** fetch against the issuer; `json` sends a JSON body. */
    async call(method, path, { json, body, headers = {}, token } = {}) {
      const init = { method, headers: { ...headers } };
      if (json !== undefined) {
        init.body = JSON.stringify(json);
        init.headers["Content-Type"] ??= "application/json";
      } else if (body !== undefined) init.body = body;
      if (token) init.headers.Authorization = `Bearer ${token}`;
      const res = await fetch(base + path, init);
      const text = await res.text();
      let data;
      try { data = JSON.parse(text); } catch { data = text; }
      return { status: res.status, headers: res.headers, json: data };
    },
    async login(username = "alice", password = "alice-password-1") {
      const r = await this.call("POST", "/api/token/", { json: { username, password } });
      if (r.status !== 200) throw new Error(`login failed: ${r.status} ${JSON.stringify(r.json)}`);
      return r.json;
    },
    /** With `faultyKv`: make the issuer's KV writes fail (or work again). */
    async failKvPuts(on) {
      if (on) await kv.put("fault:put", "1");
      else await kv.delete("fault:put");
    },
    /** Everything the runtime has printed so far (console.log / console.error of the Worker). */
    logs: () => logs.join(""),
    /**
     * Whether `pattern` is in the logs within `ms`: the runtime's output reaches this process
     * through a pipe, after the response that caused it.
     */
    async logged(pattern, ms = 5000) {
      for (const until = Date.now() + ms; !pattern.test(logs.join("")) && Date.now() < until; ) await new Promise((r) => setTimeout(r, 50));
      return pattern.test(logs.join(""));
    },
    stop: () => mf.dispose(),
  };
}

/** Runs `fn(issuer)` against a fresh issuer (see `startIssuer`) and stops it afterwards. */
export async function withIssuer(options, fn) {
  const issuer = await startIssuer(options);
  try {
    return await fn(issuer);
  } finally {
    await issuer.stop();
  }
}

/** A free loopback port, for servers the tests start themselves. */
export const freePort = () =>
  new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

/** The claims of a JWT, decoded without verification (for assertions only). */
/**
 * With no reuse interval: of `n` concurrent refreshes of one token exactly one rotates, the
 * others are "Token is blacklisted", and the replays ended the session (the winner's child
 * is refused too).
 */
export async function assertOneRotationWins(issuer, n) {
  const { refresh } = await issuer.login();
  const results = await Promise.all(Array.from({ length: n }, () => issuer.call("POST", "/api/token/refresh/", { json: { refresh } })));
  const winners = results.filter((r) => r.status === 200);
  assert.equal(winners.length, 1);
  for (const r of results.filter((r) => r.status !== 200)) {
    assert.deepEqual([r.status, r.json], [401, { detail: "Token is blacklisted", code: "token_not_valid" }]);
  }
  const child = await issuer.call("POST", "/api/token/refresh/", { json: { refresh: winners[0].json.refresh } });
  assert.equal(child.status, 401, "reuse detected: the session is revoked");
}

export function claims(token) {
  return JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString());
}
