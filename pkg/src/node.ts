// Node entry: reads the .wasm file next to this module.
import { constants, createPublicKey, verify, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { initSync, Verifier as WasmVerifier } from "./wasm/edgejwt.js";
import { hostAlgorithm } from "./algorithms.js";
import { createVerifierWith, type Settings, type SyncSignatureCheck, type Verifier, type VerifierOptions, type WasmApi } from "./verifier.js";

export * from "./verifier.js";

let api: WasmApi | undefined;
function load(): Promise<WasmApi> {
  if (!api) {
    initSync({ module: readFileSync(new URL("./wasm/edgejwt_bg.wasm", import.meta.url)) });
    api = { Verifier: WasmVerifier, hostCheck, hostJwk };
  }
  return Promise.resolve(api);
}

/**
 * EdDSA, ES, RS and PS with node:crypto: synchronous, unlike WebCrypto, whose every call is a promise
 * settled from the thread pool (measured 2-3× slower per token in bench/).
 */
function hostCheck(alg: string, jwk: JsonWebKey): SyncSignatureCheck | null {
  if (alg === "EdDSA") {
    const key = createPublicKey({ key: jwk as import("node:crypto").JsonWebKey, format: "jwk" });
    return (input, signature) => {
      try {
        return verify(null, Buffer.from(input), key, signature);
      } catch {
        return false; // a signature of the wrong length
      }
    };
  }
  const host = hostAlgorithm(alg);
  if (!host) return null;
  const { family, bits } = host;
  const key: KeyObject = createPublicKey({ key: jwk as import("node:crypto").JsonWebKey, format: "jwk" });
  const hash = `sha${bits}`;
  const options =
    family === "ES"
      ? { key, dsaEncoding: "ieee-p1363" as const }
      : family === "PS"
        ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(bits) / 8 }
        : { key, padding: constants.RSA_PKCS1_PADDING };
  return (input, signature) => {
    try {
      return verify(hash, Buffer.from(input), options, signature);
    } catch {
      return false; // a signature of the wrong length or encoding
    }
  };
}

/** A PEM key (SPKI, PKCS#1, PKCS#8 or SEC1; a private key gives its public half) as a JWK. */
function hostJwk(pem: string): JsonWebKey {
  return createPublicKey(pem).export({ format: "jwk" }) as JsonWebKey;
}

/** Creates a {@link Verifier} from simplejwt settings. */
export function createVerifier(settings: Settings, options?: VerifierOptions): Promise<Verifier> {
  return createVerifierWith(load, settings, options);
}
