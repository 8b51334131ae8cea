#!/usr/bin/env node
// Costs that grow: whether a request costs more as the tables fill. In one workerd (Miniflare,
// real local D1 and KV, rotation + blacklist + sessions on), median latency of sequential
// requests: a refresh after 1, 100 and 10,000 rotations of one session; login and refresh with
// 1 and 100,000 other users (inserted in bulk by SQL; their hashes are never checked, so one
// cheap PBKDF2 string serves them all); verify and protected with an empty and a 100,000-row
// blacklist. Then, from a second issuer whose D1 binding is metered (tests/worker/d1-meter.mjs),
// the D1 work of each request. Prints markdown. Part of bench/run.sh; no assertions.
//
// Defaults (≤ 3 minutes): BENCH_GROWTH_SAMPLES=100 requests per cell, BENCH_GROWTH_LOGINS=20,
// BENCH_GROWTH_ROTATIONS=10000, BENCH_GROWTH_ROWS=100000 users and blacklist rows, and
// BENCH_GROWTH_REAL_ROTATIONS=100: rotations up to it are real refreshes, a longer history is
// written by SQL (BENCH_GROWTH_REAL_ROTATIONS=10000 does them all as requests: minutes).
import { D1Meter } from "../tests/worker/d1-meter.mjs";
import { claims, djangoHash, startIssuer } from "../tests/worker/harness.mjs";

const SAMPLES = Number(process.env.BENCH_GROWTH_SAMPLES ?? 100);
const LOGINS = Number(process.env.BENCH_GROWTH_LOGINS ?? 20);
const REAL_ROTATIONS = Number(process.env.BENCH_GROWTH_REAL_ROTATIONS ?? 100);
const ROTATIONS = Number(process.env.BENCH_GROWTH_ROTATIONS ?? 10_000);
const ROWS = Number(process.env.BENCH_GROWTH_ROWS ?? 100_000);

