// The verifier: simplejwt's JWTAuthentication for JS runtimes. Token rules live in the
// wasm core (crates/core via crates/wasm); this file only adapts them: key sources
// (settings, JWKS), WebCrypto for asymmetric signatures, KV revocations, errors.
import type { Verifier as WasmVerifier } from "./wasm/edgejwt.js";
import { EdgeJwtError, fromCore } from "./errors.js";

export { EdgeJwtError } from "./errors.js";
export type { ErrorBody, ErrorCode } from "./errors.js";

/** The wasm module's exports an entry file hands over once initialised. */
export interface WasmApi {
  Verifier: new (settings: object) => WasmVerifier;
  /** The runtime's own signature check for `alg` (node:crypto in Node); WebCrypto otherwise. */
  hostCheck?: (alg: string, jwk: JsonWebKey) => SyncSignatureCheck | null;
}

/** Checks a signature over the signed part of a token. */
export type SignatureCheck = (signingInput: string, signature: Uint8Array<ArrayBuffer>) => Promise<boolean>;
/** A synchronous check (node:crypto): the core calls it in the same pass over the token. */
export type SyncSignatureCheck = (signingInput: string, signature: Uint8Array<ArrayBuffer>) => boolean;

/** simplejwt setting names the verifier reads (the same names as the issuer's). */
export type SettingName =
  | "ALGORITHM"
  | "SIGNING_KEY"
  | "VERIFYING_KEY"
  | "AUDIENCE"
  | "ISSUER"
  | "LEEWAY"
  | "AUTH_HEADER_TYPES"
  | "AUTH_HEADER_NAME"
  | "USER_ID_FIELD"
  | "USER_ID_CLAIM"
  | "TOKEN_TYPE_CLAIM"
  | "JTI_CLAIM"
  | "SLIDING_TOKEN_REFRESH_EXP_CLAIM"
  | "AUTH_TOKEN_CLASSES"
  | "CHECK_USER_IS_ACTIVE"
  | "ACCESS_TOKEN_LIFETIME"
  | "REFRESH_TOKEN_LIFETIME"
  | "SLIDING_TOKEN_LIFETIME"
  | "SLIDING_TOKEN_REFRESH_LIFETIME"
  | "ROTATE_REFRESH_TOKENS"
  | "BLACKLIST_AFTER_ROTATION"
  | "UPDATE_LAST_LOGIN";

/**
 * Settings by simplejwt's names. Keys are PEM text, JWK objects or JSON, or (HMAC) the
 * secret itself; lists may be arrays or comma-separated strings; durations seconds or `5m`.
 */
export type Settings = Partial<Record<SettingName, string | number | boolean | string[] | JsonWebKey>>;

/** The part of a Workers KV namespace the verifier uses. */
export interface KVNamespaceLike {
  get(key: string): Promise<string | null>;
  put?(key: string, value: string, options?: { expirationTtl?: number }): Promise<void>;
}

