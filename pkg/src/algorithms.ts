// The keys a verifier checks tokens with: a wasm verifier (the core: structure, algorithm,
// claims, and HMAC/EdDSA signatures) and, for ES/RS/PS, the runtime's own signature check,
// which is 5-10× faster than wasm for those (bench/).
import type { Verifier as WasmVerifier } from "./wasm/edgejwt.js";
import { fromCore } from "./errors.js";
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
/** The synchronous form, called by the core (`verifyWith`) with the key's index last. */
export type KeyedSyncCheck = (signingInput: string, signature: Uint8Array<ArrayBuffer>, key: number) => boolean;

/** The wasm module's exports an entry file hands over once initialised. */
export interface WasmApi {
  Verifier: new (settings: object) => WasmVerifier;
  /** The runtime's own signature check for `alg` (node:crypto in Node); WebCrypto otherwise. */
  hostCheck?: (alg: string, jwk: JsonWebKey) => SyncSignatureCheck | null;
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
function webCryptoParams(alg: string): [RsaHashedImportParams | EcKeyImportParams, AlgorithmIdentifier | RsaPssParams | EcdsaParams] | null {
  const host = hostAlgorithm(alg);
  if (!host) return null; // EdDSA stays in wasm: measured faster than WebCrypto's Ed25519 in Node 20 (bench/).
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
  wasm: WasmVerifier;
  check?: KeyedCheck;
  checkSync?: KeyedSyncCheck;
}

/** Which signature checks a key may use (`VerifierOptions.webCrypto`, `.nodeCrypto`). */
export interface CryptoChoice {
  webCrypto?: boolean;
  nodeCrypto?: boolean;
}

const encoder = new TextEncoder();

/** A key made from `settings` alone: whoever holds it verifies by these settings, no others. */
export async function makeKey(api: WasmApi, settings: Settings, choice: CryptoChoice): Promise<Key> {
  let wasm: WasmVerifier;
  try {
    wasm = new api.Verifier(settings);
  } catch (e) {
    throw fromCore(e);
  }
  const params = (choice.webCrypto ?? true) ? webCryptoParams(wasm.algorithm) : null;
  const jwks = wasm.publicJwks().map((text) => JSON.parse(text) as JsonWebKey);
  if (!params || jwks.length === 0) return { wasm };
  try {
    const hosts = choice.nodeCrypto === false ? null : jwks.map((jwk) => api.hostCheck?.(wasm.algorithm, jwk) ?? null);
    if (hosts?.every((h) => h !== null)) {
      const checks = hosts as SyncSignatureCheck[];
      return { wasm, checkSync: (input, signature, key) => checks[key]?.(input, signature) ?? false };
    }
    if (!globalThis.crypto?.subtle) return { wasm };
    const keys = await Promise.all(jwks.map((jwk) => crypto.subtle.importKey("jwk", jwk, params[0], false, ["verify"])));
    return {
      wasm,
      check: (key, input, signature) => {
        const k = keys[key];
        return k ? crypto.subtle.verify(params[1], k, signature, encoder.encode(input)) : Promise.resolve(false);
      },
    };
  } catch {
    // A runtime without this algorithm in WebCrypto (Ed25519 in older ones): wasm checks it.
    return { wasm };
  }
}
