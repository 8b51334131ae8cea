// The README's run command (scripts/dev.sh): wrangler applies the migrations to a local
// D1, seeds the demo users and serves the issuer; a simplejwt client can log in.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { REFERENCE_KEY, freePort } from "./harness.mjs";


test("scripts/dev.sh serves the issuer with the seeded demo users", { timeout: 600_000 }, async () => {
  const port = await freePort();
  const state = mkdtempSync(join(tmpdir(), "edgejwt-dev-"));
  const child = spawn("bash", ["scripts/dev.sh"], {
    cwd: new URL("../../", import.meta.url).pathname,
    env: { ...process.env, PORT: String(port), EDGEJWT_STATE: state, SIGNING_KEY: REFERENCE_KEY, ACCESS_TOKEN_LIFETIME: "2m" },
    stdio: ["ignore", "ignore", "pipe"],
    detached: true,
  });
  let log = "";
  child.stderr.on("data", (d) => (log += d));
  let exited = null;
  child.on("exit", (code) => (exited = code));
  const base = `http://127.0.0.1:${port}`;
  const login = (username, password) =>
    fetch(`${base}/api/token/`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ username, password }) });
  try {
    let res;
    // dev.sh builds the worker, the package and the SPA first: on a slow, shared machine that
    // alone took 3 minutes (a fixed 180 s of retries ran out just as it began to serve).
    const deadline = Date.now() + 540_000;
    while (!res && exited === null && Date.now() < deadline) {
      try { res = await login("alice", "alice-password-1"); } catch { await new Promise((r) => setTimeout(r, 200)); }
    }
    assert.ok(res, `dev.sh did not serve (exit ${exited}): ${log.slice(-2000)}`);
    assert.equal(res.status, 200);
    const { access } = await res.json();
    const claims = JSON.parse(Buffer.from(access.split(".")[1], "base64url"));
    assert.equal(claims.exp - claims.iat, 120, "ACCESS_TOKEN_LIFETIME override");
    const me = await fetch(`${base}/api/protected/`, { headers: { Authorization: `Bearer ${access}` } });
    assert.deepEqual(await me.json(), { user_id: 1, username: "alice" });
    assert.equal((await login("bob", "bob-password-1")).status, 401);
  } finally {
    // A dev.sh that failed has exited: its error above is the one to report.
    if (exited === null) process.kill(-child.pid, "SIGTERM");
    rmSync(state, { recursive: true, force: true });
  }
});
