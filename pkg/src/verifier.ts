// The verifier: simplejwt's JWTAuthentication for JS runtimes. Token rules live in the
// wasm core (crates/core via crates/wasm); this file only adapts them: key sources
// (settings, or a JWK Set: jwks.ts), the runtime's crypto (algorithms.ts), KV revocations,
// errors, and the fetch middleware.
import { makeKey, type Key, type WasmApi } from "./algorithms.js";
import { EdgeJwtError } from "./errors.js";
import { jwkSet, type JwkSet, type JwksSource } from "./jwks.js";
import { peekHeader } from "./jwt.js";
import type { Settings } from "./settings.js";

export { EdgeJwtError } from "./errors.js";
export type { ErrorBody, ErrorCode } from "./errors.js";
export type { SettingName, Settings } from "./settings.js";
export type { HostCheck, KeyedCheck, KeyedSyncCheck, SignatureCheck, SyncSignatureCheck, WasmApi } from "./algorithms.js";

/** The part of a Workers KV namespace the verifier uses. */
export interface KVNamespaceLike {
  get(key: string): Promise<string | null>;
  put?(key: string, value: string, options?: { expirationTtl?: number }): Promise<void>;
}

/** Options beyond simplejwt's settings. */
export interface VerifierOptions {
  /**
   * A JWK Set URL (the issuer's `/.well-known/jwks.json`): keys are chosen by `kid`, and a token
   * naming a `kid` the cached set lacks (a rotation) refetches the set once, at most once per
   * `jwksCooldown`.
   */
  jwksUrl?: string;
  /** Seconds a fetched JWK Set is trusted (default: its answer's `Cache-Control: max-age`, else 600). */
  jwksCacheTtl?: number;
  /** Least seconds between refetches for a token naming an unknown `kid`, and after a failed fetch (default 30). */
  jwksCooldown?: number;
  /** A KV namespace that keeps the JWK Set across short-lived isolates. */
  jwksKv?: KVNamespaceLike;
  /**
   * The issuer's `REVOCATIONS` KV namespace: a token whose `jti`, or whose session
   * (`sessionClaim`), is revoked there is refused, so access tokens die at logout.
   */
  revocations?: KVNamespaceLike;
  /** The issuer's `SESSION_CLAIM` (default `sid`); the `SESSION_CLAIM` setting takes precedence. */
  sessionClaim?: string;
  /**
   * Check EdDSA/ES/RS/PS signatures with the runtime's crypto (node:crypto in Node, Deno
   * and Bun, WebCrypto elsewhere; default true). The wasm has no check of its own for them:
   * `false` makes `createVerifier` throw `improperly_configured` for those algorithms.
   */
  webCrypto?: boolean;
  /**
   * Node, Deno and Bun: check EdDSA/ES/RS/PS with node:crypto (default true: on the calling
   * thread while verifies come one at a time, cheaper than a thread-pool round trip; on libuv's
   * thread pool once they overlap, which spreads them over its threads); `"sync"` always on the
   * calling thread; `"pool"` always on the thread pool; `false` uses WebCrypto.
   */
  nodeCrypto?: boolean | "sync" | "pool";
  /** The clock, in Unix seconds (tests). */
  now?: () => number;
  /** `fetch` for the JWK Set. */
  fetch?: typeof fetch;
}

/** Token claims, as JSON. */
export type Claims = Record<string, unknown> & { token_type?: string; exp?: number; iat?: number; jti?: string };

/** What {@link Verifier.authenticate} returns for a valid request. */
export interface Authenticated {
  /** The user id claim (a string, as simplejwt writes it). */
  userId: string;
  claims: Claims;
  token: string;
}

/** The key for a token and, when no key of the set is named by it, the verdict `false`. */
interface Choice {
  key: Key;
  verdict?: false;
}

/**
 * Verifies simplejwt-compatible tokens. Create one per configuration and reuse it.
 *
 * @example
 * const verifier = await createVerifier({ SIGNING_KEY: env.SIGNING_KEY }, { revocations: env.REVOCATIONS });
 * const claims = await verifier.verify(token);          // throws EdgeJwtError
 * const { userId } = await verifier.authenticate(request);
 */
