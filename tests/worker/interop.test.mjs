// Interop with the real simplejwt 5.5.1, both directions (recorded by
// scripts/record-simplejwt-interop.mjs with 100-year lifetimes): tokens simplejwt minted
// work here, and tokens this issuer minted worked there.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { claims, startIssuer } from "./harness.mjs";

const fixture = JSON.parse(readFileSync(new URL("../fixtures/simplejwt-interop-worker.json", import.meta.url), "utf8"));
const header = (t) => JSON.parse(Buffer.from(t.split(".")[0], "base64url"));

describe("tokens minted by simplejwt, used at the issuer", () => {
  let issuer;
  // simplejwt's behaviour: a replayed refresh token is refused at once (no reuse interval).
  before(async () => (issuer = await startIssuer({ vars: { REFRESH_TOKEN_REUSE_INTERVAL: "0" } })));
  after(() => issuer.stop());
  const { access, refresh, sliding } = fixture.reference_minted;

  test("verify accepts all three", async () => {
    for (const token of [access, refresh, sliding]) {
      assert.deepEqual(await issuer.call("POST", "/api/token/verify/", { json: { token } }).then((r) => [r.status, r.json]), [200, {}]);
    }
  });

  test("the access token opens the protected view", async () => {
    const r = await issuer.call("GET", "/api/protected/", { token: access });
    assert.deepEqual([r.status, r.json], [200, { user_id: 1, username: "alice" }]);
  });

  test("the refresh token refreshes with rotation, once", async () => {
    const r = await issuer.call("POST", "/api/token/refresh/", { json: { refresh } });
    assert.equal(r.status, 200);
    assert.equal(claims(r.json.access).user_id, "1");
    assert.notEqual(claims(r.json.refresh).jti, claims(refresh).jti);
    const again = await issuer.call("POST", "/api/token/refresh/", { json: { refresh } });
    assert.deepEqual([again.status, again.json], [401, { detail: "Token is blacklisted", code: "token_not_valid" }]);
  });

  test("the sliding token slides, keeping its jti", async () => {
    const r = await issuer.call("POST", "/api/token/sliding/refresh/", { json: { token: sliding } });
    assert.equal(r.status, 200);
    assert.equal(claims(r.json.token).jti, claims(sliding).jti);
    assert.equal(claims(r.json.token).refresh_exp, claims(sliding).refresh_exp);
  });
});

describe("tokens minted by the issuer, used at simplejwt", () => {
  const answers = fixture.reference_answers_to_issuer_tokens;

  test("simplejwt verified, authenticated, refreshed and slid them", () => {
    for (const key of ["verify_access", "verify_refresh", "verify_sliding"]) assert.deepEqual(answers[key], { status: 200, json: {} }, key);
    assert.deepEqual(answers.protected, { status: 200, json: { user_id: 1, username: "alice" } });
    assert.equal(answers.refresh.status, 200);
    assert.deepEqual(Object.keys(answers.refresh.json).sort(), ["access", "refresh"]);
    assert.deepEqual(answers.refresh_again, { status: 401, json: { detail: "Token is blacklisted", code: "token_not_valid" } });
    assert.equal(answers.sliding_refresh.status, 200);
    assert.equal(claims(answers.sliding_refresh.json.token).jti, claims(fixture.issuer_minted.sliding).jti);
  });

  test("the issuer still mints tokens of the recorded form, and accepts simplejwt's answers", async () => {
    const issuer = await startIssuer();
    try {
      const now = await issuer.login();
      for (const kind of ["access", "refresh"]) {
        assert.deepEqual(header(now[kind]), header(fixture.issuer_minted[kind]));
        assert.deepEqual(Object.keys(claims(now[kind])).sort(), Object.keys(claims(fixture.issuer_minted[kind])).sort());
      }
      // What simplejwt minted from our refresh token works here too.
      const r = await issuer.call("GET", "/api/protected/", { token: answers.refresh.json.access });
      assert.deepEqual(r.json, { user_id: 1, username: "alice" });
    } finally {
      await issuer.stop();
    }
  });
});
