// The package follows a key rotation: the issuer (workerd, persisted D1/KV) restarts with a new
// SIGNING_KEY and the old key in PREVIOUS_VERIFYING_KEYS; a verifier holding the old JWK Set
// verifies both keys' tokens with no failed request and exactly one refetch, shared by
// concurrent requests. Also PREVIOUS_VERIFYING_KEYS in the package's own settings, on every
// signature path (node:crypto, WebCrypto; HMAC in wasm).
import assert from "node:assert/strict";
import { createPublicKey, generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { REFERENCE_KEY, startIssuer } from "../worker/harness.mjs";
import { installPacked } from "./packed.mjs";

let edgejwt;
before(async () => {
  edgejwt = await import(join(installPacked(), "entry.mjs"));
});

const kid = (token) => JSON.parse(Buffer.from(token.split(".")[0], "base64url").toString()).kid;

async function rejects(promise, code) {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof edgejwt.EdgeJwtError, String(e));
    assert.equal(e.code, code, `${e.code}: ${e.message}`);
    assert.equal(e.status, 401);
    return true;
  });
}

for (const alg of ["EdDSA", "ES256"]) {
  describe(`${alg}: a JWKS verifier follows the issuer's rotation`, () => {
    const dir = mkdtempSync(join(tmpdir(), "edgejwt-rotation-"));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const generate = () =>
      generateKeyPairSync(alg === "EdDSA" ? "ed25519" : "ec", alg === "EdDSA" ? {} : { namedCurve: "P-256" }).privateKey.export({ type: "pkcs8", format: "pem" });

    test("no failed request, exactly one refetch for 20 concurrent new-key tokens", async () => {
      const keyA = generate();
      const keyB = generate();
      const publicA = createPublicKey(keyA).export({ type: "spki", format: "pem" });
      // One stable JWK Set URL across restarts (the issuer's port changes): the verifier's
      // `fetch` sends it to the issuer of the moment, and counts.
      let issuer = await startIssuer({ vars: { ALGORITHM: alg, SIGNING_KEY: keyA }, persist: dir });
      let fetches = 0;
      const jwksUrl = `https://issuer.test/${alg}/.well-known/jwks.json`;
      const fetchJwks = async (url) => {
        fetches++;
        return fetch(url.replace(`https://issuer.test/${alg}`, issuer.base));
      };
      const verifier = await edgejwt.createVerifier({ ALGORITHM: alg }, { jwksUrl, fetch: fetchJwks });
      const before = await Promise.all([issuer.login(), issuer.login()]);
      for (const p of before) assert.equal((await verifier.verify(p.access)).user_id, "1");
      assert.equal(fetches, 1);
      await issuer.stop();

      issuer = await startIssuer({
        vars: { ALGORITHM: alg, SIGNING_KEY: keyB, PREVIOUS_VERIFYING_KEYS: JSON.stringify([publicA]) },
        persist: dir,
        migrate: false,
        seed: false,
      });
      try {
        const after = [];
        for (let i = 0; i < 20; i++) after.push((await issuer.login()).access);
        assert.notEqual(kid(after[0]), kid(before[0].access));
        // Old and new tokens at once, against the set cached before the rotation.
        const tokens = [...after, ...before.map((p) => p.access)];
        const results = await Promise.allSettled(tokens.map((t) => verifier.verify(t)));
        const failed = results.filter((r) => r.status === "rejected");
        assert.deepEqual(failed, [], "no failed request");
        assert.equal(fetches, 2, "exactly one refetch");
        // Later requests use the refetched set, with no fetch.
        await verifier.verify(after[3]);
        await verifier.verify(before[1].access);
        assert.equal(fetches, 2);
        // A kid that is in no set, within the cooldown of the rotation's refetch: refused
        // without a fetch (a flood of made-up kids costs the issuer nothing).
        const forged = `${Buffer.from(JSON.stringify({ alg, typ: "JWT", kid: "../../admin" })).toString("base64url")}.${after[0].split(".").slice(1).join(".")}`;
        await rejects(verifier.verify(forged), "token_invalid");
        await rejects(verifier.verify(forged), "token_invalid");
        assert.equal(fetches, 2, "no refetch within the cooldown");
      } finally {
        await issuer.stop();
      }

      // The old key removed: a verifier that fetches the set now refuses the old key's tokens.
      issuer = await startIssuer({ vars: { ALGORITHM: alg, SIGNING_KEY: keyB }, persist: dir, migrate: false, seed: false });
      try {
        const fresh = await edgejwt.createVerifier({ ALGORITHM: alg }, { jwksUrl: `${issuer.base}/.well-known/jwks.json` });
        await rejects(fresh.verify(before[0].access), "token_invalid");
        assert.equal((await fresh.verify((await issuer.login()).access)).user_id, "1");
      } finally {
        await issuer.stop();
      }
    });
  });
}

