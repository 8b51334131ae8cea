#!/usr/bin/env node
// What a login costs at 100,000 PBKDF2 iterations: the issuer in workerd (Miniflare, real
// local D1 and KV), sequential logins, the CPU time of the workerd process per login
// (utime + stime from /proc, so it includes HTTP, D1 and token signing, not just the hash)
// and the median wall time. "wasm" is the pure-Rust path, run by a hash at 100,001
// iterations (one over what WebCrypto accepts, so the issuer cannot use it); "native" is
// WebCrypto's PBKDF2 at 100,000. Part of bench/run.sh.
import { djangoHash, startIssuer } from "../tests/worker/harness.mjs";
import { cpuMs, pidsOf } from "./proc.mjs";

const N = Number(process.env.BENCH_LOGINS ?? 40);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function measure(iterations, password) {
  const issuer = await startIssuer({ vars: { PASSWORD_HASH_ITERATIONS: String(iterations) } });
  try {
    await issuer.db
      .prepare("INSERT INTO users (id, username, password, is_active) VALUES (10, 'carol', ?1, 1)")
      .bind(djangoHash("carol-password-1", iterations))
      .run();
    const pids = pidsOf("workerd", { children: true });
    if (pids.length === 0) throw new Error("no workerd child process found");
    const login = async () => {
      const t = performance.now();
      const r = await issuer.call("POST", "/api/token/", { json: { username: "carol", password } });
      return [performance.now() - t, r.status];
    };
    for (let i = 0; i < 5; i++) await login(); // warm up
    const ms = [];
    const before = cpuMs(pids);
    for (let i = 0; i < N; i++) {
      const [t, status] = await login();
      if (status !== (password === "carol-password-1" ? 200 : 401)) throw new Error(`status ${status}`);
      ms.push(t);
    }
    return { cpu: (cpuMs(pids) - before) / N, wall: median(ms) };
  } finally {
    await issuer.stop();
  }
}

const rows = [
  ["wasm (pure Rust), 100,001 iterations", 100_001],
  ["native (WebCrypto), 100,000 iterations", 100_000],
];
const f = (x) => `${x.toFixed(1)} ms`;
console.log(`${N} sequential logins per row; CPU = the workerd process's user + system time per login (/proc, 10 ms ticks over the whole run).`);
console.log();
console.log("| PBKDF2 | successful: CPU | wall (median) | wrong password: CPU | wall (median) |");
console.log("|---|---:|---:|---:|---:|");
for (const [name, iterations] of rows) {
  const ok = await measure(iterations, "carol-password-1");
  const bad = await measure(iterations, "wrong-password");
  console.log(`| ${name} | ${f(ok.cpu)} | ${f(ok.wall)} | ${f(bad.cpu)} | ${f(bad.wall)} |`);
}
