// Request bodies in workerd as Django REST framework reads them: an empty body is empty
// data whatever its type.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startIssuer } from "./harness.mjs";

const REQUIRED = ["This field is required."];

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