describe("PREVIOUS_VERIFYING_KEYS in the package's settings", () => {
  test("HS256: the previous secret's tokens verify, a removed one's do not", async () => {
    const NEW = "rotated-hmac-signing-key-0123456789abcdef-xyz";
    let issuer = await startIssuer({ vars: { SIGNING_KEY: REFERENCE_KEY } });
    const old = await issuer.login();
    await issuer.stop();
    issuer = await startIssuer({ vars: { SIGNING_KEY: NEW, PREVIOUS_VERIFYING_KEYS: JSON.stringify([REFERENCE_KEY]) } });
    try {
      const fresh = await issuer.login();
      const v = await edgejwt.createVerifier({ SIGNING_KEY: NEW, PREVIOUS_VERIFYING_KEYS: [REFERENCE_KEY] });
      await v.verify(old.access);
      await v.verify(fresh.access);
      const removed = await edgejwt.createVerifier({ SIGNING_KEY: NEW });
      await rejects(removed.verify(old.access), "token_invalid");
      await removed.verify(fresh.access);
    } finally {
      await issuer.stop();
    }
  });

  test("ES256: both keys on node:crypto and WebCrypto; the key chosen by kid", async () => {
    const gen = () => generateKeyPairSync("ec", { namedCurve: "P-256" });
    const [a, b] = [gen(), gen()];
    const pem = (k) => k.export({ type: "pkcs8", format: "pem" });
    const pub = (k) => k.export({ type: "spki", format: "pem" });
    let issuer = await startIssuer({ vars: { ALGORITHM: "ES256", SIGNING_KEY: pem(a.privateKey) } });
    const old = await issuer.login();
    await issuer.stop();
    issuer = await startIssuer({ vars: { ALGORITHM: "ES256", SIGNING_KEY: pem(b.privateKey), PREVIOUS_VERIFYING_KEYS: JSON.stringify([pub(a.publicKey)]) } });
    try {
      const fresh = await issuer.login();
      const settings = { ALGORITHM: "ES256", VERIFYING_KEY: pub(b.publicKey), PREVIOUS_VERIFYING_KEYS: JSON.stringify([pub(a.publicKey)]) };
      // The wasm has no ECDSA of its own: `webCrypto: false` is a configuration error.
      await assert.rejects(edgejwt.createVerifier(settings, { webCrypto: false }), (e) => e.code === "improperly_configured");
      for (const options of [{}, { nodeCrypto: false }]) {
        const v = await edgejwt.createVerifier(settings, options);
        assert.equal((await v.verify(old.access)).user_id, "1", JSON.stringify(options));
        assert.equal((await v.verify(fresh.access)).user_id, "1");
        // The new token under the old key's kid: the old key checks it, and refuses it.
        const swapped = `${Buffer.from(JSON.stringify({ alg: "ES256", typ: "JWT", kid: kid(old.access) })).toString("base64url")}.${fresh.access.split(".").slice(1).join(".")}`;
        await rejects(v.verify(swapped), "token_invalid");
      }
      const removed = await edgejwt.createVerifier({ ALGORITHM: "ES256", VERIFYING_KEY: pub(b.publicKey) });
      await rejects(removed.verify(old.access), "token_invalid");
    } finally {
      await issuer.stop();
    }
  });
});
