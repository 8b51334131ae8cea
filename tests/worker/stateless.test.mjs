// DEFAULT_AUTHENTICATION_CLASSES=JWTStatelessUserAuthentication: /api/protected/ trusts the
// token's claims (simplejwt's TokenUser), reads no user from D1, and still honours the
// revocations the issuer checks (CHECK_REVOKE_TOKEN's sessions, the blacklist for sliding
// tokens). The default (JWTAuthentication) keeps the D1 read.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { signHS256 } from "./contract-runner.mjs";
import { REFERENCE_KEY, claims, startIssuer } from "./harness.mjs";

const STATELESS = "rest_framework_simplejwt.authentication.JWTStatelessUserAuthentication";
const now = () => Math.floor(Date.now() / 1000);
const access = (extra) =>
  signHS256({ token_type: "access", exp: now() + 300, iat: now(), jti: "j".repeat(32), ...extra }, REFERENCE_KEY);

describe("JWTStatelessUserAuthentication", () => {
  let issuer;
  before(async () => (issuer = await startIssuer({ vars: { DEFAULT_AUTHENTICATION_CLASSES: STATELESS, TOKEN_CLAIMS: "username" } })));
  after(() => issuer.stop());
  const protectedView = (token) => issuer.call("GET", "/api/protected/", { token });

  test("the user is the token's: user_id and username as the claims hold them", async () => {
    const pair = await issuer.login();
    const r = await protectedView(pair.access);
    assert.equal(r.status, 200);
    // simplejwt's TokenUser.id is the claim itself (a string in tokens simplejwt makes).
    assert.deepEqual(r.json, { user_id: claims(pair.access).user_id, username: "alice" });
    // Without a username claim, TokenUser.username is "".
    assert.deepEqual((await protectedView(access({ user_id: "42" }))).json, { user_id: "42", username: "" });
    assert.deepEqual((await protectedView(access({ user_id: 7, username: "x" }))).json, { user_id: 7, username: "x" });
  });

  test("no user is read: a deleted or inactive user's token, and one with no users table, pass", async () => {
    const token = access({ user_id: "999", username: "ghost" });
    assert.deepEqual((await protectedView(token)).json, { user_id: "999", username: "ghost" });
    await issuer.db.prepare("UPDATE users SET is_active = 0 WHERE username = 'alice'").run();
    const pair = await issuer.call("POST", "/api/token/", { json: { username: "alice", password: "alice-password-1" } });
    assert.equal(pair.status, 401, "login still refuses an inactive user");
    await issuer.db.prepare("UPDATE users SET is_active = 1 WHERE username = 'alice'").run();
    const alice = await issuer.login();
    await issuer.db.prepare("UPDATE users SET is_active = 0 WHERE username = 'alice'").run();
    assert.equal((await protectedView(alice.access)).status, 200);
    // The session API still reads the user (it acts on the user's rows).
    assert.deepEqual((await issuer.call("GET", "/api/sessions/", { token: alice.access })).json, { detail: "User is inactive", code: "user_inactive" });
    await issuer.db.prepare("UPDATE users SET is_active = 1 WHERE username = 'alice'").run();
    await issuer.db.prepare("ALTER TABLE users RENAME TO users_away").run();
    try {
      assert.equal((await protectedView(alice.access)).status, 200);
    } finally {
      await issuer.db.prepare("ALTER TABLE users_away RENAME TO users").run();
    }
  });

  test("bad tokens get simplejwt's answers", async () => {
    const none = await protectedView(access({}));
    assert.equal(none.status, 401);
    assert.deepEqual(none.json, { detail: "Token contained no recognizable user identification", code: "token_not_valid" });
    // A user id claim that names no user (neither a string nor a number) is the same error.
    assert.deepEqual((await protectedView(access({ user_id: { id: 1 } }))).json, none.json);
    const expired = await protectedView(signHS256({ token_type: "access", exp: now() - 10, jti: "x", user_id: "1" }, REFERENCE_KEY));
    assert.equal(expired.status, 401);
    assert.equal(expired.json.code, "token_not_valid");
    assert.equal(expired.json.messages[0].message, "Token is expired");
    const forged = await protectedView(signHS256({ token_type: "access", exp: now() + 60, jti: "x", user_id: "1" }, "another-key-0123456789abcdef0123456789abcdef"));
    assert.equal(forged.json.messages[0].message, "Token is invalid");
    const refresh = (await issuer.login()).refresh;
    assert.equal((await protectedView(refresh)).json.messages[0].message, "Token has wrong type");
    const anonymous = await issuer.call("GET", "/api/protected/");
    assert.deepEqual([anonymous.status, anonymous.json], [401, { detail: "Authentication credentials were not provided." }]);
  });
});

