// The npm package inside workerd: a second Worker, bundled by wrangler from a project that
// installed the packed package, verifies the issuer's tokens and refuses a revoked one,
// reading the issuer's REVOCATIONS KV namespace.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { Miniflare } from "miniflare";
import { KV_ID, REFERENCE_KEY, issuerWorker, prepareDatabase } from "../worker/harness.mjs";
import { assertHostChecks, hostCases, hostCheckSource } from "./host-algorithms.mjs";
import { bundledWorker, installPacked } from "./packed.mjs";


let mf;
let issuer;
let consumer;
before(async () => {
  const dir = installPacked();
  writeFileSync(
    join(dir, "worker.mjs"),
    `import { createVerifier, withAuth } from "edgejwt";
let verifier;
const get = async (env) => (verifier ??= await createVerifier({ SIGNING_KEY: env.SIGNING_KEY }, { revocations: env.REVOCATIONS }));
const authed = withAuth(get, (request, env, ctx, auth) => Response.json({ userId: auth.userId, sid: auth.claims.sid }));
const hostChecks = ${hostCheckSource};
export default {
  async fetch(request, env, ctx) {
    if (new URL(request.url).pathname === "/host-checks") return Response.json(await hostChecks(createVerifier, await request.json()));
    return authed(request, env, ctx);
  },
};
`,
  );
  mf = new Miniflare({
    workers: [
      issuerWorker({ REFRESH_TOKEN_REUSE_INTERVAL: "1" }),
      bundledWorker(dir, "consumer", "worker.mjs", { kvNamespaces: { REVOCATIONS: KV_ID }, bindings: { SIGNING_KEY: REFERENCE_KEY } }),
    ],
  });
  await mf.ready;
  await prepareDatabase(await mf.getD1Database("DB", "issuer"));
  issuer = await mf.getWorker("issuer");
  consumer = await mf.getWorker("consumer");
});
after(() => mf?.dispose());

const post = async (path, json) => {
  const r = await issuer.fetch(`http://issuer${path}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(json) });
  return { status: r.status, json: await r.json() };
};
const me = async (token) => {
  const r = await consumer.fetch("http://consumer/", token ? { headers: { Authorization: `Bearer ${token}` } } : {});
  return { status: r.status, json: await r.json(), www: r.headers.get("www-authenticate") };
};

test("a Worker with the package verifies the issuer's tokens; logout kills the access token", async () => {
  const pair = (await post("/api/token/", { username: "alice", password: "alice-password-1" })).json;
  const ok = await me(pair.access);
  assert.equal(ok.status, 200);
  assert.equal(ok.json.userId, "1");

  const denied = await me();
  assert.deepEqual([denied.status, denied.json, denied.www], [401, { detail: "Authentication credentials were not provided." }, 'Bearer realm="api"']);
  const wrongType = await me(pair.refresh);
  assert.equal(wrongType.json.messages[0].message, "Token has wrong type");

  assert.equal((await post("/api/token/blacklist/", { refresh: pair.refresh })).status, 200);
  const revoked = await me(pair.access);
  assert.equal(revoked.status, 401);
  assert.equal(revoked.json.messages[0].message, "Token is blacklisted");

  const other = (await post("/api/token/", { username: "alice", password: "alice-password-1" })).json;
  assert.equal((await me(other.access)).status, 200);
});

test("every asymmetric algorithm (jose's tokens) is checked by workerd's WebCrypto, never by wasm", async () => {
  const cases = await hostCases();
  const r = await consumer.fetch("http://consumer/host-checks", { method: "POST", body: JSON.stringify(cases) });
  assertHostChecks(await r.json(), cases, "workerd");
});

test("reuse detected at the issuer ends the session at the edge: the newest child's access token is refused", async () => {
  const pair = (await post("/api/token/", { username: "alice", password: "alice-password-1" })).json;
  const child = (await post("/api/token/refresh/", { refresh: pair.refresh })).json;
  assert.equal((await me(child.access)).status, 200);
  await new Promise((r) => setTimeout(r, 2100)); // past REFRESH_TOKEN_REUSE_INTERVAL
  const replay = await post("/api/token/refresh/", { refresh: pair.refresh });
  assert.deepEqual(replay, { status: 401, json: { detail: "Token is blacklisted", code: "token_not_valid" } });
  const dead = await me(child.access);
  assert.equal(dead.status, 401);
  assert.equal(dead.json.messages[0].message, "Token is blacklisted");
});

test("logout everywhere (revoke-all) kills every session's access tokens at the edge", async () => {
  const login = async () => (await post("/api/token/", { username: "alice", password: "alice-password-1" })).json;
  const [a, b] = [await login(), await login()];
  const r = await issuer.fetch("http://issuer/api/sessions/revoke-all/", { method: "POST", headers: { Authorization: `Bearer ${a.access}` } });
  assert.equal(r.status, 200);
  for (const t of [a, b]) {
    const denied = await me(t.access);
    assert.equal(denied.status, 401);
    assert.equal(denied.json.messages[0].message, "Token is blacklisted");
  }
  assert.equal((await me((await login()).access)).status, 200, "a new login works");
});
