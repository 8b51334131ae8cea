// The keys a verifier checks tokens with: a wasm verifier (the core: structure, algorithm,
// the key chosen by `kid`, claims, and HMAC signatures) and, for every asymmetric algorithm,
// the runtime's own signature check (node:crypto, WebCrypto), native and 5-10× faster than
// pure-Rust wasm (bench/). The package's wasm has no asymmetric code (`Verifier.hostChecks`):
// PEM keys are converted to JWKs here, and a runtime that cannot check an algorithm is an
// error at creation, never a verdict of guesswork.
import type { Core, CoreVerifier } from "./core.js";
import { EdgeJwtError } from "./errors.js";
import type { Settings } from "./settings.js";

/** Checks a signature over the signed part of a token. */
export type SignatureCheck = (signingInput: string, signature: Uint8Array<ArrayBuffer>) => Promise<boolean>;
/** A synchronous check (node:crypto): the core calls it in the same pass over the token. */
export type SyncSignatureCheck = (signingInput: string, signature: Uint8Array<ArrayBuffer>) => boolean;
/**
 * A key's checks: `key` is the index, in `publicJwks()` order, of the key the core chose by the
 * token's `kid` (0 the current key, then `PREVIOUS_VERIFYING_KEYS`).
 */
export type KeyedCheck = (key: number, signingInput: string, signature: Uint8Array<ArrayBuffer>) => Promise<boolean>;
/** The synchronous form, called between the core's two passes with the key's index last. */
export type KeyedSyncCheck = (signingInput: string, signature: Uint8Array<ArrayBuffer>, key: number) => boolean;

/** A key's check by the runtime's own crypto, in both forms (node:crypto's `verify`). */
export interface HostCheck {
  /** On the calling thread, between the core's two passes (signed parts, then the verdict). */
  sync: SyncSignatureCheck;
  /** On a thread pool: the core's two passes (signed parts, then the verdict) around it. */
  pooled: SignatureCheck;
}

/** What an entry file hands over once the wasm is initialised. */
export interface WasmApi {
  /** The core's instance (its input and output). */
  core: Core;
  /** The runtime's own signature check for `alg` (node:crypto in Node); WebCrypto otherwise. */
  hostCheck?: (alg: string, jwk: JsonWebKey) => HostCheck | null;
  /** The public JWK of a PEM key, any form the runtime reads (node:crypto); WebCrypto otherwise. */
  hostJwk?: (pem: string) => JsonWebKey;
}

/** An algorithm the host's crypto can check: RSASSA-PKCS1-v1_5, RSA-PSS or ECDSA, and its SHA size. */
export interface HostAlgorithm {
  family: "RS" | "PS" | "ES";
  bits: "256" | "384" | "512";
}

/** `RS256` → `{ family: "RS", bits: "256" }`; `null` for HMAC, EdDSA and anything else. */
export function hostAlgorithm(alg: string): HostAlgorithm | null {
  const m = /^(RS|PS|ES)(256|384|512)$/.exec(alg);
  return m ? { family: m[1] as HostAlgorithm["family"], bits: m[2] as HostAlgorithm["bits"] } : null;
}

/** WebCrypto parameters per JOSE algorithm (import, verify). */
function webCryptoParams(alg: string): [RsaHashedImportParams | EcKeyImportParams | Algorithm, AlgorithmIdentifier | RsaPssParams | EcdsaParams] | null {
  if (alg === "EdDSA") return [{ name: "Ed25519" }, { name: "Ed25519" }];
  const host = hostAlgorithm(alg);
  if (!host) return null;
  const hash = { name: `SHA-${host.bits}` };
  if (host.family === "RS") return [{ name: "RSASSA-PKCS1-v1_5", hash }, { name: "RSASSA-PKCS1-v1_5" }];
  if (host.family === "PS") return [{ name: "RSA-PSS", hash }, { name: "RSA-PSS", saltLength: Number(host.bits) / 8 }];
  // ES256 on P-256, ES384 on P-384, ES512 on P-521 (RFC 7518 §3.4).
  const namedCurve = { "256": "P-256", "384": "P-384", "512": "P-521" }[host.bits];
  return [{ name: "ECDSA", namedCurve }, { name: "ECDSA", hash }];
}

/**
 * One configuration's keys: its wasm verifier (which picks the key of each token by `kid`) and,
 * when the runtime's crypto can check them, those checks by key index.
 */
export interface Key {
  wasm: CoreVerifier;
  check?: KeyedCheck;
  checkSync?: KeyedSyncCheck;
  /** With both checks: whether this verify's goes to `check` (`overlapping` below). */
  pool?: () => boolean;
}

/** Which signature checks a key may use (`VerifierOptions.webCrypto`, `.nodeCrypto`). */
export interface CryptoChoice {
  webCrypto?: boolean;
  nodeCrypto?: boolean | "sync" | "pool";
}

/**
 * node:crypto's default place, decided per verify: on the calling thread while verifies come
 * one at a time, since skipping the round trip to libuv's thread pool is the lowest latency;
 * on the pool once they overlap (a second verify started in the same turn, or one started while
 * a pooled check is still out), which spreads the checks over its threads (bench/RESULTS.md:
 * the "sync" and "pool" columns). The pool is the process's, so the counts are too.
 */
let startedThisTurn = 0;
let pooledOut = 0;
function overlapping(): boolean {
  if (startedThisTurn++ === 0) queueMicrotask(() => (startedThisTurn = 0));
  return startedThisTurn > 1 || pooledOut > 0;
}
function adaptive(checkSync: KeyedSyncCheck, check: KeyedCheck): Pick<Key, "checkSync" | "check" | "pool"> {
  const counted: KeyedCheck = (key, input, signature) => {
    pooledOut++;
    return check(key, input, signature).finally(() => pooledOut--);
  };
  return { checkSync, check: counted, pool: overlapping };
}

