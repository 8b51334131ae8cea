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

const EMPTY = new Uint8Array(0);
const MAX_BODY_BYTES = wasm.maxBodyBytes();

// The body, read here so that wasm gets it whole (a wasm-bindgen future per chunk cost more
// than the chunk), chunk by chunk and abandoned as soon as it passes MAX_BODY_BYTES (null
// then: 413 where a view reads it): a body without Content-Length (chunked, streamed), or
// with a wrong one, is never read whole before the limit applies.
async function readBody(stream) {
  const reader = stream.getReader();
  const chunks = [];
  let length = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    length += value.byteLength;
    if (length > MAX_BODY_BYTES) {
      // Tell the runtime the rest is not wanted; the answer does not wait for it.
      reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0];
  const bytes = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return bytes;
}

// A plain object, not a WorkerEntrypoint class: the runtime then builds no instance per
// request (measured: ~5% of a 404's isolate time in bench/).
export default {
  async fetch(request, env, ctx) {
    try {
      const body = request.body === null ? EMPTY : await readBody(request.body);
      return await wasm.fetch(request, body, env, ctx);
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
