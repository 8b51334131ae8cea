// `edgejwt keygen`, `inspect` and `check-config` as an operator runs them: a key made by
// keygen signs the issuer's tokens in workerd, inspect judges them with the core's codes,
// check-config reads wrangler.toml as the Worker will.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";

import { claims, withIssuer } from "../worker/harness.mjs";
import { edgejwt, ok } from "./cli.mjs";

const dir = mkdtempSync(join(tmpdir(), "edgejwt-keys-"));
after(() => rmSync(dir, { recursive: true, force: true }));

describe("keygen", () => {
  for (const alg of ["EdDSA", "ES256", "ES384", "ES512", "RS256", "HS256"]) {
    test(`${alg}: a key the issuer signs with, its JWK Set, the commands`, async () => {
      const out = join(dir, alg);
      const r = await ok(["keygen", "--alg", alg, "--out", out]);
      const keyFile = join(out, alg === "HS256" ? "signing-key.txt" : "signing-key.pem");
      assert.equal(statSync(keyFile).mode & 0o777, 0o600);
      assert.match(r.stdout, new RegExp(`npx wrangler secret put SIGNING_KEY < ${keyFile.replaceAll("/", "\\/")}`));
      assert.match(r.stdout, new RegExp(`ALGORITHM = "${alg}"`));
      assert.doesNotMatch(r.stdout, /PRIVATE KEY/, "with --out the key goes to the file only");
      const key = readFileSync(keyFile, "utf8");
      const jwks = JSON.parse(readFileSync(join(out, "jwks.json"), "utf8"));
      await withIssuer({ vars: { ALGORITHM: alg, SIGNING_KEY: key } }, async (issuer) => {
        const served = await issuer.call("GET", "/api/token/jwks/");
        assert.deepEqual(served.json, jwks, "keygen's JWK Set is the issuer's");
        const { access } = await issuer.login();
        const header = JSON.parse(Buffer.from(access.split(".")[0], "base64url"));
        assert.equal(header.alg, alg);
        if (alg !== "HS256") assert.equal(header.kid, jwks.keys[0].kid);
        const args = ["inspect", access, "--alg", alg, "--key", keyFile];
        const valid = await ok(args);
        assert.match(valid.stdout, /verifies: yes, a valid access token/);
        // Verifying with only the public key (from the JWK Set).
        if (alg !== "HS256") {
          writeFileSync(join(out, "public.jwk"), JSON.stringify(jwks.keys[0]));
          await ok(["inspect", access, "--alg", alg, "--key", join(out, "public.jwk")]);
        }
      });
    });
  }

  test("--rotate: the retired key joins PREVIOUS_VERIFYING_KEYS and the JWK Set", async () => {
    const current = join(dir, "EdDSA", "signing-key.pem");
    const out = join(dir, "rotated");
    const r = await ok(["keygen", "--alg", "EdDSA", "--rotate", "--current", current, "--out", out]);
    const previous = JSON.parse(readFileSync(join(out, "previous-verifying-keys.json"), "utf8"));
    const old = JSON.parse(readFileSync(join(dir, "EdDSA", "jwks.json"), "utf8")).keys[0];
    assert.deepEqual(previous, [old]);
    const jwks = JSON.parse(readFileSync(join(out, "jwks.json"), "utf8"));
    assert.equal(jwks.keys.length, 2);
    assert.deepEqual(jwks.keys[1], old);
    assert.match(r.stdout, /PREVIOUS_VERIFYING_KEYS = '\[\{/);
    const bad = await edgejwt(["keygen", "--alg", "ES256", "--rotate", "--current", current]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--current .*: not a usable ES256 SIGNING_KEY/);
    assert.doesNotMatch(bad.stderr, /PRIVATE/);
  });
});

describe("inspect", () => {
  test("valid, expired, tampered and wrong-key tokens, with the core's codes", async () => {
    const key = "conformance-reference-signing-key-0123456789abcdef";
    const keyFile = join(dir, "hs.txt");
    writeFileSync(keyFile, key);
    await withIssuer({}, async (issuer) => {
      const { access, refresh } = await issuer.login();
      const valid = await ok(["inspect", access, "--key", keyFile]);
      assert.match(valid.stdout, /"user_id": "1"/);
      assert.match(valid.stdout, /exp +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(in (4m 5\ds|5m)\)/);
      assert.match((await ok(["inspect", refresh, "--key", keyFile])).stdout, /a valid refresh token/);
      const later = claims(access).exp + 3600;
      const expired = await edgejwt(["inspect", access, "--key", keyFile, "--at", String(later)]);
      assert.equal(expired.code, 1);
      assert.match(expired.stdout, /verifies: no \(token_expired\): "Token is expired"/);
      const [h, c, s] = access.split(".");
      const tampered = await edgejwt(["inspect", `${h}.${c}.${s[0] === "A" ? "B" : "A"}${s.slice(1)}`, "--key", keyFile]);
      assert.match(tampered.stdout, /verifies: no \(token_invalid\): "Token is invalid", token is invalid: bad signature/);
      writeFileSync(join(dir, "other.txt"), "another-signing-key-0123456789abcdef-0123");
      const wrong = await edgejwt(["inspect", access, "--key", join(dir, "other.txt")]);
      assert.match(wrong.stdout, /verifies: no \(token_invalid\).*bad signature/);
      const nokey = await edgejwt(["inspect", access, "--settings", join(dir, "none.toml")]);
      assert.equal(nokey.code, 1);
      assert.match(nokey.stderr, /cannot read .*none\.toml/);
      const unchecked = await edgejwt(["inspect", "-"], { input: access });
      assert.match(unchecked.stdout, /verifies: not checked: no key/);
      const garbage = await edgejwt(["inspect", "not-a-token"]);
      assert.equal(garbage.code, 1);
      assert.match(garbage.stderr, /edgejwt: not a JWT/);
    });
  });
});

describe("check-config", () => {
  test("the shipped wrangler.toml passes, its secret noted", async () => {
    const r = await ok(["check-config", "wrangler.toml"]);
    assert.match(r.stdout, /SIGNING_KEY is not set here: it is a secret/);
    assert.match(r.stdout, /ok: the Worker will accept these settings/);
  });

  test("every bad setting is named", async () => {
    const toml = join(dir, "bad.toml");
    writeFileSync(toml, '[vars]\nACCESS_TOKEN_LIFETIME = "5 min"\nLEEWAY = 5\nALGORITHM = "HS257"\nPASSWORD_HASH_ITERATIONS = "10"\nLOG_LEVEL = "loud"\n[env.prod.vars]\nALGORITHM = "EdDSA"\n');
    const r = await edgejwt(["check-config", toml]);
    assert.equal(r.code, 1);
    for (const name of ["ACCESS_TOKEN_LIFETIME", "LEEWAY", "ALGORITHM", "PASSWORD_HASH_ITERATIONS", "LOG_LEVEL"]) {
      assert.match(r.stdout, new RegExp(`problem: ${name}: `), name);
    }
    assert.match(r.stdout, /5 problem\(s\)/);
    const secrets = join(dir, ".dev.vars");
    writeFileSync(secrets, "SIGNING_KEY=short\n");
    const prod = await edgejwt(["check-config", toml, "--env", "prod", "--secrets", secrets]);
    assert.match(prod.stdout, /problem: SIGNING_KEY: /);
    assert.doesNotMatch(prod.stdout, /short/, "key values are never printed");
  });
});
