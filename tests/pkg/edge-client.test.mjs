// edgejwt/client where there is no DOM: in Node with an async custom storage, and inside a
// Worker as a backend-for-frontend that keeps each user's refresh token server-side in KV
// (the packed package bundled by wrangler, the issuer reached over a service binding), both
// against the issuer in workerd with real local D1 and KV.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Miniflare } from "miniflare";
import { claims, issuerWorker, prepareDatabase, startIssuer } from "../worker/harness.mjs";
import { bundledWorker, installPacked } from "./packed.mjs";

let dir;
before(() => (dir = installPacked()));

describe("in Node, with an async storage", () => {
  let issuer;
  before(async () => (issuer = await startIssuer()));
  after(() => issuer.stop());

  test("login, an authenticated fetch, refresh with rotation, a second client on the same storage, logout", async () => {
    const { AuthClient } = await import(join(dir, "node_modules/edgejwt/dist/client.js"));
    const kv = new Map();
    const writes = [];
    // A KV-like store: every call asynchronous.
    const storage = {
      get: async (k) => kv.get(k) ?? null,
      set: async (k, v) => (writes.push(k), void kv.set(k, v)),
      remove: async (k) => void kv.delete(k),
    };
    const auth = new AuthClient({ baseUrl: issuer.base, storage, storageKey: "user:1" });
    await auth.ready;
    assert.equal(auth.isAuthenticated, false);
    await auth.login("alice", "alice-password-1");
    const stored = JSON.parse(kv.get("user:1"));
    assert.equal(claims(stored.refresh).token_type, "refresh");
    const me = await auth.fetch(`${issuer.base}/api/protected/`);
    assert.equal(me.status, 200);
    assert.deepEqual(await me.json(), { user_id: 1, username: "alice" });
    await auth.refresh();
    const rotated = JSON.parse(kv.get("user:1"));
    assert.notEqual(rotated.refresh, stored.refresh, "the rotated refresh token is stored");
    const old = await issuer.call("POST", "/api/token/refresh/", { json: { refresh: stored.refresh } });
    assert.equal(old.status, 200, "inside the reuse interval the old token gets the same child");
    assert.equal(old.json.refresh, rotated.refresh);
    // Another request of a server (a new client, the same storage key) continues the session.
    const again = new AuthClient({ baseUrl: issuer.base, storage, storageKey: "user:1" });
    await again.ready;
    assert.equal(again.isAuthenticated, true);
    assert.equal((await again.fetch(`${issuer.base}/api/protected/`)).status, 200);
    await again.logout();
    assert.equal(kv.has("user:1"), false);
    const after = await issuer.call("POST", "/api/token/refresh/", { json: { refresh: rotated.refresh } });
    assert.equal(after.json.detail, "Token is blacklisted");
    auth.close();
    again.close();
  });
});

describe("with D1_READ_REPLICAS on", () => {
  let issuer;
  before(async () => (issuer = await startIssuer({ vars: { D1_READ_REPLICAS: "true" } })));
  after(() => issuer.stop());

  test("every request to the issuer carries its last bookmark (reads its own writes); other origins get none", async () => {
    const { AuthClient } = await import(join(dir, "node_modules/edgejwt/dist/client.js"));
    const kv = new Map();
    const storage = { get: async (k) => kv.get(k) ?? null, set: async (k, v) => void kv.set(k, v), remove: async (k) => void kv.delete(k) };
    const seen = [];
    const recording = async (input, init) => {
      const request = new Request(input, init);
      const url = new URL(request.url);
      // The app's own API elsewhere: answered here, never reached.
      const res = url.host === "api.example" ? new Response("{}") : await fetch(request);
      seen.push({ path: `${url.host}${url.pathname}`, sent: request.headers.get("X-D1-Bookmark"), got: res.headers.get("X-D1-Bookmark") });
      return res;
    };
    const auth = new AuthClient({ baseUrl: issuer.base, storage, storageKey: "user:1", fetch: recording });
    await auth.ready;
    await auth.login("alice", "alice-password-1");
    await auth.refresh();
    assert.equal((await auth.sessions()).length, 1);
    assert.equal((await auth.fetch("https://api.example/items/")).status, 200);
    await auth.logout();
    auth.close();
    const host = new URL(issuer.base).host;
    assert.deepEqual(seen.map((s) => s.path), [`${host}/api/token/`, `${host}/api/token/refresh/`, `${host}/api/sessions/`, "api.example/items/", `${host}/api/token/blacklist/`]);
    const toIssuer = seen.filter((s) => s.path.startsWith(host));
    assert.equal(toIssuer[0].sent, null, "the first request has none yet");
    for (const [i, s] of toIssuer.entries()) {
      assert.match(s.got ?? "", /^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32}$/, `${s.path} answers a bookmark`);
      if (i > 0) assert.equal(s.sent, toIssuer[i - 1].got, `${s.path} sends the last one back`);
    }
    assert.equal(seen[3].sent, null, "not to another origin");
  });
});

