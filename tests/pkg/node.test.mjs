// The npm package in Node, installed from `npm pack`: verifies the issuer's tokens with
// simplejwt's errors, refuses revoked ones, and cross-checks with jose in both directions
// for every algorithm.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import * as jose from "jose";
import { signHS256 } from "../worker/contract-runner.mjs";
import { REFERENCE_KEY, claims, startIssuer } from "../worker/harness.mjs";
import { HOST_ONLY, assertHostChecks, hostCases, hostCheckSource } from "./host-algorithms.mjs";
import { installPacked } from "./packed.mjs";

let consumer;
let edgejwt;
before(async () => {
  consumer = installPacked();
  edgejwt = await import(join(consumer, "entry.mjs"));
});

const bearer = (token) => new Request("http://x/", { headers: { Authorization: `Bearer ${token}` } });

async function rejects(promise, code, body) {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof edgejwt.EdgeJwtError, String(e));
    assert.equal(e.code, code, `${e.code}: ${e.message}`);
    if (body) assert.deepEqual(e.body, body);
    return true;
  });
}

describe("the package against the issuer's tokens (HS256)", () => {
  let issuer;
  let verifier;
  before(async () => {
    issuer = await startIssuer();
    verifier = await edgejwt.createVerifier({ SIGNING_KEY: REFERENCE_KEY }, { revocations: issuer.kv });
  });
  after(() => issuer.stop());

  test("verify and authenticate", async () => {
    const pair = await issuer.login();
    const c = await verifier.verify(pair.access);
    assert.deepEqual(c, claims(pair.access));
    const auth = await verifier.authenticate(bearer(pair.access));
    assert.equal(auth.userId, "1");
    assert.equal(auth.token, pair.access);
  });

  test("simplejwt's errors, with stable codes", async () => {
    const pair = await issuer.login();
    const now = Math.floor(Date.now() / 1000);
    const notValid = (message) => ({ detail: "Given token not valid for any token type", code: "token_not_valid", messages: [{ token_class: "AccessToken", token_type: "access", message }] });
    await rejects(verifier.verify(pair.refresh), "token_wrong_type", notValid("Token has wrong type"));
    await rejects(verifier.verify("garbage"), "token_invalid", notValid("Token is invalid"));
    // Tokens cross into the wasm as UTF-8 bytes: non-ASCII (a lone surrogate too) is malformed.
    for (const odd of [`${pair.access}é`, `${pair.access}\ud800`, `\u{1F600}.${pair.access}`]) await rejects(verifier.verify(odd), "token_invalid", notValid("Token is invalid"));
    const expired = signHS256({ token_type: "access", exp: now - 1, iat: now - 301, jti: "a".repeat(32), user_id: "1" }, REFERENCE_KEY);
    await rejects(verifier.verify(expired), "token_expired", notValid("Token is expired"));
    const none = signHS256({ token_type: "access", exp: now + 60, iat: now, jti: "a".repeat(32), user_id: "1" }, REFERENCE_KEY, { alg: "none" });
    await rejects(verifier.verify(none), "token_invalid");
    const otherKey = signHS256({ token_type: "access", exp: now + 60, iat: now, jti: "a".repeat(32), user_id: "1" }, "x".repeat(40));
    await rejects(verifier.verify(otherKey), "token_invalid");
    await rejects(verifier.authenticate(new Request("http://x/")), "not_authenticated", { detail: "Authentication credentials were not provided." });
    await rejects(verifier.authenticate(new Request("http://x/", { headers: { Authorization: "Bearer a b" } })), "bad_authorization_header");
    const noUser = signHS256({ token_type: "access", exp: now + 60, iat: now, jti: "a".repeat(32) }, REFERENCE_KEY);
    await rejects(verifier.authenticate(bearer(noUser)), "token_no_user_id", { detail: "Token contained no recognizable user identification", code: "token_not_valid" });
  });

  test("tokens written into the wasm's memory: two verifiers taking turns, a grown memory, tokens longer than the input", async () => {
    const pair = await issuer.login();
    const other = await edgejwt.createVerifier({ SIGNING_KEY: "o".repeat(40) });
    const now = Math.floor(Date.now() / 1000);
    const theirs = signHS256({ token_type: "access", exp: now + 60, iat: now, jti: "b".repeat(32), user_id: "7" }, "o".repeat(40));
    const invalid = { detail: "Given token not valid for any token type", code: "token_not_valid", messages: [{ token_class: "AccessToken", token_type: "access", message: "Token is invalid" }] };
    for (let round = 0; round < 3; round++) {
      // Each verifier reads its own input: a shorter token after a longer one is read at its length.
      assert.equal((await verifier.verify(pair.access)).user_id, "1");
      assert.equal((await other.verify(theirs)).user_id, "7");
      await rejects(other.verify(pair.access), "token_invalid", invalid);
      await rejects(verifier.verify(pair.access.slice(0, -2)), "token_invalid", invalid);
      // Verifiers made in between grow the module's memory, detaching the buffer it was on.
      for (let i = 0; i < 40; i++) await edgejwt.createVerifier({ SIGNING_KEY: randomBytes(32).toString("hex") });
    }
    // Past the input (the core's 8 KiB cap): refused, as a token that long is by the core.
    for (const long of [`${pair.access}.${"a".repeat(9000)}`, `${"a".repeat(8192)}${pair.access}`]) {
      await rejects(verifier.verify(long), "token_invalid", invalid);
    }
    assert.equal((await verifier.verify(pair.access)).user_id, "1");
    // A token of megabytes is refused unread: it does not grow the module's memory (the
    // package's instance: its glue's initSync answers the instance it has).
    const glue = await import(join(consumer, "node_modules/edgejwt/dist/wasm/edgejwt.js"));
    const { memory } = glue.initSync({ module: new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0])) });
    const before = memory.buffer.byteLength;
    await rejects(verifier.verify(`${pair.access}${"a".repeat(8_000_000)}`), "token_invalid", invalid);
    await rejects(verifier.authenticate(bearer(`${pair.access}${"é".repeat(100_000)}`)), "token_invalid", invalid);
    assert.ok(memory.buffer.byteLength - before < 1_000_000, `memory grew from ${before} to ${memory.buffer.byteLength}`);
    // Settings past the input grow it.
    const many = Array.from({ length: 16 }, () => randomBytes(800).toString("hex"));
    const rotated = await edgejwt.createVerifier({ SIGNING_KEY: "n".repeat(40), PREVIOUS_VERIFYING_KEYS: many });
    const last = signHS256({ token_type: "access", exp: now + 60, iat: now, jti: "c".repeat(32), user_id: "9" }, many.at(-1));
    assert.equal((await rotated.verify(last)).user_id, "9");
  });

  test("an access token dies at logout (revocations from the issuer's KV)", async () => {
    const pair = await issuer.login();
    await verifier.verify(pair.access);
    // Without the KV binding, simplejwt's semantics: still valid.
    const plain = await edgejwt.createVerifier({ SIGNING_KEY: REFERENCE_KEY });
    assert.equal((await issuer.call("POST", "/api/token/blacklist/", { json: { refresh: pair.refresh } })).status, 200);
    await rejects(verifier.verify(pair.access), "token_blacklisted");
    await plain.verify(pair.access);
    // A session that did not log out is unaffected.
    const other = await issuer.login();
    await verifier.verify(other.access);
  });

  test("fetch middleware answers 401 in simplejwt's shape", async () => {
    const handler = edgejwt.withAuth(verifier, (req, env, ctx, auth) => Response.json({ user: auth.userId }));
    const ok = await handler(bearer((await issuer.login()).access), {}, {});
    assert.deepEqual(await ok.json(), { user: "1" });
    const denied = await handler(new Request("http://x/"), {}, {});
    assert.equal(denied.status, 401);
    assert.equal(denied.headers.get("www-authenticate"), 'Bearer realm="api"');
    assert.deepEqual(await denied.json(), { detail: "Authentication credentials were not provided." });
  });

  test("settings are checked when the verifier is made", async () => {
    await rejects(edgejwt.createVerifier({ SIGNING_KEY: "short" }), "improperly_configured");
    await rejects(edgejwt.createVerifier({ SIGNING_KEY: REFERENCE_KEY, ALGORITHM: "none" }), "improperly_configured");
    await rejects(edgejwt.createVerifier({ SIGNING_KEY: REFERENCE_KEY, NOT_A_SETTING: "1" }), "improperly_configured");
    // An "oct" JWK is the HMAC secret's bytes (the core's own JWK reader in the package's wasm).
    const now = Math.floor(Date.now() / 1000);
    const token = signHS256({ token_type: "access", exp: now + 60, iat: now, jti: "a".repeat(32), user_id: "7" }, REFERENCE_KEY);
    const k = Buffer.from(REFERENCE_KEY).toString("base64url");
    const fromJwk = await edgejwt.createVerifier({ SIGNING_KEY: JSON.stringify({ kty: "oct", k, kid: "k1" }) });
    assert.equal((await fromJwk.verify(token)).user_id, "7");
    for (const bad of [{ kty: "oct", k: `${k}=` }, { kty: "oct" }, { kty: "OCT", k }, { kty: "EC", k }, { kty: "RSA", n: "AQAB", e: "AQAB" }]) {
      await rejects(edgejwt.createVerifier({ SIGNING_KEY: JSON.stringify(bad) }), "improperly_configured");
    }
  });

  test("settings as JS values: numbers, lists, objects and JWK Sets read as the core reads their text", async () => {
    const now = Math.floor(Date.now() / 1000);
    const claimsAt = (iat, extra = {}) => ({ token_type: "access", exp: iat + 60, iat, jti: randomBytes(16).toString("hex"), user_id: "7", ...extra });
    const message = async (settings) => {
      try {
        await edgejwt.createVerifier(settings);
      } catch (e) {
        assert.equal(e.code, "improperly_configured", String(e));
        return e.message;
      }
      assert.fail(`accepted ${JSON.stringify(settings)}`);
    };
    // A number is the number's text: an expired token within LEEWAY: 30 passes, not one at 31.
    const lenient = await edgejwt.createVerifier({ SIGNING_KEY: REFERENCE_KEY, LEEWAY: 30 });
    assert.equal((await lenient.verify(signHS256(claimsAt(now - 60 - 20), REFERENCE_KEY))).user_id, "7");
    await rejects(lenient.verify(signHS256(claimsAt(now - 60 - 40), REFERENCE_KEY)), "token_expired");
    assert.match(await message({ SIGNING_KEY: REFERENCE_KEY, LEEWAY: 1.5 }), /LEEWAY/);
    // A list of texts is comma-joined: both header types are accepted.
    const both = await edgejwt.createVerifier({ SIGNING_KEY: REFERENCE_KEY, AUTH_HEADER_TYPES: ["Bearer", "JWT"] });
    const token = signHS256(claimsAt(now), REFERENCE_KEY);
    for (const type of ["Bearer", "JWT"]) {
      const r = new Request("http://x/", { headers: { Authorization: `${type} ${token}` } });
      assert.equal((await both.authenticate(r)).userId, "7");
    }
    // undefined is no setting, null is the default; a non-object is named.
    assert.equal((await (await edgejwt.createVerifier({ SIGNING_KEY: REFERENCE_KEY, LEEWAY: undefined, AUDIENCE: null })).verify(token)).user_id, "7");
    for (const [settings, what] of [[null, "null"], ["x", "a string"], [[], "an array"], [5, "a number"], [true, "a boolean"]]) {
      assert.equal(await message(settings), `settings must be an object of setting names, not ${what}`);
    }
    // Booleans are "true"/"false"; other values of a boolean setting are named.
    await edgejwt.createVerifier({ SIGNING_KEY: REFERENCE_KEY, CHECK_REVOKE_TOKEN: false });
    assert.match(await message({ SIGNING_KEY: REFERENCE_KEY, CHECK_REVOKE_TOKEN: 2 }), /CHECK_REVOKE_TOKEN/);
    assert.match(await message({ SIGNING_KEY: REFERENCE_KEY, CHECK_REVOKE_TOKEN: [true] }), /CHECK_REVOKE_TOKEN/);
    // An object is its JSON: an "oct" JWK as SIGNING_KEY.
    const k = Buffer.from(REFERENCE_KEY).toString("base64url");
    assert.equal((await (await edgejwt.createVerifier({ SIGNING_KEY: { kty: "oct", k } })).verify(token)).user_id, "7");
    // PREVIOUS_VERIFYING_KEYS: an array (a secret may hold commas), a JWK Set whose `keys` is
    // not its first member, or either as JSON text; the old key's tokens still verify.
    const old = `${REFERENCE_KEY},with,commas`;
    const oldToken = signHS256(claimsAt(now), old);
    const current = randomBytes(48).toString("base64url");
    const oldJwk = { kty: "oct", k: Buffer.from(old).toString("base64url"), alg: "HS256" };
    for (const previous of [[old], JSON.stringify([old]), { use: "sig", keys: [oldJwk] }, JSON.stringify({ a: "],{", keys: [oldJwk] })]) {
      const v = await edgejwt.createVerifier({ SIGNING_KEY: current, PREVIOUS_VERIFYING_KEYS: previous });
      assert.equal((await v.verify(oldToken)).user_id, "7", JSON.stringify(previous));
    }
    for (const [previous, reason] of [
      [{ keys: "x" }, "JWK Set"],
      ["[1", "JSON array"],
      [[1], "PEM string, a JWK or a secret"],
      [[{ ...oldJwk, alg: "HS512" }], "not ALGORITHM"],
      [[{ ...oldJwk, kid: 5 }], "must be strings"],
      [Array(17).fill(old), "more than 16"],
    ]) {
      const text = await message({ SIGNING_KEY: current, PREVIOUS_VERIFYING_KEYS: previous });
      assert.match(text, new RegExp(`PREVIOUS_VERIFYING_KEYS.*${reason.replace(/[[\]{}().*]/g, "\\$&")}`), text);
      assert.ok(!text.includes(old), text);
    }
  });
});

