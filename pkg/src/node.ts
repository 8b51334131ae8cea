// Node entry: reads the .wasm file next to this module.
import { constants, createPublicKey, verify, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import * as wasm from "./wasm/edgejwt.js";
import { Core } from "./core.js";
import { hostAlgorithm } from "./algorithms.js";
import { createVerifierWith, type Settings, type HostCheck, type Verifier, type VerifierOptions, type WasmApi } from "./verifier.js";

export * from "./verifier.js";

let api: WasmApi | undefined;
function load(): Promise<WasmApi> {
  if (!api) {
    const { memory } = wasm.initSync({ module: readFileSync(new URL("./wasm/edgejwt_bg.wasm", import.meta.url)) });
    api = { core: new Core(wasm, memory), hostCheck, hostJwk };
  }
  return Promise.resolve(api);
}

/**
 * EdDSA, ES, RS and PS with node:crypto. Both forms of `crypto.verify`: the callback one runs
 * on libuv's thread pool (under load it uses every core, and costs less per call than
 * WebCrypto's, which jose uses), the synchronous one on the calling thread, in the core's
 * single pass over the token (the lowest latency when verifies do not overlap; bench/). Which
 * one runs: `makeKey` and `adaptive` in algorithms.ts.
 */
function hostCheck(alg: string, jwk: JsonWebKey): HostCheck | null {
  const host = alg === "EdDSA" ? null : hostAlgorithm(alg);
  if (alg !== "EdDSA" && !host) return null;
  const key: KeyObject = createPublicKey({ key: jwk as import("node:crypto").JsonWebKey, format: "jwk" });
  const hash = host ? `sha${host.bits}` : null;
  const options =
    host?.family === "ES"
      ? { key, dsaEncoding: "ieee-p1363" as const }
      : host?.family === "PS"
        ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(host.bits) / 8 }
        : host?.family === "RS"
          ? { key, padding: constants.RSA_PKCS1_PADDING }
          : key;
  return {
    sync: (input, signature) => {
      try {
        return verify(hash, Buffer.from(input), options, signature);
      } catch {
        return false; // a signature of the wrong length or encoding
      }
    },
    pooled: (input, signature) =>
      new Promise((resolve) => {
        try {
          verify(hash, Buffer.from(input), options, signature, (error, ok) => resolve(!error && ok === true));
        } catch {
          resolve(false); // refused before it reached the pool: as the synchronous form
        }
      }),
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
