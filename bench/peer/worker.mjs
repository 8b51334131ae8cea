// The peer a Workers developer would write by hand: simplejwt's four endpoints in Hono +
// jose + D1, on the issuer's own schema (migrations/), with what simplejwt does under
// ROTATE_REFRESH_TOKENS + BLACKLIST_AFTER_ROTATION: Django's pbkdf2_sha256 checked with
// WebCrypto, HS256 tokens, the refresh token recorded, blacklisted on rotation, reuse
// refused. Benchmark only (bench/issuer-load.mjs), not shipped: no sessions, no throttle,
// no CSRF, no audit, none of edgejwt's error texts beyond the common ones.
import { Hono } from "hono";
import { SignJWT, decodeJwt, jwtVerify } from "jose";

const app = new Hono();
const ACCESS_LIFETIME = 300;
const REFRESH_LIFETIME = 86400;
const encoder = new TextEncoder();
const detail = (c, status, text, code) => c.json(code ? { detail: text, code } : { detail: text }, status);
const invalid = (c) => detail(c, 401, "Token is invalid", "token_not_valid");

const secret = (env) => encoder.encode(env.SIGNING_KEY);
const jti = () => crypto.randomUUID().replaceAll("-", "");

async function sign(env, claims, lifetime, now) {
  return new SignJWT({ ...claims, jti: jti() })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuedAt(now)
    .setExpirationTime(now + lifetime)
    .sign(secret(env));
}

async function verify(env, token, type) {
  try {
    const { payload } = await jwtVerify(token, secret(env), { algorithms: ["HS256"] });
    return payload.token_type === type ? payload : null;
  } catch {
    return null;
  }
}

/** Django's `pbkdf2_sha256$<iterations>$<salt>$<base64 hash>`, checked with WebCrypto. */
async function checkPassword(password, encoded) {
  const [algorithm, iterations, salt, hash] = encoded.split("$");
  if (algorithm !== "pbkdf2_sha256") return false;
  const key = await crypto.subtle.importKey("raw", encoder.encode(password), "PBKDF2", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt: encoder.encode(salt), iterations: Number(iterations) }, key, 256);
  const expected = Uint8Array.from(atob(hash), (ch) => ch.charCodeAt(0));
  return expected.byteLength === 32 && crypto.subtle.timingSafeEqual(new Uint8Array(bits), expected);
}

async function pair(c, userId, now) {
  const refresh = await sign(c.env, { token_type: "refresh", user_id: String(userId) }, REFRESH_LIFETIME, now);
  const access = await sign(c.env, { token_type: "access", user_id: String(userId) }, ACCESS_LIFETIME, now);
  return { refresh, access, refreshJti: decodeJwt(refresh).jti };
}

app.post("/api/token/", async (c) => {
  const { username, password } = await c.req.json().catch(() => ({}));
  if (typeof username !== "string" || typeof password !== "string") return c.json({ username: ["This field is required."], password: ["This field is required."] }, 400);
  const user = await c.env.DB.prepare("SELECT id, password, is_active FROM users WHERE username = ?1").bind(username).first();
  if (!user || !user.is_active || !(await checkPassword(password, user.password))) return detail(c, 401, "No active account found with the given credentials");
  const now = Math.floor(Date.now() / 1000);
  const { refresh, access, refreshJti } = await pair(c, user.id, now);
  await c.env.DB.prepare("INSERT INTO outstanding_tokens (jti, user_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)").bind(refreshJti, user.id, now, now + REFRESH_LIFETIME).run();
  return c.json({ refresh, access });
});

app.post("/api/token/refresh/", async (c) => {
  const { refresh } = await c.req.json().catch(() => ({}));
  const claims = typeof refresh === "string" ? await verify(c.env, refresh, "refresh") : null;
  if (!claims) return invalid(c);
  const now = Math.floor(Date.now() / 1000);
  const next = await pair(c, claims.user_id, now);
  const db = c.env.DB;
  try {
    // One batch (one transaction): record the old token, blacklist it (its primary key makes
    // a second use fail), record the new one.
    await db.batch([
      db.prepare("INSERT OR IGNORE INTO outstanding_tokens (jti, user_id, created_at, expires_at) VALUES (?1, NULL, ?2, ?3)").bind(claims.jti, claims.iat, claims.exp),
      db.prepare("INSERT INTO blacklisted_tokens (jti, blacklisted_at, expires_at) VALUES (?1, ?2, ?3)").bind(claims.jti, now, claims.exp),
      db.prepare("INSERT INTO outstanding_tokens (jti, user_id, created_at, expires_at) VALUES (?1, NULL, ?2, ?3)").bind(next.refreshJti, now, now + REFRESH_LIFETIME),
    ]);
  } catch {
    return detail(c, 401, "Token is blacklisted", "token_not_valid");
  }
  return c.json({ access: next.access, refresh: next.refresh });
});

app.post("/api/token/verify/", async (c) => {
  const { token } = await c.req.json().catch(() => ({}));
  if (typeof token !== "string") return c.json({ token: ["This field is required."] }, 400);
  let claims;
  try {
    claims = (await jwtVerify(token, secret(c.env), { algorithms: ["HS256"] })).payload;
  } catch {
    return invalid(c);
  }
  const listed = await c.env.DB.prepare("SELECT 1 FROM blacklisted_tokens WHERE jti = ?1").bind(String(claims.jti)).first();
  return listed ? detail(c, 401, "Token is blacklisted", "token_not_valid") : c.json({});
});

app.get("/api/protected/", async (c) => {
  const [scheme, token] = (c.req.header("Authorization") ?? "").split(" ");
  const claims = scheme === "Bearer" && token ? await verify(c.env, token, "access") : null;
  if (!claims) return detail(c, 401, "Given token not valid for any token type", "token_not_valid");
  const user = await c.env.DB.prepare("SELECT id, username, is_active FROM users WHERE id = ?1").bind(Number(claims.user_id)).first();
  if (!user || !user.is_active) return detail(c, 401, "User not found", "user_not_found");
  return c.json({ user_id: user.id, username: user.username });
});

app.notFound((c) => detail(c, 404, "Not found."));

export default app;