const ALGORITHMS = ["HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"];

async function keysFor(alg) {
  if (alg.startsWith("HS")) {
    const secret = randomBytes(48).toString("base64url"); // 64 characters
    return { settings: { ALGORITHM: alg, SIGNING_KEY: secret }, verifySettings: { ALGORITHM: alg, SIGNING_KEY: secret }, signKey: new TextEncoder().encode(secret), verifyKey: new TextEncoder().encode(secret) };
  }
  const { publicKey, privateKey } = await jose.generateKeyPair(alg, { extractable: true, ...(alg === "EdDSA" ? { crv: "Ed25519" } : {}) });
  return {
    settings: { ALGORITHM: alg, SIGNING_KEY: await jose.exportPKCS8(privateKey) },
    verifySettings: { ALGORITHM: alg, VERIFYING_KEY: await jose.exportSPKI(publicKey) },
    signKey: privateKey,
    verifyKey: publicKey,
  };
}

describe("cross-checked with jose, both directions, every algorithm", () => {
  for (const alg of ALGORITHMS) {
    test(alg, async () => {
      const keys = await keysFor(alg);
      // jose signs; the package verifies (wasm for HMAC, WebCrypto + wasm claims otherwise).
      const now = Math.floor(Date.now() / 1000);
      const payload = { token_type: "access", jti: randomBytes(16).toString("hex"), user_id: "42", roles: ["a"] };
      const signed = await new jose.SignJWT(payload).setProtectedHeader({ alg, typ: "JWT" }).setIssuedAt(now).setExpirationTime(now + 60).sign(keys.signKey);
      // node:crypto by default, on the event loop and on the thread pool, WebCrypto, and the
      // core's own wasm — which has no code for the algorithms it leaves to the host: for
      // those an error, not a fallback.
      for (const options of [{}, { nodeCrypto: "sync" }, { nodeCrypto: "pool" }, { nodeCrypto: false }, { webCrypto: false }]) {
        if (options.webCrypto === false && HOST_ONLY.includes(alg)) {
          await rejects(edgejwt.createVerifier(keys.verifySettings, options), "improperly_configured");
          continue;
        }
        const verifier = await edgejwt.createVerifier(keys.verifySettings, options);
        assert.deepEqual(await verifier.verify(signed), { ...payload, iat: now, exp: now + 60 });
        // One flipped signature bit is refused on every path.
        const [h, c, s] = signed.split(".");
        const sig = Buffer.from(s, "base64url");
        sig[sig.length >> 1] ^= 1;
        await rejects(verifier.verify(`${h}.${c}.${sig.toString("base64url")}`), "token_invalid");
      }

      // The issuer signs with this algorithm; jose verifies, with the PEM and via the JWKS endpoint.
      const issuer = await startIssuer({ vars: keys.settings });
      try {
        const pair = await issuer.login();
        const { payload: p, protectedHeader } = await jose.jwtVerify(pair.access, keys.verifyKey, { algorithms: [alg] });
        assert.equal(protectedHeader.alg, alg);
        assert.equal(p.user_id, "1");
        if (!alg.startsWith("HS")) {
          const set = (await issuer.call("GET", "/api/token/jwks/")).json;
          await jose.jwtVerify(pair.access, jose.createLocalJWKSet(set), { algorithms: [alg] });
          // kid is the RFC 7638 thumbprint, as jose computes it.
          assert.equal(set.keys[0].kid, await jose.calculateJwkThumbprint(set.keys[0]));
          assert.equal(protectedHeader.kid, set.keys[0].kid);
          // The package verifies the issuer's token from its JWK Set URL, chosen by kid;
          // an unknown kid refetches once per cooldown and is refused.
          let fetches = 0;
          const counting = (...args) => (fetches++, fetch(...args));
          const fromJwks = await edgejwt.createVerifier({ ALGORITHM: alg }, { jwksUrl: `${issuer.base}/api/token/jwks/`, fetch: counting });
          assert.equal((await fromJwks.verify(pair.access)).user_id, "1");
          assert.equal((await fromJwks.verify(pair.access)).user_id, "1");
          assert.equal(fetches, 1);
          const [, c, sig] = pair.access.split(".");
          const otherKid = `${Buffer.from(JSON.stringify({ ...protectedHeader, kid: "rotated-away" })).toString("base64url")}.${c}.${sig}`;
          await rejects(fromJwks.verify(otherKid), "token_invalid");
          assert.equal(fetches, 2, "an unknown kid refetches once, even right after a fetch (a rotation)");
          await rejects(fromJwks.verify(otherKid), "token_invalid");
          assert.equal(fetches, 2, "within the cooldown an unknown kid does not refetch again");
          let refetches = 0;
          const eager = await edgejwt.createVerifier({ ALGORITHM: alg }, { jwksUrl: `${issuer.base}/api/token/jwks/`, jwksCooldown: 0, fetch: (...a) => (refetches++, fetch(...a)) });
          assert.equal((await eager.verify(pair.access)).user_id, "1");
          // The fetched set (key material) is shared per URL; the keys made from it are each
          // verifier's own (see "JWK Sets" below).
          assert.equal(refetches, 0, "the fetched JWK Set is shared per isolate");
          await rejects(eager.verify(otherKid), "token_invalid");
          await rejects(eager.verify(otherKid), "token_invalid");
          assert.equal(refetches, 2, "an unknown kid refetches (cooldown 0)");
          if (alg === "ES256") {
            // A KV namespace keeps the JWK Set for isolates whose memory is empty or stale.
            const store = new Map();
            const kv = { get: async (k) => store.get(k) ?? null, put: async (k, v) => void store.set(k, v) };
            const url = `${issuer.base}/api/token/jwks/?kv`;
            let netFetches = 0;
            const count = (...a) => (netFetches++, fetch(...a));
            const first = await edgejwt.createVerifier({ ALGORITHM: alg }, { jwksUrl: url, jwksKv: kv, fetch: count });
            await first.verify(pair.access);
            assert.equal(netFetches, 1);
            assert.equal(JSON.parse(store.get(`jwks:${url}`)).keys[0].kid, set.keys[0].kid);
            const stale = await edgejwt.createVerifier({ ALGORITHM: alg }, { jwksUrl: url, jwksKv: kv, jwksCacheTtl: 0, fetch: count });
            await stale.verify(pair.access);
            assert.equal(netFetches, 1, "served from KV, not the network");
          }
        }
      } finally {
        await issuer.stop();
      }
    });
  }
});

