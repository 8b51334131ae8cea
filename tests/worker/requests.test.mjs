// Request bodies in workerd as Django REST framework reads them: an empty body is empty
// data whatever its type, and `CharField` refuses NUL characters after trimming as Python
// does.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startIssuer } from "./harness.mjs";

const REQUIRED = ["This field is required."];
const NUL = ["Null characters are not allowed."];

/** Each token view and the `CharField`s of its serializer, in declaration order. */
const VIEWS = {
  "/api/token/": ["username", "password"],
  "/api/token/refresh/": ["refresh"],
  "/api/token/verify/": ["token"],
  "/api/token/blacklist/": ["refresh"],
  "/api/token/sliding/": ["username", "password"],
  "/api/token/sliding/refresh/": ["token"],
};
const errors = (fields, message) => Object.fromEntries(fields.map((f) => [f, message]));

let issuer;
before(async () => (issuer = await startIssuer()));
after(() => issuer.stop());

describe("an empty body is empty data, whatever its Content-Type", () => {
  // DRF's Request._parse returns {} before choosing a parser when there is no body, so
  // neither a JSON parse error nor a 415 (recorded in simplejwt-parity-observed.json).
  const types = ["application/json", "application/json; charset=utf-8", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "text/plain", undefined];
  for (const [path, fields] of Object.entries(VIEWS)) {
    test(`${path}: every field is required`, async () => {
      for (const type of types) {
        const r = await issuer.call("POST", path, { body: "", headers: type ? { "Content-Type": type } : {} });
        assert.equal(r.status, 400, `${type}: ${JSON.stringify(r.json)}`);
        assert.deepEqual(r.json, errors(fields, REQUIRED), type);
      }
    });
  }
});

describe("CharField refuses NUL characters", () => {
  test("a password with a trailing NUL does not log in (JSON)", async () => {
    const r = await issuer.call("POST", "/api/token/", { json: { username: "alice", password: "alice-password-1\u0000" } });
    assert.deepEqual([r.status, r.json], [400, { password: NUL }]);
  });

  test("a password with a trailing NUL does not log in (form-encoded and multipart)", async () => {
    const form = new URLSearchParams({ username: "alice", password: "alice-password-1\u0000" });
    const f = await issuer.call("POST", "/api/token/", { body: form.toString(), headers: { "Content-Type": "application/x-www-form-urlencoded" } });
    assert.deepEqual([f.status, f.json], [400, { password: NUL }]);
    const data = new FormData();
    data.set("username", "alice");
    data.set("password", "alice-password-1\u0000");
    const m = await issuer.call("POST", "/api/token/", { body: data });
    assert.deepEqual([m.status, m.json], [400, { password: NUL }]);
  });

  test("every field of every view, each reported with the other fields' errors", async () => {
    for (const [path, fields] of Object.entries(VIEWS)) {
      const r = await issuer.call("POST", path, { json: Object.fromEntries(fields.map((f) => [f, `x\u0000y`])) });
      assert.deepEqual([r.status, r.json], [400, errors(fields, NUL)], path);
    }
    // Next to another field's own error, as DRF reports them.
    const r = await issuer.call("POST", "/api/token/", { json: { username: "al\u0000ice", password: "" } });
    assert.deepEqual(r.json, { username: NUL, password: ["This field may not be blank."] });
  });

  test("whitespace is trimmed first: a lone NUL inside whitespace is a NUL, not blank", async () => {
    const r = await issuer.call("POST", "/api/token/", { json: { username: " \u0000 ", password: "\t\u0000\n" } });
    assert.deepEqual([r.status, r.json], [400, { username: NUL, password: NUL }]);
  });
});

describe("fields are trimmed as Python's str.strip() trims", () => {
  test("U+001C..U+001F around the credentials are stripped: alice logs in", async () => {
    const r = await issuer.call("POST", "/api/token/", { json: { username: "\u001calice\u001d", password: "\u001ealice-password-1\u001f" } });
    assert.equal(r.status, 200, JSON.stringify(r.json));
  });
});
