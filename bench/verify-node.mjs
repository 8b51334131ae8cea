#!/usr/bin/env node
// Verify throughput in Node: edgejwt (installed from `npm pack`) against jose, jsonwebtoken
// (KeyObject), @tsndr/cloudflare-worker-jwt and a hand-written node:crypto check +
// JSON.parse (the practical limit), same process, same tokens; edgejwt also with
// `nodeCrypto: "sync"` (the event loop), `"pool"` (libuv's thread pool) and `nodeCrypto: false` (WebCrypto, which jose uses). Median of 5 runs of 1 s,
// the libraries taking turns in each round;
// sequential (await each) and concurrent (batches of 100 with Promise.all).
// Prints markdown. Part of bench/run.sh.
import { createHmac, createPublicKey, createSecretKey, randomBytes, verify as nodeVerify } from "node:crypto";
import { join } from "node:path";
import cfjwt from "@tsndr/cloudflare-worker-jwt";
import * as jose from "jose";
import jsonwebtoken from "jsonwebtoken";
import { installPacked } from "../tests/pkg/packed.mjs";

const edgejwt = await import(join(installPacked(), "entry.mjs"));
const now = Math.floor(Date.now() / 1000);
const payload = { token_type: "access", jti: randomBytes(16).toString("hex"), user_id: "1" };

/** Operations in one 1 s run of `fn`, sequential or in batches of 100. */
async function run(fn, concurrent) {
  let n = 0;
  const end = performance.now() + 1000;
  while (performance.now() < end) {
    if (concurrent) {
      await Promise.all(Array.from({ length: 100 }, fn));
      n += 100;
    } else {
      for (let i = 0; i < 50; i++) await fn();
      n += 50;
    }
  }
  return n;
}

/**
 * The median of 5 runs of each of `fns` in `mode`, the libraries taking turns within each
 * round: a library measured in 5 runs of its own would carry whatever the process was
 * doing then (the JIT, the collector, the thread pool's warmth) as its own difference.
 */
async function rates(fns, concurrent) {
  const runs = Object.fromEntries(Object.keys(fns).map((name) => [name, []]));
  for (let round = 0; round < 5; round++) {
    for (const [name, fn] of Object.entries(fns)) runs[name].push(await run(fn, concurrent));
  }
  return Object.fromEntries(Object.entries(runs).map(([name, r]) => [name, r.sort((a, b) => a - b)[2]]));
}

/** The hand-written floor: check the signature with node:crypto, parse, check exp. */
function handWritten(alg, key) {
  return (token) => {
    const dot = token.lastIndexOf(".");
    const input = token.slice(0, dot);
    const sig = Buffer.from(token.slice(dot + 1), "base64url");
    let ok;
    if (alg === "HS256") ok = createHmac("sha256", key).update(input).digest().equals(sig);
    else if (alg === "EdDSA") ok = nodeVerify(null, Buffer.from(input), key, sig);
    else if (alg === "ES256") ok = nodeVerify("sha256", Buffer.from(input), { key, dsaEncoding: "ieee-p1363" }, sig);
    else ok = nodeVerify("sha256", Buffer.from(input), key, sig);
    if (!ok) throw new Error("bad signature");
    const claims = JSON.parse(Buffer.from(input.slice(input.indexOf(".") + 1), "base64url").toString());
    if (claims.exp <= Date.now() / 1000) throw new Error("expired");
    return claims;
  };
}

export async function benchVerifyNode() {
  const rows = [];
  for (const alg of ["HS256", "EdDSA", "ES256", "RS256"]) {
    let signKey, verifyKey, settings, pem, secret;
    if (alg === "HS256") {
      secret = randomBytes(32).toString("base64url");
      signKey = verifyKey = new TextEncoder().encode(secret);
      settings = { SIGNING_KEY: secret };
    } else {
      const pair = await jose.generateKeyPair(alg, { extractable: true, ...(alg === "EdDSA" ? { crv: "Ed25519" } : {}) });
      [signKey, verifyKey] = [pair.privateKey, pair.publicKey];
      pem = await jose.exportSPKI(pair.publicKey);
      settings = { ALGORITHM: alg, VERIFYING_KEY: pem };
    }
    const token = await new jose.SignJWT(payload).setProtectedHeader({ alg, typ: "JWT" }).setIssuedAt(now).setExpirationTime(now + 3600).sign(signKey);
    const keyObject = alg === "HS256" ? createSecretKey(Buffer.from(secret)) : createPublicKey(pem);
    const ours = await edgejwt.createVerifier(settings);
    // The default checks RS/PS on the event loop and EdDSA/ES on libuv's thread pool
    // (node:crypto's callback form); the options: all on the event loop (`"sync"`), all on
    // the pool (`"pool"`), and WebCrypto (the pool too, as jose).
    const oursSync = await edgejwt.createVerifier(settings, { nodeCrypto: "sync" });
    const oursPool = await edgejwt.createVerifier(settings, { nodeCrypto: "pool" });
    const oursWeb = await edgejwt.createVerifier(settings, { nodeCrypto: false });
    const libs = {
      edgejwt: () => ours.verify(token),
      "edgejwt (sync)": () => oursSync.verify(token),
      "edgejwt (pool)": () => oursPool.verify(token),
      "edgejwt (WebCrypto)": () => oursWeb.verify(token),
      jose: () => jose.jwtVerify(token, verifyKey, { algorithms: [alg] }),
      jsonwebtoken: () => jsonwebtoken.verify(token, keyObject, { algorithms: [alg] }),
      "cloudflare-worker-jwt": async () => {
        if (!(await cfjwt.verify(token, alg === "HS256" ? secret : pem, { algorithm: alg, throwError: true }))) throw new Error("refused");
      },
      "node:crypto by hand": ((check) => () => check(token))(handWritten(alg, keyObject)),
    };
    const supported = {};
    const unsupported = {};
    for (const [name, fn] of Object.entries(libs)) {
      try {
        await fn();
        supported[name] = fn;
      } catch {
        unsupported[name] = null; // the library does not support this algorithm
      }
    }
    const seq = { ...(await rates(supported, false)), ...unsupported };
    const conc = { ...(await rates(supported, true)), ...unsupported };
    rows.push({ alg, seq, conc });
  }
  const names = Object.keys(rows[0].seq);
  const fmt = (n) => (n == null ? "n/a" : n.toLocaleString("en-US"));
  const ratio = (a, b) => (a && b ? `${(a / b).toFixed(2)}×` : "n/a");
  let md = `| alg | mode | ${names.join(" | ")} | edgejwt / jose | edgejwt / by hand |\n|---|---|${names.map(() => "---:").join("|")}|---:|---:|\n`;
  for (const { alg, seq, conc } of rows) {
    for (const [mode, r] of [["sequential", seq], ["concurrent", conc]]) {
      md += `| ${alg} | ${mode} | ${names.map((n) => fmt(r[n])).join(" | ")} | ${ratio(r.edgejwt, r.jose)} | ${ratio(r.edgejwt, r["node:crypto by hand"])} |\n`;
    }
  }
  return md;
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await benchVerifyNode());