test("every asymmetric algorithm: node:crypto and WebCrypto check jose's tokens, from PEM, JWK and a private key; no wasm fallback", async () => {
  const cases = await hostCases();
  // The same check the workerd, Deno, Bun and Chromium suites run (host-algorithms.mjs).
  const check = new Function(`return ${hostCheckSource}`)();
  assertHostChecks(await check(edgejwt.createVerifier, cases), cases, "Node");
  assertHostChecks(await check((s, o) => edgejwt.createVerifier(s, { nodeCrypto: "sync", ...o }), cases), cases, "Node (sync node:crypto)");
  assertHostChecks(await check((s, o) => edgejwt.createVerifier(s, { nodeCrypto: "pool", ...o }), cases), cases, "Node (node:crypto on the pool)");
  assertHostChecks(await check((s, o) => edgejwt.createVerifier(s, { nodeCrypto: false, ...o }), cases), cases, "Node (WebCrypto)");
});

test("node:crypto checks a lone verify on the calling thread and overlapping ones on the thread pool by default; \"sync\" and \"pool\" fix the place", async () => {
  // Which path ran shows in when the promise settles: a check done on the calling thread has
  // settled before the next microtask; one on libuv's thread pool settles in a later turn.
  const settledAtOnce = (p) => Promise.race([p.then(() => true), Promise.resolve().then(() => false)]);
  const now = Math.floor(Date.now() / 1000);
  for (const alg of ["EdDSA", "ES256", "RS256", "PS256"]) {
    const { privateKey, publicKey } = await jose.generateKeyPair(alg, { extractable: true, ...(alg === "EdDSA" ? { crv: "Ed25519" } : {}) });
    const token = await new jose.SignJWT({ token_type: "access", jti: "j", user_id: "1" }).setProtectedHeader({ alg }).setIssuedAt(now).setExpirationTime(now + 60).sign(privateKey);
    const settings = { ALGORITHM: alg, VERIFYING_KEY: await jose.exportSPKI(publicKey) };
    const byDefault = await edgejwt.createVerifier(settings);
    const pooled = await edgejwt.createVerifier(settings, { nodeCrypto: "pool" });
    const sync = await edgejwt.createVerifier(settings, { nodeCrypto: "sync" });
    // One at a time, a check costs less on the calling thread than a round trip to the pool.
    assert.equal(await settledAtOnce(byDefault.verify(token)), true, `${alg}: the default checks a lone verify at once`);
    // Overlapping verifies are spread over the pool: a second started in the same turn, and
    // one started while a pooled check is still out; once none is out, at once again.
    const first = byDefault.verify(token);
    const second = byDefault.verify(token);
    const [firstAtOnce, secondAtOnce] = await Promise.all([settledAtOnce(first), settledAtOnce(second)]);
    assert.deepEqual([firstAtOnce, secondAtOnce], [true, false], `${alg}: the second of two verifies in one turn goes to the pool`);
    await Promise.resolve();
    const whileOut = byDefault.verify(token);
    assert.equal(await settledAtOnce(whileOut), false, `${alg}: a verify started while a pooled check is out goes to the pool`);
    await Promise.all([second, whileOut]);
    assert.equal(await settledAtOnce(byDefault.verify(token)), true, `${alg}: with none out, at once again`);
    assert.equal(await settledAtOnce(pooled.verify(token)), false, `${alg}: "pool" waits for the pool`);
    assert.equal(await settledAtOnce(sync.verify(token)), true, `${alg}: "sync" checks in the same pass`);
    // The same answers either way, a bad signature refused by each.
    assert.deepEqual(await byDefault.verify(token), await sync.verify(token));
    // Many at once on the pool: every one answered, and a tampered one among them refused.
    const [h, c, s] = token.split(".");
    const bad = Buffer.from(s, "base64url");
    bad[0] ^= 1;
    const tampered = `${h}.${c}.${bad.toString("base64url")}`;
    const results = await Promise.allSettled(Array.from({ length: 64 }, (_, i) => pooled.verify(i === 17 ? tampered : token)));
    assert.deepEqual(results.map((r) => r.status === "fulfilled"), Array.from({ length: 64 }, (_, i) => i !== 17));
    assert.equal(results[17].reason.code, "token_invalid");
    for (const v of [byDefault, sync]) await rejects(v.verify(tampered), "token_invalid");
    // A signature of the wrong length (node:crypto throws before the pool) is a refusal too.
    for (const v of [byDefault, pooled, sync]) await rejects(v.verify(`${h}.${c}.${bad.subarray(0, 10).toString("base64url")}`), "token_invalid");
    // A token refused before its signature is checked gets simplejwt's JWTAuthentication body
    // on every path, as an HS256 one does (the pool's and WebCrypto's answered the bare
    // "Token is invalid" body once).
    const webCrypto = await edgejwt.createVerifier(settings, { nodeCrypto: false });
    const invalid = { detail: "Given token not valid for any token type", code: "token_not_valid", messages: [{ token_class: "AccessToken", token_type: "access", message: "Token is invalid" }] };
    for (const v of [byDefault, pooled, sync, webCrypto]) {
      for (const malformed of ["garbage", "a.b.c", `${h}.${c}`, `${h}.${c}.${s}.x`]) await rejects(v.verify(malformed), "token_invalid", invalid);
    }
  }
});

