// Workers (workerd) entry: the runtime forbids compiling wasm from bytes, so the .wasm is
// imported as a module (wrangler and esbuild bundle it as such).
import wasmModule from "./wasm/edgejwt_bg.wasm";
import * as wasm from "./wasm/edgejwt.js";
import { Core } from "./core.js";
import { createVerifierWith, type Settings, type Verifier, type VerifierOptions, type WasmApi } from "./verifier.js";

export * from "./verifier.js";

let api: WasmApi | undefined;
function load(): Promise<WasmApi> {
  if (!api) {
    const { memory } = wasm.initSync({ module: wasmModule });
    api = { core: new Core(wasm, memory) };
  }
  return Promise.resolve(api);
}

/** Creates a {@link Verifier} from simplejwt settings. */
export function createVerifier(settings: Settings, options?: VerifierOptions): Promise<Verifier> {
  return createVerifierWith(load, settings, options);
}
