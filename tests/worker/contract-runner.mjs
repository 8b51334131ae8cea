// Replays the simplejwt wire contract (tests/fixtures/simplejwt-contract.json) against a
// server: the simplejwt reference when recording (scripts/record-simplejwt-contract.mjs),
// the edgejwt issuer in tests. One runner for both, so both see the same requests.
import { createHmac, randomBytes } from "node:crypto";

const OTHER_KEY = "another-signing-key-that-the-server-does-not-know-0123";

const b64 = (obj) => Buffer.from(JSON.stringify(obj)).toString("base64url");

/** An HS256 JWT made with node:crypto (independent of edgejwt and of PyJWT). */
export function signHS256(claims, key, header = { alg: "HS256", typ: "JWT" }) {
  const input = `${b64(header)}.${b64(claims)}`;
  if (header.alg === "none") return `${input}.`;
  return `${input}.${createHmac("sha256", key).update(input).digest("base64url")}`;
}

const jti = () => randomBytes(16).toString("hex");

/** The crafted tokens the contract names, made at `now` with the server's `key`. */
export function craft(name, key, now = Math.floor(Date.now() / 1000)) {
  const access = (extra = {}) => ({ token_type: "access", exp: now + 300, iat: now, jti: jti(), user_id: "1", ...extra });
  const refresh = (extra = {}) => ({ token_type: "refresh", exp: now + 86400, iat: now, jti: jti(), user_id: "1", ...extra });
  const sliding = (extra = {}) => ({ token_type: "sliding", exp: now + 300, iat: now, jti: jti(), refresh_exp: now + 86400, user_id: "1", ...extra });
  const without = (claims, name) => { delete claims[name]; return claims; };
  switch (name) {
    case "<crafted refresh token, exp in the past>": return signHS256(refresh({ iat: now - 200, exp: now - 110 }), key);
    case "<crafted refresh token signed with another key>": return signHS256(refresh(), OTHER_KEY);
    case "<crafted refresh token for inactive bob>": return signHS256(refresh({ user_id: "2" }), key);
    case "<crafted refresh token for a user id that does not exist>": return signHS256(refresh({ user_id: "999" }), key);
    case "<crafted refresh token with an extra claim foo=bar>": return signHS256(refresh({ foo: "bar" }), key);
    case "<crafted access token, exp in the past>": return signHS256(access({ iat: now - 600, exp: now - 300 }), key);
    case "<crafted access token without jti>": return signHS256(without(access(), "jti"), key);
    case "<crafted access token signed with another key>": return signHS256(access(), OTHER_KEY);
    case "<crafted access token for inactive bob>": return signHS256(access({ user_id: "2" }), key);
    case "<crafted access token for a user id that does not exist>": return signHS256(access({ user_id: "999" }), key);
    case "<crafted access token without user_id>": return signHS256(without(access(), "user_id"), key);
    case "<alg=none access token (empty signature)>": return signHS256(access(), key, { alg: "none", typ: "JWT" });
    case "<crafted sliding token, exp in the past, refresh_exp 1 day ahead>": return signHS256(sliding({ iat: now - 600, exp: now - 300 }), key);
    case "<crafted sliding token, refresh_exp in the past>": return signHS256(sliding({ refresh_exp: now - 10 }), key);
    // RFC 7515 4.1.11: a recipient must refuse a token whose `crit` names an extension it
    // does not process, even when the signature and claims are valid.
    case '<crafted access token with crit ["exp"] in its header>': return signHS256(access(), key, { alg: "HS256", typ: "JWT", crit: ["exp"] });
    case '<crafted refresh token with crit ["exp"] in its header>': return signHS256(refresh(), key, { alg: "HS256", typ: "JWT", crit: ["exp"] });
    default: throw new Error(`no recipe for ${name}`);
  }
}

const JWT = /<JWT (access|refresh|sliding) #\d+>/g;
const isJwt = (s) => typeof s === "string" && /^[\w-]+\.[\w-]+\.[\w-]*$/.test(s);

function substitute(value, fn) {
  if (typeof value === "string") return fn(value);
  if (Array.isArray(value)) return value.map((v) => substitute(v, fn));
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, fn)]));
  return value;
}