describe("JWK Sets: keys per verifier, outages, one fetch at a time", () => {
  const kid = "k1";
  let signKey;
  let jwk;
  before(async () => {
    const { publicKey, privateKey } = await jose.generateKeyPair("ES256", { extractable: true });
    signKey = privateKey;
    jwk = { ...(await jose.exportJWK(publicKey)), kid, alg: "ES256", use: "sig" };
  });
  const sign = (claims = {}, header = {}) => {
    const now = Math.floor(Date.now() / 1000);
    const payload = { token_type: "access", jti: randomBytes(16).toString("hex"), user_id: "1", ...claims };
    return new jose.SignJWT(payload).setProtectedHeader({ alg: "ES256", kid, ...header }).setIssuedAt(now).setExpirationTime(now + 60).sign(signKey);
  };
  // The set is cached per URL and isolate: every test has URLs of its own.
  let urls = 0;
  const url = () => `https://jwks.invalid/${++urls}/`;
  /** A fake `fetch` answering `answer(callIndex)` (a Response, or throws); counts its calls. */
  const fakeFetch = (answer, delayMs = 0) => {
    const f = async () => {
      const i = f.calls++;
      if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
      return answer(i);
    };
    f.calls = 0;
    return f;
  };
  const serving = () => Response.json({ keys: [jwk] });
  const down = () => {
    throw new TypeError("fetch failed");
  };
  const notValid = (message) => ({ detail: "Given token not valid for any token type", code: "token_not_valid", messages: [{ token_class: "AccessToken", token_type: "access", message }] });

  test("two verifiers on one jwksUrl each apply their own AUTH_TOKEN_CLASSES, in either order", async () => {
    const refreshToken = await sign({ token_type: "refresh" });
    for (const order of [["refresh", "access"], ["access", "refresh"]]) {
      const jwksUrl = url();
      const f = fakeFetch(serving);
      for (const which of order) {
        if (which === "refresh") {
          const v = await edgejwt.createVerifier({ ALGORITHM: "ES256", AUTH_TOKEN_CLASSES: "RefreshToken" }, { jwksUrl, fetch: f });
          assert.equal((await v.verify(refreshToken)).token_type, "refresh", order.join(" then "));
        } else {
          const v = await edgejwt.createVerifier({ ALGORITHM: "ES256" }, { jwksUrl, fetch: f });
          await rejects(v.verify(refreshToken), "token_wrong_type");
        }
      }
      assert.equal(f.calls, 1, "the fetched set is shared per URL");
    }
  });

  test("two verifiers on one jwksUrl each apply their own AUDIENCE and AUTH_HEADER_TYPES", async () => {
    const jwksUrl = url();
    const f = fakeFetch(serving);
    const a = await edgejwt.createVerifier({ ALGORITHM: "ES256", AUDIENCE: "api-a", AUTH_HEADER_TYPES: "JWT" }, { jwksUrl, fetch: f });
    const b = await edgejwt.createVerifier({ ALGORITHM: "ES256", AUDIENCE: "api-b" }, { jwksUrl, fetch: f });
    const forA = await sign({ aud: "api-a" });
    assert.equal((await a.verify(forA)).aud, "api-a");
    await rejects(b.verify(forA), "token_invalid");
    const jwtHeader = new Request("http://x/", { headers: { Authorization: `JWT ${forA}` } });
    assert.equal((await a.authenticate(jwtHeader)).userId, "1");
    await rejects(b.authenticate(jwtHeader), "not_authenticated");
  });

  test("an unknown kid is token_invalid, not the verdict of another key in the set", async () => {
    const v = await edgejwt.createVerifier({ ALGORITHM: "ES256" }, { jwksUrl: url(), fetch: fakeFetch(serving) });
    assert.equal((await v.verify(await sign())).user_id, "1");
    // Signed by the set's key, but naming a key the set does not have.
    await rejects(v.verify(await sign({}, { kid: "rotated-away" })), "token_invalid", notValid("Token is invalid"));
  });

  test("a JWK Set that cannot be had is jwks_unavailable (503), whatever the failure", async () => {
    const token = await sign();
    const failures = {
      "a thrown fetch": down,
      "bad JSON": () => new Response('{"keys": [', { headers: { "Content-Type": "application/json" } }),
      "a non-JSON body": () => new Response("<html>maintenance</html>", { headers: { "Content-Type": "text/html" } }),
      "JSON that is not a JWK Set": () => Response.json(["not", "a", "set"]),
      "a 500": () => Response.json({ keys: [jwk] }, { status: 500 }),
      "a 404": () => new Response("not found", { status: 404 }),
    };
    for (const [what, answer] of Object.entries(failures)) {
      const v = await edgejwt.createVerifier({ ALGORITHM: "ES256" }, { jwksUrl: url(), fetch: fakeFetch(answer) });
      await assert.rejects(v.verify(token), (e) => {
        assert.ok(e instanceof edgejwt.EdgeJwtError, `${what}: ${e}`);
        assert.deepEqual([e.code, e.status], ["jwks_unavailable", 503], what);
        return true;
      });
    }
  });

  test("withAuth answers a JWKS outage with the error's 503 JSON, not a 500", async () => {
    const v = await edgejwt.createVerifier({ ALGORITHM: "ES256" }, { jwksUrl: url(), fetch: fakeFetch(down) });
    const handler = edgejwt.withAuth(v, () => new Response("reached"));
    const res = await handler(bearer(await sign()), {}, {});
    assert.equal(res.status, 503);
    assert.equal(res.headers.get("content-type"), "application/json");
    assert.equal((await res.json()).detail.startsWith("JWK Set unavailable"), true);
  });

  test("during an outage a stale set keeps serving, refetched at most once per jwksCooldown", async () => {
    const f = fakeFetch((i) => (i === 0 ? serving() : down()));
    // jwksCacheTtl 0: the set is stale at once, so every verify would refetch.
    const v = await edgejwt.createVerifier({ ALGORITHM: "ES256" }, { jwksUrl: url(), jwksCacheTtl: 0, jwksCooldown: 60, fetch: f });
    const token = await sign();
    for (let i = 0; i < 5; i++) assert.equal((await v.verify(token)).user_id, "1");
    assert.equal(f.calls, 2, "one fetch, then one failed refetch, then none within the cooldown");
    // An unknown kid does not refetch within the cooldown either.
    await rejects(v.verify(await sign({}, { kid: "rotated-away" })), "token_invalid");
    assert.equal(f.calls, 2);
  });

  test("a fetched set is trusted for its answer's Cache-Control max-age unless jwksCacheTtl says otherwise", async () => {
    const token = await sign();
    const answering = (cacheControl) => () => Response.json({ keys: [jwk] }, { headers: cacheControl ? { "Cache-Control": cacheControl } : {} });
    const calls = async (cacheControl, options = {}) => {
      const f = fakeFetch(answering(cacheControl));
      const v = await edgejwt.createVerifier({ ALGORITHM: "ES256" }, { jwksUrl: url(), fetch: f, ...options });
      for (let i = 0; i < 3; i++) assert.equal((await v.verify(token)).user_id, "1");
      return f.calls;
    };
    assert.equal(await calls("public, max-age=0"), 3, "max-age=0: stale at once, fetched for every verify");
    assert.equal(await calls("public, max-age=300"), 1, "the issuer's max-age=300");
    assert.equal(await calls(null), 1, "no header: 600 s");
    assert.equal(await calls("public, max-age=0", { jwksCacheTtl: 600 }), 1, "the verifier's own jwksCacheTtl wins");
    assert.equal(await calls("public, max-age=3600", { jwksCacheTtl: 0 }), 3);
  });

  test("concurrent requests share one in-flight fetch", async () => {
    const jwksUrl = url();
    const f = fakeFetch(serving, 30);
    const token = await sign();
    const v = await edgejwt.createVerifier({ ALGORITHM: "ES256" }, { jwksUrl, fetch: f });
    const w = await edgejwt.createVerifier({ ALGORITHM: "ES256", LEEWAY: 5 }, { jwksUrl, fetch: f });
    const all = await Promise.all([...Array(10)].map((_, i) => (i % 2 ? v : w).verify(token)));
    assert.equal(all.length, 10);
    assert.equal(f.calls, 1);
    // Unknown kids at once (cooldown 0): one refetch between them, not one each.
    const eager = await edgejwt.createVerifier({ ALGORITHM: "ES256" }, { jwksUrl, jwksCooldown: 0, fetch: f });
    const unknown = await sign({}, { kid: "rotated-away" });
    await Promise.all([...Array(5)].map(() => rejects(eager.verify(unknown), "token_invalid")));
    assert.equal(f.calls, 2);
  });
});

