// Node entry: reads the .wasm file next to this module.
import { readFileSync } from "node:fs";
import { initSync, Verifier as WasmVerifier } from "./wasm/edgejwt.js";
import { createVerifierWith, type Settings, type Verifier, type VerifierOptions, type WasmApi } from "./verifier.js";

export * from "./verifier.js";

let api: WasmApi | undefined;
function load(): Promise<WasmApi> {
  if (!api) {
    initSync({ module: readFileSync(new URL("./wasm/edgejwt_bg.wasm", import.meta.url)) });
    api = { Verifier: WasmVerifier };
  }
  return Promise.resolve(api);
}

/** Creates a {@link Verifier} from simplejwt settings. */
export function createVerifier(settings: Settings, options?: VerifierOptions): Promise<Verifier> {
  return createVerifierWith(load, settings, options);
}
