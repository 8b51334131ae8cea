// Password hashes in workerd: WebCrypto's native PBKDF2 up to its 100,000-iteration cap,
// the pure-Rust path above it (Django imports), rehashing to the configured cost, and the
// native path agreeing with the core's and with node:crypto's.
import assert from "node:assert/strict";
import { pbkdf2Sync } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { djangoHash, startIssuer } from "./harness.mjs";

const NO_ACCOUNT = { detail: "No active account found with the given credentials" };

/** Whether `encoded` (Django's pbkdf2_sha256 format) is a hash of `password`, by node:crypto. */
function nodeVerifies(password, encoded) {
  const [algorithm, iterations, salt, hash] = encoded.split("$");
  assert.equal(algorithm, "pbkdf2_sha256");
  return pbkdf2Sync(password, salt, Number(iterations), 32, "sha256").toString("base64") === hash;
}

const addUser = (issuer, username, hash) =>
  issuer.db.prepare("INSERT INTO users (username, password) VALUES (?1, ?2)").bind(username, hash).run();
const storedHash = async (issuer, username) =>
  (await issuer.db.prepare("SELECT password FROM users WHERE username = ?1").bind(username).first()).password;
const login = (issuer, username, password) => issuer.call("POST", "/api/token/", { json: { username, password } });

// Made by edgejwt-core's make_password("carol-password-1", "edgejwtcorevector00001", 100_000),
// asserted by its Rust test `webcrypto_vectors` (crates/core/src/password.rs).
const CORE_100K = "pbkdf2_sha256$100000$edgejwtcorevector00001$DCQkkKK6NqUShZFfjb+HiNaylh9nd4ixKaWgsOdaOXE=";

describe("passwords at the shipped cost (100,000 iterations)", () => {
  let issuer;
  before(async () => (issuer = await startIssuer({ vars: { PASSWORD_HASH_ITERATIONS: "100000" } })));
  after(() => issuer.stop());


  test("a Django hash at 1,000,000 iterations logs in (in wasm) and is rehashed to 100,000", async () => {
    const imported = djangoHash("frank-password-1", 1_000_000);
    await addUser(issuer, "frank", imported);
    // A wrong password: simplejwt's 401, and the stored hash is left alone.
    const wrong = await login(issuer, "frank", "frank-password-2");
    assert.equal(wrong.status, 401);
    assert.deepEqual(wrong.json, NO_ACCOUNT);
    assert.equal(wrong.headers.get("www-authenticate"), 'Bearer realm="api"');
    assert.equal(await storedHash(issuer, "frank"), imported);

    assert.equal((await login(issuer, "frank", "frank-password-1")).status, 200);
    const rehashed = await storedHash(issuer, "frank");
    assert.match(rehashed, /^pbkdf2_sha256\$100000\$[A-Za-z0-9]{22}\$[A-Za-z0-9+/]{43}=$/);
    assert.ok(nodeVerifies("frank-password-1", rehashed), rehashed);
    // The new hash is at the configured cost: the next login checks it natively, keeps it.
    assert.equal((await login(issuer, "frank", "frank-password-1")).status, 200);
    assert.equal(await storedHash(issuer, "frank"), rehashed);
    assert.deepEqual((await login(issuer, "frank", "frank-password-2")).json, NO_ACCOUNT);
  });

  test("a hash made by the core is checked natively; a hash made natively is the core's format", async () => {
    // core → native: the core's vector logs in, a one-letter change does not.
    await addUser(issuer, "grace", CORE_100K);
    assert.equal((await login(issuer, "grace", "carol-password-1")).status, 200);
    assert.deepEqual((await login(issuer, "grace", "carol-password-2")).json, NO_ACCOUNT);
    assert.equal(await storedHash(issuer, "grace"), CORE_100K, "a hash at the configured cost is kept");
    // native → core: a rehash at 100,000 is made by WebCrypto; node:crypto verifies it (the
    // core's Rust test verifies a recorded one: NATIVE_100K there).
    await addUser(issuer, "heidi", djangoHash("heidi-password-1", 20_000));
    assert.equal((await login(issuer, "heidi", "heidi-password-1")).status, 200);
    const native = await storedHash(issuer, "heidi");
    assert.match(native, /^pbkdf2_sha256\$100000\$/);
    assert.ok(nodeVerifies("heidi-password-1", native), native);
    assert.equal((await login(issuer, "heidi", "heidi-password-1")).status, 200);
  });

  test("pbkdf2_sha1 at Django's old costs logs in natively and becomes pbkdf2_sha256", async () => {
    const salt = "sha1saltsha1saltsha1sa";
    const sha1 = `pbkdf2_sha1$50000$${salt}$${pbkdf2Sync("ivan-password-1", salt, 50_000, 20, "sha1").toString("base64")}`;
    await addUser(issuer, "ivan", sha1);
    assert.deepEqual((await login(issuer, "ivan", "ivan-password-2")).json, NO_ACCOUNT);
    assert.equal(await storedHash(issuer, "ivan"), sha1);
    assert.equal((await login(issuer, "ivan", "ivan-password-1")).status, 200);
    assert.ok(nodeVerifies("ivan-password-1", await storedHash(issuer, "ivan")));
  });

  test("password change hashes the new password at 100,000", async () => {
    await addUser(issuer, "judy", djangoHash("judy-password-1", 100_000));
    const pair = (await login(issuer, "judy", "judy-password-1")).json;
    const r = await issuer.call("POST", "/api/password/change/", {
      token: pair.access,
      json: { old_password: "judy-password-1", new_password1: "a fresh Passw0rd", new_password2: "a fresh Passw0rd" },
    });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    const changed = await storedHash(issuer, "judy");
    assert.match(changed, /^pbkdf2_sha256\$100000\$/);
    assert.ok(nodeVerifies("a fresh Passw0rd", changed));
    assert.equal((await login(issuer, "judy", "a fresh Passw0rd")).status, 200);
    assert.deepEqual((await login(issuer, "judy", "judy-password-1")).json, NO_ACCOUNT);
  });
});