/** Replaces every JWT in a response body with `<JWT type>` so bodies can be compared. */
export function normalize(json) {
  return substitute(json, (s) => {
    if (!isJwt(s)) return s;
    const claims = JSON.parse(Buffer.from(s.split(".")[1], "base64url").toString());
    return `<JWT ${claims.token_type}>`;
  });
}

async function send(base, req, resolve) {
  const headers = substitute({ ...(req.headers ?? {}) }, (s) => s.replace(/<[^>]+>/g, (m) => resolve(m)));
  const init = { method: req.method, headers };
  if ("json" in req) init.body = JSON.stringify(substitute(req.json, (s) => (s.startsWith("<") ? resolve(s) : s)));
  else if ("form" in req) init.body = new URLSearchParams(substitute(req.form, (s) => (s.startsWith("<") ? resolve(s) : s))).toString();
  else if ("body" in req) init.body = req.body;
  const res = await fetch(base + req.path, init);
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  const picked = {};
  for (const h of ["content-type", "www-authenticate", "allow"]) if (res.headers.get(h) !== null) picked[h] = res.headers.get(h);
  return { status: res.status, headers: picked, ...(json !== undefined ? { json } : { text }) };
}

/**
 * Runs every example of the contract, in order, against `base`, signing crafted tokens
 * with `key`. Returns `{ "<endpoint> | <example>": { status, headers, json|text, tokens } }`
 * where `tokens` holds the decoded claims of tokens in the body.
 */
export async function runContract(base, contract, key) {
  const bound = new Map();
  const crafted = new Map();
  const obtain = async (path, body) => {
    const r = await fetch(base + path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    if (r.status !== 200) throw new Error(`setup ${path} failed: ${r.status}`);
    return r.json();
  };
  const credentials = { username: "alice", password: "alice-password-1" };
  // Tokens first used in a request are obtained on demand, as the recorder did.
  const ensure = async (placeholder) => {
    if (bound.has(placeholder)) return;
    const [, type, n] = placeholder.match(/<JWT (\w+) #(\d+)>/);
    if (type === "sliding") bound.set(placeholder, (await obtain("/api/token/sliding/", credentials)).token);
    else {
      const pair = await obtain("/api/token/", credentials);
      for (const t of ["access", "refresh"]) if (!bound.has(`<JWT ${t} #${n}>`)) bound.set(`<JWT ${t} #${n}>`, pair[t]);
    }
  };
  const resolve = (placeholder) => {
    if (bound.has(placeholder)) return bound.get(placeholder);
    if (!crafted.has(placeholder)) crafted.set(placeholder, craft(placeholder, key));
    return crafted.get(placeholder);
  };

  const observed = {};
  for (const [endpoint, spec] of Object.entries(contract.endpoints)) {
    for (const example of spec.examples) {
      for (const p of JSON.stringify(example.request).match(JWT) ?? []) await ensure(p);
      // The recorder blacklisted refresh #7 before asking about it (not itself an example).
      if (example.name === "refresh token after it was blacklisted") {
        await obtain("/api/token/blacklist/", { refresh: resolve("<JWT refresh #7>") });
      }
      const got = await send(base, example.request, resolve);
      // Bind tokens the response introduces to the placeholders the contract gives them.
      const expected = example.response?.json;
      if (expected && got.json && typeof expected === "object") {
        for (const [field, placeholder] of Object.entries(expected)) {
          if (typeof placeholder === "string" && placeholder.match(JWT) && isJwt(got.json[field])) bound.set(placeholder, got.json[field]);
        }
      }
      const tokens = {};
      if (got.json && typeof got.json === "object") {
        for (const [field, value] of Object.entries(got.json)) {
          if (isJwt(value)) tokens[field] = { header: JSON.parse(Buffer.from(value.split(".")[0], "base64url")), claims: JSON.parse(Buffer.from(value.split(".")[1], "base64url")) };
        }
      }
      observed[`${endpoint} | ${example.name}`] = { ...got, ...(got.json !== undefined ? { json: normalize(got.json) } : {}), tokens };
    }
  }
  return observed;
}
