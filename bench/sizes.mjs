#!/usr/bin/env node
// Sizes (raw and gzip -9) of what users ship, and the wasm's cold start in Node
// (compile + instantiate, median of 10 fresh processes). Part of bench/run.sh.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

const ROOT = new URL("../", import.meta.url).pathname;
const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;
const size = (bytes) => `${kb(bytes.length)} | ${kb(gzipSync(bytes, { level: 9 }).length)}`;

export async function benchSizes() {
  const rows = [];
  rows.push(["npm package: verifier `.wasm`", size(readFileSync(join(ROOT, "pkg/dist/wasm/edgejwt_bg.wasm")))]);
  const glue = await build({ entryPoints: [join(ROOT, "pkg/dist/browser.js")], bundle: true, minify: true, format: "esm", write: false, external: ["*.wasm"], logLevel: "silent" });
  rows.push(["npm package: verifier JS (browser entry + glue, minified)", size(Buffer.from(glue.outputFiles[0].contents))]);
  const client = await build({ entryPoints: [join(ROOT, "pkg/dist/client.js")], bundle: true, minify: true, format: "esm", write: false, logLevel: "silent" });
  rows.push(["npm package: `edgejwt/client` (minified)", size(Buffer.from(client.outputFiles[0].contents))]);
  const dry = execFileSync("node", [join(ROOT, "node_modules/wrangler/bin/wrangler.js"), "deploy", "--dry-run", "--outdir", join(ROOT, "target/bench-dry-run")], { cwd: ROOT, encoding: "utf8", env: { ...process.env, WRANGLER_SEND_METRICS: "false" } });
  const upload = dry.match(/Total Upload: ([\d.]+ KiB) \/ gzip: ([\d.]+ KiB)/);
  rows.push(["issuer Worker upload (`wrangler deploy --dry-run`)", upload ? `${upload[1]} | ${upload[2]}` : "n/a"]);
  rows.push(["issuer Worker `.wasm`", size(readFileSync(join(ROOT, "build/worker/index_bg.wasm")))]);

  // Cold start: a fresh Node process compiles and instantiates the package's wasm.
  const probe = `import { readFileSync } from "node:fs"; const bytes = readFileSync(${JSON.stringify(join(ROOT, "pkg/dist/wasm/edgejwt_bg.wasm"))});
const { initSync } = await import(${JSON.stringify(join(ROOT, "pkg/dist/wasm/edgejwt.js"))});
const t = performance.now(); initSync({ module: bytes }); console.log(performance.now() - t);`;
  const times = Array.from({ length: 10 }, () => Number(execFileSync("node", ["--input-type=module", "-e", probe], { encoding: "utf8" }))).sort((a, b) => a - b);
  let md = "| artefact | raw | gzip -9 |\n|---|---:|---:|\n" + rows.map(([n, s]) => `| ${n} | ${s} |`).join("\n");
  md += `\n\nCold start in Node ${process.version}: wasm compile + instantiate (\`initSync\`), median of 10 fresh processes: **${times[5].toFixed(2)} ms** (min ${times[0].toFixed(2)}, max ${times[9].toFixed(2)}).\n`;
  return md;
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await benchSizes());