describe("JWTStatelessUserAuthentication keeps the revocations", () => {
  test("CHECK_REVOKE_TOKEN: a revoked session's access token is refused", async () => {
    const issuer = await startIssuer({ vars: { DEFAULT_AUTHENTICATION_CLASSES: "JWTStatelessUserAuthentication", CHECK_REVOKE_TOKEN: "true" } });
    try {
      const pair = await issuer.login();
      assert.equal((await issuer.call("GET", "/api/protected/", { token: pair.access })).status, 200);
      assert.equal((await issuer.call("POST", "/api/sessions/revoke-all/", { token: pair.access })).status, 200);
      const r = await issuer.call("GET", "/api/protected/", { token: pair.access });
      assert.equal(r.status, 401);
      assert.equal(r.json.messages[0].message, "Token is blacklisted");
    } finally {
      await issuer.stop();
    }
  });

  test("a blacklisted sliding token is refused", async () => {
    const issuer = await startIssuer({ vars: { DEFAULT_AUTHENTICATION_CLASSES: "JWTTokenUserAuthentication", AUTH_TOKEN_CLASSES: "SlidingToken" } });
    try {
      const { token } = (await issuer.call("POST", "/api/token/sliding/", { json: { username: "alice", password: "alice-password-1" } })).json;
      assert.equal((await issuer.call("GET", "/api/protected/", { token })).status, 200);
      await issuer.db.prepare("INSERT INTO blacklisted_tokens (jti, blacklisted_at, expires_at) VALUES (?1, ?2, ?3)").bind(claims(token).jti, now(), now() + 3600).run();
      const r = await issuer.call("GET", "/api/protected/", { token });
      assert.equal(r.status, 401);
      assert.equal(r.json.messages[0].message, "Token is blacklisted");
    } finally {
      await issuer.stop();
    }
  });
});

describe("DEFAULT_AUTHENTICATION_CLASSES", () => {
  test("the default (JWTAuthentication) reads the user: deleted and inactive users are refused", async () => {
    for (const vars of [{}, { DEFAULT_AUTHENTICATION_CLASSES: "rest_framework_simplejwt.authentication.JWTAuthentication" }]) {
      const issuer = await startIssuer({ vars });
      try {
        const pair = await issuer.login();
        assert.deepEqual((await issuer.call("GET", "/api/protected/", { token: pair.access })).json, { user_id: 1, username: "alice" });
        await issuer.db.prepare("UPDATE users SET is_active = 0 WHERE id = 1").run();
        assert.deepEqual((await issuer.call("GET", "/api/protected/", { token: pair.access })).json, { detail: "User is inactive", code: "user_inactive" });
        assert.deepEqual((await issuer.call("GET", "/api/protected/", { token: access({ user_id: "999" }) })).json, { detail: "User not found", code: "user_not_found" });
      } finally {
        await issuer.stop();
      }
    }
  });

  test("an unknown or second class is a settings error naming the setting", async () => {
    for (const value of ["SessionAuthentication", "JWTAuthentication, JWTStatelessUserAuthentication", ""]) {
      const issuer = await startIssuer({ vars: { DEFAULT_AUTHENTICATION_CLASSES: value }, seed: false });
      try {
        const r = await issuer.call("GET", "/api/protected/");
        assert.equal(r.status, 500);
        assert.equal(r.json.code, "improperly_configured");
        assert.match(r.json.detail, /DEFAULT_AUTHENTICATION_CLASSES/);
      } finally {
        await issuer.stop();
      }
    }
  });
});
