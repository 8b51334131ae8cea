// Miniflare's options for the hand-written peer (./worker.mjs, bundled with esbuild into
// `dir`) on its own local D1: one definition for bench/issuer-load.mjs and bench/profile.mjs.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";
import { REFERENCE_KEY } from "../../tests/worker/harness.mjs";

export async function peerWorker(dir, name = "peer") {
  const outfile = join(dir, "peer.mjs");
  await build({ entryPoints: [new URL("worker.mjs", import.meta.url).pathname], bundle: true, format: "esm", platform: "neutral", outfile, logLevel: "error" });
  return {
    name,
    modules: [{ type: "ESModule", path: "peer.mjs", contents: readFileSync(outfile, "utf8") }],
    compatibilityDate: "2025-06-01",
    d1Databases: { DB: "peer" },
    bindings: { SIGNING_KEY: REFERENCE_KEY },
  };
}