describe("types", () => {
  test("a consumer's TypeScript compiles against the published types", () => {
    writeFileSync(
      join(consumer, "check.ts"),
      `import { createVerifier, EdgeJwtError, withAuth, type Claims, type ErrorCode } from "edgejwt";
const v = await createVerifier({ SIGNING_KEY: "x", AUTH_HEADER_TYPES: ["Bearer", "JWT"], LEEWAY: 5 }, { jwksCacheTtl: 60 });
const claims: Claims = await v.verify("t");
const code: ErrorCode = new EdgeJwtError("token_expired", "Token is expired").code;
const h = withAuth(v, async (req, env, ctx, auth) => new Response(auth.userId + String(claims.exp) + code));
void h;
// @ts-expect-error: not a setting
await createVerifier({ SIGNING_KEYS: "x" });
`,
    );
    const tsc = new URL("../../node_modules/typescript/bin/tsc", import.meta.url).pathname;
    execFileSync("node", [tsc, "--noEmit", "--strict", "--target", "es2022", "--module", "nodenext", "--moduleResolution", "nodenext", "--lib", "es2022,dom", "--types", "node", "--typeRoots", new URL("../../node_modules/@types", import.meta.url).pathname, "check.ts"], { cwd: consumer, stdio: "inherit" });
  });
});