const encoder = new TextEncoder();


/** The public members of a JWK: never a private one into the wasm. */
function publicJwk({ kty, crv, x, y, n, e }: JsonWebKey): JsonWebKey {
  return Object.fromEntries(Object.entries({ kty, crv, x, y, n, e }).filter(([, v]) => v !== undefined));
}

const PEM = /^-----BEGIN (PUBLIC|PRIVATE) KEY-----([A-Za-z0-9+/=\s]+)-----END \1 KEY-----$/;

/**
 * A PEM key as the public JWK the core takes for a host-checked algorithm; `null` when the
 * runtime cannot read it (the core then refuses the PEM, naming the setting).
 */
async function pemToJwk(api: WasmApi, alg: string, pem: string): Promise<JsonWebKey | null> {
  try {
    if (api.hostJwk) return publicJwk(api.hostJwk(pem));
    // WebCrypto reads SPKI and PKCS#8 (not PKCS#1 or SEC1).
    const m = PEM.exec(pem.trim());
    const params = webCryptoParams(alg)?.[0];
    if (!m || !params || !globalThis.crypto?.subtle) return null;
    const der = Uint8Array.from(atob(m[2]!.replace(/\s+/g, "")), (c) => c.charCodeAt(0));
    const isPublic = m[1] === "PUBLIC";
    const key = await crypto.subtle.importKey(isPublic ? "spki" : "pkcs8", der, params, true, [isPublic ? "verify" : "sign"]);
    return publicJwk(await crypto.subtle.exportKey("jwk", key));
  } catch {
    return null;
  }
}

const isPem = (v: unknown): v is string => typeof v === "string" && v.includes("-----BEGIN ");

/** `settings` with its PEM keys as JWKs, when the wasm leaves `ALGORITHM` to the host. */
async function hostKeySettings(api: WasmApi, settings: Settings): Promise<Settings> {
  const alg = typeof settings?.ALGORITHM === "string" ? settings.ALGORITHM.trim() : "HS256";
  if (!api.core.hostChecks(alg)) return settings;
  const convert = async (v: unknown) => (isPem(v) ? ((await pemToJwk(api, alg, v)) ?? v) : v);
  const out: Settings = { ...settings };
  for (const name of ["SIGNING_KEY", "VERIFYING_KEY"] as const) {
    const jwk = await convert(out[name]);
    if (jwk !== out[name]) out[name] = JSON.stringify(jwk);
  }
  const previous = out.PREVIOUS_VERIFYING_KEYS;
  let list: unknown = previous;
  if (typeof previous === "string") {
    try {
      list = JSON.parse(previous);
    } catch {
      list = null; // the core names the setting's problem
    }
  }
  if (Array.isArray(list) && list.some(isPem)) out.PREVIOUS_VERIFYING_KEYS = JSON.stringify(await Promise.all(list.map(convert)));
  return out;
}

/** The error for a host-checked algorithm the runtime's crypto cannot check. */
function noHostCheck(alg: string, why: string): EdgeJwtError {
  const detail = `edgejwt is misconfigured: ALGORITHM: ${alg} signatures are checked by the runtime's crypto (node:crypto or WebCrypto), and ${why}`;
  return new EdgeJwtError("improperly_configured", detail, 500, { detail, code: "improperly_configured" });
}

/** A key made from `settings` alone (its wasm verifier and the runtime's checks of its signatures): whoever holds it verifies by these settings, no others. */
export async function makeKey(api: WasmApi, settings: Settings, choice: CryptoChoice): Promise<Key> {
  const wasm = api.core.verifier(await hostKeySettings(api, settings));
  // The wasm has no check of its own for this algorithm: one from the runtime, or an error.
  const required = wasm.hostChecked;
  const alg = wasm.algorithm;
  const params = (choice.webCrypto ?? true) ? webCryptoParams(alg) : null;
  const jwks = wasm.publicJwks;
  if (required && !params) throw noHostCheck(alg, "`webCrypto: false` turns that off");
  if (!params || jwks.length === 0) return { wasm };
  try {
    const hosts = choice.nodeCrypto === false ? null : jwks.map((jwk) => api.hostCheck?.(wasm.algorithm, jwk) ?? null);
    if (hosts?.every((h) => h !== null)) {
      const checks = hosts as HostCheck[];
      const checkSync: KeyedSyncCheck = (input, signature, key) => checks[key]?.sync(input, signature) ?? false;
      const check: KeyedCheck = (key, input, signature) => checks[key]?.pooled(input, signature) ?? Promise.resolve(false);
      if (choice.nodeCrypto === "sync") return { wasm, checkSync };
      if (choice.nodeCrypto === "pool") return { wasm, check };
      return { wasm, ...adaptive(checkSync, check) };
    }
    if (!globalThis.crypto?.subtle) {
      if (required) throw noHostCheck(alg, "this runtime has no WebCrypto");
      return { wasm };
    }
    const keys = await Promise.all(jwks.map((jwk) => crypto.subtle.importKey("jwk", jwk, params[0], false, ["verify"])));
    return {
      wasm,
      check: (key, input, signature) => {
        const k = keys[key];
        return k ? crypto.subtle.verify(params[1], k, signature, encoder.encode(input)) : Promise.resolve(false);
      },
    };
  } catch (e) {
    if (e instanceof EdgeJwtError) throw e;
    if (required) throw noHostCheck(alg, `this runtime's crypto cannot import its key (${String((e as Error)?.message ?? e)})`);
    // A runtime without this algorithm in WebCrypto (Ed25519 in older ones): wasm checks it.
    return { wasm };
  }
}