export class Verifier {
  readonly #api: WasmApi;
  readonly #settings: Settings;
  readonly #options: VerifierOptions;
  readonly #key: Key | null;
  readonly #jwks: JwksSource | null;
  /** This verifier's keys made from the last JWK Set it saw (its own settings, never another's). */
  #jwksKeys: { set: JwkSet; keys: Promise<Map<string, Key>> } | null = null;
  readonly #now: () => number;

  /** @internal Use `createVerifier`. */
  constructor(api: WasmApi, settings: Settings, options: VerifierOptions, key: Key | null) {
    this.#api = api;
    this.#settings = settings;
    this.#options = options;
    this.#key = key;
    this.#jwks = options.jwksUrl
      ? {
          url: options.jwksUrl,
          ttlMs: options.jwksCacheTtl === undefined ? undefined : options.jwksCacheTtl * 1000,
          cooldownMs: (options.jwksCooldown ?? 30) * 1000,
          kv: options.jwksKv,
          fetch: options.fetch ?? fetch,
        }
      : null;
    this.#now = options.now ?? (() => Math.floor(Date.now() / 1000));
  }

  /** `WWW-Authenticate` for 401 responses. */
  get wwwAuthenticate(): string {
    return this.#key?.wasm.wwwAuthenticate ?? 'Bearer realm="api"';
  }

