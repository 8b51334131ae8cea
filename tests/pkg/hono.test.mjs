// edgejwt/hono, from the packed package with Hono installed next to it: a Hono app in Node
// and a Hono Worker bundled by wrangler in workerd, against the issuer's tokens — the auth
// result on the context, simplejwt's 401 bodies and WWW-Authenticate, revocations, JWKS.
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Miniflare } from "miniflare";
import { KV_ID, REFERENCE_KEY, issuerWorker, prepareDatabase, startIssuer } from "../worker/harness.mjs";
import { bundledWorker, installPacked } from "./packed.mjs";

let consumer;
let Hono;
let edgejwt;
before(async () => {
  consumer = installPacked({ peers: ["hono"] });
  writeFileSync(join(consumer, "hono-entry.mjs"), 'export { Hono } from "hono";\nexport * as edgejwtHono from "edgejwt/hono";\n');
  ({ Hono, edgejwtHono: edgejwt } = await import(join(consumer, "hono-entry.mjs")));
});

const NOT_PROVIDED = { detail: "Authentication credentials were not provided." };
const notValid = (message) => ({
  detail: "Given token not valid for any token type",
  code: "token_not_valid",
  messages: [{ token_class: "AccessToken", token_type: "access", message }],
});

function app(options) {
  const a = new Hono();
  a.use("/api/*", edgejwt.edgejwt(options));
  a.get("/api/me", (c) => c.json({ userId: c.get("edgejwt").userId, sid: c.get("edgejwt").claims.sid }));
  a.get("/health", (c) => c.text("ok"));
  return a;
}

async function call(a, path, token, env) {
  const r = await a.request(path, token ? { headers: { Authorization: `Bearer ${token}` } } : {}, env);
  const text = await r.text();
  return { status: r.status, json: text.startsWith("{") ? JSON.parse(text) : text, www: r.headers.get("WWW-Authenticate") };
}

describe("Hono in Node", () => {
  let issuer;
  before(async () => {
    issuer = await startIssuer();
  });
  after(() => issuer.stop());

  test("the auth result on the context; simplejwt's 401s with WWW-Authenticate", async () => {
    const a = app({ settings: { SIGNING_KEY: REFERENCE_KEY }, revocations: issuer.kv });
    const pair = await issuer.login();
    const ok = await call(a, "/api/me", pair.access);
    assert.equal(ok.status, 200);
    assert.equal(ok.json.userId, "1");
    assert.ok(ok.json.sid);
    assert.deepEqual(await call(a, "/api/me"), { status: 401, json: NOT_PROVIDED, www: 'Bearer realm="api"' });
    assert.deepEqual(await call(a, "/api/me", pair.refresh), { status: 401, json: notValid("Token has wrong type"), www: 'Bearer realm="api"' });
    assert.deepEqual(await call(a, "/api/me", "garbage"), { status: 401, json: notValid("Token is invalid"), www: 'Bearer realm="api"' });
    assert.equal((await call(a, "/health")).status, 200, "routes outside the pattern are not authenticated");
    // Logout kills the access token (the issuer's REVOCATIONS).
    assert.equal((await issuer.call("POST", "/api/token/blacklist/", { json: { refresh: pair.refresh } })).status, 200);
    assert.deepEqual((await call(a, "/api/me", pair.access)).json, notValid("Token is blacklisted"));
  });

  test("options from the bindings (c.env), one verifier per env; a settings error is a 500 naming the setting", async () => {
    let made = 0;
    const a = app((env) => (made++, { settings: { SIGNING_KEY: env.SIGNING_KEY } }));
    const env = { SIGNING_KEY: REFERENCE_KEY };
    const pair = await issuer.login();
    assert.equal((await call(a, "/api/me", pair.access, env)).status, 200);
    assert.equal((await call(a, "/api/me", pair.access, env)).status, 200);
    assert.equal(made, 1);
    const bad = await call(a, "/api/me", pair.access, { SIGNING_KEY: "short" });
    assert.equal(bad.status, 500);
    assert.equal(bad.json.code, "improperly_configured");
    assert.match(bad.json.detail, /SIGNING_KEY/);
    assert.ok(!JSON.stringify(bad.json).includes("short\""));
  });
});

describe("Hono with a JWK Set (EdDSA issuer)", () => {
  let issuer;
  before(async () => {
    const key = generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" });
    issuer = await startIssuer({ vars: { ALGORITHM: "EdDSA", SIGNING_KEY: key } });
  });
  after(() => issuer.stop());

  test("keys by kid from /.well-known/jwks.json", async () => {
    const a = app({ settings: { ALGORITHM: "EdDSA" }, jwksUrl: `${issuer.base}/.well-known/jwks.json` });
    const pair = await issuer.login();
    assert.equal((await call(a, "/api/me", pair.access)).json.userId, "1");
    assert.deepEqual((await call(a, "/api/me")).json, NOT_PROVIDED);
  });
});

describe("Hono in workerd (bundled by wrangler)", () => {
  let mf;
  let worker;
  let issuer;
  before(async () => {
    writeFileSync(
      join(consumer, "hono-worker.mjs"),
      `import { Hono } from "hono";
import { edgejwt } from "edgejwt/hono";
const app = new Hono();
app.use("/api/*", edgejwt((env) => ({ settings: { SIGNING_KEY: env.SIGNING_KEY }, revocations: env.REVOCATIONS })));
app.get("/api/me", (c) => c.json({ userId: c.get("edgejwt").userId }));
export default app;
`,
    );
    mf = new Miniflare({
      workers: [
        issuerWorker(),
        bundledWorker(consumer, "hono", "hono-worker.mjs", { kvNamespaces: { REVOCATIONS: KV_ID }, bindings: { SIGNING_KEY: REFERENCE_KEY } }),
      ],
    });
    await mf.ready;
    await prepareDatabase(await mf.getD1Database("DB", "issuer"));
    issuer = await mf.getWorker("issuer");
    worker = await mf.getWorker("hono");
  });
  after(() => mf?.dispose());

  test("a Hono Worker verifies the issuer's tokens and refuses a logged-out one", async () => {
    const post = async (path, json) =>
      (await issuer.fetch(`http://issuer${path}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(json) })).json();
    const pair = await post("/api/token/", { username: "alice", password: "alice-password-1" });
    assert.ok(pair.access, JSON.stringify(pair));
    const me = async (token) => {
      const r = await worker.fetch("http://hono/api/me", token ? { headers: { Authorization: `Bearer ${token}` } } : {});
      return { status: r.status, json: await r.json(), www: r.headers.get("www-authenticate") };
    };
    assert.deepEqual(await me(pair.access), { status: 200, json: { userId: "1" }, www: null });
    assert.deepEqual(await me(), { status: 401, json: NOT_PROVIDED, www: 'Bearer realm="api"' });
    await post("/api/token/blacklist/", { refresh: pair.refresh });
    assert.deepEqual((await me(pair.access)).json, notValid("Token is blacklisted"));
  });
});
