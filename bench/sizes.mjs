#!/usr/bin/env node
// Sizes (raw and gzip -9) of what users ship, and the wasm's cold start in Node
// (compile + instantiate, median of 10 fresh processes). Part of bench/run.sh.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

const ROOT = new URL("../", import.meta.url).pathname;
const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;
const size = (bytes) => `${kb(bytes.length)} | ${kb(gzipSync(bytes, { level: 9 }).length)}`;

/** `v` as unsigned LEB128, wasm's integer encoding. */
function uleb(v) {
  const out = [];
  do {
    let x = v & 0x7f;
    v = Math.floor(v / 128);
    if (v) x |= 0x80;
    out.push(x);
  } while (v);
  return out;
}

/** `bytes` with every function body replaced by `unreachable`: the module's imports, exports,
 * tables and data kept, its code gone. What compiling costs without the code. */
function withoutCode(bytes) {
  let p = 8;
  const leb = () => {
    let r = 0;
    for (let s = 0; ; s += 7) {
      const x = bytes[p++];
      r += (x & 0x7f) * 2 ** s;
      if (x < 0x80) return r;
    }
  };
  const parts = [bytes.subarray(0, 8)];
  while (p < bytes.length) {
    const start = p;
    const id = bytes[p++];
    const end = leb() + p;
    if (id === 10) {
      const n = leb();
      const body = [...uleb(n)];
      for (let i = 0; i < n; i++) body.push(3, 0, 0x00, 0x0b); // no locals, unreachable, end
      parts.push(Buffer.from([10, ...uleb(body.length), ...body]));
    } else {
      parts.push(bytes.subarray(start, end));
    }
    p = end;
  }
  return Buffer.concat(parts);
}

/** "1 import", "2 imports". */
const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** A module of `n` function imports, the `k`-th taking `k` i32s, and nothing else. */
function importsOnly(n) {
  const str = (t) => [t.length, ...Buffer.from(t)];
  const section = (id, body) => [id, ...uleb(body.length), ...body];
  const types = Array.from({ length: n }, (_, k) => [0x60, k, ...Array(k).fill(0x7f), 1, 0x7f]).flat();
  const imports = Array.from({ length: n }, (_, k) => [...str("m"), ...str(`f${k}`), 0, k]).flat();
  return Buffer.from([0, 97, 115, 109, 1, 0, 0, 0, ...section(1, [n, ...types]), ...section(2, [n, ...imports])]);
}

/** A probe's printed milliseconds in 10 fresh Node processes, sorted. */
function fresh(probe) {
  return Array.from({ length: 10 }, () => Number(execFileSync("node", ["--input-type=module", "-e", probe], { encoding: "utf8" }))).sort((a, b) => a - b);
}

function tryRead(path) {
  try {
    return readFileSync(path);
  } catch {
    return null; // not installed: the row is left out
  }
}

export async function benchSizes() {
  const rows = [];
  const verifier = readFileSync(join(ROOT, "pkg/dist/wasm/edgejwt_bg.wasm"));
  rows.push(["npm package: verifier `.wasm`", size(verifier)]);
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
  const times = fresh(probe);
  let md = "| artefact | raw | gzip -9 |\n|---|---:|---:|\n" + rows.map(([n, s]) => `| ${n} | ${s} |`).join("\n");
  md += `\n\nCold start in Node ${process.version}: wasm compile + instantiate (\`initSync\`), median of 10 fresh processes: **${times[5].toFixed(2)} ms** (min ${times[0].toFixed(2)}, max ${times[9].toFixed(2)}).\n`;

  // What compiling costs a fresh process by module size, ours against smaller modules: the
  // floor under the cold start that a smaller wasm would reach.
  const modules = [
    ["edgejwt verifier `.wasm`", verifier],
    [`the same with every function body emptied (${plural(WebAssembly.Module.imports(new WebAssembly.Module(verifier)).length, "import")}, exports, tables and data kept)`, withoutCode(verifier)],
    ["a module of 24 function imports (24 signatures) and nothing else", importsOnly(24)],
    ["blake3-wasm's `.wasm` (in node_modules, by wrangler)", tryRead(join(ROOT, "node_modules/blake3-wasm/dist/wasm/web/blake3_js_bg.wasm"))],
    // (module (func (export "f") (result i32) i32.const 42))
    ["a one-function module", Buffer.from([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 127, 3, 2, 1, 0, 7, 5, 1, 1, 102, 0, 0, 10, 6, 1, 4, 0, 65, 42, 11])],
  ].filter(([, bytes]) => bytes);
  md += "\n`new WebAssembly.Module(bytes)` alone in a fresh process, median of 10 (bytes read before the clock starts):\n\n| module | bytes | compile ms (min–max) |\n|---|---:|---:|\n";
  for (const [name, bytes] of modules) {
    const file = join(mkdtempSync(join(tmpdir(), "edgejwt-bench-")), "module.wasm");
    writeFileSync(file, bytes);
    const t = fresh(`import { readFileSync } from "node:fs"; const bytes = readFileSync(${JSON.stringify(file)}); const t = performance.now(); new WebAssembly.Module(bytes); console.log(performance.now() - t);`);
    md += `| ${name} | ${bytes.length.toLocaleString("en-US")} | ${t[5].toFixed(2)} (${t[0].toFixed(2)}–${t[9].toFixed(2)}) |\n`;
  }
  return md;
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await benchSizes());