  /** The keys of the JWK Set (`refetch`: for an unknown `kid`), made with this verifier's settings. */
  async #keys(refetch: boolean): Promise<Map<string, Key>> {
    const set = await jwkSet(this.#jwks!, refetch);
    if (this.#jwksKeys?.set !== set) this.#jwksKeys = { set, keys: this.#makeKeys(set) };
    return this.#jwksKeys.keys;
  }

  async #makeKeys(set: JwkSet): Promise<Map<string, Key>> {
    const keys = new Map<string, Key>();
    for (const jwk of set.keys) {
      const settings: Settings = { ...this.#settings, VERIFYING_KEY: JSON.stringify(jwk) };
      if (jwk.alg) settings.ALGORITHM = jwk.alg;
      try {
        keys.set(jwk.kid ?? "", await makeKey(this.#api, settings, this.#options));
      } catch {
        // A key of another kind in the set is not an error for the others.
      }
    }
    return keys;
  }

  async #choose(token: string): Promise<Choice> {
    const header = peekHeader(token);
    const kid = typeof header?.kid === "string" ? header.kid : "";
    const named = (keys: Map<string, Key>) => keys.get(kid) ?? (keys.size === 1 && !kid ? first(keys) : undefined);
    let keys = await this.#keys(false);
    let key = named(keys);
    if (!key) {
      keys = await this.#keys(true);
      key = named(keys);
    }
    if (key) return { key };
    // An unknown kid is an invalid token, as any other unverifiable one: the core refuses it
    // as a failed signature, in this verifier's words (its AUTH_TOKEN_CLASSES).
    return { key: usable(first(keys)), verdict: false };
  }

  /**
   * Verifies a token of an accepted type (`AUTH_TOKEN_CLASSES`, access tokens by default)
   * and returns its claims. Throws {@link EdgeJwtError} with simplejwt's message.
   */
  verify(token: string): Promise<Claims> {
    return this.#run(token, this.#claims);
  }

  /** Finishes a verify: the claims. Made once, not per token. */
  readonly #claims = (key: Key, json: string): Promise<Claims> => this.#accept(key, json);

  /** Finishes an authenticate: the user id (the core's rule, read from the claims JSON as signed) and the claims. */
  readonly #user = (key: Key, json: string): Promise<[string, Claims]> =>
    this.#accept(key, json).then((claims) => [key.wasm.userId(json), claims]);

  #run<T>(token: string, finish: (key: Key, json: string) => Promise<T>): Promise<T> {
    // Without a JWK Set the key is known: HMAC (wasm) and node:crypto checks run
    // synchronously, and the only promise is the one returned.
    if (!this.#jwks) return this.#check(this.#key!, token, finish);
    return this.#choose(token).then(({ key, verdict }) => this.#check(key, token, finish, verdict));
  }

  /** `verdict`: an asynchronous check's result, for the second half of that path. */
  #check<T>(key: Key, token: string, finish: (key: Key, json: string) => Promise<T>, verdict?: boolean): Promise<T> {
    const now = this.#now();
    let json: string;
    try {
      if (verdict !== undefined) {
        json = key.wasm.verify(token, now, verdict);
      } else if (key.checkSync && !key.pool?.()) {
        json = key.wasm.verifyWith(token, now, key.checkSync);
      } else if (key.check) {
        const parts = key.wasm.signedParts(token);
        // A token refused before its signature, or whose `kid` names no key the core knows,
        // fails without a check, in the verify's words.
        if (parts?.key == null) return this.#check(key, token, finish, false);
        return key.check(parts.key, parts.signingInput, parts.signature).then((ok) => this.#check(key, token, finish, ok));
      } else {
        json = key.wasm.verify(token, now);
      }
    } catch (e) {
      // The core's errors, thrown synchronously: this returns a promise either way.
      return Promise.reject(e);
    }
    return finish(key, json);
  }

  /** The claims of a token the core accepted, unless revoked at the issuer (the core names the KV keys). */
  #accept(key: Key, json: string): Promise<Claims> {
    const claims = JSON.parse(json) as Claims;
    const revocations = this.#options.revocations;
    if (!revocations) return Promise.resolve(claims);
    const keys = key.wasm.revocationKeys(json);
    return Promise.all(keys.map((k) => revocations.get(k))).then(
      (hits) => {
        if (hits.some((hit) => hit !== null)) throw key.wasm.revoked();
        return claims;
      },
      // A revocation that cannot be read is not a revocation that does not exist: fail closed.
      () => {
        const detail = "Revocations unavailable (KV read failed).";
        return Promise.reject(new EdgeJwtError("revocations_unavailable", detail, 503, { detail, code: "revocations_unavailable" }));
      },
    );
  }

  /**
   * Authenticates a request by its `Authorization` header (simplejwt's `JWTAuthentication`
   * with `IsAuthenticated`): the user id claim and the claims, or an {@link EdgeJwtError}.
   */
  async authenticate(request: { headers: Headers }): Promise<Authenticated> {
    // Any key knows this verifier's header and claim names: they are its settings.
    const key = this.#key ?? usable(first(await this.#keys(false)));
    const token = key.wasm.rawToken(request.headers.get(key.wasm.authHeaderName));
    const [userId, claims] = await this.#run(token, this.#user);
    return { userId, claims, token };
  }
}

function first(keys: Map<string, Key>): Key | undefined {
  return keys.values().next().value;
}

function usable(key: Key | undefined): Key {
  if (!key) throw new EdgeJwtError("jwks_unavailable", "JWK Set has no usable key", 503);
  return key;
}

/** @internal Shared by the entry files, which differ only in how they load the wasm. */
export async function createVerifierWith(load: () => Promise<WasmApi>, settings: Settings, options: VerifierOptions = {}): Promise<Verifier> {
  const api = await load();
  // The option predates the setting: the core reads SESSION_CLAIM (default `sid`).
  // `settings?.`: from plain JS a non-object may come; the core names what it is.
  if (options.sessionClaim !== undefined && settings?.SESSION_CLAIM === undefined) settings = { ...settings, SESSION_CLAIM: options.sessionClaim };
  const key = options.jwksUrl ? null : await makeKey(api, settings, options);
  return new Verifier(api, settings, options, key);
}

/** A `fetch` handler that runs only for authenticated requests. */
export type AuthedHandler<E, C> = (request: Request, env: E, ctx: C, auth: Authenticated) => Response | Promise<Response>;

/**
 * Middleware for plain `fetch` handlers (Workers, Deno, Bun): answers 401 with simplejwt's
 * body and `WWW-Authenticate` unless the request carries a valid token.
 *
 * @example
 * export default { fetch: withAuth((env) => getVerifier(env), (req, env, ctx, auth) => Response.json({ user: auth.userId })) };
 */
export function withAuth<E = unknown, C = unknown>(
  verifier: Verifier | ((env: E) => Verifier | Promise<Verifier>),
  handler: AuthedHandler<E, C>,
): (request: Request, env: E, ctx: C) => Promise<Response> {
  return async (request, env, ctx) => {
    const v = typeof verifier === "function" ? await verifier(env) : verifier;
    let auth: Authenticated;
    try {
      auth = await v.authenticate(request);
    } catch (e) {
      if (e instanceof EdgeJwtError) return e.toResponse();
      throw e;
    }
    return handler(request, env, ctx, auth);
  };
}
