// Browser (and default) entry: fetches the .wasm next to this module once.
import * as wasm from "./wasm/edgejwt.js";
import { Core } from "./core.js";
import { createVerifierWith, type Settings, type Verifier, type VerifierOptions, type WasmApi } from "./verifier.js";

export * from "./verifier.js";

let api: Promise<WasmApi> | undefined;
function load(): Promise<WasmApi> {
  api ??= wasm.default({ module_or_path: new URL("./wasm/edgejwt_bg.wasm", import.meta.url) }).then(({ memory }) => ({ core: new Core(wasm, memory) }));
  return api;
}

/** Creates a {@link Verifier} from simplejwt settings. */
export function createVerifier(settings: Settings, options?: VerifierOptions): Promise<Verifier> {
  return createVerifierWith(load, settings, options);
}
