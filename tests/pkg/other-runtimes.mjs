// Shared by deno.test.mjs and bun.test.mjs: the packed package, installed into a fresh
// project, run by the real runtime (`deno run`, `bun`) against the issuer's tokens in workerd.
// The same script runs in each; it prints one JSON line of results the Node test asserts.
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { after, before, test } from "node:test";
import { REFERENCE_KEY, startIssuer } from "../worker/harness.mjs";
import { assertHostChecks, hostCases, hostCheckSource } from "./host-algorithms.mjs";
import { installPacked } from "./packed.mjs";

const ROOT = new URL("../../", import.meta.url).pathname;

/** The directory with `deno` and `bun` (scripts/ensure-runtimes.sh installs them once). */
function runtimesBin() {
  return process.env.EDGEJWT_RUNTIMES || execFileSync("bash", [join(ROOT, "scripts/ensure-runtimes.sh")], { encoding: "utf8" }).trim();
}

// Runs inside Deno or Bun: every case the Node suite checks for these paths, answered as data.
const SCRIPT = `
import { createVerifier, withAuth, EdgeJwtError } from "edgejwt";
import { AuthClient } from "edgejwt/client";
const input = JSON.parse(process.env.EDGEJWT_INPUT);
const out = {};
const code = async (p) => { try { await p; return "ok"; } catch (e) { return e instanceof EdgeJwtError ? e.code : "other: " + e; } };
const tamper = (t) => { const [h, c, s] = t.split("."); const sig = s[5] === "A" ? "B" : "A"; return h + "." + c + "." + s.slice(0, 5) + sig + s.slice(6); };
const hs = await createVerifier({ SIGNING_KEY: input.key }, { revocations: { get: async (k) => (input.revoked.includes(k) ? "1" : null) } });
out.hsClaims = await hs.verify(input.hs.access);
out.hsTampered = await code(hs.verify(tamper(input.hs.access)));
out.hsWrongType = await code(hs.verify(input.hs.refresh));
out.hsExpired = await code(hs.verify(input.expired));
out.hsRevoked = await code(hs.verify(input.revokedAccess));
const handler = withAuth(hs, (req, env, ctx, auth) => Response.json({ userId: auth.userId }));
const ok = await handler(new Request("http://x/", { headers: { Authorization: "Bearer " + input.hs.access } }), {}, {});
out.withAuth = [ok.status, await ok.json()];
const denied = await handler(new Request("http://x/"), {}, {});
out.denied = [denied.status, await denied.json(), denied.headers.get("WWW-Authenticate")];
for (const [name, alg] of [["ed", "EdDSA"], ["es", "ES256"]]) {
  let fetches = 0;
  const opts = { jwksUrl: input[name].jwksUrl, fetch: (...a) => (fetches++, fetch(...a)) };
  const v = await createVerifier({ ALGORITHM: alg }, opts);
  out[name + "Claims"] = await v.verify(input[name].access);
  out[name + "Again"] = await code(v.verify(input[name].access));
  out[name + "Tampered"] = await code(v.verify(tamper(input[name].access)));
  out[name + "Fetches"] = fetches;
  // The settings path: the public key as VERIFYING_KEY (node:crypto or WebCrypto here).
  const pem = await createVerifier({ ALGORITHM: alg, VERIFYING_KEY: input[name].publicKey });
  out[name + "Pem"] = await code(pem.verify(input[name].access));
  out[name + "PemTampered"] = await code(pem.verify(tamper(input[name].access)));
}
// Every asymmetric algorithm: the runtime's crypto only (host-algorithms.mjs).
out.host = await (${hostCheckSource})(createVerifier, input.hostCases);
// edgejwt/client with no DOM and an async (KV-like) storage, against the HS256 issuer.
{
  const kv = new Map();
  const storage = { get: async (k) => kv.get(k) ?? null, set: async (k, v) => void kv.set(k, v), remove: async (k) => void kv.delete(k) };
  const auth = new AuthClient({ baseUrl: input.issuerBase, storage, storageKey: "user" });
  await auth.ready;
  await auth.login("alice", "alice-password-1");
  const first = JSON.parse(kv.get("user")).refresh;
  const me = await auth.fetch(input.issuerBase + "/api/protected/");
  out.client = { status: me.status, body: await me.json() };
  await auth.refresh();
  out.client.rotated = JSON.parse(kv.get("user")).refresh !== first;
  out.client.stillIn = (await auth.fetch(input.issuerBase + "/api/protected/")).status;
  await auth.logout();
  out.client.storedAfterLogout = kv.has("user");
  auth.close();
}
console.log(JSON.stringify(out));
`;

