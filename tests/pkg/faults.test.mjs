// The verifier when its revocations store fails: a KV read that throws must refuse the token
// with a stable JSON error (503 revocations_unavailable), never accept it unchecked and never
// surface as a 500 or an exception from withAuth. The packed package in Node, the issuer's tokens.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { REFERENCE_KEY, startIssuer } from "../worker/harness.mjs";
import { installPacked } from "./packed.mjs";

let issuer, edgejwt, pair;
before(async () => {
  const dir = installPacked();
  edgejwt = await import(join(dir, "entry.mjs"));
  issuer = await startIssuer();
  pair = await issuer.login();
});
after(() => issuer.stop());

const failingKv = { get: async () => { throw new Error("injected KV get failure"); } };

test("a KV read that fails refuses the token: 503 revocations_unavailable, fail closed", async () => {
  const verifier = await edgejwt.createVerifier({ SIGNING_KEY: REFERENCE_KEY }, { revocations: failingKv });
  const error = await verifier.verify(pair.access).then(() => null, (e) => e);
  assert.ok(error instanceof edgejwt.EdgeJwtError, String(error));
  assert.equal(error.code, "revocations_unavailable");
  assert.equal(error.status, 503);
  // The same token verifies once the store answers again.
  const healthy = await edgejwt.createVerifier({ SIGNING_KEY: REFERENCE_KEY }, { revocations: { get: async () => null } });
  assert.equal((await healthy.verify(pair.access)).user_id, "1");
});

test("withAuth answers the failure as JSON 503, not a 500 or a thrown error", async () => {
  const verifier = await edgejwt.createVerifier({ SIGNING_KEY: REFERENCE_KEY }, { revocations: failingKv });
  const handler = edgejwt.withAuth(verifier, () => new Response("reached the handler"));
  const res = await handler(new Request("http://x/", { headers: { Authorization: `Bearer ${pair.access}` } }), {}, {});
  assert.equal(res.status, 503);
  assert.match(res.headers.get("content-type"), /application\/json/);
  assert.equal((await res.json()).code, "revocations_unavailable");
});