describe("PASSWORD_HASH_ITERATIONS above WebCrypto's cap", () => {
  test("150,000 keeps working in wasm: new hashes at 150,000, checked and kept", async () => {
    const issuer = await startIssuer({ vars: { PASSWORD_HASH_ITERATIONS: "150000" } });
    try {
      await issuer.login(); // alice's seeded hash is at 20,000: rehashed to 150,000
      const rehashed = await storedHash(issuer, "alice");
      assert.match(rehashed, /^pbkdf2_sha256\$150000\$/);
      assert.ok(nodeVerifies("alice-password-1", rehashed));
      await issuer.login();
      assert.equal(await storedHash(issuer, "alice"), rehashed);
      const wrong = await issuer.call("POST", "/api/token/", { json: { username: "alice", password: "nope" } });
      assert.equal(wrong.status, 401);
      assert.deepEqual(wrong.json, NO_ACCOUNT);
    } finally {
      await issuer.stop();
    }
  });
});

describe("WebCrypto's PBKDF2 failing", () => {
  test("logins, rehashes and password changes fall back to wasm, with the same bytes", async () => {
    const issuer = await startIssuer({ failingPbkdf2: true, vars: { PASSWORD_HASH_ITERATIONS: "100000" } });
    try {
      const failures = async () => Number((await issuer.call("GET", "/__pbkdf2_failures")).json);

      // The core's vector at 100,000 (natively derivable, so WebCrypto is tried first).
      await addUser(issuer, "grace", CORE_100K);
      assert.equal((await login(issuer, "grace", "carol-password-1")).status, 200);
      assert.ok((await failures()) >= 1, "the injected fault fired");
      const wrong = await login(issuer, "grace", "carol-password-2");
      assert.equal(wrong.status, 401);
      assert.deepEqual(wrong.json, NO_ACCOUNT);
      assert.equal(await storedHash(issuer, "grace"), CORE_100K);

      // A rehash (alice's seeded hash is at 20,000) is made in wasm; node:crypto verifies it.
      const before = await failures();
      await issuer.login();
      assert.ok((await failures()) > before);
      const rehashed = await storedHash(issuer, "alice");
      assert.match(rehashed, /^pbkdf2_sha256\$100000\$[A-Za-z0-9]{22}\$[A-Za-z0-9+/]{43}=$/);
      assert.ok(nodeVerifies("alice-password-1", rehashed), rehashed);
      const { access } = await issuer.login();

      // A password change: the new hash too.
      const changed = await issuer.call("POST", "/api/password/change/", {
        token: access,
        json: { old_password: "alice-password-1", new_password1: "a fresh Passw0rd", new_password2: "a fresh Passw0rd" },
      });
      assert.equal(changed.status, 200, JSON.stringify(changed.json));
      assert.ok(nodeVerifies("a fresh Passw0rd", await storedHash(issuer, "alice")));
      assert.equal((await login(issuer, "alice", "a fresh Passw0rd")).status, 200);
      assert.deepEqual((await login(issuer, "alice", "alice-password-1")).json, NO_ACCOUNT);

      // The failure is logged, without the passwords.
      const logs = issuer.logs();
      assert.match(logs, /WebCrypto PBKDF2 failed, using wasm/);
      for (const secret of ["carol-password-", "alice-password-1", "a fresh Passw0rd"]) assert.ok(!logs.includes(secret), secret);
    } finally {
      await issuer.stop();
    }
  });
});
