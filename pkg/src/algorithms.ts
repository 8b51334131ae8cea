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
  return host.bits === "256" ? [{ name: "ECDSA", namedCurve: "P-256" }, { name: "ECDSA", hash }] : null;
}

/** One key: its wasm verifier and, when the runtime's crypto can check it, that check. */
export interface Key {
  wasm: WasmVerifier;
  check?: SignatureCheck;
  checkSync?: SyncSignatureCheck;
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
  const jwk = wasm.publicJwk();
  if (!params || !jwk) return { wasm };
  try {
    const host = choice.nodeCrypto === false ? null : api.hostCheck?.(wasm.algorithm, JSON.parse(jwk));
    if (host) return { wasm, checkSync: host };
    if (!globalThis.crypto?.subtle) return { wasm };
    const key = await crypto.subtle.importKey("jwk", JSON.parse(jwk), params[0], false, ["verify"]);
    return { wasm, check: (input, signature) => crypto.subtle.verify(params[1], key, signature, encoder.encode(input)) };
  } catch {
    // A runtime without this algorithm in WebCrypto (Ed25519 in older ones): wasm checks it.
    return { wasm };
  }
}
