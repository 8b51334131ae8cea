#!/usr/bin/env node
// Records issuer ↔ simplejwt interop for tests/worker/interop.test.mjs, both directions,
// with 100-year lifetimes on both sides so the recording stays valid:
//
// - tokens the real simplejwt 5.5.1 mints (pair and sliding token for alice);
// - tokens the edgejwt issuer mints (built in build/worker, run in workerd), and the
//   reference's answers to them on verify, protected, refresh and sliding refresh.
//
// Needs the reference (../shared/simplejwt-reference or SIMPLEJWT_REFERENCE=DIR) and a
// built worker (scripts/build-worker.sh). Writes tests/fixtures/simplejwt-interop-worker.json.
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REFERENCE_KEY, freePort, startIssuer } from "../tests/worker/harness.mjs";

const ROOT = new URL("../", import.meta.url).pathname;
const REFERENCE = process.env.SIMPLEJWT_REFERENCE ?? join(ROOT, "../shared/simplejwt-reference");
const CENTURY = "36500d";


async function startReference() {
  execFileSync(join(REFERENCE, "setup.sh"), { stdio: "inherit" });
  const py = join(REFERENCE, ".venv/bin/python");
  const env = {
    ...process.env,
    DJANGO_SETTINGS_MODULE: "longlived_settings",
    PYTHONPATH: `${join(ROOT, "scripts/reference")}:${join(REFERENCE, "reference")}`,
    REFERENCE_DB: join(mkdtempSync(join(tmpdir(), "edgejwt-ref-")), "db.sqlite3"),
    SIGNING_KEY: REFERENCE_KEY,
  };
  const cwd = join(REFERENCE, "reference");
  execFileSync(py, ["manage.py", "migrate", "--noinput", "-v", "0"], { env, cwd });
  execFileSync(py, ["manage.py", "seed_users"], { env, cwd, stdio: "ignore" });
  const port = await freePort();
  const child = spawn(py, ["manage.py", "runserver", "--noreload", `127.0.0.1:${port}`], { env, cwd, stdio: "ignore", detached: true });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try { await fetch(`${base}/api/protected/`); break; } catch { if (i > 300) throw new Error("reference did not start"); await new Promise((r) => setTimeout(r, 200)); }
  }
  return { base, stop: () => process.kill(-child.pid, "SIGTERM") };
}

async function call(base, method, path, { json, token } = {}) {
  const headers = {};
  if (json) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(base + path, { method, headers, body: json ? JSON.stringify(json) : undefined });
  return { status: res.status, json: await res.json() };
}

const alice = { username: "alice", password: "alice-password-1" };
const reference = await startReference();
const issuer = await startIssuer({
  vars: { ACCESS_TOKEN_LIFETIME: CENTURY, REFRESH_TOKEN_LIFETIME: CENTURY, SLIDING_TOKEN_LIFETIME: CENTURY, SLIDING_TOKEN_REFRESH_LIFETIME: CENTURY },
});
try {
  const refPair = (await call(reference.base, "POST", "/api/token/", { json: alice })).json;
  const refSliding = (await call(reference.base, "POST", "/api/token/sliding/", { json: alice })).json.token;
  const ourPair = (await call(issuer.base, "POST", "/api/token/", { json: alice })).json;
  const ourSliding = (await call(issuer.base, "POST", "/api/token/sliding/", { json: alice })).json.token;
  const answers = {
    verify_access: await call(reference.base, "POST", "/api/token/verify/", { json: { token: ourPair.access } }),
    verify_refresh: await call(reference.base, "POST", "/api/token/verify/", { json: { token: ourPair.refresh } }),
    verify_sliding: await call(reference.base, "POST", "/api/token/verify/", { json: { token: ourSliding } }),
    protected: await call(reference.base, "GET", "/api/protected/", { token: ourPair.access }),
    refresh: await call(reference.base, "POST", "/api/token/refresh/", { json: { refresh: ourPair.refresh } }),
    refresh_again: await call(reference.base, "POST", "/api/token/refresh/", { json: { refresh: ourPair.refresh } }),
    sliding_refresh: await call(reference.base, "POST", "/api/token/sliding/refresh/", { json: { token: ourSliding } }),
  };
  const fixture = {
    about: "Recorded by scripts/record-simplejwt-interop.mjs: djangorestframework-simplejwt 5.5.1 and the edgejwt issuer, HS256 with the reference's key, 100-year lifetimes, rotation and blacklist-after-rotation on.",
    reference_minted: { access: refPair.access, refresh: refPair.refresh, sliding: refSliding },
    issuer_minted: { access: ourPair.access, refresh: ourPair.refresh, sliding: ourSliding },
    reference_answers_to_issuer_tokens: answers,
  };
  writeFileSync(join(ROOT, "tests/fixtures/simplejwt-interop-worker.json"), JSON.stringify(fixture, null, 1) + "\n");
  console.log("recorded", Object.entries(answers).map(([k, v]) => `${k}=${v.status}`).join(" "));
} finally {
  reference.stop();
  await issuer.stop();
}