/** Defines the suite for one runtime: `argv(bin, file)` is how it runs a module. */
export function runtimeSuite(runtime, argv) {
  let consumer;
  let issuers;
  let input;
  before(async () => {
    consumer = installPacked();
    writeFileSync(join(consumer, "check.mjs"), SCRIPT);
    const pem = (type, opts) => generateKeyPairSync(type, opts);
    const ed = pem("ed25519");
    const es = pem("ec", { namedCurve: "P-256" });
    const priv = (k) => k.privateKey.export({ type: "pkcs8", format: "pem" });
    const pub = (k) => k.publicKey.export({ type: "spki", format: "pem" });
    issuers = {
      hs: await startIssuer(),
      ed: await startIssuer({ vars: { ALGORITHM: "EdDSA", SIGNING_KEY: priv(ed) } }),
      es: await startIssuer({ vars: { ALGORITHM: "ES256", SIGNING_KEY: priv(es) } }),
    };
    const hs = await issuers.hs.login();
    const gone = await issuers.hs.login();
    await issuers.hs.call("POST", "/api/token/blacklist/", { json: { refresh: gone.refresh } });
    // The issuer writes revocations after its answer (waitUntil).
    const sid = JSON.parse(Buffer.from(gone.access.split(".")[1], "base64url")).sid;
    for (let i = 0; i < 50 && !(await issuers.hs.kv.get(`revoked:${sid}`)); i++) await new Promise((r) => setTimeout(r, 50));
    const { signHS256 } = await import("../worker/contract-runner.mjs");
    const now = Math.floor(Date.now() / 1000);
    input = {
      key: REFERENCE_KEY,
      issuerBase: issuers.hs.base,
      hs,
      revoked: (await issuers.hs.kv.list()).keys.map((k) => k.name),
      revokedAccess: gone.access,
      expired: signHS256({ token_type: "access", exp: now - 1, iat: now - 301, jti: "a".repeat(32), user_id: "1" }, REFERENCE_KEY),
      ed: { access: (await issuers.ed.login()).access, jwksUrl: `${issuers.ed.base}/.well-known/jwks.json`, publicKey: pub(ed) },
      es: { access: (await issuers.es.login()).access, jwksUrl: `${issuers.es.base}/.well-known/jwks.json`, publicKey: pub(es) },
      hostCases: await hostCases(),
    };
  });
  after(async () => {
    for (const i of Object.values(issuers ?? {})) await i.stop();
  });

  test(`${runtime} verifies the issuer's HS256, EdDSA and ES256 tokens and jose's for every asymmetric algorithm, and refuses bad ones; edgejwt/client logs in, rotates and logs out`, async () => {
    const bin = runtimesBin();
    const [cmd, ...args] = argv(bin, join(consumer, "check.mjs"));
    const { stdout } = await promisify(execFile)(cmd, args, {
      cwd: consumer,
      env: { ...process.env, EDGEJWT_INPUT: JSON.stringify(input), NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
      timeout: 60_000,
    });
    const out = JSON.parse(stdout.trim().split("\n").at(-1));
    assert.equal(out.hsClaims.user_id, "1");
    assert.equal(out.hsClaims.jti, JSON.parse(Buffer.from(input.hs.access.split(".")[1], "base64url")).jti);
    assert.equal(out.hsTampered, "token_invalid");
    assert.equal(out.hsWrongType, "token_wrong_type");
    assert.equal(out.hsExpired, "token_expired");
    assert.equal(out.hsRevoked, "token_blacklisted");
    assert.deepEqual(out.withAuth, [200, { userId: "1" }]);
    assert.deepEqual(out.denied, [401, { detail: "Authentication credentials were not provided." }, 'Bearer realm="api"']);
    for (const name of ["ed", "es"]) {
      assert.equal(out[`${name}Claims`].user_id, "1", name);
      assert.equal(out[`${name}Again`], "ok");
      assert.equal(out[`${name}Tampered`], "token_invalid");
      assert.equal(out[`${name}Fetches`], 1, "one JWK Set fetch");
      assert.equal(out[`${name}Pem`], "ok");
      assert.equal(out[`${name}PemTampered`], "token_invalid");
    }
    assertHostChecks(out.host, input.hostCases, runtime);
    // The client: login, an authenticated fetch, a rotation kept in the async storage, logout.
    assert.deepEqual(out.client, { status: 200, body: { user_id: 1, username: "alice" }, rotated: true, stillIn: 200, storedAfterLogout: false });
  });
}
