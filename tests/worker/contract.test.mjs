// Every example of simplejwt's wire contract, and edgejwt's own parity examples
// (tests/fixtures/parity-examples.json), replayed against the issuer in workerd (real
// local D1 and KV) for each combination of ROTATE_REFRESH_TOKENS and
// BLACKLIST_AFTER_ROTATION, and compared with what the real simplejwt 5.5.1 answered to
// the same requests (recorded by scripts/record-simplejwt-contract.mjs).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { runContract } from "./contract-runner.mjs";
import { REFERENCE_KEY, startIssuer } from "./harness.mjs";

const fixture = (name) => JSON.parse(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), "utf8"));
// Each suite: the examples and the reference's answers to them, one fresh server per
// configuration (as recorded).
const SUITES = [
  { name: "contract", examples: fixture("simplejwt-contract.json"), observed: fixture("simplejwt-observed.json").observed },
  { name: "parity", examples: fixture("parity-examples.json"), observed: fixture("simplejwt-parity-observed.json").observed },
];

// Where edgejwt keeps simplejwt's contract but not its bugs (reference/README.md).
const DEVIATIONS = {
  "POST /api/token/refresh/ | user does not exist": {
    why: "simplejwt answers an HTML 500 for a refresh token whose user is gone",
    status: 401,
    headers: { "content-type": "application/json", "www-authenticate": 'Bearer realm="api"', allow: "POST, OPTIONS" },
    json: { detail: "No active account found for the given token." },
  },
  // The example before this one replays a rotated-out token: simplejwt only refuses it,
  // edgejwt detects the reuse and ends the session, so its newest token dies too.
  "POST /api/token/refresh/ | ok with the rotated refresh token": {
    why: "simplejwt has no reuse detection: a replayed rotated-out token does not end its session",
    config: "rotate=true blacklist_after_rotation=true",
    status: 401,
    headers: { "content-type": "application/json", "www-authenticate": 'Bearer realm="api"', allow: "POST, OPTIONS" },
    json: { detail: "Token is blacklisted", code: "token_not_valid" },
  },
};

/** The deliberate deviation for this example in this configuration, if any. */
const deviation = (key, config) => {
  const d = DEVIATIONS[key];
  return d && (!d.config || d.config === config) ? d : undefined;
};

/** The parts of a token's claims that do not depend on when it was issued. */
function shape({ header, claims }) {
  const rel = (k) => (k in claims ? claims[k] - claims.iat : undefined);
  // `kid` is edgejwt's addition to the header: it names the signing key, so a rotated issuer
  // picks the key (tests/worker/keys.test.mjs). PyJWT ignores it (simplejwt verifies and
  // refreshes such tokens: crates/core/tests/fixtures/simplejwt-interop.json).
  const { kid, ...rest } = header;
  assert.ok(kid === undefined || /^[A-Za-z0-9_-]+$/.test(kid), `kid ${kid}`);
  return {
    header: rest,
    // `sid` (SESSION_CLAIM) is edgejwt's addition: it lets logout revoke access tokens.
    keys: Object.keys(claims).filter((k) => k !== "sid").sort(),
    token_type: claims.token_type,
    user_id: claims.user_id,
    foo: claims.foo,
    exp: rel("exp"),
    refresh_exp_ahead: "refresh_exp" in claims ? claims.refresh_exp > claims.iat : undefined,
    jti: /^[0-9a-f]{32}$/.test(claims.jti ?? "") ? "hex32" : claims.jti,
  };
}

const summary = [];

// Each configuration as recorded, and the default one again with every statement in D1's
// sessions (`D1_READ_REPLICAS`, replicas.test.mjs): the contract must not change.
const REPLICAS = "rotate=true blacklist_after_rotation=true";
const runs = SUITES.flatMap(({ name, examples, observed }) =>
  Object.entries(observed).flatMap(([config, expectedAll]) =>
    [false, ...(config === REPLICAS ? [true] : [])].map((replicas) => ({ suite: name, examples, config, expectedAll, replicas })),
  ),
);

for (const { suite, examples, config, expectedAll, replicas } of runs) {
  const [, rotate, blacklist] = config.match(/rotate=(\w+) blacklist_after_rotation=(\w+)/);
  describe(`${suite}, ${config}${replicas ? ", D1_READ_REPLICAS=true" : ""}`, () => {
    let issuer;
    let got;
    before(async () => {
      // simplejwt has no reuse interval: a replayed refresh token is refused at once (the
      // grace window is tested in sessions.test.mjs).
      const vars = { ROTATE_REFRESH_TOKENS: rotate, BLACKLIST_AFTER_ROTATION: blacklist, REFRESH_TOKEN_REUSE_INTERVAL: "0" };
      issuer = await startIssuer({ vars: replicas ? { ...vars, D1_READ_REPLICAS: "true" } : vars });
      got = await runContract(issuer.base, examples, REFERENCE_KEY);
    });
    after(() => issuer?.stop());

    let exact = 0;
    for (const [key, reference] of Object.entries(expectedAll)) {
      test(key, () => {
        const ours = got[key];
        const expected = deviation(key, config) ?? reference;
        assert.equal(ours.status, expected.status, `status (${JSON.stringify(ours.json ?? ours.text)})`);
        assert.deepEqual(ours.json, expected.json);
        assert.deepEqual(ours.headers, expected.headers);
        if (!deviation(key, config)) {
          assert.deepEqual(Object.keys(ours.tokens).sort(), Object.keys(reference.tokens).sort());
          for (const field of Object.keys(reference.tokens)) {
            // An access token minted from a refresh token of an earlier second may be one
            // second short in simplejwt (its exp is the refresh token's iat + lifetime).
            const [a, b] = [shape(ours.tokens[field]), shape(reference.tokens[field])];
            if (a.token_type === "access" && b.exp === a.exp - 1) b.exp = a.exp;
            assert.deepEqual(a, b, field);
          }
          exact++;
        }
      });
    }
    after(() => summary.push(`${suite}, ${config}${replicas ? ", D1_READ_REPLICAS=true" : ""}: ${exact}/${Object.keys(expectedAll).length} examples identical to simplejwt, ${Object.keys(expectedAll).filter((k) => deviation(k, config)).length} deliberate deviation(s)`));
  });
}

after(() => console.log(summary.join("\n")));
