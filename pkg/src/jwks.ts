// JWK Sets fetched from a URL (the issuer's `/api/token/jwks/`). What is cached, per isolate
// and URL, is what was fetched: the JWKs as JSON. Keys made from them depend on a verifier's
// settings (AUDIENCE, AUTH_TOKEN_CLASSES, …), so each verifier makes its own (verifier.ts).
import { EdgeJwtError } from "./errors.js";
import type { KVNamespaceLike } from "./verifier.js";

/** A JWK of a set, as fetched. */
export type Jwk = JsonWebKey & { kid?: string; use?: string };

/** A fetched JWK Set: its signature keys, when (ms) they were fetched, and for how long (ms) its answer's `Cache-Control: max-age` lets it be used. */
export interface JwkSet {
  readonly keys: readonly Jwk[];
  readonly fetchedAt: number;
  readonly maxAgeMs?: number;
}

/** How long a set is trusted when neither the verifier's `jwksCacheTtl` nor the answer says. */
const DEFAULT_TTL_MS = 600_000;

/** Where and how one verifier gets its JWK Set (from its options). */
export interface JwksSource {
  url: string;
  /** How long (ms) a fetched set is trusted; unset: the answer's `max-age`, else 600 s. */
  ttlMs?: number;
  /** Least time (ms) between fetches after a failure, or for an unknown `kid`. */
  cooldownMs: number;
  kv?: KVNamespaceLike;
  fetch: typeof fetch;
}

interface UrlState {
  set?: JwkSet;
  /** When a token with an unknown `kid` last made a fetch (regular fetches do not count). */
  refetchedAt: number;
  failedAt: number;
  inflight?: Promise<JwkSet>;
}
// Per isolate: JWK Sets survive between requests as long as the isolate does.
const states = new Map<string, UrlState>();

/**
 * The JWK Set at `source.url`: the cached one while fresh, else from KV, else fetched. With
 * `refetch` (a token names an unknown `kid`) KV and freshness are skipped, at most once per
 * cooldown. Concurrent callers share one fetch. A failed fetch serves the last set and is
 * retried at most once per cooldown; with no set at all it is `jwks_unavailable` (503).
 */
export function jwkSet(source: JwksSource, refetch = false): Promise<JwkSet> {
  let state = states.get(source.url);
  if (!state) states.set(source.url, (state = { refetchedAt: -Infinity, failedAt: -Infinity }));
  const { set } = state;
  const now = Date.now();
  if (set && !refetch && now - set.fetchedAt < ttlOf(source, set)) return Promise.resolve(set);
  if (state.inflight) return state.inflight;
  // A failing issuer is asked at most once per cooldown, and so is a working one for unknown
  // kids; a set fetched moments ago does not block the refetch that follows a rotation.
  if (set && (now - state.failedAt < source.cooldownMs || (refetch && now - state.refetchedAt < source.cooldownMs))) return Promise.resolve(set);
  const s = state;
  if (refetch) s.refetchedAt = now;
  s.inflight = load(source, !refetch)
    .then(
      (fresh) => {
        s.failedAt = -Infinity;
        return (s.set = fresh);
      },
      (error: unknown) => {
        s.failedAt = Date.now();
        if (s.set) return s.set; // an outage: the last set keeps serving
        throw error;
      },
    )
    .finally(() => {
      s.inflight = undefined;
    });
  return s.inflight;
}

async function load(source: JwksSource, fromKv: boolean): Promise<JwkSet> {
  const kvKey = `jwks:${source.url}`;
  if (fromKv && source.kv) {
    const stored = parse(await source.kv.get(kvKey).catch(() => null));
    if (stored) return stored;
  }
  let res: Response;
  try {
    res = await source.fetch(source.url);
  } catch {
    throw unavailable("no answer");
  }
  const text = res.ok ? await res.text().catch(() => null) : null;
  if (!res.ok) void res.body?.cancel().catch(() => undefined);
  const set = parse(text, maxAge(res.headers.get("Cache-Control")));
  if (!set) throw unavailable(res.ok ? "not a JWK Set" : `status ${res.status}`);
  // Best effort: the set is good whether or not KV keeps it (KV's shortest expiry is 60 s).
  await source.kv?.put?.(kvKey, text!, { expirationTtl: Math.max(60, Math.floor(ttlOf(source, set) / 1000)) }).catch(() => undefined);
  return set;
}

/** The verifier's own `jwksCacheTtl` if it set one, else what the issuer's answer allows. */
function ttlOf(source: JwksSource, set: JwkSet): number {
  return source.ttlMs ?? set.maxAgeMs ?? DEFAULT_TTL_MS;
}

/** `max-age` of a `Cache-Control` value, in ms (the issuer sends `public, max-age=300`). */
function maxAge(cacheControl: string | null): number | undefined {
  const m = /(?:^|,)\s*max-age\s*=\s*"?(\d+)"?\s*(?:,|$)/i.exec(cacheControl ?? "");
  return m ? Number(m[1]) * 1000 : undefined;
}

/** A JWK Set's signature keys from its JSON text; `null` when the text is not a JWK Set. */
function parse(text: string | null, maxAgeMs?: number): JwkSet | null {
  if (!text) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const keys = (value as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) return null;
  const usable = keys.filter((k): k is Jwk => k !== null && typeof k === "object" && (!k.use || k.use === "sig"));
  return { keys: usable, fetchedAt: Date.now(), maxAgeMs };
}

function unavailable(why: string): EdgeJwtError {
  return new EdgeJwtError("jwks_unavailable", `JWK Set unavailable (${why})`, 503);
}
