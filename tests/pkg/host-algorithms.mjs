// Shared by the runtime suites (Node, workerd, Deno, Bun, Chromium): the algorithms whose
// signatures the package's wasm leaves to the runtime's crypto. Tokens signed by jose with
// keys from node:crypto; each runtime runs `hostCheckSource` with the package's
// createVerifier and returns data that `assertHostChecks` asserts. A verifier that fell back
// to a check of its own (`webCrypto: false` working) or failed open (a tampered token or one
// of another key accepted) fails here.
import assert from "node:assert/strict";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import * as jose from "jose";

/** Algorithms the package's wasm has no signature code for (crates/wasm/Cargo.toml). */
export const HOST_ONLY = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"];

const RSA = ["rsa", { modulusLength: 2048 }];
const NODE_KEYS = {
  RS256: RSA,
  RS384: RSA,
  RS512: RSA,
  PS256: RSA,
  PS384: RSA,
  PS512: RSA,
  ES256: ["ec", { namedCurve: "P-256" }],
  ES384: ["ec", { namedCurve: "P-384" }],
  ES512: ["ec", { namedCurve: "P-521" }],
  EdDSA: ["ed25519", {}],
};

/** Per algorithm: a jose-signed token, a tampered copy, one of another key, and the public key as PEM and JWK. */
export async function hostCases(algorithms = HOST_ONLY) {
  const now = Math.floor(Date.now() / 1000);
  const cases = [];
  for (const alg of algorithms) {
    const [type, options] = NODE_KEYS[alg];
    const pair = generateKeyPairSync(type, options);
    const other = generateKeyPairSync(type, options);
    const sign = (key) =>
      new jose.SignJWT({ token_type: "access", jti: randomBytes(16).toString("hex"), user_id: "42" })
        .setProtectedHeader({ alg, typ: "JWT" })
        .setIssuedAt(now)
        .setExpirationTime(now + 300)
        .sign(key);
    const token = await sign(pair.privateKey);
    const [h, c, s] = token.split(".");
    const sig = Buffer.from(s, "base64url");
    sig[sig.length >> 1] ^= 1;
    cases.push({
      alg,
      token,
      tampered: `${h}.${c}.${sig.toString("base64url")}`,
      otherKey: await sign(other.privateKey),
      pem: pair.publicKey.export({ type: "spki", format: "pem" }),
      privatePem: pair.privateKey.export({ type: "pkcs8", format: "pem" }),
      jwk: pair.publicKey.export({ format: "jwk" }),
    });
  }
  return cases;
}

/**
 * Source of `async (createVerifier, cases) => results`, to run inside a runtime (a Worker, a
 * page, `deno run`): no imports, plain data out.
 */
export const hostCheckSource = `async (createVerifier, cases) => {
  const code = async (p) => { try { await p; return "ok"; } catch (e) { return e && e.code ? e.code : "other: " + e; } };
  const out = {};
  for (const c of cases) {
    const r = (out[c.alg] = {});
    for (const [form, settings] of [["pem", { VERIFYING_KEY: c.pem }], ["jwk", { VERIFYING_KEY: c.jwk }], ["privatePem", { SIGNING_KEY: c.privatePem }]]) {
      try {
        const v = await createVerifier({ ALGORITHM: c.alg, ...settings });
        r[form] = (await v.verify(c.token)).user_id;
        r[form + "Tampered"] = await code(v.verify(c.tampered));
        r[form + "OtherKey"] = await code(v.verify(c.otherKey));
      } catch (e) {
        r[form] = "error: " + (e && e.code) + " " + (e && e.message);
      }
    }
    r.noHost = await code(createVerifier({ ALGORITHM: c.alg, VERIFYING_KEY: c.pem }, { webCrypto: false }));
  }
  return out;
}`;

/** The results every runtime must give. */
export function assertHostChecks(out, cases, runtime) {
  for (const c of cases) {
    const r = out[c.alg];
    for (const form of ["pem", "jwk", "privatePem"]) {
      assert.equal(r[form], "42", `${runtime} ${c.alg} ${form}`);
      assert.equal(r[`${form}Tampered`], "token_invalid", `${runtime} ${c.alg} ${form}: a flipped signature bit`);
      assert.equal(r[`${form}OtherKey`], "token_invalid", `${runtime} ${c.alg} ${form}: another key's token`);
    }
    // The wasm has no check of its own: turning the runtime's off is an error, not a fallback.
    assert.equal(r.noHost, "improperly_configured", `${runtime} ${c.alg} webCrypto: false`);
  }
}
