// The test page: exposes the bundled client (./client.js, built from pkg/src/client.ts at test
// start) on window, plus small helpers the tests drive with page.evaluate.
import * as edgejwt from "./client.js";

window.edgejwt = edgejwt;
/** name → { client, events, polls, storage } */
window.clients = {};
document.getElementById("origin").textContent = location.origin;

/** An async TokenStorage that remembers every value written (to inspect rotation). */
function recordingStorage() {
  const values = new Map();
  const history = [];
  return {
    history,
    async get(key) {
      await null;
      return values.get(key) ?? null;
    },
    async set(key, value) {
      await null;
      history.push(JSON.parse(value));
      values.set(key, value);
    },
    async remove(key) {
      await null;
      history.push(null);
      values.delete(key);
    },
  };
}

/** Creates an AuthClient named `name`; `options.storage === "recording"` uses recordingStorage(). */
window.makeClient = (name, options = {}) => {
  const storage = options.storage === "recording" ? recordingStorage() : undefined;
  const client = new edgejwt.AuthClient({ ...options, ...(storage ? { storage } : {}) });
  const record = { client, events: [], polls: [], storage, timer: null };
  for (const type of ["login", "refresh", "logout", "authfailure", "revoked", "refreshretry"]) {
    client.addEventListener(type, (event) => {
      const error = event.detail?.error;
      record.events.push({
        type,
        at: Date.now(),
        error: error ? { name: error.name, code: error.code, status: error.status, detail: error.detail } : null,
        ...(type === "revoked" ? { sid: event.detail.sid } : {}),
        ...(type === "refreshretry" ? { attempt: event.detail.attempt } : {}),
      });
      render();
    });
  }
  window.clients[name] = record;
  client.ready.then(render);
  render();
  return record;
};

/** Calls client.fetch(path) every `ms`, recording each status (and any exception). */
window.startPolling = (name, path, ms) => {
  const record = window.clients[name];
  record.timer = setInterval(async () => {
    const at = Date.now();
    try {
      const res = await record.client.fetch(path);
      await res.text();
      record.polls.push({ at, status: res.status });
    } catch (err) {
      record.polls.push({ at, error: String(err) });
    }
    render();
  }, ms);
};

window.stopPolling = (name) => clearInterval(window.clients[name].timer);

/** Runs `fn(client)` and returns its result, or the AuthError's fields when it rejects. */
window.outcome = async (name, fn) => {
  try {
    const value = await fn(window.clients[name].client);
    return value === undefined ? { ok: true } : { ok: true, value };
  } catch (err) {
    const retry = err.retryAfter !== undefined ? { retryAfter: err.retryAfter } : {};
    return { ok: false, name: err.name, code: err.code, status: err.status, detail: err.detail, fields: err.fields ?? null, ...retry };
  }
};

/** The parts of a client's state the tests compare. */
window.snapshot = (name) => {
  const { client, events, polls } = window.clients[name];
  return {
    isAuthenticated: client.isAuthenticated,
    accessToken: client.accessToken,
    claims: client.claims,
    events: events.map((e) => ({ ...e })),
    polls: polls.map((p) => ({ ...p })),
  };
};

function render() {
  const root = document.getElementById("clients");
  root.replaceChildren(
    ...Object.entries(window.clients).map(([name, { client, events, polls }]) => {
      const box = document.createElement("div");
      box.className = "client";
      const title = document.createElement("h2");
      const state = client.isAuthenticated ? `signed in as user ${client.claims?.user_id}` : "signed out";
      title.innerHTML = `${name}: <span class="${client.isAuthenticated ? "in" : "out"}"></span>`;
      title.querySelector("span").textContent = state;
      const exp = client.claims?.exp;
      const ok = polls.filter((p) => p.status === 200).length;
      const pre = document.createElement("pre");
      pre.textContent = [
        `access exp: ${exp ? new Date(exp * 1000).toISOString() : "-"} (now ${new Date().toISOString()})`,
        `access: ${client.accessToken ? client.accessToken.slice(0, 24) + "…" + client.accessToken.slice(-8) : "-"}`,
        `protected calls: ${polls.length} (${ok} × 200, ${polls.length - ok} other)`,
        `events: ${events.map((e) => e.type + (e.error ? `(${e.error.code})` : "")).join(", ") || "-"}`,
      ].join("\n");
      box.append(title, pre);
      return box;
    }),
  );
}

window.edgejwtReady = true;
