#!/usr/bin/env node
// What login throttling costs: login latency with the Durable Object throttle on and off, in
// the same workerd (Miniflare, real local D1, KV and a SQLite-backed Durable Object), and what
// a throttled answer costs (no password hash). Medians of sequential requests from distinct
// client addresses (none throttled), except the 429 row. Part of bench/run.sh.
import { startIssuer } from "../tests/worker/harness.mjs";

const N = Number(process.env.BENCH_LOGINS ?? 60);
const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function timed(issuer, password, ip) {
  const t = performance.now();
  const res = await issuer.call("POST", "/api/token/", { json: { username: "alice", password }, headers: { "CF-Connecting-IP": ip } });
  return [performance.now() - t, res.status];
}

async function measure(vars) {
  const issuer = await startIssuer({ vars });
  try {
    for (let i = 0; i < 5; i++) await timed(issuer, "alice-password-1", `10.9.0.${i}`); // warm up
    const rows = {};
    for (const [name, password] of [["failed", "wrong"], ["successful", "alice-password-1"]]) {
      const ms = [];
      for (let i = 0; i < N; i++) ms.push((await timed(issuer, password, `10.${name.length}.${i >> 8}.${i & 255}`))[0]);
      rows[name] = median(ms);
    }
    if (vars.LOGIN_THROTTLE_RATE) {
      for (let i = 0; i < 5; i++) await timed(issuer, "wrong", "10.99.0.1");
      const ms = [];
      for (let i = 0; i < N; i++) {
        const [t, status] = await timed(issuer, "wrong", "10.99.0.1");
        if (status !== 429) throw new Error(`expected 429, got ${status}`);
        ms.push(t);
      }
      rows.throttled = median(ms);
    }
    return rows;
  } finally {
    await issuer.stop();
  }
}

const off = await measure({ LOGIN_THROTTLE_RATE: "", LOGIN_IP_THROTTLE_RATE: "" });
const on = await measure({ LOGIN_THROTTLE_RATE: "5/min", LOGIN_IP_THROTTLE_RATE: "30/min" });
const f = (x) => (x === undefined ? "—" : `${x.toFixed(1)} ms`);
console.log(`Median wall time of ${N} sequential logins (PBKDF2 at the tests' 20,000 iterations, so the throttle's share shows).`);
console.log();
console.log("| login | throttle off | throttle on (5/min, 30/min) | difference |");
console.log("|---|---:|---:|---:|");
for (const k of ["failed", "successful"]) console.log(`| ${k} | ${f(off[k])} | ${f(on[k])} | ${f(on[k] - off[k])} |`);
console.log(`| throttled (429, no hash) | — | ${f(on.throttled)} | — |`);
console.log();
console.log("A failed login makes one Durable Object request before hashing; a successful one a second, after the response (`waitUntil`), to give its slot back.");
