// Key rotation at the issuer, in workerd with persisted D1 and KV: tokens name their key
// (`kid`), the issuer restarted with a new SIGNING_KEY and the old key in
// PREVIOUS_VERIFYING_KEYS still accepts (and refreshes) the old key's tokens, the JWK Set
// publishes both, and tokens of a removed, unknown or hostile `kid` are simplejwt's 401.
import assert from "node:assert/strict";
import { createPublicKey, generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import * as jose from "jose";
import { signHS256 } from "./contract-runner.mjs";
import { REFERENCE_KEY, claims, startIssuer } from "./harness.mjs";

const header = (token) => JSON.parse(Buffer.from(token.split(".")[0], "base64url").toString());
const withHeader = (token, h) => `${Buffer.from(JSON.stringify(h)).toString("base64url")}.${token.split(".").slice(1).join(".")}`;
const INVALID = {
  detail: "Given token not valid for any token type",
  code: "token_not_valid",
  messages: [{ token_class: "AccessToken", token_type: "access", message: "Token is invalid" }],
};

/** A 401 in simplejwt's words at the protected view, with its challenge. */
async function refused(issuer, token, body = INVALID) {
  const r = await issuer.call("GET", "/api/protected/", { token });
  assert.equal(r.status, 401, JSON.stringify(r.json));
  assert.deepEqual(r.json, body);
  assert.equal(r.headers.get("WWW-Authenticate"), 'Bearer realm="api"');
  return r;
}

/** One persisted issuer, restarted with other keys (`vars`) as an operator would. */
function rotatingIssuer() {
  const dir = mkdtempSync(join(tmpdir(), "edgejwt-keys-"));
  let first = true;
  return {
    async start(vars) {
      const issuer = await startIssuer({ vars, persist: dir, migrate: first, seed: first });
      first = false;
      return issuer;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

describe("HS256: previous secrets, never published", () => {
  const place = rotatingIssuer();
  after(place.cleanup);
  const NEW_KEY = "rotated-hmac-signing-key-0123456789abcdef-xyz";

  test("rotate, keep accepting and refreshing the old secret's tokens, then remove it", async () => {
    let issuer = await place.start({ SIGNING_KEY: REFERENCE_KEY });
    const old = await issuer.login();
    const oldKid = header(old.access).kid;
    assert.match(oldKid, /^[A-Za-z0-9_-]{16}$/);
    assert.equal(header(old.refresh).kid, oldKid);
    await issuer.stop();

    issuer = await place.start({ SIGNING_KEY: NEW_KEY, PREVIOUS_VERIFYING_KEYS: JSON.stringify([REFERENCE_KEY]) });
    let fresh;
    try {
      assert.equal((await issuer.call("GET", "/api/protected/", { token: old.access })).status, 200);
      assert.deepEqual((await issuer.call("POST", "/api/token/verify/", { json: { token: old.refresh } })).json, {});
      // A refresh with the old key's token is answered with the new key's tokens.
      const r = await issuer.call("POST", "/api/token/refresh/", { json: { refresh: old.refresh } });
      assert.equal(r.status, 200, JSON.stringify(r.json));
      const newKid = header(r.json.access).kid;
      assert.notEqual(newKid, oldKid);
      assert.equal(header(r.json.refresh).kid, newKid);
      fresh = r.json;
      assert.equal((await issuer.call("GET", "/api/protected/", { token: fresh.access })).status, 200);
      // simplejwt's tokens have no kid: the current secret, and the previous ones, check them.
      const now = Math.floor(Date.now() / 1000);
      const plain = (key) => signHS256({ token_type: "access", exp: now + 60, iat: now, jti: randomBytes(16).toString("hex"), user_id: "1" }, key);
      assert.equal((await issuer.call("GET", "/api/protected/", { token: plain(NEW_KEY) })).status, 200);
      assert.equal((await issuer.call("GET", "/api/protected/", { token: plain(REFERENCE_KEY) })).status, 200);
      // Secrets are never published.
      for (const path of ["/.well-known/jwks.json", "/api/token/jwks/"]) {
        const set = await issuer.call("GET", path);
        assert.equal(set.status, 200);
        assert.deepEqual(set.json, { keys: [] });
      }
    } finally {
      await issuer.stop();
    }

    issuer = await place.start({ SIGNING_KEY: NEW_KEY });
    try {
      await refused(issuer, old.access);
      const r = await issuer.call("POST", "/api/token/refresh/", { json: { refresh: old.refresh } });
      assert.equal(r.status, 401);
      assert.deepEqual(r.json, { detail: "Token is invalid", code: "token_not_valid" });
      assert.equal((await issuer.call("GET", "/api/protected/", { token: fresh.access })).status, 200);
    } finally {
      await issuer.stop();
    }
  });
});

describe("EdDSA: the JWK Set publishes current and previous keys", () => {
  const place = rotatingIssuer();
  after(place.cleanup);
  const pem = () => generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" });
  const keyA = pem();
  const keyB = pem();

  test("rotation end to end: both keys verify, the set names them, a removed key is refused", async () => {
    const publicA = createPublicKey(keyA).export({ type: "spki", format: "pem" });
    let issuer = await place.start({ ALGORITHM: "EdDSA", SIGNING_KEY: keyA });
    const old = await issuer.login();
    const setA = (await issuer.call("GET", "/.well-known/jwks.json")).json;
    assert.equal(header(old.access).kid, setA.keys[0].kid);
    await issuer.stop();

    issuer = await place.start({ ALGORITHM: "EdDSA", SIGNING_KEY: keyB, PREVIOUS_VERIFYING_KEYS: JSON.stringify([publicA]) });
    let fresh;
    try {
      const r = await issuer.call("GET", "/.well-known/jwks.json");
      assert.equal(r.status, 200);
      assert.equal(r.headers.get("Cache-Control"), "public, max-age=300");
      assert.match(r.headers.get("Content-Type"), /^application\/json/);
      assert.deepEqual((await issuer.call("GET", "/api/token/jwks/")).json, r.json);
      const set = r.json;
      assert.equal(set.keys.length, 2);
      for (const k of set.keys) {
        assert.equal(k.kid, await jose.calculateJwkThumbprint(k), "kid is the RFC 7638 thumbprint");
        assert.equal(k.alg, "EdDSA");
        assert.equal(k.use, "sig");
        assert.equal(k.d, undefined, "no private part");
      }
      assert.equal(set.keys[1].kid, setA.keys[0].kid, "the previous key, after the current one");
      // Old tokens verify and refresh into new-key tokens; jose agrees through the set.
      assert.equal((await issuer.call("GET", "/api/protected/", { token: old.access })).status, 200);
      const refreshed = await issuer.call("POST", "/api/token/refresh/", { json: { refresh: old.refresh } });
      assert.equal(refreshed.status, 200);
      fresh = refreshed.json;
      assert.equal(header(fresh.access).kid, set.keys[0].kid);
      const jwks = jose.createLocalJWKSet(set);
      await jose.jwtVerify(old.access, jwks);
      await jose.jwtVerify(fresh.access, jwks);

      // Refusals, each simplejwt's 401: unknown and hostile kids, an alg that does not match the
      // key (HS256 keyed with the public key: the classic confusion), alg none, a kid swapped.
      for (const kid of ["unknown", "../../../etc/passwd", "x' OR '1'='1", "%00", "", 7]) {
        await refused(issuer, withHeader(fresh.access, { ...header(fresh.access), kid }));
      }
      const now = Math.floor(Date.now() / 1000);
      const body = { token_type: "access", exp: now + 60, iat: now, jti: randomBytes(16).toString("hex"), user_id: "1" };
      await refused(issuer, signHS256(body, publicA, { alg: "HS256", typ: "JWT", kid: setA.keys[0].kid }));
      await refused(issuer, signHS256(body, "", { alg: "none", kid: setA.keys[0].kid }));
      await refused(issuer, withHeader(fresh.access, { ...header(fresh.access), kid: setA.keys[0].kid }));
    } finally {
      await issuer.stop();
    }

    // The old key removed: its tokens are refused, the new ones keep working.
    issuer = await place.start({ ALGORITHM: "EdDSA", SIGNING_KEY: keyB });
    try {
      assert.equal((await issuer.call("GET", "/.well-known/jwks.json")).json.keys.length, 1);
      await refused(issuer, old.access);
      assert.equal((await issuer.call("GET", "/api/protected/", { token: fresh.access })).status, 200);
      assert.equal(claims(fresh.access).user_id, "1");
    } finally {
      await issuer.stop();
    }
  });
});

describe("bad PREVIOUS_VERIFYING_KEYS", () => {
  test("a settings error naming the setting, never the keys", async () => {
    const weak = generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" });
    for (const [vars, reason] of [
      [{ PREVIOUS_VERIFYING_KEYS: JSON.stringify(["too-short-secret"]) }, "too short"],
      [{ PREVIOUS_VERIFYING_KEYS: "conformance-reference-signing-key-not-json" }, "JSON array"],
      [{ ALGORITHM: "EdDSA", SIGNING_KEY: weak, PREVIOUS_VERIFYING_KEYS: JSON.stringify([REFERENCE_KEY]) }, "PEM"],
    ]) {
      const issuer = await startIssuer({ vars, seed: false });
      try {
        const r = await issuer.call("GET", "/.well-known/jwks.json");
        assert.equal(r.status, 500);
        assert.equal(r.json.code, "improperly_configured");
        assert.match(r.json.detail, /PREVIOUS_VERIFYING_KEYS/);
        assert.match(r.json.detail, new RegExp(reason));
        const text = JSON.stringify(r.json);
        for (const secret of ["too-short-secret", "not-json", REFERENCE_KEY]) assert.ok(!text.includes(secret), text);
      } finally {
        await issuer.stop();
      }
    }
  });
});
