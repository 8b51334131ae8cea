// One origin for the browser tests: static files from `root` and a reverse proxy of /api/* to
// the issuer. The proxy records every API exchange, so tests can count refreshes and see which
// refresh tokens were sent (in the body, or in cookie mode as a cookie) and what the issuer
// answered. Without `upstream` it serves only files, and records (then 404s, with CORS for
// any origin) what is sent to /api/: another origin, to see what reaches it.
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
  ".wasm": "application/wasm",
};
// Hop-by-hop headers and those that no longer describe the body once fetch() decoded it.
const DROP = new Set(["connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding", "host", "upgrade"]);

/** A Cookie header as { name: value }. */
function cookiesOf(header) {
  const jar = {};
  for (const pair of (header ?? "").split(";")) {
    const eq = pair.indexOf("=");
    if (eq > 0) jar[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  return jar;
}

function parse(text) {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * Starts the server on 127.0.0.1 (a secure context, so Web Locks are available), on `port` or
 * any free one; `upstream` (or a later `setUpstream`) is the issuer. Returns { base, log,
 * refreshCount(), mark(), since(mark), stop() }; each log entry is { seq, at, method, path,
 * auth, origin, csrf, cookies, request, status, response, headers, setCookies } (`cookies`:
 * the Cookie header by name; `setCookies`: the issuer's Set-Cookie headers as sent).
 */
export async function startServer({ root, upstream, port = 0 }) {
  const log = [];
  let target = upstream;
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
      origin: req.headers.origin ?? null,
      csrf: req.headers["x-csrftoken"] ?? null,
      cookies: cookiesOf(req.headers.cookie),
      request: body.length ? parse(body.toString()) : null,
    };
    log.push(entry);
    if (!target) {
      // Any origin may call it (and see the 404), so a test sees what the page sent, Authorization or not.
      const cors = req.headers.origin ? { "Access-Control-Allow-Origin": req.headers.origin, Vary: "Origin" } : {};
      if (req.method === "OPTIONS") {
        entry.status = 204;
        const asked = req.headers["access-control-request-headers"];
        res.writeHead(204, { ...cors, "Access-Control-Allow-Methods": "GET, POST", ...(asked ? { "Access-Control-Allow-Headers": asked } : {}) }).end();
        return;
      }
      entry.status = 404;
      res.writeHead(404, { ...cors, "Content-Type": "text/plain" }).end("not found");
      return;
    }
    const answer = await fetch(target + url.pathname + url.search, {
      method: req.method,
      headers,
      body: body.length && req.method !== "GET" && req.method !== "HEAD" ? body : undefined,
      redirect: "manual",
    });
    const out = Buffer.from(await answer.arrayBuffer());
    entry.status = answer.status;
    entry.response = out.length ? parse(out.toString()) : null;
    entry.done = Date.now();
    entry.headers = Object.fromEntries(answer.headers);
    entry.setCookies = answer.headers.getSetCookie();
    const outHeaders = { "Content-Length": String(out.length), "Cache-Control": "no-store" };
    answer.headers.forEach((v, k) => {
      if (!DROP.has(k) && k !== "set-cookie") outHeaders[k] = v;
    });
    if (entry.setCookies.length) outHeaders["Set-Cookie"] = entry.setCookies;
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
    server.listen(port, "127.0.0.1", resolve);
  });
  return {
    base: `http://127.0.0.1:${server.address().port}`,
    log,
    /** Proxies /api/ to `url` from now on (a server can be started before the issuer it fronts). */
    setUpstream: (url) => {
      target = url;
    },
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
