// Request bodies in workerd as Django REST framework reads them: an empty body is empty
// data whatever its type, `CharField` refuses NUL characters after trimming as Python
// does, and a body is never read past the 16 KiB limit, with or without Content-Length.
import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { connect } from "node:net";
import { after, before, describe, test } from "node:test";
import { startIssuer } from "./harness.mjs";

const JSON_TYPE = { "Content-Type": "application/json" };
const REQUIRED = ["This field is required."];
const NUL = ["Null characters are not allowed."];
const TOO_LARGE = { detail: "Request body exceeds 16384 bytes.", code: "payload_too_large" };

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

/**
 * POSTs `chunks` with Transfer-Encoding: chunked (no Content-Length), one every few
 * milliseconds and none after the answer has begun, leaving the body open unless `end`.
 * Resolves with the answer, or rejects if none comes within `ms`.
 */
/**
 * The runtime closes the connection after a 413 while the client may still be writing; on a
 * loaded machine that close can reset the connection before the answer is read (TCP drops a
 * received answer on RST). A reset is retried, twice at most; a hang still fails at once (the
 * timeout is not retried).
 */
async function retryingResets(send) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await send();
    } catch (error) {
      if (error.code !== "ECONNRESET" || attempt === 3) throw error;
    }
  }
}

function streamed(path, chunks, { end = false, headers = JSON_TYPE, ms = 5000 } = {}) {
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = httpRequest(issuer.base + path, { method: "POST", headers }, (res) => {
      answered = true;
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (text += d));
      res.on("end", () => {
        clearTimeout(timer);
        req.destroy();
        resolve({ status: res.statusCode, headers: res.headers, json: JSON.parse(text) });
      });
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`no answer within ${ms} ms: the issuer waits for the end of the body`));
    }, ms);
    req.on("error", (e) => {
      // The runtime may reset the connection once it has answered a body it stopped reading.
      if (answered) return;
      clearTimeout(timer);
      reject(e);
    });
    const queue = [...chunks];
    const next = () => {
      if (answered || req.destroyed) return;
      if (queue.length > 0) {
        req.write(queue.shift());
        setTimeout(next, 2);
      } else if (end) req.end();
    };
    next();
  });
}

describe("bodies are read only up to the 16 KiB limit", () => {
  const KiB = "x".repeat(1024);

  test("a chunked body under the limit is read whole (alice logs in)", async () => {
    const body = JSON.stringify({ username: "alice", password: "alice-password-1", pad: "p".repeat(12 * 1024) });
    const r = await streamed("/api/token/", [body.slice(0, 10), body.slice(10, 5000), body.slice(5000)], { end: true });
    assert.equal(r.status, 200, JSON.stringify(r.json));
  });

  test("a chunked body over the limit that ends is refused with 413", async () => {
    const r = await retryingResets(() => streamed("/api/token/", Array(17).fill(KiB), { end: true }));
    assert.deepEqual([r.status, r.json], [413, TOO_LARGE]);
  });

  test("a chunked body that never ends is refused as soon as it passes the limit", async () => {
    // The request stays open: only a reader that stops at the limit can answer. Just past
    // the limit the client stops writing (but never ends the body), so that no write races
    // the runtime closing the connection after its 413 (a reset before the answer is read).
    const r = await retryingResets(() => streamed("/api/token/", Array(17).fill(KiB)));
    assert.deepEqual([r.status, r.json], [413, TOO_LARGE]);
  });

  test("fetch with a ReadableStream body (duplex: half) that never ends → 413", async () => {
    let sent = 0;
    const body = new ReadableStream({
      pull(controller) {
        // 64 KiB, then the stream stays open.
        if (sent < 64) {
          sent++;
          controller.enqueue(new TextEncoder().encode(KiB));
        }
        return new Promise((r) => setTimeout(r, 5));
      },
    });
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), 5000);
    try {
      const res = await fetch(issuer.base + "/api/token/refresh/", { method: "POST", headers: JSON_TYPE, body, duplex: "half", signal: abort.signal });
      assert.deepEqual([res.status, await res.json()], [413, TOO_LARGE]);
    } finally {
      clearTimeout(timer);
      abort.abort();
    }
  });

  test("a small Content-Length cannot let a larger chunked body through", async () => {
    // Content-Length next to Transfer-Encoding: chunked (RFC 9112 6.3: the chunked framing
    // wins, and workerd follows it). The Worker must stop at the limit, not trust the
    // header: 413, never a hang.
    const head = "POST /api/token/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n";
    const r = await retryingResets(() => raw([head, ...Array(32).fill(`400\r\n${KiB}\r\n`)])); // ...and no last chunk
    assert.deepEqual([r.status, JSON.parse(r.body)], [413, TOO_LARGE]);
  });

  test("a Content-Length smaller than the body: the runtime frames the body by it", async () => {
    // Without chunked framing the bytes after Content-Length are not this request's body:
    // the Worker sees `{}` only.
    const head = "POST /api/token/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n";
    const r = await raw([head + "{}", "x".repeat(20 * 1024)]);
    assert.deepEqual([r.status, JSON.parse(r.body)], [400, errors(VIEWS["/api/token/"], REQUIRED)]);
  });
});

/** Writes `parts` to a raw TCP connection; resolves with the first response (framed by its Content-Length). */
function raw(parts, ms = 5000) {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(new URL(issuer.base).port), "127.0.0.1");
    let text = "";
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${ms} ms`));
    }, ms);
    const done = (head, length) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ status: Number(text.slice(9, 12)), body: text.slice(head + 4, head + 4 + length) });
    };
    socket.setEncoding("latin1");
    socket.on("data", (d) => {
      text += d;
      const head = text.indexOf("\r\n\r\n");
      const length = Number(text.slice(0, head).match(/\r\ncontent-length: (\d+)/i)?.[1]);
      if (head >= 0 && text.length >= head + 4 + length) done(head, length);
    });
    socket.on("error", reject);
    // One part every few milliseconds, none once the answer has begun.
    const queue = [...parts];
    const next = () => {
      if (text || socket.destroyed || queue.length === 0) return;
      socket.write(queue.shift());
      setTimeout(next, 2);
    };
    next();
  });
}
