#!/usr/bin/env node
// Verify throughput in Node, edgejwt (the packed npm package) against jose, same process,
// same tokens: ops/s, median of 5 runs of 1 s each. Usage: node bench/verify-node.mjs
// (after scripts/build-pkg.sh). Prints a markdown table.
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import * as jose from "jose";
import { installPacked } from "../tests/pkg/packed.mjs";

const edgejwt = await import(join(installPacked(), "entry.mjs"));
const now = Math.floor(Date.now() / 1000);
const payload = { token_type: "access", jti: randomBytes(16).toString("hex"), user_id: "1" };

async function rate(fn, runs = 5, ms = 1000) {
  const results = [];
  for (let r = 0; r < runs; r++) {
    let n = 0;
    const end = performance.now() + ms;
    while (performance.now() < end) {
      for (let i = 0; i < 50; i++) await fn();
      n += 50;
    }
    results.push(n / (ms / 1000));
  }
  return results.sort((a, b) => a - b)[runs >> 1];
}

const rows = [];
for (const alg of ["HS256", "EdDSA", "ES256", "RS256"]) {
  let signKey, verifyKey, settings;
  if (alg === "HS256") {
    const secret = randomBytes(32).toString("base64url");
    signKey = verifyKey = new TextEncoder().encode(secret);
    settings = { SIGNING_KEY: secret };
  } else {
    const pair = await jose.generateKeyPair(alg, { extractable: true, ...(alg === "EdDSA" ? { crv: "Ed25519" } : {}) });
    [signKey, verifyKey] = [pair.privateKey, pair.publicKey];
    settings = { ALGORITHM: alg, VERIFYING_KEY: await jose.exportSPKI(pair.publicKey) };
  }
  const token = await new jose.SignJWT(payload).setProtectedHeader({ alg, typ: "JWT" }).setIssuedAt(now).setExpirationTime(now + 3600).sign(signKey);
  const ours = await edgejwt.createVerifier(settings);
  const oursWasm = alg === "HS256" ? null : await edgejwt.createVerifier(settings, { webCrypto: false });
  const josePs = await rate(() => jose.jwtVerify(token, verifyKey, { algorithms: [alg] }));
  const oursPs = await rate(() => ours.verify(token));
  const wasmPs = oursWasm ? await rate(() => oursWasm.verify(token)) : null;
  rows.push(`| ${alg} | ${Math.round(oursPs)} | ${wasmPs ? Math.round(wasmPs) : "—"} | ${Math.round(josePs)} | ${(oursPs / josePs).toFixed(2)}× |`);
}
console.log(`Node ${process.version}, ${new Date().toISOString().slice(0, 10)}; verify ops/s, median of 5 × 1 s, sequential`);
console.log("| alg | edgejwt | edgejwt (wasm only) | jose | edgejwt / jose |\n|---|---|---|---|---|");
console.log(rows.join("\n"));
