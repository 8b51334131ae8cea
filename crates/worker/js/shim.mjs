// workerd entry point of the edgejwt issuer: handlers that call the Rust exports generated
// by wasm-bindgen (./index.js). Copied next to them by scripts/build-worker.sh.
import { DurableObject } from "cloudflare:workers";
import * as wasm from "./index.js";

const serverError = () =>
  new Response(JSON.stringify({ detail: "A server error occurred.", code: "server_error" }), {
    status: 500,
    headers: { "Content-Type": "application/json", "Cache-Control": "no-store" },
  });

// A trap (a Rust panic, compiled to abort) leaves the instance's memory unusable: start a
// fresh instance for the next request rather than serve from a broken one.
let resets = 0;
function recover(error) {
  console.error("edgejwt: unhandled error", error);
  if (error instanceof WebAssembly.RuntimeError) {
    wasm.__wbg_reset_state();
    resets++;
  }
}

// A plain object, not a WorkerEntrypoint class: the runtime then builds no instance per
// request (measured: ~5% of a 404's isolate time in bench/).
export default {
  async fetch(request, env, ctx) {
    // workers-rs reads `request.cf` on every request; the issuer never uses it, and building
    // it was 14% of a request's CPU in workerd (bench/). An own property shadows the getter.
    Object.defineProperty(request, "cf", { value: undefined });
    try {
      return await wasm.fetch(request, env, ctx);
    } catch (error) {
      recover(error);
      return serverError();
    }
  },

  async scheduled(event, env, ctx) {
    try {
      await wasm.scheduled(event, env, ctx);
    } catch (error) {
      recover(error);
      throw error;
    }
  },
};

// The login throttle (crates/worker/src/throttle.rs): one object per client address. The
// Rust object is rebuilt if a trap reset the instance (its state is in the object's SQLite).
export class LoginThrottle extends DurableObject {
  #inner = null;
  #instance = 0;

  async fetch(request) {
    if (this.#inner === null || this.#instance !== resets) {
      this.#inner = new wasm.LoginThrottle(this.ctx, this.env);
      this.#instance = resets;
    }
    try {
      return await this.#inner.fetch(request);
    } catch (error) {
      recover(error);
      this.#inner = null;
      return serverError();
    }
  }
}