describe("account calls the issuer throttles", () => {
  test("a password change past the login throttle rejects with throttled and retryAfter, not network_error", async () => {
    const issuer = await startIssuer({ vars: { LOGIN_THROTTLE_RATE: "5/min", LOGIN_IP_THROTTLE_RATE: "" } });
    try {
      const { AuthClient, AuthError } = await import(join(dir, "node_modules/edgejwt/dist/client.js"));
      const auth = new AuthClient({ baseUrl: issuer.base, storage: "memory" });
      await auth.ready;
      await auth.login("alice", "alice-password-1");
      const attempt = () => auth.changePassword("a-guess", "a-new-passphrase-42", "a-new-passphrase-42").then(() => null, (e) => e);
      for (let i = 0; i < 5; i++) {
        const e = await attempt();
        assert.ok(e instanceof AuthError);
        assert.deepEqual([e.code, e.status], ["invalid", 400]);
      }
      const e = await attempt();
      assert.deepEqual([e.code, e.status], ["throttled", 429]);
      assert.ok(e.retryAfter >= 55 && e.retryAfter <= 60, `retryAfter ${e.retryAfter}`);
      assert.equal(auth.isAuthenticated, true, "a throttled call keeps the session");
      auth.close();
    } finally {
      await issuer.stop();
    }
  });
});

describe("inside a Worker: a backend-for-frontend with the refresh tokens in KV", () => {
  let mf, bff, sessions;
  before(async () => {
    writeFileSync(
      join(dir, "bff.mjs"),
      `import { AuthClient } from "edgejwt/client";
// Each browser session of the BFF has its own key; the refresh token never leaves the Worker.
const kvStorage = (kv) => ({ get: (k) => kv.get(k), set: (k, v) => kv.put(k, v), remove: (k) => kv.delete(k) });
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const auth = new AuthClient({
      baseUrl: "http://issuer",
      storage: kvStorage(env.SESSIONS),
      storageKey: "bff:" + url.searchParams.get("session"),
      fetch: (input, init) => env.ISSUER.fetch(input, init),
    });
    try {
      await auth.ready;
      switch (url.pathname) {
        case "/login": {
          const { username, password } = await request.json();
          await auth.login(username, password);
          return Response.json({ user: auth.claims.user_id });
        }
        case "/me": {
          const r = await auth.fetch("http://issuer/api/protected/");
          return new Response(r.body, { status: r.status });
        }
        case "/refresh":
          await auth.refresh();
          return Response.json({ ok: true });
        case "/logout":
          await auth.logout();
          return Response.json({ ok: true });
      }
      return new Response("not found", { status: 404 });
    } catch (error) {
      return Response.json({ code: error.code ?? String(error) }, { status: 401 });
    } finally {
      auth.close();
    }
  },
};
`,
    );
    mf = new Miniflare({
      workers: [
        bundledWorker(dir, "bff", "bff.mjs", { kvNamespaces: { SESSIONS: "11111111111111111111111111111111" }, serviceBindings: { ISSUER: "issuer" } }),
        issuerWorker(),
      ],
    });
    await mf.ready;
    await prepareDatabase(await mf.getD1Database("DB", "issuer"));
    bff = await mf.getWorker("bff");
    sessions = await mf.getKVNamespace("SESSIONS", "bff");
  });
  after(() => mf?.dispose());

  const call = async (path, json) => {
    const res = await bff.fetch(`http://bff${path}`, json ? { method: "POST", body: JSON.stringify(json) } : {});
    return { status: res.status, json: await res.json() };
  };

  test("login, API calls and a rotation across requests, with the refresh token only in the Worker's KV", async () => {
    assert.deepEqual(await call("/login?session=s1", { username: "alice", password: "alice-password-1" }), { status: 200, json: { user: "1" } });
    const stored = JSON.parse(await sessions.get("bff:s1"));
    assert.equal(claims(stored.refresh).token_type, "refresh");
    assert.deepEqual(await call("/me?session=s1"), { status: 200, json: { user_id: 1, username: "alice" } });
    assert.equal((await call("/refresh?session=s1", {})).status, 200);
    const rotated = JSON.parse(await sessions.get("bff:s1"));
    assert.notEqual(rotated.refresh, stored.refresh);
    assert.equal((await call("/me?session=s1")).status, 200, "a later request uses the rotated pair");
    assert.equal((await call("/me?session=other")).status, 401, "another browser session has no tokens");
    assert.equal((await call("/logout?session=s1", {})).status, 200);
    assert.equal(await sessions.get("bff:s1"), null);
    assert.equal((await call("/login?session=s2", { username: "alice", password: "wrong" })).json.code, "invalid_credentials");
  });
});