const post = (issuer, path, json) => issuer.call("POST", path, { json });
const started = performance.now();
const progress = (what) => process.stderr.write(`growth: ${what} at ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** `n` sequential calls of `fn(i)`: median ms and requests per second. */
async function timed(n, fn) {
  const ms = [];
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const r = await fn(i);
    ms.push(performance.now() - t);
    if (r.status !== 200) throw new Error(`${r.status} ${JSON.stringify(r.json)}`);
  }
  return { median: median(ms), rps: (n * 1000) / (performance.now() - start) };
}

/**
 * A session of alice's, rotated `n` times; returns its current refresh token. Up to
 * `REAL_ROTATIONS` the rotations are real requests; past that the session's history is written
 * by SQL as rotation writes it (each ancestor outstanding, with its parent, and blacklisted; a
 * `refresh` event each) and the logged-in token becomes the newest child: the same rows, in
 * seconds instead of minutes.
 */
async function rotatedSession(issuer, n) {
  let token = (await issuer.login()).refresh;
  if (n > REAL_ROTATIONS) {
    const { jti, sid, exp, iat } = claims(token);
    const db = issuer.db;
    const chain = (expr) => `'chain-' || ?1 || '-' || ${expr}`;
    await db.batch([
      db.prepare(`INSERT INTO outstanding_tokens (jti, user_id, created_at, expires_at, sid, parent_jti)
        SELECT ${chain("n")}, 1, ?2, ?3, ?1, CASE WHEN n > 1 THEN ${chain("(n - 1)")} END FROM (${series(n)})`).bind(sid, iat, exp),
      db.prepare(`INSERT INTO blacklisted_tokens (jti, blacklisted_at, expires_at) SELECT ${chain("n")}, ?2, ?3 FROM (${series(n)})`).bind(sid, iat, exp),
      db.prepare(`INSERT INTO auth_events (at, user_id, sid, event, client_ip, user_agent) SELECT ?2, 1, ?1, 'refresh', '127.0.0.1', 'node' FROM (${series(n)})`).bind(sid, iat),
      db.prepare(`UPDATE outstanding_tokens SET parent_jti = ${chain("?3")} WHERE jti = ?2`).bind(sid, jti, n),
    ]);
    return token;
  }
  for (let i = 0; i < n; i++) {
    const r = await post(issuer, "/api/token/refresh/", { refresh: token });
    if (r.status !== 200) throw new Error(`rotation ${i}: ${r.status}`);
    token = r.json.refresh;
  }
  return token;
}

/** `SAMPLES` refreshes continuing the chain of `token` (each one a rotation). */
async function refreshes(issuer, token) {
  return timed(SAMPLES, async () => {
    const r = await post(issuer, "/api/token/refresh/", { refresh: token });
    token = r.json?.refresh;
    return r;
  });
}

const series = (n) => `WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < ${n}) SELECT n FROM c`;

async function growth() {
  const issuer = await startIssuer();
  const rows = [];
  const t0 = performance.now();
  try {
    const login = () => post(issuer, "/api/token/", { username: "alice", password: "alice-password-1" });
    for (let i = 0; i < 5; i++) await login(); // warm up
    const pair = await issuer.login();
    // Verify and protected first: the blacklist is still empty.
    const small = {
      verify: await timed(SAMPLES, () => post(issuer, "/api/token/verify/", { token: pair.refresh })),
      protected: await timed(SAMPLES, () => issuer.call("GET", "/api/protected/", { token: pair.access })),
    };
    const empty = (await issuer.db.prepare("SELECT COUNT(*) AS n FROM blacklisted_tokens").first()).n;
    if (empty !== 0) throw new Error(`blacklist not empty: ${empty}`);
    small.login = await timed(LOGINS, login);
    small.refresh = await refreshes(issuer, await rotatedSession(issuer, 1));
    progress("small tables");
    const r100 = await refreshes(issuer, await rotatedSession(issuer, 100));
    const tRot = performance.now();
    const rN = await refreshes(issuer, await rotatedSession(issuer, ROTATIONS));
    const rotationSeconds = (performance.now() - tRot) / 1000;
    progress(`${ROTATIONS} rotations`);
    rows.push(["refresh, session rotated 1 / 100 / " + ROTATIONS.toLocaleString("en") + " times", small.refresh, r100, rN]);

    // Other users, in bulk: one cheap hash for all (never checked).
    const filler = djangoHash("filler", 1);
    await issuer.db.prepare(`INSERT INTO users (username, password) SELECT 'filler-' || n, ?1 FROM (${series(ROWS)})`).bind(filler).run();
    const users = (await issuer.db.prepare("SELECT COUNT(*) AS n FROM users").first()).n;
    const bigLogin = await timed(LOGINS, login);
    const bigRefresh = await refreshes(issuer, await rotatedSession(issuer, 1));
    progress("users");
    rows.push([`login, 2 / ${users.toLocaleString("en")} users`, small.login, bigLogin]);
    rows.push([`refresh, 2 / ${users.toLocaleString("en")} users`, small.refresh, bigRefresh]);

    // A blacklist of ROWS more tokens (each outstanding first: the blacklist's foreign key).
    const now = Math.floor(Date.now() / 1000);
    await issuer.db.batch([
      issuer.db.prepare(`INSERT INTO outstanding_tokens (jti, user_id, created_at, expires_at) SELECT 'filler-' || n, 1, ?1, ?1 + 86400 FROM (${series(ROWS)})`).bind(now),
      issuer.db.prepare(`INSERT INTO blacklisted_tokens (jti, blacklisted_at, expires_at) SELECT 'filler-' || n, ?1, ?1 + 86400 FROM (${series(ROWS)})`).bind(now),
    ]);
    const blacklisted = (await issuer.db.prepare("SELECT COUNT(*) AS n FROM blacklisted_tokens").first()).n;
    const fresh = await issuer.login();
    const bigVerify = await timed(SAMPLES, () => post(issuer, "/api/token/verify/", { token: fresh.refresh }));
    const bigProtected = await timed(SAMPLES, () => issuer.call("GET", "/api/protected/", { token: fresh.access }));
    rows.push([`verify (a refresh token: a blacklist lookup), blacklist empty / ${blacklisted.toLocaleString("en")} rows`, small.verify, bigVerify]);
    rows.push([`protected, blacklist empty / ${blacklisted.toLocaleString("en")} rows`, small.protected, bigProtected]);
    return { rows, rotationSeconds, seconds: (performance.now() - t0) / 1000 };
  } finally {
    await issuer.stop();
  }
}

/** The D1 work of one request of each kind, from a metered issuer. */
async function d1Work() {
  const meter = new D1Meter();
  const issuer = await startIssuer({ meterD1: meter });
  try {
    const work = [];
    const step = async (name, fn) => {
      meter.take();
      const r = await fn();
      if (r.status !== 200) throw new Error(`${name}: ${r.status}`);
      work.push([name, meter.take()]);
      return r;
    };
    const pair = (await step("login", () => post(issuer, "/api/token/", { username: "alice", password: "alice-password-1" }))).json;
    const rotated = (await step("refresh (rotation + blacklist, session)", () => post(issuer, "/api/token/refresh/", { refresh: pair.refresh }))).json;
    await step("verify (access token)", () => post(issuer, "/api/token/verify/", { token: rotated.access }));
    await step("verify (refresh token)", () => post(issuer, "/api/token/verify/", { token: rotated.refresh }));
    await step("protected", () => issuer.call("GET", "/api/protected/", { token: rotated.access }));
    await step("logout (blacklist + end the session)", () => post(issuer, "/api/token/blacklist/", { refresh: rotated.refresh }));
    // Ending a session blacklists every live token of it: its rotations within their lifetime.
    for (const n of [100, ROTATIONS]) {
      const token = await rotatedSession(issuer, n);
      await step(`logout, session rotated ${n.toLocaleString("en")} times`, () => post(issuer, "/api/token/blacklist/", { refresh: token }));
    }
    return work;
  } finally {
    await issuer.stop();
  }
}

const { rows, rotationSeconds, seconds } = await growth();
const work = await d1Work();

const f = (m) => (m ? `${m.median.toFixed(2)} ms (${Math.round(m.rps).toLocaleString("en")}/s)` : "—");
console.log(`Median wall time of ${SAMPLES} sequential requests (${LOGINS} logins, PBKDF2 at the tests' 20,000 iterations), one workerd, real local D1 and KV; each cell: median (sequential req/s). Ratio: last column over first.`);
console.log();
console.log("| request: small tables → grown | small | middle | grown | grown / small |");
console.log("|---|---:|---:|---:|---:|");
for (const [name, a, b, c] of rows) {
  const [mid, last] = c ? [b, c] : [null, b];
  console.log(`| ${name} | ${f(a)} | ${mid ? f(mid) : "—"} | ${f(last)} | ${(last.median / a.median).toFixed(2)}× |`);
}
console.log();
console.log(`(${ROTATIONS.toLocaleString("en")} rotations: ${ROTATIONS > REAL_ROTATIONS ? "history written by SQL" : "real refreshes"}, ${rotationSeconds.toFixed(1)} s; the whole run ${seconds.toFixed(0)} s. "Grown" tables hold what the rows above added: the rotations' tokens, blacklist rows and events.)`);
console.log();
console.log("D1 work per request (metered binding, fresh database): round trips to D1, statements, and D1's own `meta.rows_read` / `meta.rows_written` summed.");
console.log();
console.log("| request | round trips | statements | rows read | rows written |");
console.log("|---|---:|---:|---:|---:|");
for (const [name, w] of work) console.log(`| ${name} | ${w.roundTrips} | ${w.statements.length} | ${w.rowsRead} | ${w.rowsWritten} |`);
