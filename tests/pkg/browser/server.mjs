// One origin for the browser tests: static files from `root` and a reverse proxy of /api/* to
// the issuer (which sends no CORS headers). The proxy records every API exchange, so tests
// can count refreshes and see which refresh tokens were sent and what the issuer answered.
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize, sep } from "node:path";

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".map": "application/json",
  ".css": "text/css; charset=utf-8",
  ".png": "image/png",
  ".ico": "image/x-icon",
};
// Hop-by-hop headers and those that no longer describe the body once fetch() decoded it.
const DROP = new Set(["connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding", "host", "upgrade"]);

function parse(text) {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * Starts the server on 127.0.0.1 (a secure context, so Web Locks are available).
 * Returns { base, log, refreshCount(), mark(), since(mark), stop() }; each log entry is
 * { seq, at, method, path, auth, request, status, response }.
 */
export async function startServer({ root, upstream }) {
  const log = [];
  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url, "http://x");
      if (url.pathname.startsWith("/api/")) return await proxy(req, res, url);
      return await serveFile(res, url.pathname);
    } catch (err) {
      if (!res.headersSent) res.writeHead(502, { "Content-Type": "text/plain" });
      res.end(`proxy error: ${err?.message ?? err}`);
    }
  });

  async function proxy(req, res, url) {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const body = Buffer.concat(chunks);
    const headers = {};
    for (const [k, v] of Object.entries(req.headers)) if (!DROP.has(k)) headers[k] = v;
    const entry = {
      seq: log.length,
      at: Date.now(),
      method: req.method,
      path: url.pathname,
      auth: req.headers.authorization ?? null,
      request: body.length ? parse(body.toString()) : null,
    };
    log.push(entry);
    const answer = await fetch(upstream + url.pathname + url.search, {
      method: req.method,
      headers,
      body: body.length && req.method !== "GET" && req.method !== "HEAD" ? body : undefined,
      redirect: "manual",
    });
    const out = Buffer.from(await answer.arrayBuffer());
    entry.status = answer.status;
    entry.response = out.length ? parse(out.toString()) : null;
    entry.done = Date.now();
    const outHeaders = { "Content-Length": String(out.length), "Cache-Control": "no-store" };
    answer.headers.forEach((v, k) => {
      if (!DROP.has(k)) outHeaders[k] = v;
    });
    res.writeHead(answer.status, outHeaders);
    res.end(out);
  }

  async function serveFile(res, pathname) {
    const rel = normalize(decodeURIComponent(pathname === "/" ? "/index.html" : pathname)).replace(/^([/\\])+/, "");
    const file = join(root, rel);
    if (!file.startsWith(root.endsWith(sep) ? root : root + sep)) {
      res.writeHead(403).end();
      return;
    }
    let data;
    try {
      data = await readFile(file);
    } catch {
      res.writeHead(404, { "Content-Type": "text/plain" }).end("not found");
      return;
    }
    res.writeHead(200, {
      "Content-Type": TYPES[extname(file)] ?? "application/octet-stream",
      "Content-Length": String(data.length),
      "Cache-Control": "no-store",
    });
    res.end(data);
  }

  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address();
  return {
    base: `http://127.0.0.1:${port}`,
    log,
    /** Position in the log, to look only at what happened after it. */
    mark: () => log.length,
    since: (mark) => log.slice(mark),
    /** `POST /api/token/refresh/` requests since `mark` (all by default). */
    refreshes: (mark = 0) => log.slice(mark).filter((e) => e.method === "POST" && e.path === "/api/token/refresh/"),
    refreshCount: (mark = 0) => log.slice(mark).filter((e) => e.method === "POST" && e.path === "/api/token/refresh/").length,
    stop: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