/** Options beyond simplejwt's settings. */
export interface VerifierOptions {
  /** A JWK Set URL (e.g. the issuer's `/api/token/jwks/`): keys are chosen by `kid`. */
  jwksUrl?: string;
  /** Seconds a fetched JWK Set is trusted (default 600). */
  jwksCacheTtl?: number;
  /** Least seconds between refetches when a token names an unknown `kid` (default 30). */
  jwksCooldown?: number;
  /** A KV namespace that keeps the JWK Set across short-lived isolates. */
  jwksKv?: KVNamespaceLike;
  /**
   * The issuer's `REVOCATIONS` KV namespace: a token whose `jti`, or whose session
   * (`sessionClaim`), is revoked there is refused, so access tokens die at logout.
   */
  revocations?: KVNamespaceLike;
  /** The issuer's `SESSION_CLAIM` (default `sid`). */
  sessionClaim?: string;
  /**
   * Check ES/RS/PS signatures with the runtime's crypto (node:crypto in Node, WebCrypto
   * elsewhere; default true, 5-10× faster than wasm).
   */
  webCrypto?: boolean;
  /** Node: check with node:crypto, synchronously (default true); `false` uses WebCrypto. */
  nodeCrypto?: boolean;
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

const REVOKED_PREFIX = "revoked:";
const encoder = new TextEncoder();

/** WebCrypto parameters per JOSE algorithm (import, verify). */
function webCryptoParams(alg: string): [AlgorithmIdentifier | RsaHashedImportParams | EcKeyImportParams, AlgorithmIdentifier | RsaPssParams | EcdsaParams] | null {
  const sha = (bits: string) => ({ name: `SHA-${bits}` });
  const m = alg.match(/^(RS|PS|ES)(256|384|512)$/);
  if (m) {
    const [, family, bits] = m;
    if (family === "RS") return [{ name: "RSASSA-PKCS1-v1_5", hash: sha(bits) }, { name: "RSASSA-PKCS1-v1_5" }];
    if (family === "PS") return [{ name: "RSA-PSS", hash: sha(bits) }, { name: "RSA-PSS", saltLength: Number(bits) / 8 }];
    if (bits === "256") return [{ name: "ECDSA", namedCurve: "P-256" }, { name: "ECDSA", hash: sha(bits) }];
  }
  // EdDSA stays in wasm: measured faster than WebCrypto's Ed25519 in Node 20 (bench/).
  return null;
}

/** One key: its wasm verifier and, when the runtime's crypto can check it, that check. */
interface Key {
  wasm: WasmVerifier;
  check?: SignatureCheck;
  checkSync?: SyncSignatureCheck;
}

async function makeKey(api: WasmApi, settings: Settings, options: VerifierOptions): Promise<Key> {
  let wasm: WasmVerifier;
  try {
    wasm = new api.Verifier(settings);
  } catch (e) {
    throw fromCore(e);
  }
  const params = (options.webCrypto ?? true) ? webCryptoParams(wasm.algorithm) : null;
  const jwk = wasm.publicJwk();
  if (!params || !jwk) return { wasm };
  try {
    const host = options.nodeCrypto === false ? null : api.hostCheck?.(wasm.algorithm, JSON.parse(jwk));
    if (host) return { wasm, checkSync: host };
    if (!globalThis.crypto?.subtle) return { wasm };
    const key = await crypto.subtle.importKey("jwk", JSON.parse(jwk), params[0], false, ["verify"]);
    return { wasm, check: (input, signature) => crypto.subtle.verify(params[1], key, signature, encoder.encode(input)) };
  } catch {
    // A runtime without this algorithm in WebCrypto (Ed25519 in older ones): wasm checks it.
    return { wasm };
  }
}

interface JwksEntry {
  keys: Map<string, Key>;
  fetchedAt: number;
}
// Per isolate: JWK Sets survive between requests as long as the isolate does.
const jwksMemory = new Map<string, JwksEntry>();
const jwksAttempts = new Map<string, number>();

function peekKid(token: string): string | undefined {
  // Routing only: the chosen key's verifier checks structure and algorithm itself.
  try {
    const header = JSON.parse(atob(token.split(".")[0].replace(/-/g, "+").replace(/_/g, "/")));
    return typeof header.kid === "string" ? header.kid : undefined;
  } catch {
    return undefined;
  }
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
  readonly #now: () => number;

  /** @internal Use `createVerifier`. */
  constructor(api: WasmApi, settings: Settings, options: VerifierOptions, key: Key | null) {
    this.#api = api;
    this.#settings = settings;
    this.#options = options;
    this.#key = key;
    this.#now = options.now ?? (() => Math.floor(Date.now() / 1000));
  }

  /** `WWW-Authenticate` for 401 responses. */
  get wwwAuthenticate(): string {
    return this.#key?.wasm.wwwAuthenticate ?? 'Bearer realm="api"';
  }

  async #jwks(force: boolean): Promise<JwksEntry> {
    const url = this.#options.jwksUrl!;
    const ttl = (this.#options.jwksCacheTtl ?? 600) * 1000;
    const cached = jwksMemory.get(url);
    if (cached && !force && Date.now() - cached.fetchedAt < ttl) return cached;
    const cooldown = (this.#options.jwksCooldown ?? 30) * 1000;
    if (cached && force && Date.now() - (jwksAttempts.get(url) ?? 0) < cooldown) return cached;
    jwksAttempts.set(url, Date.now());
    const kv = this.#options.jwksKv;
    const kvKey = `jwks:${url}`;
    let text = !force && kv ? await kv.get(kvKey) : null;
    if (!text) {
      const res = await (this.#options.fetch ?? fetch)(url);
      if (!res.ok) {
        if (cached) return cached;
        throw new EdgeJwtError("jwks_unavailable", `JWK Set unavailable (${res.status})`, 503);
      }
      text = await res.text();
      await kv?.put?.(kvKey, text, { expirationTtl: Math.max(60, Math.floor(ttl / 1000)) });
    }
    const keys = new Map<string, Key>();
    for (const jwk of (JSON.parse(text).keys ?? []) as (JsonWebKey & { kid?: string; use?: string })[]) {
      if (jwk.use && jwk.use !== "sig") continue;
      const settings: Settings = { ...this.#settings, VERIFYING_KEY: JSON.stringify(jwk) };
      if (jwk.alg) settings.ALGORITHM = jwk.alg;
      try {
        keys.set(jwk.kid ?? "", await makeKey(this.#api, settings, this.#options));
      } catch {
        // A key of another kind in the set is not an error for the others.
      }
    }
    const entry = { keys, fetchedAt: Date.now() };
    jwksMemory.set(url, entry);
    return entry;
  }

  async #keyFor(token: string): Promise<Key> {
    if (!this.#options.jwksUrl) return this.#key!;
    const kid = peekKid(token) ?? "";
    let set = await this.#jwks(false);
    let key = set.keys.get(kid) ?? (set.keys.size === 1 && !kid ? [...set.keys.values()][0] : undefined);
    if (!key) {
      set = await this.#jwks(true);
      key = set.keys.get(kid);
    }
    if (!key) {
      // An unknown kid is an invalid token, as any other unverifiable one.
      const any = [...set.keys.values()][0];
      if (!any) throw new EdgeJwtError("jwks_unavailable", "JWK Set has no usable key", 503);
      return any;
    }
    return key;
  }

  /**
   * Verifies a token of an accepted type (`AUTH_TOKEN_CLASSES`, access tokens by default)
   * and returns its claims. Throws {@link EdgeJwtError} with simplejwt's message.
   */
  verify(token: string): Promise<Claims> {
    // Without a JWK Set the key is known: HMAC and EdDSA (wasm) and node:crypto checks run
    // synchronously, and the only promise is the one returned.
    if (!this.#options.jwksUrl) return this.#check(this.#key!, token);
    return this.#keyFor(token).then((key) => this.#check(key, token));
  }

  /** `verdict`: an asynchronous check's result, for the second half of that path. */
  #check(key: Key, token: string, verdict?: boolean): Promise<Claims> {
    const now = this.#now();
    let json: string;
    try {
      if (verdict !== undefined) {
        json = key.wasm.verifyWithCheckedSignature(token, verdict, now);
      } else if (key.checkSync) {
        json = key.wasm.verifyWith(token, now, key.checkSync);
      } else if (key.check) {
        const parts = key.wasm.signedParts(token) as { signingInput: string; signature: Uint8Array<ArrayBuffer> };
        return key.check(parts.signingInput, parts.signature).then((ok) => this.#check(key, token, ok));
      } else {
        json = key.wasm.verify(token, now);
      }
    } catch (e) {
      return Promise.reject(fromCore(e, key.wasm.wwwAuthenticate));
    }
    return this.#accept(key, json);
  }

  /** The claims of a token the core accepted, unless revoked at the issuer. */
  #accept(key: Key, json: string): Promise<Claims> {
    const claims = JSON.parse(json) as Claims;
    const revocations = this.#options.revocations;
    if (!revocations) return Promise.resolve(claims);
    const ids = [claims[key.wasm.jtiClaim], claims[this.#options.sessionClaim ?? "sid"]].filter((id): id is string => typeof id === "string");
    return Promise.all(ids.map((id) => revocations.get(REVOKED_PREFIX + id))).then((hits) => {
      if (hits.some((hit) => hit !== null)) throw fromCore(key.wasm.revoked(), key.wasm.wwwAuthenticate);
      return claims;
    });
  }

  /**
   * Authenticates a request by its `Authorization` header (simplejwt's `JWTAuthentication`
   * with `IsAuthenticated`): the user id claim and the claims, or an {@link EdgeJwtError}.
   */
  async authenticate(request: { headers: Headers }): Promise<Authenticated> {
    const key = this.#key ?? (await this.#jwks(false)).keys.values().next().value;
    if (!key) throw new EdgeJwtError("jwks_unavailable", "JWK Set has no usable key", 503);
    let token: string | undefined;
    try {
      token = key.wasm.rawToken(request.headers.get(key.wasm.authHeaderName) ?? undefined) ?? undefined;
    } catch (e) {
      throw fromCore(e, key.wasm.wwwAuthenticate);
    }
    if (!token) throw fromCore(key.wasm.notAuthenticated(), key.wasm.wwwAuthenticate);
    const claims = await this.verify(token);
    const userId = claims[key.wasm.userIdClaim];
    if (typeof userId !== "string" && typeof userId !== "number") throw fromCore(key.wasm.noUserId(), key.wasm.wwwAuthenticate);
    return { userId: String(userId), claims, token };
  }
}

/** @internal Shared by the entry files, which differ only in how they load the wasm. */
export async function createVerifierWith(load: () => Promise<WasmApi>, settings: Settings, options: VerifierOptions = {}): Promise<Verifier> {
  const api = await load();
  const key = options.jwksUrl ? null : await makeKey(api, settings, options);
  const verifier = new Verifier(api, settings, options, key);
  return verifier;
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
